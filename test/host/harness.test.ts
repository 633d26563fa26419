/**
 * The test harness itself: the gRPC driver against Pulumi's real dynamic-provider host and the
 * example runner's pure parts, exercised with the echo fixture. Whole programs run through the real
 * engine (test/engine/).
 */
import { expect } from "chai";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { parseRunnerArgs, resolveExample } from "../../examples/runner";
import { Echo } from "../fixtures/echo-provider/index";
import { resourceUrn, startHost, type HostRpcError, type ProviderHost } from "../support/host";
import { captureProviderText, loadLikeHost, UNKNOWN, viaStruct } from "../support/loadLikeHost";
import { namespacedConfig, stackConfigEnv } from "../support/mockConfig";
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

describe("harness: pure helpers", () => {
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
