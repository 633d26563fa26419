/**
 * The asset resources through Pulumi's real dynamic-provider host, driven over gRPC the way the
 * engine drives it, with the `__provider` text captured from `new X(...)` and the package installed
 * in a throwaway Pulumi project as a user would have it.
 */
import { expect } from "chai";
import * as path from "node:path";
import { CodeVersion, EnvironmentVersion, ModelVersion } from "../../index";
import { uniqueCopy } from "../support/fixtures";
import { emulatorConfig, getEmulator, uniqueName } from "../support/emulator";
import { startHost, resourceUrn, type ProviderHost } from "../support/host";
import type * as pulumi from "@pulumi/pulumi";
import { captureRegistration, UNKNOWN } from "../support/loadLikeHost";
import { createUserProject, type UserProject } from "../support/userProject";

const IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest";

describe("asset resources through the real provider host", function () {
  this.timeout(120_000);
  let projectA: UserProject;
  let projectB: UserProject;
  let hostA: ProviderHost;
  let hostB: ProviderHost;
  let workspace: { resourceGroupName: string; workspaceName: string };

  before(async () => {
    const { info } = getEmulator();
    workspace = { resourceGroupName: info.resourceGroupName, workspaceName: info.workspaceName };
    [projectA, projectB] = await Promise.all([
      createUserProject({ name: "assets-a" }),
      createUserProject({ name: "assets-b" }),
    ]);
    uniqueCopy("test/fixtures/assets/train-src", path.join(projectA.dir, "src"));
    // The environment points nowhere useful, so these tests pass only if the stack config sent
    // through Configure reaches the providers and wins over it, as documented.
    const misleading = {
      AZUREML_ARM_ENDPOINT: "https://127.0.0.1:9",
      AZUREML_CA_CERT_PATH: path.join(projectA.dir, "no-such-ca.pem"),
      AZURE_SUBSCRIPTION_ID: "99999999-9999-9999-9999-999999999999",
    };
    // Host A prints the providers' progress lines, as it would under `pulumi up`.
    [hostA, hostB] = await Promise.all([
      startHost(projectA.dir, { ...misleading, AZUREML_PROGRESS: "on" }),
      startHost(projectB.dir, misleading),
    ]);
    // As the engine does before anything else: the stack config a program sets for the emulator.
    await Promise.all([hostA.configure(emulatorConfig()), hostB.configure(emulatorConfig())]);
  });

  after(async () => {
    await Promise.all([hostA?.stop(), hostB?.stop()]);
    await Promise.all([projectA?.cleanup(), projectB?.cleanup()]);
  });

  it("runs Configure, Check, Create, Diff, Update, Read and Delete for an EnvironmentVersion @host", async () => {
    const name = uniqueName("env");
    const { urn, provider, args } = await asTheEngineSends(
      name,
      (n, a) => new EnvironmentVersion(n, a),
      {
        ...workspace,
        image: IMAGE,
      },
    );

    const checked = await hostA.check(urn, {}, args);
    expect(checked.failures).to.deep.equal([]);
    expect(checked.inputs.version).to.match(/^[0-9a-f]{16}$/);
    const created = await hostA.create(urn, checked.inputs);
    expect(created.id).to.match(new RegExp(`/environments/${name}/versions/`));
    expect(created.outs.__provider).to.equal(provider);

    const unchanged = await hostA.diff(
      urn,
      created.id,
      created.outs,
      (await hostA.check(urn, checked.inputs, args)).inputs,
    );
    expect(unchanged.changes).to.equal("none");

    const taggedInputs = (
      await hostA.check(urn, checked.inputs, { ...args, tags: { stage: "dev" } })
    ).inputs;
    const tagged = await hostA.diff(urn, created.id, created.outs, taggedInputs);
    expect(tagged).to.deep.include({ changes: "some", replaces: [] });
    const updated = await hostA.update(urn, created.id, created.outs, taggedInputs);
    expect(updated.tags).to.deep.equal({ stage: "dev" });

    const read = await hostA.read(urn, created.id, updated);
    expect(read.id).to.equal(created.id);
    expect(read.props.tags).to.deep.equal({ stage: "dev" });

    const imageChanged = (await hostA.check(urn, checked.inputs, { ...args, image: `${IMAGE}-2` }))
      .inputs;
    const replace = await hostA.diff(urn, created.id, created.outs, imageChanged);
    expect(replace.changes).to.equal("some");
    expect(replace.replaces).to.include("image");
    // The preview says why, in Azure ML's terms.
    const explained = `EnvironmentVersion ${name}:${created.outs.version}: content changed`;
    expect(
      await waitForLog(hostA, (line) => line.startsWith(`info: [runtime] ${explained}`)),
    ).to.equal(true);

    await hostA.delete(urn, created.id, updated);
  });

  it("reports a check failure naming the property through the host @host", async () => {
    const name = uniqueName("env");
    const { urn, provider } = await asTheEngineSends(name, (n, a) => new EnvironmentVersion(n, a), {
      ...workspace,
      image: IMAGE,
    });
    const mark = getEmulator().requests.mark();
    const checked = await hostA.check(urn, {}, { ...workspace, name, __provider: provider });
    expect(checked.failures.map((f) => f.property)).to.deep.equal(["image"]);
    expect(
      getEmulator()
        .requests.since(mark)
        .filter((r) => r.plane === "arm"),
    ).to.deep.equal([]);
  });

  it("uploads a CodeVersion from the project directory and skips the upload when created again @host", async () => {
    const name = uniqueName("code");
    const { urn, args } = await asTheEngineSends(name, (n, a) => new CodeVersion(n, a), {
      ...workspace,
      path: "src",
    });
    const checked = await hostA.check(urn, {}, args);
    expect(checked.failures).to.deep.equal([]);
    expect(checked.inputs).to.deep.include({ fileCount: 4, ignoredCount: 1, path: "src" });
    const created = await hostA.create(urn, checked.inputs);
    expect(created.outs.uploadedBlobCount).to.equal(4);
    const mark = getEmulator().requests.mark();
    const again = await hostA.create(urn, checked.inputs);
    expect(again.outs.uploadedBlobCount).to.equal(0);
    const version = String(checked.inputs.version);
    expect(
      await waitForLog(hostA, (line) =>
        line.includes(`CodeVersion ${name}:${version}: uploading 4 files`),
      ),
    ).to.equal(true);
    expect(
      await waitForLog(hostA, (line) =>
        line.includes(`CodeVersion ${name}:${version}: already in the workspace`),
      ),
    ).to.equal(true);
    expect(
      getEmulator()
        .requests.since(mark)
        .filter((r) => r.plane === "blob"),
    ).to.deep.equal([]);
  });

  it("a version created from one checkout is refreshed and destroyed from another @host", async () => {
    const name = uniqueName("model");
    const { urn, args } = await asTheEngineSends(name, (n, a) => new ModelVersion(n, a), {
      ...workspace,
      path: "azureml://jobs/train-1/outputs/model",
      onDelete: "delete" as const,
    });
    const created = await hostA.create(urn, (await hostA.check(urn, {}, args)).inputs);
    expect(created.outs.version).to.equal("1");

    const refreshed = await hostB.read(urn, created.id, created.outs);
    expect(refreshed.id).to.equal(created.id);
    await hostB.delete(urn, created.id, created.outs);
    const gone = await hostB.read(urn, created.id, created.outs);
    expect(gone.id).to.equal("");
  });

  it("passes preview's unknown values through check and diff without judging them @host", async () => {
    const name = uniqueName("env");
    const { urn, args } = await asTheEngineSends(name, (n, a) => new EnvironmentVersion(n, a), {
      ...workspace,
      image: IMAGE,
    });
    const created = await hostA.create(urn, (await hostA.check(urn, {}, args)).inputs);
    const previewed = await hostA.check(urn, created.outs, { ...args, image: UNKNOWN });
    expect(previewed.failures).to.deep.equal([]);
    expect(previewed.inputs.version).to.equal(UNKNOWN);
    const plan = await hostA.diff(urn, created.id, created.outs, previewed.inputs);
    expect(plan.changes).to.equal("some");
    expect(plan.replaces).to.include("image");
    await hostA.delete(urn, created.id, created.outs);
  });
});

/** The host's stdout arrives on its own schedule; wait for a matching line. */
async function waitForLog(host: ProviderHost, match: (line: string) => boolean): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (!host.logs().some(match)) {
    if (Date.now() > deadline) {
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/**
 * What the engine sends for a resource: its URN (with the type token it registered) and its inputs
 * with the real `__provider` text captured from `new X(...)`, as a program registers it.
 */
async function asTheEngineSends<A extends object>(
  name: string,
  construct: (name: string, args: A) => pulumi.CustomResource,
  inputs: A,
): Promise<{ urn: string; provider: string; args: Record<string, unknown> }> {
  const registration = await captureRegistration(() => construct(name, inputs), name);
  const provider = registration.inputs.__provider as string;
  return {
    urn: resourceUrn(name, { type: registration.type }),
    provider,
    args: { ...inputs, name, __provider: provider },
  };
}
