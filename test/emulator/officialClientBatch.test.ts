// Fidelity check for batch endpoints and deployments: Microsoft's generated ARM client, unchanged,
// drives the emulator's long-running operations through its own pollers (Azure-AsyncOperation for
// PUT, Location for PATCH and DELETE).
import { AzureMachineLearningWorkspaces } from "@azure/arm-machinelearning";
import { DefaultAzureCredential } from "@azure/identity";
import { expect } from "chai";
import { armCall } from "../support/arm";
import { getEmulator, uniqueName } from "../support/emulator";

async function statusOf(call: Promise<unknown>): Promise<number | undefined> {
  return call.then(
    () => 200,
    (error: { statusCode?: number }) => error.statusCode,
  );
}

describe("@azure/arm-machinelearning 2.1.1 batch endpoints against the emulator @emulator", () => {
  it("creates, updates, gets and deletes a batch endpoint and deployment through its own pollers", async () => {
    const { info } = getEmulator();
    const client = new AzureMachineLearningWorkspaces(
      new DefaultAzureCredential(),
      info.subscriptionId,
      {
        $host: info.armEndpoint,
        endpoint: info.armEndpoint,
        credentialScopes: ["https://management.azure.com/.default"],
      },
    );
    const rg = info.resourceGroupName;
    const ws = info.workspaceName;
    const model = uniqueName("ocmodel");
    const modelId = (
      await armCall("PUT", `${info.workspaceId}/models/${model}/versions/1`, {
        properties: {
          modelUri: "azureml://datastores/workspaceblobstore/paths/m/",
          modelType: "mlflow_model",
        },
      })
    ).body.id as string;
    const name = uniqueName("ep");
    const poll = { updateIntervalInMs: 10 };
    const mark = getEmulator().requests.mark();

    const endpoint = await client.batchEndpoints.beginCreateOrUpdateAndWait(
      rg,
      ws,
      name,
      {
        location: info.location,
        properties: { authMode: "AADToken", description: "official client" },
      },
      poll,
    );
    expect(endpoint.properties.provisioningState).to.equal("Succeeded");
    expect(endpoint.properties.scoringUri).to.equal(
      `${info.armEndpoint}/inference/${info.location}/${name}/jobs`,
    );

    const deployment = await client.batchDeployments.beginCreateOrUpdateAndWait(
      rg,
      ws,
      name,
      "mlflow",
      {
        location: info.location,
        properties: {
          model: { referenceType: "Id", assetId: modelId },
          compute: `${info.workspaceId}/computes/cpu-cluster`,
          miniBatchSize: 3,
        },
      },
      poll,
    );
    expect(deployment.properties.provisioningState).to.equal("Succeeded");
    expect(deployment.properties.miniBatchSize).to.equal(3);

    const tagged = await client.batchEndpoints.beginUpdateAndWait(
      rg,
      ws,
      name,
      { tags: { team: "ml" } },
      poll,
    );
    expect(tagged.tags).to.deep.equal({ team: "ml" });
    const got = await client.batchEndpoints.get(rg, ws, name);
    expect(got.properties.defaults?.deploymentName).to.equal("mlflow");
    const described = await client.batchDeployments.beginUpdateAndWait(
      rg,
      ws,
      name,
      "mlflow",
      { properties: { description: "patched" } },
      poll,
    );
    expect(described.properties.description).to.equal("patched");

    await client.batchEndpoints.beginDeleteAndWait(rg, ws, name, poll);
    expect(await statusOf(client.batchEndpoints.get(rg, ws, name))).to.equal(404);
    expect(await statusOf(client.batchDeployments.get(rg, ws, name, "mlflow"))).to.equal(404);
    const polled = getEmulator()
      .requests.since(mark)
      .map((r) => r.path)
      .filter((p) => /mfeOperation(sStatus|Results)\//.test(p));
    expect(polled.some((p) => p.includes("mfeOperationsStatus"))).to.equal(true);
    expect(polled.some((p) => p.includes("mfeOperationResults"))).to.equal(true);
  });
});
