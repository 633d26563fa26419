/**
 * The Azure ML REST client: builds URLs (ARM path + api-version, or an absolute URL), serializes
 * JSON, runs the pipeline (request-id → retry → auth → log → undici), and turns failures into
 * AzureMlRestError / NetworkError. Long-running operations and paging build on `request`.
 *
 * Create it inside provider methods at run time; it holds no connection itself (the undici Agent
 * and the token cache are per process).
 */
import type { TokenCredential } from "@azure/identity";
import {
  AzureMlRestError,
  NetworkError,
  errorCodeOf,
  isAbortError,
  restErrorFromResponse,
  ERROR_BRAND,
} from "./errors";
import { sendHttpRequest } from "./http";
import { createLogger, type AzureMlLogger } from "./logger";
import { beginLongRunning, type LongRunningOperation, type LongRunningOptions } from "./lro";
import { listAll } from "./paging";
import {
  CLIENT_REQUEST_ID_HEADER,
  authPolicy,
  composePipeline,
  logPolicy,
  requestIdPolicy,
  retryPolicy,
  type Audience,
  type PipelineRequest,
  type RetryEvent,
  type SendRequest,
} from "./pipeline";
import type { AzureMlSettings } from "./settings";

/** Options for {@link createAzureMlClient}. */
export interface AzureMlClientOptions {
  settings: AzureMlSettings;
  /** A credential to use instead of the process-wide `DefaultAzureCredential`. */
  credential?: TokenCredential;
  /** Where log lines go; default: stderr at `AZUREML_LOG_LEVEL`. */
  logger?: AzureMlLogger;
  /** Observes every retry (attempt, delay, status or error code) before it waits. */
  onRetry?: (event: RetryEvent) => void;
}

/** Query values; `undefined` entries are dropped. */
export type QueryValues = Record<string, string | number | boolean | undefined>;

/** One logical call. Give `path` (ARM, api-version appended) or `url` (absolute, sent as is). */
export interface AzureMlRequest {
  method: string;
  /** ARM path starting with `/`, e.g. a resource id; `?api-version=` is appended. */
  path?: string;
  /** Absolute URL sent as is (nextLink, operation URLs, data plane); `query` is still appended. */
  url?: string;
  query?: QueryValues;
  /** JSON-serialized unless a string or bytes. */
  body?: unknown;
  /** Which token to send; default "arm". */
  audience?: Audience;
  /** Operation name for errors and logs, e.g. `CodeVersions_CreateOrUpdate`. */
  operation: string;
  /** Statuses that count as success; default any 2xx. */
  expectedStatus?: number[];
  /** 404 returns `{ statusCode: 404, body: undefined }` instead of throwing. */
  allowNotFound?: boolean;
  /** Allow retries of POST/PATCH after failures that may have reached the server. */
  retryNonIdempotent?: boolean;
  abortSignal?: AbortSignal;
  headers?: Record<string, string>;
  /** `false` returns every HTTP response as is, errors included (used by the LRO poller). */
  throwOnHttpError?: boolean;
}

/** A successful (or tolerated) response. */
export interface AzureMlResponse<T> {
  statusCode: number;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: T;
  /** `x-ms-request-id`. */
  requestId?: string;
  /** The `x-ms-client-request-id` sent with every attempt of this call. */
  clientRequestId?: string;
  /** The URL as sent (absolute, with api-version). */
  url: string;
  /** Attempts made, retries included. */
  attempts: number;
}

/** Per-call options for the convenience methods. */
export interface CallOptions {
  abortSignal?: AbortSignal;
  audience?: Audience;
  headers?: Record<string, string>;
  query?: QueryValues;
  /** For `post`: allow retries after failures that may have reached the server. */
  retryNonIdempotent?: boolean;
}

/** Options for `begin*`: polling options plus per-call request options. */
export type BeginOptions = LongRunningOptions & Omit<CallOptions, "abortSignal">;

/** The client other modules use. All paths are ARM paths (resource ids) unless noted. */
export interface AzureMlClient {
  readonly settings: AzureMlSettings;
  /** Sends one logical call (with retries); non-success → AzureMlRestError. */
  request<T = unknown>(request: AzureMlRequest): Promise<AzureMlResponse<T>>;
  /** GET → body. */
  get<T = unknown>(path: string, operation: string, query?: QueryValues): Promise<T>;
  /** GET → body, or `undefined` on 404. */
  getOrUndefined<T = unknown>(
    path: string,
    operation: string,
    query?: QueryValues,
  ): Promise<T | undefined>;
  /** PUT → body (synchronous resources: assets, jobs, datastores). */
  put<T = unknown>(
    path: string,
    body: unknown,
    operation: string,
    options?: CallOptions,
  ): Promise<T>;
  /** POST → body. Not retried after failures that may have reached the server unless opted in. */
  post<T = unknown>(
    path: string,
    body: unknown,
    operation: string,
    options?: CallOptions,
  ): Promise<T>;
  /** DELETE; 200, 202, 204 and 404 all succeed (idempotent). Does not wait for a 202. */
  delete(path: string, operation: string, options?: CallOptions): Promise<AzureMlResponse<unknown>>;
  /** GET every page, following `nextLink`. */
  list<T = unknown>(path: string, operation: string, query?: QueryValues): Promise<T[]>;
  /** PUT as a long-running operation (Azure-AsyncOperation / provisioningState). */
  beginPut<T = unknown>(
    path: string,
    body: unknown,
    operation: string,
    options?: BeginOptions,
  ): Promise<LongRunningOperation<T>>;
  /** DELETE as a long-running operation (Location); a 404 counts as already done. */
  beginDelete(
    path: string,
    operation: string,
    options?: BeginOptions,
  ): Promise<LongRunningOperation<unknown>>;
  /** POST as a long-running operation (Location / Azure-AsyncOperation). */
  beginPost<T = unknown>(
    path: string,
    body: unknown,
    operation: string,
    options?: BeginOptions,
  ): Promise<LongRunningOperation<T>>;
}

const USER_AGENT = `pulumi-azureml (undici; node ${process.version})`;

/** Creates a client over the shared per-process transport. */
export function createAzureMlClient(options: AzureMlClientOptions): AzureMlClient {
  const { settings } = options;
  const logger = options.logger ?? createLogger();
  const transport: SendRequest = (request) =>
    sendHttpRequest(
      {
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: request.body,
        abortSignal: request.abortSignal,
      },
      { caCertPath: settings.caCertPath, requestTimeoutInMs: settings.requestTimeoutInMs },
    );
  const send = composePipeline(
    [
      requestIdPolicy(),
      retryPolicy({
        maxRetries: settings.maxRetries,
        retryDelayInMs: settings.retryDelayInMs,
        maxRetryDelayInMs: settings.maxRetryDelayInMs,
        logger,
        onRetry: options.onRetry,
      }),
      authPolicy({
        credential: options.credential,
        scopes: { arm: options.settings.armScope, ml: options.settings.mlScope },
      }),
      logPolicy(logger),
    ],
    transport,
  );

  async function request<T>(req: AzureMlRequest): Promise<AzureMlResponse<T>> {
    const url = buildRequestUrl(settings, req);
    const headers: Record<string, string> = {
      accept: "application/json",
      "user-agent": USER_AGENT,
    };
    for (const [name, value] of Object.entries(req.headers ?? {})) {
      headers[name.toLowerCase()] = value;
    }
    let body: string | Uint8Array | undefined;
    if (req.body !== undefined) {
      if (typeof req.body === "string" || req.body instanceof Uint8Array) {
        body = req.body;
      } else {
        body = JSON.stringify(req.body);
        headers["content-type"] ??= "application/json";
      }
    }
    const method = req.method.toUpperCase();
    const pipelineRequest: PipelineRequest = {
      method,
      url,
      headers,
      body,
      audience: req.audience ?? "arm",
      operation: req.operation,
      retryNonIdempotent: req.retryNonIdempotent ?? false,
      abortSignal: req.abortSignal,
      attempt: 0,
    };
    let raw;
    try {
      raw = await send(pipelineRequest);
    } catch (error) {
      throw toTransportError(error, pipelineRequest);
    }
    const clientRequestId = headers[CLIENT_REQUEST_ID_HEADER];
    const response: AzureMlResponse<T> = {
      statusCode: raw.statusCode,
      headers: raw.headers,
      body: raw.body as T,
      requestId: raw.headers["x-ms-request-id"],
      clientRequestId,
      url,
      attempts: pipelineRequest.attempt,
    };
    if (req.throwOnHttpError === false) {
      return response;
    }
    if (raw.statusCode === 404 && req.allowNotFound) {
      return { ...response, body: undefined as T };
    }
    const ok = req.expectedStatus
      ? req.expectedStatus.includes(raw.statusCode)
      : raw.statusCode >= 200 && raw.statusCode < 300;
    if (ok) {
      return response;
    }
    if (raw.statusCode >= 200 && raw.statusCode < 300) {
      throw new AzureMlRestError({
        code: "UnexpectedStatus",
        serviceMessage: `expected HTTP ${req.expectedStatus!.join(" or ")}, got ${raw.statusCode}`,
        statusCode: raw.statusCode,
        requestId: response.requestId,
        clientRequestId,
        operation: req.operation,
        method,
        url,
        attempts: pipelineRequest.attempt,
      });
    }
    throw restErrorFromResponse(raw, {
      method,
      url,
      operation: req.operation,
      clientRequestId,
      attempts: pipelineRequest.attempt,
    });
  }

  const client: AzureMlClient = {
    settings,
    request,
    async get<T>(path: string, operation: string, query?: QueryValues) {
      return (await request<T>({ method: "GET", path, operation, query })).body;
    },
    async getOrUndefined<T>(path: string, operation: string, query?: QueryValues) {
      const response = await request<T>({
        method: "GET",
        path,
        operation,
        query,
        allowNotFound: true,
      });
      return response.statusCode === 404 ? undefined : response.body;
    },
    async put<T>(path: string, body: unknown, operation: string, options?: CallOptions) {
      return (await request<T>({ method: "PUT", path, body, operation, ...options })).body;
    },
    async post<T>(path: string, body: unknown, operation: string, options?: CallOptions) {
      return (await request<T>({ method: "POST", path, body, operation, ...options })).body;
    },
    delete(path: string, operation: string, options?: CallOptions) {
      return request({
        method: "DELETE",
        path,
        operation,
        allowNotFound: true,
        ...options,
      });
    },
    list<T>(path: string, operation: string, query?: QueryValues) {
      return listAll<T>(client, path, query, { operation });
    },
    beginPut<T>(path: string, body: unknown, operation: string, options: BeginOptions = {}) {
      return beginLongRunning<T>(
        client,
        beginRequest("PUT", path, body, operation, options),
        options,
      );
    },
    beginDelete(path: string, operation: string, options: BeginOptions = {}) {
      return beginLongRunning<unknown>(
        client,
        beginRequest("DELETE", path, undefined, operation, options),
        options,
      );
    },
    beginPost<T>(path: string, body: unknown, operation: string, options: BeginOptions = {}) {
      return beginLongRunning<T>(
        client,
        beginRequest("POST", path, body, operation, options),
        options,
      );
    },
  };
  return client;
}

function beginRequest(
  method: string,
  path: string,
  body: unknown,
  operation: string,
  options: BeginOptions,
): AzureMlRequest {
  return {
    method,
    path,
    body,
    operation,
    query: options.query,
    headers: options.headers,
    audience: options.audience,
    retryNonIdempotent: options.retryNonIdempotent,
  };
}

/**
 * The absolute URL for a request: `armEndpoint + path` with `api-version` (unless the caller put
 * one in `query` or the path), or `url` as given; then `query`, with `$` kept literal in names
 * (`$skip`, `$top`) as ARM documents them.
 */
export function buildRequestUrl(settings: AzureMlSettings, req: AzureMlRequest): string {
  let base: string;
  const query: QueryValues = { ...req.query };
  if (req.url !== undefined) {
    if (!/^https?:\/\//i.test(req.url)) {
      throw new TypeError(`${req.operation}: url must be absolute, got "${req.url}".`);
    }
    base = req.url;
  } else if (req.path !== undefined) {
    if (!req.path.startsWith("/")) {
      throw new TypeError(`${req.operation}: path must start with "/", got "${req.path}".`);
    }
    base = settings.armEndpoint + req.path;
    if (!("api-version" in query) && !/[?&]api-version=/.test(req.path)) {
      query["api-version"] = settings.apiVersion;
    }
  } else {
    throw new TypeError(`${req.operation}: give either path or url.`);
  }
  const parts: string[] = [];
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) {
      parts.push(
        `${encodeURIComponent(name).replace(/%24/g, "$")}=${encodeURIComponent(String(value))}`,
      );
    }
  }
  if (parts.length === 0) {
    return base;
  }
  return `${base}${base.includes("?") ? "&" : "?"}${parts.join("&")}`;
}

/** Wraps network failures in NetworkError; our own errors, aborts and TypeErrors pass through. */
function toTransportError(error: unknown, request: PipelineRequest): unknown {
  if (
    isAbortError(error) ||
    (typeof error === "object" && error !== null && ERROR_BRAND in error) ||
    error instanceof TypeError
  ) {
    return error;
  }
  if (errorCodeOf(error) === undefined) {
    return error;
  }
  if (errorCodeOf(error) === "UND_ERR_ABORTED") {
    return error;
  }
  return new NetworkError({
    operation: request.operation,
    method: request.method,
    url: request.url,
    clientRequestId: request.headers[CLIENT_REQUEST_ID_HEADER],
    attempts: Math.max(1, request.attempt),
    cause: error,
  });
}
