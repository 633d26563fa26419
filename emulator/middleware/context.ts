/**
 * First middleware: stamps the ARM correlation headers on every response and reads the request
 * body (parsed later, after authentication, so a bad body never hides a 401).
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ErrorFactory } from "../errors";
import type { ControlPlaneRequestPlane, Middleware, RequestContext } from "./pipeline";

/** ARM caps resource-provider responses at 8 MB; requests get the same limit here. */
export const MAX_BODY_IN_BYTES = 8 * 1024 * 1024;

/** Remaining-quota values reported on every response (ARM's hourly defaults minus one). */
export const RATE_LIMIT_REMAINING = { reads: "11999", writes: "1199" } as const;

const ADMIN_PREFIX = "/_emulator/";

export function createRequestContext(
  req: IncomingMessage,
  res: ServerResponse,
  nowInMs: number,
): RequestContext {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? "" : url.slice(q + 1);
  const clientRequestId = headerValue(req, "x-ms-client-request-id");
  const plane: ControlPlaneRequestPlane = (path + "/").startsWith(ADMIN_PREFIX) ? "admin" : "arm";
  return {
    req,
    res,
    requestId: randomUUID(),
    correlationId: headerValue(req, "x-ms-correlation-request-id") ?? randomUUID(),
    clientRequestId,
    method: (req.method ?? "GET").toUpperCase(),
    path,
    rawQuery,
    query: new URLSearchParams(rawQuery),
    plane,
    startedAtMs: nowInMs,
  };
}

/** The raw body, read once by the context middleware. */
const rawBodies = new WeakMap<RequestContext, Buffer>();

export function rawBodyOf(ctx: RequestContext): Buffer {
  return rawBodies.get(ctx) ?? Buffer.alloc(0);
}

export const contextMiddleware: Middleware = {
  name: "context",
  async handle(ctx, next) {
    const { res } = ctx;
    res.setHeader("x-ms-request-id", ctx.requestId);
    res.setHeader("x-ms-correlation-request-id", ctx.correlationId);
    if (ctx.clientRequestId !== undefined) {
      res.setHeader("x-ms-client-request-id", ctx.clientRequestId);
    }
    if (ctx.method === "GET" || ctx.method === "HEAD") {
      res.setHeader("x-ms-ratelimit-remaining-subscription-reads", RATE_LIMIT_REMAINING.reads);
    } else {
      res.setHeader("x-ms-ratelimit-remaining-subscription-writes", RATE_LIMIT_REMAINING.writes);
    }
    rawBodies.set(ctx, await readBody(ctx.req));
    await next();
  },
};

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > MAX_BODY_IN_BYTES) {
      throw ErrorFactory.requestTooLarge(MAX_BODY_IN_BYTES);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === "" ? undefined : first;
}
