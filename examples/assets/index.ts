/**
 * Registers the assets a training job needs: an environment, the iris data set, the training code
 * and a model. Paths are relative to this project directory (examples/assets).
 *
 * Stack config: `azureml-assets:resourceGroupName`, `azureml-assets:workspaceName`, plus the
 * provider settings (`azureml:subscriptionId`, `azureml:armEndpoint`, …) described in README.md.
 */
import * as pulumi from "@pulumi/pulumi";
import { CodeVersion, DataVersion, EnvironmentVersion, ModelVersion } from "../../index";

export function program() {
  const config = new pulumi.Config("azureml-assets");
  const workspace = {
    resourceGroupName: config.require("resourceGroupName"),
    workspaceName: config.require("workspaceName"),
  };

  const environment = new EnvironmentVersion("iris-env", {
    ...workspace,
    image: "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest",
    condaFilePath: "conda.yaml",
    description: "Python 3.10 with scikit-learn",
  });

  const data = new DataVersion("iris-data", {
    ...workspace,
    dataType: "uri_file",
    path: "data/iris.csv",
    description: "Fisher's iris measurements",
  });

  const code = new CodeVersion("iris-train-src", { ...workspace, path: "src" });

  const model = new ModelVersion("iris-baseline", {
    ...workspace,
    path: "model",
    tags: { kind: "baseline" },
  });

  return {
    environment: environment.assetReference,
    data: data.assetReference,
    dataUri: data.dataUri,
    code: code.assetReference,
    codeFiles: code.fileCount,
    codeHash: code.contentHash,
    model: model.assetReference,
  };
}

export default program;
