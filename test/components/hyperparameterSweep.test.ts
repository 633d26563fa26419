import { expect } from "chai";
import { recordResources, settled, valueOf } from "../support/mocks";

const WORKSPACE = { resourceGroupName: "rg", workspaceName: "ws" };
const NEW_MODEL = "azureml://jobs/sweep_3/outputs/model";
const OLD_MODEL = "azureml://jobs/sweep_old_1/outputs/model";

/** Mocks where the sweep's best trial logged accuracy 0.95 and the gate approved OLD_MODEL before. */
function sweepState(type: string, _name: string, inputs: Record<string, any>) {
  if (type.endsWith(":SweepJob")) {
    return {
      bestPrimaryMetric: 0.95,
      bestTrialMetrics: { accuracy: 0.95, "test-multi_logloss": 0.12 },
      bestHyperparameters: { learning_rate: 0.3 },
      bestModelUri: NEW_MODEL,
      bestTrialOutputUris: { model: NEW_MODEL },
    };
  }
  if (type.endsWith(":MetricGate")) {
    return { approved: OLD_MODEL, approvedValue: 0.93 };
  }
  if (type.endsWith(":ModelVersion")) {
    return { assetReference: `azureml:${String(inputs.name)}:1` };
  }
  return {};
}

async function build(gate: Record<string, unknown> | undefined) {
  const seen = await recordResources("sweep-component", sweepState);
  const m = await import("../../components/index.js");
  const sweep = new m.HyperparameterSweep("iris", {
    ...WORKSPACE,
    objective: { primaryMetric: "accuracy", goal: "maximize" },
    samplingAlgorithm: { type: "random", seed: 1 },
    searchSpace: { learning_rate: { type: "uniform", min: 0.01, max: 0.9 } as any },
    trial: { command: "python train.py", code: "src", environment: "azureml:env:1" },
    compute: "cpu-cluster",
    limits: { maxTotalTrials: 2 },
    gate: gate as any,
  });
  await settled(sweep, sweep.sweep, sweep.gate, sweep.model);
  return { seen, sweep };
}

describe("HyperparameterSweep component", function () {
  it("registers the best trial's model when its metric passes the gate, and says so @unit", async () => {
    const { seen, sweep } = await build({ minimum: 0.9 });
    expect(seen.map((r) => r.name)).to.have.members([
      "iris",
      "iris-sweep",
      "iris-gate",
      "iris-model",
    ]);
    const model = seen.find((r) => r.name === "iris-model")!.inputs;
    expect(model).to.include({ name: "iris-model", modelType: "mlflow_model", path: NEW_MODEL });
    expect(seen.find((r) => r.name === "iris-gate")!.inputs).to.include({
      metric: "accuracy",
      value: 0.95,
      minimum: 0.9,
      candidate: NEW_MODEL,
    });
    expect(await valueOf(sweep.gatePassed)).to.equal(true);
    expect(await valueOf(sweep.gateOutcome)).to.equal(
      "gate passed: accuracy 0.95 ≥ minimum 0.9; the best model is registered and deployed",
    );
  });

  it("keeps the model the gate approved before when the best metric fails, and says so @unit", async () => {
    const { seen, sweep } = await build({ minimum: 0.97 });
    expect(seen.find((r) => r.name === "iris-model")!.inputs.path).to.equal(OLD_MODEL);
    expect(await valueOf(sweep.gatePassed)).to.equal(false);
    expect(await valueOf(sweep.gateOutcome)).to.equal(
      `gate failed: accuracy 0.95 is below the minimum 0.97; the registered and deployed model stay as they were (${OLD_MODEL})`,
    );
  });

  it("gates on another metric the best trial logged, e.g. a loss with a maximum @unit", async () => {
    const { seen, sweep } = await build({ metric: "test-multi_logloss", maximum: 0.1 });
    expect(await valueOf(sweep.bestMetric)).to.equal(0.12);
    expect(seen.find((r) => r.name === "iris-model")!.inputs.path).to.equal(OLD_MODEL);
  });

  it("registers without a gate, and refuses a gate with both bounds, naming the property @unit", async () => {
    const { seen } = await build(undefined);
    expect(seen.map((r) => r.name)).to.not.include("iris-gate");
    expect(seen.find((r) => r.name === "iris-model")!.inputs.path).to.equal(NEW_MODEL);
    let thrown: unknown;
    try {
      await build({ minimum: 0.9, maximum: 1 });
    } catch (error) {
      thrown = error;
    }
    expect(String(thrown)).to.contain("[gate.minimum]");
  });
});
