/**
 * ARM list pagination: `{ value: [...], nextLink?: string }`, following `nextLink` as an absolute
 * URL until it is absent (contract 2.7).
 */
import type { AzureMlRequest, AzureMlResponse, QueryValues } from "./client";
import type { Audience } from "./pipeline";
import type { AzureMlSettings } from "./settings";

/** The part of a client paging needs. */
export interface PagingClient {
  readonly settings: AzureMlSettings;
  request<T = unknown>(request: AzureMlRequest): Promise<AzureMlResponse<T>>;
}

/** Options for the list helpers. */
export interface ListOptions {
  /** Operation name for errors; default `GET <path>`. */
  operation?: string;
  audience?: Audience;
  abortSignal?: AbortSignal;
  /** Stop after this many pages (a guard for huge lists); default unlimited. */
  maxPages?: number;
}

/** One page of an ARM list. */
export interface ArmPage<T> {
  value?: T[];
  nextLink?: string | null;
}

/**
 * Yields pages. `path` is an ARM path (api-version appended) or an absolute URL. A `nextLink`
 * without `api-version` gets the client's one added, and a `nextLink` that repeats is an error
 * rather than an endless loop.
 */
export async function* iteratePages<T>(
  client: PagingClient,
  path: string,
  query?: QueryValues,
  options: ListOptions = {},
): AsyncGenerator<T[], void, undefined> {
  const operation = options.operation ?? `GET ${path.split("?")[0]}`;
  const seen = new Set<string>();
  let request: AzureMlRequest = /^https?:\/\//i.test(path)
    ? { method: "GET", url: path, query, operation }
    : { method: "GET", path, query, operation };
  for (let pages = 0; options.maxPages === undefined || pages < options.maxPages; pages++) {
    const response = await client.request<ArmPage<T> | undefined>({
      ...request,
      audience: options.audience,
      abortSignal: options.abortSignal,
    });
    const body = response.body;
    if (body !== undefined && (typeof body !== "object" || body === null)) {
      throw new TypeError(`${operation}: expected a JSON list page, got ${typeof body}.`);
    }
    yield body?.value ?? [];
    const nextLink = body?.nextLink;
    if (!nextLink) {
      return;
    }
    const next = withApiVersion(nextLink, client.settings.apiVersion);
    if (seen.has(next)) {
      throw new Error(`${operation}: the service returned the same nextLink twice (${next}).`);
    }
    seen.add(next);
    request = { method: "GET", url: next, operation };
  }
}

/** Yields every item of every page. */
export async function* iterateAll<T>(
  client: PagingClient,
  path: string,
  query?: QueryValues,
  options: ListOptions = {},
): AsyncGenerator<T, void, undefined> {
  for await (const page of iteratePages<T>(client, path, query, options)) {
    yield* page;
  }
}

/** Every item of every page, in order. */
export async function listAll<T>(
  client: PagingClient,
  path: string,
  query?: QueryValues,
  options: ListOptions = {},
): Promise<T[]> {
  const items: T[] = [];
  for await (const page of iteratePages<T>(client, path, query, options)) {
    items.push(...page);
  }
  return items;
}

/** Adds `api-version` to a nextLink that lacks it (some services drop it). */
export function withApiVersion(url: string, apiVersion: string): string {
  if (/[?&]api-version=/i.test(url)) {
    return url;
  }
  return `${url}${url.includes("?") ? "&" : "?"}api-version=${encodeURIComponent(apiVersion)}`;
}
