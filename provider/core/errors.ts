/**
 * The transport's error classes. Each has a `name`, a stable `code` and the request context.
 * Check them with the `is…` guards, never bare `instanceof`: a serialized provider can load a
 * second copy of this module, and its classes are different objects.
 */
import { redactText, redactUrl } from "./redact";

/** Brand shared by every error class here, across module copies. */
export const ERROR_BRAND = Symbol.for("pulumi-azureml.error");

/** One entry of the ARM `error.details` array (recursive, as in common-types ErrorDetail). */
export interface ArmErrorDetail {
  code?: string;
  message?: string;
  target?: string;
  details?: ArmErrorDetail[];
  additionalInfo?: { type?: string; info?: unknown }[];
}

/** The ARM error body `{ error: { code, message, target, details, additionalInfo } }`. */
export interface ArmErrorBody {
  error?: ArmErrorDetail & { innerError?: unknown; innererror?: unknown };
}

function brand(error: Error): void {
  Object.defineProperty(error, ERROR_BRAND, { value: error.name, enumerable: false });
}

function hasBrandOrName(e: unknown, name: string): boolean {
  if (typeof e !== "object" || e === null) {
    return false;
  }
  const branded = (e as Record<symbol, unknown>)[ERROR_BRAND];
  return branded === name || (e as { name?: unknown }).name === name;
}

/** Fields of an {@link AzureMlRestError}. */
export interface AzureMlRestErrorOptions {
  /** ARM error code, or `HttpError<status>` when the body has none. */
  code: string;
  /** The service's message, without the decoration this class adds. */
  serviceMessage: string;
  statusCode: number;
  /** `x-ms-request-id` of the failed response. */
  requestId?: string;
  /** `x-ms-client-request-id` sent with the request, shared by all its attempts. */
  clientRequestId?: string;
  /** Operation name, e.g. `CodeVersions_CreateOrUpdate` or `PUT codes/versions`. */
  operation: string;
  method: string;
  /** Request URL; secret query values are redacted before storing. */
  url: string;
  target?: string;
  details?: ArmErrorDetail[];
  /** How many attempts were made, retries included. */
  attempts?: number;
}

/** A non-success HTTP response from ARM or the Azure ML data plane. */
export class AzureMlRestError extends Error {
  /** ARM error code (PascalCase) or `HttpError<status>`. */
  readonly code: string;
  readonly statusCode: number;
  readonly requestId?: string;
  readonly clientRequestId?: string;
  readonly operation: string;
  readonly method: string;
  /** The request URL with secret query values redacted. */
  readonly url: string;
  readonly target?: string;
  readonly details?: ArmErrorDetail[];
  readonly serviceMessage: string;
  readonly attempts?: number;

  constructor(options: AzureMlRestErrorOptions) {
    const serviceMessage = redactText(options.serviceMessage);
    const context = [`HTTP ${options.statusCode}`];
    if (options.requestId) {
      context.push(`request id ${options.requestId}`);
    }
    if (options.attempts !== undefined && options.attempts > 1) {
      context.push(`after ${options.attempts} attempts`);
    }
    super(
      `${options.operation} failed: ${options.code}: ${serviceMessage} (${context.join(", ")})${authHint(options.statusCode)}`,
    );
    this.name = "AzureMlRestError";
    this.code = options.code;
    this.statusCode = options.statusCode;
    this.requestId = options.requestId;
    this.clientRequestId = options.clientRequestId;
    this.operation = options.operation;
    this.method = options.method;
    this.url = redactUrl(options.url);
    this.target = options.target;
    this.details = options.details;
    this.serviceMessage = serviceMessage;
    this.attempts = options.attempts;
    brand(this);
  }
}

function authHint(statusCode: number): string {
  if (statusCode === 401) {
    return ". The credential was rejected: check which identity DefaultAzureCredential picked (AZURE_* / IDENTITY_* environment, az login) and the token audience.";
  }
  if (statusCode === 403) {
    return ". The identity is authenticated but lacks a role on this scope.";
  }
  return "";
}

/** The response pieces {@link restErrorFromResponse} reads. */
export interface ErrorResponseLike {
  statusCode: number;
  headers: Record<string, string | undefined>;
  body?: unknown;
}

/** The request pieces {@link restErrorFromResponse} reads. */
export interface ErrorRequestLike {
  method: string;
  url: string;
  operation: string;
  clientRequestId?: string;
  attempts?: number;
}

/**
 * Builds an {@link AzureMlRestError} from a failed response, reading the ARM error body when there
 * is one and falling back to `HttpError<status>` with the raw text otherwise.
 */
export function restErrorFromResponse(
  response: ErrorResponseLike,
  request: ErrorRequestLike,
): AzureMlRestError {
  const armError = readArmError(response.body);
  const code = armError?.code ?? `HttpError${response.statusCode}`;
  let serviceMessage = armError?.message;
  if (!serviceMessage) {
    serviceMessage =
      typeof response.body === "string" && response.body.trim()
        ? response.body.trim().slice(0, 500)
        : `The service answered ${response.statusCode} with no error message.`;
  }
  return new AzureMlRestError({
    code,
    serviceMessage,
    statusCode: response.statusCode,
    requestId: response.headers["x-ms-request-id"],
    clientRequestId: request.clientRequestId ?? response.headers["x-ms-client-request-id"],
    operation: request.operation,
    method: request.method,
    url: request.url,
    target: armError?.target,
    details: armError?.details,
    attempts: request.attempts,
  });
}

/** Reads `{error:{code,message,…}}` (or a bare `{code,message}`) from a parsed body. */
export function readArmError(body: unknown): ArmErrorDetail | undefined {
  if (typeof body !== "object" || body === null) {
    return undefined;
  }
  const candidate = (body as ArmErrorBody).error ?? body;
  if (typeof candidate !== "object" || candidate === null) {
    return undefined;
  }
  const { code, message, target, details } = candidate as ArmErrorDetail;
  if (typeof code !== "string" && typeof message !== "string") {
    return undefined;
  }
  const detail: ArmErrorDetail = {};
  if (typeof code === "string") {
    detail.code = code;
  }
  if (typeof message === "string") {
    detail.message = message;
  }
  if (typeof target === "string") {
    detail.target = target;
  }
  if (Array.isArray(details)) {
    detail.details = details;
  }
  return detail;
}

/** Fields of an {@link LroFailedError}. */
export interface LroFailedErrorOptions {
  /** The operation's error code from the service, e.g. `InternalServerError`, or a fallback. */
  code: string;
  /** The service's error message. */
  serviceMessage: string;
  status: "failed" | "canceled";
  operation: string;
  /** Status or Location URL that reported the outcome (secret query values redacted). */
  operationUrl?: string;
  /** The ARM id or URL of the resource the operation was about. */
  resourceId?: string;
  target?: string;
  details?: ArmErrorDetail[];
}

/** A long-running operation (or a polled job) that ended Failed or Canceled. */
export class LroFailedError extends Error {
  readonly code: string;
  readonly status: "failed" | "canceled";
  readonly operation: string;
  readonly operationUrl?: string;
  readonly resourceId?: string;
  readonly target?: string;
  readonly details?: ArmErrorDetail[];
  readonly serviceMessage: string;

  constructor(options: LroFailedErrorOptions) {
    const serviceMessage = redactText(options.serviceMessage);
    const verb = options.status === "canceled" ? "was canceled" : "failed";
    const where = options.resourceId ? ` (resource ${options.resourceId})` : "";
    super(`${options.operation} ${verb}: ${options.code}: ${serviceMessage}${where}`);
    this.name = "LroFailedError";
    this.code = options.code;
    this.status = options.status;
    this.operation = options.operation;
    this.operationUrl =
      options.operationUrl === undefined ? undefined : redactUrl(options.operationUrl);
    this.resourceId = options.resourceId;
    this.target = options.target;
    this.details = options.details;
    this.serviceMessage = serviceMessage;
    brand(this);
  }
}

/** Fields of a {@link PollTimeoutError}. */
export interface PollTimeoutErrorOptions {
  operation: string;
  timeoutInMs: number;
  operationUrl?: string;
  /** Last status seen, e.g. `running` or `Queued`. */
  lastStatus?: string;
}

/**
 * Polling gave up after `timeoutInMs`. The operation itself may still be running in Azure ML;
 * the operation URL (when known) lets a later run resume.
 */
export class PollTimeoutError extends Error {
  readonly code = "PollTimeout";
  readonly operation: string;
  readonly timeoutInMs: number;
  readonly operationUrl?: string;
  readonly lastStatus?: string;

  constructor(options: PollTimeoutErrorOptions) {
    const url = options.operationUrl === undefined ? undefined : redactUrl(options.operationUrl);
    const last = options.lastStatus ? ` (last status: ${options.lastStatus})` : "";
    const at = url ? ` It may still be running; its status is at ${url}.` : "";
    super(
      `${options.operation} did not finish within ${options.timeoutInMs} ms${last}.${at} Raise azureml:lroTimeoutInSeconds to wait longer.`,
    );
    this.name = "PollTimeoutError";
    this.operation = options.operation;
    this.timeoutInMs = options.timeoutInMs;
    this.operationUrl = url;
    this.lastStatus = options.lastStatus;
    brand(this);
  }
}

/** Fields of a {@link NetworkError}. */
export interface NetworkErrorOptions {
  operation: string;
  method: string;
  url: string;
  clientRequestId?: string;
  attempts: number;
  cause: unknown;
}

/**
 * The request never got an HTTP response (connection reset, DNS failure, timeout…), after the
 * retries the rules allow. `code` is the underlying system or undici code, e.g. `ECONNRESET` or
 * `UND_ERR_HEADERS_TIMEOUT`.
 */
export class NetworkError extends Error {
  readonly code: string;
  readonly operation: string;
  readonly method: string;
  readonly url: string;
  readonly clientRequestId?: string;
  readonly attempts: number;

  constructor(options: NetworkErrorOptions) {
    const code = errorCodeOf(options.cause) ?? "NETWORK_ERROR";
    const url = redactUrl(options.url);
    const causeMessage =
      options.cause instanceof Error ? redactText(options.cause.message) : String(options.cause);
    const host = safeHost(options.url);
    const attempts = options.attempts === 1 ? "1 attempt" : `${options.attempts} attempts`;
    super(
      `${options.operation} failed: ${code}: could not get a response from ${host}: ${causeMessage} (${options.method}, ${attempts})`,
      { cause: options.cause },
    );
    this.name = "NetworkError";
    this.code = code;
    this.operation = options.operation;
    this.method = options.method;
    this.url = url;
    this.clientRequestId = options.clientRequestId;
    this.attempts = options.attempts;
    brand(this);
  }
}

/** No token could be obtained for a scope; the message names the scope and the credential's reason. */
export class AccessTokenError extends Error {
  readonly code = "AccessTokenUnavailable";
  readonly scope: string;

  constructor(scope: string, reason: string, cause?: unknown) {
    super(
      `Could not get an access token for ${scope}: ${redactText(reason)}. Configure a credential that DefaultAzureCredential can find (AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, managed identity, or az login).`,
      { cause },
    );
    this.name = "AccessTokenError";
    this.scope = scope;
    brand(this);
  }
}

/** The `code` of an error or of its `cause` (undici nests system errors), if any. */
export function errorCodeOf(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && code) {
      return code;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "the service";
  }
}

/** True for an {@link AzureMlRestError} from any copy of this module. */
export function isAzureMlRestError(e: unknown): e is AzureMlRestError {
  return hasBrandOrName(e, "AzureMlRestError");
}

/** True for an {@link LroFailedError} from any copy of this module. */
export function isLroFailedError(e: unknown): e is LroFailedError {
  return hasBrandOrName(e, "LroFailedError");
}

/** True for a {@link PollTimeoutError} from any copy of this module. */
export function isPollTimeoutError(e: unknown): e is PollTimeoutError {
  return hasBrandOrName(e, "PollTimeoutError");
}

/** True for a {@link NetworkError} from any copy of this module. */
export function isNetworkError(e: unknown): e is NetworkError {
  return hasBrandOrName(e, "NetworkError") && typeof (e as NetworkError).attempts === "number";
}

/** True for an {@link AccessTokenError} from any copy of this module. */
export function isAccessTokenError(e: unknown): e is AccessTokenError {
  return hasBrandOrName(e, "AccessTokenError") && typeof (e as AccessTokenError).scope === "string";
}

/** True for an abort (user `abortSignal`), whatever library raised it. */
export function isAbortError(e: unknown): boolean {
  return typeof e === "object" && e !== null && (e as { name?: unknown }).name === "AbortError";
}
