/**
 * The emulator's admin API for out-of-process tests (ARM token required, never faulted):
 *   POST   /_emulator/faults            FaultRule        → 201 { id }
 *   GET    /_emulator/faults                             → { value: FaultRule[] }
 *   DELETE /_emulator/faults                             → 204
 *   DELETE /_emulator/faults/{id}                        → 204
 *   GET    /_emulator/requests?since=<seq>               → { value: RequestRecord[], mark }
 *   DELETE /_emulator/requests                           → 204
 *   POST   /_emulator/reset                              → 204
 */
import { ErrorFactory } from "../errors";
import type { FaultRule } from "../faults";
import { findQuery } from "../middleware/apiVersion";
import type { HttpMethod, RouteDefinition, Router } from "../router";

function adminRoute(
  id: string,
  method: HttpMethod,
  template: string,
  query: string[] = [],
): RouteDefinition {
  return {
    id,
    method,
    template,
    plane: "admin",
    apiVersions: "none",
    queryParameters: [
      { name: "api-version", in: "query", type: "string" },
      ...query.map((name) => ({ name, in: "query" as const, type: "integer" })),
    ],
    nameRules: [],
    scope: "none",
    resourceType: "",
    faultable: false,
  };
}

export const ADMIN_ROUTES: RouteDefinition[] = [
  adminRoute("Emulator_Faults_Add", "POST", "/_emulator/faults"),
  adminRoute("Emulator_Faults_List", "GET", "/_emulator/faults"),
  adminRoute("Emulator_Faults_Clear", "DELETE", "/_emulator/faults"),
  adminRoute("Emulator_Faults_Remove", "DELETE", "/_emulator/faults/{id}"),
  adminRoute("Emulator_Requests_List", "GET", "/_emulator/requests", ["since"]),
  adminRoute("Emulator_Requests_Clear", "DELETE", "/_emulator/requests"),
  adminRoute("Emulator_Reset", "POST", "/_emulator/reset"),
];

export function registerAdminHandlers(router: Router): void {
  ADMIN_ROUTES.forEach((r) => router.add({ ...r }));
  router.register("Emulator_Faults_Add", (hc) => {
    try {
      return { status: 201, body: { id: hc.services.faults.add(hc.body as FaultRule) } };
    } catch (e) {
      throw ErrorFactory.badArgument((e as Error).message);
    }
  });
  router.register("Emulator_Faults_List", (hc) => ({
    status: 200,
    body: { value: hc.services.faults.list() },
  }));
  router.register("Emulator_Faults_Clear", (hc) => {
    hc.services.faults.clear();
    return { status: 204 };
  });
  router.register("Emulator_Faults_Remove", (hc) => {
    hc.services.faults.remove(hc.params.id);
    return { status: 204 };
  });
  router.register("Emulator_Requests_List", (hc) => {
    const since = Number(findQuery(hc.query, "since") ?? "0");
    const { requests } = hc.services;
    return {
      status: 200,
      body: { value: requests.since(Number.isFinite(since) ? since : 0), mark: requests.mark() },
    };
  });
  router.register("Emulator_Requests_Clear", (hc) => {
    hc.services.requests.clear();
    return { status: 204 };
  });
  router.register("Emulator_Reset", (hc) => {
    hc.services.reset();
    return { status: 204 };
  });
}
