/**
 * api-version and query-string checks: the version must be present, and in strict mode supported
 * for the route; declared query parameters must have valid values; in strict mode, undeclared ones
 * are rejected.
 */
import { ErrorFactory } from "../errors";
import type { SpecParameter } from "../spec/load";
import type { Middleware } from "./pipeline";
import {
  PUBLISHED_ML_API_VERSIONS,
  isPublishedFor,
  publishedVersionsFor,
} from "../spec/apiVersions";

/**
 * Azure ML api-versions the emulator answers: every version the RP published (a pinned table with
 * its source in `spec/apiVersions.ts`), each served with the shapes of the nearest carried spec.
 */
export const SUPPORTED_ML_API_VERSIONS: readonly string[] = PUBLISHED_ML_API_VERSIONS.map(
  (v) => v.version,
);

/** Any dated version is accepted for Microsoft.Storage reads. */
const STORAGE_API_VERSION = /^\d{4}-\d{2}-\d{2}(-preview)?$/;

export function createApiVersionMiddleware(options: {
  strict: () => boolean;
  location: string;
}): Middleware {
  return {
    name: "apiVersion",
    async handle(ctx, next) {
      if (ctx.routeError !== undefined) {
        throw ctx.routeError;
      }
      const route = ctx.route?.route;
      if (route === undefined) {
        throw ErrorFactory.routeNotFound(ctx.method, ctx.path);
      }
      if (route.apiVersions !== "none") {
        // ARM reads query parameter names case-insensitively: `Api-Version=` counts too.
        const apiVersion = findQuery(ctx.query, "api-version");
        if (apiVersion === undefined || apiVersion === "") {
          throw ErrorFactory.missingApiVersion();
        }
        // Loose mode answers any api-version (unknown ones with the 2024-04-01 shapes).
        const resourceType = route.resourceType || route.template;
        const supported =
          !options.strict() ||
          (route.apiVersions === "ml"
            ? isPublishedFor(apiVersion, resourceType)
            : STORAGE_API_VERSION.test(apiVersion));
        if (!supported) {
          throw ErrorFactory.unsupportedApiVersion(
            apiVersion,
            resourceType,
            options.location,
            route.apiVersions === "ml"
              ? publishedVersionsFor(resourceType)
              : ["any YYYY-MM-DD version"],
          );
        }
        ctx.apiVersion = apiVersion;
      }
      const declared = new Map(route.queryParameters.map((p) => [p.name.toLowerCase(), p]));
      for (const name of new Set(ctx.query.keys())) {
        if (name.toLowerCase() === "api-version") {
          continue;
        }
        const parameter = declared.get(name.toLowerCase());
        if (parameter === undefined) {
          if (options.strict() && route.acceptsAnyQuery !== true) {
            throw ErrorFactory.invalidQueryParameter(name, route.id);
          }
          continue;
        }
        checkQueryValue(parameter, ctx.query.get(name) as string);
      }
      for (const parameter of route.queryParameters) {
        if (parameter.required === true && findQuery(ctx.query, parameter.name) === undefined) {
          throw ErrorFactory.missingQueryParameter(parameter.name);
        }
      }
      await next();
    },
  };
}

/** Case-insensitive lookup of a query parameter (ARM treats parameter names that way). */
export function findQuery(query: URLSearchParams, name: string): string | undefined {
  for (const [key, value] of query) {
    if (key.toLowerCase() === name.toLowerCase()) {
      return value;
    }
  }
  return undefined;
}

function checkQueryValue(parameter: SpecParameter, value: string): void {
  if (
    (parameter.type === "integer" || parameter.type === "number") &&
    !/^-?\d+(\.\d+)?$/.test(value)
  ) {
    throw ErrorFactory.invalidQueryParameterValue(
      parameter.name,
      value,
      `expected ${parameter.type}`,
    );
  }
  if (parameter.type === "boolean" && !/^(true|false)$/i.test(value)) {
    throw ErrorFactory.invalidQueryParameterValue(parameter.name, value, "expected true or false");
  }
  if (
    parameter.enum !== undefined &&
    !parameter.enum.some((e) => e.toLowerCase() === value.toLowerCase())
  ) {
    throw ErrorFactory.invalidQueryParameterValue(
      parameter.name,
      value,
      `expected one of ${parameter.enum.join(", ")}`,
    );
  }
}
