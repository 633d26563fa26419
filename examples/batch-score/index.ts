/**
 * Deploying a model for batch scoring through the Azure ML REST API (the seed documents' flow), as
 * one Pulumi program: a small iris model kept in this folder (a logistic regression as JSON, not
 * trained here) registered as a model, the scoring script as code, an environment (the same conda
 * file as examples/train), a batch endpoint, a deployment, the deployment made the endpoint's
 * default, and an invocation that `pulumi up` waits for, exporting the first rows of the
 * predictions. Paths are relative to this project directory (examples/batch-score).
 *
 * Stack config: `azureml-batch-score:resourceGroupName`, `azureml-batch-score:workspaceName`,
 * optionally `azureml-batch-score:endpointName` (endpoint names are unique per Azure region;
 * default `iris-batch`) and `azureml-batch-score:compute` (default `cpu-cluster`), plus the provider
 * settings (`azureml:subscriptionId`, `azureml:armEndpoint`, …) described in README.md.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  BatchDeployment,
  BatchEndpoint,
  BatchEndpointDefaultDeployment,
  BatchScoringJob,
  CodeVersion,
  DataVersion,
  EnvironmentVersion,
  ModelVersion,
} from "../../index";

export function program() {
  const config = new pulumi.Config("azureml-batch-score");
  const workspace = {
    resourceGroupName: config.require("resourceGroupName"),
    workspaceName: config.require("workspaceName"),
  };

  const model = new ModelVersion("iris-logistic", {
    ...workspace,
    modelType: "custom_model",
    path: "model",
    description: "Logistic regression on Fisher's iris measurements, its weights as JSON",
  });

  const code = new CodeVersion("iris-score-src", { ...workspace, path: "src" });

  const environment = new EnvironmentVersion("iris-score-env", {
    ...workspace,
    image: "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest",
    condaFilePath: "conda.yaml",
    description: "pandas (and the rest of examples/train's environment)",
  });

  const endpoint = new BatchEndpoint("iris-batch", {
    ...workspace,
    name: config.get("endpointName") ?? "iris-batch",
    description: "Scores iris measurements",
  });

  const deployment = new BatchDeployment("iris-logistic-dpl", {
    endpoint,
    name: "iris-logistic-dpl",
    model,
    codeConfiguration: { code, scoringScript: "score.py" },
    environment,
    compute: config.get("compute") ?? "cpu-cluster",
    instanceCount: 1,
    maxConcurrencyPerInstance: 2,
    miniBatchSize: 1,
    outputAction: "append_row",
    outputFileName: "predictions.csv",
    retrySettings: { maxRetries: 2, timeoutInSeconds: 300 },
  });

  const byDefault = new BatchEndpointDefaultDeployment("iris-batch-default", {
    endpoint,
    deployment,
  });

  const data = new DataVersion("iris-unlabelled", {
    ...workspace,
    dataType: "uri_folder",
    path: "data",
    description: "60 iris flowers to classify, in three CSV files",
  });

  // No deployment named: the invocation goes to the endpoint's default, so it waits for it.
  const scoring = new BatchScoringJob(
    "iris-scoring",
    { endpoint, input: data.assetId },
    { dependsOn: [byDefault] },
  );

  return {
    scoringUri: endpoint.scoringUri,
    jobName: scoring.jobName,
    status: scoring.status,
    items: scoring.items,
    predictionsUri: scoring.predictionsUri,
    firstPredictions: scoring.firstRows,
  };
}

export default program;
