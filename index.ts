/**
 * pulumi-azureml: Pulumi dynamic resources for Azure Machine Learning v2.
 */
export * from "./provider";
export {
  isAzureMlRestError,
  isLroFailedError,
  isPollTimeoutError,
  AzureMlRestError,
  LroFailedError,
  PollTimeoutError,
} from "./provider/core/errors";
export * from "./components";
