export { TrainingAssets } from "./trainingAssets";
export type { TrainingAssetsArgs } from "./trainingAssets";
export { TrainingRun } from "./trainingRun";
export type { TrainingRunArgs } from "./trainingRun";
export { BatchScoringService } from "./batchScoringService";
export type { BatchScoringServiceArgs } from "./batchScoringService";
export { HyperparameterSweep } from "./hyperparameterSweep";
export type { HyperparameterSweepArgs, SweepGateArgs } from "./hyperparameterSweep";
export {
  approvedCandidate,
  describeGateOutcome,
  evaluateGate,
  gateThresholdFailures,
  type GateThreshold,
  type GateVerdict,
} from "../provider/operations/gate";
export { ScoringRun } from "./scoringRun";
export type { ScoringRunArgs } from "./scoringRun";
