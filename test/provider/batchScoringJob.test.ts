/**
 * BatchScoringJob against the emulator, which really scores (the batch driver on the machine's
 * python3 for an image-only environment): what a user sees on `up`, on a second `up`, after a
 * dropped connection during the invocation, on an error threshold exceeded, and what reached the
 * service (the request log).
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { Agent, request } from "undici";
import { armGet } from "../support/arm";
import { deploy, readBlob, removeFolders, type Deployed } from "../support/batch";
import { getEmulator } from "../support/emulator";
import { checkAndCreate, configuredProvider } from "../support/providers";

after(removeFolders);

/** POSTs to a scoring URI with the emulator's ml.azure.com token. */
async function fetchJson(url: string, body: unknown): Promise<any> {
  const { info } = getEmulator();
  const response = await request(url, {
    method: "POST",
    headers: { authorization: `Bearer ${info.mlToken}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    dispatcher: new Agent({ connect: { ca: readFileSync(info.caCertPath) } }),
  });
  const text = await response.body.text();
  expect(response.statusCode, text).to.equal(200);
  return JSON.parse(text);
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("Expected the call to fail, but it succeeded.");
}

const FILES = {
  "a.csv": "x\n1\n2\n",
  "b.csv": "x\n3\n",
  "c.csv": "x\n4\n5\n6\n",
};

/** Invocations (POSTs to a scoring URI) since `mark`, dropped ones included. */
function invocationsSince(mark: number) {
  return getEmulator()
    .requests.since(mark)
    .filter((r) => r.method === "POST" && r.path.startsWith("/inference/"));
}

describe("BatchScoringJob provider @emulator", function () {
  this.timeout(180_000);
  let deployed: Deployed;
  before(async function () {
    this.timeout(120_000);
    deployed = await deploy(FILES);
  });
  afterEach(() => getEmulator().faults.clear());

  it("scores every file through the default deployment, writes the predictions where it says, and a second create starts no job @emulator", async () => {
    const provider = await configuredProvider("batchScoringJob");
    const mark = getEmulator().requests.mark();
    const { id, outs, inputs } = await checkAndCreate(provider, {
      endpointId: deployed.endpointId,
      input: deployed.dataUri,
    });
    expect(outs.status).to.equal("Completed");
    expect(id).to.equal(`${getEmulator().info.workspaceId}/jobs/${outs.jobName}`);
    expect(outs.deployment).to.equal("blue");
    // 4 files (nonce.csv included) in mini-batches of 2.
    expect(outs).to.deep.include({
      miniBatches: 2,
      miniBatchesCompleted: 2,
      items: 4,
      failedItems: 0,
    });
    expect(outs.outputUri).to.match(
      new RegExp(
        `^azureml://datastores/workspaceblobstore/paths/batch/${deployed.endpointName}/[0-9a-f]{16}/$`,
      ),
    );
    expect(outs.predictionsUri).to.equal(`${outs.outputUri}predictions.csv`);
    const predictions = (await readBlob(outs.predictionsUri))!.trim().split("\n");
    expect(predictions.slice(0, 6)).to.deep.equal([
      "a.csv 3",
      "a.csv 6",
      "b.csv 9",
      "c.csv 12",
      "c.csv 15",
      "c.csv 18",
    ]);
    expect(outs.firstRows).to.deep.equal(predictions.slice(0, 5));
    expect(invocationsSince(mark).map((r) => r.status)).to.deep.equal([200]);
    // The job is visible through the ARM jobs API, with its child that scored.
    const job = await armGet(outs.jobId);
    expect(job.properties.jobType).to.equal("Pipeline");
    expect(job.properties.properties["pulumi-azureml.invocationHash"]).to.equal(
      inputs.invocationHash,
    );

    // The same inputs again (a lost state, a retried create): the job is adopted, not invoked.
    const again = getEmulator().requests.mark();
    const second = await checkAndCreate(provider, {
      endpointId: deployed.endpointId,
      input: deployed.dataUri,
    });
    expect(second.outs.jobName).to.equal(outs.jobName);
    expect(invocationsSince(again)).to.deep.equal([]);
  });

  it("a connection dropped after the service started the job starts no second job @emulator", async () => {
    const provider = await configuredProvider("batchScoringJob");
    getEmulator().faults.add({
      kind: "drop",
      method: "POST",
      path: "/inference/",
      afterServing: true,
    });
    const mark = getEmulator().requests.mark();
    const { outs } = await checkAndCreate(provider, {
      endpointId: deployed.endpointId,
      deploymentName: "blue",
      input: deployed.dataUri,
      miniBatchSize: 4,
    });
    expect(outs.status).to.equal("Completed");
    expect(outs.miniBatches).to.equal(1);
    const posts = invocationsSince(mark);
    expect(posts.map((r) => r.status)).to.deep.equal([0]);
    const jobs = await armGet(
      `${getEmulator().info.workspaceId}/jobs?properties=${encodeURIComponent(`pulumi-azureml.invocationHash=${(outs as any).invocationHash}`)}&listViewType=All`,
    );
    expect(jobs.value.map((j: any) => j.name)).to.deep.equal([outs.jobName]);
  });

  it("a connection dropped before the service saw the invocation is invoked again, once @emulator", async () => {
    const provider = await configuredProvider("batchScoringJob");
    getEmulator().faults.add({ kind: "drop", method: "POST", path: "/inference/" });
    const mark = getEmulator().requests.mark();
    const { outs } = await checkAndCreate(provider, {
      endpointId: deployed.endpointId,
      input: deployed.dataUri,
      miniBatchSize: 3,
    });
    expect(outs.status).to.equal("Completed");
    expect(invocationsSince(mark).map((r) => r.status)).to.deep.equal([0, 200]);
  });

  it("fails saying the error threshold was exceeded, and names the failed job @emulator", async () => {
    const provider = await configuredProvider("batchScoringJob");
    const bad = await deploy({ "a.csv": "x\n1\n", "b.csv": "x\nbad\n", "c.csv": "x\nbad\n" });
    const error = await rejection(
      checkAndCreate(provider, {
        endpointId: bad.endpointId,
        input: bad.dataUri,
        miniBatchSize: 1,
        errorThreshold: 1,
        maxRetries: 0,
      }),
    );
    expect(error.message).to.match(/BatchScoringJob batchjob-[0-9a-f-]+ ended Failed/);
    expect(error.message).to.include("more than the error threshold (1)");
  });

  it("destroy cancels a running scoring job and its child, keeping the job @emulator", async () => {
    const provider = await configuredProvider("batchScoringJob");
    const slow = await deploy(FILES, {
      settings: { miniBatchSize: 1, environmentVariables: { SCORE_DELAY_SECONDS: "5" } },
    });
    const { info } = getEmulator();
    const endpoint = await armGet(slow.endpointId);
    // An invocation that is still running, as a create interrupted after the POST leaves it.
    const reply = await fetchJson(endpoint.properties.scoringUri, {
      properties: { InputData: { d: { JobInputType: "UriFolder", Uri: slow.dataUri } } },
    });
    const name = reply.name as string;
    await provider.delete(`${info.workspaceId}/jobs/${name}`, {
      endpointId: slow.endpointId,
      input: slow.dataUri,
      jobName: name,
    } as any);
    const job = await armGet(`${info.workspaceId}/jobs/${name}`);
    expect(job.properties.status).to.equal("Canceled");
    const child = await armGet(`${info.workspaceId}/jobs/${name}-scoring`);
    expect(child.properties.status).to.equal("Canceled");
  });

  it("check names the property it refuses and sends nothing @emulator", async () => {
    const provider = await configuredProvider("batchScoringJob");
    const mark = getEmulator().requests.mark();
    const result = await provider.check(
      {} as any,
      {
        endpointId: "not-an-id",
        input: "C:/data",
        inputType: "folder",
        outputPath: "/tmp/out",
        outputFileName: "a/b.csv",
        miniBatchSize: 0,
        errorThreshold: -2,
        deploymentName: "x",
      } as any,
    );
    expect((result.failures ?? []).map((f) => f.property).sort()).to.deep.equal([
      "deployment",
      "endpoint",
      "errorThreshold",
      "input",
      "inputType",
      "miniBatchSize",
      "outputFileName",
      "outputPath",
    ]);
    expect(getEmulator().requests.since(mark)).to.deep.equal([]);
  });
});
