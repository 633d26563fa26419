// The resource classes turn the resources a program passes (endpoint, model, code, environment,
// deployment) into the ids and facts the providers receive.
import { expect } from "chai";
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, any>;
}

describe("batch resource classes", function () {
  it("pass ids for resources, the model's type, the deployment's name, creation time and incarnation to the default, and owner keys @unit", async () => {
    const seen: Registered[] = [];
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          seen.push({ type: args.type, name: args.name, inputs: args.inputs });
          const state: Record<string, unknown> = { ...args.inputs };
          if (args.type.endsWith(":BatchDeployment")) {
            state.createdAt = "2026-12-06T00:00:00.000Z";
            state.incarnation = "0123456789abcdef0123456789abcdef";
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
      deploymentIncarnation: "0123456789abcdef0123456789abcdef",
    });
    // The owner key: a digest of project, stack, type and resource name, the same in every up.
    const ownerKey = (type: string, name: string) =>
      createHash("sha256")
        .update(`batch\ntest\nazureml:${type}\n${name}`)
        .digest("hex")
        .slice(0, 32);
    expect(inputs("scorer").ownerKey).to.equal(ownerKey("BatchEndpoint", "scorer"));
    expect(inputs("blue").ownerKey).to.equal(ownerKey("BatchDeployment", "blue"));
    expect(inputs("scorer").ownerKey).to.not.equal(ownerKey("BatchDeployment", "scorer"));
    expect(seen.find((r) => r.name === "default")!.type).to.equal(
      "pulumi-nodejs:dynamic/azureml:BatchEndpointDefaultDeployment",
    );
  });
});
