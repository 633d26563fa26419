// The workspace's MLflow tracking end to end: the real MLflow server started by the emulator on
// first use, behind its HTTPS front door, and an unmodified MLflow client (mlflow-skinny, in an
// environment made by the EnvironmentBuilder) logging to a run named like a job.
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { expect } from "chai";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import * as https from "node:https";
import { randomBytes } from "node:crypto";
import { createEnvironmentBuilder } from "../../emulator/envs";
import { startEmulator, type RunningEmulator } from "../../emulator/index";
import { trackingEnvironment, type LocalTrackingService } from "../../emulator/mlflow";
import { DEV_STORE_ACCOUNT_KEY, DEV_STORE_ACCOUNT_NAME } from "../../emulator/azurite";
import { testCertDir } from "../support/emulator";

const CLIENT_ENV = `
dependencies:
  - python=3
  - pip:
      - mlflow-skinny==3.17.2
`;

const JOB_SCRIPT = `
import os, tempfile
import mlflow

expected = os.environ["MLFLOW_RUN_ID"]  # start_run() takes it out of the environment
with mlflow.start_run() as run:
    assert run.info.run_id == expected, run.info.run_id
    mlflow.log_param("learning_rate", "0.1")
    mlflow.log_metric("accuracy", 0.5, step=0)
    mlflow.log_metric("accuracy", 0.93, step=1)
    mlflow.set_tag("stage", "test")
    folder = tempfile.mkdtemp()
    with open(os.path.join(folder, "notes.txt"), "w") as f:
        f.write("hello from the job")
    mlflow.log_artifact(os.path.join(folder, "notes.txt"), artifact_path="reports")
`;

interface Answer {
  status: number;
  body: any;
  text: string;
}

function request(
  url: string,
  ca: string,
  token?: string,
  method = "GET",
  body?: unknown,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (token !== undefined) {
      headers.authorization = `Bearer ${token}`;
    }
    if (body !== undefined) {
      headers["content-type"] = "application/json";
    }
    const req = https.request(url, { method, ca, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body: parsed, text });
      });
    });
    req.once("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe("emulator MLflow tracking @python", function () {
  // Cold: the server's and the client's environments are built, and the server starts.
  this.timeout(900_000);
  let emulator: RunningEmulator;
  let tracking: LocalTrackingService;
  let ca: string;
  let base: string;

  before(async () => {
    emulator = await startEmulator({ certDir: testCertDir() });
    tracking = emulator.tracking as LocalTrackingService;
    ca = readFileSync(emulator.info.caCertPath, "utf8");
    base = `${emulator.info.armEndpoint}${tracking.trackingPath}`;
  });
  after(async () => {
    await emulator?.close();
  });

  it("starts no tracking server until something needs it", () => {
    expect(tracking.server).to.equal(undefined);
  });

  it("gives an unmodified MLflow client in a job a run named after the job, and serves back what it logged", async () => {
    const [client] = await Promise.all([
      createEnvironmentBuilder().prepare({ id: "mlflow-client", condaFile: CLIENT_ENV }, () => {}),
      tracking.ready(),
    ]);
    const runId = `sturdy_lime_${randomBytes(4).toString("hex")}`;
    await tracking.createRun({
      runId,
      experimentName: "iris-experiment",
      runName: "train iris",
      tags: { team: "ml" },
    });

    const env = {
      ...process.env,
      MLFLOW_DISABLE_TELEMETRY: "true",
      ...trackingEnvironment({
        armEndpoint: emulator.info.armEndpoint,
        trackingPath: tracking.trackingPath,
        token: emulator.info.token,
        caCertPath: emulator.info.caCertPath,
        experimentName: "iris-experiment",
        runId,
      }),
    };
    await new Promise<void>((resolve, reject) =>
      execFile(client.pythonPath, ["-c", JOB_SCRIPT], { env }, (error, _stdout, stderr) =>
        error === null ? resolve() : reject(new Error(`${error.message}\n${stderr}`)),
      ),
    );

    // What the provider does: MLflow's REST API at the workspace's tracking URI.
    const got = await request(
      `${base}/api/2.0/mlflow/runs/get?run_id=${runId}`,
      ca,
      emulator.info.token,
    );
    expect(got.status, got.text).to.equal(200);
    const { info, data } = got.body.run;
    expect(info).to.include({ run_id: runId, run_name: "train iris", status: "FINISHED" });
    expect(data.params).to.deep.include({ key: "learning_rate", value: "0.1" });
    const accuracy = data.metrics.find((m: { key: string }) => m.key === "accuracy");
    expect(accuracy).to.include({ value: 0.93, step: 1 });
    const tags = Object.fromEntries(
      data.tags.map((t: { key: string; value: string }) => [t.key, t.value]),
    );
    expect(tags).to.include({ stage: "test", team: "ml" });
    expect(tags).not.to.have.property("azureml.emulator.runId");
    const experiment = await request(
      `${base}/api/2.0/mlflow/experiments/get?experiment_id=${info.experiment_id}`,
      ca,
      emulator.info.token,
    );
    expect(experiment.body.experiment.name).to.equal("iris-experiment");

    const listed = await request(
      `${base}/api/2.0/mlflow/artifacts/list?run_id=${runId}&path=reports`,
      ca,
      emulator.info.token,
    );
    expect(listed.body.files.map((f: { path: string }) => f.path)).to.deep.equal([
      "reports/notes.txt",
    ]);
    const download = await request(
      `${base}/api/2.0/mlflow-artifacts/artifacts/${info.experiment_id}/${runId}/artifacts/reports/notes.txt`,
      ca,
      emulator.info.token,
    );
    expect(download.text).to.equal("hello from the job");

    // The artifact lives in the workspace's artifact store (the `azureml` container in Azurite).
    const blobs = new BlobServiceClient(
      `${emulator.azuriteUrl}/${DEV_STORE_ACCOUNT_NAME}`,
      new StorageSharedKeyCredential(DEV_STORE_ACCOUNT_NAME, DEV_STORE_ACCOUNT_KEY),
    ).getContainerClient("azureml");
    const names: string[] = [];
    for await (const blob of blobs.listBlobsFlat({
      prefix: `mlflow/${info.experiment_id}/${runId}/`,
    })) {
      names.push(blob.name);
    }
    expect(names).to.deep.equal([
      `mlflow/${info.experiment_id}/${runId}/artifacts/reports/notes.txt`,
    ]);

    // Every request the job's client made passed the front door and is in the request log.
    const posts = emulator.requests
      .all()
      .filter((r) => r.plane === "mlflow" && r.method === "POST" && r.status === 200)
      .map((r) => r.path.slice(tracking.trackingPath.length));
    expect(posts).to.include.members([
      "/api/2.0/mlflow/runs/log-parameter",
      "/api/2.0/mlflow/runs/log-metric",
      "/api/2.0/mlflow/runs/set-tag",
      "/api/2.0/mlflow/runs/update",
    ]);
  });

  it("refuses a request without a token, and accepts the Azure ML audience's token", async () => {
    const url = `${base}/api/2.0/mlflow/experiments/get-by-name?experiment_name=Default`;
    const anonymous = await request(url, ca);
    expect(anonymous.status).to.equal(401);
    expect(anonymous.body).to.include({ error_code: "UNAUTHENTICATED" });
    const wrong = await request(url, ca, "not-a-token");
    expect(wrong.status).to.equal(401);
    const ml = await request(url, ca, emulator.info.mlToken);
    expect(ml.status, ml.text).to.equal(200);
    expect(ml.body.experiment.name).to.equal("Default");
  });

  it("ends a job's run with its status once, and creating it again keeps it", async () => {
    const runId = `job_${randomBytes(4).toString("hex")}`;
    await tracking.createRun({ runId, experimentName: "Default" });
    await tracking.createRun({ runId, experimentName: "Default" });
    await tracking.endRun(runId, "FAILED");
    await tracking.endRun(runId, "KILLED");
    const got = await request(
      `${base}/api/2.0/mlflow/runs/get?run_id=${runId}`,
      ca,
      emulator.info.token,
    );
    expect(got.body.run.info).to.include({ run_id: runId, status: "FAILED", experiment_id: "0" });
    expect(got.body.run.info.end_time).to.be.a("number");
  });

  it("names the tracking endpoint in the workspace's mlFlowTrackingUri", async () => {
    const ws = await request(
      `${emulator.info.armEndpoint}${emulator.info.workspaceId}?api-version=2024-04-01`,
      ca,
      emulator.info.token,
    );
    const port = new URL(emulator.info.armEndpoint).port;
    expect(ws.body.properties.mlFlowTrackingUri).to.equal(
      `azureml://127.0.0.1:${port}${tracking.trackingPath}`,
    );
  });

  it("runs a command job over ARM whose unmodified MLflow client logs to the run named after the job, ended FINISHED", async () => {
    const { info } = emulator;
    const arm = (method: string, path: string, body?: unknown) =>
      request(`${info.armEndpoint}${path}?api-version=2024-04-01`, ca, info.token, method, body);
    const env = `${info.workspaceId}/environments/mlflow-client-${randomBytes(3).toString("hex")}/versions/1`;
    expect(
      (await arm("PUT", env, { properties: { image: "python", condaFile: CLIENT_ENV } })).status,
    ).to.equal(201);
    const name = `job_${randomBytes(4).toString("hex")}`;
    const script = [
      "import os, mlflow",
      "with mlflow.start_run() as run:",
      "    assert run.info.run_id == os.environ['AZUREML_RUN_ID'], run.info.run_id",
      "    mlflow.log_metric('accuracy', 0.91)",
      "    mlflow.log_param('rows', '150')",
    ].join("\n");
    const put = await arm("PUT", `${info.workspaceId}/jobs/${name}`, {
      properties: {
        jobType: "Command",
        experimentName: "jobs-through-arm",
        environmentId: env,
        computeId: `${info.workspaceId}/computes/cpu-cluster`,
        environmentVariables: { MLFLOW_DISABLE_TELEMETRY: "true" },
        command: `python - <<'EOF'\n${script}\nEOF`,
      },
    });
    expect(put.status, put.text).to.equal(201);
    let status = "";
    while (!["Completed", "Failed", "Canceled"].includes(status)) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      status = (await arm("GET", `${info.workspaceId}/jobs/${name}`)).body.properties.status;
    }
    const log = await request(
      (await arm("GET", `/history/v1.0${info.workspaceId}/runs/${name}/details`)).body.logFiles[
        "user_logs/std_log.txt"
      ],
      ca,
    );
    expect(status, log.text).to.equal("Completed");

    const got = await request(`${base}/api/2.0/mlflow/runs/get?run_id=${name}`, ca, info.token);
    expect(got.status, got.text).to.equal(200);
    expect(got.body.run.info).to.include({ run_id: name, status: "FINISHED" });
    const accuracy = got.body.run.data.metrics.find((m: { key: string }) => m.key === "accuracy");
    expect(accuracy).to.include({ value: 0.91 });
    expect(got.body.run.data.params).to.deep.include({ key: "rows", value: "150" });
    const experiment = await request(
      `${base}/api/2.0/mlflow/experiments/get?experiment_id=${got.body.run.info.experiment_id}`,
      ca,
      info.token,
    );
    expect(experiment.body.experiment.name).to.equal("jobs-through-arm");
  });

  it("runs a sweep whose trials log their metric with MLflow: the best trial is chosen from MLflow's metric history, each trial's run has its hyperparameters and the sweep as parent", async () => {
    const ws = emulator.info.workspaceId;
    const arm = (method: string, path: string, body?: unknown) =>
      request(
        `${emulator.info.armEndpoint}${path}${path.includes("?") ? "&" : "?"}api-version=2024-04-01`,
        ca,
        emulator.info.token,
        method,
        body,
      );
    const env = `${ws}/environments/sweep-mlflow-${randomBytes(3).toString("hex")}/versions/1`;
    const envPut = await arm("PUT", env, {
      properties: {
        image: "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest",
        condaFile: CLIENT_ENV,
      },
    });
    expect(envPut.status, envPut.text).to.equal(201);
    const sweep = `mlsweep_${randomBytes(4).toString("hex")}`;
    const put = await arm("PUT", `${ws}/jobs/${sweep}`, {
      properties: {
        jobType: "Sweep",
        experimentName: "sweep-mlflow",
        objective: { primaryMetric: "score", goal: "Maximize" },
        samplingAlgorithm: { samplingAlgorithmType: "Grid" },
        searchSpace: { x: ["choice", [[1, 3, 2]]] },
        limits: { jobLimitsType: "Sweep", maxConcurrentTrials: 2 },
        trial: {
          environmentId: env,
          command:
            "python -c 'import mlflow; [mlflow.log_metric(\"score\", ${{search_space.x}} * s, step=s) for s in (1, 2)]'",
          environmentVariables: { MLFLOW_DISABLE_TELEMETRY: "true" },
        },
      },
    });
    expect(put.status, put.text).to.equal(201);
    let job: any;
    for (;;) {
      job = (await arm("GET", `${ws}/jobs/${sweep}`)).body;
      if (["Completed", "Failed", "Canceled"].includes(job.properties.status)) {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(job.properties.status).to.equal("Completed");
    const trials = (await arm("GET", `${ws}/jobs?parentJobName=${sweep}`)).body.value as any[];
    expect(trials).to.have.length(3);
    const best = trials.find((t) => JSON.parse(t.properties.properties.hyperparameters).x === 3);
    expect(job.properties.properties).to.include({ best_child_run_id: best.name, score: "6" });
    expect(await tracking.metricHistory(best.name, "score")).to.deep.equal([3, 6]);

    const run = await request(
      `${base}/api/2.0/mlflow/runs/get?run_id=${best.name}`,
      ca,
      emulator.info.token,
    );
    expect(run.body.run.data.params).to.deep.include({ key: "x", value: "3" });
    expect(run.body.run.data.tags).to.deep.include({ key: "mlflow.parentRunId", value: sweep });
    const parent = await request(
      `${base}/api/2.0/mlflow/runs/get?run_id=${sweep}`,
      ca,
      emulator.info.token,
    );
    expect(parent.body.run.info).to.include({ run_id: sweep, status: "FINISHED" });
  });
});
