/**
 * Fault injection shared by every front end of the emulator (ARM control plane, blob front door,
 * data plane). Transport-agnostic: `take()` decides, `applyFault()` writes to a node response.
 */
import type { ServerResponse } from "node:http";
import { armErrorBody } from "./errors";

export type FaultKind = "status" | "drop" | "latency" | "lroFail";
export type FaultPlane = "arm" | "blob" | "data";

export interface FaultRule {
  kind: FaultKind;
  /** Match the HTTP method (case-insensitive). */
  method?: string;
  /** Substring of the request path (no query), or a regular expression written as `/.../`. */
  path?: string;
  plane?: FaultPlane;
  /** kind "status": the HTTP error status to answer with, 400-599 (429, 500, 503, 408, ...). */
  status?: number;
  /** Retry-After header value for a "status" fault (seconds or an HTTP date). 429 defaults to "1". */
  retryAfter?: string;
  /** Also (or instead) send `retry-after-ms` and `x-ms-retry-after-ms`. */
  retryAfterMs?: number;
  /**
   * kind "drop": serve the request first, then drop the connection instead of answering (the work
   * is done, the client never hears of it). @default false (dropped before it is served)
   */
  afterServing?: boolean;
  /** kind "latency": delay, then serve normally. */
  latencyInMs?: number;
  /** Apply to the next N matching requests. Ignored when `rate` is set. @default 1 */
  times?: number;
  /** Apply to this fraction (0..1) of matching requests, decided by a PRNG seeded with `seed`. */
  rate?: number;
  /** @default 1 */
  seed?: number;
  /** kind "lroFail": the error the next matching long-running operation ends with. Also overrides a "status" body. */
  error?: { code: string; message: string };
}

export interface FaultRequest {
  method: string;
  path: string;
  plane: FaultPlane;
}

/** How a latency fault's wait ended. */
export type DelayOutcome = "elapsed" | "cleared" | "cancelled";

export interface FaultController {
  /** Adds a rule and returns its id. Throws TypeError for an invalid rule. */
  add(rule: FaultRule): string;
  remove(id: string): void;
  clear(): void;
  /** Consulted by any front end: returns the fault to apply to this request now, or undefined. Never returns "lroFail" rules. */
  take(request: FaultRequest): FaultRule | undefined;
  /** Consulted when a long-running operation starts: the pending "lroFail" rule it should end with, if any. */
  takeLroFailure(request: FaultRequest): FaultRule | undefined;
  /** The active rules, each with its `id`. */
  list(): Array<FaultRule & { id: string }>;
  /**
   * Waits out a latency fault. Ends early with "cleared" when clear() runs (the request is then
   * served), and with "cancelled" when `res` closes or close() runs (it is then not served).
   */
  delay(ms: number, res?: ServerResponse): Promise<DelayOutcome>;
  /** How many latency waits are still running. */
  pendingDelays(): number;
  /** Cancels every latency wait, and ends later ones at once: nothing runs after shutdown. */
  close(): void;
}

interface ActiveRule {
  id: string;
  rule: FaultRule;
  remaining: number;
  pathRegex?: RegExp;
  random: () => number;
}

const FAULT_KINDS: readonly FaultKind[] = ["status", "drop", "latency", "lroFail"];
const FAULT_PLANES: readonly FaultPlane[] = ["arm", "blob", "data"];

export function createFaultController(initial: FaultRule[] = []): FaultController {
  let rules: ActiveRule[] = [];
  let nextId = 1;
  // Each pending latency wait, by the function that ends it; tracked so no timer outlives close().
  const waits = new Set<(outcome: DelayOutcome) => void>();
  let closed = false;
  const endWaits = (outcome: DelayOutcome) => {
    for (const end of [...waits]) {
      end(outcome);
    }
  };

  function takeMatching(request: FaultRequest, lro: boolean): FaultRule | undefined {
    for (const active of rules) {
      if ((active.rule.kind === "lroFail") !== lro || !matches(active, request)) {
        continue;
      }
      if (active.rule.rate !== undefined) {
        if (active.random() < active.rule.rate) {
          return { ...active.rule };
        }
        continue;
      }
      active.remaining -= 1;
      if (active.remaining <= 0) {
        rules = rules.filter((r) => r !== active);
      }
      return { ...active.rule };
    }
    return undefined;
  }

  const controller: FaultController = {
    add(input) {
      const rule = validateFaultRule(input);
      const pathRegex = compilePath(rule);
      const id = `fault-${nextId++}`;
      rules.push({
        id,
        rule,
        remaining: rule.times ?? 1,
        pathRegex,
        random: mulberry32(rule.seed ?? 1),
      });
      return id;
    },
    remove(id) {
      rules = rules.filter((r) => r.id !== id);
    },
    clear() {
      rules = [];
      endWaits("cleared");
    },
    take: (request) => takeMatching(request, false),
    takeLroFailure: (request) => takeMatching(request, true),
    list: () => rules.map((r) => ({ ...r.rule, id: r.id })),
    delay(ms, res) {
      if (closed || res?.destroyed === true) {
        return Promise.resolve("cancelled");
      }
      return new Promise<DelayOutcome>((resolve) => {
        const end = (outcome: DelayOutcome) => {
          clearTimeout(timer);
          waits.delete(end);
          res?.off("close", onClose);
          resolve(outcome);
        };
        const onClose = () => end("cancelled");
        const timer = setTimeout(() => end("elapsed"), Math.min(ms, MAX_LATENCY_IN_MS));
        waits.add(end);
        res?.once("close", onClose);
      });
    },
    pendingDelays: () => waits.size,
    close() {
      closed = true;
      endWaits("cancelled");
    },
  };
  for (const rule of initial) {
    controller.add(rule);
  }
  return controller;
}

// Defensive even though rules are validated: a bad rule must never break every later request.
function matches(active: ActiveRule, request: FaultRequest): boolean {
  const { rule } = active;
  if (rule.plane !== undefined && rule.plane !== request.plane) {
    return false;
  }
  if (
    typeof rule.method === "string" &&
    rule.method.toUpperCase() !== String(request.method).toUpperCase()
  ) {
    return false;
  }
  if (typeof rule.path === "string") {
    const path = String(request.path).split("?")[0];
    return active.pathRegex !== undefined ? active.pathRegex.test(path) : path.includes(rule.path);
  }
  return true;
}

/** setTimeout's largest delay; anything longer fires at once. */
export const MAX_LATENCY_IN_MS = 2 ** 31 - 1;

/** The statuses a "status" fault may answer with: client and server errors only. */
export const FAULT_STATUS_RANGE = { min: 400, max: 599 } as const;

// RFC 9110 token characters (a method) and the visible ASCII a header value may carry.
const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_SAFE = /^[\t\x20-\x7e]*$/;

const isFiniteNumber = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value);

/**
 * Checks a fault rule from any source (options, the admin API, the CLI) and returns a copy the
 * caller can no longer change. Throws TypeError naming the first bad field.
 */
export function validateFaultRule(input: unknown): FaultRule {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new TypeError("Expected a fault rule to be an object.");
  }
  const rule = JSON.parse(JSON.stringify(input)) as FaultRule;
  if (!FAULT_KINDS.includes(rule.kind)) {
    throw new TypeError(`Expected \`kind\` to be one of ${FAULT_KINDS.join(", ")}.`);
  }
  if (rule.plane !== undefined && !FAULT_PLANES.includes(rule.plane)) {
    throw new TypeError(`Expected \`plane\` to be one of ${FAULT_PLANES.join(", ")}.`);
  }
  if (
    rule.method !== undefined &&
    !(typeof rule.method === "string" && HTTP_TOKEN.test(rule.method))
  ) {
    throw new TypeError("Expected `method` to be an HTTP method name such as GET or PUT.");
  }
  if (rule.path !== undefined && typeof rule.path !== "string") {
    throw new TypeError("Expected `path` to be a string (a substring or a /regular expression/).");
  }
  if (
    rule.kind === "status" &&
    !(
      Number.isInteger(rule.status) &&
      (rule.status as number) >= FAULT_STATUS_RANGE.min &&
      (rule.status as number) <= FAULT_STATUS_RANGE.max
    )
  ) {
    throw new TypeError(
      `A fault of kind \`status\` needs an HTTP error \`status\` between ${FAULT_STATUS_RANGE.min} and ${FAULT_STATUS_RANGE.max}.`,
    );
  }
  if (
    rule.kind === "latency" &&
    !(
      isFiniteNumber(rule.latencyInMs) &&
      rule.latencyInMs >= 0 &&
      rule.latencyInMs <= MAX_LATENCY_IN_MS
    )
  ) {
    throw new TypeError(
      `A fault of kind \`latency\` needs a \`latencyInMs\` between 0 and ${MAX_LATENCY_IN_MS}.`,
    );
  }
  if (rule.latencyInMs !== undefined && !isFiniteNumber(rule.latencyInMs)) {
    throw new TypeError("Expected `latencyInMs` to be a finite number.");
  }
  if (
    rule.afterServing !== undefined &&
    !(typeof rule.afterServing === "boolean" && (rule.kind === "drop" || !rule.afterServing))
  ) {
    throw new TypeError("Expected `afterServing` to be a boolean, true only for kind `drop`.");
  }
  if (rule.times !== undefined && !(Number.isSafeInteger(rule.times) && rule.times > 0)) {
    throw new TypeError("Expected `times` to be a positive integer.");
  }
  if (rule.rate !== undefined && !(isFiniteNumber(rule.rate) && rule.rate >= 0 && rule.rate <= 1)) {
    throw new TypeError("Expected `rate` to be a number between 0 and 1.");
  }
  if (rule.seed !== undefined && !isFiniteNumber(rule.seed)) {
    throw new TypeError("Expected `seed` to be a finite number.");
  }
  if (
    rule.retryAfter !== undefined &&
    !(
      typeof rule.retryAfter === "string" &&
      rule.retryAfter !== "" &&
      HEADER_SAFE.test(rule.retryAfter)
    )
  ) {
    throw new TypeError(
      "Expected `retryAfter` to be a header value (seconds or an HTTP date) without line breaks.",
    );
  }
  if (
    rule.retryAfterMs !== undefined &&
    !(isFiniteNumber(rule.retryAfterMs) && rule.retryAfterMs >= 0)
  ) {
    throw new TypeError("Expected `retryAfterMs` to be a non-negative number.");
  }
  if (
    rule.error !== undefined &&
    (typeof rule.error !== "object" ||
      rule.error === null ||
      typeof rule.error.code !== "string" ||
      !HTTP_TOKEN.test(rule.error.code) ||
      typeof rule.error.message !== "string")
  ) {
    throw new TypeError(
      "Expected `error` to be { code: string, message: string }, the code without spaces or line breaks.",
    );
  }
  return rule;
}

/** Returns the compiled path regex when the rule uses one; throws TypeError for an invalid one. */
function compilePath(rule: FaultRule): RegExp | undefined {
  if (
    rule.path !== undefined &&
    rule.path.length > 1 &&
    rule.path.startsWith("/") &&
    rule.path.endsWith("/")
  ) {
    try {
      return new RegExp(rule.path.slice(1, -1));
    } catch (e) {
      throw new TypeError(
        `Invalid \`path\` regular expression ${rule.path}: ${(e as Error).message}`,
      );
    }
  }
  return undefined;
}

/** Small deterministic PRNG (mulberry32): same seed, same sequence of draws in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The ARM error code a "status" fault answers with. */
export function faultErrorCode(status: number): string {
  if (status === 429) {
    return "TooManyRequests";
  }
  if (status === 408) {
    return "RequestTimeout";
  }
  if (status >= 500) {
    return "InternalServerError";
  }
  return "FaultInjected";
}

/** The headers a "status" fault answers with (besides content-type and request id). */
export function faultHeaders(fault: FaultRule): Record<string, string> {
  const headers: Record<string, string> = {};
  if (fault.retryAfter !== undefined) {
    headers["Retry-After"] = fault.retryAfter;
  } else if (fault.status === 429 && fault.retryAfterMs === undefined) {
    // A 429 without any Retry-After header is not retried by Azure SDK clients.
    headers["Retry-After"] = "1";
  }
  if (fault.retryAfterMs !== undefined) {
    headers["retry-after-ms"] = String(fault.retryAfterMs);
    headers["x-ms-retry-after-ms"] = String(fault.retryAfterMs);
  }
  return headers;
}

/**
 * Applies a taken "status"/"drop"/"latency" fault to a node response; returns true when the
 * request was consumed. Latency waits through `delay` (the controller's), so shutdown cancels them.
 */
export async function applyFault(
  fault: FaultRule,
  res: ServerResponse,
  requestId: string,
  delay: FaultController["delay"],
): Promise<boolean> {
  switch (fault.kind) {
    case "latency": {
      if ((await delay(fault.latencyInMs ?? 0, res)) !== "cancelled") {
        return false;
      }
      // The client left or the emulator is stopping: serve nothing, change nothing.
      res.destroy();
      return true;
    }
    case "drop":
      // No response at all: the client sees a reset connection (ECONNRESET / "other side closed").
      res.socket?.destroy();
      res.destroy();
      return true;
    case "status": {
      const status = fault.status ?? 500;
      const code = fault.error?.code ?? faultErrorCode(status);
      const message =
        fault.error?.message ?? `Injected fault: the emulator answered ${status} on purpose.`;
      const body = JSON.stringify(armErrorBody(code, message));
      if (!res.headersSent) {
        res.statusCode = status;
        for (const [name, value] of Object.entries(faultHeaders(fault))) {
          res.setHeader(name, value);
        }
        res.setHeader("x-ms-request-id", requestId);
        res.setHeader("Content-Type", "application/json; charset=utf-8");
        res.setHeader("Content-Length", Buffer.byteLength(body));
      }
      res.end(body);
      return true;
    }
    case "lroFail":
      return false;
    default:
      return false;
  }
}
