/**
 * The asset resources under faults: throttling, 5xx, dropped connections and storage errors are
 * retried without losing or duplicating anything; a refused write leaves nothing behind.
 */
import { expect } from "chai";
import { getAsset, armGet } from "../support/arm";
import { getEmulator, uniqueName } from "../support/emulator";
import { uniqueCopy } from "../support/fixtures";
import { checkAndCreate, configuredProvider, workspaceInputs } from "../support/providers";

/** Fast retries for fault tests: the emulator's Retry-After is honoured, backoff starts at 10 ms. */
const FAST = { "azureml:retryDelayInMs": "10", "azureml:maxRetryDelayInMs": "200" };

describe("asset resources under faults", function () {
  afterEach(() => getEmulator().faults.clear());

  it("creates a CodeVersion through throttling, a 503, a dropped connection and a storage error, once @emulator", async () => {
    const emulator = getEmulator();
    const provider = await configuredProvider("codeVersion", FAST);
    const name = uniqueName("code");
    const folder = uniqueCopy("test/fixtures/assets/train-src");
    const checked = (await provider.check({}, { ...workspaceInputs(), name, path: folder })).inputs;
    emulator.faults.add({
      kind: "status",
      status: 429,
      retryAfter: "0",
      path: `/codes/${name}/versions`,
      method: "GET",
    });
    emulator.faults.add({ kind: "drop", path: "/startPendingUpload", method: "POST" });
    emulator.faults.add({ kind: "status", status: 503, plane: "blob", method: "PUT" });
    emulator.faults.add({
      kind: "status",
      status: 503,
      path: `/codes/${name}/versions/`,
      method: "PUT",
    });
    const mark = emulator.requests.mark();

    const created = await provider.create(checked);

    const requests = emulator.requests.since(mark);
    const faulted = requests
      .filter((r) => r.fault !== undefined)
      .map((r) => `${r.plane} ${r.method} ${r.status}`);
    expect(faulted).to.have.members(["arm GET 429", "arm POST 0", "blob PUT 503", "arm PUT 503"]);
    const versionPuts = requests.filter(
      (r) => r.plane === "arm" && r.method === "PUT" && r.status < 300,
    );
    expect(versionPuts).to.have.length(1);
    const live = await getAsset(created.id);
    expect(live.properties.codeUri).to.equal(created.outs.codeUri);
    expect(created.outs.uploadedBlobCount).to.equal(4);
  });

  it("takes the next model version through a 500 on the container read, registering exactly one @emulator", async () => {
    const emulator = getEmulator();
    const provider = await configuredProvider("modelVersion", FAST);
    const name = uniqueName("model");
    emulator.faults.add({
      kind: "status",
      status: 500,
      path: `/models/${name}`,
      method: "GET",
      times: 2,
    });
    const { outs } = await checkAndCreate(provider, {
      ...workspaceInputs(),
      name,
      path: "azureml://jobs/j/outputs/model",
    });
    expect(outs.version).to.equal("1");
    const versions = await armGet(`${outs.assetId.replace(/\/versions\/1$/, "")}/versions`);
    expect(versions.value.map((v: { name: string }) => v.name)).to.deep.equal(["1"]);
  });

  it("a create the service refuses leaves no version behind and says why @emulator", async () => {
    const emulator = getEmulator();
    const provider = await configuredProvider("environmentVersion", FAST);
    const name = uniqueName("env");
    const checked = (await provider.check({}, { ...workspaceInputs(), name, image: "python:3.11" }))
      .inputs;
    emulator.faults.add({
      kind: "status",
      status: 500,
      path: `/environments/${name}/versions/`,
      method: "PUT",
      times: 10,
    });
    let error: Error | undefined;
    try {
      await provider.create(checked);
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).to.match(
      /EnvironmentVersions_CreateOrUpdate failed: InternalServerError/,
    );
    expect(error?.message).to.match(/HTTP 500, request id [0-9a-f-]{36}/);
    emulator.faults.clear();
    const id = `/subscriptions/${emulator.info.subscriptionId}/resourceGroups/${emulator.info.resourceGroupName}/providers/Microsoft.MachineLearningServices/workspaces/${emulator.info.workspaceName}/environments/${name}/versions/${checked.version}`;
    expect(await getAsset(id)).to.equal(undefined);
  });
});
