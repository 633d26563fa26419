// The metric gate: the pure verdict, the threshold checks a preview reports, and the MetricGate
// provider's memory of the last approved candidate (it sends nothing anywhere).
import { expect } from "chai";
import {
  approvedCandidate,
  describeGateOutcome,
  evaluateGate,
  gateThresholdFailures,
} from "../../provider/operations/gate";
import * as gate from "../../provider/lifecycle/metricGate";
import { UNKNOWN } from "../../provider/lifecycle/shared";
import type { MetricGateOutputs } from "../../provider/resources/metricGate";

const MODEL_1 = "azureml://jobs/sweep_1/outputs/model";
const MODEL_2 = "azureml://jobs/sweep_2/outputs/model";

describe("metric gate", function () {
  before(() => {
    process.env.AZUREML_PROGRESS = "off";
  });

  it("passes a metric at or above a minimum and says why @unit", () => {
    expect(evaluateGate({ metric: "accuracy", minimum: 0.9 }, 0.9667)).to.deep.equal({
      passed: true,
      reason: "accuracy 0.9667 ≥ minimum 0.9",
    });
    expect(evaluateGate({ metric: "accuracy", minimum: 0.9 }, 0.9).passed).to.equal(true);
    expect(evaluateGate({ metric: "accuracy", minimum: 0.97 }, 0.9667)).to.deep.equal({
      passed: false,
      reason: "accuracy 0.9667 is below the minimum 0.97",
    });
  });

  it("passes a metric at or below a maximum (a loss) and fails a missing one @unit", () => {
    expect(evaluateGate({ metric: "log_loss", maximum: 0.2 }, 0.1234567)).to.deep.equal({
      passed: true,
      reason: "log_loss 0.1235 ≤ maximum 0.2",
    });
    expect(evaluateGate({ metric: "log_loss", maximum: 0.2 }, 0.5).reason).to.equal(
      "log_loss 0.5 is above the maximum 0.2",
    );
    const missing = evaluateGate({ metric: "accuracy", minimum: 0.5 }, undefined);
    expect(missing.passed).to.equal(false);
    expect(missing.reason).to.contain("no accuracy was logged");
    expect(evaluateGate({ metric: "accuracy", minimum: 0.5 }, Number.NaN).passed).to.equal(false);
  });

  it("refuses a threshold with both, neither or a non-number bound, naming the property @unit", () => {
    const both = gateThresholdFailures({ metric: "accuracy", minimum: 0.9, maximum: 1 }, "gate.");
    expect(both.map((f) => f.property)).to.deep.equal(["gate.minimum"]);
    expect(both[0].reason).to.contain("[minimum]").and.to.contain("[maximum]");
    expect(gateThresholdFailures({ metric: "accuracy" }).map((f) => f.property)).to.deep.equal([
      "minimum",
    ]);
    expect(
      gateThresholdFailures({ metric: "accuracy", maximum: "0.2" }).map((f) => f.property),
    ).to.deep.equal(["maximum"]);
    expect(gateThresholdFailures({ metric: "", minimum: 1 }).map((f) => f.property)).to.deep.equal([
      "metric",
    ]);
    expect(gateThresholdFailures({ metric: "accuracy", minimum: 0.9 })).to.deep.equal([]);
    // Values a preview does not know yet are not judged.
    expect(
      gateThresholdFailures({ metric: UNKNOWN, minimum: UNKNOWN }, "", (v) => v === UNKNOWN),
    ).to.deep.equal([]);
  });

  it("deploys the new candidate when the gate passes, else keeps the previous one, and says so @unit", () => {
    const pass = evaluateGate({ metric: "accuracy", minimum: 0.9 }, 0.95);
    const fail = evaluateGate({ metric: "accuracy", minimum: 0.99 }, 0.95);
    expect(approvedCandidate(pass, MODEL_2, MODEL_1)).to.equal(MODEL_2);
    expect(approvedCandidate(fail, MODEL_2, MODEL_1)).to.equal(MODEL_1);
    expect(approvedCandidate(fail, MODEL_2, undefined)).to.equal(undefined);
    expect(describeGateOutcome(pass, MODEL_1)).to.match(/^gate passed: accuracy 0.95 ≥ minimum/);
    expect(describeGateOutcome(fail, "azureml:iris:1")).to.equal(
      "gate failed: accuracy 0.95 is below the minimum 0.99; the registered and deployed model stay as they were (azureml:iris:1)",
    );
    expect(describeGateOutcome(fail, undefined)).to.contain("nothing is registered or deployed");
  });

  describe("MetricGate provider", function () {
    const inputs = { metric: "accuracy", minimum: 0.9, candidate: MODEL_1, value: 0.95 };

    it("check names the threshold property and sends nothing @unit", async () => {
      const result = await gate.check(inputs, {
        ...inputs,
        minimum: undefined,
        maximum: undefined,
      });
      expect(result.failures!.map((f) => f.property)).to.deep.equal(["minimum"]);
      const typed = await gate.check(inputs, { ...inputs, value: "high" as unknown as number });
      expect(typed.failures!.map((f) => f.property)).to.deep.equal(["value"]);
      expect((await gate.check(inputs, inputs)).failures).to.deep.equal([]);
    });

    it("records a passing candidate on create and nothing for a failing one @unit", async () => {
      const passed = await gate.create(inputs);
      expect(passed.outs).to.include({ approved: MODEL_1, approvedValue: 0.95 });
      const failed = await gate.create({ ...inputs, minimum: 0.99 });
      expect(failed.outs!.approved).to.equal(undefined);
      expect(passed.id).to.match(/^metric-gate-/);
    });

    it("a failing value or a raised threshold is no change: the approval stays as it was @unit", async () => {
      const olds: MetricGateOutputs = { ...inputs, approved: MODEL_1, approvedValue: 0.95 };
      const raised = { ...inputs, minimum: 0.99, candidate: MODEL_2, value: 0.97 };
      expect(await gate.diff("id", olds, raised)).to.deep.equal({ changes: false, replaces: [] });
      // The same candidate passing again approves nothing new.
      expect((await gate.diff("id", olds, { ...inputs, minimum: 0.5 })).changes).to.equal(false);
      // An update that runs anyway (forced) keeps the approved candidate when the value fails.
      const kept = await gate.update("id", olds, raised);
      expect(kept.outs).to.include({ approved: MODEL_1, approvedValue: 0.95 });
    });

    it("a new passing candidate, or a value not known yet in preview, is a change @unit", async () => {
      const olds: MetricGateOutputs = { ...inputs, approved: MODEL_1, approvedValue: 0.95 };
      const better = { ...inputs, candidate: MODEL_2, value: 0.97 };
      expect((await gate.diff("id", olds, better)).changes).to.equal(true);
      const unknown = { ...inputs, candidate: UNKNOWN, value: UNKNOWN as unknown as number };
      expect((await gate.diff("id", olds, unknown)).changes).to.equal(true);
      const updated = await gate.update("id", olds, better);
      expect(updated.outs).to.include({ approved: MODEL_2, approvedValue: 0.97 });
    });
  });
});
