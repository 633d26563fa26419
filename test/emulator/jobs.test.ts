// Command jobs in the shared emulator: real processes in uv environments (image-only ones run on
// the machine's Python), code and data in Azurite, results read back the way a client reads them
// (ARM GET, the artifact store, the default datastore, Run History).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { expect } from "chai";
import { Agent, request } from "undici";
import { createControlPlane, type ControlPlane } from "../../emulator/app";
import { DEV_STORE_ACCOUNT_KEY } from "../../emulator/azurite";
import { createEnvironmentBuilder } from "../../emulator/envs";
import type { EnvironmentBuilder } from "../../emulator/envs/types";
import type { TrackingRunStatus, TrackingService } from "../../emulator/mlflow/types";
import { JOBS_COLLECTION, type StoredJob } from "../../emulator/jobs/types";
import { createMemoryStore, type Store } from "../../emulator/state/store";
import { mintEmulatorTokens } from "../../emulator/tokens";
import { getEmulator, uniqueName } from "../support/emulator";
import { checkAndCreate, configuredProvider, workspaceInputs } from "../support/providers";

const V = "api-version=2024-04-01";

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: any;
}

let agent: Agent | undefined;

async function arm(method: string, pathOrUrl: string, body?: unknown): Promise<Reply> {
  const { info } = getEmulator();
  agent ??= new Agent({ connect: { ca: readFileSync(info.caCertPath) } });
  const url = pathOrUrl.startsWith("https://")
    ? pathOrUrl
    : `${info.armEndpoint}${pathOrUrl}${pathOrUrl.includes("?") ? "&" : "?"}${V}`;
  const response = await request(url, {
    method: method as "GET",
    headers: {
      authorization: `Bearer ${info.token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    dispatcher: agent,
  });
  const text = await response.body.text();
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(response.headers)) {
    headers[k] = Array.isArray(v) ? v.join(", ") : String(v);
  }
  return { status: response.statusCode, headers, body: text === "" ? undefined : JSON.parse(text) };
}

const ws = () => getEmulator().info.workspaceId;
const jobPath = (name: string) => `${ws()}/jobs/${name}`;

function blobService(): BlobServiceClient {
  const { info } = getEmulator();
  return new BlobServiceClient(
    info.blobEndpoint,
    new StorageSharedKeyCredential(info.storageAccountName, DEV_STORE_ACCOUNT_KEY),
  );
}

async function datastoreContainer(name: string): Promise<string> {
  const r = await arm("GET", `${ws()}/datastores/${name}`);
  return r.body.properties.containerName;
}

async function readBlob(container: string, blobName: string): Promise<string | undefined> {
  const client = blobService().getContainerClient(container).getBlobClient(blobName);
  if (!(await client.exists())) {
    return undefined;
  }
  return (await client.downloadToBuffer()).toString("utf8");
}

/** Uploads files to the default datastore under `folder`; returns the folder's datastore URI. */
async function uploadToDefault(folder: string, files: Record<string, string>): Promise<string> {
  const container = blobService().getContainerClient(
    await datastoreContainer("workspaceblobstore"),
  );
  for (const [name, text] of Object.entries(files)) {
    await container.getBlockBlobClient(`${folder}/${name}`).upload(text, Buffer.byteLength(text));
  }
  return `azureml://datastores/workspaceblobstore/paths/${folder}`;
}

/** A code version whose codeUri is a blob folder holding `files` (what CodeVersion uploads). */
async function codeVersion(files: Record<string, string>): Promise<string> {
  const name = uniqueName("code");
  const folder = `LocalUpload/${name}/src`;
  await uploadToDefault(folder, files);
  const { info } = getEmulator();
  const container = await datastoreContainer("workspaceblobstore");
  const id = `${ws()}/codes/${name}/versions/1`;
  const r = await arm("PUT", id, {
    properties: { codeUri: `${info.blobEndpoint}${container}/${folder}` },
  });
  expect(r.status, JSON.stringify(r.body)).to.equal(201);
  return id;
}

async function environment(condaFile?: string): Promise<string> {
  const id = `${ws()}/environments/${uniqueName("env")}/versions/1`;
  const r = await arm("PUT", id, {
    properties: { image: "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest", condaFile },
  });
  expect(r.status, JSON.stringify(r.body)).to.equal(201);
  return id;
}

const computeId = (name = "cpu-cluster") => `${ws()}/computes/${name}`;

async function submit(name: string, properties: Record<string, unknown>): Promise<Reply> {
  return arm("PUT", jobPath(name), { properties: { jobType: "Command", ...properties } });
}

/** GETs the job until `done` says so (the mocha timeout bounds the wait). */
async function waitFor(name: string, done: (job: any) => boolean): Promise<any> {
  for (;;) {
    const r = await arm("GET", jobPath(name));
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    if (done(r.body)) {
      return r.body;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const TERMINAL = ["Completed", "Failed", "Canceled"];
const ended = (name: string) => waitFor(name, (j) => TERMINAL.includes(j.properties.status));

/** Follows a 202's Location until it stops answering 202; returns the final answer. */
async function followLocation(location: string): Promise<Reply> {
  for (;;) {
    const r = await arm("GET", location);
    if (r.status !== 202) {
      return r;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stdLog(name: string): Promise<string | undefined> {
  return readBlob("azureml", `ExperimentRun/dcid.${name}/user_logs/std_log.txt`);
}

/** Reads the artifact-store log until it contains `text` (it is uploaded while the job runs). */
async function waitForLog(name: string, text: string): Promise<string> {
  for (;;) {
    const log = (await stdLog(name)) ?? "";
    if (log.includes(text)) {
      return log;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** True when no process with this pid is alive (a zombie counts as dead). */
function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

const TRAIN_PY = `
import argparse, json, os, pathlib
parser = argparse.ArgumentParser()
parser.add_argument("--rows")
parser.add_argument("--greeting")
parser.add_argument("--model")
args = parser.parse_args()
rows = pathlib.Path(args.rows).read_text().splitlines()
pathlib.Path("outputs").mkdir(exist_ok=True)
pathlib.Path("outputs/summary.json").write_text(json.dumps({"rows": len(rows)}))
pathlib.Path(args.model, "model.txt").write_text(f"{args.greeting} {len(rows)} {os.environ['AZUREML_RUN_ID']}")
print("experiment", os.environ["AZUREML_ARM_PROJECT_NAME"], "rows", len(rows))
`;

describe("command jobs: running @emulator", function () {
  this.timeout(120_000);

  it("runs a Python script to Completed, with named outputs where GET says and ./outputs and the log in the artifact store @emulator", async () => {
    const code = await codeVersion({ "train.py": TRAIN_PY });
    const env = await environment();
    const data = await uploadToDefault(`data/${uniqueName("iris")}`, {
      "rows.csv": "a,b\n1,2\n3,4\n",
    });
    const name = uniqueName("job");
    const put = await submit(name, {
      codeId: code,
      environmentId: env,
      computeId: computeId(),
      experimentName: "jobs-test",
      command:
        "python train.py --rows ${{inputs.rows}} --greeting ${{inputs.greeting}} --model ${{outputs.model}}",
      inputs: {
        rows: { jobInputType: "uri_file", uri: `${data}/rows.csv` },
        greeting: { jobInputType: "literal", value: "hello" },
      },
      outputs: { model: { jobOutputType: "uri_folder" } },
    });
    expect(put.status, JSON.stringify(put.body)).to.equal(201);
    expect(put.body.properties.status).to.equal("NotStarted");
    expect(put.body.properties.outputs.model.uri).to.equal(
      `azureml://datastores/workspaceblobstore/paths/azureml/${name}/model/`,
    );
    const workspace = (await arm("GET", ws())).body;
    expect(put.body.properties.services.Tracking.endpoint).to.equal(
      `${workspace.properties.mlFlowTrackingUri}?`,
    );
    expect(put.body.properties.services.Studio.endpoint).to.contain(`/runs/${name}?wsid=`);

    const job = await ended(name);
    expect(job.properties.status, await stdLog(name)).to.equal("Completed");
    const log = await stdLog(name);
    expect(log).to.contain("experiment jobs-test rows 3");

    // The named output is where GET's outputs.model.uri says.
    const uri: string = job.properties.outputs.model.uri;
    const [, ds, folder] = /^azureml:\/\/datastores\/([^/]+)\/paths\/(.*)$/.exec(uri) ?? [];
    const model = await readBlob(await datastoreContainer(ds), `${folder}model.txt`);
    expect(model).to.equal(`hello 3 ${name}`);

    // ./outputs goes to the run's artifact folder.
    const summary = await readBlob("azureml", `ExperimentRun/dcid.${name}/outputs/summary.json`);
    expect(JSON.parse(summary ?? "{}")).to.deep.equal({ rows: 3 });

    const history = await arm("GET", `/history/v1.0${ws()}/runs/${name}`);
    expect(history.status).to.equal(200);
    expect(history.body).to.include({ runId: name, status: "Completed", error: null });
    expect(Date.parse(history.body.endTimeUtc)).to.be.at.least(
      Date.parse(history.body.startTimeUtc),
    );
  });

  it("ends a failing command Failed, with the reason in its log, in Run History, and a log URL that reads @emulator", async () => {
    const code = await codeVersion({
      "fail.py": 'import sys\nprint("about to fail")\nraise SystemExit("the data has no rows")\n',
    });
    const name = uniqueName("job");
    const put = await submit(name, {
      codeId: code,
      environmentId: await environment(),
      computeId: computeId(),
      command: "python fail.py",
    });
    expect(put.status).to.equal(201);
    const job = await ended(name);
    expect(job.properties.status).to.equal("Failed");

    const log = await stdLog(name);
    expect(log).to.contain("about to fail").and.contain("the data has no rows");

    const details = await arm("GET", `/history/v1.0${ws()}/runs/${name}/details`);
    expect(details.status).to.equal(200);
    expect(details.body.status).to.equal("Failed");
    expect(details.body.error.error.code).to.equal("UserError");
    expect(details.body.error.error.message)
      .to.contain("exited with status code 1")
      .and.contain("the data has no rows");
    // The SAS URL Run History hands out reads the same log.
    const logUrl: string = details.body.logFiles["user_logs/std_log.txt"];
    const fetched = await request(logUrl, {
      dispatcher: new Agent({ connect: { ca: readFileSync(getEmulator().info.caCertPath) } }),
    });
    expect(fetched.statusCode).to.equal(200);
    expect(await fetched.body.text()).to.contain("the data has no rows");
  });

  it("fails a job whose environment cannot be installed, with the installer's message in its log @emulator", async () => {
    const name = uniqueName("job");
    const env = await environment(
      "name: train\ndependencies:\n  - python=3.11\n  - pip:\n    - package-that-cannot-install\n",
    );
    const put = await submit(name, { environmentId: env, computeId: computeId(), command: "true" });
    expect(put.status).to.equal(201);
    const job = await ended(name);
    expect(job.properties.status).to.equal("Failed");
    expect(await stdLog(name)).to.contain("package-that-cannot-install");
  });

  it("cancels a sleeping job: every process it started is killed, it ends Canceled and the cancel LRO completes @emulator", async () => {
    const name = uniqueName("job");
    const put = await submit(name, {
      environmentId: await environment(),
      computeId: computeId(),
      // A grandchild in the background and sh itself both sleep; the pids go to ./outputs.
      command:
        "mkdir -p outputs; sleep 300 & echo $! > outputs/pids.txt; echo $$ >> outputs/pids.txt; " +
        "echo ready; wait",
    });
    expect(put.status).to.equal(201);
    await waitFor(name, (j) => j.properties.status === "Running");
    await waitForLog(name, "ready");

    const cancel = await arm("POST", `${jobPath(name)}/cancel`);
    expect(cancel.status).to.equal(202);
    expect(cancel.headers.location).to.match(/^https:\/\/127\.0\.0\.1:\d+\//);
    const final = await followLocation(cancel.headers.location);
    expect(final.status).to.equal(200);

    const job = await arm("GET", jobPath(name));
    expect(job.body.properties.status).to.equal("Canceled");
    const pids = ((await readBlob("azureml", `ExperimentRun/dcid.${name}/outputs/pids.txt`)) ?? "")
      .split(/\s+/)
      .filter((p) => p !== "")
      .map(Number);
    expect(pids).to.have.length(2);
    for (const pid of pids) {
      expect(processGone(pid), `pid ${pid}`).to.equal(true);
    }
  });

  it("deletes a running job: it is canceled, then gone, and the delete LRO completes @emulator", async () => {
    const name = uniqueName("job");
    await submit(name, {
      environmentId: await environment(),
      computeId: computeId(),
      command: "echo ready; sleep 300",
    });
    await waitFor(name, (j) => j.properties.status === "Running");
    const del = await arm("DELETE", jobPath(name));
    expect(del.status).to.equal(202);
    const final = await followLocation(del.headers.location);
    expect(final.status).to.equal(204);
    expect((await arm("GET", jobPath(name))).status).to.equal(404);
    expect((await arm("DELETE", jobPath(name))).status).to.equal(204);
  });

  it("ends a job that outlives limits.timeout Failed, naming the limit @emulator", async () => {
    const name = uniqueName("job");
    await submit(name, {
      environmentId: await environment(),
      computeId: computeId(),
      command: "echo started; sleep 300",
      limits: { jobLimitsType: "Command", timeout: "PT1S" },
    });
    const job = await ended(name);
    expect(job.properties.status).to.equal("Failed");
    const details = await arm("GET", `/history/v1.0${ws()}/runs/${name}`);
    expect(details.body.error.error.message).to.contain("time limit (limits.timeout PT1S)");
    expect(await stdLog(name))
      .to.contain("started")
      .and.contain("limits.timeout PT1S");
  });

  it("queues jobs beyond the compute's node count: the second waits Queued until the first ends @emulator", async () => {
    const compute = uniqueName("cpu");
    const c = await arm("PUT", computeId(compute), {
      location: getEmulator().info.location,
      properties: {
        computeType: "AmlCompute",
        properties: {
          vmSize: "STANDARD_DS3_V2",
          scaleSettings: { maxNodeCount: 1, minNodeCount: 0 },
        },
      },
    });
    expect(c.status, JSON.stringify(c.body)).to.be.oneOf([200, 201]);
    const env = await environment();
    const first = uniqueName("job");
    const second = uniqueName("job");
    await submit(first, {
      environmentId: env,
      computeId: computeId(compute),
      command: "sleep 300",
    });
    await waitFor(first, (j) => j.properties.status === "Running");
    await submit(second, {
      environmentId: env,
      computeId: computeId(compute),
      command: "echo second",
    });
    await waitFor(second, (j) => j.properties.status === "Queued");
    // Still queued while the only node is busy.
    expect((await arm("GET", jobPath(first))).body.properties.status).to.equal("Running");
    expect((await arm("GET", jobPath(second))).body.properties.status).to.equal("Queued");

    const cancel = await arm("POST", `${jobPath(first)}/cancel`);
    await followLocation(cancel.headers.location);
    const job = await ended(second);
    expect(job.properties.status).to.equal("Completed");
    expect(await stdLog(second)).to.contain("second");
  });
});

describe("command jobs: code, inputs and outputs from the package's own resources @emulator", function () {
  this.timeout(120_000);
  let folder: string;
  let server: http.Server | undefined;
  before(() => {
    folder = mkdtempSync(path.join(os.tmpdir(), "azureml-job-code-"));
  });
  after(async () => {
    rmSync(folder, { recursive: true, force: true });
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it("runs code uploaded by CodeVersion on data registered by DataVersion, a previous job's named output and artifacts, an http file and a Direct URI @emulator", async () => {
    // Code: a script importing a module from a subfolder, uploaded by the CodeVersion provider.
    const src = path.join(folder, "src");
    mkdirSync(path.join(src, "lib"), { recursive: true });
    writeFileSync(path.join(src, "lib", "__init__.py"), "");
    writeFileSync(
      path.join(src, "lib", "count.py"),
      "import pathlib\ndef rows(folder):\n    return sum(len(p.read_text().splitlines()) - 1 for p in pathlib.Path(folder).glob('*.csv'))\n",
    );
    writeFileSync(
      path.join(src, "main.py"),
      [
        "import argparse, pathlib",
        "from lib.count import rows",
        "p = argparse.ArgumentParser()",
        "for a in ('--data', '--previous', '--lucky', '--greeting', '--direct', '--times', '--out'):",
        "    p.add_argument(a)",
        "a = p.parse_args()",
        "answer = pathlib.Path(a.previous, 'answer.txt').read_text().strip()",
        "greeting = pathlib.Path(a.greeting).read_text().strip()",
        "lucky = pathlib.Path(a.lucky).read_text().strip()",
        "line = f'{greeting} rows={rows(a.data)} answer={answer} lucky={lucky} times={a.times} direct={a.direct}'",
        "pathlib.Path(a.out).write_text(line)",
        "print(line)",
      ].join("\n"),
    );
    const code = await checkAndCreate(await configuredProvider("codeVersion"), {
      ...workspaceInputs(),
      name: uniqueName("src"),
      path: src,
    });
    // Data of its own (a unique header), so no other test finds its blobs already uploaded.
    const dataFolder = path.join(folder, "data");
    mkdirSync(dataFolder);
    writeFileSync(path.join(dataFolder, "rows.csv"), `x,${uniqueName("col")}\n1,a\n2,b\n`);
    const data = await checkAndCreate(await configuredProvider("dataVersion"), {
      ...workspaceInputs(),
      name: uniqueName("rows"),
      dataType: "uri_folder",
      path: dataFolder,
    });
    const env = await environment();

    // A first job writes a named output the second one reads.
    const first = uniqueName("job");
    await submit(first, {
      environmentId: env,
      computeId: computeId(),
      command: "echo 42 > ${{outputs.model}}/answer.txt; mkdir outputs; echo 7 > outputs/lucky.txt",
      outputs: { model: { jobOutputType: "uri_folder" } },
    });
    expect((await ended(first)).properties.status, await stdLog(first)).to.equal("Completed");

    server = http.createServer((_req, res) => res.end("bonjour\n"));
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;

    const second = uniqueName("job");
    const put = await submit(second, {
      codeId: (code.outs as any).assetId,
      environmentId: env,
      computeId: computeId(),
      command:
        "python main.py --data ${{inputs.data}} --previous ${{inputs.previous}} --lucky ${{inputs.lucky}} " +
        "--greeting ${{inputs.greeting}} --direct ${{inputs.raw}} --times ${{inputs.times}} " +
        "--out ${{outputs.result}}",
      inputs: {
        data: { jobInputType: "uri_folder", uri: (data.outs as any).assetReference },
        previous: { jobInputType: "uri_folder", uri: `azureml://jobs/${first}/outputs/model` },
        lucky: {
          jobInputType: "uri_file",
          uri: `azureml://jobs/${first}/outputs/artifacts/paths/outputs/lucky.txt`,
        },
        greeting: { jobInputType: "uri_file", uri: `http://127.0.0.1:${port}/greeting.txt` },
        raw: {
          jobInputType: "uri_file",
          mode: "Direct",
          uri: "azureml://datastores/workspaceblobstore/paths/raw.csv",
        },
        times: { jobInputType: "literal", value: "3" },
      },
      outputs: { result: { jobOutputType: "uri_file" } },
    });
    expect(put.status, JSON.stringify(put.body)).to.equal(201);
    const job = await ended(second);
    expect(job.properties.status, await stdLog(second)).to.equal("Completed");
    const expected =
      "bonjour rows=2 answer=42 lucky=7 times=3 direct=azureml://datastores/workspaceblobstore/paths/raw.csv";
    expect(await stdLog(second)).to.contain(expected);
    const result = await readBlob(
      await datastoreContainer("workspaceblobstore"),
      `azureml/${second}/result/result`,
    );
    expect(result).to.equal(expected);
  });
});

describe("command jobs: what a PUT accepts @emulator", function () {
  this.timeout(60_000);

  it("refuses a job whose code version, environment or compute does not exist, or whose command binds to nothing @emulator", async () => {
    const env = await environment();
    const cases: Array<[string, Record<string, unknown>, number, string]> = [
      [
        "code",
        { codeId: `${ws()}/codes/nope/versions/1`, environmentId: env, command: "true" },
        404,
        "properties.codeId",
      ],
      [
        "environment",
        { environmentId: `${ws()}/environments/nope/versions/1`, command: "true" },
        404,
        "properties.environmentId",
      ],
      [
        "compute",
        { environmentId: env, computeId: computeId("no-such-compute"), command: "true" },
        404,
        "properties.computeId",
      ],
      [
        "binding",
        { environmentId: env, command: "python x.py --in ${{inputs.missing}}" },
        400,
        "properties.command",
      ],
      [
        "output binding",
        {
          environmentId: env,
          command: "echo ${{outputs.model}} ${{inputs.x}}",
          inputs: { x: { jobInputType: "literal", value: "1" } },
        },
        400,
        "properties.command",
      ],
      [
        "time limit",
        {
          environmentId: env,
          command: "true",
          limits: { jobLimitsType: "Command", timeout: "5 minutes" },
        },
        400,
        "properties.limits.timeout",
      ],
      [
        "input datastore",
        {
          environmentId: env,
          command: "cat ${{inputs.d}}",
          inputs: {
            d: { jobInputType: "uri_file", uri: "azureml://datastores/nostore/paths/a.csv" },
          },
        },
        404,
        "properties.inputs.d.uri",
      ],
    ];
    for (const [label, properties, status, target] of cases) {
      const name = uniqueName("job");
      const r = await submit(name, properties);
      expect(r.status, `${label}: ${JSON.stringify(r.body)}`).to.equal(status);
      expect(r.body.error.code, label).to.equal("UserError");
      expect(r.body.error.target, label).to.equal(target);
      expect((await arm("GET", jobPath(name))).status, label).to.equal(404);
    }
  });

  it("answers 200 to a re-PUT of the same job or one that changes only tags, and refuses a changed command as Azure does @emulator", async () => {
    const env = await environment();
    const name = uniqueName("job");
    const spec = {
      environmentId: env,
      computeId: computeId(),
      command: "echo once",
      tags: { a: "1" },
    };
    expect((await submit(name, spec)).status).to.equal(201);
    const same = await submit(name, spec);
    expect(same.status).to.equal(200);
    const retagged = await submit(name, { ...spec, tags: { b: "2" } });
    expect(retagged.status).to.equal(200);
    expect(retagged.body.properties.tags).to.deep.equal({ b: "2" });
    const changed = await submit(name, { ...spec, command: "echo twice" });
    expect(changed.status).to.equal(400);
    expect(changed.body.error.code).to.equal("UserError");
    expect(changed.body.error.message).to.contain("A job with this name already exists");
    expect(changed.body.error.message).to.contain("command");
    const job = await ended(name);
    expect(job.properties.command).to.equal("echo once");
    expect(await stdLog(name)).to.contain("once");
  });

  it("lists jobs by type, tag, property and archived state @emulator", async () => {
    const env = await environment();
    const marker = uniqueName("mark");
    const a = uniqueName("job");
    const b = uniqueName("job");
    await submit(a, {
      environmentId: env,
      command: "true",
      tags: { [marker]: "a" },
      properties: { stage: marker },
    });
    await submit(b, { environmentId: env, command: "true", tags: { [marker]: "b" } });
    await submit(b, {
      environmentId: env,
      command: "true",
      tags: { [marker]: "b" },
      isArchived: true,
    });

    const names = async (query: string) => {
      const r = await arm("GET", `${ws()}/jobs?${query}`);
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      return (r.body.value as any[]).map((j) => j.name);
    };
    expect(await names(`tag=${marker}`)).to.deep.equal([a]);
    expect(await names(`tag=${marker}&listViewType=All`)).to.have.members([a, b]);
    expect(await names(`tag=${marker}&listViewType=ArchivedOnly`)).to.deep.equal([b]);
    expect(await names(`properties=stage=${marker}&listViewType=All`)).to.deep.equal([a]);
    expect(await names(`tag=${marker}&jobType=Sweep&listViewType=All`)).to.deep.equal([]);
    expect(await names(`tag=${marker}&jobType=Command&listViewType=All`)).to.have.members([a, b]);
    await ended(a);
    await ended(b);
  });
});

// A control plane of its own on plain HTTP, sharing the shared emulator's Azurite for blobs.
async function startOwnPlane(options: {
  store?: Store;
  environments?: EnvironmentBuilder;
  tracking?: TrackingService;
}): Promise<{ plane: ControlPlane; url: string; close(): Promise<void> }> {
  const emulator = getEmulator();
  const mounted: { plane?: ControlPlane } = {};
  const server = http.createServer((req, res) => mounted.plane?.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const azurite = `${emulator.azuriteUrl}/${emulator.info.storageAccountName}`;
  const plane = createControlPlane({
    publicUrl: url,
    subscriptionId: emulator.info.subscriptionId,
    resourceGroupName: emulator.info.resourceGroupName,
    workspaceName: emulator.info.workspaceName,
    location: emulator.info.location,
    tokens: mintEmulatorTokens(),
    storage: {
      accountName: emulator.info.storageAccountName,
      accountKey: DEV_STORE_ACCOUNT_KEY,
      blobEndpoint: `${azurite}/`,
      createContainer: async () => undefined,
    },
    store: options.store,
    retryAfterInSeconds: 0,
    jobs: {
      environments: options.environments,
      tracking: options.tracking,
      blobEndpoint: azurite,
      log: () => undefined,
    },
  });
  mounted.plane = plane;
  return {
    plane,
    url,
    async close() {
      await plane.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function storedJob(store: Store, name: string): StoredJob | undefined {
  const key = `${getEmulator().info.workspaceId}/jobs/${name}`.toLowerCase();
  return store.get<StoredJob>(JOBS_COLLECTION, key);
}

async function waitForStored(store: Store, name: string, status: string): Promise<StoredJob> {
  for (;;) {
    const job = storedJob(store, name);
    if (job?.resource.properties?.status === status) {
      return job;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("command jobs: emulator start and stop @emulator", function () {
  this.timeout(60_000);

  it("fails a job found Running in persisted state at start, with a reason, and runs one found Queued @emulator", async () => {
    const store = createMemoryStore();
    const ws = getEmulator().info.workspaceId;
    const job = (name: string, status: string): StoredJob => ({
      createdSeq: 1,
      resource: {
        id: `${ws}/jobs/${name}`,
        name,
        type: "Microsoft.MachineLearningServices/workspaces/jobs",
        properties: {
          jobType: "Command",
          command: "echo queued-before-restart",
          environmentId: "azureml://registries/azureml/environments/sklearn-1.5/versions/1",
          status,
        },
      },
      run: { pool: "serverless", nodes: 1 },
    });
    const running = uniqueName("job");
    const queued = uniqueName("job");
    store.put(JOBS_COLLECTION, `${ws}/jobs/${running}`.toLowerCase(), job(running, "Running"));
    store.put(JOBS_COLLECTION, `${ws}/jobs/${queued}`.toLowerCase(), job(queued, "Queued"));

    const own = await startOwnPlane({ store, environments: createEnvironmentBuilder() });
    try {
      const failed = storedJob(store, running);
      expect(failed?.resource.properties?.status).to.equal("Failed");
      expect(failed?.run.error?.message).to.contain(
        "The emulator stopped while this job was Running",
      );
      const completed = await waitForStored(store, queued, "Completed");
      expect(completed.run.endTimeUtc).to.be.a("string");
      expect(await stdLog(queued)).to.contain("queued-before-restart");
    } finally {
      await own.close();
    }
  });

  it("close() kills running jobs and waits for them; they end Failed, saying the emulator stopped @emulator", async () => {
    const store = createMemoryStore();
    const own = await startOwnPlane({ store, environments: createEnvironmentBuilder() });
    const name = uniqueName("job");
    const tokens = { authorization: `Bearer ${mintEmulatorTokens().arm}` };
    let closed = false;
    try {
      const ws = getEmulator().info.workspaceId;
      const put = await request(`${own.url}${ws}/jobs/${name}?${V}`, {
        method: "PUT",
        headers: { ...tokens, "content-type": "application/json" },
        body: JSON.stringify({
          properties: {
            jobType: "Command",
            environmentId: "azureml://registries/azureml/environments/sklearn-1.5/versions/1",
            command: "mkdir -p outputs; echo $$ > outputs/pid.txt; echo ready; sleep 300",
          },
        }),
      });
      expect(put.statusCode, await put.body.text()).to.equal(201);
      await waitForStored(store, name, "Running");
      await waitForLog(name, "ready"); // the pid is written
      await own.close();
      closed = true;
      const job = storedJob(store, name);
      expect(job?.resource.properties?.status).to.equal("Failed");
      expect(job?.run.error?.message).to.contain("The emulator was stopped while the job ran");
      const pid = Number(await readBlob("azureml", `ExperimentRun/dcid.${name}/outputs/pid.txt`));
      expect(pid).to.be.greaterThan(0);
      expect(processGone(pid)).to.equal(true);
    } finally {
      if (!closed) {
        await own.close();
      }
    }
  });
});

describe("command jobs: MLflow runs through the TrackingService @emulator", function () {
  this.timeout(60_000);

  it("cancels a job still waiting for the MLflow server to start, without waiting for it @emulator", async () => {
    const store = createMemoryStore();
    let releaseServer: () => void = () => undefined;
    const serverStarted = new Promise<void>((resolve) => (releaseServer = resolve));
    const created: string[] = [];
    const tracking: TrackingService = {
      trackingPath: `/mlflow/v1.0${getEmulator().info.workspaceId}`,
      // A server that has not answered /health yet (released when the test ends).
      ready: () => serverStarted,
      async createRun(run) {
        created.push(run.runId);
      },
      endRun: async () => undefined,
      metricHistory: async () => [],
      owns: () => false,
      handle: (_req, res) => res.writeHead(404).end(),
      close: async () => undefined,
    };
    const own = await startOwnPlane({ store, environments: createEnvironmentBuilder(), tracking });
    try {
      const ws = getEmulator().info.workspaceId;
      const name = uniqueName("job");
      const headers = {
        authorization: `Bearer ${mintEmulatorTokens().arm}`,
        "content-type": "application/json",
      };
      const put = await request(`${own.url}${ws}/jobs/${name}?${V}`, {
        method: "PUT",
        headers,
        body: JSON.stringify({
          properties: {
            jobType: "Command",
            environmentId: "azureml://registries/azureml/environments/sklearn-1.5/versions/1",
            command: "echo never",
          },
        }),
      });
      expect(put.statusCode, await put.body.text()).to.equal(201);
      await waitForStored(store, name, "Preparing");
      const cancel = await request(`${own.url}${ws}/jobs/${name}/cancel?${V}`, {
        method: "POST",
        headers,
      });
      await cancel.body.text();
      expect(cancel.statusCode).to.equal(202);
      const job = await waitForStored(store, name, "Canceled");
      expect(job.run.startTimeUtc).to.equal(undefined); // it never ran
      expect(created).to.deep.equal([]);
    } finally {
      releaseServer();
      await own.close();
    }
  });

  it("creates the job's MLflow run before the command, points the job at it, and ends it with the job's outcome @emulator", async () => {
    const store = createMemoryStore();
    const calls: Array<{ call: string; runId: string; detail: unknown; jobStatus: unknown }> = [];
    const statusOf = (runId: string) => storedJob(store, runId)?.resource.properties?.status;
    // Records what the runner asks of MLflow; the real service is emulator/mlflow's.
    const tracking: TrackingService = {
      trackingPath: `/mlflow/v1.0${getEmulator().info.workspaceId}`,
      ready: async () => undefined,
      async createRun(run) {
        calls.push({
          call: "create",
          runId: run.runId,
          detail: run,
          jobStatus: statusOf(run.runId),
        });
      },
      async endRun(runId: string, status: TrackingRunStatus) {
        calls.push({ call: "end", runId, detail: status, jobStatus: statusOf(runId) });
      },
      metricHistory: async () => [],
      owns: () => false,
      handle: (_req, res) => res.writeHead(404).end(),
      close: async () => undefined,
    };
    const own = await startOwnPlane({ store, environments: createEnvironmentBuilder(), tracking });
    try {
      const ws = getEmulator().info.workspaceId;
      const put = async (name: string, command: string) => {
        const r = await request(`${own.url}${ws}/jobs/${name}?${V}`, {
          method: "PUT",
          headers: {
            authorization: `Bearer ${mintEmulatorTokens().arm}`,
            "content-type": "application/json",
          },
          body: JSON.stringify({
            properties: {
              jobType: "Command",
              experimentName: "mlflow-exp",
              displayName: "nice name",
              tags: { team: "ml" },
              environmentId: "azureml://registries/azureml/environments/sklearn-1.5/versions/1",
              command,
            },
          }),
        });
        expect(r.statusCode, await r.body.text()).to.equal(201);
      };
      const ok = uniqueName("job");
      const bad = uniqueName("job");
      await put(
        ok,
        'echo "run=$MLFLOW_RUN_ID exp=$MLFLOW_EXPERIMENT_NAME uri=$MLFLOW_TRACKING_URI"',
      );
      await put(bad, "exit 3");
      await waitForStored(store, ok, "Completed");
      await waitForStored(store, bad, "Failed");

      expect(calls.filter((c) => c.runId === ok)).to.deep.equal([
        {
          call: "create",
          runId: ok,
          detail: {
            runId: ok,
            experimentName: "mlflow-exp",
            runName: "nice name",
            tags: { team: "ml" },
          },
          jobStatus: "Preparing",
        },
        { call: "end", runId: ok, detail: "FINISHED", jobStatus: "Finalizing" },
      ]);
      expect(calls.filter((c) => c.runId === bad).map((c) => c.detail)).to.deep.include("FAILED");
      expect(await stdLog(ok)).to.contain(
        `run=${ok} exp=mlflow-exp uri=${own.url}${tracking.trackingPath}`,
      );
    } finally {
      await own.close();
    }
  });
});
