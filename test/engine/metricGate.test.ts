/**
 * The metric gate through the Pulumi engine: a failing value leaves the gated model exactly as it
 * was, in the preview (no step changes anything) and in the update; a passing new candidate
 * replaces it. The candidates are two local MLflow model folders; the gate's value and threshold
 * come from stack config, as a sweep's best metric and the flow's threshold would.
 */
import { expect } from "chai";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { evaluateGate, MetricGate, ModelVersion } from "../../index";
import { changes, stepSummary, type EngineStack } from "../../tools/stack";
import { uniqueName } from "../support/emulator";
import { emulatorStack, useEngine, workspaceArgs } from "../support/engine";
import { findRepoRoot } from "../support/userProject";

describe("MetricGate through the Pulumi engine @engine", function () {
  const engine = useEngine(this);
  let stack: EngineStack | undefined;
  let models: string | undefined;

  after(async () => {
    await stack?.close();
    if (models) {
      await fs.rm(models, { recursive: true, force: true });
    }
  });

  it("a failing metric changes nothing in preview or update; a passing new candidate replaces the model @engine", async () => {
    models = await fs.mkdtemp(path.join(os.tmpdir(), "pulumi-azureml-gate-"));
    const fixture = path.join(findRepoRoot(), "test", "fixtures", "assets", "model-mlflow");
    for (const candidate of ["model-a", "model-b"]) {
      await fs.cp(fixture, path.join(models, candidate), { recursive: true });
      await fs.writeFile(path.join(models, candidate, "README.txt"), `${candidate}\n`);
    }
    const modelName = uniqueName("gated-model");
    stack = await emulatorStack(
      engine(),
      "gate",
      async () => {
        const config = new pulumi.Config("gate");
        const value = config.requireNumber("value");
        const minimum = config.requireNumber("minimum");
        const candidate = config.require("candidate");
        const gate = new MetricGate("gate", { metric: "accuracy", value, minimum, candidate });
        const verdict = evaluateGate({ metric: "accuracy", minimum }, value);
        const model = new ModelVersion(
          "model",
          {
            ...workspaceArgs(),
            name: modelName,
            modelType: "mlflow_model",
            path: verdict.passed ? candidate : (gate.approved as pulumi.Output<string>),
          },
          { dependsOn: [gate] },
        );
        return { passed: verdict.passed, reason: verdict.reason, model: model.assetReference };
      },
      {
        files: [models],
        config: { "gate:value": "0.95", "gate:minimum": "0.9", "gate:candidate": "model-a" },
      },
    );
    const first = (await stack.up()).outputs;
    expect(first).to.include({ passed: true, model: `azureml:${modelName}:1` });

    // A worse candidate: the gate fails; nothing changes, in the preview and in the update.
    await stack.stack.setAllConfig({
      "gate:value": { value: "0.85" },
      "gate:candidate": { value: "model-b" },
    });
    const preview = await stack.preview();
    expect(changes(preview.steps)).to.deep.equal([]);
    expect(preview.outputs).to.include({
      passed: false,
      reason: "accuracy 0.85 is below the minimum 0.9",
      model: `azureml:${modelName}:1`,
    });
    const kept = await stack.up();
    expect(changes(kept.steps)).to.deep.equal([]);
    expect(kept.outputs.model).to.equal(`azureml:${modelName}:1`);

    // Raising the threshold above the approved model's value approves nothing new either.
    await stack.stack.setAllConfig({ "gate:minimum": { value: "0.99" } });
    expect(changes((await stack.preview()).steps)).to.deep.equal([]);

    // A better candidate passes: the gate records it and the model is replaced by a new version.
    await stack.stack.setAllConfig({
      "gate:value": { value: "0.995" },
      "gate:minimum": { value: "0.9" },
    });
    const better = await stack.preview();
    expect(stepSummary(changes(better.steps))).to.include.members(["update gate", "replace model"]);
    const promoted = (await stack.up()).outputs;
    expect(promoted).to.include({ passed: true, model: `azureml:${modelName}:2` });
    await stack.destroy();
  });
});
