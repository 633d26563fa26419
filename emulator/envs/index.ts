// The environments room: conda files become cached virtual environments built with uv.
export {
  createEnvironmentBuilder,
  EnvironmentBuildError,
  environmentKey,
  planEnvironment,
  type EnvironmentBuilderOptions,
  type EnvironmentPlan,
} from "./builder";
export { CACHE_DIR_ENV, cacheRoot } from "./cache";
export { CondaFileError, parseCondaFile, pythonPinSatisfied } from "./conda";
export {
  MlflowEnvironmentError,
  mlflowCondaFile,
  mlflowEnvironment,
  type MlflowModelFiles,
} from "./mlflow";
export { machinePython, PYTHON_ENV, type MachinePython } from "./python";
export type { EnvironmentBuilder, EnvironmentRequest, PreparedEnvironment } from "./types";
