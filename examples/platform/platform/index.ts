/**
 * The platform team's stack: it owns the workspace and the environments teams share, and exports
 * them. Here the workspace is given by config (the emulator's, or one created elsewhere);
 * examples/azure creates it with @pulumi/azure-native and exports the same shape.
 *
 * Stack config (namespace `azureml-platform`): `resourceGroupName`, `workspaceName`, optionally
 * `condaFilePath` (default `../../train/conda.yaml`, the iris training's environment).
 *
 * Outputs: `workspace` ({ resourceGroupName, workspaceName }) and `environments`
 * ({ lightgbm: "azureml:<name>:<version>" }), what a team's stack reads through a StackReference.
 */
import * as pulumi from "@pulumi/pulumi";
import { EnvironmentVersion } from "../../../index";

export function program() {
  const config = new pulumi.Config("azureml-platform");
  const workspace = {
    resourceGroupName: config.require("resourceGroupName"),
    workspaceName: config.require("workspaceName"),
  };
  const lightgbm = new EnvironmentVersion("shared-lightgbm", {
    ...workspace,
    name: "shared-lightgbm",
    image: "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest",
    condaFilePath: config.get("condaFilePath") ?? "../../train/conda.yaml",
    description: "LightGBM, scikit-learn, pandas and MLflow, shared by every team",
  });
  return {
    workspace,
    environments: { lightgbm: lightgbm.assetReference },
  };
}

export default program;
