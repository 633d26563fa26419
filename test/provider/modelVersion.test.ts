import { expect } from "chai";
import { getAsset } from "../support/arm";
import { getEmulator, uniqueName } from "../support/emulator";
import { checkAndCreate, configuredProvider, workspaceInputs } from "../support/providers";

describe("ModelVersion provider", function () {
  it("takes the next free integer version and links a job output to its job @emulator", async () => {
    const provider = await configuredProvider("modelVersion");
    const name = uniqueName("model");
    const first = await checkAndCreate(provider, {
      ...workspaceInputs(),
      name,
      path: "azureml://jobs/train-123/outputs/model",
    });
    expect(first.outs.version).to.equal("1");
    expect(first.outs.jobName).to.equal("train-123");
    expect(first.outs.modelType).to.equal("custom_model");
    const second = await checkAndCreate(provider, {
      ...workspaceInputs(),
      name,
      path: "azureml://jobs/train-456/outputs/model",
    });
    expect(second.outs.version).to.equal("2");
    expect(second.outs.assetReference).to.equal(`azureml:${name}:2`);
  });

  it("adopts the version already registered from the same content instead of registering a duplicate @emulator", async () => {
    const provider = await configuredProvider("modelVersion");
    const inputs = {
      ...workspaceInputs(),
      name: uniqueName("model"),
      path: "azureml://jobs/j1/outputs/model",
    };
    const first = await checkAndCreate(provider, inputs);
    const second = await checkAndCreate(provider, { ...inputs, description: "adopted" });
    expect(second.id).to.equal(first.id);
    expect(second.outs.version).to.equal("1");
    // The adopted version now carries this resource's description.
    expect((await getAsset(second.id)).properties.description).to.equal("adopted");
  });

  it("uploads a local mlflow model folder and keeps the version when only the stage changes @emulator", async () => {
    const provider = await configuredProvider("modelVersion");
    const inputs = {
      ...workspaceInputs(),
      name: uniqueName("model"),
      modelType: "mlflow_model",
      path: "test/fixtures/assets/model-mlflow",
    };
    const { id, outs } = await checkAndCreate(provider, inputs);
    expect(outs.modelUri).to.match(
      /\/datastores\/workspaceblobstore\/paths\/LocalUpload\/[0-9a-f]{32}\/model-mlflow\/$/,
    );
    const staged = (await provider.check(outs, { ...inputs, stage: "Production" })).inputs;
    const plan = await provider.diff(id, outs, staged);
    expect(plan).to.deep.include({ changes: true, replaces: [] });
    const updated = await provider.update(id, outs, staged);
    expect(updated.outs!.version).to.equal(outs.version);
  });

  it("rejects a non-integer version and an mlflow folder without MLmodel at check time @emulator", async () => {
    const provider = await configuredProvider("modelVersion");
    const mark = getEmulator().requests.mark();
    const badVersion = await provider.check(
      {},
      { ...workspaceInputs(), name: "m", version: "v2", path: "azureml://jobs/j/outputs/model" },
    );
    expect(badVersion.failures![0]).to.deep.include({ property: "version" });
    const noMlmodel = await provider.check(
      {},
      {
        ...workspaceInputs(),
        name: "m",
        modelType: "mlflow_model",
        path: "test/fixtures/assets/iris",
      },
    );
    expect(noMlmodel.failures![0].reason).to.contain("MLmodel");
    expect(getEmulator().requests.since(mark)).to.deep.equal([]);
  });
});
