/**
 * CommandJob against the emulator, which really runs jobs (on the machine's python3 in the shared
 * test emulator): what a user sees on `up`, on a failed job and its fix, on an interrupted `up`,
 * on refresh and on destroy, and what reaches the service (from the emulator's request log).
 */
import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import * as os from "node:os";
import * as path from "node:path";
import type { RequestRecord } from "../../emulator/index";
import { armGet } from "../support/arm";
import { getEmulator, uniqueName } from "../support/emulator";
import { checkAndCreate, configuredProvider, workspaceInputs } from "../support/providers";

const folders: string[] = [];
after(() => {
  for (const folder of folders.splice(0)) {
    rmSync(folder, { recursive: true, force: true });
  }
});

/** A code folder holding `files` plus a nonce, so no other test shares its content hash. */
function codeFolder(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "cj-src-"));
  folders.push(dir);
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(path.join(dir, name), text);
  }
  writeFileSync(path.join(dir, "nonce.txt"), `${randomUUID()}\n`);
  return dir;
}

/** An image-only environment version: the test emulator runs it on the machine's python3. */
async function environmentId(): Promise<string> {
  const provider = await configuredProvider("environmentVersion");
  const { outs } = await checkAndCreate(provider, {
    ...workspaceInputs(),
    name: uniqueName("env"),
    image: "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest",
  });
  return (outs as { assetId: string }).assetId;
}

/** Job inputs with test-sized poll bounds (the defaults are 2 s and 60 s). */
async function jobInputs(overrides: Record<string, unknown>) {
  return {
    ...workspaceInputs(),
    resourceName: uniqueName("job"),
    environment: await environmentId(),
    compute: "cpu-cluster",
    minPollIntervalInSeconds: 0.2,
    maxPollIntervalInSeconds: 1,
    ...overrides,
  };
}

function jobRequests(since: number, name?: string): RequestRecord[] {
  return getEmulator()
    .requests.since(since)
    .filter(
      (r) =>
        r.plane === "arm" &&
        /\/jobs\/[^/]+/.test(r.path) &&
        (name === undefined || r.path.includes(`/jobs/${name}`)),
    );
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("Expected the call to fail, but it succeeded.");
}

async function jobOf(name: string): Promise<any> {
  return armGet(`${getEmulator().info.workspaceId}/jobs/${name}`);
}

const TRAIN_PY = `
import argparse, pathlib
parser = argparse.ArgumentParser()
parser.add_argument("--greeting")
parser.add_argument("--model")
args = parser.parse_args()
pathlib.Path(args.model, "model.txt").write_text(args.greeting)
print("trained with", args.greeting)
`;

describe("CommandJob provider @emulator", function () {
  this.timeout(120_000);

  it("runs a local code folder to Completed and hands its model output to a ModelVersion @emulator", async () => {
    const provider = await configuredProvider("commandJob");
    const code = codeFolder({ "train.py": TRAIN_PY });
    const mark = getEmulator().requests.mark();
    const { id, outs, inputs } = await checkAndCreate(
      provider,
      await jobInputs({
        code,
        command: "python train.py --greeting ${{inputs.greeting}} --model ${{outputs.model}}",
        inputs: { greeting: "hello" },
        outputs: { model: { type: "custom_model" } },
        tags: { purpose: "test" },
      }),
    );
    expect(outs.status).to.equal("Completed");
    expect(outs.name).to.equal(inputs.baseName);
    expect(outs.name).to.match(new RegExp(`^${inputs.resourceName}-[0-9a-f]{16}$`));
    expect(id).to.equal(`${getEmulator().info.workspaceId}/jobs/${outs.name}`);
    expect(outs.outputUris).to.deep.equal({ model: `azureml://jobs/${outs.name}/outputs/model` });
    expect(outs.studioUrl).to.contain(`/runs/${outs.name}`);
    // The local folder became a code version exactly as CodeVersion makes one.
    expect(outs.codeId).to.match(
      new RegExp(`/codes/${inputs.resourceName}-code/versions/${inputs.codeHash.slice(0, 16)}$`),
    );
    const code_ = await armGet(outs.codeId);
    expect(code_.properties.properties).to.deep.include({ hash_sha256: inputs.codeHash });
    // GET before PUT: the first request for the job found nothing, then exactly one submission.
    const forJob = jobRequests(mark, outs.name);
    expect(forJob[0]).to.deep.include({ method: "GET", status: 404 });
    expect(forJob.filter((r) => r.method === "PUT")).to.have.length(1);
    const live = await jobOf(outs.name);
    expect(live.properties.tags).to.deep.equal({ purpose: "test" });
    expect(live.properties.inputs.greeting).to.deep.equal({
      jobInputType: "literal",
      value: "hello",
    });

    const model = await checkAndCreate(await configuredProvider("modelVersion"), {
      ...workspaceInputs(),
      name: uniqueName("model"),
      path: outs.outputUris.model,
    });
    expect(model.outs.jobName).to.equal(outs.name);
  });

  it("a second create of the same spec adopts the completed job and submits nothing @emulator", async () => {
    const provider = await configuredProvider("commandJob");
    const inputs = await jobInputs({
      code: codeFolder({ "train.py": "print('once')\n" }),
      command: "python train.py",
    });
    const first = await checkAndCreate(provider, inputs);
    const mark = getEmulator().requests.mark();
    const second = await checkAndCreate(provider, inputs);
    expect(second.id).to.equal(first.id);
    expect(second.outs.status).to.equal("Completed");
    expect(jobRequests(mark).map((r) => r.method)).to.deep.equal(["GET"]);
  });

  it("fails with the service's error and the end of the log; the next up runs the spec again under a new name @emulator", async () => {
    const provider = await configuredProvider("commandJob");
    const marker = path.join(mkdtempSync(path.join(os.tmpdir(), "cj-marker-")), "seen");
    folders.push(path.dirname(marker));
    // Fails the first time it runs, succeeds after (a transient failure: the spec is unchanged).
    const flaky = `
import os, pathlib, sys
marker = pathlib.Path(os.environ["MARKER"])
print("loading the data")
if not marker.exists():
    marker.write_text("seen")
    raise ValueError("column 'species' is missing")
print("trained")
`;
    const inputs = await jobInputs({
      code: codeFolder({ "train.py": flaky }),
      command: "python train.py",
      environmentVariables: { MARKER: marker },
    });
    const checked = (await provider.check({}, inputs)).inputs as any;
    const error = await rejection(provider.create(checked));
    expect(error.message).to.contain(`CommandJob ${checked.baseName} ended Failed`);
    expect(error.message).to.contain("ValueError: column 'species' is missing");
    expect(error.message).to.contain("loading the data");
    expect(error.message).to.contain("End of user_logs/std_log.txt");
    expect((await jobOf(checked.baseName)).properties.status).to.equal("Failed");

    const mark = getEmulator().requests.mark();
    const retried = await provider.create(checked);
    expect(retried.outs!.name).to.equal(`${checked.baseName}-r2`);
    expect(retried.outs!.status).to.equal("Completed");
    expect(jobRequests(mark).filter((r) => r.method === "PUT")).to.have.length(1);
  });

  it("a fixed script is a new spec: its job runs and completes @emulator", async () => {
    const provider = await configuredProvider("commandJob");
    const base = await jobInputs({ command: "python train.py" });
    const broken = await rejection(
      checkAndCreate(provider, { ...base, code: codeFolder({ "train.py": "import nope\n" }) }),
    );
    expect(broken.message).to.contain("ModuleNotFoundError");
    const fixed = await checkAndCreate(provider, {
      ...base,
      code: codeFolder({ "train.py": "print('fixed')\n" }),
    });
    expect(fixed.outs.status).to.equal("Completed");
  });

  it("adopts the job an interrupted up left running, waits for it and submits nothing new @emulator", async () => {
    const provider = await configuredProvider("commandJob");
    const inputs = await jobInputs({
      code: codeFolder({ "train.py": "import time\ntime.sleep(4)\nprint('done')\n" }),
      command: "python train.py",
    });
    const checked = (await provider.check({}, inputs)).inputs as any;
    // The first up stops waiting (as if interrupted); the job keeps running in the service.
    const interrupted = await rejection(provider.create({ ...checked, waitTimeoutInSeconds: 1 }));
    expect(interrupted.message).to.contain("keeps running");
    expect((await jobOf(checked.baseName)).properties.status).not.to.be.oneOf([
      "Completed",
      "Failed",
      "Canceled",
    ]);
    const mark = getEmulator().requests.mark();
    const adopted = await provider.create(checked);
    expect(adopted.outs!.name).to.equal(checked.baseName);
    expect(adopted.outs!.status).to.equal("Completed");
    const requests = jobRequests(mark);
    expect(requests.filter((r) => r.method !== "GET")).to.deep.equal([]);
  });

  it("ends a job that outlives its time limit Failed, and says so @emulator", async () => {
    const provider = await configuredProvider("commandJob");
    const error = await rejection(
      checkAndCreate(
        provider,
        await jobInputs({
          code: codeFolder({ "train.py": "import time\ntime.sleep(60)\n" }),
          command: "python train.py",
          timeout: "PT1S",
        }),
      ),
    );
    expect(error.message).to.contain("ended Failed");
    expect(error.message).to.match(/time limit|timeout|PT1S/i);
  });

  it("records a failed job instead of failing the update when failOnJobFailure is false @emulator", async () => {
    const provider = await configuredProvider("commandJob");
    const { outs } = await checkAndCreate(
      provider,
      await jobInputs({
        code: codeFolder({ "train.py": "import sys\nsys.exit(3)\n" }),
        command: "python train.py",
        failOnJobFailure: false,
      }),
    );
    expect(outs.status).to.equal("Failed");
    expect(outs.error).to.be.a("string").and.not.equal("Failed");
  });

  it("cancels a running job on delete, then archives it; deleting again is harmless @emulator", async () => {
    const provider = await configuredProvider("commandJob");
    const { id, outs } = await checkAndCreate(
      provider,
      await jobInputs({
        code: codeFolder({ "train.py": "import time\ntime.sleep(300)\n" }),
        command: "python train.py",
        waitForCompletion: false,
      }),
    );
    expect(outs.status).to.be.oneOf(["NotStarted", "Queued", "Preparing", "Running"]);
    const mark = getEmulator().requests.mark();
    await provider.delete(id, outs);
    const live = await jobOf(outs.name);
    expect(live.properties.status).to.equal("Canceled");
    expect(live.properties.isArchived).to.equal(true);
    expect(
      jobRequests(mark).some((r) => r.method === "POST" && r.path.endsWith("/cancel")),
    ).to.equal(true);
    const again = getEmulator().requests.mark();
    await provider.delete(id, outs);
    expect(jobRequests(again).filter((r) => r.method !== "GET")).to.deep.equal([]);
  });

  it("refresh shows a job canceled after the update, and tags update in place @emulator", async () => {
    const provider = await configuredProvider("commandJob");
    const inputs = await jobInputs({
      code: codeFolder({ "train.py": "import time\ntime.sleep(300)\n" }),
      command: "python train.py",
      waitForCompletion: false,
      onDelete: "retain",
    });
    const { id, outs } = await checkAndCreate(provider, inputs);
    const retagged = (await provider.check(outs, { ...inputs, tags: { stage: "dev" } }))
      .inputs as any;
    expect(await provider.diff(id, outs, retagged)).to.deep.equal({
      changes: true,
      replaces: [],
    });
    const updated = (await provider.update(id, outs, retagged)).outs!;
    expect(updated.name).to.equal(outs.name);
    expect((await jobOf(outs.name)).properties.tags).to.deep.equal({ stage: "dev" });

    // Someone cancels the job in Studio (the delete with onDelete "retain" only cancels it).
    await provider.delete(id, updated);
    const refreshed = await provider.read(id, updated);
    expect(refreshed.props!.status).to.equal("Canceled");
    expect(refreshed.props!.error).to.be.a("string");
    expect(refreshed.props!.tags).to.deep.equal({ stage: "dev" });
  });

  it("refuses bad input at check time, naming the property, with zero requests @emulator", async () => {
    const provider = await configuredProvider("commandJob");
    const environment = await environmentId();
    const mark = getEmulator().requests.mark();
    const result = await provider.check(
      {},
      {
        ...workspaceInputs(),
        resourceName: "bad",
        environment,
        command: "python train.py --data ${{inputs.data}} --out ${{outputs.model}}",
        inputs: { data: { type: "uri_file", path: "data/iris.csv" }, flag: true },
        timeout: "1 hour",
        distribution: { type: "Horovod" },
      },
    );
    expect(result.failures!.map((f) => f.property)).to.have.members([
      "inputs.data.path",
      "inputs.flag",
      "command",
      "timeout",
      "distribution.type",
    ]);
    expect(getEmulator().requests.since(mark)).to.deep.equal([]);
  });
});
