/**
 * Named middlewares composed in a fixed order (Azurite's request listener, core-rest-pipeline's
 * `reduceRight`): each gets the request context and the rest of the chain.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FaultKind } from "../faults";
import type { RouteMatch } from "../router";

export type ControlPlaneRequestPlane = "arm" | "admin";

/** Everything the middlewares learn about one request, filled in as it moves down the chain. */
export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
  readonly correlationId: string;
  readonly clientRequestId?: string;
  /** Upper-case HTTP method. */
  readonly method: string;
  /** Raw (still percent-encoded) path without the query string. */
  readonly path: string;
  /** Raw query string without the leading `?`. */
  readonly rawQuery: string;
  readonly query: URLSearchParams;
  readonly plane: ControlPlaneRequestPlane;
  readonly startedAtMs: number;
  /** Set by the dispatch middleware. */
  route?: RouteMatch;
  /** Set when dispatch found no route: raised after authentication. */
  routeError?: Error;
  apiVersion?: string;
  /** Parsed JSON body (undefined when the request had none). */
  body?: unknown;
  /** The fault applied to this request, for the request log. */
  fault?: FaultKind;
  /** A "drop" fault after serving: the response is replaced by a dropped connection. */
  dropResponse?: boolean;
  /** True once the response was written (or the socket dropped). */
  responded?: boolean;
}

export type Next = () => Promise<void>;

export interface Middleware {
  readonly name: string;
  handle(ctx: RequestContext, next: Next): Promise<void>;
}

/** Composes middlewares into one function; duplicate names are a programming error. */
export function composeMiddlewares(
  middlewares: readonly Middleware[],
): (ctx: RequestContext) => Promise<void> {
  const names = new Set<string>();
  for (const m of middlewares) {
    if (names.has(m.name)) {
      throw new Error(`Duplicate middleware name: ${m.name}`);
    }
    names.add(m.name);
  }
  return (ctx) =>
    middlewares.reduceRight<Next>(
      (next, middleware) => () => middleware.handle(ctx, next),
      async () => undefined,
    )();
}

/** Writes a JSON (or empty) response with the standard headers already set on `res`. */
export function writeResponse(
  ctx: RequestContext,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
): void {
  const { res } = ctx;
  if (res.headersSent || res.destroyed) {
    ctx.responded = true;
    return;
  }
  if (ctx.dropResponse === true) {
    res.socket?.destroy();
    res.destroy();
    ctx.responded = true;
    return;
  }
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) {
    res.setHeader(name, value);
  }
  if (status === 204 || status === 304) {
    // RFC 9110 section 8.6: no Content-Length on a 204; neither kind has a body.
    res.removeHeader("Content-Length");
    res.end();
  } else if (body === undefined) {
    res.setHeader("Content-Length", 0);
    res.end();
  } else {
    const text = JSON.stringify(body);
    res.setHeader("Content-Type", "application/json; charset=utf-8");
    res.setHeader("Content-Length", Buffer.byteLength(text));
    res.end(text);
  }
  ctx.responded = true;
}
