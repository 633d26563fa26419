import { expect } from "chai";
import { renameSync } from "node:fs";
import * as path from "node:path";
import { getAsset } from "../support/arm";
import { uniqueCopy } from "../support/fixtures";
import { getEmulator, uniqueName } from "../support/emulator";
import { checkAndCreate, configuredProvider, UNKNOWN, workspaceInputs } from "../support/providers";

const IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest";

describe("EnvironmentVersion provider", function () {
  it("creates a version whose id, reference and version are derived from its content @emulator", async () => {
    const provider = await configuredProvider("environmentVersion");
    const name = uniqueName("env");
    const { id, outs } = await checkAndCreate(provider, {
      ...workspaceInputs(),
      name,
      image: IMAGE,
      condaFilePath: "test/fixtures/assets/conda.yaml",
      description: "training environment",
    });
    expect(outs.version).to.match(/^[0-9a-f]{16}$/);
    expect(outs.contentHash.startsWith(outs.version)).to.equal(true);
    expect(id).to.equal(outs.assetId);
    expect(id).to.match(
      new RegExp(`/workspaces/mlw-emulator/environments/${name}/versions/${outs.version}$`),
    );
    expect(outs.assetReference).to.equal(`azureml:${name}:${outs.version}`);
    expect(outs.condaFile).to.contain("scikit-learn==1.5.0");
    expect(outs.condaFilePath).to.equal("test/fixtures/assets/conda.yaml");
    expect(outs).not.to.have.property("__provider");

    const read = await provider.read(id, outs);
    expect(read.id).to.equal(id);
    expect(read.props.description).to.equal("training environment");
  });

  it("the same content checked twice gets the same version; a changed image gets another @emulator", async () => {
    const provider = await configuredProvider("environmentVersion");
    const base = { ...workspaceInputs(), name: uniqueName("env"), image: IMAGE };
    const first = await provider.check({}, base);
    const again = await provider.check({}, base);
    const changed = await provider.check({}, { ...base, image: `${IMAGE}-2` });
    expect(again.inputs.version).to.equal(first.inputs.version);
    expect(changed.inputs.version).not.to.equal(first.inputs.version);
  });

  it("rejects bad input at check time, naming the property, before any request is sent @emulator", async () => {
    const provider = await configuredProvider("environmentVersion");
    const mark = getEmulator().requests.mark();
    const result = await provider.check(
      {},
      {
        resourceGroupName: "rg-emulator",
        workspaceName: "x",
        name: "-bad name",
        image: IMAGE,
        build: { contextUri: "https://example.invalid/ctx" },
        osType: "Solaris",
        condaFilePath: "test/fixtures/assets/missing.yaml",
        inferenceConfig: { scoringRoute: { path: "/score", port: 70000 } },
      },
    );
    const properties = result.failures!.map((f) => f.property);
    expect(properties).to.include.members([
      "workspaceName",
      "name",
      "image",
      "osType",
      "condaFilePath",
      "inferenceConfig.scoringRoute.port",
    ]);
    expect(result.failures!.find((f) => f.property === "image")!.reason).to.contain(
      "mutually exclusive",
    );
    expect(getEmulator().requests.since(mark)).to.deep.equal([]);
  });

  it("accepts unknown values in preview and leaves the version unknown @emulator", async () => {
    const provider = await configuredProvider("environmentVersion");
    const mark = getEmulator().requests.mark();
    const result = await provider.check(
      {},
      { ...workspaceInputs(), name: "env-preview", image: UNKNOWN },
    );
    expect(result.failures).to.deep.equal([]);
    expect(result.inputs.version).to.equal(UNKNOWN);
    const plan = await provider.diff(
      "id",
      { ...workspaceInputs(), name: "env-preview", image: IMAGE, version: "1" } as any,
      result.inputs,
    );
    expect(plan.changes).to.equal(true);
    expect(plan.replaces).to.include("image");
    expect(getEmulator().requests.since(mark)).to.deep.equal([]);
  });

  it("plans a replacement for a content change and an in-place update for description and tags @emulator", async () => {
    const provider = await configuredProvider("environmentVersion");
    const base = { ...workspaceInputs(), name: uniqueName("env"), image: IMAGE };
    const { id, outs } = await checkAndCreate(provider, base);

    const sameAgain = await provider.diff(id, outs, (await provider.check(outs, base)).inputs);
    expect(sameAgain).to.deep.include({ changes: false });

    const tagged = (await provider.check(outs, { ...base, tags: { team: "ml" }, description: "d" }))
      .inputs;
    const tagPlan = await provider.diff(id, outs, tagged);
    expect(tagPlan).to.deep.include({ changes: true, replaces: [] });
    const updated = await provider.update(id, outs, tagged);
    expect(updated.outs!.tags).to.deep.equal({ team: "ml" });
    expect(updated.outs!.version).to.equal(outs.version);

    const newImage = (await provider.check(outs, { ...base, image: `${IMAGE}-new` })).inputs;
    const imagePlan = await provider.diff(id, outs, newImage);
    expect(imagePlan.replaces).to.include.members(["image", "version", "contentHash"]);
    expect(imagePlan.deleteBeforeReplace).to.equal(false);
  });

  it("a diff that differs only in the serialized provider is no change @emulator", async () => {
    const provider = await configuredProvider("environmentVersion");
    const base = { ...workspaceInputs(), name: uniqueName("env"), image: IMAGE };
    const { id, outs } = await checkAndCreate(provider, base);
    const checked = (
      await provider.check(outs, { ...base, __provider: "exports.handler = other;" } as any)
    ).inputs;
    const plan = await provider.diff(
      id,
      { ...outs, __provider: "exports.handler = old;" } as any,
      { ...checked, __provider: "exports.handler = other;" } as any,
    );
    expect(plan.changes).to.equal(false);
  });

  it("refuses at preview a pinned version whose content changed, since versions are immutable @emulator", async () => {
    const provider = await configuredProvider("environmentVersion");
    const base = { ...workspaceInputs(), name: uniqueName("env"), image: IMAGE, version: "3" };
    const { outs } = await checkAndCreate(provider, base);
    const result = await provider.check(outs, { ...base, image: `${IMAGE}-changed` });
    expect(result.failures).to.have.length(1);
    expect(result.failures![0].property).to.equal("version");
    expect(result.failures![0].reason).to.contain("immutable");
  });

  it("archives the version on delete by default, and a second delete is still success @emulator", async () => {
    const provider = await configuredProvider("environmentVersion");
    const { id, outs } = await checkAndCreate(provider, {
      ...workspaceInputs(),
      name: uniqueName("env"),
      image: IMAGE,
    });
    await provider.delete(id, outs);
    await provider.delete(id, outs);
    const read = await provider.read(id, outs);
    expect(read.id).to.equal(id);
    const live = await getAsset(id);
    expect(live.properties.isArchived).to.equal(true);
  });

  it("deletes the version when onDelete is delete, and refresh then reports it gone @emulator", async () => {
    const provider = await configuredProvider("environmentVersion");
    const { id, outs } = await checkAndCreate(provider, {
      ...workspaceInputs(),
      name: uniqueName("env"),
      image: IMAGE,
      onDelete: "delete",
    });
    await provider.delete(id, outs);
    await provider.delete(id, outs);
    const read = await provider.read(id, outs);
    expect(read.id).to.equal(undefined);
  });

  it("uploads a local build context once and builds from its datastore URI @emulator", async () => {
    const provider = await configuredProvider("environmentVersion");
    const inputs = {
      ...workspaceInputs(),
      name: uniqueName("env"),
      build: { path: "test/fixtures/assets/docker-context" },
    };
    const { id, outs } = await checkAndCreate(provider, inputs);
    expect(outs.buildContextUri).to.match(
      /\/datastores\/workspaceblobstore\/paths\/LocalUpload\/[0-9a-f]{32}\/docker-context\/$/,
    );
    expect(outs.assetUri).to.equal(outs.buildContextUri);
    const live = await getAsset(id);
    expect(live.properties.build).to.deep.equal({
      contextUri: outs.buildContextUri,
      dockerfilePath: "Dockerfile",
    });

    const tagged = (await provider.check(outs, { ...inputs, tags: { a: "b" } })).inputs;
    expect(await provider.diff(id, outs, tagged)).to.deep.include({ changes: true, replaces: [] });
    const mark = getEmulator().requests.mark();
    const updated = await provider.update(id, outs, tagged);
    expect(updated.outs!.buildContextUri).to.equal(outs.buildContextUri);
    expect(
      getEmulator()
        .requests.since(mark)
        .filter((r) => r.plane === "blob"),
    ).to.deep.equal([]);
  });

  it("refuses a build folder without a Dockerfile, naming build.path @emulator", async () => {
    const provider = await configuredProvider("environmentVersion");
    const result = await provider.check(
      {},
      {
        ...workspaceInputs(),
        name: "env",
        build: { path: "test/fixtures/assets/iris" },
      },
    );
    expect(result.failures).to.have.length(1);
    expect(result.failures![0].property).to.equal("build.path");
    expect(result.failures![0].reason).to.contain("Dockerfile");
  });

  it("reports a bad provider setting and a missing subscription in preview, before any request @emulator", async () => {
    const mark = getEmulator().requests.mark();
    const badRetries = await configuredProvider("environmentVersion", {
      "azureml:maxRetries": "many",
    });
    const result = await badRetries.check({}, { ...workspaceInputs(), name: "env", image: IMAGE });
    expect(result.failures).to.have.length(1);
    expect(result.failures![0].property).to.equal("providerConfig");
    expect(result.failures![0].reason).to.contain("maxRetries").and.to.contain("many");

    const saved = { a: process.env.AZURE_SUBSCRIPTION_ID, b: process.env.AZUREML_SUBSCRIPTION_ID };
    delete process.env.AZURE_SUBSCRIPTION_ID;
    delete process.env.AZUREML_SUBSCRIPTION_ID;
    try {
      const noSubscription = await configuredProvider("environmentVersion", {
        "azureml:subscriptionId": "",
      });
      const missing = await noSubscription.check(
        {},
        { ...workspaceInputs(), name: "env", image: IMAGE },
      );
      expect(missing.failures!.map((f) => f.property)).to.deep.equal(["subscriptionId"]);
    } finally {
      Object.assign(process.env, saved.a ? { AZURE_SUBSCRIPTION_ID: saved.a } : {});
      Object.assign(process.env, saved.b ? { AZUREML_SUBSCRIPTION_ID: saved.b } : {});
    }
    expect(getEmulator().requests.since(mark)).to.deep.equal([]);
  });

  it("naming the same workspace by its id instead of its names is an update, never a replacement @emulator", async () => {
    const provider = await configuredProvider("environmentVersion");
    const base = { ...workspaceInputs(), name: uniqueName("env"), image: IMAGE };
    const { id, outs } = await checkAndCreate(provider, base);
    const byId = {
      workspaceId: getEmulator().info.workspaceId,
      name: base.name,
      image: IMAGE,
    };
    const checked = (await provider.check(outs, byId)).inputs;
    const plan = await provider.diff(id, outs, checked);
    // Replacing would create the very same version, then delete it.
    expect(plan).to.deep.equal({ changes: true, replaces: [] });
    const updated = await provider.update(id, outs, checked);
    expect(updated.outs!.assetId).to.equal(id);
    expect((await getAsset(id)).properties.isArchived).to.equal(false);
  });

  it("moving a local build context folder keeps the version and its uploaded context @emulator", async () => {
    const provider = await configuredProvider("environmentVersion");
    const first = uniqueCopy("test/fixtures/assets/docker-context");
    const inputs = { ...workspaceInputs(), name: uniqueName("env"), build: { path: first } };
    const { id, outs } = await checkAndCreate(provider, inputs);
    const moved = path.join(path.dirname(first), "renamed-context");
    renameSync(first, moved);
    const checked = (await provider.check(outs, { ...inputs, build: { path: moved } })).inputs;
    expect(checked.version).to.equal(outs.version);
    expect(await provider.diff(id, outs, checked)).to.deep.equal({ changes: true, replaces: [] });
    const mark = getEmulator().requests.mark();
    const updated = await provider.update(id, outs, checked);
    expect(updated.outs!.buildContextUri).to.equal(outs.buildContextUri);
    expect(
      getEmulator()
        .requests.since(mark)
        .filter((r) => r.plane === "blob"),
    ).to.deep.equal([]);
  });
});
