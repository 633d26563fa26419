/**
 * The flow of examples/flow on real Azure: the workspace and what it needs (resource group,
 * storage account, key vault, Application Insights) and a compute cluster come from
 * @pulumi/azure-native; the training run, the gated sweep, the batch scoring service and the
 * scoring run take the workspace's `id` as their [workspaceId]. The deployment has neither a
 * scoring script nor an environment: Azure ML builds one from the MLflow model's dependencies. It needs an Azure subscription (the azure-native
 * provider's `azure-native:location`, and DefaultAzureCredential for this package); the tests
 * type-check it and run it under Pulumi mocks.
 *
 * Stack config (namespace `azureml-azure`): optionally `location` (default `westeurope`),
 * `vmSize` (default `STANDARD_DS3_V2`), `maxNodes` (default 2), `minimumAccuracy` (default 0.9),
 * `maxTotalTrials` (default 4).
 */
import * as pulumi from "@pulumi/pulumi";
import * as applicationinsights from "@pulumi/azure-native/applicationinsights";
import * as authorization from "@pulumi/azure-native/authorization";
import * as keyvault from "@pulumi/azure-native/keyvault";
import * as machinelearningservices from "@pulumi/azure-native/machinelearningservices";
import * as resources from "@pulumi/azure-native/resources";
import * as storage from "@pulumi/azure-native/storage";
import {
  BatchScoringService,
  HyperparameterSweep,
  ScoringRun,
  searchSpace,
  TrainingRun,
} from "../../index";

export function program() {
  const config = new pulumi.Config("azureml-azure");
  const location = config.get("location") ?? "westeurope";
  const client = authorization.getClientConfigOutput();

  const group = new resources.ResourceGroup("ml", { location });
  const account = new storage.StorageAccount("mlstore", {
    resourceGroupName: group.name,
    location,
    kind: storage.Kind.StorageV2,
    sku: { name: storage.SkuName.Standard_LRS },
  });
  const vault = new keyvault.Vault("ml-kv", {
    resourceGroupName: group.name,
    location,
    properties: {
      tenantId: client.tenantId,
      sku: { family: keyvault.SkuFamily.A, name: keyvault.SkuName.Standard },
      enableRbacAuthorization: true,
    },
  });
  const insights = new applicationinsights.Component("ml-insights", {
    resourceGroupName: group.name,
    location,
    kind: "web",
    applicationType: applicationinsights.ApplicationType.Web,
  });
  const workspace = new machinelearningservices.Workspace("ml-workspace", {
    resourceGroupName: group.name,
    location,
    identity: { type: machinelearningservices.ManagedServiceIdentityType.SystemAssigned },
    storageAccount: account.id,
    keyVault: vault.id,
    applicationInsights: insights.id,
    sku: { name: "Basic", tier: machinelearningservices.SkuTier.Basic },
  });
  const cluster = new machinelearningservices.Compute("cpu-cluster", {
    resourceGroupName: group.name,
    workspaceName: workspace.name,
    computeName: "cpu-cluster",
    location,
    properties: {
      computeType: "AmlCompute",
      properties: {
        vmSize: config.get("vmSize") ?? "STANDARD_DS3_V2",
        scaleSettings: { minNodeCount: 0, maxNodeCount: config.getNumber("maxNodes") ?? 2 },
      },
    },
  });

  // Everything below lives in the workspace: its ARM id is all the components need.
  const inWorkspace = { workspaceId: workspace.id };
  const compute = cluster.name;
  const after = { dependsOn: [cluster] };

  const train = new TrainingRun(
    "iris-train",
    {
      ...inWorkspace,
      codePath: "src",
      image: "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest",
      condaFilePath: "conda.yaml",
      dataPath: "data/iris.csv",
      dataType: "uri_file",
      dataInputName: "iris",
      command:
        "python train.py --iris-csv ${{inputs.iris}} --learning-rate ${{inputs.learning_rate}} " +
        "--model-output ${{outputs.model}}",
      inputs: { learning_rate: 0.1 },
      outputs: { model: { type: "mlflow_model" } },
      compute,
      experimentName: "iris-flow",
      timeout: "PT30M",
    },
    after,
  );

  const sweep = new HyperparameterSweep(
    "iris-sweep",
    {
      ...inWorkspace,
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
          "--model-output ${{outputs.model}}",
        inputs: { iris: { type: "uri_file", path: train.data!.assetReference } },
        outputs: { model: { type: "mlflow_model" } },
      },
      limits: {
        maxTotalTrials: config.getNumber("maxTotalTrials") ?? 4,
        maxConcurrentTrials: 2,
        timeout: "PT2H",
        trialTimeout: "PT30M",
      },
      modelName: "iris-flow-best",
      gate: { minimum: config.getNumber("minimumAccuracy") ?? 0.9 },
    },
    after,
  );

  const scorer = new BatchScoringService(
    "iris-scorer",
    { ...inWorkspace, model: sweep.model, compute, miniBatchSize: 10 },
    after,
  );

  const scoring = new ScoringRun("iris-scoring", {
    ...inWorkspace,
    service: scorer,
    dataPath: "unlabelled",
  });

  return {
    workspaceId: workspace.id,
    trainingAccuracy: train.metrics.apply((m) => m.accuracy),
    bestAccuracy: sweep.bestMetric,
    gateOutcome: sweep.gateOutcome,
    model: sweep.modelReference,
    scoringUri: scorer.scoringUri,
    predictions: scoring.predictionsUri,
    firstPredictions: scoring.firstRows,
  };
}

export default program;
