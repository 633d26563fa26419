/**
 * Long-running operations on `@azure/core-lro` 3.3's `createHttpPoller`, fed through our pipeline
 * (so polls get retries, auth and logging, and go to the absolute URLs the service gave).
 *
 * Modes (contract 6.4, inferred from the initial response like core-lro):
 * - `OperationLocation`: `Operation-Location` or `Azure-AsyncOperation` header; poll the status
 *   body (`status`), then GET the original URI for a PUT (or the Location for POST/PATCH);
 * - `ResourceLocation`: `Location` header; 202 while running, then the final response;
 * - `Body`: a PUT without those headers; poll the resource's `provisioningState`.
 *
 * What we do on top of core-lro, and why:
 * - Waiting is ours. core-lro 3.3 polls immediately after the initial response (ignoring its
 *   Retry-After), reads only `retry-after`, and keeps a Retry-After for all later polls. We hide
 *   Retry-After from it, run it with a zero interval, and sleep inside `sendPollRequest`: before
 *   each status poll we wait the previous response's `retry-after-ms` / `x-ms-retry-after-ms` /
 *   `Retry-After` (capped at `maxRetryDelayInMs`), else `pollIntervalInMs`; never before the
 *   final GET.
 * - Failures are ours. core-lro throws a plain `Error("The long-running operation has failed…")`;
 *   we run it with `resolveOnUnsuccessful` and throw `LroFailedError` carrying the service's error
 *   `code` and `message` (or `status: "canceled"`). A PUT whose final GET shows
 *   `provisioningState: Failed` also fails.
 * - In Location mode a non-2xx from the Location URL is the operation's result (ARM returns the
 *   "exact synchronous response" there), so it becomes `LroFailedError`. In the other modes a
 *   non-2xx poll means the status could not be read, and surfaces as `AzureMlRestError`.
 * - An overall `lroTimeoutInMs` (→ `PollTimeoutError`) and an `abortSignal`. Both stop the
 *   polling only; the operation keeps running in Azure ML and `operationUrl` points at it.
 * - A DELETE answered 404 is already done (idempotent delete).
 */
import {
  createHttpPoller,
  type OperationResponse,
  type OperationState,
  type PollerLike,
  type RawResponse,
} from "@azure/core-lro";
import { createAbortError, sleep } from "./abort";
import type { AzureMlRequest, AzureMlResponse } from "./client";
import {
  LroFailedError,
  PollTimeoutError,
  isAbortError,
  readArmError,
  restErrorFromResponse,
  type ArmErrorDetail,
} from "./errors";
import type { AzureMlSettings } from "./settings";
import { parseRetryAfter } from "./throttling";

/** How a long-running operation reports progress. */
export type LroMode = "OperationLocation" | "ResourceLocation" | "Body";

/** Normalized operation status (core-lro's union). */
export type LroStatus = "notStarted" | "running" | "succeeded" | "canceled" | "failed";

/** The part of a client the LRO engine needs. */
export interface LroClient {
  readonly settings: AzureMlSettings;
  request<T = unknown>(request: AzureMlRequest): Promise<AzureMlResponse<T>>;
}

/** One status poll, reported to `onPoll`. */
export interface LroPollEvent {
  /** 1-based count of status polls (final GETs not counted). */
  pollCount: number;
  statusCode: number;
  status: LroStatus;
  /** The wait before the next poll, when the operation is still running. */
  nextDelayInMs?: number;
  /** Whether `nextDelayInMs` came from a Retry-After header. */
  serverDirected: boolean;
}

/** Options for `begin*` calls. */
export interface LongRunningOptions {
  /** Stops polling (not the operation) when aborted. */
  abortSignal?: AbortSignal;
  /** Wait between polls when the service sends no Retry-After; default settings.pollIntervalInMs. */
  pollIntervalInMs?: number;
  /** Give up polling after this long with PollTimeoutError; default settings.lroTimeoutInMs. */
  lroTimeoutInMs?: number;
  /** Observes each status poll. */
  onPoll?: (event: LroPollEvent) => void;
  /**
   * Where a POST's result is read after success: `location` (default), `original-uri`,
   * `azure-async-operation` or `operation-location` (no final GET).
   */
  resourceLocationConfig?:
    "azure-async-operation" | "location" | "original-uri" | "operation-location";
}

/** A started long-running operation. */
export interface LongRunningOperation<T> {
  /** The core-lro poller (for `poll`, `onProgress`, `serialize`). Prefer `pollUntilDone` below. */
  readonly poller: PollerLike<OperationState<T>, T>;
  /** The response to the initial request. */
  readonly initialResponse: AzureMlResponse<unknown>;
  /** How the operation reports progress; `undefined` when it finished synchronously. */
  readonly mode: LroMode | undefined;
  /** The URL being polled (status or Location URL, or the resource for Body mode), if any. */
  readonly operationUrl?: string;
  /**
   * Polls to a terminal state and returns the final body; throws LroFailedError (failed or
   * canceled), PollTimeoutError, an AbortError, or AzureMlRestError when a poll cannot be read.
   */
  pollUntilDone(): Promise<T>;
}

/** What {@link inferLroMode} found in an initial response. */
export interface LroModeInfo {
  mode: LroMode;
  /** URL to poll for status. */
  pollUrl: string;
  /** URL of the final GET after success, if any. */
  finalUrl?: string;
}

/**
 * Infers the polling mode from the initial response, with core-lro 3.3's rules:
 * `operation-location` beats `azure-asyncoperation` (OperationLocation), then `location`
 * (ResourceLocation), then a PUT polls its own URL (Body). Anything else is not an LRO.
 */
export function inferLroMode(
  method: string,
  response: { headers: Record<string, string | undefined>; request: { url: string } },
  resourceLocationConfig: LongRunningOptions["resourceLocationConfig"] = "location",
): LroModeInfo | undefined {
  const verb = method.toUpperCase();
  const url = response.request.url;
  const statusUrl =
    response.headers["operation-location"] ?? response.headers["azure-asyncoperation"];
  const location = response.headers["location"];
  if (statusUrl !== undefined) {
    const info: LroModeInfo = { mode: "OperationLocation", pollUrl: statusUrl };
    const fromConfig = {
      "operation-location": undefined,
      "azure-async-operation": undefined,
      "original-uri": url,
      location,
    }[resourceLocationConfig];
    const finalUrl =
      verb === "PUT"
        ? url
        : verb === "DELETE"
          ? undefined
          : verb === "PATCH"
            ? (fromConfig ?? url)
            : fromConfig;
    if (finalUrl !== undefined) {
      info.finalUrl = finalUrl;
    }
    return info;
  }
  if (location !== undefined) {
    return { mode: "ResourceLocation", pollUrl: location };
  }
  if (verb === "PUT") {
    return { mode: "Body", pollUrl: url };
  }
  return undefined;
}

/**
 * Maps a service status string onto {@link LroStatus}, case-insensitively as core-lro does:
 * containing "succeeded" → succeeded; containing "fail" → failed; "canceled"/"cancelled" →
 * canceled; "notstarted" → notStarted; other strings → running. Without a status, the HTTP code
 * decides (202 running, < 300 succeeded, else failed); with neither, running.
 */
export function normalizeStatus(value: unknown, statusCode?: number): LroStatus {
  if (typeof value === "string" && value.trim()) {
    const lower = value.trim().toLowerCase();
    if (lower.includes("succeeded")) {
      return "succeeded";
    }
    if (lower.includes("fail")) {
      return "failed";
    }
    if (lower === "canceled" || lower === "cancelled") {
      return "canceled";
    }
    if (lower === "notstarted") {
      return "notStarted";
    }
    return "running";
  }
  if (statusCode === undefined) {
    return "running";
  }
  if (statusCode === 202) {
    return "running";
  }
  return statusCode < 300 ? "succeeded" : "failed";
}

/** `properties.provisioningState ?? provisioningState` of a resource body, if any. */
export function provisioningStateOf(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) {
    return undefined;
  }
  const record = body as {
    provisioningState?: unknown;
    properties?: { provisioningState?: unknown };
  };
  const value = record.properties?.provisioningState ?? record.provisioningState;
  return typeof value === "string" ? value : undefined;
}

/** The error a failed operation reported: `error`, `properties.error`, or a compute's `provisioningErrors`. */
export function operationErrorOf(body: unknown): ArmErrorDetail | undefined {
  if (typeof body !== "object" || body === null) {
    return undefined;
  }
  const record = body as {
    error?: unknown;
    properties?: { error?: unknown; provisioningErrors?: { error?: unknown }[] };
  };
  for (const candidate of [
    record.error,
    record.properties?.error,
    record.properties?.provisioningErrors?.[0]?.error,
  ]) {
    const detail = readArmError(candidate === undefined ? undefined : { error: candidate });
    if (detail) {
      return detail;
    }
  }
  return undefined;
}

const TERMINAL: ReadonlySet<string> = new Set(["succeeded", "failed", "canceled"]);

/**
 * Sends `request` and returns a handle to poll it to completion. The initial request's errors
 * (AzureMlRestError, NetworkError) are thrown from here; nothing is polled until `pollUntilDone`.
 */
export async function beginLongRunning<T>(
  client: LroClient,
  request: AzureMlRequest,
  options: LongRunningOptions = {},
): Promise<LongRunningOperation<T>> {
  const { settings } = client;
  const method = request.method.toUpperCase();
  const pollIntervalInMs = options.pollIntervalInMs ?? settings.pollIntervalInMs;
  const timeoutInMs = options.lroTimeoutInMs ?? settings.lroTimeoutInMs;
  const audience = request.audience ?? "arm";
  const timeoutController = new AbortController();
  const signal = options.abortSignal
    ? AbortSignal.any([options.abortSignal, timeoutController.signal])
    : timeoutController.signal;

  const initial = await client.request<unknown>({
    ...request,
    abortSignal: options.abortSignal,
    allowNotFound: method === "DELETE" ? true : request.allowNotFound,
  });
  const modeInfo =
    initial.statusCode === 404
      ? undefined
      : inferLroMode(
          method,
          { headers: initial.headers, request: { url: initial.url } },
          options.resourceLocationConfig,
        );

  let lastResponse: AzureMlResponse<unknown> = initial;
  let pendingDelayInMs = delayAfter(initial);
  let pollCount = 0;
  let lastDelay = { delayInMs: pendingDelayInMs, serverDirected: isServerDirected(initial) };

  function isServerDirected(response: AzureMlResponse<unknown>): boolean {
    return parseRetryAfter(response.headers) !== undefined;
  }
  function delayAfter(response: AzureMlResponse<unknown>): number {
    const retryAfter = parseRetryAfter(response.headers);
    return Math.min(retryAfter ?? pollIntervalInMs, settings.maxRetryDelayInMs);
  }

  const poller = createHttpPoller<T, OperationState<T>>(
    {
      async sendInitialRequest() {
        // A DELETE of something already gone is done: core-lro would call a 404 "failed".
        return toOperationResponse(
          initial.statusCode === 404 ? { ...initial, statusCode: 204 } : initial,
          method,
        );
      },
      async sendPollRequest(url: string) {
        if (pendingDelayInMs > 0) {
          await sleep(pendingDelayInMs, signal, `Polling ${request.operation} was aborted.`);
        }
        pendingDelayInMs = 0;
        const response = await client.request<unknown>({
          method: "GET",
          url,
          audience,
          operation: `${request.operation} (poll)`,
          abortSignal: signal,
          throwOnHttpError: false,
        });
        const failedLocation = modeInfo?.mode === "ResourceLocation" && response.statusCode >= 300;
        if (response.statusCode >= 300 && response.statusCode !== 202 && !failedLocation) {
          throw restErrorFromResponse(response, {
            method: "GET",
            url: response.url,
            operation: `${request.operation} (poll)`,
            clientRequestId: response.clientRequestId,
            attempts: response.attempts,
          });
        }
        lastResponse = response;
        return toOperationResponse(response, "GET");
      },
    },
    {
      intervalInMs: 0,
      resolveOnUnsuccessful: true,
      resourceLocationConfig: options.resourceLocationConfig,
      updateState(state) {
        pollCount++;
        const running = !TERMINAL.has(state.status);
        if (running) {
          pendingDelayInMs = delayAfter(lastResponse);
          lastDelay = {
            delayInMs: pendingDelayInMs,
            serverDirected: isServerDirected(lastResponse),
          };
        }
        options.onPoll?.({
          pollCount,
          statusCode: lastResponse.statusCode,
          status: state.status as LroStatus,
          nextDelayInMs: running ? lastDelay.delayInMs : undefined,
          serverDirected: running && lastDelay.serverDirected,
        });
      },
    },
  );
  await poller.submitted();

  async function pollUntilDone(): Promise<T> {
    const timer = setTimeout(() => timeoutController.abort(), timeoutInMs);
    try {
      await poller.pollUntilDone({ abortSignal: signal });
    } catch (error) {
      if (timeoutController.signal.aborted && !options.abortSignal?.aborted) {
        throw new PollTimeoutError({
          operation: request.operation,
          timeoutInMs,
          operationUrl: modeInfo?.pollUrl,
          lastStatus: poller.operationState?.status,
        });
      }
      if (isAbortError(error) || options.abortSignal?.aborted) {
        const where = modeInfo ? ` Its status is at ${modeInfo.pollUrl}.` : "";
        throw createAbortError(
          `Polling ${request.operation} was aborted; the operation itself was not canceled.${where}`,
        );
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
    const state = poller.operationState!;
    const failure = finalFailure(state.status, lastResponse, method);
    if (failure) {
      const detail = operationErrorOf(lastResponse.body);
      throw new LroFailedError({
        code:
          detail?.code ??
          (failure === "canceled"
            ? "Canceled"
            : `OperationFailed${lastResponse.statusCode >= 300 ? lastResponse.statusCode : ""}`),
        serviceMessage:
          detail?.message ??
          `The operation ended ${failure} (HTTP ${lastResponse.statusCode}) without an error description.`,
        status: failure,
        operation: request.operation,
        operationUrl: modeInfo?.pollUrl,
        resourceId: request.path ?? request.url,
        target: detail?.target,
        details: detail?.details,
      });
    }
    return state.result as T;
  }

  const operation: LongRunningOperation<T> = {
    poller,
    initialResponse: initial,
    mode: modeInfo?.mode,
    pollUntilDone,
  };
  if (modeInfo) {
    (operation as { operationUrl?: string }).operationUrl = modeInfo.pollUrl;
  }
  return operation;
}

/** `failed`/`canceled` for an unsuccessful end, including a PUT whose final body says Failed. */
function finalFailure(
  status: string,
  last: AzureMlResponse<unknown>,
  method: string,
): "failed" | "canceled" | undefined {
  if (status === "failed" || status === "canceled") {
    return status;
  }
  if (status === "succeeded" && method === "PUT") {
    const state = provisioningStateOf(last.body);
    const normalized = state === undefined ? undefined : normalizeStatus(state);
    if (normalized === "failed" || normalized === "canceled") {
      return normalized;
    }
  }
  return undefined;
}

function toOperationResponse(
  response: AzureMlResponse<unknown>,
  method: string,
): OperationResponse<unknown> {
  // Retry-After is handled by sendPollRequest; core-lro must not add its own wait.
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (name !== "retry-after" && name !== "retry-after-ms" && name !== "x-ms-retry-after-ms") {
      headers[name] = value;
    }
  }
  const rawResponse: RawResponse = {
    statusCode: response.statusCode,
    headers,
    body: response.body,
    request: { method, url: response.url },
  };
  return { flatResponse: response.body, rawResponse };
}

/** Options for {@link pollUntil}. */
export interface PollUntilOptions<T> {
  /** Wait between fetches: a constant, or computed from the poll count and the last value. */
  intervalInMs: number | ((pollCount: number, last: T) => number);
  /** Give up after this long with PollTimeoutError. */
  timeoutInMs: number;
  abortSignal?: AbortSignal;
  /** Called with every fetched value, before `isDone` is checked. */
  onProgress?: (value: T, pollCount: number) => void;
  /** Name for errors, e.g. `Jobs_Get train-123`. */
  operation?: string;
  /** URL or id being polled, for errors. */
  operationUrl?: string;
  /** Short status text of a value, for PollTimeoutError. */
  describe?: (value: T) => string;
}

/**
 * Generic status polling (job runs, batch scoring jobs): calls `fetch` until `isDone`, waiting
 * `intervalInMs` between calls. `fetch` receives an abort signal that fires on timeout or abort.
 * Throws PollTimeoutError after `timeoutInMs`, or an AbortError when `abortSignal` aborts.
 */
export async function pollUntil<T>(
  fetch: (options: { abortSignal: AbortSignal }) => Promise<T>,
  isDone: (value: T) => boolean,
  options: PollUntilOptions<T>,
): Promise<T> {
  const operation = options.operation ?? "Polling";
  const timeoutController = new AbortController();
  const signal = options.abortSignal
    ? AbortSignal.any([options.abortSignal, timeoutController.signal])
    : timeoutController.signal;
  const timer = setTimeout(() => timeoutController.abort(), options.timeoutInMs);
  let last: T | undefined;
  let pollCount = 0;
  try {
    for (;;) {
      last = await fetch({ abortSignal: signal });
      pollCount++;
      options.onProgress?.(last, pollCount);
      if (isDone(last)) {
        return last;
      }
      const wait =
        typeof options.intervalInMs === "function"
          ? options.intervalInMs(pollCount, last)
          : options.intervalInMs;
      await sleep(wait, signal, `${operation} was aborted.`);
    }
  } catch (error) {
    if (timeoutController.signal.aborted && !options.abortSignal?.aborted) {
      throw new PollTimeoutError({
        operation,
        timeoutInMs: options.timeoutInMs,
        operationUrl: options.operationUrl,
        lastStatus: last !== undefined && options.describe ? options.describe(last) : undefined,
      });
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
