/**
 * Path-name rules, then the request body: read (only now, after authentication and the scope
 * checks), parsed and validated against the generated spec.
 */
import { ErrorFactory } from "../errors";
import { parseLenientJson } from "../lenientJson";
import { apiVersionProfile } from "../spec/apiVersions";
import { forbiddenKeyViolations, validateRequestBody } from "../validate";
import { toStoredShape } from "../versionShapes";
import { readRequestBody } from "./context";
import type { Middleware } from "./pipeline";

/** Options for createValidationMiddleware. */
export interface ValidationMiddlewareOptions {
  /** Read per request: strict mode rejects unknown body properties, loose mode drops them. */
  readonly strict: () => boolean;
}

export function createValidationMiddleware(options: ValidationMiddlewareOptions): Middleware {
  return {
    name: "validation",
    async handle(ctx, next) {
      const match = ctx.route;
      if (match === undefined) {
        return next();
      }
      for (const rule of match.route.nameRules) {
        const value = match.params[rule.parameter];
        if (value !== undefined && !rule.pattern.test(value)) {
          throw ErrorFactory.invalidName(rule.parameter, value, rule.description);
        }
      }
      ctx.body = parseJsonBody(ctx.req.headers["content-type"], await readRequestBody(ctx.req));
      const forbidden = forbiddenKeyViolations(ctx.body);
      if (forbidden.length > 0) {
        throw ErrorFactory.validationFailed(forbidden);
      }
      if (match.route.bodyOperationId !== undefined) {
        // An older version's shapes become the stored (2024-04-01) ones before validation.
        ctx.body = toStoredShape(
          apiVersionProfile(ctx.apiVersion ?? ""),
          match.route.resourceType,
          ctx.body,
        );
        const result = validateRequestBody(match.route.bodyOperationId, ctx.body, ctx.apiVersion, {
          strict: options.strict(),
        });
        if (!result.ok) {
          throw ErrorFactory.validationFailed(result.violations);
        }
        ctx.body = result.value;
      }
      await next();
    },
  };
}

export function parseJsonBody(contentType: string | undefined, raw: Buffer): unknown {
  if (raw.length === 0) {
    return undefined;
  }
  if (
    contentType !== undefined &&
    !/json/i.test(contentType) &&
    !/^text\/plain/i.test(contentType)
  ) {
    throw ErrorFactory.unsupportedMediaType(contentType);
  }
  const text = raw.toString("utf8").replace(/^\uFEFF/, "");
  if (text.trim() === "") {
    return undefined;
  }
  try {
    // Json.NET's leniency (raw newlines in strings, trailing commas, comments, single quotes).
    return parseLenientJson(text);
  } catch (e) {
    throw ErrorFactory.invalidRequestContent((e as Error).message);
  }
}
