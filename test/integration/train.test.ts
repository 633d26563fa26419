/**
 * examples/train for real, through the Pulumi engine: the iris LightGBM job runs in the emulator
 * (an environment uv builds with mlflow, lightgbm, pandas and scikit-learn; the real MLflow
 * tracking server), with the providers loaded from the packed package. It needs an emulator with
 * MLflow, so it starts its own; the shared emulator's identity endpoint mints the tokens.
 */
import { expect } from "chai";
import { changes } from "../../tools/stack";
import { useExampleStacks } from "../support/exampleStack";

describe("examples/train through the Pulumi engine @engine", function () {
  const examples = useExampleStacks(this, { mlflow: true });
  // Cold: the MLflow server starts and the LightGBM environment is built.
  this.timeout(1_200_000);

  it("trains LightGBM on iris, exports the accuracy it logged, registers its MLflow model, and a second up runs nothing @engine", async () => {
    const stack = await examples.stack("train", { "azureml-train:learningRate": "0.1" });
    const emulator = examples.emulator();

    const deployed = (await stack.up()).outputs;
    expect(deployed.jobStatus).to.equal("Completed");
    expect(deployed.accuracy).to.be.a("number").within(0.8, 1);
    expect(deployed.learningRate).to.equal("0.1");
    expect(deployed.model).to.equal("azureml:lightgbm-iris:1");
    expect(String(deployed.studioUrl)).to.contain(`/runs/${String(deployed.jobName)}`);
    process.stderr.write(
      `examples/train: job ${String(deployed.jobName)} logged accuracy ${String(deployed.accuracy)}\n`,
    );

    // The model registered from the job's mlflow_model output points at the job.
    const state = JSON.parse(await stack.exportState());
    const model = (state.deployment.resources as any[]).find((r) =>
      r.type.endsWith("ModelVersion"),
    );
    expect(model?.outputs.modelUri).to.equal(
      `azureml://jobs/${String(deployed.jobName)}/outputs/model`,
    );

    // A second up changes nothing and submits no job.
    const mark = emulator.requests.mark();
    expect(changes((await stack.up()).steps)).to.deep.equal([]);
    const puts = emulator.requests
      .since(mark)
      .filter((r) => r.method === "PUT" && r.path.includes("/jobs/"));
    expect(puts).to.deep.equal([]);

    await stack.destroy();
    expect(JSON.parse(await stack.exportState()).deployment.resources ?? []).to.deep.equal([]);
  });
});
