// examples/azure under Pulumi mocks: the workspace and its dependencies come from
// @pulumi/azure-native, and every pulumi-azureml resource of the flow lands in that workspace
// through its ARM id.
import { expect } from "chai";
import { recordResources } from "../support/mocks";

const WORKSPACE_ID =
  "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/ml/providers/Microsoft.MachineLearningServices/workspaces/ml-workspace";

describe("examples/azure under mocks", function () {
  it("creates the workspace with its storage, key vault, insights and cluster, and runs the flow in it by [workspaceId] @unit", async () => {
    const seen = await recordResources("azureml-azure", (type, name, inputs) => {
      if (type === "azure-native:machinelearningservices:Workspace") {
        return { id: WORKSPACE_ID, name: "ml-workspace" };
      }
      if (type === "azure-native:machinelearningservices:Compute") {
        return { name: inputs.computeName };
      }
      if (type.startsWith("azure-native:")) {
        return { id: `/azure/${name}`, name };
      }
      if (type.endsWith(":SweepJob")) {
        return {
          bestPrimaryMetric: 0.97,
          bestTrialMetrics: { accuracy: 0.97 },
          bestModelUri: "azureml://jobs/sweep_1/outputs/model",
        };
      }
      return { assetId: `/assets/${name}`, assetReference: `azureml:${name}:1` };
    });
    const { program } = await import("../../examples/azure/index.js");
    const outputs = program();
    await new Promise<void>((resolve) => outputs.firstPredictions.apply(() => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 50));

    const types = seen.map((r) => r.type);
    for (const type of [
      "azure-native:resources:ResourceGroup",
      "azure-native:storage:StorageAccount",
      "azure-native:keyvault:Vault",
      "azure-native:applicationinsights:Component",
      "azure-native:machinelearningservices:Workspace",
      "azure-native:machinelearningservices:Compute",
    ]) {
      expect(types).to.include(type);
    }
    const workspace = seen.find((r) => r.type.endsWith("machinelearningservices:Workspace"))!;
    expect(workspace.inputs).to.include({
      storageAccount: "/azure/mlstore",
      keyVault: "/azure/ml-kv",
      applicationInsights: "/azure/ml-insights",
    });
    const ml = seen.filter(
      (r) => r.type.startsWith("pulumi-nodejs:dynamic/azureml:") && r.inputs.workspaceId,
    );
    expect(ml.map((r) => r.name)).to.include.members([
      "iris-train-code",
      "iris-train-job",
      "iris-sweep-sweep",
      "iris-sweep-model",
      "iris-scorer-endpoint",
      "iris-scoring-data",
    ]);
    for (const resource of ml) {
      expect(resource.inputs.workspaceId, resource.name).to.equal(WORKSPACE_ID);
    }
    const job = seen.find((r) => r.name === "iris-train-job")!;
    expect(job.inputs.compute).to.equal("cpu-cluster");
    expect(seen.find((r) => r.name === "iris-scoring-job")!.inputs).to.include({
      endpointId: "/ids/iris-scorer-endpoint",
      deploymentName: "blue",
    });
  });
});
