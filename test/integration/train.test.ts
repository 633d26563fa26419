/**
 * examples/train for real: the iris LightGBM job runs in the emulator (an environment uv builds
 * with mlflow, lightgbm, pandas and scikit-learn; the real MLflow tracking server), through the
 * program runner with the real serialized providers. It needs an emulator with MLflow, so it starts
 * its own; the shared emulator's identity endpoint mints the tokens.
 */
import { expect } from "chai";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { resolveExample } from "../../examples/runner";
import { startEmulator, type RunningEmulator } from "../../emulator/index";
import { testCertDir } from "../support/emulator";
import { changedOperations, createProgramRunner } from "../support/programRunner";
import { findRepoRoot } from "../support/userProject";

type Program = () => Promise<Record<string, unknown> | void>;

describe("examples/train through the program runner", function () {
  // Cold: the MLflow server starts and the LightGBM environment is built.
  this.timeout(1_200_000);
  let emulator: RunningEmulator;
  let root: string;

  before(async () => {
    emulator = await startEmulator({
      certDir: testCertDir(),
      progression: { mode: "polls", polls: 1 },
      retryAfterInSeconds: 0,
    });
    // A private copy of the project, so a run never writes into the repository.
    root = mkdtempSync(path.join(os.tmpdir(), "train-"));
    cpSync(path.join(findRepoRoot(), "examples", "train"), path.join(root, "train"), {
      recursive: true,
    });
  });
  after(async () => {
    await emulator?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("trains LightGBM on iris, exports the accuracy it logged, registers its MLflow model, and a second up runs nothing @emulator", async () => {
    const repoRoot = findRepoRoot();
    const example = resolveExample(path.join(repoRoot, "examples", "train"), repoRoot);
    const program = (require(example.modulePath) as { default: Program }).default;
    const { info } = emulator;
    const runner = createProgramRunner({
      project: example.project,
      stack: "it",
      hostDir: repoRoot,
      workDir: path.join(root, "train"),
      config: {
        "azureml:armEndpoint": info.armEndpoint,
        "azureml:subscriptionId": info.subscriptionId,
        "azureml:caCertPath": info.caCertPath,
        "azureml-train:resourceGroupName": info.resourceGroupName,
        "azureml-train:workspaceName": info.workspaceName,
        "azureml-train:learningRate": "0.1",
      },
    });

    const deployed = await runner.up(program);
    expect(deployed.jobStatus).to.equal("Completed");
    expect(deployed.accuracy).to.be.a("number").within(0.8, 1);
    expect(deployed.learningRate).to.equal("0.1");
    expect(deployed.model).to.equal("azureml:lightgbm-iris:1");
    expect(String(deployed.studioUrl)).to.contain(`/runs/${String(deployed.jobName)}`);
    process.stderr.write(
      `examples/train: job ${String(deployed.jobName)} logged accuracy ${String(deployed.accuracy)}\n`,
    );

    // The model registered from the job's mlflow_model output points at the job.
    const model = [...runner.state.values()].find((e) => e.type.endsWith("ModelVersion"));
    expect(model?.outputs.modelUri).to.equal(
      `azureml://jobs/${String(deployed.jobName)}/outputs/model`,
    );

    // A second up changes nothing and submits no job.
    const mark = emulator.requests.mark();
    await runner.up(program);
    expect(changedOperations(runner.operations)).to.deep.equal([]);
    const puts = emulator.requests
      .since(mark)
      .filter((r) => r.method === "PUT" && r.path.includes("/jobs/"));
    expect(puts).to.deep.equal([]);

    await runner.destroy();
    expect(runner.state.size).to.equal(0);
  });
});
