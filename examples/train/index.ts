/**
 * The iris LightGBM training of the Azure ML REST articles, as one Pulumi program: an environment
 * whose conda file lists mlflow, lightgbm, pandas and scikit-learn; Fisher's iris data (all 150
 * rows, examples/train/data/iris.csv) as a data asset; training code that logs through
 * MLflow autologging and writes an MLflow model; a command job that `pulumi up` runs to the end;
 * and a model registered from the job's model output. Paths are relative to this project
 * directory (examples/train).
 *
 * Stack config: `azureml-train:resourceGroupName`, `azureml-train:workspaceName`, optionally
 * `azureml-train:compute` (default `cpu-cluster`) and `azureml-train:learningRate`, plus the
 * provider settings (`azureml:subscriptionId`, `azureml:armEndpoint`, …) described in README.md.
 */
import * as pulumi from "@pulumi/pulumi";
import { CommandJob, DataVersion, EnvironmentVersion, ModelVersion } from "../../index";

export function program() {
  const config = new pulumi.Config("azureml-train");
  const workspace = {
    resourceGroupName: config.require("resourceGroupName"),
    workspaceName: config.require("workspaceName"),
  };

  const environment = new EnvironmentVersion("lightgbm-iris-env", {
    ...workspace,
    image: "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest",
    condaFilePath: "conda.yaml",
    description: "LightGBM, scikit-learn, pandas and MLflow",
  });

  const iris = new DataVersion("iris-csv", {
    ...workspace,
    dataType: "uri_file",
    path: "data/iris.csv",
    description: "Fisher's iris measurements: 150 flowers of three species",
  });

  const train = new CommandJob("train-lightgbm-iris", {
    ...workspace,
    experimentName: "iris-lightgbm",
    displayName: "LightGBM on iris",
    code: "src",
    environment,
    compute: config.get("compute") ?? "cpu-cluster",
    command:
      "python train.py --iris-csv ${{inputs.iris}} --learning-rate ${{inputs.learning_rate}} " +
      "--model-output ${{outputs.model}}",
    inputs: {
      iris: { type: "uri_file", path: iris.assetReference },
      learning_rate: config.getNumber("learningRate") ?? 0.1,
    },
    outputs: { model: { type: "mlflow_model" } },
    timeout: "PT30M",
  });

  const model = new ModelVersion("lightgbm-iris", {
    ...workspace,
    modelType: "mlflow_model",
    path: train.outputUris.apply((uris) => uris.model),
    description: "LightGBM iris classifier trained by the train-lightgbm-iris job",
  });

  return {
    jobName: train.name,
    jobStatus: train.status,
    studioUrl: train.studioUrl,
    accuracy: train.metrics.apply((metrics) => metrics.accuracy),
    learningRate: train.parameters.apply((parameters) => parameters.learning_rate),
    model: model.assetReference,
  };
}

export default program;
