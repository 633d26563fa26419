/**
 * BatchEndpoint, BatchDeployment and BatchEndpointDefaultDeployment against the emulator, called
 * as the engine calls them (check, diff, create, update, delete), with the request log as witness.
 */
import { expect } from "chai";
import { armCall, armGet } from "../support/arm";
import { getEmulator, uniqueName } from "../support/emulator";
import { checkAndCreate, configuredProvider, workspaceInputs } from "../support/providers";

/** Fast retries for fault tests: the emulator's Retry-After is honoured, backoff starts at 10 ms. */
const FAST = { "azureml:retryDelayInMs": "10", "azureml:maxRetryDelayInMs": "200" };

interface Assets {
  customModel: string;
  code: string;
  code2: string;
  environment: string;
}

async function registerAssets(): Promise<Assets> {
  const ws = getEmulator().info.workspaceId;
  const put = async (path: string, properties: Record<string, unknown>) => {
    const reply = await armCall("PUT", path, { properties });
    expect(reply.status, JSON.stringify(reply.body)).to.equal(201);
    return reply.body.id as string;
  };
  return {
    customModel: await put(`${ws}/models/${uniqueName("pmodel")}/versions/1`, {
      modelUri: "azureml://datastores/workspaceblobstore/paths/models/m/",
    }),
    code: await put(`${ws}/codes/${uniqueName("pcode")}/versions/1`, {
      codeUri: "https://127.0.0.1/devstoreaccount1/code/a/",
    }),
    code2: await put(`${ws}/codes/${uniqueName("pcode")}/versions/1`, {
      codeUri: "https://127.0.0.1/devstoreaccount1/code/b/",
    }),
    environment: await put(`${ws}/environments/${uniqueName("penv")}/versions/1`, {
      image: "python:3.11",
    }),
  };
}

function deploymentInputs(endpointId: string, assets: Assets, name = "blue") {
  return {
    endpointId,
    name,
    modelId: assets.customModel,
    modelType: "custom_model",
    codeConfiguration: { codeId: assets.code, scoringScript: "score.py" },
    environmentId: assets.environment,
    compute: "cpu-cluster",
    miniBatchSize: 5,
    description: "first",
  };
}

/** The ARM writes (method and path suffix) made since `mark`, faulted ones excluded. */
function writesSince(mark: number): string[] {
  return getEmulator()
    .requests.since(mark)
    .filter((r) => r.plane === "arm" && r.method !== "GET" && r.fault === undefined)
    .map((r) => `${r.method} ${r.path.split("/batchEndpoints/")[1] ?? r.path}`);
}

describe("batch providers against the emulator", function () {
  let assets: Assets;
  before(async () => {
    assets = await registerAssets();
  });
  afterEach(() => getEmulator().faults.clear());

  it("creates an endpoint and a deployment; updates the deployment in place by PATCH or PUT; replaces it on a new scoring script @emulator", async () => {
    const endpoints = await configuredProvider("batchEndpoint");
    const deployments = await configuredProvider("batchDeployment");
    const name = uniqueName("ep");
    const endpoint = await checkAndCreate(endpoints, { ...workspaceInputs(), name });
    expect(endpoint.id).to.equal(`${getEmulator().info.workspaceId}/batchEndpoints/${name}`);
    expect(endpoint.outs).to.deep.include({
      authMode: "AADToken",
      provisioningState: "Succeeded",
      location: "eastus",
      scoringUri: `${getEmulator().info.armEndpoint}/inference/eastus/${name}/jobs`,
    });

    const blue = await checkAndCreate(deployments, deploymentInputs(endpoint.id, assets));
    expect(blue.outs.provisioningState).to.equal("Succeeded");
    expect(blue.outs.createdAt).to.match(/^\d{4}-/);
    const live = await armGet(blue.id);
    expect(live.properties.miniBatchSize).to.equal(5);

    // description only: a PATCH, nothing else written.
    let mark = getEmulator().requests.mark();
    const described = { ...blue.inputs, description: "second" };
    expect(await deployments.diff(blue.id, blue.outs, described)).to.deep.equal({
      changes: true,
      replaces: [],
    });
    const afterPatch = await deployments.update(blue.id, blue.outs, described);
    expect(writesSince(mark)).to.deep.equal([`PATCH ${name}/deployments/blue`]);
    expect((await armGet(blue.id)).properties.description).to.equal("second");

    // a setting: one PUT, read back.
    mark = getEmulator().requests.mark();
    const resized = { ...described, miniBatchSize: 20 };
    const afterPut = await deployments.update(blue.id, afterPatch.outs!, resized);
    expect(writesSince(mark)).to.deep.equal([`PUT ${name}/deployments/blue`]);
    expect((await armGet(blue.id)).properties.miniBatchSize).to.equal(20);

    // a new scoring script: a replacement, the old deployment deleted first (same name).
    const rescripted = {
      ...resized,
      codeConfiguration: { codeId: assets.code2, scoringScript: "score.py" },
    };
    const plan = await deployments.diff(blue.id, afterPut.outs!, rescripted);
    expect(plan).to.deep.equal({
      changes: true,
      replaces: ["codeConfiguration"],
      deleteBeforeReplace: true,
    });
    await deployments.delete(blue.id, afterPut.outs!);
    const replaced = await deployments.create((await deployments.check({}, rescripted)).inputs!);
    expect(replaced.outs.createdAt).to.not.equal(blue.outs.createdAt);
    expect((await armGet(blue.id)).properties.codeConfiguration.codeId).to.equal(assets.code2);
  });

  it("switches the default deployment without the endpoint's own updates undoing it @emulator", async () => {
    const endpoints = await configuredProvider("batchEndpoint");
    const deployments = await configuredProvider("batchDeployment");
    const defaults = await configuredProvider("batchEndpointDefaultDeployment");
    const endpoint = await checkAndCreate(endpoints, {
      ...workspaceInputs(),
      name: uniqueName("ep"),
    });
    const blue = await checkAndCreate(deployments, deploymentInputs(endpoint.id, assets, "blue"));
    const green = await checkAndCreate(deployments, deploymentInputs(endpoint.id, assets, "green"));
    const byBlue = await checkAndCreate(defaults, {
      endpointId: endpoint.id,
      deploymentName: "blue",
      deploymentCreatedAt: blue.outs.createdAt,
    });
    expect(byBlue.outs.deploymentName).to.equal("blue");

    const toGreen = {
      ...byBlue.inputs,
      deploymentName: "green",
      deploymentCreatedAt: green.outs.createdAt,
    };
    expect(await defaults.diff(byBlue.id, byBlue.outs, toGreen)).to.deep.equal({
      changes: true,
      replaces: [],
    });
    const switched = await defaults.update(byBlue.id, byBlue.outs, toGreen);
    expect(switched.outs!.previousDeploymentName).to.equal("blue");
    expect((await armGet(endpoint.id)).properties.defaults.deploymentName).to.equal("green");

    // The endpoint's own PUT (a new description) keeps the default; its diff never mentions it.
    const described = { ...endpoint.inputs, description: "scores nightly" };
    expect(await endpoints.diff(endpoint.id, endpoint.outs, described)).to.deep.equal({
      changes: true,
      replaces: [],
    });
    const updated = await endpoints.update(endpoint.id, endpoint.outs, described);
    expect(updated.outs!.defaultDeploymentName).to.equal("green");
    expect((await armGet(endpoint.id)).properties.description).to.equal("scores nightly");
    expect(await endpoints.diff(endpoint.id, updated.outs!, described)).to.deep.equal({
      changes: false,
      replaces: [],
    });

    // Refresh shows a default changed outside the stack.
    await armCall("PUT", endpoint.id, {
      location: "eastus",
      properties: {
        authMode: "AADToken",
        description: "scores nightly",
        defaults: { deploymentName: "blue" },
      },
    });
    const refreshed = await defaults.read(switched.outs!.endpointId, switched.outs!);
    expect(refreshed.props!.deploymentName).to.equal("blue");
    // A default naming a deployment the endpoint does not have is refused before any write.
    const mark = getEmulator().requests.mark();
    let error: Error | undefined;
    try {
      await defaults.update(byBlue.id, byBlue.outs, { ...toGreen, deploymentName: "purple" });
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).to.contain('has no deployment "purple"');
    expect(writesSince(mark)).to.deep.equal([]);
  });

  it("deleting an endpoint deletes its deployments, and deleting those afterwards succeeds @emulator", async () => {
    const endpoints = await configuredProvider("batchEndpoint");
    const deployments = await configuredProvider("batchDeployment");
    const endpoint = await checkAndCreate(endpoints, {
      ...workspaceInputs(),
      name: uniqueName("ep"),
    });
    const blue = await checkAndCreate(deployments, deploymentInputs(endpoint.id, assets));
    await endpoints.delete(endpoint.id, endpoint.outs);
    expect(await armGet(endpoint.id)).to.equal(undefined);
    expect(await armGet(blue.id)).to.equal(undefined);
    await deployments.delete(blue.id, blue.outs);
    expect(await deployments.read(blue.id, blue.outs)).to.deep.equal({});
    expect(await endpoints.read(endpoint.id, endpoint.outs)).to.deep.equal({});
  });

  it("refuses an endpoint name already taken, saying names are unique per region, and changes nothing @emulator", async () => {
    const endpoints = await configuredProvider("batchEndpoint");
    const name = uniqueName("ep");
    const first = await checkAndCreate(endpoints, { ...workspaceInputs(), name });
    const mark = getEmulator().requests.mark();
    let error: Error | undefined;
    try {
      await checkAndCreate(endpoints, { ...workspaceInputs(), name, description: "second" });
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).to.match(/already exists .* unique per Azure region/);
    expect(writesSince(mark)).to.deep.equal([]);
    expect((await armGet(first.id)).properties.description).to.equal(null);
  });

  it("check names the property it refuses and sends nothing @emulator", async () => {
    const endpoints = await configuredProvider("batchEndpoint");
    const deployments = await configuredProvider("batchDeployment");
    const mark = getEmulator().requests.mark();
    const endpoint = await endpoints.check({}, { ...workspaceInputs(), name: "my--endpoint" });
    expect(endpoint.failures!.map((f) => f.property)).to.deep.equal(["name"]);
    const deployment = await deployments.check(
      {},
      {
        ...deploymentInputs(`${getEmulator().info.workspaceId}/batchEndpoints/ep1`, assets),
        codeConfiguration: undefined,
      },
    );
    expect(deployment.failures!.map((f) => f.property)).to.deep.equal(["codeConfiguration"]);
    expect(getEmulator().requests.since(mark)).to.deep.equal([]);
  });

  it("creates an endpoint and a deployment once through throttling and 5xx on the PUTs, the status polls and the GETs @emulator", async () => {
    const emulator = getEmulator();
    const endpoints = await configuredProvider("batchEndpoint", FAST);
    const deployments = await configuredProvider("batchDeployment", FAST);
    const name = uniqueName("ep");
    emulator.faults.add({
      kind: "status",
      status: 429,
      retryAfter: "0",
      path: `/batchEndpoints/${name}`,
      method: "PUT",
    });
    emulator.faults.add({
      kind: "status",
      status: 503,
      path: "/mfeOperationsStatus/",
      method: "GET",
      times: 2,
    });
    emulator.faults.add({
      kind: "status",
      status: 500,
      path: `/batchEndpoints/${name}/deployments/blue`,
      method: "PUT",
    });
    emulator.faults.add({
      kind: "status",
      status: 502,
      path: `/batchEndpoints/${name}/deployments/blue`,
      method: "GET",
      times: 2,
    });
    const mark = emulator.requests.mark();
    const endpoint = await checkAndCreate(endpoints, { ...workspaceInputs(), name });
    const blue = await checkAndCreate(deployments, deploymentInputs(endpoint.id, assets));
    const faulted = emulator.requests
      .since(mark)
      .filter((r) => r.fault !== undefined)
      .map((r) => `${r.method} ${r.status}`);
    expect(faulted).to.have.members([
      "PUT 429",
      "GET 503",
      "GET 503",
      "PUT 500",
      "GET 502",
      "GET 502",
    ]);
    expect(writesSince(mark)).to.deep.equal([`PUT ${name}`, `PUT ${name}/deployments/blue`]);
    expect(blue.outs.provisioningState).to.equal("Succeeded");
    const list = await armGet(`${endpoint.id}/deployments`);
    expect(list.value.map((d: { name: string }) => d.name)).to.deep.equal(["blue"]);
  });

  it("a deployment whose long-running create fails is deleted again, and the error says so @emulator", async () => {
    const emulator = getEmulator();
    const endpoints = await configuredProvider("batchEndpoint", FAST);
    const deployments = await configuredProvider("batchDeployment", FAST);
    const endpoint = await checkAndCreate(endpoints, {
      ...workspaceInputs(),
      name: uniqueName("ep"),
    });
    emulator.faults.add({
      kind: "lroFail",
      path: "/deployments/blue",
      method: "PUT",
      error: { code: "DeploymentFailed", message: "The compute could not be reached." },
    });
    let error: Error | undefined;
    try {
      await checkAndCreate(deployments, deploymentInputs(endpoint.id, assets));
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).to.contain("The compute could not be reached.");
    expect(error?.message).to.contain("it was deleted again, so nothing is left behind");
    expect(await armGet(`${endpoint.id}/deployments/blue`)).to.equal(undefined);
  });
});

describe("batch creates that fail on the service's side", function () {
  this.timeout(120_000);
  afterEach(() => getEmulator().faults.clear());

  it("an endpoint and a deployment whose creates end InternalServerError are deleted and created again, even when the first delete fails too @emulator", async () => {
    const emulator = getEmulator();
    const assets = await registerAssets();
    const endpoints = await configuredProvider("batchEndpoint", FAST);
    const deployments = await configuredProvider("batchDeployment", FAST);
    const name = uniqueName("ep");
    emulator.faults.add({ kind: "lroFail", method: "PUT", path: `/batchEndpoints/${name}` });
    emulator.faults.add({ kind: "lroFail", method: "DELETE", path: `/batchEndpoints/${name}` });
    emulator.faults.add({ kind: "lroFail", method: "PUT", path: "/deployments/blue" });
    const mark = emulator.requests.mark();
    const endpoint = await checkAndCreate(endpoints, { ...workspaceInputs(), name });
    const blue = await checkAndCreate(deployments, deploymentInputs(endpoint.id, assets));

    expect(writesSince(mark)).to.deep.equal([
      `PUT ${name}`,
      `DELETE ${name}`,
      `DELETE ${name}`,
      `PUT ${name}`,
      `PUT ${name}/deployments/blue`,
      `DELETE ${name}/deployments/blue`,
      `PUT ${name}/deployments/blue`,
    ]);
    expect(emulator.faults.list()).to.deep.equal([]);
    expect((await armGet(endpoint.id)).properties.provisioningState).to.equal("Succeeded");
    expect(blue.outs.provisioningState).to.equal("Succeeded");
    const list = await armGet(`${endpoint.id}/deployments`);
    expect(list.value.map((d: { name: string }) => d.name)).to.deep.equal(["blue"]);
  });

  it("a PUT or DELETE retried after its answer was lost meets the operation it started (409) and waits for it instead of failing @emulator", async () => {
    const emulator = getEmulator();
    const assets = await registerAssets();
    const endpoints = await configuredProvider("batchEndpoint", FAST);
    const deployments = await configuredProvider("batchDeployment", FAST);
    const name = uniqueName("ep");
    // The create fails; the DELETE that undoes it is served but its answer lost, so its retry
    // meets the delete in progress; the deployment's PUT is served but its answer lost too.
    emulator.faults.add({ kind: "lroFail", method: "PUT", path: `/batchEndpoints/${name}` });
    emulator.faults.add({
      kind: "drop",
      afterServing: true,
      method: "DELETE",
      path: `/batchEndpoints/${name}`,
    });
    emulator.faults.add({
      kind: "drop",
      afterServing: true,
      method: "PUT",
      path: "/deployments/blue",
    });
    const mark = emulator.requests.mark();
    const endpoint = await checkAndCreate(endpoints, { ...workspaceInputs(), name });
    const blue = await checkAndCreate(deployments, deploymentInputs(endpoint.id, assets));

    const conflicts = emulator.requests
      .since(mark)
      .filter((r) => r.status === 409)
      .map((r) => `${r.method} ${r.path.split("/batchEndpoints/")[1]}`);
    expect(conflicts).to.deep.equal([`DELETE ${name}`, `PUT ${name}/deployments/blue`]);
    expect(emulator.faults.list()).to.deep.equal([]);
    expect((await armGet(endpoint.id)).properties.provisioningState).to.equal("Succeeded");
    expect(blue.outs.provisioningState).to.equal("Succeeded");
    const list = await armGet(`${endpoint.id}/deployments`);
    expect(list.value.map((d: { name: string }) => d.name)).to.deep.equal(["blue"]);
  });

  it("takes over the endpoint and deployment an interrupted up of the same resource created, still creating, and refuses them to another @emulator", async () => {
    const emulator = getEmulator();
    const assets = await registerAssets();
    const endpoints = await configuredProvider("batchEndpoint", FAST);
    const deployments = await configuredProvider("batchDeployment", FAST);
    const name = uniqueName("ep");
    const ws = emulator.info.workspaceId;
    const mine = "0f0e0d0c0b0a09080706050403020100";
    // What the killed up sent: the creates, with this resource's owner key; both still running.
    const sent = await armCall("PUT", `${ws}/batchEndpoints/${name}`, {
      location: "eastus",
      properties: { authMode: "AADToken", properties: { PulumiAzureMlOwner: mine } },
    });
    expect(sent.status).to.equal(201);
    expect(sent.body.properties.provisioningState).to.equal("Creating");

    // Another resource (another key, or none) is refused, and nothing is sent.
    const mark = emulator.requests.mark();
    for (const ownerKey of ["ffffffffffffffffffffffffffffffff", undefined]) {
      const refused = await checkAndCreate(endpoints, { ...workspaceInputs(), name, ownerKey })
        .then(() => undefined)
        .catch((e: Error) => e.message);
      expect(refused).to.match(/already exists .* this stack did not create it/);
    }
    expect(writesSince(mark)).to.deep.equal([]);

    const endpoint = await checkAndCreate(endpoints, {
      ...workspaceInputs(),
      name,
      description: "taken over",
      ownerKey: mine,
    });
    expect(endpoint.outs.provisioningState).to.equal("Succeeded");
    const live = await armGet(endpoint.id);
    expect(live.properties.description).to.equal("taken over");
    expect(live.properties.properties).to.deep.equal({ PulumiAzureMlOwner: mine });
    expect(endpoint.outs.properties).to.equal(undefined); // the key is not among the program's

    const inputs = { ...deploymentInputs(endpoint.id, assets), ownerKey: mine };
    const checked = (await deployments.check({}, inputs)).inputs;
    const deploymentSent = await armCall("PUT", `${endpoint.id}/deployments/blue`, {
      location: "eastus",
      properties: {
        model: { referenceType: "Id", assetId: assets.customModel },
        codeConfiguration: { codeId: assets.code, scoringScript: "score.py" },
        environmentId: assets.environment,
        compute: `${ws}/computes/cpu-cluster`,
        properties: { PulumiAzureMlOwner: mine },
      },
    });
    expect(deploymentSent.status, JSON.stringify(deploymentSent.body)).to.equal(201);
    const blue = await deployments.create(checked);
    expect(blue.outs.provisioningState).to.equal("Succeeded");
    const deployed = await armGet(blue.id);
    expect(deployed.properties.properties).to.deep.equal({ PulumiAzureMlOwner: mine });
    expect(deployed.properties.description).to.equal("first");
    const list = await armGet(`${endpoint.id}/deployments`);
    expect(list.value.map((d: { name: string }) => d.name)).to.deep.equal(["blue"]);
    // A later update keeps the key, which Azure ML would refuse to see removed.
    const updated = await endpoints.update(endpoint.id, endpoint.outs, {
      ...endpoint.outs,
      description: "updated",
    });
    expect(updated.outs.description).to.equal("updated");
    expect((await armGet(endpoint.id)).properties.properties).to.deep.equal({
      PulumiAzureMlOwner: mine,
    });
  });

  it("check refuses the owner key's property among a program's own @emulator", async () => {
    const assets = await registerAssets();
    const endpoints = await configuredProvider("batchEndpoint");
    const deployments = await configuredProvider("batchDeployment");
    const mark = getEmulator().requests.mark();
    const properties = { PulumiAzureMlOwner: "mine" };
    const endpoint = await endpoints.check(
      {},
      { ...workspaceInputs(), name: "my-endpoint", properties },
    );
    const deployment = await deployments.check(
      {},
      {
        ...deploymentInputs(`${getEmulator().info.workspaceId}/batchEndpoints/ep1`, assets),
        properties,
      },
    );
    for (const result of [endpoint, deployment]) {
      expect(result.failures!.map((f) => f.property)).to.deep.equal([
        "properties.PulumiAzureMlOwner",
      ]);
    }
    expect(getEmulator().requests.since(mark)).to.deep.equal([]);
  });
});
