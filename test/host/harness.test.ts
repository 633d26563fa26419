/**
 * The test harness itself: the gRPC driver against Pulumi's real dynamic-provider host, the
 * in-process program runner, and the example runner's pure parts, exercised with the echo fixture
 * (and, at the end, with a real resource of the package against the emulator).
 */
import { expect } from "chai";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { EnvironmentVersion } from "../../index";
import { formatPlan, formatSummary, parseRunnerArgs, resolveExample } from "../../examples/runner";
import { Echo } from "../fixtures/echo-provider/index";
import { emulatorConfig, getEmulator, uniqueName } from "../support/emulator";
import { resourceUrn, startHost, type HostRpcError, type ProviderHost } from "../support/host";
import { captureProviderText, loadLikeHost, UNKNOWN, viaStruct } from "../support/loadLikeHost";
import { namespacedConfig, stackConfigEnv } from "../support/mockConfig";
import {
  asEngineSends,
  changedOperations,
  checkFailureMessage,
  createProgramRunner,
  deletionOrder,
  isDeploymentError,
  settle,
  UNKNOWN_OUTPUT,
  type Operation,
  type ProgramRunner,
} from "../support/programRunner";
import { createUserProject, findRepoRoot, type UserProject } from "../support/userProject";

const ECHO_TYPE = "pulumi-nodejs:dynamic/harness:Echo";
const urnOf = (name: string) => resourceUrn(name, { type: ECHO_TYPE, project: "harness" });

async function rejection(promise: Promise<unknown>): Promise<HostRpcError> {
  try {
    await promise;
  } catch (error) {
    return error as HostRpcError;
  }
  throw new Error("expected the call to fail");
}

/** Provider calls the fixture made in this process, in order (it pushes to this global hook). */
function providerEvents(): string[] {
  const holder = globalThis as { __echoProviderEvents?: string[] };
  holder.__echoProviderEvents ??= [];
  return holder.__echoProviderEvents;
}

const summary = (ops: readonly Operation[]) => ops.map((o) => `${o.op} ${o.name}`);

describe("harness: Pulumi's dynamic-provider host over gRPC", function () {
  this.timeout(60_000);
  let project: UserProject;
  let host: ProviderHost;
  let providerText: string;

  before(async () => {
    project = await createUserProject({ name: "harness" });
    providerText = await captureProviderText(
      () => new Echo("e1", { message: "hi", key: "k1" }),
      "e1",
    );
    host = await startHost(project.dir, { ECHO_PROVIDER_LOG: "1" });
  });

  after(async () => {
    await host?.stop();
    await project?.cleanup();
  });

  const echo = (props: Record<string, unknown>) => ({ __provider: providerText, ...props });

  it("reports the @pulumi/pulumi version it runs, 3.270.0 @host", async () => {
    expect(await host.getPluginInfo()).to.deep.equal({ version: "3.270.0" });
  });

  it("answers Configure without accepting secrets, previews or resources @host", async () => {
    const answer = await host.configure({ "harness:greeting": "hello from stack config" });
    expect(answer).to.deep.equal({
      acceptSecrets: false,
      supportsPreview: false,
      acceptResources: false,
    });
  });

  it("returns a check failure naming the invalid property and the reason @host", async () => {
    const { failures } = await host.check(
      urnOf("bad"),
      {},
      echo({ message: "m", key: "Not Valid!" }),
    );
    expect(failures).to.deep.equal([
      { property: "key", reason: "use 1-40 lower-case letters, digits or dashes" },
    ]);
  });

  it("creates in the host process with the stack config and stores __provider in the outputs @host", async () => {
    const { inputs } = await host.check(urnOf("c1"), {}, echo({ message: "hi", key: "c1" }));
    const { id, outs } = await host.create(urnOf("c1"), inputs);
    expect(id).to.match(/^echo-[0-9a-f-]{36}$/);
    expect(outs).to.include({
      message: "hi",
      key: "c1",
      revision: 1,
      length: 2,
      hostPid: host.pid,
    });
    expect(outs.hostPid).to.not.equal(process.pid);
    expect(outs.greeting).to.equal("hello from stack config");
    expect(outs.__provider).to.equal(providerText);
  });

  it("diffs to none, some, or a replacement that can delete first @host", async () => {
    const { id, outs } = await host.create(urnOf("d1"), echo({ message: "hi", key: "d1" }));
    const unchanged = await host.diff(urnOf("d1"), id, outs, echo({ message: "hi", key: "d1" }));
    expect(unchanged).to.deep.equal({
      changes: "none",
      replaces: [],
      deleteBeforeReplace: false,
      stables: [],
    });
    const edited = await host.diff(urnOf("d1"), id, outs, echo({ message: "bye", key: "d1" }));
    expect(edited).to.include({ changes: "some", deleteBeforeReplace: false });
    expect(edited.replaces).to.deep.equal([]);
    const rekeyed = await host.diff(
      urnOf("d1"),
      id,
      outs,
      echo({ message: "hi", key: "d2", deleteBeforeReplace: true }),
    );
    expect(rekeyed).to.deep.include({
      changes: "some",
      replaces: ["key"],
      deleteBeforeReplace: true,
    });
  });

  it("updates from the old outputs, reads back props and inputs, and deletes @host", async () => {
    const created = await host.create(urnOf("u1"), echo({ message: "one", key: "u1" }));
    const updated = await host.update(
      urnOf("u1"),
      created.id,
      created.outs,
      echo({ message: "three", key: "u1" }),
    );
    expect(updated).to.include({ message: "three", revision: 2, length: 5 });
    expect(updated.__provider).to.equal(providerText);
    const read = await host.read(urnOf("u1"), created.id, updated);
    expect(read.id).to.equal(created.id);
    expect(read.props).to.include({ message: "three", revision: 2 });
    expect(read.inputs).to.deep.equal({ message: "three", key: "u1", __provider: providerText });
    await host.delete(urnOf("u1"), created.id, updated);
    // The host's stdout arrives on its own schedule; the RPC may answer before the line does.
    expect(await waitForLog(host, `echo delete ${created.id} key=u1`)).to.equal(true);
  });

  it("surfaces a failing create as gRPC UNKNOWN carrying the provider's message @host", async () => {
    const error = await rejection(
      host.create(urnOf("f1"), echo({ message: "m", key: "f1", failWith: "boom: quota exceeded" })),
    );
    expect(error.code).to.equal(2);
    expect(error.details).to.equal("boom: quota exceeded");
  });

  it("passes the unknown sentinel to check and diff as during a preview @host", async () => {
    const checked = await host.check(urnOf("p1"), {}, echo({ message: "m", key: UNKNOWN }));
    expect(checked.failures).to.deep.equal([]);
    expect(await waitForLog(host, `echo check key=${UNKNOWN} message=m`)).to.equal(true);
    const { id, outs } = await host.create(urnOf("p1"), echo({ message: "m", key: "p1" }));
    const diff = await host.diff(urnOf("p1"), id, outs, echo({ message: UNKNOWN, key: "p1" }));
    expect(diff.changes).to.equal("some");
    expect(await waitForLog(host, `echo diff key=p1 message=${UNKNOWN}`)).to.equal(true);
    // An unknown provider text falls back to the one stored in the old outputs.
    const fallback = await host.diff(urnOf("p1"), id, outs, {
      message: "m",
      key: "p1",
      __provider: UNKNOWN,
    });
    expect(fallback.changes).to.equal("none");
  });

  it("fails with 'Unexpected struct type.' when a provider returns an undefined output @host", async () => {
    const error = await rejection(
      host.create(urnOf("x1"), echo({ message: "m", key: "x1", emitUndefined: true })),
    );
    expect(error.details).to.equal("Unexpected struct type.");
  });

  it("resolves pulumi-azureml/… from the project directory and not from a directory without it @host", async () => {
    const probe = echo({ message: "m", key: "r1", probe: "pulumi-azureml/package.json" });
    const fromProject = await host.create(urnOf("r1"), probe);
    expect(fromProject.outs.probeResult).to.equal("pulumi-azureml");

    const empty = await fs.mkdtemp(path.join(os.tmpdir(), "harness-empty-"));
    const bare = await startHost(empty, {}, { project: "harness" });
    try {
      // The provider itself loads anywhere (it imports node:crypto only); configure ran first.
      expect((await bare.check(urnOf("r1"), {}, probe)).failures).to.deep.equal([]);
      const error = await rejection(bare.create(urnOf("r1"), probe));
      expect(error.details).to.contain("Cannot find package 'pulumi-azureml' imported from");
    } finally {
      await bare.stop();
      await fs.rm(empty, { recursive: true, force: true });
    }
  });
});

describe("harness: loading providers in-process like the host", function () {
  this.timeout(60_000);

  it("configures a loaded provider with namespaced stack config and round-trips through Struct @host", async () => {
    const text = await captureProviderText(
      () => new Echo("l1", { message: "hi", key: "l1" }),
      "l1",
    );
    const provider = await loadLikeHost(
      text,
      namespacedConfig({ greeting: "hey" }, "proj"),
      "proj",
    );
    const created = await provider.create({ message: "hi", key: "l1" });
    expect(viaStruct(created.outs)).to.include({ greeting: "hey", hostPid: process.pid });
    expect(() => viaStruct({ missing: undefined })).to.throw("Unexpected struct type.");
  });
});

describe("harness: whole programs through the program runner", function () {
  this.timeout(60_000);
  let project: UserProject;
  let runner: ProgramRunner;

  const pair =
    (message: string, secondKey = "second", extra: Record<string, unknown> = {}) =>
    async () => {
      const group = new pulumi.ComponentResource("harness:test:Pair", "pair", {});
      const first = new Echo("first", { message, key: "first" }, { parent: group });
      const second = new Echo(
        "second",
        { message: pulumi.interpolate`first is ${first.length} long`, key: secondKey, ...extra },
        { parent: group },
      );
      return { firstLength: first.length, second: second.message, greeting: second.greeting };
    };

  before(async () => {
    project = await createUserProject({ name: "harness" });
    runner = createProgramRunner({
      project: "harness",
      stack: "dev",
      config: { greeting: "hello" },
      hostDir: project.dir,
    });
  });

  beforeEach(() => {
    providerEvents().length = 0;
  });

  after(async () => {
    await project?.cleanup();
  });

  it("preview plans every create without calling create and leaves computed outputs unknown @host", async () => {
    const outputs = await runner.preview(pair("hi"));
    expect(summary(runner.operations)).to.deep.equal([
      "create pair",
      "create first",
      "create second",
    ]);
    expect(outputs).to.deep.equal({
      firstLength: UNKNOWN_OUTPUT,
      second: UNKNOWN_OUTPUT,
      greeting: UNKNOWN_OUTPUT,
    });
    expect(providerEvents().filter((e) => e.startsWith("create"))).to.deep.equal([]);
    expect(providerEvents()).to.include(`check key=second message=${UNKNOWN}`);
    expect(runner.state.size).to.equal(0);
  });

  it("up creates through the real providers and returns the stack outputs @host", async () => {
    const outputs = await runner.up(pair("hi"));
    expect(summary(runner.operations)).to.deep.equal([
      "create pair",
      "create first",
      "create second",
    ]);
    expect(outputs).to.deep.equal({ firstLength: 2, second: "first is 2 long", greeting: "hello" });
    expect(runner.state.size).to.equal(3);
  });

  it("a changed program updates in place, and its preview shows the dependent's input as unknown @host", async () => {
    await runner.preview(pair("hello"));
    expect(summary(changedOperations(runner.operations))).to.deep.equal([
      "update first",
      "update second",
    ]);
    expect(providerEvents()).to.include(`diff key=second message=${UNKNOWN}`);
    const outputs = await runner.up(pair("hello"));
    expect(runner.operations.find((o) => o.name === "first")).to.deep.include({
      op: "update",
      diffChanges: "some",
      changedKeys: ["message"],
    });
    expect(outputs).to.include({ firstLength: 5, second: "first is 5 long" });
  });

  it("re-running the unchanged program shows no changes @host", async () => {
    await runner.up(pair("hello"));
    expect(changedOperations(runner.operations)).to.deep.equal([]);
    expect(summary(runner.operations)).to.deep.equal(["same pair", "same first", "same second"]);
  });

  it("a replacement creates before deleting, or deletes first when the provider asks @host", async () => {
    await runner.up(pair("hello", "second-b"));
    expect(runner.operations.find((o) => o.name === "second")).to.deep.include({
      op: "replace",
      replaces: ["key"],
    });
    const calls = providerEvents().filter((e) => /^(create|delete)/.test(e));
    expect(calls.map((e) => e.replace(/echo-[0-9a-f-]+ /, ""))).to.deep.equal([
      "create key=second-b",
      "delete key=second",
    ]);
    providerEvents().length = 0;
    await runner.up(pair("hello", "second-c", { deleteBeforeReplace: true }));
    const ordered = providerEvents().filter((e) => /^(create|delete)/.test(e));
    expect(ordered.map((e) => e.replace(/echo-[0-9a-f-]+ /, ""))).to.deep.equal([
      "delete key=second-b",
      "create key=second-c",
    ]);
  });

  it("fails a preview with bad input naming the property, like pulumi preview @host", async () => {
    const before = [...runner.state.values()];
    let failure: unknown;
    try {
      await runner.preview(pair("hello", "Bad Key"));
    } catch (error) {
      failure = error;
    }
    expect(isDeploymentError(failure)).to.equal(true);
    expect((failure as Error).message).to.contain(
      `${ECHO_TYPE} resource 'second': property key value {Bad Key} has a problem: use 1-40 lower-case letters`,
    );
    expect([...runner.state.values()]).to.deep.equal(before);
  });

  it("fails an up whose create throws, keeping what it created and deleting nothing @host", async () => {
    const failing = async () => {
      new Echo("broken", { message: "m", key: "broken", failWith: "boom: quota exceeded" });
      new Echo("extra", { message: "m", key: "extra" });
    };
    let failure: unknown;
    try {
      await runner.up(failing);
    } catch (error) {
      failure = error;
    }
    expect((failure as Error).message).to.contain("boom: quota exceeded");
    expect([...runner.state.values()].map((e) => e.name).sort()).to.deep.equal([
      "extra",
      "first",
      "pair",
      "second",
    ]);
  });

  it("deletes resources the program no longer declares, dependents first @host", async () => {
    await runner.up(async () => {
      new Echo("solo", { message: "m", key: "solo" });
    });
    const deleted = runner.operations.filter((o) => o.op === "delete").map((o) => o.name);
    expect(summary(runner.operations)[0]).to.equal("create solo");
    expect([...deleted].sort()).to.deep.equal(["extra", "first", "pair", "second"]);
    expect(deleted.indexOf("second")).to.be.below(deleted.indexOf("first"));
    expect(deleted.indexOf("first")).to.be.below(deleted.indexOf("pair"));
    expect([...runner.state.values()].map((e) => e.name)).to.deep.equal(["solo"]);
  });

  it("destroy deletes everything through the stored provider text @host", async () => {
    // Stands alone under --grep: the state is whatever this up leaves, not what earlier tests did.
    await runner.up(async () => {
      new Echo("solo", { message: "m", key: "solo" });
    });
    providerEvents().length = 0;
    await runner.destroy();
    expect(summary(runner.operations)).to.deep.equal(["delete solo"]);
    expect(providerEvents().filter((e) => e.startsWith("delete"))).to.have.length(1);
    expect(runner.state.size).to.equal(0);
  });
});

describe("harness: resource options and secrets through the program runner", function () {
  this.timeout(60_000);

  beforeEach(() => {
    providerEvents().length = 0;
  });

  it("keeps a secret input's output secret and honours additionalSecretOutputs @host", async () => {
    const runner = createProgramRunner({ project: "harness", stack: "opts", maskSecrets: true });
    const outputs = await runner.up(async () => {
      const e = new Echo(
        "e",
        { message: pulumi.secret("s3cret"), key: "e" },
        { additionalSecretOutputs: ["length"] },
      );
      return { message: e.message, length: e.length, key: e.key };
    });
    expect(outputs).to.deep.equal({ message: "[secret]", length: "[secret]", key: "e" });
    // The provider itself saw plaintext, as the host does (it does not accept secrets).
    expect(providerEvents()).to.include("check key=e message=s3cret");
    await runner.destroy();
  });

  it("honours the replaceOnChanges, deleteBeforeReplace and ignoreChanges options @host", async () => {
    const runner = createProgramRunner({ project: "harness", stack: "opts" });
    const program = (message: string, opts: pulumi.CustomResourceOptions) => async () => {
      new Echo("e", { message, key: "e" }, opts);
    };
    await runner.up(program("a", {}));
    providerEvents().length = 0;
    await runner.up(program("b", { replaceOnChanges: ["message"], deleteBeforeReplace: true }));
    expect(runner.operations[0]).to.deep.include({ op: "replace", replaces: ["message"] });
    expect(providerEvents().filter((e) => /^(create|delete)/.test(e))).to.have.length(2);
    expect(providerEvents().find((e) => /^(create|delete)/.test(e))).to.match(/^delete /);
    await runner.up(program("c", { ignoreChanges: ["message"] }));
    expect(summary(runner.operations)).to.deep.equal(["same e"]);
    await runner.destroy();
  });
});

describe("harness: a real resource through the program runner", function () {
  this.timeout(120_000);
  let project: UserProject;

  before(async () => {
    project = await createUserProject({ name: "harness-real" });
  });

  after(async () => {
    await project?.cleanup();
  });

  it("previews, deploys, re-runs without changes and destroys an EnvironmentVersion @host", async () => {
    const { info } = getEmulator();
    const name = uniqueName("env");
    const runner = createProgramRunner({
      project: "harness-real",
      stack: "dev",
      config: emulatorConfig(),
      hostDir: project.dir,
    });
    const program = async () => {
      const env = new EnvironmentVersion(name, {
        resourceGroupName: info.resourceGroupName,
        workspaceName: info.workspaceName,
        image: "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest",
      });
      return { assetId: env.assetId, version: env.version };
    };
    const planned = await runner.preview(program);
    expect(summary(runner.operations)).to.deep.equal([`create ${name}`]);
    expect(planned.assetId).to.equal(UNKNOWN_OUTPUT);
    const deployed = await runner.up(program);
    expect(deployed.assetId).to.match(new RegExp(`/environments/${name}/versions/`));
    await runner.up(program);
    expect(changedOperations(runner.operations)).to.deep.equal([]);
    await runner.destroy();
    expect(summary(runner.operations)).to.deep.equal([`delete ${name}`]);
  });
});

describe("harness: pure helpers", () => {
  it("orders deletions so dependents and children go before what they need @unit", () => {
    const entries = [
      { urn: "a", dependencies: [] },
      { urn: "b", parent: "a", dependencies: [] },
      { urn: "c", dependencies: ["d"] },
      { urn: "d", dependencies: [] },
    ];
    expect(deletionOrder(entries).map((e) => e.urn)).to.deep.equal(["c", "d", "b", "a"]);
  });

  it("converts program values to what the engine sends the host @unit", () => {
    const secret = {
      "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
      value: "s3cret",
    };
    const sent = asEngineSends({ a: secret, b: [1, { c: undefined }], d: undefined });
    expect(sent).to.deep.equal({ a: "s3cret", b: [1, {}] });
    const { unknown } = require("@pulumi/pulumi/output") as { unknown: unknown };
    expect(asEngineSends({ size: unknown, list: [unknown] })).to.deep.equal({
      size: UNKNOWN,
      list: [UNKNOWN],
    });
  });

  it("formats a check failure the way the engine reports it @unit", () => {
    expect(
      checkFailureMessage("t:x:Y", "r", { property: "size", reason: "too big" }, { size: 9 }),
    ).to.equal("t:x:Y resource 'r': property size value {9} has a problem: too big");
    expect(checkFailureMessage("t:x:Y", "r", { property: "", reason: "broken" }, {})).to.equal(
      "t:x:Y resource 'r' has a problem: broken",
    );
  });

  it("settles plain values, promises and nested structures @unit", async () => {
    expect(await settle({ a: Promise.resolve(1), b: [Promise.resolve("x")] })).to.deep.equal({
      a: 1,
      b: ["x"],
    });
  });

  it("exports stack config to a host as the engine does @unit", () => {
    expect(
      stackConfigEnv("proj", { greeting: "hi", "azureml:apiVersion": "2025-12-01" }),
    ).to.deep.equal({
      PULUMI_NODEJS_PROJECT: "proj",
      PULUMI_PROJECT: "proj",
      PULUMI_CONFIG: JSON.stringify({ "proj:greeting": "hi", "azureml:apiVersion": "2025-12-01" }),
    });
  });

  it("parses runner flags with stack config from PULUMI_CONFIG and --config @unit", () => {
    const args = parseRunnerArgs(
      ["examples/x", "--preview", "--config", "azureml:maxRetries=1", "--stack", "ci"],
      { PULUMI_CONFIG: JSON.stringify({ "azureml:maxRetries": "5", "x:y": "z" }) },
    );
    expect(args).to.deep.include({
      target: "examples/x",
      previewOnly: true,
      destroyAfter: false,
      stack: "ci",
    });
    expect(args.config).to.deep.equal({ "azureml:maxRetries": "1", "x:y": "z" });
    expect(() => parseRunnerArgs([])).to.throw(TypeError, /usage/);
    expect(() => parseRunnerArgs(["a", "--config", "novalue"])).to.throw(
      TypeError,
      /<key>=<value>/,
    );
  });

  it("prints a plan line per changing resource with the reason @unit", () => {
    const ops: Operation[] = [
      { urn: "u1", name: "env", type: "t:a:Env", op: "same" },
      {
        urn: "u2",
        name: "job",
        type: "t:a:Job",
        op: "replace",
        replaces: ["code"],
        changedKeys: ["code"],
      },
      { urn: "u3", name: "ep", type: "t:a:Endpoint", op: "update", changedKeys: ["tags"] },
    ];
    expect(formatPlan(ops)).to.deep.equal([
      " +-  t:a:Job       job   replace  [diff: ~code]",
      " ~   t:a:Endpoint  ep    update  [diff: ~tags]",
    ]);
    expect(formatSummary(ops, true)).to.deep.equal([
      "    ~ 1 to update",
      "    +- 1 to replace",
      "    1 unchanged",
    ]);
  });

  it("finds an example's compiled program and its project directory @unit", () => {
    const repoRoot = findRepoRoot();
    const resolved = resolveExample(
      path.join(repoRoot, "test/fixtures/echo-provider/program.ts"),
      repoRoot,
    );
    expect(resolved.modulePath).to.equal(
      path.join(repoRoot, "dist/test/fixtures/echo-provider/program.js"),
    );
    expect(resolved.projectDir).to.equal(path.join(repoRoot, "test/fixtures/echo-provider"));
    expect(resolved.project).to.equal("echo-example");
  });
});

async function waitForLog(
  host: { logs(): string[] },
  line: string,
  timeoutInMs = 10_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutInMs;
  while (!host.logs().includes(line)) {
    if (Date.now() > deadline) {
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}
