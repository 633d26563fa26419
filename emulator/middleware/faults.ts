/** Fault injection: consults the fault controller and applies status / drop / latency faults. */
import { applyFault, type FaultController } from "../faults";
import type { Middleware } from "./pipeline";

export function createFaultMiddleware(faults: FaultController): Middleware {
  return {
    name: "faults",
    async handle(ctx, next) {
      if (ctx.route?.route.faultable === true) {
        const fault = faults.take({ method: ctx.method, path: ctx.path, plane: "arm" });
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
