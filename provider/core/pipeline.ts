/**
 * Named policies composed in a fixed order, core-rest-pipeline style:
 *
 *   request-id → retry → auth → log → transport (http.ts)
 *
 * request-id runs once per logical call, so every attempt carries the same
 * `x-ms-client-request-id`. Retry wraps auth, so each attempt gets a current token (a long
 * Retry-After can outlive one). Log sits next to the transport and sees every attempt.
 *
 * Why the retry policy is hand-written rather than undici's `RetryHandler`/`interceptors.retry`
 * (checked against undici 7.30.2, lib/handler/retry-handler.js, with a local server):
 * - when retries run out it throws `RequestRetryError("Request failed")` and drops the response
 *   body (unless `throwOnError: false`), so the ARM error code and message would be lost;
 * - it reads only `Retry-After`, not `retry-after-ms` / `x-ms-retry-after-ms` (a 429 with
 *   `retry-after-ms: 5` was retried on its own backoff schedule instead);
 * - it cannot replay a stream body: such a request silently returns the first 500 unretried;
 * - its backoff has no jitter and its retries are invisible to the log policy and to `onRetry`.
 * The rules themselves live in retry.ts and throttling.ts as pure functions.
 */
import { randomUUID } from "node:crypto";
import type { TokenCredential } from "@azure/identity";
import { sleep } from "./abort";
import { getAccessToken, invalidateAccessToken } from "./auth";
import type { HttpResponse } from "./http";
import type { AzureMlLogger } from "./logger";
import { redactUrl } from "./redact";
import { computeRetryDelay, isRetryableStatus, shouldRetry } from "./retry";
import { ARM_SCOPE, AZURE_ML_SCOPE } from "./settings";
import { parseRetryAfter } from "./throttling";
import { errorCodeOf } from "./errors";

/** Which token a request carries: ARM, Azure ML data plane, or none (SAS URLs, plain-http fakes). */
export type Audience = "arm" | "ml" | "none";

/** One logical call travelling through the pipeline; policies may update it. */
export interface PipelineRequest {
  method: string;
  /** Absolute URL. */
  url: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  audience: Audience;
  /** Operation name for logs and errors, e.g. `CodeVersions_CreateOrUpdate`. */
  operation: string;
  /** Allow retries of POST/PATCH after errors that may have reached the server. */
  retryNonIdempotent: boolean;
  abortSignal?: AbortSignal;
  /** 1-based number of the attempt in flight; maintained by the retry policy. */
  attempt: number;
}

/** What the transport returns. */
export type PipelineResponse = HttpResponse;

/** Sends a request through the rest of the pipeline. */
export type SendRequest = (request: PipelineRequest) => Promise<PipelineResponse>;

/** A named step; calls `next` zero or more times. */
export interface PipelinePolicy {
  name: string;
  sendRequest(request: PipelineRequest, next: SendRequest): Promise<PipelineResponse>;
}

/** Composes policies (first = outermost) around the transport. Duplicate names throw. */
export function composePipeline(policies: PipelinePolicy[], transport: SendRequest): SendRequest {
  const seen = new Set<string>();
  for (const policy of policies) {
    if (seen.has(policy.name)) {
      throw new TypeError(`Duplicate pipeline policy "${policy.name}".`);
    }
    seen.add(policy.name);
  }
  return policies.reduceRight<SendRequest>(
    (next, policy) => (request) => policy.sendRequest(request, next),
    transport,
  );
}

/** Header carrying the client request id, echoed by ARM and recorded by the emulator. */
export const CLIENT_REQUEST_ID_HEADER = "x-ms-client-request-id";

/** Gives the call one `x-ms-client-request-id` (a UUID) unless the caller set one. */
export function requestIdPolicy(): PipelinePolicy {
  return {
    name: "requestId",
    sendRequest(request, next) {
      request.headers[CLIENT_REQUEST_ID_HEADER] ??= randomUUID();
      return next(request);
    },
  };
}

/** A retry that is about to happen; passed to `onRetry` and logged at info. */
export interface RetryEvent {
  operation: string;
  method: string;
  /** Redacted URL. */
  url: string;
  /** The attempt that failed (1-based). */
  attempt: number;
  /** Delay before the next attempt. */
  delayInMs: number;
  /** Whether the delay came from a Retry-After header rather than backoff. */
  serverDirected: boolean;
  statusCode?: number;
  errorCode?: string;
  clientRequestId?: string;
}

/** Options for {@link retryPolicy}. */
export interface RetryPolicyOptions {
  maxRetries: number;
  retryDelayInMs: number;
  maxRetryDelayInMs: number;
  logger: AzureMlLogger;
  /** Observes each retry before its delay starts. */
  onRetry?: (event: RetryEvent) => void;
  /** Jitter source, injectable for deterministic runs. */
  random?: () => number;
}

/** Retries per retry.ts: statuses, network errors, idempotency gate, Retry-After, jittered backoff. */
export function retryPolicy(options: RetryPolicyOptions): PipelinePolicy {
  return {
    name: "retry",
    async sendRequest(request, next) {
      for (let attempt = 1; ; attempt++) {
        request.attempt = attempt;
        let response: PipelineResponse | undefined;
        let error: unknown;
        try {
          response = await next(request);
        } catch (caught) {
          error = caught;
        }
        if (response && !isRetryableStatus(response.statusCode)) {
          return response;
        }
        const retry =
          !request.abortSignal?.aborted &&
          shouldRetry({
            attempt,
            maxRetries: options.maxRetries,
            method: request.method,
            status: response?.statusCode,
            error: response ? undefined : error,
            retryNonIdempotent: request.retryNonIdempotent,
          });
        if (!retry) {
          if (response) {
            return response;
          }
          throw error;
        }
        const retryAfterInMs = response ? parseRetryAfter(response.headers) : undefined;
        const delayInMs = computeRetryDelay(
          attempt,
          {
            retryDelayInMs: options.retryDelayInMs,
            maxRetryDelayInMs: options.maxRetryDelayInMs,
            retryAfterInMs,
          },
          options.random,
        );
        const event: RetryEvent = {
          operation: request.operation,
          method: request.method,
          url: redactUrl(request.url),
          attempt,
          delayInMs,
          serverDirected: retryAfterInMs !== undefined,
          statusCode: response?.statusCode,
          errorCode: response ? undefined : errorCodeOf(error),
          clientRequestId: request.headers[CLIENT_REQUEST_ID_HEADER],
        };
        options.logger.info(
          `${event.operation}: attempt ${attempt} got ${event.statusCode ?? event.errorCode ?? "an error"}; retrying in ${delayInMs} ms${event.serverDirected ? " (Retry-After)" : ""} (${event.method} ${event.url})`,
        );
        options.onRetry?.(event);
        await sleep(delayInMs, request.abortSignal, `${request.operation} was aborted.`);
      }
    },
  };
}

/** Options for {@link authPolicy}. */
export interface AuthPolicyOptions {
  /** Injected credential; the process-wide DefaultAzureCredential otherwise. */
  credential?: TokenCredential;
  /** Token scopes per audience; the public cloud's when absent. */
  scopes?: AudienceScopes;
}

/** The token scope of each audience; other clouds set their own through the settings. */
export interface AudienceScopes {
  arm: string;
  ml: string;
}

/** Maps an audience to its token scope, or `undefined` for "none". */
export function scopeForAudience(
  audience: Audience,
  scopes: AudienceScopes = { arm: ARM_SCOPE, ml: AZURE_ML_SCOPE },
): string | undefined {
  switch (audience) {
    case "arm":
      return scopes.arm;
    case "ml":
      return scopes.ml;
    case "none":
      return undefined;
    default:
      throw new TypeError(`Unknown audience "${String(audience)}".`);
  }
}

/**
 * Adds `Authorization: Bearer …` for the request's audience, refusing plain http (a token sent in
 * clear text is a leaked token). After a 401 the cached token is dropped so the next call asks the
 * credential again; the 401 itself is not retried.
 */
export function authPolicy(options: AuthPolicyOptions = {}): PipelinePolicy {
  return {
    name: "auth",
    async sendRequest(request, next) {
      const scope = scopeForAudience(request.audience, options.scopes);
      if (scope === undefined) {
        return next(request);
      }
      if (!request.url.toLowerCase().startsWith("https://")) {
        throw new Error(
          "Bearer token authentication is not permitted for non-TLS protected (non-https) URLs.",
        );
      }
      const token = await getAccessToken(scope, {
        credential: options.credential,
        abortSignal: request.abortSignal,
      });
      request.headers.authorization = `Bearer ${token}`;
      const response = await next(request);
      if (response.statusCode === 401) {
        invalidateAccessToken(scope, options.credential);
      }
      return response;
    },
  };
}

/** Logs each attempt at verbose: method, redacted URL, status, duration. Never headers. */
export function logPolicy(logger: AzureMlLogger): PipelinePolicy {
  return {
    name: "log",
    async sendRequest(request, next) {
      if (logger.isEnabled?.("verbose") === false) {
        return next(request);
      }
      const url = redactUrl(request.url);
      const started = performance.now();
      logger.verbose(
        `${request.operation}: ${request.method} ${url} (attempt ${request.attempt}, client request id ${request.headers[CLIENT_REQUEST_ID_HEADER] ?? "none"})`,
      );
      try {
        const response = await next(request);
        const elapsed = Math.round(performance.now() - started);
        logger.verbose(
          `${request.operation}: ${response.statusCode} from ${request.method} ${url} in ${elapsed} ms (request id ${response.headers["x-ms-request-id"] ?? "none"})`,
        );
        return response;
      } catch (error) {
        const elapsed = Math.round(performance.now() - started);
        logger.verbose(
          `${request.operation}: ${request.method} ${url} failed after ${elapsed} ms: ${errorCodeOf(error) ?? (error as Error)?.name ?? "error"}`,
        );
        throw error;
      }
    },
  };
}
