// The seed documents' own REST calls (test/fixtures/seed-rest/calls.txt), replayed in the
// documents' order as curl sends them: bash builds each command as printed (shell-built bodies,
// trailing commas, `$(cat env.yml)` inside a JSON string) and the real curl sends it; only the host
// (management.azure.com -> the emulator) and the token change. Each response is checked for what
// the document says a user sees, or, where the emulator does not serve a type, for its documented
// 501 (emulator/DIFFERENCES.md).
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { expect } from "chai";
import { Agent, request } from "undici";
import { packageFile } from "../../emulator/envs/python";
import { getEmulator } from "../support/emulator";

const FIXTURE_DIR = packageFile("test", "fixtures", "seed-rest");

/** One call of the fixture. */
export interface SeedCall {
  readonly id: string;
  readonly documents: string;
  readonly section: string;
  readonly source: string;
  readonly kind: "curl" | "az" | "shell";
  /** `VAR = .value[0].name` (a jq path into the response) or `VAR = $shellVariable`. */
  readonly derive: ReadonlyArray<{ name: string; from: string }>;
  /** The shell text, byte for byte. */
  readonly shell: string;
}

/** Parses calls.txt (format in its header). */
export function parseSeedCalls(text: string): SeedCall[] {
  const calls: SeedCall[] = [];
  for (const block of text.split(/^=== /m).slice(1)) {
    const [head, ...rest] = block.split(/^---\n/m);
    const lines = head.split("\n");
    const fields = new Map<string, string>();
    const derive: Array<{ name: string; from: string }> = [];
    for (const line of lines.slice(1)) {
      const match = /^(\w+): (.*)$/.exec(line);
      if (match === null) {
        continue;
      }
      if (match[1] === "derive") {
        const [name, from] = match[2].split(" = ");
        derive.push({ name, from });
      } else {
        fields.set(match[1], match[2]);
      }
    }
    calls.push({
      id: lines[0].trim(),
      documents: fields.get("documents") ?? "",
      section: fields.get("section") ?? "",
      source: fields.get("source") ?? "",
      kind: (fields.get("kind") ?? "curl") as SeedCall["kind"],
      derive,
      // The block ends with the blank line that separates entries.
      shell: rest.join("---\n").replace(/\n+$/, ""),
    });
  }
  return calls;
}

/** `.value[0].properties.contents.accountName` on a parsed body (what `jq -r` prints). */
export function jqPath(body: unknown, jq: string): unknown {
  let value: unknown = body;
  for (const [, key, index] of jq.matchAll(/\.(\w+)|\[(\d+)\]/g)) {
    if (value === null || typeof value !== "object") {
      return undefined;
    }
    value = key !== undefined ? (value as any)[key] : (value as any)[Number(index)];
  }
  return value;
}

/** Names a shell text assigns at the start of a line (`X=...`, `export X=...`). */
export function assignedNames(shell: string): string[] {
  return [...shell.matchAll(/^(?:export )?([A-Za-z_]\w*)=/gm)].map((m) => m[1]);
}

interface Reply {
  status: number;
  text: string;
  body: any;
}

const calls = parseSeedCalls(readFileSync(path.join(FIXTURE_DIR, "calls.txt"), "utf8"));
const byId = new Map(calls.map((c) => [c.id, c]));
const call = (id: string): SeedCall => {
  const found = byId.get(id);
  if (found === undefined) {
    throw new Error(`calls.txt has no entry ${id}`);
  }
  return found;
};

describe("seed document REST calls, parsed @unit", () => {
  it("reads one entry per call of the seed documents, each naming its document and source", () => {
    expect(calls.map((c) => c.id)).to.include.members([
      "train.computes",
      "train.create_environment",
      "train.datastores",
      "train.create_data",
      "train.create_code",
      "train.create_job",
      "train.create_a_sweep_job",
      "batch.create_compute",
      "batch.get_storage_details",
      "batch.create_code",
      "batch.create_model",
      "batch.create_environment",
      "batch.create_endpoint",
      "batch.create_deployment",
      "batch.set_endpoint_defaults",
      "batch.get_endpoint",
      "batch.score_endpoint_with_data_in_cloud",
      "batch.check_job",
      "batch.create_dataset",
      "batch.score_endpoint_with_dataset",
      "batch.delete_endpoint",
    ]);
    for (const c of calls) {
      expect(c.documents, c.id).to.match(/\d{3}_[0-9a-f]{16}\.txt/);
      expect(c.source, c.id).to.not.equal("");
      expect(c.shell, c.id).to.not.equal("");
    }
    // Bodies stay as printed: the shell escapes, the trailing comma and the raw `$CONDA_FILE`.
    expect(call("batch.create_compute").shell).to.contain('        },\n    },\n    \\"location');
    expect(call("train.create_environment").shell).to.contain('\\"condaFile\\": \\"$CONDA_FILE\\"');
    expect(jqPath({ value: [{ properties: { a: "x" } }] }, ".value[0].properties.a")).to.equal("x");
    expect(assignedNames("A=1\nexport B=`echo 2`\ncurl x")).to.deep.equal(["A", "B"]);
  });
});

describe("the seed documents' REST calls, replayed with curl against the emulator @emulator", function () {
  this.timeout(120_000);
  const vars: Record<string, string> = {};
  const started: string[] = [];
  let work: string;
  let agent: Agent;

  const hasCurl = spawnSync("curl", ["--version"]).status === 0;

  before(function () {
    if (!hasCurl) {
      throw new Error("this test replays the documents with the real curl; install curl");
    }
    const { info } = getEmulator();
    agent = new Agent({ connect: { ca: readFileSync(info.caCertPath) } });
    work = mkdtempSync(path.join(os.tmpdir(), "seed-replay-"));
    Object.assign(vars, {
      SUBSCRIPTION_ID: info.subscriptionId,
      RESOURCE_GROUP: info.resourceGroupName,
      WORKSPACE: info.workspaceName,
      LOCATION: info.location,
    });
  });

  after(async () => {
    // Not part of the documents: stop what the replay started, so the shared emulator stays quiet.
    for (const name of started) {
      await arm("POST", `${getEmulator().info.workspaceId}/jobs/${name}/cancel`, "2024-04-01");
    }
    agent?.destroy();
    if (work !== undefined) {
      rmSync(work, { recursive: true, force: true });
    }
  });

  async function arm(method: string, pathAndQuery: string, apiVersion: string): Promise<Reply> {
    const { info } = getEmulator();
    const url = `${info.armEndpoint}${pathAndQuery}${pathAndQuery.includes("?") ? "&" : "?"}api-version=${apiVersion}`;
    const response = await request(url, {
      method: method as "GET",
      headers: { authorization: `Bearer ${vars.TOKEN ?? info.token}` },
      dispatcher: agent,
    });
    const text = await response.body.text();
    return { status: response.statusCode, text, body: text === "" ? undefined : JSON.parse(text) };
  }

  /** What `az account get-access-token [--resource R]` gives, from the emulator's identity endpoint. */
  async function token(resource: string): Promise<string> {
    const { info } = getEmulator();
    const url = `${info.identityEndpoint}?api-version=2019-08-01&resource=${encodeURIComponent(resource)}`;
    const response = await request(url, { headers: { "x-identity-header": info.identityHeader } });
    const body = (await response.body.json()) as { access_token: string };
    expect(response.statusCode).to.equal(200);
    return body.access_token;
  }

  /** Runs one entry with bash (the real curl inside), then applies its derives. */
  async function run(id: string): Promise<Reply> {
    const entry = call(id);
    const { info } = getEmulator();
    const out = path.join(work, "body");
    const code = path.join(work, "code");
    rmSync(out, { force: true });
    rmSync(code, { force: true });
    const names = assignedNames(entry.shell);
    const script = [
      // curl as printed, plus where to find the emulator's CA and where to leave the answer.
      `curl() { command curl --cacert "$SEED_CA" --silent --show-error --output "$SEED_OUT" --write-out '%{http_code}' "$@" > "$SEED_CODE"; }`,
      entry.shell.replaceAll("https://management.azure.com", info.armEndpoint),
      ...names.map((n) => `printf '%s\\0%s\\0' ${n} "$${n}"`),
    ].join("\n");
    // Asynchronously: the emulator answers from this process.
    const stdout = await new Promise<string>((resolve, reject) => {
      const child = execFile(
        "bash",
        ["--norc", "--noprofile", "-c", script],
        {
          cwd: FIXTURE_DIR,
          env: {
            PATH: process.env.PATH,
            ...vars,
            SEED_CA: info.caCertPath,
            SEED_OUT: out,
            SEED_CODE: code,
          },
          encoding: "utf8",
        },
        (error, output, stderr) =>
          error === null ? resolve(output) : reject(new Error(`${id}: ${error.message} ${stderr}`)),
      );
      child.stdin?.end();
    });
    const parts = stdout.split("\0");
    for (let i = 0; i + 1 < parts.length; i += 2) {
      vars[parts[i]] = parts[i + 1];
    }
    let reply: Reply = { status: 0, text: "", body: undefined };
    if (entry.kind === "curl") {
      const text = readFileSync(out, "utf8");
      reply = {
        status: Number(readFileSync(code, "utf8")),
        text,
        body: text === "" ? undefined : JSON.parse(text),
      };
    }
    for (const { name, from } of entry.derive) {
      const value = from.startsWith("$") ? vars[from.slice(1)] : jqPath(reply.body, from);
      expect(value, `${id}: ${name} from ${from} in ${reply.text}`)
        .to.be.a("string")
        .and.not.equal("");
      vars[name] = String(value);
    }
    return reply;
  }

  /** `az storage account keys list`: the account's group from the subscription's list, then listKeys. */
  async function storageKey(account: string): Promise<string> {
    const list = await arm(
      "GET",
      `/subscriptions/${vars.SUBSCRIPTION_ID}/providers/Microsoft.Storage/storageAccounts`,
      "2021-06-01",
    );
    expect(list.status, list.text).to.equal(200);
    const found = (list.body.value as Array<{ id: string; name: string }>).find(
      (a) => a.name === account,
    );
    expect(found, `${account} in ${list.text}`).to.not.equal(undefined);
    const keys = await arm("POST", `${found?.id}/listKeys`, "2021-06-01");
    expect(keys.status, keys.text).to.equal(200);
    return keys.body.keys[0].value;
  }

  /** `az storage blob upload-batch -d <container>/<prefix> -s <folder>`. */
  async function uploadBatch(destination: string, folder: string): Promise<string[]> {
    const { info } = getEmulator();
    const key = await storageKey(vars.AZURE_STORAGE_ACCOUNT);
    const service = new BlobServiceClient(
      info.blobEndpoint,
      new StorageSharedKeyCredential(vars.AZURE_STORAGE_ACCOUNT, key),
    );
    const [container, ...prefix] = destination.split("/");
    const names: string[] = [];
    for (const file of readdirSync(path.join(FIXTURE_DIR, folder))) {
      const name = [...prefix, file].join("/");
      await service
        .getContainerClient(container)
        .getBlockBlobClient(name)
        .uploadFile(path.join(FIXTURE_DIR, folder, file));
      names.push(name);
    }
    return names;
  }

  /**
   * The script's wait_for_completion between the printed snippets (its operation URL comes from a
   * jq path that no version answers, so it stands in as what a user does: the document's own
   * get_endpoint call until the endpoint has Succeeded).
   */
  async function waitForEndpoint(): Promise<void> {
    for (let i = 0; i < 30; i += 1) {
      const r = await run("batch.get_endpoint");
      if (r.body?.properties?.provisioningState === "Succeeded") {
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`batch endpoint ${vars.ENDPOINT_NAME} did not reach Succeeded`);
  }

  const created = (r: Reply, id: string) =>
    expect(r.status, `${id}: ${r.text}`).to.be.oneOf([200, 201]);

  it("trains as the REST training documents (000, 001, 004) do, at api-version 2021-03-01-preview", async () => {
    vars.API_VERSION = "2021-03-01-preview";
    vars.COMPUTE_NAME = "cpu-cluster";
    vars.TOKEN = await token("https://management.azure.com");

    const computes = await run("train.computes");
    expect(computes.status, computes.text).to.equal(200);
    // The documents use an existing cluster named cpu-cluster.
    expect(computes.body.value.map((c: { name: string }) => c.name)).to.include("cpu-cluster");

    const environment = await run("train.create_environment");
    created(environment, "train.create_environment");
    expect(environment.body.properties.condaFile).to.equal(
      readFileSync(
        path.join(FIXTURE_DIR, "jobs/train/lightgbm/iris/environment.yml"),
        "utf8",
      ).replace(/\n+$/, ""),
    );
    expect(environment.body.properties.docker).to.deep.equal({
      dockerSpecificationType: "Image",
      dockerImageUri: "mcr.microsoft.com/azureml/openmpi3.1.2-ubuntu18.04",
    });

    const datastores = await run("train.datastores");
    expect(datastores.status, datastores.text).to.equal(200);
    expect(datastores.body.value[0].properties.contents.contentsType).to.equal("AzureBlob");
    expect(datastores.body.value[0].properties.isDefault).to.equal(true);

    vars.AZURE_STORAGE_KEY = await storageKey(vars.AZURE_STORAGE_ACCOUNT);
    expect(vars.AZURE_STORAGE_KEY).to.not.equal("");

    const data = await run("train.create_data");
    created(data, "train.create_data");
    expect(data.body.properties).to.include({
      datasetType: "Simple",
      path: "https://azuremlexamples.blob.core.windows.net/datasets/iris.csv",
    });

    expect(
      await uploadBatch(`${vars.AZUREML_DEFAULT_CONTAINER}/src`, "jobs/train/lightgbm/iris/src"),
    ).to.deep.equal(["src/main.py"]);

    const code = await run("train.create_code");
    created(code, "train.create_code");
    expect(code.body.properties).to.include({
      datastoreId: `${getEmulator().info.workspaceId}/datastores/${vars.AZUREML_DEFAULT_DATASTORE}`,
      path: "src",
    });

    const job = await run("train.create_job");
    created(job, "train.create_job");
    started.push(vars.COMMAND_JOB);
    expect(job.body.name).to.equal(vars.COMMAND_JOB);
    expect(job.body.properties.status).to.be.a("string");
    // The script's wait_for_completion reads `.properties.status` at the same api-version.
    const polled = await arm(
      "GET",
      `${getEmulator().info.workspaceId}/jobs/${vars.COMMAND_JOB}`,
      vars.API_VERSION,
    );
    expect(polled.status, polled.text).to.equal(200);
    expect(polled.body.properties).to.include({
      jobType: "Command",
      command: "python main.py --iris-csv $AZURE_ML_INPUT_iris",
      experimentName: "lightgbm-iris",
    });
    expect(polled.body.properties.compute).to.deep.include({ instanceCount: 1 });
    expect(polled.body.properties.compute.target).to.match(/\/computes\/cpu-cluster$/);
    expect(polled.body.properties.inputDataBindings.iris.dataId).to.match(
      new RegExp(`/data/iris-data/versions/${vars.DATA_VERSION}$`),
    );
    expect(polled.body.properties.status).to.be.oneOf([
      "NotStarted",
      "Starting",
      "Provisioning",
      "Preparing",
      "Queued",
      "Running",
      "Finalizing",
      "Completed",
      "Failed",
    ]);

    const sweep = await run("train.create_a_sweep_job");
    created(sweep, "train.create_a_sweep_job");
    started.push(vars.SWEEP_JOB);
    expect(sweep.body.properties).to.include({
      jobType: "Sweep",
      algorithm: "Random",
      maxTotalTrials: 20,
      maxConcurrentTrials: 10,
      timeout: "PT120M",
    });
    expect(sweep.body.properties.searchSpace).to.deep.equal({
      "--learning_rate": ["uniform", [0.01, 0.9]],
      "--boosting": ["choice", [["gbdt", "dart"]]],
    });
    expect(sweep.body.properties.trial.command).to.equal(
      "python main.py --iris-csv $AZURE_ML_INPUT_iris",
    );
    expect(sweep.body.properties.objective.primaryMetric).to.equal("test-multi_logloss");
  });

  it("deploys and invokes a batch endpoint as the batch REST document (002) does, at its api-version 2021-10-01", async () => {
    await run("batch.set_endpoint_name");
    expect(vars.ENDPOINT_NAME).to.match(/^endpt-\d+$/);
    vars.TOKEN = await token("https://management.azure.com");
    vars.API_VERSION = "2021-10-01";

    const compute = await run("batch.create_compute");
    created(compute, "batch.create_compute");
    expect(compute.body.properties.computeType).to.equal("AmlCompute");

    const storage = await run("batch.get_storage_details");
    expect(storage.status, storage.text).to.equal(200);
    await run("batch.blob_uri_root");
    expect(vars.BLOB_URI_ROOT).to.equal(
      `https://${vars.AZURE_STORAGE_ACCOUNT}.blob.core.windows.net/${vars.AZUREML_DEFAULT_CONTAINER}`,
    );

    expect(
      await uploadBatch(`${vars.AZUREML_DEFAULT_CONTAINER}/score`, "endpoints/batch/mnist/code"),
    ).to.deep.equal(["score/digit_identification.py"]);
    const code = await run("batch.create_code");
    created(code, "batch.create_code");
    expect(code.body.properties.codeUri).to.equal(`${vars.BLOB_URI_ROOT}/score`);

    await uploadBatch(`${vars.AZUREML_DEFAULT_CONTAINER}/model`, "endpoints/batch/mnist/model");
    const model = await run("batch.create_model");
    created(model, "batch.create_model");

    const environment = await run("batch.create_environment");
    created(environment, "batch.create_environment");
    // The escaped conda JSON, joined onto one line by the unquoted $(echo ...).
    const conda = JSON.parse(environment.body.properties.condaFile);
    expect(conda.name).to.equal("mnist-env");
    expect(environment.body.properties.image).to.equal(
      "mcr.microsoft.com/azureml/openmpi3.1.2-ubuntu18.04:latest",
    );

    const endpoint = await run("batch.create_endpoint");
    created(endpoint, "batch.create_endpoint");
    expect(String(endpoint.body.properties.authMode).toLowerCase()).to.equal("aadtoken");
    await waitForEndpoint();

    const deployment = await run("batch.create_deployment");
    created(deployment, "batch.create_deployment");
    expect(deployment.body.properties).to.include({
      maxConcurrencyPerInstance: 4,
      errorThreshold: 10,
      miniBatchSize: 5,
    });

    const defaults = await run("batch.set_endpoint_defaults");
    created(defaults, "batch.set_endpoint_defaults");
    expect(defaults.body.properties.defaults).to.deep.equal({ deploymentName: "nonmlflowedp" });
    await waitForEndpoint();

    const got = await run("batch.get_endpoint");
    expect(got.status, got.text).to.equal(200);
    expect(vars.SCORING_URI).to.match(/^https:\/\//);

    vars.SCORING_TOKEN = await token("https://ml.azure.com");
    const scored = await run("batch.score_endpoint_with_data_in_cloud");
    expect(scored.status, scored.text).to.be.oneOf([200, 201, 202]);
    started.push(String(vars.JOB_ID).split("/").pop() as string);

    const checked = await run("batch.check_job");
    expect(checked.status, checked.text).to.equal(200);
    expect(checked.body.properties.status).to.be.a("string").and.not.equal("");

    // `datasets` is a type of the 2021 API the emulator does not serve: 501 naming it.
    const dataset = await run("batch.create_dataset");
    expect(dataset.status, dataset.text).to.equal(501);
    expect(dataset.body.error.code).to.equal("NotImplemented");
    expect(dataset.body.error.message).to.contain("workspaces/datasets/versions");

    await run("batch.unique_output");
    // So the scoring call that names that dataset finds no data version by that name.
    const byDataset = await run("batch.score_endpoint_with_dataset");
    expect(byDataset.status, byDataset.text).to.be.oneOf([400, 404]);
    expect(byDataset.text).to.contain("mnist");

    const deleted = await run("batch.delete_endpoint");
    expect(deleted.status, deleted.text).to.be.oneOf([200, 202, 204]);
  });
});
