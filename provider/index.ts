export { EnvironmentVersion } from "./resources/environmentVersion";
export type {
  EnvironmentVersionArgs,
  EnvironmentVersionOutputs,
  RouteArgs,
} from "./resources/environmentVersion";
export { DataVersion } from "./resources/dataVersion";
export type { DataVersionArgs, DataVersionOutputs } from "./resources/dataVersion";
export { CodeVersion } from "./resources/codeVersion";
export type { CodeVersionArgs, CodeVersionOutputs } from "./resources/codeVersion";
export { ModelVersion } from "./resources/modelVersion";
export type { ModelVersionArgs, ModelVersionOutputs } from "./resources/modelVersion";
export { BatchEndpoint } from "./resources/batchEndpoint";
export type {
  BatchEndpointArgs,
  BatchEndpointIdentityArgs,
  BatchEndpointOutputs,
} from "./resources/batchEndpoint";
export { BatchDeployment } from "./resources/batchDeployment";
export type {
  BatchCodeConfigurationArgs,
  BatchDeploymentArgs,
  BatchDeploymentOutputs,
  BatchRetrySettingsArgs,
} from "./resources/batchDeployment";
export { BatchEndpointDefaultDeployment } from "./resources/batchEndpointDefaultDeployment";
export type {
  BatchEndpointDefaultDeploymentArgs,
  BatchEndpointDefaultDeploymentOutputs,
} from "./resources/batchEndpointDefaultDeployment";
export { BatchScoringJob } from "./resources/batchScoringJob";
export type { BatchScoringJobArgs, BatchScoringJobOutputs } from "./resources/batchScoringJob";
export type { WorkspaceArgs, AssetVersionArgs } from "./resources/workspaceArgs";
export type { JobWaitArgs } from "./resources/jobArgs";
export { CommandJob } from "./resources/commandJob";
export type {
  CommandJobArgs,
  CommandJobInputArgs,
  CommandJobOutputArgs,
  CommandJobOutputs,
} from "./resources/commandJob";
export { MetricGate } from "./resources/metricGate";
export type { MetricGateArgs, MetricGateOutputs } from "./resources/metricGate";
export { SweepJob } from "./resources/sweepJob";
export type {
  HyperparameterValue,
  SweepJobArgs,
  SweepJobOutputs,
  SweepTrialArgs,
  SweepTrialCounts,
} from "./resources/sweepJob";
export { searchSpace } from "./operations/sweep";
export type {
  EarlyTerminationInput,
  ObjectiveInput,
  SamplingInput,
  SearchDistribution,
  SweepLimitsInput,
} from "./operations/sweep";
