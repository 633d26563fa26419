// The resource classes turn the resources a program passes (endpoint, model, code, environment,
// deployment) into the ids and facts the providers receive.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, any>;
}

describe("batch resource classes", function () {
  it("pass ids for resources, the model's type, and the deployment's name and creation time to the default @unit", async () => {
    const seen: Registered[] = [];
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          seen.push({ type: args.type, name: args.name, inputs: args.inputs });
          const state: Record<string, unknown> = { ...args.inputs };
          if (args.type.endsWith(":BatchDeployment")) {
            state.createdAt = "2026-12-06T00:00:00.000Z";
          }
          return { id: `/ids/${args.name}`, state };
        },
        call: (args) => args.inputs,
      },
      "batch",
      "test",
      false,
    );
    const m = await import("../../index.js");
    const workspace = { resourceGroupName: "rg", workspaceName: "mlw" };
    const endpoint = new m.BatchEndpoint("scorer", workspace);
    const model = new m.ModelVersion("model", {
      ...workspace,
      modelType: "mlflow_model",
      path: "azureml://jobs/j/outputs/model",
    });
    const code = new m.CodeVersion("code", { ...workspace, path: "src" });
    const env = new m.EnvironmentVersion("env", { ...workspace, image: "python:3.11" });
    const blue = new m.BatchDeployment("blue", {
      endpoint,
      model,
      codeConfiguration: { code, scoringScript: "score.py" },
      environment: env,
      compute: "cpu-cluster",
    });
    const byDefault = new m.BatchEndpointDefaultDeployment("default", {
      endpoint,
      deployment: blue,
    });
    await new Promise((resolve) => byDefault.urn.apply(resolve));
    const inputs = (name: string) => seen.find((r) => r.name === name)!.inputs;
    expect(inputs("blue")).to.deep.include({
      name: "blue",
      endpointId: "/ids/scorer",
      modelId: "/ids/model",
      modelType: "mlflow_model",
      environmentId: "/ids/env",
      codeConfiguration: { codeId: "/ids/code", scoringScript: "score.py" },
      compute: "cpu-cluster",
    });
    expect(inputs("default")).to.deep.include({
      endpointId: "/ids/scorer",
      deploymentName: "blue",
      deploymentCreatedAt: "2026-12-06T00:00:00.000Z",
    });
    expect(seen.find((r) => r.name === "default")!.type).to.equal(
      "pulumi-nodejs:dynamic/azureml:BatchEndpointDefaultDeployment",
    );
  });
});
