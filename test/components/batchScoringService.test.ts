import { expect } from "chai";
import { recordResources, settled, urnOf } from "../support/mocks";

const WORKSPACE = { resourceGroupName: "rg", workspaceName: "ws" };

describe("BatchScoringService component", function () {
  it("creates the endpoint, a deployment of the model and makes it the default, all under the component @unit", async () => {
    const seen = await recordResources("scoring", (type) =>
      type.endsWith(":BatchDeployment") ? { createdAt: "2026-12-07T00:00:00Z" } : {},
    );
    const index = await import("../../index.js");
    const model = new index.ModelVersion("model", {
      ...WORKSPACE,
      modelType: "mlflow_model",
      path: "azureml://jobs/j/outputs/model",
    });
    const service = new index.BatchScoringService("iris-scorer", {
      ...WORKSPACE,
      model,
      compute: "batch-cluster",
      miniBatchSize: 5,
    });
    await settled(service, service.endpoint, service.deployment, service.defaultDeployment);
    const byName = Object.fromEntries(seen.map((r) => [r.name, r]));
    expect(byName["iris-scorer"].type).to.equal("azureml:components:BatchScoringService");
    expect(byName["iris-scorer-endpoint"].inputs).to.include({ name: "iris-scorer" });
    expect(byName["iris-scorer-deployment"].inputs).to.include({
      name: "blue",
      modelId: "/ids/model",
      modelType: "mlflow_model",
      compute: "batch-cluster",
      miniBatchSize: 5,
      endpointId: "/ids/iris-scorer-endpoint",
    });
    expect(byName["iris-scorer-default"].inputs).to.include({
      endpointId: "/ids/iris-scorer-endpoint",
      deploymentName: "blue",
      deploymentCreatedAt: "2026-12-07T00:00:00Z",
    });
    expect(await urnOf(service.defaultDeployment)).to.contain(
      "azureml:components:BatchScoringService$pulumi-nodejs:dynamic/azureml:BatchEndpointDefaultDeployment",
    );
  });

  it("passes a scoring script with its code, and refuses one without the other @unit", async () => {
    const seen = await recordResources("scoring-script");
    const m = await import("../../components/index.js");
    const service = new m.BatchScoringService("scorer", {
      ...WORKSPACE,
      model: "azureml:iris:1",
      code: "azureml:score-code:2",
      scoringScript: "score.py",
      environment: "azureml:score-env:1",
      compute: "batch-cluster",
    });
    await settled(service, service.deployment);
    expect(seen.find((r) => r.name === "scorer-deployment")!.inputs).to.deep.include({
      codeConfiguration: { codeId: "azureml:score-code:2", scoringScript: "score.py" },
      environmentId: "azureml:score-env:1",
    });
    expect(
      () =>
        new m.BatchScoringService("half", {
          ...WORKSPACE,
          model: "azureml:iris:1",
          scoringScript: "score.py",
          compute: "c",
        }),
    ).to.throw(/\[code\].*\[scoringScript\]/);
  });
});
