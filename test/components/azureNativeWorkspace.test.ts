import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";

const WORKSPACE_ID =
  "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/mlw-prod";

describe("an @pulumi/azure-native workspace as the workspace of a resource", function () {
  it("passes the Workspace's id straight into [workspaceId] @unit", async () => {
    const registered = new Map<string, Record<string, any>>();
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          registered.set(args.name, args.inputs);
          const id = args.type.startsWith("azure-native:") ? WORKSPACE_ID : `${args.name}-id`;
          return { id, state: args.inputs };
        },
        call: (args) => args.inputs,
      },
      "native",
      "test",
      false,
    );
    const ml = await import("@pulumi/azure-native/machinelearningservices/index.js");
    const { EnvironmentVersion } = await import("../../index.js");
    const workspace = new ml.Workspace("ws", {
      resourceGroupName: "rg-ml",
      workspaceName: "mlw-prod",
    });
    const env = new EnvironmentVersion("env", { workspaceId: workspace.id, image: "python:3.11" });
    await (env.urn as unknown as { promise(): Promise<string> }).promise();
    expect(registered.get("env")!.workspaceId).to.equal(WORKSPACE_ID);
  });
});
