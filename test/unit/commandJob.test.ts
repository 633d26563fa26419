/**
 * CommandJob without a service: what `check` refuses (naming the property), how the job name
 * follows the spec, what `diff` plans, and the REST body, MLflow and polling helpers.
 */
import { expect } from "chai";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as lifecycle from "../../provider/lifecycle/commandJob";
import {
  attemptName,
  commandJobBody,
  derivedJobName,
  isoDurationSeconds,
  jobLogBlobName,
  jobUpdateBody,
  lastLines,
  mlflowBaseUrl,
  mlflowRunUrl,
  parseBindings,
  pollDelayInMs,
  runRecordOf,
  studioUrlOf,
} from "../../provider/operations/jobs";
import type { CommandJobInputs, CommandJobOutputs } from "../../provider/resources/commandJob";

const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const WS =
  "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws";
const SCOPE = {
  subscriptionId: "00000000-0000-0000-0000-000000000000",
  resourceGroupName: "rg",
  workspaceName: "ws",
};

function job(overrides: Partial<CommandJobInputs> = {}): CommandJobInputs {
  return {
    workspaceId: WS,
    resourceName: "train",
    command: "python train.py --data ${{inputs.data}} --lr ${{inputs.lr}} --out ${{outputs.model}}",
    environment: "azureml:lightgbm:1",
    compute: "cpu-cluster",
    inputs: { data: { type: "uri_file", path: "azureml:iris:1" }, lr: 0.1 },
    outputs: { model: { type: "mlflow_model" } },
    ...overrides,
  };
}

async function checked(inputs: CommandJobInputs) {
  const result = await lifecycle.check({} as CommandJobInputs, inputs);
  return { inputs: result.inputs as CommandJobInputs, failures: result.failures ?? [] };
}

async function failuresOf(inputs: CommandJobInputs) {
  const result = await checked(inputs);
  return result.failures ?? [];
}

describe("CommandJob check", function () {
  it("accepts a complete job and derives its name from the resource name and the spec hash @unit", async () => {
    const result = await checked(job());
    expect(result.failures).to.deep.equal([]);
    expect(result.inputs.specHash).to.match(/^[0-9a-f]{64}$/);
    expect(result.inputs.baseName).to.equal(`train-${result.inputs.specHash!.slice(0, 16)}`);
  });

  it("refuses a binding to an input or output that is not declared, naming [command] @unit", async () => {
    const failures = await failuresOf(
      job({ command: "python train.py --data ${{inputs.dataset}} --out ${{outputs.model}}" }),
    );
    expect(failures).to.have.length(1);
    expect(failures[0].property).to.equal("command");
    expect(failures[0].reason).to.contain('"dataset"').and.to.contain("declared: data, lr");
    const outputFailures = await failuresOf(
      job({
        command: "python train.py ${{inputs.data}} ${{outputs.metrics}}",
        inputs: { data: "x" },
      }),
    );
    expect(outputFailures.map((f) => f.property)).to.deep.equal(["command"]);
    expect(outputFailures[0].reason).to.contain('output "metrics"');
  });

  it("lets an optional [ ... ] segment bind an undeclared input, as Azure ML drops it @unit", async () => {
    const failures = await failuresOf(
      job({ command: "python train.py --data ${{inputs.data}} [--seed ${{inputs.seed}}]" }),
    );
    expect(failures).to.deep.equal([]);
  });

  it("refuses a binding that is neither inputs.x nor outputs.y @unit", async () => {
    const failures = await failuresOf(job({ command: "echo ${{search_space.lr}}" }));
    expect(failures.map((f) => f.property)).to.deep.equal(["command"]);
  });

  it("refuses inputs and outputs that cannot be used, naming each @unit", async () => {
    const failures = await failuresOf(
      job({
        command: "python train.py",
        inputs: {
          local: { type: "uri_folder", path: "./data" },
          kind: { type: "csv" as never, path: "azureml://datastores/d/paths/x" },
          mode: { type: "uri_file", path: "azureml:iris:1", mode: "Mount" as never },
          missing: { type: "uri_file" } as never,
          flag: true as never,
          nested: ["a"] as never,
        },
        outputs: { table: { type: "mltable" as never }, where: { path: "./out" } },
      }),
    );
    const properties = failures.map((f) => f.property);
    expect(properties).to.have.members([
      "inputs.local.path",
      "inputs.kind.type",
      "inputs.mode.mode",
      "inputs.missing.path",
      "inputs.flag",
      "inputs.nested",
      "outputs.table.type",
      "outputs.where.path",
    ]);
    expect(failures.find((f) => f.property === "inputs.local.path")!.reason).to.contain(
      "DataVersion",
    );
    expect(failures.find((f) => f.property === "inputs.flag")!.reason).to.contain(
      "a string or a number",
    );
  });

  it("refuses a malformed time limit, an unknown distribution and a bad identity @unit", async () => {
    const failures = await failuresOf(
      job({
        timeout: "30 minutes",
        distribution: { type: "Horovod" },
        identity: { type: "Password" },
        instanceCount: 0,
      }),
    );
    expect(failures.map((f) => f.property)).to.have.members([
      "timeout",
      "distribution.type",
      "identity.type",
      "instanceCount",
    ]);
    expect(failures.find((f) => f.property === "timeout")!.reason).to.contain("ISO 8601");
  });

  it("accepts the CLI's lowercase distribution types and ISO 8601 limits @unit", async () => {
    const failures = await failuresOf(
      job({ timeout: "P1DT2H30M", distribution: { type: "pytorch", processCountPerInstance: 2 } }),
    );
    expect(failures).to.deep.equal([]);
  });

  it("refuses environments and code that are not references, and poll bounds out of order @unit", async () => {
    const failures = await failuresOf(
      job({
        environment: "lightgbm",
        code: "test/fixtures/does-not-exist",
        minPollIntervalInSeconds: 30,
        maxPollIntervalInSeconds: 5,
      }),
    );
    expect(failures.map((f) => f.property)).to.have.members([
      "environment",
      "code",
      "minPollIntervalInSeconds",
    ]);
  });

  it("accepts curated registry environments, ARM ids and @latest @unit", async () => {
    for (const environment of [
      "azureml://registries/azureml/environments/sklearn-1.5/versions/1",
      "azureml://registries/azureml/environments/sklearn-1.5/labels/latest",
      `${WS}/environments/lightgbm/versions/3`,
      "azureml:lightgbm@latest",
    ]) {
      expect(await failuresOf(job({ environment })), environment).to.deep.equal([]);
    }
  });

  it("runs the usual workspace checks @unit", async () => {
    const failures = await failuresOf(
      job({ workspaceId: undefined, resourceGroupName: "rg", subscriptionId: "s" }),
    );
    expect(failures.map((f) => f.property)).to.deep.equal(["workspaceName"]);
  });

  it("judges nothing it cannot know in preview, and leaves the name unknown @unit", async () => {
    const result = await checked(
      job({
        command: UNKNOWN,
        environment: UNKNOWN,
        inputs: UNKNOWN as never,
        timeout: UNKNOWN,
        distribution: UNKNOWN as never,
      }),
    );
    expect(result.failures).to.deep.equal([]);
    expect(result.inputs.specHash).to.equal(UNKNOWN);
    expect(result.inputs.baseName).to.equal(UNKNOWN);
  });

  it("judges bindings against known keys even when an input's value is unknown @unit", async () => {
    const failures = await failuresOf(
      job({ inputs: { data: { type: "uri_file", path: UNKNOWN }, lr: UNKNOWN } }),
    );
    expect(failures).to.deep.equal([]);
    const missing = await failuresOf(job({ inputs: { data: UNKNOWN as never } }));
    expect(missing.map((f) => f.property)).to.deep.equal(["command"]);
  });

  it("ignores a specHash or baseName the program passes in @unit", async () => {
    const result = await checked({ ...job(), specHash: "forged", baseName: "forged" });
    expect(result.inputs.specHash).not.to.equal("forged");
    expect(result.inputs.baseName).not.to.equal("forged");
  });
});

describe("CommandJob names", function () {
  const nameOf = async (inputs: CommandJobInputs) => (await checked(inputs)).inputs.baseName;

  it("an unchanged spec names the same job; any change to what runs names a new one @unit", async () => {
    const base = await nameOf(job());
    expect(await nameOf(job())).to.equal(base);
    const changes: Partial<CommandJobInputs>[] = [
      {
        command: "python train.py --data ${{inputs.data}} --out ${{outputs.model}}",
        inputs: { data: { type: "uri_file" as const, path: "azureml:iris:1" } },
      },
      { environment: "azureml:lightgbm:2" },
      { compute: "gpu-cluster" },
      { inputs: { data: { type: "uri_file" as const, path: "azureml:iris:2" }, lr: 0.1 } },
      { inputs: { data: { type: "uri_file" as const, path: "azureml:iris:1" }, lr: 0.2 } },
      { environmentVariables: { SEED: "1" } },
      { timeout: "PT1H" },
      { experimentName: "iris" },
    ];
    for (const change of changes) {
      expect(await nameOf(job(change)), JSON.stringify(change)).not.to.equal(base);
    }
  });

  it("tags, description, display name and wait options do not rename the job @unit", async () => {
    const base = await nameOf(job());
    expect(
      await nameOf(
        job({
          tags: { team: "ml" },
          description: "d",
          displayName: "Train",
          waitForCompletion: false,
          waitTimeoutInSeconds: 60,
          failOnJobFailure: false,
          onDelete: "retain",
        }),
      ),
    ).to.equal(base);
  });

  it("local code names the job by its content: an edit renames it, a moved copy does not @unit", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "cj-code-"));
    try {
      const a = path.join(dir, "a");
      cpSync("test/fixtures/code-hash-vectors/src", a, { recursive: true });
      const b = path.join(dir, "b");
      cpSync(a, b, { recursive: true });
      const first = await checked(job({ code: a }));
      expect(first.failures).to.deep.equal([]);
      expect(first.inputs.codeHash).to.equal(
        "5b496995c67ff387bd90539cf16ddc36b941b54cb0ff9518737ddd6d5c27ad39",
      );
      expect(await nameOf(job({ code: b }))).to.equal(first.inputs.baseName);
      writeFileSync(path.join(b, "extra.py"), "print(1)\n");
      expect(await nameOf(job({ code: b }))).not.to.equal(first.inputs.baseName);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps an explicit name, and makes resource names ARM-safe @unit", async () => {
    expect(await nameOf(job({ name: "my-run" }))).to.equal("my-run");
    expect(derivedJobName("iris/train job", "ab".repeat(32))).to.equal(
      `iris-train-job-${"ab".repeat(8)}`,
    );
    expect(derivedJobName("__", "cd".repeat(32))).to.equal(`job-${"cd".repeat(8)}`);
    expect(attemptName("run", 1)).to.equal("run");
    expect(attemptName("run", 3)).to.equal("run-r3");
    expect(attemptName("x".repeat(255), 2)).to.have.length(255);
  });
});

describe("CommandJob diff", function () {
  async function plan(before: CommandJobInputs, after: CommandJobInputs) {
    const olds = (await checked(before)).inputs as CommandJobOutputs;
    olds.name = olds.baseName!;
    const news = (await checked(after)).inputs;
    return lifecycle.diff(
      "id",
      { ...olds, __provider: "old code" } as never,
      {
        ...news,
        __provider: "new code",
      } as never,
    );
  }

  it("a spec change replaces the job, naming what changed @unit", async () => {
    expect(await plan(job(), job({ environment: "azureml:lightgbm:2" }))).to.deep.equal({
      changes: true,
      replaces: ["environment"],
      deleteBeforeReplace: false,
    });
    const inputs = await plan(
      job(),
      job({ inputs: { data: { type: "uri_file", path: "azureml:iris:2" }, lr: 0.1 } }),
    );
    expect(inputs.replaces).to.deep.equal(["inputs"]);
  });

  it("tags, description and display name update in place; so do wait options @unit", async () => {
    for (const change of [
      { tags: { stage: "dev" } },
      { description: "now described" },
      { displayName: "Iris" },
      { waitForCompletion: false },
      { failOnJobFailure: false },
      { onDelete: "retain" as const },
    ]) {
      expect(await plan(job(), job(change)), JSON.stringify(change)).to.deep.equal({
        changes: true,
        replaces: [],
      });
    }
  });

  it("a change only in the provider's code is no change @unit", async () => {
    expect(await plan(job(), job())).to.deep.equal({ changes: false, replaces: [] });
  });

  it("an explicit new name replaces; the same job under a failed-run suffix is no change @unit", async () => {
    expect((await plan(job(), job({ name: "renamed" }))).replaces).to.deep.equal(["name"]);
    const olds = (await checked(job())).inputs as CommandJobOutputs;
    olds.name = attemptName(olds.baseName!, 2);
    const news = (await checked(job())).inputs;
    expect(await lifecycle.diff("id", olds, news)).to.deep.equal({ changes: false, replaces: [] });
  });

  it("an unknown spec in preview plans a replacement @unit", async () => {
    const result = await plan(job(), job({ environment: UNKNOWN }));
    expect(result.replaces).to.deep.equal(["environment"]);
  });
});

describe("CommandJob update", function () {
  it("an update of wait options alone sends nothing and keeps the job's results @unit", async () => {
    const checkedOld = (await checked(job())).inputs;
    const before = {
      ...checkedOld,
      name: checkedOld.baseName,
      jobId: `${WS}/jobs/${checkedOld.baseName}`,
      status: "Completed",
      metrics: { accuracy: 0.96 },
      parameters: { learning_rate: "0.1" },
      outputUris: { model: `azureml://jobs/${checkedOld.baseName}/outputs/model` },
    } as unknown as CommandJobOutputs;
    const news = (await checked(job({ failOnJobFailure: false, onDelete: "delete" }))).inputs;
    // No session is opened: the workspace id names no reachable service.
    const outs = (await lifecycle.update("id", before, news)).outs!;
    expect(outs.failOnJobFailure).to.equal(false);
    expect(outs.onDelete).to.equal("delete");
    expect(outs.status).to.equal("Completed");
    expect(outs.metrics).to.deep.equal({ accuracy: 0.96 });
    expect(outs.outputUris).to.deep.equal(before.outputUris);
    expect(outs.name).to.equal(before.name);
  });
});

describe("CommandJob request bodies and helpers", function () {
  it("builds the Jobs_CreateOrUpdate body with REST names, literals as strings @unit", () => {
    const body = commandJobBody(
      {
        command: "python train.py --lr ${{inputs.lr}}",
        environmentId: `${WS}/environments/e/versions/1`,
        codeId: `${WS}/codes/c/versions/1`,
        computeId: `${WS}/computes/cpu`,
        experimentName: "iris",
        inputs: {
          lr: 0.1,
          name: "iris",
          data: { type: "uri_file", path: "azureml:iris:1", mode: "Download" },
        },
        outputs: { model: { type: "mlflow_model" }, logs: {} },
        environmentVariables: {},
        distribution: { type: "pytorch", processCountPerInstance: 2 },
        instanceCount: 2,
        timeout: "PT30M",
        queueSettings: { jobTier: "Spot" },
        identity: { type: "aml_token" },
        properties: { a: "b" },
      },
      { displayName: "Train", tags: { t: "1" } },
    );
    expect(body).to.deep.equal({
      properties: {
        jobType: "Command",
        displayName: "Train",
        tags: { t: "1" },
        properties: { a: "b" },
        experimentName: "iris",
        computeId: `${WS}/computes/cpu`,
        command: "python train.py --lr ${{inputs.lr}}",
        codeId: `${WS}/codes/c/versions/1`,
        environmentId: `${WS}/environments/e/versions/1`,
        inputs: {
          lr: { jobInputType: "literal", value: "0.1" },
          name: { jobInputType: "literal", value: "iris" },
          data: { jobInputType: "uri_file", uri: "azureml:iris:1", mode: "Download" },
        },
        outputs: {
          model: { jobOutputType: "mlflow_model" },
          logs: { jobOutputType: "uri_folder" },
        },
        distribution: { distributionType: "PyTorch", processCountPerInstance: 2 },
        limits: { jobLimitsType: "Command", timeout: "PT30M" },
        resources: { instanceCount: 2 },
        queueSettings: { jobTier: "Spot" },
        identity: { identityType: "AMLToken" },
      },
    });
  });

  it("re-PUTs a job without its read-only fields to archive it or change its tags @unit", () => {
    const existing = {
      id: `${WS}/jobs/j`,
      name: "j",
      properties: {
        jobType: "Command",
        command: "echo",
        status: "Completed",
        services: { Studio: { endpoint: "https://studio" } },
        parameters: {},
        tags: { old: "1" },
        description: null as unknown as string,
      },
    };
    expect(jobUpdateBody(existing, { isArchived: true })).to.deep.equal({
      properties: { jobType: "Command", command: "echo", tags: { old: "1" }, isArchived: true },
    });
    expect(jobUpdateBody(existing, { tags: { new: "2" }, description: undefined })).to.deep.equal({
      properties: { jobType: "Command", command: "echo", tags: { new: "2" } },
    });
  });

  it("parses bindings, marking optional segments @unit", () => {
    expect(parseBindings("a ${{ inputs.x }} [--y ${{inputs.y}}] ${{outputs.z}}")).to.deep.equal([
      { expression: "inputs.x", kind: "inputs", name: "x", optional: false },
      { expression: "inputs.y", kind: "inputs", name: "y", optional: true },
      { expression: "outputs.z", kind: "outputs", name: "z", optional: false },
    ]);
  });

  it("reads ISO 8601 durations and refuses other text @unit", () => {
    expect(isoDurationSeconds("PT30M")).to.equal(1800);
    expect(isoDurationSeconds("P1DT1H")).to.equal(90000);
    expect(isoDurationSeconds("PT0.5S")).to.equal(0.5);
    for (const bad of ["P", "PT", "30m", "PT1H30", "1800", "P1H"]) {
      expect(isoDurationSeconds(bad), bad).to.equal(undefined);
    }
  });

  it("waits 2 s at first, grows toward 60 s, and lets Retry-After win @unit", () => {
    const bounds = { minInMs: 2000, maxInMs: 60000 };
    expect(pollDelayInMs(0, bounds)).to.equal(2000);
    const waits = [0, 30, 60, 90, 120, 300].map((s) => pollDelayInMs(s * 1000, bounds));
    expect(waits).to.deep.equal([...waits].sort((a, b) => a - b));
    expect(pollDelayInMs(600_000, bounds)).to.equal(60000);
    expect(pollDelayInMs(0, bounds, 15_000)).to.equal(15_000);
    expect(pollDelayInMs(0, bounds, 0)).to.equal(2000);
  });

  it("turns the workspace's azureml:// tracking URI into the https MLflow base @unit", () => {
    const tracking =
      "azureml://eastus.api.azureml.ms/mlflow/v1.0/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws";
    const base = mlflowBaseUrl(tracking);
    expect(base).to.equal(tracking.replace("azureml://", "https://"));
    expect(mlflowRunUrl(base!, "train-1")).to.equal(
      `${base}/api/2.0/mlflow/runs/get?run_id=train-1`,
    );
    expect(mlflowBaseUrl(undefined)).to.equal(undefined);
    expect(mlflowBaseUrl("file:///tmp/mlruns")).to.equal(undefined);
  });

  it("reads the final value of each metric, the parameters and the run's times @unit", () => {
    const record = runRecordOf({
      run: {
        info: { start_time: 1_700_000_000_000, end_time: 1_700_000_042_000 },
        data: {
          metrics: [
            { key: "loss", value: 0.9, step: 0, timestamp: 1 },
            { key: "loss", value: 0.2, step: 9, timestamp: 2 },
            { key: "accuracy", value: 0.96, step: 0, timestamp: 3 },
            { key: "bad", value: Number.NaN, step: 0 },
          ],
          params: [{ key: "learning_rate", value: "0.1" }],
        },
      },
    });
    expect(record).to.deep.equal({
      metrics: { accuracy: 0.96, loss: 0.2 },
      parameters: { learning_rate: "0.1" },
      startTime: "2023-11-14T22:13:20.000Z",
      endTime: "2023-11-14T22:14:02.000Z",
    });
  });

  it("finds the Studio URL the service gives, else builds Studio's own @unit", () => {
    const job = {
      id: "x",
      name: "j",
      properties: {
        services: { Studio: { jobServiceType: "Studio", endpoint: "https://studio/j" } },
      },
    };
    expect(studioUrlOf(job, SCOPE, "j")).to.equal("https://studio/j");
    expect(studioUrlOf(undefined, SCOPE, "j")).to.equal(`https://ml.azure.com/runs/j?wsid=${WS}`);
  });

  it("puts the service's error and the end of the log in a failed job's error @unit", () => {
    expect(jobLogBlobName("j-1")).to.equal("ExperimentRun/dcid.j-1/user_logs/std_log.txt");
    const log = lastLines("one\ntwo\nthree\nValueError: bad input\n\n", 2);
    expect(log).to.deep.equal(["three", "ValueError: bad input"]);
    const message = lifecycle.jobFailureMessage(
      "j-1",
      "Failed",
      "UserError: Execution failed with exit code 1",
      "https://studio/j-1",
      log,
    );
    expect(message).to.contain("CommandJob j-1 ended Failed: UserError: Execution failed");
    expect(message).to.contain("  | ValueError: bad input");
    expect(message).to.contain("https://studio/j-1");
  });
});
