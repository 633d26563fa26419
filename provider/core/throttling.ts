/**
 * Server-directed wait times. Pure.
 */

/** Response headers, any casing; arrays are joined by the caller or read as their first value. */
export type HeaderBag = Readonly<Record<string, string | string[] | undefined>>;

/**
 * How long the server asked us to wait, in milliseconds, or `undefined` when it did not say.
 *
 * Reads, in order (as core-rest-pipeline's throttling strategy does):
 * 1. `retry-after-ms`, then `x-ms-retry-after-ms`: milliseconds;
 * 2. `Retry-After`: seconds, or an HTTP date (a date in the past means "now", so 0).
 *
 * Garbage and negative values are ignored, so the caller falls back to its own backoff.
 */
export function parseRetryAfter(headers: HeaderBag, now: number = Date.now()): number | undefined {
  for (const name of ["retry-after-ms", "x-ms-retry-after-ms"]) {
    const value = header(headers, name);
    if (value !== undefined && /^\d+(\.\d+)?$/.test(value)) {
      return Math.ceil(Number(value));
    }
  }
  const retryAfter = header(headers, "retry-after");
  if (retryAfter === undefined) {
    return undefined;
  }
  if (/^\d+(\.\d+)?$/.test(retryAfter)) {
    return Math.ceil(Number(retryAfter) * 1000);
  }
  // HTTP dates always carry a weekday or month name; this keeps "1.5s" or "-3" from parsing as dates.
  if (!/[a-z]{3}/i.test(retryAfter)) {
    return undefined;
  }
  const at = Date.parse(retryAfter);
  if (Number.isNaN(at)) {
    return undefined;
  }
  return Math.max(0, at - now);
}

function header(headers: HeaderBag, name: string): string | undefined {
  let value = headers[name];
  if (value === undefined) {
    const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
    value = key === undefined ? undefined : headers[key];
  }
  const first = Array.isArray(value) ? value[0] : value;
  const trimmed = first?.trim();
  return trimmed ? trimmed : undefined;
}
