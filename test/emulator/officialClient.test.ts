// Fidelity check: Microsoft's generated ARM client, unchanged, against the emulator over HTTPS with
// the real credential chain (DefaultAzureCredential → App Service managed identity → the emulator).
// Where the two disagree, the emulator is wrong unless the client is wrong about Azure.
import { AzureMachineLearningWorkspaces } from "@azure/arm-machinelearning";
import { DefaultAzureCredential } from "@azure/identity";
import { expect } from "chai";
import { getEmulator, uniqueName } from "../support/emulator";

/** Collects a paged listing. */
async function all<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of pages) {
    items.push(item);
  }
  return items;
}

/** Resolves the HTTP status a rejected client call carried (RestError.statusCode). */
async function statusOf(call: Promise<unknown>): Promise<number | undefined> {
  return call.then(
    () => 200,
    (error: { statusCode?: number }) => error.statusCode,
  );
}

describe("@azure/arm-machinelearning 2.1.1 against the emulator @emulator", () => {
  let client: AzureMachineLearningWorkspaces;
  let rg: string;
  let ws: string;
  let blobEndpoint: string;
  let subscriptionId: string;

  before(() => {
    const { info } = getEmulator();
    rg = info.resourceGroupName;
    ws = info.workspaceName;
    blobEndpoint = info.blobEndpoint;
    subscriptionId = info.subscriptionId;
    // `$host` fills the URL template and `endpoint` the pipeline; the scope must stay ARM's, since
    // the client would otherwise derive it from the endpoint (`https://127.0.0.1:<port>/.default`).
    client = new AzureMachineLearningWorkspaces(new DefaultAzureCredential(), info.subscriptionId, {
      $host: info.armEndpoint,
      endpoint: info.armEndpoint,
      credentialScopes: ["https://management.azure.com/.default"],
    });
  });

  it("creates, gets, lists and deletes an environment version and its container", async () => {
    const name = uniqueName("env");
    const image = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest";
    const created = await client.environmentVersions.createOrUpdate(rg, ws, name, "1", {
      properties: { image, description: "official client" },
    });
    expect(created.name).to.equal("1");
    expect(created.properties.image).to.equal(image);
    expect(created.id).to.match(
      new RegExp(`/workspaces/${ws}/environments/${name}/versions/1$`, "i"),
    );

    const got = await client.environmentVersions.get(rg, ws, name, "1");
    expect(got.properties.image).to.equal(image);
    expect(got.properties.description).to.equal("official client");
    const versions = await all(client.environmentVersions.list(rg, ws, name));
    expect(versions.map((v) => v.name)).to.deep.equal(["1"]);

    const container = await client.environmentContainers.get(rg, ws, name);
    expect(container.name).to.equal(name);
    expect(container.properties.latestVersion).to.equal("1");
    const containers = await all(client.environmentContainers.list(rg, ws));
    expect(containers.map((c) => c.name)).to.include(name);

    await client.environmentVersions.delete(rg, ws, name, "1");
    expect(await statusOf(client.environmentVersions.get(rg, ws, name, "1"))).to.equal(404);
    await client.environmentContainers.delete(rg, ws, name);
    expect(await statusOf(client.environmentContainers.get(rg, ws, name))).to.equal(404);
  });

  it("creates, gets, lists and deletes a uri_file data version and its container", async () => {
    const name = uniqueName("data");
    const dataUri = `${blobEndpoint}workspaceblobstore/datasets/${name}/data.csv`;
    const created = await client.dataVersions.createOrUpdate(rg, ws, name, "1", {
      properties: { dataType: "uri_file", dataUri, tags: { source: "official-client" } },
    });
    expect(created.properties.dataType).to.equal("uri_file");
    expect(created.properties.dataUri).to.equal(dataUri);

    const got = await client.dataVersions.get(rg, ws, name, "1");
    expect(got.properties.tags).to.deep.equal({ source: "official-client" });
    const versions = await all(client.dataVersions.list(rg, ws, name));
    expect(versions.map((v) => v.name)).to.deep.equal(["1"]);
    const container = await client.dataContainers.get(rg, ws, name);
    expect(container.properties.dataType).to.equal("uri_file");
    expect((await all(client.dataContainers.list(rg, ws))).map((c) => c.name)).to.include(name);

    await client.dataVersions.delete(rg, ws, name, "1");
    expect(await statusOf(client.dataVersions.get(rg, ws, name, "1"))).to.equal(404);
    await client.dataContainers.delete(rg, ws, name);
    expect(await statusOf(client.dataContainers.get(rg, ws, name))).to.equal(404);
  });

  it("creates, gets, lists and deletes a code version and its container", async () => {
    const name = uniqueName("code");
    const codeUri = `${blobEndpoint}workspaceblobstore/LocalUpload/${name}/src`;
    const created = await client.codeVersions.createOrUpdate(rg, ws, name, "1", {
      properties: { codeUri, properties: { hash_sha256: "0".repeat(64), hash_version: "202208" } },
    });
    expect(created.properties.codeUri).to.equal(codeUri);

    const got = await client.codeVersions.get(rg, ws, name, "1");
    expect(got.properties.properties).to.include({ hash_version: "202208" });
    expect((await all(client.codeVersions.list(rg, ws, name))).map((v) => v.name)).to.deep.equal([
      "1",
    ]);
    expect((await client.codeContainers.get(rg, ws, name)).name).to.equal(name);
    expect((await all(client.codeContainers.list(rg, ws))).map((c) => c.name)).to.include(name);

    await client.codeVersions.delete(rg, ws, name, "1");
    expect(await statusOf(client.codeVersions.get(rg, ws, name, "1"))).to.equal(404);
    await client.codeContainers.delete(rg, ws, name);
    expect(await statusOf(client.codeContainers.get(rg, ws, name))).to.equal(404);
  });

  it("creates, gets, lists and deletes a model version and its container", async () => {
    const name = uniqueName("model");
    const modelUri = `azureml://subscriptions/${subscriptionId}/resourcegroups/${rg}/workspaces/${ws}/datastores/workspaceblobstore/paths/models/${name}`;
    const created = await client.modelVersions.createOrUpdate(rg, ws, name, "1", {
      properties: { modelUri, modelType: "custom_model", description: "official client" },
    });
    expect(created.properties.modelType).to.equal("custom_model");

    const got = await client.modelVersions.get(rg, ws, name, "1");
    expect(got.properties.modelUri).to.equal(modelUri);
    expect((await all(client.modelVersions.list(rg, ws, name))).map((v) => v.name)).to.deep.equal([
      "1",
    ]);
    expect((await client.modelContainers.get(rg, ws, name)).name).to.equal(name);
    expect((await all(client.modelContainers.list(rg, ws))).map((c) => c.name)).to.include(name);

    await client.modelVersions.delete(rg, ws, name, "1");
    expect(await statusOf(client.modelVersions.get(rg, ws, name, "1"))).to.equal(404);
    await client.modelContainers.delete(rg, ws, name);
    expect(await statusOf(client.modelContainers.get(rg, ws, name))).to.equal(404);
  });

  it("creates and deletes a compute through Microsoft's long-running-operation poller", async () => {
    const name = uniqueName("cc").slice(0, 20);
    const mark = getEmulator().requests.mark();
    const created = await client.computeOperations.beginCreateOrUpdateAndWait(
      rg,
      ws,
      name,
      {
        location: getEmulator().info.location,
        properties: {
          computeType: "AmlCompute",
          properties: {
            vmSize: "STANDARD_D2_V2",
            scaleSettings: { maxNodeCount: 2, minNodeCount: 0 },
          },
        },
      },
      { updateIntervalInMs: 10 },
    );
    expect(created.properties?.provisioningState).to.equal("Succeeded");
    await client.computeOperations.beginDeleteAndWait(rg, ws, name, "Delete", {
      updateIntervalInMs: 10,
    });
    expect(await statusOf(client.computeOperations.get(rg, ws, name))).to.equal(404);
    // The poller followed the emulator's operation URLs, as it would Azure's.
    const polled = getEmulator()
      .requests.since(mark)
      .map((r) => r.path)
      .filter((p) => /mfeOperation(sStatus|Results)\//.test(p));
    expect(polled.length).to.be.greaterThan(0);
  });

  it("reads the workspace and a datastore's account key, which Microsoft's storage client accepts", async () => {
    const workspace = await client.workspaces.get(rg, ws);
    const account = getEmulator().info.storageAccountName;
    expect(workspace.storageAccount).to.match(
      new RegExp(`/Microsoft.Storage/storageAccounts/${account}$`, "i"),
    );
    const store = await client.datastores.get(rg, ws, "workspaceblobstore");
    const secrets = (await client.datastores.listSecrets(rg, ws, "workspaceblobstore")) as {
      secretsType: string;
      key?: string;
    };
    expect(secrets.secretsType).to.equal("AccountKey");
    const { ContainerClient, StorageSharedKeyCredential } = await import("@azure/storage-blob");
    const containerName = (store.properties as { containerName: string }).containerName;
    const container = new ContainerClient(
      `${blobEndpoint}${containerName}`,
      new StorageSharedKeyCredential(account, secrets.key as string),
    );
    const blobName = `${uniqueName("probe")}.txt`;
    await container.getBlockBlobClient(blobName).upload("ok", 2);
    expect((await container.getBlobClient(blobName).downloadToBuffer()).toString()).to.equal("ok");
  });

  it("lists the workspace's computes and datastores, including a default blob datastore", async () => {
    const computes = await all(client.computeOperations.list(rg, ws));
    for (const compute of computes) {
      expect(compute.properties?.computeType).to.be.a("string");
    }
    const datastores = await all(client.datastores.list(rg, ws));
    const defaults = datastores.filter((d) => d.properties.isDefault);
    expect(defaults).to.have.length(1);
    expect(defaults[0].properties.datastoreType).to.equal("AzureBlob");
  });
});
