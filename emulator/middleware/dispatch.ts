/** Route dispatch: finds the route; an unknown route is reported only after authentication. */
import { ErrorFactory } from "../errors";
import { isMlNamespacePath, resourceTypeOf, type Router } from "../router";
import { isUnservedResourceType } from "../spec/unservedTypes";
import { findQuery } from "./apiVersion";
import type { Middleware } from "./pipeline";

export function createDispatchMiddleware(router: Router): Middleware {
  return {
    name: "dispatch",
    async handle(ctx, next) {
      const result = router.match(ctx.method, ctx.path);
      if (result.kind === "match") {
        ctx.route = result.match;
      } else if (result.kind === "method") {
        ctx.routeError = ErrorFactory.methodNotAllowed(ctx.method, result.allowed);
      } else if (isMlNamespacePath(ctx.path) && isUnservedResourceType(resourceTypeOf(ctx.path))) {
        ctx.routeError = ErrorFactory.resourceTypeNotServed(resourceTypeOf(ctx.path));
      } else if (isMlNamespacePath(ctx.path)) {
        ctx.routeError = ErrorFactory.invalidResourceType(
          resourceTypeOf(ctx.path),
          findQuery(ctx.query, "api-version"),
        );
      } else {
        ctx.routeError = ErrorFactory.routeNotFound(ctx.method, ctx.path);
      }
      await next();
    },
  };
}
