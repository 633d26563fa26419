import { expect } from "chai";
import {
  RETRYABLE_ERROR_CODES,
  computeRetryDelay,
  isIdempotent,
  isRetryableError,
  isRetryableStatus,
  shouldRetry,
} from "../../provider/core/retry";

const errorWithCode = (code: string) => Object.assign(new Error(code), { code });

describe("retry rules", () => {
  it("retries 408, 429 and 5xx except 501 and 505 @unit", () => {
    for (const status of [408, 429, 500, 502, 503, 504, 507, 599]) {
      expect(isRetryableStatus(status), String(status)).to.equal(true);
    }
    for (const status of [200, 201, 202, 204, 301, 400, 401, 403, 404, 409, 412, 501, 505]) {
      expect(isRetryableStatus(status), String(status)).to.equal(false);
    }
  });

  it("retries every listed network error code, also when nested in cause @unit", () => {
    for (const code of RETRYABLE_ERROR_CODES) {
      expect(isRetryableError(errorWithCode(code)), code).to.equal(true);
      expect(isRetryableError(new Error("wrapped", { cause: errorWithCode(code) })), code).to.equal(
        true,
      );
    }
    for (const code of [
      "UND_ERR_ABORTED",
      "DEPTH_ZERO_SELF_SIGNED_CERT",
      "ERR_INVALID_URL",
      "ENOENT",
    ]) {
      expect(isRetryableError(errorWithCode(code)), code).to.equal(false);
    }
    expect(isRetryableError(new Error("no code"))).to.equal(false);
    expect(isRetryableError(undefined)).to.equal(false);
  });

  it("never retries an abort, whatever its code @unit", () => {
    const abort = Object.assign(new Error("aborted"), { name: "AbortError", code: "ECONNRESET" });
    expect(isRetryableError(abort)).to.equal(false);
  });

  it("treats GET, HEAD, PUT, DELETE, OPTIONS as idempotent and POST/PATCH only on opt-in @unit", () => {
    for (const method of ["GET", "head", "PUT", "DELETE", "OPTIONS"]) {
      expect(isIdempotent(method), method).to.equal(true);
    }
    for (const method of ["POST", "PATCH"]) {
      expect(isIdempotent(method), method).to.equal(false);
      expect(isIdempotent(method, true), method).to.equal(true);
    }
  });

  it("allows maxRetries retries, so maxRetries + 1 attempts @unit", () => {
    const base = { maxRetries: 3, method: "GET", status: 503 };
    expect([1, 2, 3, 4].map((attempt) => shouldRetry({ ...base, attempt }))).to.deep.equal([
      true,
      true,
      true,
      false,
    ]);
    expect(shouldRetry({ ...base, maxRetries: 0, attempt: 1 })).to.equal(false);
  });

  it("never retries 4xx other than 408 and 429 @unit", () => {
    for (const status of [400, 401, 403, 404, 409]) {
      expect(shouldRetry({ attempt: 1, maxRetries: 3, method: "GET", status })).to.equal(false);
    }
  });

  it("does not retry a POST after a reset connection or a 5xx unless opted in @unit", () => {
    const reset = errorWithCode("ECONNRESET");
    expect(shouldRetry({ attempt: 1, maxRetries: 3, method: "POST", error: reset })).to.equal(
      false,
    );
    expect(shouldRetry({ attempt: 1, maxRetries: 3, method: "POST", status: 500 })).to.equal(false);
    expect(
      shouldRetry({
        attempt: 1,
        maxRetries: 3,
        method: "POST",
        error: reset,
        retryNonIdempotent: true,
      }),
    ).to.equal(true);
  });

  it("retries a POST after a 429 or an error raised before the request was sent @unit", () => {
    expect(shouldRetry({ attempt: 1, maxRetries: 3, method: "POST", status: 429 })).to.equal(true);
    for (const code of ["ECONNREFUSED", "ENOTFOUND", "UND_ERR_CONNECT_TIMEOUT"]) {
      expect(
        shouldRetry({ attempt: 1, maxRetries: 3, method: "POST", error: errorWithCode(code) }),
        code,
      ).to.equal(true);
    }
  });

  it("retries a PUT after a dropped connection or a headers timeout @unit", () => {
    for (const code of ["UND_ERR_SOCKET", "ECONNRESET", "UND_ERR_HEADERS_TIMEOUT"]) {
      expect(
        shouldRetry({ attempt: 1, maxRetries: 3, method: "PUT", error: errorWithCode(code) }),
        code,
      ).to.equal(true);
    }
  });

  it("does not retry errors without a retryable code @unit", () => {
    expect(
      shouldRetry({ attempt: 1, maxRetries: 3, method: "GET", error: new TypeError("bad url") }),
    ).to.equal(false);
  });
});

describe("computeRetryDelay", () => {
  const options = { retryDelayInMs: 800, maxRetryDelayInMs: 60_000 };

  it("stays within [d/2, d] of the doubling delay over many draws @unit", () => {
    for (let attempt = 1; attempt <= 5; attempt++) {
      const d = 800 * 2 ** (attempt - 1);
      let min = Infinity;
      let max = -Infinity;
      let seed = attempt;
      const random = () => {
        seed = (seed * 16807) % 2147483647;
        return (seed - 1) / 2147483646;
      };
      for (let i = 0; i < 2000; i++) {
        const delay = computeRetryDelay(attempt, options, random);
        min = Math.min(min, delay);
        max = Math.max(max, delay);
      }
      expect(min, `attempt ${attempt} min`).to.be.at.least(d / 2);
      expect(max, `attempt ${attempt} max`).to.be.at.most(d);
      // The jitter really spreads: both ends of the range are reached within 5%.
      expect(min, `attempt ${attempt} min spread`).to.be.below(d * 0.55);
      expect(max, `attempt ${attempt} max spread`).to.be.above(d * 0.95);
    }
  });

  it("hits the exact ends of the jitter range with extreme random values @unit", () => {
    expect(computeRetryDelay(1, options, () => 0)).to.equal(400);
    expect(computeRetryDelay(1, options, () => 1)).to.equal(800);
    expect(computeRetryDelay(3, options, () => 1)).to.equal(3200);
  });

  it("never exceeds maxRetryDelayInMs, however many attempts @unit", () => {
    for (const attempt of [8, 20, 100, 2000]) {
      const delay = computeRetryDelay(attempt, options, () => 1);
      expect(delay, String(attempt)).to.equal(60_000);
      expect(computeRetryDelay(attempt, options, () => 0)).to.equal(30_000);
    }
  });

  it("uses the server's Retry-After exactly, capped at maxRetryDelayInMs @unit", () => {
    expect(computeRetryDelay(1, { ...options, retryAfterInMs: 10_000 }, () => 0)).to.equal(10_000);
    expect(computeRetryDelay(4, { ...options, retryAfterInMs: 0 }, () => 1)).to.equal(0);
    expect(computeRetryDelay(1, { ...options, retryAfterInMs: 600_000 })).to.equal(60_000);
  });

  it("waits nothing when both delays are zero @unit", () => {
    expect(computeRetryDelay(3, { retryDelayInMs: 0, maxRetryDelayInMs: 0 })).to.equal(0);
  });
});
