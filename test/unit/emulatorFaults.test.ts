import { expect } from "chai";
import {
  createFaultController,
  faultErrorCode,
  faultHeaders,
  mulberry32,
} from "../../emulator/faults";
import { createRequestLog } from "../../emulator/requestLog";

const GET_CODES = { method: "GET", path: "/subscriptions/s/x/codes/c", plane: "arm" } as const;

describe("emulator fault controller", () => {
  it("applies a rule to the next request only by default, then forgets it @unit", () => {
    const faults = createFaultController();
    faults.add({ kind: "status", status: 500 });
    expect(faults.take(GET_CODES)?.status).to.equal(500);
    expect(faults.take(GET_CODES)).to.equal(undefined);
    expect(faults.list()).to.deep.equal([]);
  });

  it("applies a rule to the next N matching requests with times @unit", () => {
    const faults = createFaultController([{ kind: "status", status: 429, times: 3 }]);
    const taken = [1, 2, 3, 4].map(() => faults.take(GET_CODES)?.status);
    expect(taken).to.deep.equal([429, 429, 429, undefined]);
  });

  it("matches method case-insensitively, path substrings and the plane @unit", () => {
    const faults = createFaultController();
    faults.add({ kind: "drop", method: "put", path: "/codes/", plane: "arm", times: 10 });
    expect(faults.take(GET_CODES)).to.equal(undefined);
    expect(faults.take({ ...GET_CODES, method: "PUT", plane: "blob" })).to.equal(undefined);
    expect(faults.take({ ...GET_CODES, method: "PUT" })?.kind).to.equal("drop");
    expect(faults.take({ ...GET_CODES, method: "PUT", path: "/data/d" })).to.equal(undefined);
  });

  it("treats a path between slashes as a regular expression @unit", () => {
    const faults = createFaultController([
      { kind: "status", status: 503, path: "/versions\\/\\d+$/", times: 5 },
    ]);
    expect(faults.take({ ...GET_CODES, path: "/codes/c/versions/12" })?.status).to.equal(503);
    expect(faults.take({ ...GET_CODES, path: "/codes/c/versions/abc" })).to.equal(undefined);
    expect(
      faults.take({ ...GET_CODES, path: "/codes/c/versions/3?api-version=1" })?.status,
    ).to.equal(503);
  });

  it("applies a rate to a deterministic fraction of requests for a given seed @unit", () => {
    const pattern = (seed: number) => {
      const faults = createFaultController([{ kind: "status", status: 500, rate: 0.5, seed }]);
      return Array.from({ length: 40 }, () =>
        faults.take(GET_CODES) === undefined ? "." : "x",
      ).join("");
    };
    expect(pattern(7)).to.equal(pattern(7));
    expect(pattern(7)).to.not.equal(pattern(8));
    const hits = pattern(7)
      .split("")
      .filter((c) => c === "x").length;
    expect(hits).to.be.within(10, 30);
  });

  it("keeps a rate rule active beyond times and never applies rate 0 @unit", () => {
    const faults = createFaultController([
      { kind: "status", status: 500, rate: 1, times: 1 },
      { kind: "drop", rate: 0, path: "/never" },
    ]);
    expect([1, 2, 3].map(() => faults.take(GET_CODES)?.status)).to.deep.equal([500, 500, 500]);
    expect(faults.take({ ...GET_CODES, path: "/never" })?.kind).to.equal("status");
  });

  it("keeps lroFail rules out of take() and hands them to takeLroFailure() @unit", () => {
    const faults = createFaultController();
    faults.add({
      kind: "lroFail",
      path: "/computes/",
      error: { code: "QuotaExceeded", message: "no" },
    });
    expect(faults.take({ ...GET_CODES, path: "/computes/x" })).to.equal(undefined);
    expect(faults.takeLroFailure({ ...GET_CODES, path: "/codes/c" })).to.equal(undefined);
    expect(faults.takeLroFailure({ ...GET_CODES, path: "/computes/x" })?.error?.code).to.equal(
      "QuotaExceeded",
    );
    expect(faults.takeLroFailure({ ...GET_CODES, path: "/computes/x" })).to.equal(undefined);
  });

  it("removes one rule by id and clears all @unit", () => {
    const faults = createFaultController();
    const a = faults.add({ kind: "status", status: 500, times: 9 });
    faults.add({ kind: "latency", latencyInMs: 5, times: 9 });
    faults.remove(a);
    expect(faults.list().map((r) => r.kind)).to.deep.equal(["latency"]);
    faults.clear();
    expect(faults.list()).to.deep.equal([]);
  });

  it("rejects invalid rules with TypeError @unit", () => {
    const faults = createFaultController();
    expect(() => faults.add({ kind: "boom" as never })).to.throw(TypeError, /kind/);
    expect(() => faults.add({ kind: "status" })).to.throw(TypeError, /status/);
    expect(() => faults.add({ kind: "latency" })).to.throw(TypeError, /latencyInMs/);
    expect(() => faults.add({ kind: "drop", times: 0 })).to.throw(TypeError, /times/);
    expect(() => faults.add({ kind: "drop", rate: 2 })).to.throw(TypeError, /rate/);
    expect(() => faults.add({ kind: "drop", path: "/(/" })).to.throw(
      TypeError,
      /regular expression/,
    );
  });

  it("sends Retry-After 1 on a 429 unless told otherwise, and the ms headers when asked @unit", () => {
    expect(faultHeaders({ kind: "status", status: 429 })).to.deep.equal({ "Retry-After": "1" });
    expect(faultHeaders({ kind: "status", status: 429, retryAfter: "7" })).to.deep.equal({
      "Retry-After": "7",
    });
    expect(faultHeaders({ kind: "status", status: 503, retryAfterMs: 250 })).to.deep.equal({
      "retry-after-ms": "250",
      "x-ms-retry-after-ms": "250",
    });
    expect(faultHeaders({ kind: "status", status: 500 })).to.deep.equal({});
  });

  it("names 429, 408 and 5xx faults the ARM way @unit", () => {
    expect(faultErrorCode(429)).to.equal("TooManyRequests");
    expect(faultErrorCode(408)).to.equal("RequestTimeout");
    expect(faultErrorCode(503)).to.equal("InternalServerError");
  });

  it("draws the same sequence for the same seed @unit", () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    expect([a(), a(), a()]).to.deep.equal([b(), b(), b()]);
  });
});

describe("emulator request log", () => {
  const entry = {
    plane: "arm" as const,
    method: "GET",
    path: "/p",
    query: "",
    status: 200,
    requestId: "r",
  };

  it("numbers records and returns those after a mark @unit", () => {
    const log = createRequestLog();
    log.record(entry);
    const mark = log.mark();
    log.record({ ...entry, path: "/q" });
    expect(log.since(mark).map((r) => [r.seq, r.path])).to.deep.equal([[2, "/q"]]);
    expect(log.all()).to.have.length(2);
  });

  it("keeps numbering after clear so old marks stay meaningful @unit", () => {
    const log = createRequestLog();
    log.record(entry);
    log.clear();
    log.record(entry);
    expect(log.all().map((r) => r.seq)).to.deep.equal([2]);
  });

  it("drops the oldest records beyond maxRecords @unit", () => {
    const log = createRequestLog({ maxRecords: 2 });
    [1, 2, 3].forEach((i) => log.record({ ...entry, path: `/${i}` }));
    expect(log.all().map((r) => r.path)).to.deep.equal(["/2", "/3"]);
  });
});
