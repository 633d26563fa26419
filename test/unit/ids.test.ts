import { expect } from "chai";
import {
  assetContainerId,
  assetVersionId,
  azuremlAssetReference,
  batchDeploymentId,
  batchEndpointId,
  computeId,
  datastoreId,
  datastoreUri,
  isValidAssetName,
  isValidComputeName,
  isValidEndpointName,
  isValidResourceGroupName,
  isValidWorkspaceName,
  jobId,
  jobOutputUri,
  parseArmId,
  parseAssetVersionId,
  parseWorkspaceId,
  workspaceId,
  type WorkspaceScope,
} from "../../provider/core/ids";

const scope: WorkspaceScope = {
  subscriptionId: "00000000-0000-0000-0000-000000000000",
  resourceGroupName: "rg-ml",
  workspaceName: "mlw",
};
const ws =
  "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/mlw";

describe("ARM ids", () => {
  it("builds workspace and child resource ids @unit", () => {
    expect(workspaceId(scope)).to.equal(ws);
    expect(assetContainerId(scope, "codes", "train")).to.equal(`${ws}/codes/train`);
    expect(assetVersionId(scope, "models", "clf", "3")).to.equal(`${ws}/models/clf/versions/3`);
    expect(jobId(scope, "job-1")).to.equal(`${ws}/jobs/job-1`);
    expect(computeId(scope, "cpu-cluster")).to.equal(`${ws}/computes/cpu-cluster`);
    expect(datastoreId(scope, "workspaceblobstore")).to.equal(
      `${ws}/datastores/workspaceblobstore`,
    );
    expect(batchEndpointId(scope, "ep")).to.equal(`${ws}/batchEndpoints/ep`);
    expect(batchDeploymentId(scope, "ep", "blue")).to.equal(
      `${ws}/batchEndpoints/ep/deployments/blue`,
    );
  });

  it("round-trips a workspace id, with segment names in any case @unit", () => {
    expect(parseWorkspaceId(workspaceId(scope))).to.deep.equal(scope);
    expect(
      parseWorkspaceId(
        ws
          .replace("resourceGroups", "resourcegroups")
          .replace("Microsoft.MachineLearningServices", "microsoft.machinelearningservices"),
      ),
    ).to.deep.equal(scope);
  });

  it("round-trips asset version ids, including versions that need escaping @unit", () => {
    for (const kind of ["environments", "data", "codes", "models"] as const) {
      for (const version of ["1", "2024.01.02", "a b/c"]) {
        const id = assetVersionId(scope, kind, "asset_1", version);
        expect(parseAssetVersionId(id)).to.deep.equal({ scope, kind, name: "asset_1", version });
      }
    }
  });

  it("parses any ARM id into provider and type/name pairs @unit", () => {
    expect(parseArmId(batchDeploymentId(scope, "ep", "blue"))).to.deep.equal({
      subscriptionId: scope.subscriptionId,
      resourceGroupName: "rg-ml",
      provider: "Microsoft.MachineLearningServices",
      types: [
        { type: "workspaces", name: "mlw" },
        { type: "batchEndpoints", name: "ep" },
        { type: "deployments", name: "blue" },
      ],
    });
    expect(parseArmId(`${ws}/`).types).to.have.length(1);
  });

  it("rejects malformed ids with a TypeError naming the id @unit", () => {
    for (const bad of [
      "",
      "subscriptions/x",
      "/subscriptions/s/resourceGroups/rg",
      "/subscriptions/s/groups/rg/providers/P/workspaces/w",
      "/subscriptions/s/resourceGroups/rg/providers/P/workspaces",
      "/subscriptions/s/resourceGroups/rg/providers/P/workspaces//x/y",
    ]) {
      expect(() => parseArmId(bad), bad).to.throw(TypeError, bad || "Invalid ARM resource id");
    }
    expect(() => parseWorkspaceId(`${ws}/jobs/j`)).to.throw(TypeError, "workspace id");
    expect(() =>
      parseWorkspaceId(
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a",
      ),
    ).to.throw(TypeError, "Microsoft.Storage");
    expect(() => parseAssetVersionId(`${ws}/jobs/j/versions/1`)).to.throw(
      TypeError,
      "asset version id",
    );
    expect(() => parseAssetVersionId(`${ws}/codes/c`)).to.throw(TypeError);
  });
});

describe("azureml references and URIs", () => {
  it("builds azureml:<name>:<version> references @unit", () => {
    expect(azuremlAssetReference("env", "4")).to.equal("azureml:env:4");
  });

  it("builds long-form datastore URIs with lower-case segment names @unit", () => {
    expect(datastoreUri(scope, "workspaceblobstore", "/batch/out/")).to.equal(
      "azureml://subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg-ml/workspaces/mlw/datastores/workspaceblobstore/paths/batch/out/",
    );
  });

  it("builds job output URIs with and without a path @unit", () => {
    expect(jobOutputUri("train-1", "model")).to.equal("azureml://jobs/train-1/outputs/model");
    expect(jobOutputUri("train-1", "model", "/model.pkl")).to.equal(
      "azureml://jobs/train-1/outputs/model/paths/model.pkl",
    );
  });
});

describe("name rules", () => {
  it("checks workspace names: 3 to 33 characters, starting alphanumeric @unit", () => {
    expect(["mlw", "ml_w-1", "a".repeat(33)].every(isValidWorkspaceName)).to.equal(true);
    expect(["ml", "-mlw", "a".repeat(34), "ml.w", ""].some(isValidWorkspaceName)).to.equal(false);
  });

  it("checks asset names against ^[a-zA-Z0-9][a-zA-Z0-9-_]{0,254}$ @unit", () => {
    expect(["a", "train_code-1", "9", "a".repeat(255)].every(isValidAssetName)).to.equal(true);
    expect(["_a", "-a", "a.b", "a b", "a".repeat(256), ""].some(isValidAssetName)).to.equal(false);
  });

  it("checks resource group names: 1 to 90, no trailing dot @unit", () => {
    expect(["rg", "rg.(prod)_1-x", "ü", "a".repeat(90)].every(isValidResourceGroupName)).to.equal(
      true,
    );
    expect(["rg.", "", "a".repeat(91), "rg/x", "rg x"].some(isValidResourceGroupName)).to.equal(
      false,
    );
  });

  it("checks endpoint names: letter first, 3 to 32, single dashes, no trailing dash @unit", () => {
    expect(["ep1", "my-endpoint", "a-b-c", "a".repeat(32)].every(isValidEndpointName)).to.equal(
      true,
    );
    expect(
      ["ep", "1ep", "ep-", "-ep", "my--endpoint", "my_endpoint", "a".repeat(33)].some(
        isValidEndpointName,
      ),
    ).to.equal(false);
  });

  it("checks compute names: letter first, 3 to 24, not ending in -<digits> @unit", () => {
    expect(["cpu-cluster", "gpu1", "a".repeat(24), "cpu-1a"].every(isValidComputeName)).to.equal(
      true,
    );
    expect(
      ["cp", "1cpu", "cpu-1", "cpu_cluster", "a".repeat(25)].some(isValidComputeName),
    ).to.equal(false);
  });
});
