/**
 * CommandJob's metrics and parameters, read back the way Azure serves them: the workspace's
 * `mlFlowTrackingUri`, then MLflow's `runs/get` with the job name as run id. The shared test
 * emulator runs without MLflow (its server takes tens of seconds to start), so this test starts an
 * emulator of its own with the real MLflow tracking server, and the job logs with an unmodified
 * MLflow client (mlflow-skinny, in an environment the emulator builds with uv).
 */
import { expect } from "chai";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import * as os from "node:os";
import * as path from "node:path";
import { startEmulator, type RunningEmulator } from "../../emulator/index";
import { testCertDir, uniqueName } from "../support/emulator";
import { checkAndCreate, configuredProvider } from "../support/providers";

const CONDA = `
dependencies:
  - python=3
  - pip:
      - mlflow-skinny==3.17.2
`;

const TRAIN_PY = `
import mlflow

with mlflow.start_run():
    mlflow.log_param("learning_rate", "0.1")
    mlflow.log_param("rounds", 3)
    for step, accuracy in enumerate([0.5, 0.8, 0.93]):
        mlflow.log_metric("accuracy", accuracy, step=step)
    mlflow.log_metric("loss", 0.25)
print("logged")
`;

describe("CommandJob metrics from MLflow @emulator", function () {
  // Cold: the MLflow server starts and the client's environment is built.
  this.timeout(900_000);
  let emulator: RunningEmulator;
  let folder: string;

  before(async () => {
    emulator = await startEmulator({
      certDir: testCertDir(),
      progression: { mode: "polls", polls: 1 },
      retryAfterInSeconds: 0,
    });
    folder = mkdtempSync(path.join(os.tmpdir(), "cj-mlflow-"));
  });
  after(async () => {
    await emulator?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it("reads back the final value of every metric and the parameters the script logged @emulator", async () => {
    const { info } = emulator;
    // This emulator, not the shared one: tokens from the shared identity endpoint are accepted
    // by every emulator, so only the endpoint changes.
    const config = { "azureml:armEndpoint": info.armEndpoint };
    const workspace = {
      resourceGroupName: info.resourceGroupName,
      workspaceName: info.workspaceName,
    };
    const conda = path.join(folder, "conda.yaml");
    writeFileSync(conda, CONDA);
    const environment = await checkAndCreate(
      await configuredProvider("environmentVersion", config),
      { ...workspace, name: uniqueName("env"), image: "python:3.11", condaFilePath: conda },
    );
    const code = path.join(folder, "src");
    mkdirSync(code);
    writeFileSync(path.join(code, "train.py"), TRAIN_PY);
    writeFileSync(path.join(code, "nonce.txt"), randomUUID());

    const { outs } = await checkAndCreate(await configuredProvider("commandJob", config), {
      ...workspace,
      resourceName: uniqueName("metrics"),
      code,
      environment: (environment.outs as { assetId: string }).assetId,
      compute: "cpu-cluster",
      command: "python train.py",
      experimentName: "metrics-test",
      minPollIntervalInSeconds: 0.5,
      maxPollIntervalInSeconds: 2,
    });
    expect(outs.status).to.equal("Completed");
    expect(outs.metrics).to.deep.equal({ accuracy: 0.93, loss: 0.25 });
    expect(outs.parameters).to.deep.equal({ learning_rate: "0.1", rounds: "3" });
    expect(Date.parse(outs.startTime)).to.be.at.most(Date.parse(outs.endTime));
    expect(outs.durationInSeconds).to.be.at.least(0);
  });
});
