/**
 * The emulator's batch data plane: `POST {scoringUri}` with the token audience Azure requires,
 * the body shapes it accepts and the deployment header, the job it starts (ARM jobs API, its
 * child job, progress) and really scored results, an MLflow model without a scoring script.
 */
import { expect } from "chai";
import { copyFileSync, cpSync, readdirSync, readFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Agent, request } from "undici";
import { packageFile } from "../../emulator/envs/python";
import { armGet } from "../support/arm";
import { deploy, folder, readBlob, removeFolders, type Deployed } from "../support/batch";
import { getEmulator } from "../support/emulator";

after(removeFolders);

let agent: Agent | undefined;

interface Reply {
  status: number;
  body: any;
}

async function call(
  method: "GET" | "POST",
  url: string,
  options: { token?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<Reply> {
  const { info } = getEmulator();
  agent ??= new Agent({ connect: { ca: readFileSync(info.caCertPath) } });
  const response = await request(url, {
    method,
    headers: {
      authorization: `Bearer ${options.token ?? info.mlToken}`,
      "content-type": "application/json",
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    dispatcher: agent,
  });
  const text = await response.body.text();
  return { status: response.statusCode, body: text === "" ? undefined : JSON.parse(text) };
}

async function scoringUri(deployed: Deployed): Promise<string> {
  return (await armGet(deployed.endpointId)).properties.scoringUri;
}

/** Polls `GET {scoringUri}/{name}` (as the older REST samples do) until the job has ended. */
async function untilEnded(uri: string, name: string): Promise<any[]> {
  const seen: any[] = [];
  for (;;) {
    const reply = await call("GET", `${uri}/${name}`);
    expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
    seen.push(reply.body);
    if (["Completed", "Failed", "Canceled"].includes(reply.body.properties.status)) {
      return seen;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Every absolute path in a JSON document's strings (ARM ids `/subscriptions/…` and URLs aside):
 * what a machine path in a job would look like to a client.
 */
function absolutePaths(value: unknown): string[] {
  if (typeof value === "string") {
    return [...value.matchAll(/(?:^|[\s"'=:;,(])(\/(?!\/)[^\s"';,)]*)/g)]
      .map((m) => m[1])
      .filter((p) => !/^\/subscriptions\//i.test(p));
  }
  if (Array.isArray(value)) {
    return value.flatMap(absolutePaths);
  }
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => [...absolutePaths(k), ...absolutePaths(v)]);
  }
  return [];
}

const SLOW_FILES = Object.fromEntries(
  Array.from({ length: 6 }, (_, i) => [`f${i}.csv`, `x\n${i}\n`]),
);

describe("emulator batch data plane @emulator", function () {
  this.timeout(180_000);
  let deployed: Deployed;
  before(async function () {
    this.timeout(120_000);
    deployed = await deploy(SLOW_FILES, {
      settings: {
        miniBatchSize: 1,
        maxConcurrencyPerInstance: 1,
        environmentVariables: { SCORE_DELAY_SECONDS: "0.3" },
      },
    });
  });

  it("refuses the ARM token on the scoring URI, naming the audience it wants, and starts nothing @emulator", async () => {
    const { info } = getEmulator();
    const reply = await call("POST", await scoringUri(deployed), {
      token: info.token,
      body: {
        properties: { InputData: { d: { JobInputType: "UriFolder", Uri: deployed.dataUri } } },
      },
    });
    expect(reply.status).to.equal(401);
    expect(JSON.stringify(reply.body)).to.include("https://ml.azure.com");
  });

  it("refuses a deployment header naming no deployment of the endpoint @emulator", async () => {
    const reply = await call("POST", await scoringUri(deployed), {
      headers: { "azureml-model-deployment": "green" },
      body: {
        properties: { InputData: { d: { JobInputType: "UriFolder", Uri: deployed.dataUri } } },
      },
    });
    expect(reply.status).to.equal(400);
    expect(reply.body.error.message).to.include("has no deployment 'green'");
  });

  it("faults and logs the scoring URI as the data plane, not the ARM plane @emulator", async () => {
    const { faults, requests } = getEmulator();
    const uri = await scoringUri(deployed);
    const mark = requests.mark();
    try {
      faults.add({ kind: "status", status: 503, plane: "arm", path: "/inference/" });
      expect((await call("GET", `${uri}/no-such-job`)).status).to.equal(404);
      faults.clear();
      faults.add({ kind: "status", status: 503, plane: "data", path: "/inference/" });
      expect((await call("GET", `${uri}/no-such-job`)).status).to.equal(503);
      expect((await call("GET", `${uri}/no-such-job`)).status).to.equal(404);
    } finally {
      faults.clear();
    }
    expect(
      requests
        .since(mark)
        .filter((r) => r.path.includes("/inference/"))
        .map((r) => `${r.plane} ${r.status}${r.fault ? ` ${r.fault}` : ""}`),
    ).to.deep.equal(["data 404", "data 503 status", "data 404"]);
  });

  it("runs the seed documents' older body to the output dataset and file it names, showing mini-batches done while it runs @emulator", async () => {
    const uri = await scoringUri(deployed);
    const [, name, version] = /\/data\/([^/]+)\/versions\/([^/]+)$/.exec(deployed.dataUri)!;
    const { info } = getEmulator();
    const reply = await call("POST", uri, {
      body: {
        properties: {
          dataset: { dataInputType: "DatasetVersion", datasetName: name, datasetVersion: version },
          outputDataset: {
            datastoreId: `${info.workspaceId}/datastores/workspaceblobstore`,
            path: `seed-out/${name}`,
          },
          outputFileName: "scores.txt",
        },
      },
    });
    expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
    expect(reply.body.properties.jobType).to.equal("Pipeline");
    const seen = await untilEnded(uri, reply.body.name);
    const last = seen[seen.length - 1].properties;
    expect(last.status).to.equal("Completed");
    // 7 files (the nonce included), one per mini-batch.
    expect(last.properties["azureml.batch.miniBatchesCompleted"]).to.equal("7");
    expect(last.properties["azureml.batch.items"]).to.equal("7");
    const counts = seen
      .map((s) => Number(s.properties.properties["azureml.batch.miniBatchesCompleted"] ?? -1))
      .filter((n) => n >= 0);
    expect(counts, "progress grows and is seen before the end").to.satisfy((c: number[]) =>
      c.some((n) => n > 0 && n < 7),
    );
    const text = await readBlob(
      `azureml://datastores/workspaceblobstore/paths/seed-out/${name}/scores.txt`,
    );
    expect(text!.trim().split("\n")).to.include.members(["f0.csv 0", "f5.csv 15"]);
    // The same job through the ARM jobs API, with the child job that scored.
    const job = await armGet(`${info.workspaceId}/jobs/${reply.body.name}`);
    expect(job.properties.status).to.equal("Completed");
    const children = await armGet(
      `${info.workspaceId}/jobs?parentJobName=${reply.body.name}&listViewType=All`,
    );
    expect(children.value.map((c: any) => c.properties.jobType)).to.deep.equal(["Command"]);
  });

  it("shows a client only the variables the deployment set, and no path of this machine, on the scoring job and its child @emulator", async () => {
    const { info } = getEmulator();
    const uri = await scoringUri(deployed);
    const reply = await call("POST", uri, {
      body: {
        properties: { InputData: { d: { JobInputType: "UriFolder", Uri: deployed.dataUri } } },
      },
    });
    expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
    const seen = await untilEnded(uri, reply.body.name);
    // The runner still finds its driver: the scoring ran.
    expect(seen[seen.length - 1].properties.status).to.equal("Completed");
    const parent = await armGet(`${info.workspaceId}/jobs/${reply.body.name}`);
    const children = await armGet(
      `${info.workspaceId}/jobs?parentJobName=${reply.body.name}&listViewType=All`,
    );
    const [listed] = children.value;
    const child = await armGet(`${info.workspaceId}/jobs/${listed.name}`);
    expect(child.properties.environmentVariables).to.deep.equal({ SCORE_DELAY_SECONDS: "0.3" });
    for (const job of [seen[0], seen[seen.length - 1], parent, listed, child]) {
      expect(absolutePaths(job), job.name).to.deep.equal([]);
      const text = JSON.stringify(job);
      for (const local of [packageFile(), os.tmpdir(), os.homedir()]) {
        expect(text, job.name).not.to.include(`${local}/`);
      }
    }
  });

  it("scores an MLflow model without a scoring script, appending a prediction to each row @emulator @python", async function () {
    const deployedMlflow = await deploy(
      { "rows.csv": "a,b\n1,2\n3,1\n" },
      {
        mlflowModelPath: packageFile("test", "fixtures", "batch", "mlflow-linear"),
        condaFile: readFileSync(packageFile("examples", "train", "conda.yaml"), "utf8"),
        settings: { miniBatchSize: 1 },
      },
    );
    const uri = await scoringUri(deployedMlflow);
    const reply = await call("POST", uri, {
      body: {
        properties: {
          inputData: { rows: { jobInputType: "UriFolder", uri: deployedMlflow.dataUri } },
          outputData: {
            out: {
              jobOutputType: "UriFolder",
              uri: `azureml://datastores/workspaceblobstore/paths/mlflow-out/${path.basename(deployedMlflow.dataUri)}/`,
            },
          },
        },
      },
    });
    expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
    const seen = await untilEnded(uri, reply.body.name);
    expect(seen[seen.length - 1].properties.status).to.equal("Completed");
    const text = await readBlob(
      `azureml://datastores/workspaceblobstore/paths/mlflow-out/${path.basename(deployedMlflow.dataUri)}/predictions.csv`,
    );
    // intercept 1 + 2a - b; the nonce file (no a, b columns) fails alone.
    expect(text!.trim().split("\n")).to.include.members(["1 2 1.0", "3 1 6.0"]);
  });

  it("scores an MLflow model deployed without an environment, building one from the model's conda.yaml @emulator @python", async function () {
    // examples/batch-score's iris model (its weights) as an MLflow model, loaded by mlflow.pyfunc.
    const model = folder({});
    cpSync(packageFile("test", "fixtures", "batch", "mlflow-iris"), model, { recursive: true });
    copyFileSync(
      packageFile("examples", "batch-score", "model", "iris-logistic.json"),
      path.join(model, "iris-logistic.json"),
    );
    const dataDir = packageFile("examples", "batch-score", "data");
    const flowers = Object.fromEntries(
      readdirSync(dataDir).map((f) => [f, readFileSync(path.join(dataDir, f), "utf8")]),
    );
    const deployedMlflow = await deploy(flowers, {
      mlflowModelPath: model,
      withoutEnvironment: true,
      settings: { miniBatchSize: 1 },
    });
    const { info } = getEmulator();
    const uri = await scoringUri(deployedMlflow);
    const out = `azureml://datastores/workspaceblobstore/paths/mlflow-iris-out/${path.basename(deployedMlflow.dataUri)}/`;
    const reply = await call("POST", uri, {
      body: {
        properties: {
          inputData: { flowers: { jobInputType: "UriFolder", uri: deployedMlflow.dataUri } },
          outputData: { out: { jobOutputType: "UriFolder", uri: out } },
        },
      },
    });
    expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
    const seen = await untilEnded(uri, reply.body.name);
    const last = seen[seen.length - 1].properties;
    expect(last.status, JSON.stringify(last)).to.equal("Completed");
    const rows = (await readBlob(`${out}predictions.csv`))!.trim().split("\n");
    // Every flower of the three files gets a species (the nonce file, without columns, fails alone).
    expect(rows).to.have.length(60);
    expect(rows).to.include.members([
      "5.9 3.0 5.1 1.8 virginica",
      "5.0 3.5 1.3 0.3 setosa",
      "5.8 2.7 3.9 1.2 versicolor",
    ]);
    // The child job a client reads names no environment: none was given.
    const children = await armGet(
      `${info.workspaceId}/jobs?parentJobName=${reply.body.name}&listViewType=All`,
    );
    expect(children.value[0].properties.environmentId).to.equal(undefined);
  });
});
