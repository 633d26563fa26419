/**
 * Named long-running-operation scenarios for poller tests (emulator-only, in the spirit of
 * core-lro's `routesTable.ts`). Each path starts with a caller-chosen `{name}`, so tests stay
 * independent; ARM auth and an Azure ML api-version are required like any ARM call.
 *
 *   PUT    /_scenarios/{name}/put/201/asyncop/{n}/succeeded  201 + Azure-AsyncOperation; Succeeded at the n-th status poll
 *   PUT    /_scenarios/{name}/put/201/asyncop/failed         status Failed with `error` at the first poll
 *   PUT    /_scenarios/{name}/put/201/asyncop/canceled       status Canceled with `error` at the first poll
 *   PUT    /_scenarios/{name}/put/201/asyncop/nostatus       the status body has no `status` field
 *   PUT    /_scenarios/{name}/put/200/body/{n}               200, no headers; provisioningState Succeeded at the n-th GET
 *   GET    (any PUT path above)                              the resource (final GET of the original URI)
 *   DELETE /_scenarios/{name}/delete/202/location/{n}        202 + Location; Location answers 202 until the n-th poll, then 204
 *   DELETE /_scenarios/{name}/delete/202/location/failed[/{status}]  Location answers {status} (default 500) with an ARM error
 *   POST   /_scenarios/{name}/post/202/location/{n}          202 + Location; then 200 with a body
 *
 * `n` counts polls: the n-th poll sees the terminal state (0 behaves like 1). Retry-After is the
 * control plane's `retryAfterInSeconds`.
 */
import { ErrorFactory } from "./errors";
import type { OperationError, OperationStatus } from "./operations";
import type { HandlerContext, HandlerResult, HttpMethod, RouteDefinition, Router } from "./router";
import type { StoredResource } from "./handlers/common";
import { COLLECTIONS } from "./state/seed";

export const SCENARIO_ERROR: OperationError = {
  code: "ScenarioFailed",
  message: "The long-running operation failed, as the scenario asked.",
};
export const SCENARIO_CANCELED_ERROR: OperationError = {
  code: "OperationCanceled",
  message: "The long-running operation was canceled, as the scenario asked.",
};

const SCENARIO_TYPE = "Microsoft.MachineLearningServices/emulatorScenarios";

function scenarioRoute(id: string, method: HttpMethod, suffix: string): RouteDefinition {
  return {
    id,
    method,
    template: `/_scenarios/{name}/${suffix}`,
    plane: "arm",
    apiVersions: "ml",
    queryParameters: [],
    nameRules: [],
    scope: "none",
    resourceType: "emulatorScenarios",
    faultable: true,
  };
}

export const SCENARIO_ROUTES: RouteDefinition[] = [
  scenarioRoute("Scenario_PutAsyncOpSucceeded", "PUT", "put/201/asyncop/{n}/succeeded"),
  scenarioRoute("Scenario_PutAsyncOpSucceeded_Get", "GET", "put/201/asyncop/{n}/succeeded"),
  scenarioRoute("Scenario_PutAsyncOpFailed", "PUT", "put/201/asyncop/failed"),
  scenarioRoute("Scenario_PutAsyncOpFailed_Get", "GET", "put/201/asyncop/failed"),
  scenarioRoute("Scenario_PutAsyncOpCanceled", "PUT", "put/201/asyncop/canceled"),
  scenarioRoute("Scenario_PutAsyncOpCanceled_Get", "GET", "put/201/asyncop/canceled"),
  scenarioRoute("Scenario_PutAsyncOpNoStatus", "PUT", "put/201/asyncop/nostatus"),
  scenarioRoute("Scenario_PutAsyncOpNoStatus_Get", "GET", "put/201/asyncop/nostatus"),
  scenarioRoute("Scenario_PutBody", "PUT", "put/200/body/{n}"),
  scenarioRoute("Scenario_PutBody_Get", "GET", "put/200/body/{n}"),
  scenarioRoute("Scenario_DeleteLocation", "DELETE", "delete/202/location/{n}"),
  scenarioRoute("Scenario_DeleteLocationFailed", "DELETE", "delete/202/location/failed"),
  scenarioRoute(
    "Scenario_DeleteLocationFailedStatus",
    "DELETE",
    "delete/202/location/failed/{status}",
  ),
  scenarioRoute("Scenario_PostLocation", "POST", "post/202/location/{n}"),
];

export function registerScenarioHandlers(router: Router): void {
  SCENARIO_ROUTES.forEach((r) => router.add({ ...r }));

  const putAsyncOp =
    (outcome: OperationStatus, options: { omitStatus?: boolean } = {}) =>
    (hc: HandlerContext) => {
      const polls = outcome === "Succeeded" && options.omitStatus !== true ? pollCount(hc) : 1;
      const { record, key } = putResource(hc);
      const op = hc.services.operations.start({
        request: { method: hc.ctx.method, path: hc.ctx.path },
        apiVersion: hc.apiVersion,
        outcome,
        error: outcome === "Canceled" ? SCENARIO_CANCELED_ERROR : SCENARIO_ERROR,
        progression: { mode: "polls", polls },
        effect: { type: "provisioningState", collection: COLLECTIONS.scenarios, key },
        result: { statusCode: 200, bodyFromResource: { collection: COLLECTIONS.scenarios, key } },
        omitStatus: options.omitStatus,
      });
      return {
        status: 201,
        body: record.resource,
        headers: hc.services.operations.headers(op, { asyncOperation: true }),
      };
    };

  router.register("Scenario_PutAsyncOpSucceeded", putAsyncOp("Succeeded"));
  router.register("Scenario_PutAsyncOpFailed", putAsyncOp("Failed"));
  router.register("Scenario_PutAsyncOpCanceled", putAsyncOp("Canceled"));
  router.register("Scenario_PutAsyncOpNoStatus", putAsyncOp("Succeeded", { omitStatus: true }));
  for (const id of [
    "Scenario_PutAsyncOpSucceeded_Get",
    "Scenario_PutAsyncOpFailed_Get",
    "Scenario_PutAsyncOpCanceled_Get",
    "Scenario_PutAsyncOpNoStatus_Get",
  ]) {
    router.register(id, (hc) => getResource(hc, false));
  }

  router.register("Scenario_PutBody", (hc) => {
    const polls = pollCount(hc);
    const { record, key } = putResource(hc);
    hc.services.operations.start({
      request: { method: hc.ctx.method, path: hc.ctx.path },
      apiVersion: hc.apiVersion,
      progression: { mode: "polls", polls },
      effect: { type: "provisioningState", collection: COLLECTIONS.scenarios, key },
      resource: { collection: COLLECTIONS.scenarios, key },
      result: { statusCode: 200, bodyFromResource: { collection: COLLECTIONS.scenarios, key } },
    });
    return { status: 200, body: record.resource };
  });
  router.register("Scenario_PutBody_Get", (hc) => getResource(hc, true));

  const locationScenario =
    (result: { statusCode: number; body?: unknown }, outcome: OperationStatus = "Succeeded") =>
    (hc: HandlerContext): HandlerResult => {
      const failureStatusCode =
        hc.params.status === undefined ? 500 : statusParam(hc.params.status);
      const op = hc.services.operations.start({
        request: { method: hc.ctx.method, path: hc.ctx.path },
        apiVersion: hc.apiVersion,
        outcome,
        error:
          failureStatusCode >= 500
            ? { code: "InternalServerError", message: SCENARIO_ERROR.message }
            : SCENARIO_ERROR,
        failureStatusCode,
        progression: { mode: "polls", polls: outcome === "Succeeded" ? pollCount(hc) : 1 },
        result,
      });
      return { status: 202, headers: hc.services.operations.headers(op, { location: true }) };
    };
  router.register("Scenario_DeleteLocation", locationScenario({ statusCode: 204 }));
  router.register("Scenario_DeleteLocationFailed", locationScenario({ statusCode: 204 }, "Failed"));
  router.register(
    "Scenario_DeleteLocationFailedStatus",
    locationScenario({ statusCode: 204 }, "Failed"),
  );
  router.register("Scenario_PostLocation", (hc) =>
    locationScenario({
      statusCode: 200,
      body: { name: hc.params.name, status: "Succeeded", result: "done" },
    })(hc),
  );
}

function scenarioKey(hc: HandlerContext): string {
  return hc.ctx.path.toLowerCase().replace(/\/+$/, "");
}

function putResource(hc: HandlerContext): { record: StoredResource; key: string } {
  const key = scenarioKey(hc);
  const record: StoredResource = {
    createdSeq: hc.services.nextSequence(),
    resource: {
      id: hc.ctx.path,
      name: hc.params.name,
      type: SCENARIO_TYPE,
      properties: {
        ...(((hc.body as { properties?: object } | undefined)?.properties ?? {}) as object),
        provisioningState: "Creating",
      },
    },
  };
  hc.services.store.put(COLLECTIONS.scenarios, key, record);
  return { record, key };
}

function getResource(hc: HandlerContext, advances: boolean): HandlerResult {
  const key = scenarioKey(hc);
  if (advances) {
    hc.services.operations.observeResource(COLLECTIONS.scenarios, key);
  }
  const record = hc.services.store.get<StoredResource>(COLLECTIONS.scenarios, key);
  if (record === undefined) {
    throw ErrorFactory.mlNotFound(`scenario resource ${hc.ctx.path}`);
  }
  return { status: 200, body: record.resource };
}

function pollCount(hc: HandlerContext): number {
  const n = Number(hc.params.n);
  if (!Number.isInteger(n) || n < 0) {
    throw ErrorFactory.badArgument(
      `Scenario poll count '${hc.params.n}' must be a non-negative integer.`,
      "n",
    );
  }
  return Math.max(1, n);
}

function statusParam(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 400 || n > 599) {
    throw ErrorFactory.badArgument(
      `Scenario status '${raw}' must be an HTTP error status (400-599).`,
      "status",
    );
  }
  return n;
}
