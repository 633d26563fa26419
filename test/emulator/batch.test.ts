// The emulator's batch endpoint and deployment routes, driven over HTTPS with plain ARM calls.
import { expect } from "chai";
import { armCall, type ArmReply } from "../support/arm";
import { getEmulator, uniqueName } from "../support/emulator";

function ws(): string {
  return getEmulator().info.workspaceId;
}

const endpointPath = (name: string) => `${ws()}/batchEndpoints/${name}`;
const deploymentPath = (endpoint: string, name: string) =>
  `${endpointPath(endpoint)}/deployments/${name}`;

/** Runs an LRO answer to its end the way a client does: poll the header URL until terminal. */
async function settle(reply: ArmReply): Promise<ArmReply> {
  const statusUrl = reply.headers["azure-asyncoperation"];
  if (statusUrl !== undefined) {
    for (;;) {
      const status = await armCall("GET", statusUrl);
      if (status.body.status !== "InProgress") {
        return status;
      }
    }
  }
  const location = reply.headers["location"];
  for (;;) {
    const answer = await armCall("GET", location);
    if (answer.status !== 202) {
      return answer;
    }
  }
}

async function createEndpoint(name: string, extra: Record<string, unknown> = {}): Promise<void> {
  const reply = await armCall("PUT", endpointPath(name), {
    location: "eastus",
    properties: { authMode: "aadToken", ...extra },
  });
  expect(reply.status, JSON.stringify(reply.body)).to.equal(201);
  expect((await settle(reply)).body.status).to.equal("Succeeded");
}

interface Assets {
  customModel: string;
  mlflowModel: string;
  code: string;
  environment: string;
  compute: string;
}

async function registerAssets(): Promise<Assets> {
  const model = uniqueName("bmodel");
  const mlflow = uniqueName("bmlflow");
  const code = uniqueName("bcode");
  const env = uniqueName("benv");
  const put = async (path: string, properties: Record<string, unknown>) => {
    const reply = await armCall("PUT", path, { properties });
    expect(reply.status, JSON.stringify(reply.body)).to.equal(201);
    return reply.body.id as string;
  };
  return {
    customModel: await put(`${ws()}/models/${model}/versions/1`, {
      modelUri: "azureml://datastores/workspaceblobstore/paths/models/m/",
      modelType: "custom_model",
    }),
    mlflowModel: await put(`${ws()}/models/${mlflow}/versions/1`, {
      modelUri: "azureml://datastores/workspaceblobstore/paths/models/mlflow/",
      modelType: "mlflow_model",
    }),
    code: await put(`${ws()}/codes/${code}/versions/1`, {
      codeUri: "https://127.0.0.1/devstoreaccount1/code/",
    }),
    environment: await put(`${ws()}/environments/${env}/versions/1`, { image: "python:3.11" }),
    compute: `${ws()}/computes/cpu-cluster`,
  };
}

function deploymentBody(assets: Assets, overrides: Record<string, unknown> = {}) {
  return {
    location: "eastus",
    properties: {
      model: { referenceType: "Id", assetId: assets.customModel },
      codeConfiguration: { codeId: assets.code, scoringScript: "score.py" },
      environmentId: assets.environment,
      compute: assets.compute,
      // The public REST sample sends numbers as strings and enums in lower case.
      miniBatchSize: "5",
      loggingLevel: "info",
      ...overrides,
    },
  };
}

describe("emulator batch endpoints and deployments @emulator", function () {
  let assets: Assets;
  before(async () => {
    assets = await registerAssets();
  });

  it("creates an endpoint with 201 + Azure-AsyncOperation, echoes the operation URL and serves a scoring URI of its own @emulator", async () => {
    const name = uniqueName("ep");
    const reply = await armCall("PUT", endpointPath(name), {
      location: "eastus",
      properties: { authMode: "aadToken", description: "first" },
    });
    expect(reply.status).to.equal(201);
    expect(reply.headers["azure-asyncoperation"]).to.match(/\/mfeOperationsStatus\//);
    expect(reply.headers["retry-after"]).to.equal("0");
    expect(reply.body.properties.provisioningState).to.equal("Creating");
    expect(reply.body.properties.properties.AzureAsyncOperationUri).to.equal(
      reply.headers["azure-asyncoperation"],
    );
    expect(reply.body.properties.authMode).to.equal("AADToken");
    expect((await settle(reply)).body.status).to.equal("Succeeded");
    const live = (await armCall("GET", endpointPath(name))).body;
    expect(live.properties.provisioningState).to.equal("Succeeded");
    expect(live.properties.properties).to.deep.equal({});
    const { armEndpoint } = getEmulator().info;
    expect(live.properties.scoringUri).to.equal(`${armEndpoint}/inference/eastus/${name}/jobs`);
    expect(live.properties.swaggerUri).to.equal(
      `${armEndpoint}/inference/eastus/${name}/swagger.json`,
    );
    const keys = await armCall("POST", `${endpointPath(name)}/listkeys`);
    expect(keys.body).to.deep.equal({ primaryKey: null, secondaryKey: null });
  });

  it("updates an endpoint's tags with a PATCH answered 202 + Location, whose final answer is the endpoint @emulator", async () => {
    const name = uniqueName("ep");
    await createEndpoint(name);
    const reply = await armCall("PATCH", endpointPath(name), { tags: { team: "ml" } });
    expect(reply.status).to.equal(202);
    expect(reply.headers.location).to.match(/\/mfeOperationResults\//);
    expect(reply.headers["azure-asyncoperation"]).to.equal(undefined);
    const final = await settle(reply);
    expect(final.status).to.equal(200);
    expect(final.body.tags).to.deep.equal({ team: "ml" });
    expect(final.body.properties.provisioningState).to.equal("Succeeded");
  });

  it("refuses what Azure does not change in place: a removed endpoint property and a new location @emulator", async () => {
    const name = uniqueName("ep");
    await createEndpoint(name, { properties: { owner: "a" } });
    const removed = await armCall("PUT", endpointPath(name), {
      location: "eastus",
      properties: { authMode: "AADToken", properties: {} },
    });
    expect(removed.status).to.equal(400);
    expect(removed.body.error.message).to.contain("'owner' cannot be removed");
    const moved = await armCall("PUT", endpointPath(name), {
      location: "westus",
      properties: { authMode: "AADToken", properties: { owner: "a" } },
    });
    expect(moved.status).to.equal(400);
    expect(moved.body.error.target).to.equal("location");
    const added = await armCall("PUT", endpointPath(name), {
      location: "eastus",
      properties: { authMode: "AADToken", properties: { owner: "a", cost: "1" } },
    });
    expect(added.status).to.equal(200);
  });

  it("refuses a default deployment the endpoint does not have @emulator", async () => {
    const name = uniqueName("ep");
    await createEndpoint(name);
    const reply = await armCall("PUT", endpointPath(name), {
      location: "eastus",
      properties: { authMode: "AADToken", defaults: { deploymentName: "missing" } },
    });
    expect(reply.status).to.equal(400);
    expect(reply.body.error.target).to.equal("properties.defaults.deploymentName");
    expect(reply.body.error.message).to.contain("'missing' does not exist");
  });

  it("refuses a deployment of a missing endpoint, model, code, environment or compute, naming the field @emulator", async () => {
    const endpoint = uniqueName("ep");
    const missingEndpoint = await armCall(
      "PUT",
      deploymentPath(endpoint, "blue"),
      deploymentBody(assets),
    );
    expect(missingEndpoint.status).to.equal(404);
    await createEndpoint(endpoint);
    const cases: Array<[Record<string, unknown>, string]> = [
      [
        { model: { referenceType: "Id", assetId: `${ws()}/models/nope/versions/1` } },
        "properties.model.assetId",
      ],
      [
        { codeConfiguration: { codeId: `${ws()}/codes/nope/versions/1`, scoringScript: "s.py" } },
        "properties.codeConfiguration.codeId",
      ],
      [{ environmentId: `${ws()}/environments/nope/versions/1` }, "properties.environmentId"],
      [{ compute: `${ws()}/computes/nope` }, "properties.compute"],
    ];
    for (const [override, target] of cases) {
      const reply = await armCall(
        "PUT",
        deploymentPath(endpoint, "blue"),
        deploymentBody(assets, override),
      );
      expect(reply.status, target).to.equal(400);
      expect(reply.body.error.target).to.equal(target);
    }
    expect((await armCall("GET", deploymentPath(endpoint, "blue"))).status).to.equal(404);
  });

  it("needs a scoring script for a custom model but not for an MLflow model @emulator", async () => {
    const endpoint = uniqueName("ep");
    await createEndpoint(endpoint);
    const custom = await armCall("PUT", deploymentPath(endpoint, "custom"), {
      location: "eastus",
      properties: {
        model: { referenceType: "Id", assetId: assets.customModel },
        compute: assets.compute,
      },
    });
    expect(custom.status).to.equal(400);
    expect(custom.body.error.message).to.contain("missing: codeConfiguration, environmentId");
    const mlflow = await armCall("PUT", deploymentPath(endpoint, "mlflow"), {
      location: "eastus",
      properties: {
        model: { referenceType: "Id", assetId: assets.mlflowModel },
        compute: "cpu-cluster",
      },
    });
    expect(mlflow.status, JSON.stringify(mlflow.body)).to.equal(201);
  });

  it("creates a deployment with server defaults and makes the endpoint's first deployment its default @emulator", async () => {
    const endpoint = uniqueName("ep");
    await createEndpoint(endpoint);
    const reply = await armCall("PUT", deploymentPath(endpoint, "blue"), deploymentBody(assets));
    expect(reply.status).to.equal(201);
    expect(reply.headers["azure-asyncoperation"]).to.match(/\/mfeOperationsStatus\//);
    expect(reply.body.properties.properties.AzureAsyncOperationUri).to.be.a("string");
    expect((await settle(reply)).body.status).to.equal("Succeeded");
    const live = (await armCall("GET", deploymentPath(endpoint, "blue"))).body;
    expect(live.properties).to.deep.include({
      miniBatchSize: 5,
      loggingLevel: "Info",
      maxConcurrencyPerInstance: 1,
      errorThreshold: -1,
      outputAction: "AppendRow",
      outputFileName: "predictions.csv",
      provisioningState: "Succeeded",
    });
    expect(live.properties.retrySettings).to.deep.equal({ maxRetries: 3, timeout: "PT30S" });
    expect(live.properties.resources).to.deep.include({ instanceCount: 1 });
    const ep = (await armCall("GET", endpointPath(endpoint))).body;
    expect(ep.properties.defaults).to.deep.equal({ deploymentName: "blue" });

    const green = await armCall("PUT", deploymentPath(endpoint, "green"), deploymentBody(assets));
    await settle(green);
    expect((await armCall("GET", endpointPath(endpoint))).body.properties.defaults).to.deep.equal({
      deploymentName: "blue",
    });
    const switched = await armCall("PUT", endpointPath(endpoint), {
      location: "eastus",
      properties: { authMode: "AADToken", defaults: { deploymentName: "green" } },
    });
    expect(switched.status).to.equal(200);
    await settle(switched);
    const list = (await armCall("GET", `${endpointPath(endpoint)}/deployments`)).body;
    expect(list.value.map((d: { name: string }) => d.name)).to.deep.equal(["green", "blue"]);
    expect((await armCall("GET", endpointPath(endpoint))).body.properties.defaults).to.deep.equal({
      deploymentName: "green",
    });
  });

  it("updates a deployment's settings in place but refuses a new scoring script or instance count @emulator", async () => {
    const endpoint = uniqueName("ep");
    await createEndpoint(endpoint);
    await settle(await armCall("PUT", deploymentPath(endpoint, "blue"), deploymentBody(assets)));
    const resized = await armCall(
      "PUT",
      deploymentPath(endpoint, "blue"),
      deploymentBody(assets, { miniBatchSize: 20 }),
    );
    expect(resized.status).to.equal(200);
    expect(resized.body.properties.provisioningState).to.equal("Updating");
    await settle(resized);
    expect(
      (await armCall("GET", deploymentPath(endpoint, "blue"))).body.properties.miniBatchSize,
    ).to.equal(20);
    const script = await armCall(
      "PUT",
      deploymentPath(endpoint, "blue"),
      deploymentBody(assets, {
        codeConfiguration: { codeId: assets.code, scoringScript: "other.py" },
      }),
    );
    expect(script.status).to.equal(400);
    expect(script.body.error.target).to.equal("properties.codeConfiguration");
    const scaled = await armCall(
      "PUT",
      deploymentPath(endpoint, "blue"),
      deploymentBody(assets, { resources: { instanceCount: 2 } }),
    );
    expect(scaled.status).to.equal(400);
    expect(scaled.body.error.target).to.equal("properties.resources");
    const described = await armCall("PATCH", deploymentPath(endpoint, "blue"), {
      properties: { description: "patched" },
      tags: { v: "2" },
    });
    expect(described.status).to.equal(202);
    const final = await settle(described);
    expect(final.body.properties.description).to.equal("patched");
    expect(final.body.tags).to.deep.equal({ v: "2" });
  });

  it("deleting the default deployment leaves the endpoint without a default @emulator", async () => {
    const endpoint = uniqueName("ep");
    await createEndpoint(endpoint);
    await settle(await armCall("PUT", deploymentPath(endpoint, "blue"), deploymentBody(assets)));
    const reply = await armCall("DELETE", deploymentPath(endpoint, "blue"));
    expect(reply.status).to.equal(202);
    expect((await settle(reply)).status).to.equal(204);
    expect((await armCall("GET", deploymentPath(endpoint, "blue"))).status).to.equal(404);
    expect((await armCall("GET", endpointPath(endpoint))).body.properties.defaults).to.deep.equal(
      {},
    );
  });

  it("deletes an endpoint with its deployments; its name is refused while the delete runs @emulator", async () => {
    const endpoint = uniqueName("ep");
    await createEndpoint(endpoint);
    await settle(await armCall("PUT", deploymentPath(endpoint, "blue"), deploymentBody(assets)));
    await settle(await armCall("PUT", deploymentPath(endpoint, "green"), deploymentBody(assets)));
    const reply = await armCall("DELETE", endpointPath(endpoint));
    expect(reply.status).to.equal(202);
    expect(reply.headers.location).to.match(/\/mfeOperationResults\//);
    const deleting = await armCall("GET", deploymentPath(endpoint, "green"));
    expect(deleting.body.properties.provisioningState).to.equal("Deleting");
    const recreate = await armCall("PUT", endpointPath(endpoint), {
      location: "eastus",
      properties: { authMode: "AADToken" },
    });
    expect(recreate.status).to.equal(409);
    expect(recreate.body.error.message).to.contain("must be unique per region");
    expect((await settle(reply)).status).to.equal(204);
    expect((await armCall("GET", endpointPath(endpoint))).status).to.equal(404);
    for (const name of ["blue", "green"]) {
      expect((await armCall("GET", deploymentPath(endpoint, name))).status).to.equal(404);
    }
    // The name is free again, and the new endpoint has no deployments.
    await createEndpoint(endpoint);
    const list = (await armCall("GET", `${endpointPath(endpoint)}/deployments`)).body;
    expect(list.value).to.deep.equal([]);
    expect((await armCall("DELETE", endpointPath(uniqueName("gone")))).status).to.equal(204);
  });
});
