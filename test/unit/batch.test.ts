// Batch endpoint, deployment and default-deployment rules that need no server: names and inputs
// judged at check, request bodies, and how each changed input reaches Azure.
import { expect } from "chai";
import type * as pulumi from "@pulumi/pulumi";
import * as endpointLifecycle from "../../provider/lifecycle/batchEndpoint";
import * as deploymentLifecycle from "../../provider/lifecycle/batchDeployment";
import * as defaultLifecycle from "../../provider/lifecycle/batchEndpointDefaultDeployment";
import {
  batchDeploymentBody,
  batchEndpointBody,
  endpointBodyWithDefault,
  parseBatchEndpointId,
  secondsOfIsoDuration,
  type BatchEndpointResource,
} from "../../provider/operations/batch";
import type { BatchDeploymentOutputs } from "../../provider/resources/batchDeployment";
import type { BatchEndpointOutputs } from "../../provider/resources/batchEndpoint";
import { UNKNOWN } from "../support/providers";

const { Config } = require("@pulumi/pulumi/cmd/dynamic-provider/config") as {
  Config: new (raw: Record<string, string>, project: string) => pulumi.dynamic.Config;
};

const SUB = "00000000-0000-0000-0000-000000000000";
const WS = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws`;
const ENDPOINT = `${WS}/batchEndpoints/scorer`;
const config = () => new Config({ "azureml:subscriptionId": SUB }, "test");

const failedProperties = (result: pulumi.dynamic.CheckResult) =>
  (result.failures ?? []).map((f) => f.property);

function deploymentOutputs(
  overrides: Partial<BatchDeploymentOutputs> = {},
): BatchDeploymentOutputs {
  return {
    endpointId: ENDPOINT,
    name: "blue",
    modelId: `${WS}/models/m/versions/1`,
    codeConfiguration: { codeId: `${WS}/codes/c/versions/1`, scoringScript: "score.py" },
    environmentId: `${WS}/environments/e/versions/1`,
    compute: "cpu-cluster",
    miniBatchSize: 10,
    description: "d",
    deploymentId: `${ENDPOINT}/deployments/blue`,
    endpointName: "scorer",
    location: "eastus",
    provisioningState: "Succeeded",
    createdAt: "2026-01-01T00:00:00.000Z",
    ...overrides,
  };
}

describe("batch resources without a server", function () {
  it("check refuses endpoint names Azure refuses, naming [name] and the rule, and defaults authMode to AADToken @unit", async () => {
    for (const bad of ["ab", "1scorer", "scorer-", "sco--rer", "sco_rer", "a".repeat(33)]) {
      const result = await endpointLifecycle.check(
        {} as never,
        { resourceGroupName: "rg", workspaceName: "mlw", name: bad },
        config(),
      );
      expect(failedProperties(result), bad).to.deep.equal(["name"]);
      expect(result.failures![0]!.reason).to.contain("single dashes");
    }
    const ok = await endpointLifecycle.check(
      {} as never,
      {
        resourceGroupName: "rg",
        workspaceName: "mlw",
        name: "my-scorer-2",
        authMode: "aadtoken" as never,
      },
      config(),
    );
    expect(ok.failures).to.deep.equal([]);
    expect(ok.inputs!.authMode).to.equal("AADToken");
    const defaulted = await endpointLifecycle.check(
      {} as never,
      { resourceGroupName: "rg", workspaceName: "mlw", name: "scorer" },
      config(),
    );
    expect(defaulted.inputs!.authMode).to.equal("AADToken");
  });

  it("check refuses a user-assigned identity without ids, and an unknown auth mode @unit", async () => {
    const result = await endpointLifecycle.check(
      {} as never,
      {
        resourceGroupName: "rg",
        workspaceName: "mlw",
        name: "scorer",
        authMode: "Password" as never,
        identity: { type: "UserAssigned" },
      },
      config(),
    );
    expect(failedProperties(result)).to.deep.equal([
      "authMode",
      "identity.userAssignedIdentityIds",
    ]);
  });

  it("check judges a deployment's names, references and settings, and resolves azureml: references in the endpoint's workspace @unit", async () => {
    const result = await deploymentLifecycle.check(
      {} as never,
      {
        endpointId: `${WS}/computes/not-an-endpoint`,
        name: "-blue",
        modelId: "my-model",
        compute: "x",
        miniBatchSize: 2.5,
        outputAction: "append" as never,
        outputFileName: "out/predictions.csv",
      },
      config(),
    );
    expect(failedProperties(result)).to.have.members([
      "endpoint",
      "name",
      "model",
      "compute",
      "miniBatchSize",
      "outputAction",
      "outputFileName",
    ]);
    const ok = await deploymentLifecycle.check(
      {} as never,
      {
        endpointId: ENDPOINT,
        name: "blue",
        modelId: "azureml:mnist:3",
        codeConfiguration: { codeId: "azureml:score-src:1", scoringScript: "score.py" },
        environmentId: "azureml:score-env:2",
        compute: "cpu-cluster",
        outputAction: "SUMMARY_ONLY" as never,
      },
      config(),
    );
    expect(ok.failures).to.deep.equal([]);
    expect(ok.inputs!.modelId).to.equal(`${WS}/models/mnist/versions/3`);
    expect(ok.inputs!.codeConfiguration!.codeId).to.equal(`${WS}/codes/score-src/versions/1`);
    expect(ok.inputs!.environmentId).to.equal(`${WS}/environments/score-env/versions/2`);
    expect(ok.inputs!.outputAction).to.equal("summary_only");
  });

  it("check asks a custom model for a scoring script and an environment, but not an MLflow model @unit", async () => {
    const base = {
      endpointId: ENDPOINT,
      name: "blue",
      modelId: `${WS}/models/m/versions/1`,
      compute: "cpu-cluster",
    };
    const custom = await deploymentLifecycle.check(
      {} as never,
      { ...base, modelType: "custom_model" },
      config(),
    );
    expect(failedProperties(custom)).to.deep.equal(["codeConfiguration", "environment"]);
    const mlflow = await deploymentLifecycle.check(
      {} as never,
      { ...base, modelType: "mlflow_model" },
      config(),
    );
    expect(mlflow.failures).to.deep.equal([]);
    const scriptOnly = await deploymentLifecycle.check(
      {} as never,
      {
        ...base,
        modelType: "mlflow_model",
        codeConfiguration: { codeId: `${WS}/codes/c/versions/1`, scoringScript: "s.py" },
      },
      config(),
    );
    expect(failedProperties(scriptOnly)).to.deep.equal(["environment"]);
    // Unknown in preview: nothing is judged yet.
    const unknown = await deploymentLifecycle.check(
      {} as never,
      { ...base, modelType: UNKNOWN, modelId: UNKNOWN },
      config(),
    );
    expect(unknown.failures).to.deep.equal([]);
  });

  it("builds the deployment body of the REST samples, with Azure's enum spellings and an ISO timeout @unit", () => {
    const body = batchDeploymentBody({
      location: "eastus",
      modelId: `${WS}/models/m/versions/1`,
      codeId: `${WS}/codes/c/versions/1`,
      scoringScript: "score.py",
      environmentId: `${WS}/environments/e/versions/1`,
      computeId: `${WS}/computes/cpu-cluster`,
      instanceCount: 2,
      retrySettings: { maxRetries: 5, timeoutInSeconds: 90 },
      outputAction: "summary_only",
      loggingLevel: "debug",
      tags: { t: "1" },
    });
    expect(body).to.deep.equal({
      location: "eastus",
      tags: { t: "1" },
      properties: {
        model: { referenceType: "Id", assetId: `${WS}/models/m/versions/1` },
        codeConfiguration: { codeId: `${WS}/codes/c/versions/1`, scoringScript: "score.py" },
        environmentId: `${WS}/environments/e/versions/1`,
        compute: `${WS}/computes/cpu-cluster`,
        resources: { instanceCount: 2 },
        retrySettings: { maxRetries: 5, timeout: "PT90S" },
        outputAction: "SummaryOnly",
        loggingLevel: "Debug",
      },
    });
    expect(secondsOfIsoDuration("PT1M30S")).to.equal(90);
    expect(secondsOfIsoDuration("PT")).to.equal(undefined);
  });

  it("re-applies a live endpoint with only its default deployment changed @unit", () => {
    const live: BatchEndpointResource = {
      id: ENDPOINT,
      name: "scorer",
      location: "eastus",
      tags: { team: "ml" },
      identity: { type: "SystemAssigned", principalId: "p" },
      properties: {
        authMode: "AADToken",
        description: "d",
        properties: { owner: "a" },
        defaults: { deploymentName: "blue" },
        scoringUri: "https://x/jobs",
        provisioningState: "Succeeded",
      },
    };
    expect(endpointBodyWithDefault(live, "green")).to.deep.equal({
      location: "eastus",
      tags: { team: "ml" },
      identity: { type: "SystemAssigned" },
      properties: {
        authMode: "AADToken",
        description: "d",
        properties: { owner: "a" },
        defaults: { deploymentName: "green" },
      },
    });
    // The endpoint's own PUT carries no default unless it is told the live one.
    expect(batchEndpointBody({ location: "eastus", authMode: "AADToken" })).to.deep.equal({
      location: "eastus",
      properties: { authMode: "AADToken" },
    });
    expect(parseBatchEndpointId(ENDPOINT).name).to.equal("scorer");
  });

  it("a deployment's description and tags go through PATCH, its settings through PUT, its script and size replace it @unit", () => {
    const olds = deploymentOutputs();
    const classify = (news: Partial<BatchDeploymentOutputs>) =>
      deploymentLifecycle.classifyDeploymentChanges(olds, { ...olds, ...news });
    expect(classify({ description: "new", tags: { a: "b" } })).to.deep.include({
      replaces: [],
      put: [],
      patch: ["description", "tags"],
    });
    expect(classify({ miniBatchSize: 20, modelId: `${WS}/models/m/versions/2` })).to.deep.include({
      replaces: [],
      put: ["modelId", "miniBatchSize"],
      patch: [],
    });
    expect(
      classify({
        codeConfiguration: { codeId: `${WS}/codes/c/versions/2`, scoringScript: "score.py" },
        instanceCount: 3,
      }),
    ).to.deep.include({ replaces: ["codeConfiguration", "instanceCount"], sameDeployment: true });
    expect(classify({ name: "green" })).to.deep.include({
      replaces: ["name"],
      sameDeployment: false,
    });
    // Another casing of the same endpoint id is the same deployment.
    expect(classify({ endpointId: ENDPOINT.toLowerCase() })).to.deep.include({
      replaces: [],
      put: ["endpointId"],
    });
    expect(classify({ environmentId: UNKNOWN })).to.deep.include({ put: ["environmentId"] });
    expect(classify({})).to.deep.include({ replaces: [], put: [], patch: [], other: [] });
  });

  it("a deployment's incarnation changes exactly when the diff replaces it, and is unknown while a part of it is @unit", () => {
    const olds = deploymentOutputs();
    const incarnation = (news: Partial<BatchDeploymentOutputs>) =>
      deploymentLifecycle.deploymentIncarnation({ ...olds, ...news });
    const base = incarnation({});
    expect(base).to.match(/^[0-9a-f]{32}$/);
    for (const news of [
      { description: "new", tags: { a: "b" } },
      { miniBatchSize: 20, modelId: `${WS}/models/m/versions/2`, environmentId: UNKNOWN },
      { endpointId: ENDPOINT.toLowerCase(), name: "Blue" },
    ] as Partial<BatchDeploymentOutputs>[]) {
      expect(
        deploymentLifecycle.classifyDeploymentChanges(olds, { ...olds, ...news }).replaces,
      ).to.deep.equal([]);
      expect(incarnation(news), JSON.stringify(news)).to.equal(base);
    }
    for (const news of [
      { instanceCount: 2 },
      { codeConfiguration: { codeId: `${WS}/codes/c/versions/2`, scoringScript: "score.py" } },
      { name: "green" },
    ] as Partial<BatchDeploymentOutputs>[]) {
      expect(
        deploymentLifecycle.classifyDeploymentChanges(olds, { ...olds, ...news }).replaces,
      ).to.have.length.greaterThan(0);
      expect(incarnation(news), JSON.stringify(news)).to.not.equal(base);
    }
    expect(
      incarnation({ codeConfiguration: { codeId: UNKNOWN, scoringScript: "score.py" } }),
    ).to.equal(UNKNOWN);
  });

  it("the deployment diff replaces the same-named deployment delete-first and says why @unit", async () => {
    const olds = deploymentOutputs();
    const replace = await deploymentLifecycle.diff("id", olds, { ...olds, instanceCount: 2 });
    expect(replace).to.deep.equal({
      changes: true,
      replaces: ["instanceCount"],
      deleteBeforeReplace: true,
    });
    const renamed = await deploymentLifecycle.diff("id", olds, { ...olds, name: "green" });
    expect(renamed).to.deep.equal({
      changes: true,
      replaces: ["name"],
      deleteBeforeReplace: false,
    });
    expect(
      await deploymentLifecycle.diff("id", olds, { ...olds, providerVersion: "2" }),
    ).to.deep.equal({
      changes: true,
      replaces: [],
    });
  });

  it("an endpoint's tags and identity go through PATCH, its description through PUT; removing a property replaces it @unit", () => {
    const settings = undefined;
    const olds: BatchEndpointOutputs = {
      resourceGroupName: "rg",
      workspaceName: "mlw",
      subscriptionId: SUB,
      name: "scorer",
      authMode: "AADToken",
      properties: { owner: "a" },
      endpointId: ENDPOINT,
      location: "eastus",
      scoringUri: "https://x/jobs",
      swaggerUri: "https://x/swagger.json",
      provisioningState: "Succeeded",
      defaultDeploymentName: "blue",
    };
    const classify = (news: Record<string, unknown>) =>
      endpointLifecycle.classifyEndpointChanges(olds, { ...olds, ...news } as never, settings);
    expect(classify({ tags: { a: "b" }, identity: { type: "SystemAssigned" } })).to.deep.include({
      put: [],
      patch: ["tags", "identity"],
      replaces: [],
    });
    expect(classify({ description: "d", properties: { owner: "a", cost: "1" } })).to.deep.include({
      put: ["description", "properties"],
      replaces: [],
    });
    expect(classify({ properties: { owner: "b" } })).to.deep.include({ replaces: ["properties"] });
    expect(classify({ properties: {} })).to.deep.include({ replaces: ["properties"] });
    expect(classify({ name: "other" })).to.deep.include({ replaces: ["name"] });
    // The default deployment is another resource's: it never shows here.
    expect(classify({ defaultDeploymentName: "green" })).to.deep.include({
      put: [],
      patch: [],
      replaces: [],
    });
  });

  it("an endpoint replaced under its own name is deleted first; under a new name it is not @unit", async () => {
    const olds = {
      resourceGroupName: "rg",
      workspaceName: "mlw",
      name: "scorer",
      authMode: "AADToken" as const,
      properties: { owner: "a" },
      endpointId: ENDPOINT,
      location: "eastus",
      scoringUri: "https://x/jobs",
      swaggerUri: "https://x/swagger.json",
      provisioningState: "Succeeded",
    };
    expect(
      await endpointLifecycle.diff("id", olds, { ...olds, properties: {} }, config()),
    ).to.deep.equal({ changes: true, replaces: ["properties"], deleteBeforeReplace: true });
    expect(
      await endpointLifecycle.diff("id", olds, { ...olds, name: "scorer-2" }, config()),
    ).to.deep.equal({ changes: true, replaces: ["name"], deleteBeforeReplace: false });
    expect(
      await endpointLifecycle.diff("id", olds, { ...olds, name: "Scorer" }, config()),
    ).to.deep.equal({ changes: true, replaces: [] });
  });

  it("the default deployment updates when the name changes or the deployment was created again, and replaces only for another endpoint @unit", async () => {
    const olds = {
      endpointId: ENDPOINT,
      deploymentName: "blue",
      deploymentCreatedAt: "t1",
      endpointName: "scorer",
    };
    expect(
      defaultLifecycle.classifyDefaultChanges(olds, { ...olds, deploymentName: "green" }),
    ).to.deep.equal({
      replaces: [],
      updates: ["deploymentName"],
    });
    expect(
      defaultLifecycle.classifyDefaultChanges(olds, { ...olds, deploymentCreatedAt: UNKNOWN }),
    ).to.deep.equal({
      replaces: [],
      updates: ["deploymentCreatedAt"],
    });
    // With the deployment's incarnation on both sides, an unknown creation time (the preview of
    // an update of the deployment) is no change; a new incarnation (a replacement) is one.
    const withIncarnation = { ...olds, deploymentIncarnation: "i1" };
    expect(
      defaultLifecycle.classifyDefaultChanges(withIncarnation, {
        ...withIncarnation,
        deploymentCreatedAt: UNKNOWN,
      }),
    ).to.deep.equal({ replaces: [], updates: [] });
    for (const next of ["i2", UNKNOWN]) {
      expect(
        defaultLifecycle.classifyDefaultChanges(withIncarnation, {
          ...withIncarnation,
          deploymentCreatedAt: UNKNOWN,
          deploymentIncarnation: next,
        }).updates,
      ).to.deep.equal(["deploymentIncarnation"]);
    }
    expect(
      defaultLifecycle.classifyDefaultChanges(olds, { ...olds, endpointId: ENDPOINT.toUpperCase() })
        .replaces,
    ).to.deep.equal([]);
    expect(
      defaultLifecycle.classifyDefaultChanges(olds, {
        ...olds,
        endpointId: `${WS}/batchEndpoints/other`,
      }).replaces,
    ).to.deep.equal(["endpointId"]);
    expect(await defaultLifecycle.diff("id", olds, { ...olds })).to.deep.equal({
      changes: false,
      replaces: [],
    });
    const failures = await defaultLifecycle.check(
      {} as never,
      { endpointId: ENDPOINT, deploymentName: "b" },
      config(),
    );
    expect(failedProperties(failures)).to.deep.equal(["deployment"]);
  });

  it("finds settings Azure did not apply after an update @unit", () => {
    const spec = {
      location: "eastus",
      modelId: `${WS}/models/m/versions/2`,
      computeId: `${WS}/computes/cpu-cluster`,
      miniBatchSize: 20,
      retrySettings: { timeoutInSeconds: 60 },
      outputAction: "append_row" as const,
    };
    const live = {
      id: "x",
      name: "blue",
      location: "eastus",
      properties: {
        model: { referenceType: "Id", assetId: `${WS.toLowerCase()}/models/m/versions/2` },
        compute: `${WS}/computes/cpu-cluster`,
        miniBatchSize: 10,
        retrySettings: { maxRetries: 3, timeout: "PT1M" },
        outputAction: "AppendRow",
      },
    };
    expect(deploymentLifecycle.unappliedFields(spec, live)).to.deep.equal(["miniBatchSize"]);
  });
});
