import { expect } from "chai";
import { parseRetryAfter } from "../../provider/core/throttling";

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");

  it("reads Retry-After in seconds as milliseconds @unit", () => {
    expect(parseRetryAfter({ "retry-after": "10" }, now)).to.equal(10_000);
    expect(parseRetryAfter({ "retry-after": "0" }, now)).to.equal(0);
  });

  it("reads Retry-After as an HTTP date relative to now @unit", () => {
    expect(parseRetryAfter({ "retry-after": "Thu, 01 Jan 2026 00:00:30 GMT" }, now)).to.equal(
      30_000,
    );
  });

  it("treats an HTTP date in the past as no wait @unit", () => {
    expect(parseRetryAfter({ "retry-after": "Wed, 31 Dec 2025 23:59:00 GMT" }, now)).to.equal(0);
  });

  it("prefers retry-after-ms, then x-ms-retry-after-ms, over Retry-After @unit", () => {
    expect(
      parseRetryAfter(
        { "retry-after-ms": "250", "x-ms-retry-after-ms": "500", "retry-after": "9" },
        now,
      ),
    ).to.equal(250);
    expect(parseRetryAfter({ "x-ms-retry-after-ms": "500", "retry-after": "9" }, now)).to.equal(
      500,
    );
  });

  it("finds headers whatever their casing @unit", () => {
    expect(parseRetryAfter({ "Retry-After": "2" }, now)).to.equal(2000);
    expect(parseRetryAfter({ "Retry-After-Ms": "7" }, now)).to.equal(7);
  });

  it("ignores garbage and negative values so backoff applies @unit", () => {
    for (const value of ["soon", "-5", "", "1e3", "12abc", "NaN"]) {
      expect(parseRetryAfter({ "retry-after": value }, now), value).to.equal(undefined);
    }
    expect(parseRetryAfter({ "retry-after-ms": "-1" }, now)).to.equal(undefined);
    expect(parseRetryAfter({ "retry-after-ms": "fast", "retry-after": "3" }, now)).to.equal(3000);
  });

  it("returns undefined when the server gave no wait @unit", () => {
    expect(parseRetryAfter({}, now)).to.equal(undefined);
    expect(parseRetryAfter({ "content-type": "application/json" }, now)).to.equal(undefined);
  });

  it("reads the first value of a repeated header @unit", () => {
    expect(parseRetryAfter({ "retry-after": ["4", "8"] }, now)).to.equal(4000);
  });
});
