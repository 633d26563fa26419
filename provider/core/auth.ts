/**
 * Bearer tokens per scope from `@azure/identity`. One `DefaultAzureCredential` per process,
 * created on first use (never serialized). Tokens are cached per credential and scope until
 * 5 minutes before they expire; concurrent callers share one in-flight request.
 *
 * There is no test hook: tests run the real credential chain against the emulator's managed-identity
 * endpoint (IDENTITY_ENDPOINT / IDENTITY_HEADER). Library users may inject a `TokenCredential`.
 */
import type { TokenCredential } from "@azure/identity";
import { createAbortError } from "./abort";
import { AccessTokenError } from "./errors";

/** Refresh this long before `expiresOnTimestamp`. */
export const TOKEN_REFRESH_MARGIN_IN_MS = 5 * 60 * 1000;

/** Options for {@link getAccessToken}. */
export interface GetAccessTokenOptions {
  /** Use this credential instead of the process-wide `DefaultAzureCredential`. */
  credential?: TokenCredential;
  abortSignal?: AbortSignal;
}

interface CachedToken {
  token: string;
  expiresOnTimestamp: number;
}

interface ScopeCache {
  current?: CachedToken;
  pending?: Promise<CachedToken>;
}

let defaultCredential: Promise<TokenCredential> | undefined;
const caches = new WeakMap<TokenCredential, Map<string, ScopeCache>>();

function getDefaultCredential(): Promise<TokenCredential> {
  defaultCredential ??= import("@azure/identity").then(
    ({ DefaultAzureCredential }) => new DefaultAzureCredential(),
  );
  return defaultCredential;
}

/** A token for `scope` (e.g. ARM_SCOPE), from the cache when it is fresh enough. */
export async function getAccessToken(
  scope: string,
  options: GetAccessTokenOptions = {},
): Promise<string> {
  const credential = options.credential ?? (await getDefaultCredential());
  let byScope = caches.get(credential);
  if (!byScope) {
    byScope = new Map();
    caches.set(credential, byScope);
  }
  let entry = byScope.get(scope);
  if (!entry) {
    entry = {};
    byScope.set(scope, entry);
  }
  if (entry.current && entry.current.expiresOnTimestamp - TOKEN_REFRESH_MARGIN_IN_MS > Date.now()) {
    return entry.current.token;
  }
  const cache = entry;
  // One shared request per scope; each caller stops waiting on its own abortSignal, but the
  // request itself is not aborted for the others.
  cache.pending ??= fetchToken(credential, scope).finally(() => {
    cache.pending = undefined;
  });
  const fresh = await abortable(cache.pending, options.abortSignal);
  cache.current = fresh;
  return fresh.token;
}

/**
 * Forgets the cached token for `scope` (after a 401, so the next call asks the credential again).
 */
export function invalidateAccessToken(scope: string, credential?: TokenCredential): void {
  if (credential) {
    caches.get(credential)?.delete(scope);
    return;
  }
  void defaultCredential?.then((c) => caches.get(c)?.delete(scope));
}

function abortable<T>(promise: Promise<T>, abortSignal: AbortSignal | undefined): Promise<T> {
  if (!abortSignal) {
    return promise;
  }
  if (abortSignal.aborted) {
    return Promise.reject(createAbortError("Getting an access token was aborted."));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(createAbortError("Getting an access token was aborted."));
    abortSignal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        abortSignal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        abortSignal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

async function fetchToken(credential: TokenCredential, scope: string): Promise<CachedToken> {
  let token;
  try {
    token = await credential.getToken(scope);
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new AccessTokenError(scope, reason, error);
  }
  if (!token) {
    throw new AccessTokenError(scope, "the credential returned no token", undefined);
  }
  return { token: token.token, expiresOnTimestamp: token.expiresOnTimestamp };
}
