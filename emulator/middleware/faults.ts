/**
 * Fault injection: consults the fault controller and applies status / drop / latency faults.
 * Routes for the Azure ML audience (a batch endpoint's scoring URI) are the "data" plane, the
 * rest of this listener the "arm" plane (`requestPlaneOf`, which the request log uses too).
 */
import { applyFault, type FaultController } from "../faults";
import { requestPlaneOf } from "./context";
import type { Middleware } from "./pipeline";

export function createFaultMiddleware(faults: FaultController): Middleware {
  return {
    name: "faults",
    async handle(ctx, next) {
      if (ctx.route?.route.faultable === true) {
        const plane = requestPlaneOf(ctx) === "data" ? "data" : "arm";
        const fault = faults.take({ method: ctx.method, path: ctx.path, plane });
        if (fault !== undefined) {
          ctx.fault = fault.kind;
          if (fault.kind === "drop" && fault.afterServing === true) {
            // Served as usual; writeResponse then drops the connection instead of answering.
            ctx.dropResponse = true;
            await next();
            return;
          }
          if (await applyFault(fault, ctx.res, ctx.requestId, faults.delay)) {
            ctx.responded = true;
            return;
          }
        }
      }
      await next();
    },
  };
}
