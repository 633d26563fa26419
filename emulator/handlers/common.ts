/** Helpers shared by the handlers: stored-record shape, ARM envelopes, systemData, paging. */
import { ErrorFactory } from "../errors";
import { findQuery } from "../middleware/apiVersion";
import type { HandlerContext } from "../router";

export type Json = Record<string, unknown>;

/** What every collection stores: the ARM resource as served, plus a creation sequence. */
export interface StoredResource {
  resource: Json & { id: string; name: string; type: string; properties?: Json };
  createdSeq: number;
}

export const DEFAULT_PAGE_SIZE = 20;

export const CREATED_BY = "emulator-user@azureml-emulator.local";

export function systemData(nowIso: string, previous?: Json): Json {
  return {
    createdAt: (previous?.createdAt as string | undefined) ?? nowIso,
    createdBy: (previous?.createdBy as string | undefined) ?? CREATED_BY,
    createdByType: (previous?.createdByType as string | undefined) ?? "User",
    lastModifiedAt: nowIso,
    lastModifiedBy: CREATED_BY,
    lastModifiedByType: "User",
  };
}

export function nowIso(hc: HandlerContext): string {
  return new Date(hc.services.now()).toISOString();
}

interface SkipToken {
  offset: number;
}

function encodeSkip(token: SkipToken): string {
  return Buffer.from(JSON.stringify(token), "utf8").toString("base64url");
}

function decodeSkip(raw: string): SkipToken {
  try {
    const token = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as SkipToken;
    if (Number.isInteger(token.offset) && token.offset >= 0) {
      return token;
    }
  } catch {
    // fall through to the error below
  }
  throw ErrorFactory.invalidQueryParameterValue(
    "$skip",
    raw,
    "not a continuation token issued by this server",
  );
}

/** Parses a positive integer query parameter (e.g. `$top`, `count`). */
export function positiveIntQuery(hc: HandlerContext, name: string): number | undefined {
  const raw = findQuery(hc.query, name);
  if (raw === undefined) {
    return undefined;
  }
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw ErrorFactory.invalidQueryParameterValue(name, raw, "expected a positive integer");
  }
  return n;
}

/**
 * One page of `items` (`{ value, nextLink? }`), continuing from `$skip`. The nextLink is absolute
 * and keeps every other query parameter, so following it as-is returns the next page.
 */
export function paginate<T>(
  hc: HandlerContext,
  items: T[],
  pageSize: number = DEFAULT_PAGE_SIZE,
): { value: T[]; nextLink?: string } {
  const skipRaw = findQuery(hc.query, "$skip");
  const offset = skipRaw === undefined ? 0 : decodeSkip(skipRaw).offset;
  const value = items.slice(offset, offset + pageSize);
  const page: { value: T[]; nextLink?: string } = { value };
  if (offset + pageSize < items.length) {
    const query = new URLSearchParams();
    for (const [key, v] of hc.query) {
      if (key.toLowerCase() !== "$skip") {
        query.append(key, v);
      }
    }
    query.set("$skip", encodeSkip({ offset: offset + pageSize }));
    const base = hc.services.settings.publicUrl.replace(/\/+$/, "");
    page.nextLink = `${base}${hc.ctx.path}?${query.toString()}`;
  }
  return page;
}

/** Matches a tag filter like `a,b=1` (names, optionally with values) against a tag map. */
export function matchesTagFilter(filter: string | undefined, tags: unknown): boolean {
  if (filter === undefined || filter === "") {
    return true;
  }
  const map = (typeof tags === "object" && tags !== null ? tags : {}) as Record<string, unknown>;
  return filter
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .every((clause) => {
      const eq = clause.indexOf("=");
      // Own keys only: a filter on "constructor" must not match every tag map.
      if (eq < 0) {
        return Object.hasOwn(map, clause);
      }
      const key = clause.slice(0, eq);
      return Object.hasOwn(map, key) && String(map[key]) === clause.slice(eq + 1);
    });
}

/** Deep equality for JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(sortKeys);
  }
  if (typeof value !== "object" || value === null) {
    return value;
  }
  return Object.fromEntries(
    Object.keys(value as Json)
      .filter((k) => (value as Json)[k] !== undefined)
      .sort()
      .map((k) => [k, sortKeys((value as Json)[k])]),
  );
}

export function asObject(value: unknown): Json {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Json)
    : {};
}
