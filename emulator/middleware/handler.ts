/** Invokes the route's handler and writes its result. */
import { ErrorFactory } from "../errors";
import type { ControlPlaneServices } from "../router";
import { apiVersionProfile } from "../spec/apiVersions";
import { toVersionShape } from "../versionShapes";
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
      // Answered in the shapes of the request's api-version (older ones translated back).
      const body =
        match.route.plane === "arm" && ctx.apiVersion !== undefined
          ? toVersionShape(apiVersionProfile(ctx.apiVersion), match.route.resourceType, result.body)
          : result.body;
      writeResponse(ctx, result.status, body, result.headers);
    },
  };
}
