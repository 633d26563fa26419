/**
 * Sends ONE HTTP request with undici and returns the minimal response shape the pipeline and the
 * LRO engine work on. No retries, no auth: those are pipeline policies.
 *
 * undici is loaded with `await import()` on first use, and its Agent is cached per process and per
 * TLS/timeout configuration. Nothing here is ever serialized into `__provider`.
 */
import type { Agent } from "undici";
import { trustedCertificates } from "./trust";

/** One attempt, fully resolved: absolute URL, final headers, serialized body. */
export interface HttpRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  abortSignal?: AbortSignal;
}

/** The minimal response shape (what core-lro calls a RawResponse, plus `rawBody`). */
export interface HttpResponse<T = unknown> {
  statusCode: number;
  /** Lower-cased names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Parsed JSON when the content type says JSON, else the text, or `undefined` when empty. */
  body: T;
  /** The body text as received, when there was one. */
  rawBody?: string;
  request: { method: string; url: string };
}

/** Connection settings; a subset of AzureMlSettings. */
export interface HttpTransportOptions {
  /** PEM file of an extra CA to trust in addition to Node's bundled roots. */
  caCertPath?: string;
  /** undici `headersTimeout` and `bodyTimeout` per attempt. */
  requestTimeoutInMs: number;
}

/** The undici Agent options this transport uses; exported so benchmarks can build an identical one. */
export async function createAgentOptions(
  options: HttpTransportOptions,
): Promise<ConstructorParameters<typeof Agent>[0]> {
  const agentOptions: NonNullable<ConstructorParameters<typeof Agent>[0]> = {
    headersTimeout: options.requestTimeoutInMs,
    bodyTimeout: options.requestTimeoutInMs,
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
  };
  if (options.caCertPath) {
    agentOptions.connect = { ca: await trustedCertificates(options.caCertPath) };
  }
  return agentOptions;
}

let undiciModule: Promise<typeof import("undici")> | undefined;
const agents = new Map<string, Promise<Agent>>();

function loadUndici(): Promise<typeof import("undici")> {
  undiciModule ??= import("undici");
  return undiciModule;
}

/** The process-wide keep-alive Agent for this configuration. */
export function getAgent(options: HttpTransportOptions): Promise<Agent> {
  const key = `${options.caCertPath ?? ""}\u0000${options.requestTimeoutInMs}`;
  let agent = agents.get(key);
  if (!agent) {
    agent = (async () => {
      const { Agent } = await loadUndici();
      return new Agent(await createAgentOptions(options));
    })();
    agents.set(key, agent);
    // A failed creation (say, an unreadable CA file) must not be cached forever.
    agent.catch(() => agents.delete(key));
  }
  return agent;
}

/** Closes every cached Agent (tests and benchmarks call this so the process can exit promptly). */
export async function closeHttpAgents(): Promise<void> {
  const all = [...agents.values()];
  agents.clear();
  await Promise.all(all.map(async (agent) => (await agent.catch(() => undefined))?.close()));
}

/** Sends one request. Network failures reject with undici's error (which carries a `code`). */
export async function sendHttpRequest(
  request: HttpRequest,
  options: HttpTransportOptions,
): Promise<HttpResponse> {
  const [{ request: undiciRequest }, dispatcher] = await Promise.all([
    loadUndici(),
    getAgent(options),
  ]);
  const response = await undiciRequest(request.url, {
    method: request.method as "GET",
    headers: request.headers,
    body: request.body,
    signal: request.abortSignal,
    dispatcher,
  });
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
    }
  }
  const rawBody = await response.body.text();
  const result: HttpResponse = {
    statusCode: response.statusCode,
    headers,
    body: parseBody(rawBody, headers["content-type"]),
    request: { method: request.method, url: request.url },
  };
  if (rawBody) {
    result.rawBody = rawBody;
  }
  return result;
}

/** JSON when the content type says so (or the text looks like JSON), else the text. */
export function parseBody(text: string, contentType: string | undefined): unknown {
  if (!text) {
    return undefined;
  }
  const looksJson = /^\s*[[{]/.test(text);
  if ((contentType && /[/+]json\b/i.test(contentType)) || (!contentType && looksJson)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}
