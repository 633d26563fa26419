/**
 * The retry rules, written down as constants and pure functions (STYLE rule 10). The retry
 * policy in pipeline.ts applies them; nothing here does I/O.
 *
 * Differences from core-rest-pipeline, on purpose:
 * - A 429 without any Retry-After header is retried with exponential backoff. core-rest-pipeline
 *   returns it unretried (its throttling strategy needs the header, its exponential strategy only
 *   covers 408 and 5xx); ARM 429s normally carry the header, but a proxy's may not, and a throttled
 *   request was not processed, so retrying it is safe.
 * - Non-idempotent methods (POST, PATCH) are not retried unless the caller opts in, except for
 *   outcomes that prove the request was not processed: 429, and errors raised before the request
 *   left this machine (connection refused, DNS, connect timeout). Batch scoring POSTs create jobs;
 *   a blind retry after a reset connection could create two.
 * - A server's Retry-After is honoured exactly, but capped at `maxRetryDelayInMs` (default 60 s).
 *   ARM allows Retry-After up to 600 s; waiting that long inside `pulumi up` for every retry is
 *   worse than retrying at the cap and being told to wait again. Raise the cap to honour it fully.
 */
import { errorCodeOf } from "./errors";

/** Statuses retried: 408, 429 and every 5xx except 501 (Not Implemented) and 505 (HTTP Version). */
export const RETRYABLE_STATUS: ReadonlySet<number> = new Set([
  408, 429, 500, 502, 503, 504, 506, 507, 508, 509, 510, 511,
]);

/** System and undici error codes retried (the request got no HTTP response). */
export const RETRYABLE_ERROR_CODES: ReadonlySet<string> = new Set([
  "ECONNRESET",
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "ENETDOWN",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CLOSED",
]);

/**
 * Error codes raised before any byte of the request reached the server. Retrying them is safe
 * even for POST.
 */
export const NOT_SENT_ERROR_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "ENETDOWN",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/** Methods whose repetition has the same effect as one call (RFC 9110 9.2.2). */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set([
  "GET",
  "HEAD",
  "PUT",
  "DELETE",
  "OPTIONS",
]);

/** True for statuses in {@link RETRYABLE_STATUS}, including any future 5xx other than 501/505. */
export function isRetryableStatus(status: number): boolean {
  return (
    status === 408 ||
    status === 429 ||
    (status >= 500 && status <= 599 && ![501, 505].includes(status))
  );
}

function isAbort(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    ((error as { name?: unknown }).name === "AbortError" ||
      (error as { code?: unknown }).code === "UND_ERR_ABORTED" ||
      (error as { code?: unknown }).code === "ABORT_ERR")
  );
}

/** True for network-level failures worth another attempt; never for aborts. */
export function isRetryableError(error: unknown): boolean {
  if (isAbort(error)) {
    return false;
  }
  const code = errorCodeOf(error);
  return code !== undefined && RETRYABLE_ERROR_CODES.has(code);
}

/**
 * True when the method may be repeated blindly: GET, HEAD, PUT, DELETE, OPTIONS, or anything
 * when the caller opted in with `retryNonIdempotent`.
 */
export function isIdempotent(method: string, retryNonIdempotent = false): boolean {
  return retryNonIdempotent || IDEMPOTENT_METHODS.has(method.toUpperCase());
}

/** Backoff configuration, the same names as {@link AzureMlSettings}. */
export interface RetryDelayOptions {
  /** Delay before the first retry; doubles per retry. */
  retryDelayInMs: number;
  /** Cap for backoff and for a server's Retry-After. */
  maxRetryDelayInMs: number;
  /** What the server asked for (see throttling.ts); wins over backoff when present. */
  retryAfterInMs?: number;
}

/**
 * Delay before the next attempt, after attempt number `attempt` (1-based) failed.
 *
 * With a server Retry-After: exactly that, capped at `maxRetryDelayInMs`. Otherwise exponential
 * like core-rest-pipeline: `d = min(maxRetryDelayInMs, retryDelayInMs * 2^(attempt-1))`, then a
 * uniform jitter within `[d/2, d]` so that clients throttled together do not retry together.
 */
export function computeRetryDelay(
  attempt: number,
  options: RetryDelayOptions,
  random: () => number = Math.random,
): number {
  const cap = Math.max(0, options.maxRetryDelayInMs);
  if (options.retryAfterInMs !== undefined && options.retryAfterInMs >= 0) {
    return Math.min(options.retryAfterInMs, cap);
  }
  const exponent = Math.max(0, attempt - 1);
  const ceiling = Math.min(cap, Math.max(0, options.retryDelayInMs) * 2 ** exponent);
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  return Math.min(cap, Math.round(jittered));
}

/** What {@link shouldRetry} looks at. */
export interface RetryDecisionInput {
  /** Attempts made so far, the failed one included (1 after the first attempt). */
  attempt: number;
  maxRetries: number;
  method: string;
  /** HTTP status of the failed attempt, when there was a response. */
  status?: number;
  /** The error of the failed attempt, when there was no response. */
  error?: unknown;
  retryNonIdempotent?: boolean;
}

/**
 * Whether to make another attempt. Up to `maxRetries` retries (so `maxRetries + 1` attempts) of:
 * retryable statuses and network errors for idempotent methods (or opted-in ones); 429 and
 * not-sent errors for any method. Other 4xx, successes and aborts are final.
 */
export function shouldRetry(input: RetryDecisionInput): boolean {
  if (input.attempt > input.maxRetries) {
    return false;
  }
  const idempotent = isIdempotent(input.method, input.retryNonIdempotent);
  if (input.status !== undefined) {
    if (!isRetryableStatus(input.status)) {
      return false;
    }
    return idempotent || input.status === 429;
  }
  if (input.error === undefined || !isRetryableError(input.error)) {
    return false;
  }
  const code = errorCodeOf(input.error);
  return idempotent || (code !== undefined && NOT_SENT_ERROR_CODES.has(code));
}
