/**
 * The hyperparameter sweep of the Azure ML REST articles over the iris LightGBM training of
 * examples/train, as one Pulumi program: the learning rate sampled uniformly in [0.01, 0.9] and
 * the boosting type chosen from gbdt and dart, minimizing the held-out multi-class log loss
 * (`test-multi_logloss`, which the training logs round by round through MLflow). `pulumi up`
 * runs the sweep to its end (4 trials, 2 at a time, random sampling under a seed) and registers
 * the best trial's MLflow model. Paths are relative to this project directory (examples/sweep).
 *
 * Stack config: `azureml-sweep:resourceGroupName`, `azureml-sweep:workspaceName`, optionally
 * `azureml-sweep:compute` (default `cpu-cluster`), `azureml-sweep:maxTotalTrials` (default 4) and
 * `azureml-sweep:maxConcurrentTrials` (default 2), plus the provider settings described in
 * README.md.
 */
import * as pulumi from "@pulumi/pulumi";
import { DataVersion, EnvironmentVersion, ModelVersion, searchSpace, SweepJob } from "../../index";

export function program() {
  const config = new pulumi.Config("azureml-sweep");
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

  const sweep = new SweepJob("sweep-lightgbm-iris", {
    ...workspace,
    experimentName: "iris-lightgbm-sweep",
    displayName: "LightGBM on iris: learning rate and boosting sweep",
    compute: config.get("compute") ?? "cpu-cluster",
    objective: { primaryMetric: "test-multi_logloss", goal: "minimize" },
    samplingAlgorithm: { type: "random", seed: 42 },
    searchSpace: {
      learning_rate: searchSpace.uniform(0.01, 0.9),
      boosting: searchSpace.choice("gbdt", "dart"),
    },
    trial: {
      code: "src",
      environment,
      command:
        "python train.py --iris-csv ${{inputs.iris}} " +
        "--learning-rate ${{search_space.learning_rate}} --boosting ${{search_space.boosting}} " +
        "--model-output ${{outputs.model}}",
      inputs: { iris: { type: "uri_file", path: iris.assetReference } },
      outputs: { model: { type: "mlflow_model" } },
    },
    limits: {
      maxTotalTrials: config.getNumber("maxTotalTrials") ?? 4,
      maxConcurrentTrials: config.getNumber("maxConcurrentTrials") ?? 2,
      timeout: "PT1H",
      trialTimeout: "PT20M",
    },
  });

  const model = new ModelVersion("lightgbm-iris-best", {
    ...workspace,
    modelType: "mlflow_model",
    path: sweep.bestModelUri.apply((uri) => {
      if (uri === undefined) {
        throw new Error("The sweep has no best trial with a model to register.");
      }
      return uri;
    }),
    description: "The best LightGBM iris classifier the sweep-lightgbm-iris sweep found",
  });

  return {
    sweepName: sweep.name,
    sweepStatus: sweep.status,
    trialCounts: sweep.trialCounts,
    bestTrial: sweep.bestTrialName,
    bestLogLoss: sweep.bestPrimaryMetric,
    bestHyperparameters: sweep.bestHyperparameters,
    bestAccuracy: sweep.bestTrialMetrics.apply((metrics) => metrics.accuracy),
    model: model.assetReference,
  };
}

export default program;
