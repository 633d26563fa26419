import { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import { expect } from "chai";
import {
  createFaultController,
  faultErrorCode,
  faultHeaders,
  mulberry32,
} from "../../emulator/faults";
import { createRequestLog, redactSasSignature } from "../../emulator/requestLog";

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

  it("keeps a rate rule active beyond times @unit", () => {
    const faults = createFaultController([{ kind: "status", status: 500, rate: 1, times: 1 }]);
    expect([1, 2, 3].map(() => faults.take(GET_CODES)?.status)).to.deep.equal([500, 500, 500]);
    expect(faults.list()).to.have.length(1);
  });

  it("never applies a rule with rate 0, however often it matches @unit", () => {
    const faults = createFaultController([{ kind: "drop", rate: 0, seed: 3 }]);
    const taken = Array.from({ length: 200 }, () => faults.take(GET_CODES));
    expect(taken.filter((t) => t !== undefined)).to.deep.equal([]);
    expect(faults.list()).to.have.length(1);
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

  it("rejects badly typed fields instead of failing every later request @unit", () => {
    const faults = createFaultController();
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ kind: "drop", method: 5 }, /method/],
      [{ kind: "drop", method: "GE T" }, /method/],
      [{ kind: "drop", path: 7 }, /path/],
      [{ kind: "drop", path: { source: "x" } }, /path/],
      [{ kind: "status", status: 503, retryAfter: 5 }, /retryAfter/],
      [{ kind: "status", status: 503, retryAfter: "1\r\nSet-Cookie: x=1" }, /retryAfter/],
      [{ kind: "status", status: 503, retryAfter: "" }, /retryAfter/],
      [{ kind: "status", status: 503, retryAfterMs: Number.POSITIVE_INFINITY }, /retryAfterMs/],
      [{ kind: "drop", rate: 0.5, seed: "1" }, /seed/],
      [{ kind: "drop", rate: 0.5, seed: Number.NaN }, /seed/],
      [{ kind: "drop", rate: Number.NaN }, /rate/],
      [{ kind: "latency", latencyInMs: "10" }, /latencyInMs/],
      [{ kind: "latency", latencyInMs: Number.POSITIVE_INFINITY }, /latencyInMs/],
      [{ kind: "latency", latencyInMs: 2 ** 31 }, /latencyInMs/],
      [{ kind: "drop", times: 1.5 }, /times/],
      [{ kind: "lroFail", error: "boom" }, /error/],
      [{ kind: "lroFail", error: null }, /error/],
      [{ kind: "status", status: 500, error: { code: "A\nB", message: "m" } }, /error/],
    ];
    for (const [rule, field] of bad) {
      expect(() => faults.add(rule as never), JSON.stringify(rule)).to.throw(TypeError, field);
    }
    expect(faults.list()).to.deep.equal([]);
    expect(faults.take(GET_CODES)).to.equal(undefined);
    faults.add({ kind: "latency", latencyInMs: 2 ** 31 - 1, method: "get" });
    expect(faults.take(GET_CODES)?.kind).to.equal("latency");
  });

  it("accepts only error statuses (400-599) for status faults @unit", () => {
    const faults = createFaultController();
    for (const status of [100, 200, 204, 302, 399, 600, 503.5]) {
      expect(() => faults.add({ kind: "status", status }), String(status)).to.throw(
        TypeError,
        /between 400 and 599/,
      );
    }
    faults.add({ kind: "status", status: 400 });
    faults.add({ kind: "status", status: 599 });
    expect(faults.list().map((r) => r.status)).to.deep.equal([400, 599]);
  });

  it("keeps its own copy of a rule, so changing the object afterwards changes nothing @unit", () => {
    const faults = createFaultController();
    const rule = { kind: "status" as const, status: 503, method: "GET", times: 2 };
    faults.add(rule);
    Object.assign(rule, { method: 5, status: 200 });
    expect(faults.take(GET_CODES)?.status).to.equal(503);
    expect(faults.list()[0]).to.include({ method: "GET", status: 503 });
  });

  it("lets a latency wait run out, then forgets it @unit", async () => {
    const faults = createFaultController();
    expect(await faults.delay(1)).to.equal("elapsed");
    expect(faults.pendingDelays()).to.equal(0);
  });

  it("ends pending latency waits as cleared when the rules are cleared, so the requests are served @unit", async () => {
    const faults = createFaultController();
    const waits = [faults.delay(600_000), faults.delay(600_000)];
    expect(faults.pendingDelays()).to.equal(2);
    faults.clear();
    expect(await Promise.all(waits)).to.deep.equal(["cleared", "cleared"]);
    expect(faults.pendingDelays()).to.equal(0);
  });

  it("cancels pending latency waits on close, and ends later ones at once @unit", async () => {
    const faults = createFaultController();
    const wait = faults.delay(600_000);
    faults.close();
    expect(await wait).to.equal("cancelled");
    expect(await faults.delay(600_000)).to.equal("cancelled");
    expect(faults.pendingDelays()).to.equal(0);
  });

  it("cancels a latency wait when the client closes the connection @unit", async () => {
    const faults = createFaultController();
    const res = Object.assign(new EventEmitter(), { destroyed: false });
    const wait = faults.delay(600_000, res as unknown as ServerResponse);
    res.emit("close");
    expect(await wait).to.equal("cancelled");
    expect(res.listenerCount("close")).to.equal(0);
    const gone = Object.assign(new EventEmitter(), { destroyed: true });
    expect(await faults.delay(600_000, gone as unknown as ServerResponse)).to.equal("cancelled");
    expect(faults.pendingDelays()).to.equal(0);
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

  it("keeps no SAS signature: every sig value is REDACTED, other parameters unchanged @unit", () => {
    const log = createRequestLog();
    log.record({ ...entry, query: "sv=2021-08-06&sr=c&sig=abc%2Bdef%3D&sp=racwl" });
    log.record({ ...entry, query: "SIG=x&comp=list&sig=" });
    expect(log.all().map((r) => r.query)).to.deep.equal([
      "sv=2021-08-06&sr=c&sig=REDACTED&sp=racwl",
      "SIG=REDACTED&comp=list&sig=REDACTED",
    ]);
    expect(redactSasSignature("restype=container&signature=keep")).to.equal(
      "restype=container&signature=keep",
    );
  });

  it("drops the oldest records beyond maxRecords @unit", () => {
    const log = createRequestLog({ maxRecords: 2 });
    [1, 2, 3].forEach((i) => log.record({ ...entry, path: `/${i}` }));
    expect(log.all().map((r) => r.path)).to.deep.equal(["/2", "/3"]);
  });
});
