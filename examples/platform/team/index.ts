/**
 * A team's stack: it reads the platform stack's workspace and shared environment through a
 * `StackReference` and trains there (a TrainingRun that registers no environment of its own).
 *
 * Stack config (namespace `azureml-team`): `platformStack` (the platform stack's name, e.g.
 * `organization/azureml-platform/dev` on a file backend), optionally `codePath` (default
 * `../../train/src`), `dataPath` (default `../../train/data/iris.csv`) and `compute` (default
 * `cpu-cluster`).
 */
import * as pulumi from "@pulumi/pulumi";
import { TrainingRun } from "../../../index";

interface PlatformWorkspace {
  resourceGroupName: string;
  workspaceName: string;
}

export function program() {
  const config = new pulumi.Config("azureml-team");
  const platform = new pulumi.StackReference("platform", { name: config.require("platformStack") });
  const workspace = platform.requireOutput("workspace") as pulumi.Output<PlatformWorkspace>;
  const environments = platform.requireOutput("environments") as pulumi.Output<
    Record<string, string>
  >;

  const run = new TrainingRun("team-iris", {
    resourceGroupName: workspace.resourceGroupName,
    workspaceName: workspace.workspaceName,
    environment: environments.lightgbm,
    codePath: config.get("codePath") ?? "../../train/src",
    dataPath: config.get("dataPath") ?? "../../train/data/iris.csv",
    dataType: "uri_file",
    dataInputName: "iris",
    command:
      "python train.py --iris-csv ${{inputs.iris}} --learning-rate ${{inputs.learning_rate}} " +
      "--model-output ${{outputs.model}}",
    inputs: { learning_rate: 0.1 },
    outputs: { model: { type: "mlflow_model" } },
    compute: config.get("compute") ?? "cpu-cluster",
    experimentName: "team-iris",
    timeout: "PT30M",
  });

  return {
    jobName: run.jobName,
    status: run.status,
    accuracy: run.metrics.apply((m) => m.accuracy),
    environment: run.environmentReference,
  };
}

export default program;
