/**
 * The transport's public surface. Never imports `@pulumi/pulumi`.
 */
export {
  ARM_SCOPE,
  AZURE_ML_SCOPE,
  DEFAULT_API_VERSION,
  DEFAULT_ARM_ENDPOINT,
  DEFAULT_SETTINGS,
  resolveSettings,
  type AzureMlSettings,
  type ConfigSource,
} from "./settings";
export * from "./ids";
export {
  AccessTokenError,
  AzureMlRestError,
  LroFailedError,
  NetworkError,
  PollTimeoutError,
  isAbortError,
  isAccessTokenError,
  isAzureMlRestError,
  isLroFailedError,
  isNetworkError,
  isPollTimeoutError,
  type ArmErrorDetail,
} from "./errors";
export { redactText, redactUrl } from "./redact";
export { parseRetryAfter } from "./throttling";
export {
  IDEMPOTENT_METHODS,
  RETRYABLE_ERROR_CODES,
  RETRYABLE_STATUS,
  computeRetryDelay,
  isIdempotent,
  isRetryableError,
  isRetryableStatus,
  shouldRetry,
} from "./retry";
export { getAccessToken, type GetAccessTokenOptions } from "./auth";
export { createLogger, type AzureMlLogger, type LogLevel } from "./logger";
export { closeHttpAgents } from "./http";
export type { Audience, PipelinePolicy, RetryEvent } from "./pipeline";
export {
  createAzureMlClient,
  type AzureMlClient,
  type AzureMlClientOptions,
  type AzureMlRequest,
  type BeginOptions,
  type AzureMlResponse,
  type CallOptions,
  type QueryValues,
} from "./client";
export {
  beginLongRunning,
  inferLroMode,
  normalizeStatus,
  pollUntil,
  type LongRunningOperation,
  type LongRunningOptions,
  type LroMode,
  type LroPollEvent,
  type LroStatus,
  type PollUntilOptions,
} from "./lro";
export { iterateAll, iteratePages, listAll, type ListOptions } from "./paging";
