export { TrainingAssets } from "./trainingAssets";
export type { TrainingAssetsArgs } from "./trainingAssets";
