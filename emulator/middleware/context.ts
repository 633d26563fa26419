/**
 * First middleware: stamps the ARM correlation headers on every response. The request body is
 * read later, by the validation middleware after authentication, so neither a big nor a bad body
 * hides a 401.
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

/**
 * The plane a request is logged and faulted under: a route for the Azure ML audience (a batch
 * endpoint's scoring URI) is the "data" plane, though this listener also serves ARM.
 */
export function requestPlaneOf(
  ctx: Pick<RequestContext, "plane" | "route">,
): ControlPlaneRequestPlane | "data" {
  return ctx.plane === "arm" && ctx.route?.route.audience === "ml" ? "data" : ctx.plane;
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
    await next();
  },
};

/**
 * Reads the whole request body; 413 beyond MAX_BODY_IN_BYTES. The rest of a body that is too
 * large is read and discarded rather than left half-read, so the connection stays usable.
 */
export function readRequestBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer | string) => {
      if (tooLarge) {
        return;
      }
      const buffer = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      size += buffer.length;
      if (size > MAX_BODY_IN_BYTES) {
        tooLarge = true;
        chunks.length = 0;
        reject(ErrorFactory.requestTooLarge(MAX_BODY_IN_BYTES));
        return;
      }
      chunks.push(buffer);
    });
    req.once("end", () => resolve(Buffer.concat(chunks)));
    // The client left before the body ended; the response goes nowhere anyway.
    req.once("error", reject);
  });
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === "" ? undefined : first;
}
