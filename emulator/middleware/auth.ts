/**
 * Bearer-token check: every ARM and admin request needs the ARM-audience token; routes of the
 * Azure ML data plane (batch endpoint invocation) need the `https://ml.azure.com` one instead.
 */
import { ErrorFactory } from "../errors";
import { ARM_AUDIENCE, checkAuthorization, ML_AUDIENCE } from "../tokens";
import type { Middleware } from "./pipeline";

export function createAuthMiddleware(
  getToken: () => string,
  now: () => number,
  getMlToken: () => string = getToken,
): Middleware {
  return {
    name: "auth",
    async handle(ctx, next) {
      if (ctx.route?.route.anonymous === true) {
        return next();
      }
      const ml = ctx.route?.route.audience === "ml";
      const check = checkAuthorization(
        ctx.req.headers.authorization,
        ml
          ? { token: getMlToken(), audience: ML_AUDIENCE }
          : { token: getToken(), audience: ARM_AUDIENCE },
        now(),
      );
      if (!check.ok) {
        switch (check.reason) {
          case "missing":
            throw ErrorFactory.authenticationMissing();
          case "malformed":
            throw ErrorFactory.authenticationMalformed();
          case "expired":
            throw ErrorFactory.tokenExpired();
          case "audience":
            throw ErrorFactory.audienceMismatch(check.audience, check.allowed);
          case "invalid":
          default:
            throw ErrorFactory.invalidAuthenticationToken();
        }
      }
      await next();
    },
  };
}
