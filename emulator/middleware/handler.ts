/** Invokes the route's handler and writes its result. */
import { ErrorFactory } from "../errors";
import type { ControlPlaneServices } from "../router";
import { writeResponse, type Middleware } from "./pipeline";

export function createHandlerMiddleware(services: ControlPlaneServices): Middleware {
  return {
    name: "handler",
    async handle(ctx) {
      const match = ctx.route;
      if (match === undefined) {
        throw ErrorFactory.routeNotFound(ctx.method, ctx.path);
      }
      if (match.route.handler === undefined) {
        throw ErrorFactory.notImplemented(match.route.id);
      }
      if (match.route.plane === "arm") {
        await services.ready();
      }
      const result = await match.route.handler({
        ctx,
        params: match.params,
        query: ctx.query,
        body: ctx.body,
        apiVersion: ctx.apiVersion ?? "",
        services,
      });
      writeResponse(ctx, result.status, result.body, result.headers);
    },
  };
}
