/**
 * The tracking path behind the emulator's HTTPS front door: the same bearer-token check as ARM
 * (ARM- and Azure ML-audience tokens are both accepted, as Azure ML's tracking endpoint takes
 * either), every request written to the request log as plane `mlflow`, then the MLflow server.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { RequestLog } from "../requestLog";
import { ARM_AUDIENCE, checkAuthorization, ML_AUDIENCE } from "../tokens";
import { sendError } from "./service";
import type { TrackingService } from "./types";

export interface TrackingFrontDoorOptions {
  readonly tracking: TrackingService;
  /** The emulator's ARM- and ML-audience tokens. */
  readonly tokens: () => { readonly arm: string; readonly ml: string };
  readonly requests?: RequestLog;
  readonly now?: () => number;
}

/** Serves one request whose path the tracking service owns. Never throws. */
export function serveTracking(
  options: TrackingFrontDoorOptions,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const [pathname, query = ""] = (req.url ?? "/").split(/\?(.*)/s, 2);
  const requestId = randomUUID();
  res.setHeader("x-ms-request-id", requestId);
  res.once("close", () =>
    options.requests?.record({
      plane: "mlflow",
      method: req.method ?? "GET",
      path: pathname,
      query,
      status: res.headersSent ? res.statusCode : 0,
      requestId,
    }),
  );
  const now = (options.now ?? Date.now)();
  const tokens = options.tokens();
  const checks = [
    checkAuthorization(
      req.headers.authorization,
      { token: tokens.arm, audience: ARM_AUDIENCE },
      now,
    ),
    checkAuthorization(req.headers.authorization, { token: tokens.ml, audience: ML_AUDIENCE }, now),
  ];
  if (!checks.some((check) => check.ok)) {
    const reason = checks[0].ok ? "invalid" : checks[0].reason;
    req.resume();
    sendError(
      res,
      401,
      "UNAUTHENTICATED",
      reason === "missing"
        ? "Authentication failed: the request has no bearer token."
        : `Authentication failed: the bearer token is ${reason === "expired" ? "expired" : "not accepted"}.`,
      { "www-authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common"' },
    );
    return;
  }
  try {
    options.tracking.handle(req, res);
  } catch (error) {
    sendError(res, 500, "INTERNAL_ERROR", (error as Error)?.message ?? String(error));
  }
}
