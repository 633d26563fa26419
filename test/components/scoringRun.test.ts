import { expect } from "chai";
import { scoringOutputPath, type ScoringRunSpec } from "../../components/derive";
import { recordResources, settled, urnOf, valueOf } from "../support/mocks";

const WORKSPACE = { resourceGroupName: "rg", workspaceName: "ws" };

const SPEC: ScoringRunSpec = {
  endpointName: "iris-scorer",
  deploymentName: "blue",
  modelId: "/ids/model",
  input: "/ids/flowers",
  inputType: "uri_folder",
};

describe("ScoringRun component", function () {
  it("registers local data and scores it with the service's endpoint and deployment, all under the component @unit", async () => {
    const seen = await recordResources("scoring-run", (type) =>
      type.endsWith(":BatchDeployment")
        ? { createdAt: "2026-12-07T00:00:00Z", modelId: "/ids/model" }
        : type.endsWith(":BatchEndpoint")
          ? { name: "iris-scorer" }
          : type.endsWith(":DataVersion")
            ? { assetId: "/assets/flowers" }
            : type.endsWith(":BatchScoringJob")
              ? {
                  status: "Completed",
                  predictionsUri: "azureml://datastores/workspaceblobstore/paths/p/predictions.csv",
                  firstRows: ["5.9 3.0 5.1 1.8 2"],
                }
              : {},
    );
    const m = await import("../../components/index.js");
    const service = new m.BatchScoringService("iris-scorer", {
      ...WORKSPACE,
      model: "azureml:iris:1",
      environment: "azureml:iris-env:1",
      compute: "batch-cluster",
    });
    const run = new m.ScoringRun("iris-scoring", {
      ...WORKSPACE,
      service,
      dataPath: "unlabelled",
      miniBatchSize: 2,
    });
    await settled(run, run.data, run.job);
    const byName = Object.fromEntries(seen.map((r) => [r.name, r]));
    expect(byName["iris-scoring"].type).to.equal("azureml:components:ScoringRun");
    expect(byName["iris-scoring-data"].inputs).to.include({
      name: "iris-scoring-data",
      dataType: "uri_folder",
      path: "unlabelled",
      resourceGroupName: "rg",
    });
    const job = byName["iris-scoring-job"].inputs;
    expect(job).to.include({
      endpointId: "/ids/iris-scorer-endpoint",
      deploymentName: "blue",
      input: "/assets/flowers",
      inputType: "uri_folder",
      miniBatchSize: 2,
      // What the deployment serves is part of the run: a new model scores again.
      servedModelId: "/ids/model",
    });
    expect(job.defaultDeploymentName).to.equal(undefined);
    expect(job.outputPath).to.match(
      /^azureml:\/\/datastores\/workspaceblobstore\/paths\/batch\/iris-scorer\/[0-9a-f]{16}\/$/,
    );
    expect(await urnOf(run.job)).to.contain(
      "azureml:components:ScoringRun$pulumi-nodejs:dynamic/azureml:BatchScoringJob::iris-scoring-job",
    );
    expect(await valueOf(run.status)).to.equal("Completed");
    expect(await valueOf(run.firstRows)).to.deep.equal(["5.9 3.0 5.1 1.8 2"]);
  });

  it("scores data given by reference without registering any, and refuses both or neither of input and dataPath @unit", async () => {
    const seen = await recordResources("scoring-run-input");
    const m = await import("../../components/index.js");
    const service = new m.BatchScoringService("scorer", {
      ...WORKSPACE,
      model: "azureml:iris:1",
      compute: "batch-cluster",
    });
    const run = new m.ScoringRun("score", {
      service,
      input: "azureml://datastores/workspaceblobstore/paths/iris/flowers.csv",
      inputType: "uri_file",
    });
    await settled(run, run.job);
    expect(run.data).to.equal(undefined);
    expect(seen.map((r) => r.type)).to.not.include("pulumi-nodejs:dynamic/azureml:DataVersion");
    expect(seen.find((r) => r.name === "score-job")!.inputs).to.include({
      input: "azureml://datastores/workspaceblobstore/paths/iris/flowers.csv",
      inputType: "uri_file",
    });
    for (const data of [{}, { input: "azureml:flowers:1", dataPath: "unlabelled" }]) {
      expect(() => new m.ScoringRun("bad", { service, ...data })).to.throw(
        /\[input\].*\[dataPath\]/,
      );
    }
  });

  it("a BatchScoringJob naming no deployment scores with the default deployment's resource: its deployment name and the model that deployment serves are the run's @unit", async () => {
    const seen = await recordResources("scoring-default", (type) =>
      type.endsWith(":BatchDeployment")
        ? { createdAt: "2026-12-07T00:00:00Z", modelId: "/ids/model-7" }
        : type.endsWith(":BatchEndpointDefaultDeployment")
          ? { deploymentName: "green" }
          : {},
    );
    const r = await import("../../index.js");
    const endpoint = new r.BatchEndpoint("ep", { ...WORKSPACE });
    const green = new r.BatchDeployment("green", {
      endpoint,
      name: "green",
      model: "/ids/model-7",
      compute: "batch-cluster",
    });
    const byDefault = new r.BatchEndpointDefaultDeployment("ep-default", {
      endpoint,
      deployment: green,
    });
    const job = new r.BatchScoringJob("score", {
      endpoint,
      defaultDeployment: byDefault,
      input: "azureml:flowers:1",
    });
    await settled(job);
    expect(seen.find((x) => x.name === "score")!.inputs).to.include({
      defaultDeploymentName: "green",
      servedModelId: "/ids/model-7",
    });
    expect(seen.find((x) => x.name === "score")!.inputs.deploymentName).to.equal(undefined);
  });

  it("derives one results folder per model, data and settings, the same for the same run @unit", () => {
    const folder = scoringOutputPath(SPEC);
    expect(folder).to.match(
      /^azureml:\/\/datastores\/workspaceblobstore\/paths\/batch\/iris-scorer\/[0-9a-f]{16}\/$/,
    );
    expect(scoringOutputPath({ ...SPEC })).to.equal(folder);
    expect(scoringOutputPath({ ...SPEC, miniBatchSize: undefined })).to.equal(folder);
    expect(scoringOutputPath({ ...SPEC, modelId: "/ids/model-2" })).to.not.equal(folder);
    expect(scoringOutputPath({ ...SPEC, input: "/ids/other" })).to.not.equal(folder);
    expect(scoringOutputPath({ ...SPEC, miniBatchSize: 5 })).to.not.equal(folder);
  });
});
