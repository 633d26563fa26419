/**
 * The route table: method + path template → handler, with what the middlewares need to know
 * about each route (api-version policy, declared query parameters, name rules, scope checks,
 * whether the body is validated). Spec operations come from the generated spec subset, so the
 * table knows every operation's parameters; emulator-only routes are declared alongside.
 */
import type { ControlPlaneRequestPlane, RequestContext } from "./middleware/pipeline";
import type { FaultController } from "./faults";
import type { OperationManager } from "./operations";
import type { RequestLog } from "./requestLog";
import type { SpecParameter, SpecSubset } from "./spec/load";
import type { Store } from "./state/store";
import type { WorkspaceScope } from "./state/ids";
import type { Progression } from "./state/transitions";

export type HttpMethod = "GET" | "PUT" | "PATCH" | "DELETE" | "POST";

/** Resolved control-plane settings the handlers read. */
export interface ControlPlaneSettings {
  publicUrl: string;
  scope: WorkspaceScope;
  location: string;
  tokens: { arm: string; ml: string };
  storage: {
    accountName: string;
    accountKey: string;
    blobEndpoint: string;
    createContainer(name: string): Promise<void>;
  };
  progression: Progression;
  retryAfterInSeconds: number;
  strict: boolean;
}

/** Shared services every handler receives. */
export interface ControlPlaneServices {
  readonly settings: ControlPlaneSettings;
  readonly store: Store;
  readonly operations: OperationManager;
  readonly faults: FaultController;
  readonly requests: RequestLog;
  now(): number;
  /** Monotonic creation counter (persisted), for stable ordering. */
  nextSequence(): number;
  /** Drops all state except the seeds; clears faults and the request log. */
  reset(): void;
  /** Resolves once the seeded blob containers exist (retried on the next call after a failure). */
  ready(): Promise<void>;
}

export interface HandlerContext {
  readonly ctx: RequestContext;
  /** Decoded path parameters. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The validated, normalized body (or the raw parsed body for routes without a schema). */
  readonly body: unknown;
  readonly apiVersion: string;
  readonly services: ControlPlaneServices;
}

export interface HandlerResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (hc: HandlerContext) => HandlerResult | Promise<HandlerResult>;

/** How a route treats `api-version`. */
export type ApiVersionPolicy = "ml" | "storage" | "none";

/** Which part of the path must name the emulated subscription / resource group / workspace. */
export type ScopeCheck = "workspace" | "resourceGroup" | "subscription" | "none";

export interface RouteDefinition {
  /** The spec operationId, or an emulator-specific name (`Emulator_...`). */
  id: string;
  method: HttpMethod;
  template: string;
  plane: ControlPlaneRequestPlane;
  apiVersions: ApiVersionPolicy;
  /** Query parameters besides api-version; strict mode rejects any other. */
  queryParameters: SpecParameter[];
  /** Answer whatever else the query carries, even in strict mode (see operations.ts). */
  acceptsAnyQuery?: boolean;
  /** Path parameters to check by pattern on this route, with the rule's description. */
  nameRules: Array<{ parameter: string; pattern: RegExp; description: string }>;
  scope: ScopeCheck;
  /** ARM resource type for messages, e.g. `workspaces/codes/versions`. */
  resourceType: string;
  /** Validate the body against this spec operation's body schema. */
  bodyOperationId?: string;
  /** Subject to fault injection (the admin API is not). */
  faultable: boolean;
  /** Served without a token (ARM's `/metadata/endpoints`). */
  anonymous?: boolean;
  /** The token audience the route requires. @default "arm" */
  audience?: "arm" | "ml";
  handler?: Handler;
}

export interface RouteMatch {
  route: RouteDefinition;
  params: Record<string, string>;
}

export type MatchResult =
  | { kind: "match"; match: RouteMatch }
  | { kind: "method"; allowed: HttpMethod[] }
  | { kind: "none" };

interface CompiledRoute {
  route: RouteDefinition;
  segments: Array<{ literal: string } | { param: string }>;
  literalCount: number;
}

export interface Router {
  readonly routes: readonly RouteDefinition[];
  add(route: RouteDefinition): void;
  /** Attaches a handler to a route by id (for spec operations implemented later, e.g. jobs). */
  register(id: string, handler: Handler): void;
  match(method: string, rawPath: string): MatchResult;
}

export function createRouter(routes: RouteDefinition[] = []): Router {
  const compiled: CompiledRoute[] = [];
  const router: Router = {
    get routes() {
      return compiled.map((c) => c.route);
    },
    add(route) {
      const segments = splitPath(route.template).map((s) =>
        /^\{[^}]+\}$/.test(s) ? { param: s.slice(1, -1) } : { literal: s.toLowerCase() },
      );
      compiled.push({
        route,
        segments,
        literalCount: segments.filter((s) => "literal" in s).length,
      });
    },
    register(id, handler) {
      const matching = compiled.filter((c) => c.route.id === id);
      if (matching.length === 0) {
        throw new Error(`No route with id ${id}`);
      }
      for (const c of matching) {
        c.route.handler = handler;
      }
    },
    match(method, rawPath) {
      const parts = splitPath(rawPath);
      let best: { c: CompiledRoute; params: Record<string, string> } | undefined;
      const allowed = new Set<HttpMethod>();
      for (const c of compiled) {
        const params = matchSegments(c.segments, parts);
        if (params === undefined) {
          continue;
        }
        if (c.route.method !== method.toUpperCase()) {
          allowed.add(c.route.method);
          continue;
        }
        // Literal segments win over parameters (".../location/failed" over ".../location/{n}").
        if (best === undefined || c.literalCount > best.c.literalCount) {
          best = { c, params };
        }
      }
      if (best !== undefined) {
        return { kind: "match", match: { route: best.c.route, params: best.params } };
      }
      return allowed.size > 0 ? { kind: "method", allowed: [...allowed] } : { kind: "none" };
    },
  };
  routes.forEach((r) => router.add(r));
  return router;
}

function splitPath(path: string): string[] {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, "") : path;
  return trimmed.split("/").slice(1);
}

function matchSegments(
  segments: CompiledRoute["segments"],
  parts: string[],
): Record<string, string> | undefined {
  if (segments.length !== parts.length) {
    return undefined;
  }
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if ("literal" in segment) {
      if (segment.literal !== parts[i].toLowerCase()) {
        return undefined;
      }
    } else {
      let value: string;
      try {
        value = decodeURIComponent(parts[i]);
      } catch {
        return undefined;
      }
      if (value === "") {
        return undefined;
      }
      params[segment.param] = value;
    }
  }
  return params;
}

const ML_NAMESPACE_MARKER = "/providers/microsoft.machinelearningservices/";

/** `workspaces/codes/versions` for a path under the ML namespace (literal segments only). */
export function resourceTypeOf(template: string): string {
  const lower = template.toLowerCase();
  const at = lower.indexOf(ML_NAMESPACE_MARKER);
  if (at < 0) {
    return "";
  }
  const rest = template.slice(at + ML_NAMESPACE_MARKER.length).split("/");
  // Resource types alternate type/name: keep the even positions.
  return rest.filter((_, i) => i % 2 === 0).join("/");
}

export function isMlNamespacePath(path: string): boolean {
  return path.toLowerCase().includes(ML_NAMESPACE_MARKER);
}

/**
 * Query parameters the emulator answers beyond the spec (DIFFERENCES.md): `parentJobName` lists a
 * sweep's trials, as `az ml job list --parent-job-name` does through Run History on Azure.
 */
const EXTRA_QUERY_PARAMETERS: Readonly<Record<string, SpecParameter[]>> = {
  Jobs_List: [{ in: "query", name: "parentJobName", type: "string" } as SpecParameter],
};

/** Builds routes for every operation of the spec subset (handlers attached later by id). */
export function specRoutes(
  spec: SpecSubset,
  compute: { pattern: RegExp; description: string },
): RouteDefinition[] {
  return Object.entries(spec.operations).map(([id, op]) => {
    const nameRules: RouteDefinition["nameRules"] = [];
    for (const p of op.parameters) {
      if (
        p.in !== "path" ||
        ["subscriptionId", "resourceGroupName", "workspaceName"].includes(p.name)
      ) {
        continue;
      }
      if (p.pattern !== undefined) {
        nameRules.push({
          parameter: p.name,
          pattern: new RegExp(p.pattern),
          description: p.pattern,
        });
      }
    }
    if (id === "Compute_CreateOrUpdate") {
      nameRules.push({ parameter: "computeName", ...compute });
    }
    return {
      id,
      method: op.method,
      template: op.path,
      plane: "arm",
      apiVersions: "ml",
      queryParameters: [
        ...op.parameters.filter((p) => p.in === "query" && p.name !== "api-version"),
        ...(EXTRA_QUERY_PARAMETERS[id] ?? []),
      ],
      nameRules,
      scope: op.path.includes("{workspaceName}") ? "workspace" : "resourceGroup",
      resourceType: resourceTypeOf(op.path),
      bodyOperationId: op.parameters.some((p) => p.in === "body") ? id : undefined,
      faultable: true,
    };
  });
}
