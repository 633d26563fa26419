/**
 * examples/train for real, through the real Pulumi engine with the providers loaded from the packed
 * package: the iris LightGBM job runs in the emulator (an environment uv builds with mlflow,
 * lightgbm, pandas and scikit-learn; the real MLflow tracking server). The shared test emulator runs
 * without MLflow, so this test starts an emulator of its own; the shared emulator's identity
 * endpoint mints the tokens (every emulator accepts them).
 */
import { expect } from "chai";
import * as path from "node:path";
import { loadProgram, resolveExample } from "../../examples/runner";
import { startEmulator, type RunningEmulator } from "../../emulator/index";
import { changes, type EngineStack } from "../../tools/stack";
import { testCertDir } from "../support/emulator";
import { emulatorStack, useEngine } from "../support/engine";
import { findRepoRoot } from "../support/userProject";

describe("examples/train through the Pulumi engine @engine", function () {
  const engine = useEngine(this);
  // Cold: the MLflow server starts and the LightGBM environment is built.
  this.timeout(1_200_000);
  let emulator: RunningEmulator | undefined;
  let stack: EngineStack | undefined;

  after(async () => {
    await stack?.close();
    await emulator?.close();
  });

  it("trains LightGBM on iris, exports the accuracy it logged, registers its MLflow model, and a second up runs nothing @engine", async () => {
    emulator = await startEmulator({
      certDir: testCertDir(),
      progression: { mode: "polls", polls: 1 },
      retryAfterInSeconds: 0,
    });
    const { info } = emulator;
    const repoRoot = findRepoRoot();
    const example = resolveExample(path.join(repoRoot, "examples", "train"), repoRoot);
    stack = await emulatorStack(engine(), example.project, loadProgram(example.modulePath), {
      files: [example.projectDir],
      config: {
        "azureml:armEndpoint": info.armEndpoint,
        "azureml-train:resourceGroupName": info.resourceGroupName,
        "azureml-train:workspaceName": info.workspaceName,
        "azureml-train:learningRate": "0.1",
      },
    });

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
    expect(await stack.exportState()).to.contain(
      `azureml://jobs/${String(deployed.jobName)}/outputs/model`,
    );

    // A second up changes nothing and submits no job.
    const mark = emulator.requests.mark();
    const again = await stack.up();
    expect(changes(again.steps)).to.deep.equal([]);
    const puts = emulator.requests
      .since(mark)
      .filter((r) => r.method === "PUT" && r.path.includes("/jobs/"));
    expect(puts).to.deep.equal([]);

    await stack.destroy();
  });
});
