/**
 * The whole flow as components: a training run (the iris LightGBM training of examples/train),
 * a hyperparameter sweep over it whose best model is registered only when its accuracy passes the
 * gate, a batch scoring service deploying the registered model, and a scoring run: the endpoint
 * scores `unlabelled/flowers.csv`, twelve flowers' measurements without their species. The model
 * is the best trial's MLflow model (LightGBM fitted on the species names) and the deployment has
 * no scoring script: the emulator loads it with mlflow.pyfunc and appends the predicted species
 * to each row (see emulator/DIFFERENCES.md, "Batch scoring driver"). The deployment gets the
 * training environment: optional for an MLflow model (Azure, and the emulator, would build one
 * from the model's own conda.yaml), given here so scoring reuses the environment training built.
 * Paths are relative to this project directory (examples/flow).
 *
 * Stack config (namespace `azureml-flow`): `resourceGroupName`, `workspaceName`, optionally
 * `compute` (default `cpu-cluster`, for training and scoring), `numBoostRound` (LightGBM's boosting
 * rounds in the training and every trial, default 30), `minimumAccuracy` (the gate, default 0.9),
 * `maxTotalTrials` (default 2) and `maxConcurrentTrials` (default 2), `miniBatchSize` (files per
 * mini-batch of the deployment, default 10), `tags` (a JSON object of tags on the endpoint and
 * the deployment, default none), plus the provider settings described in README.md, and `folder`
 * (default `.`): this example's folder relative to the Pulumi project directory, `examples/flow`
 * when run from the repository's root Pulumi.yaml.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  BatchScoringService,
  HyperparameterSweep,
  ScoringRun,
  searchSpace,
  TrainingRun,
} from "../../index";

export function program() {
  const config = new pulumi.Config("azureml-flow");
  const workspace = {
    resourceGroupName: config.require("resourceGroupName"),
    workspaceName: config.require("workspaceName"),
  };
  const compute = config.get("compute") ?? "cpu-cluster";
  const folder = config.get("folder") ?? ".";
  const local = (file: string) => (folder === "." ? file : `${folder}/${file}`);
  const numBoostRound = config.getNumber("numBoostRound", { min: 1 }) ?? 30;

  const train = new TrainingRun("iris-train", {
    ...workspace,
    codePath: local("src"),
    image: "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest",
    condaFilePath: local("conda.yaml"),
    dataPath: local("data/iris.csv"),
    dataType: "uri_file",
    dataInputName: "iris",
    command:
      "python train.py --iris-csv ${{inputs.iris}} --learning-rate ${{inputs.learning_rate}} " +
      "--num-boost-round ${{inputs.num_boost_round}} --model-output ${{outputs.model}}",
    inputs: { learning_rate: 0.1, num_boost_round: numBoostRound },
    outputs: { model: { type: "mlflow_model" } },
    compute,
    experimentName: "iris-flow",
    timeout: "PT30M",
  });

  const sweep = new HyperparameterSweep("iris-sweep", {
    ...workspace,
    experimentName: "iris-flow-sweep",
    compute,
    objective: { primaryMetric: "accuracy", goal: "maximize" },
    samplingAlgorithm: { type: "random", seed: 42 },
    searchSpace: {
      learning_rate: searchSpace.uniform(0.01, 0.9),
      boosting: searchSpace.choice("gbdt", "dart"),
    },
    trial: {
      code: train.code,
      environment: train.environment!,
      command:
        "python train.py --iris-csv ${{inputs.iris}} " +
        "--learning-rate ${{search_space.learning_rate}} --boosting ${{search_space.boosting}} " +
        `--num-boost-round ${numBoostRound} --model-output \${{outputs.model}}`,
      inputs: { iris: { type: "uri_file", path: train.data!.assetReference } },
      outputs: { model: { type: "mlflow_model" } },
    },
    limits: {
      maxTotalTrials: config.getNumber("maxTotalTrials") ?? 2,
      maxConcurrentTrials: config.getNumber("maxConcurrentTrials") ?? 2,
      timeout: "PT1H",
      trialTimeout: "PT20M",
    },
    modelName: "iris-flow-best",
    gate: { minimum: config.getNumber("minimumAccuracy") ?? 0.9 },
  });

  const scorer = new BatchScoringService("iris-scorer", {
    ...workspace,
    model: sweep.model,
    environment: train.environment!,
    compute,
    miniBatchSize: config.getNumber("miniBatchSize", { min: 1 }) ?? 10,
    tags: config.getObject<Record<string, string>>("tags"),
  });

  const scoring = new ScoringRun("iris-scoring", {
    ...workspace,
    service: scorer,
    dataPath: local("unlabelled"),
  });

  return {
    trainingAccuracy: train.metrics.apply((m) => m.accuracy),
    bestAccuracy: sweep.bestMetric,
    bestHyperparameters: sweep.bestHyperparameters,
    gatePassed: sweep.gatePassed,
    gateOutcome: sweep.gateOutcome,
    model: sweep.modelReference,
    endpoint: scorer.endpointName,
    deployment: scorer.deploymentName,
    scoringUri: scorer.scoringUri,
    scoringStatus: scoring.status,
    predictions: scoring.predictionsUri,
    firstPredictions: scoring.firstRows,
  };
}

export default program;
