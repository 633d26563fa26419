export { TrainingAssets } from "./trainingAssets";
export type { TrainingAssetsArgs } from "./trainingAssets";
export {
  approvedCandidate,
  describeGateOutcome,
  evaluateGate,
  gateThresholdFailures,
  type GateThreshold,
  type GateVerdict,
} from "./gate";
