/**
 * The operation URLs handed out in `Azure-AsyncOperation` and `Location` headers:
 *   .../locations/{location}/mfeOperationsStatus/{operationId}  → 200 { id, name, status, ... }
 *   .../locations/{location}/mfeOperationResults/{operationId}  → 202 while running, then the
 *                                                                 final result (200 body / 204)
 * Each poll is an observation that advances the operation.
 *
 * These URLs accept any query parameter even in strict mode: Microsoft's generated clients poll them
 * with the original request's query (seen: @azure/arm-machinelearning 2.1.1 appends
 * `underlyingResourceAction` while polling a compute delete), and Azure answers such polls.
 */
import { ErrorFactory } from "../errors";
import type { OperationRecord } from "../operations";
import type { HandlerContext, HandlerResult, RouteDefinition, Router } from "../router";
import type { StoredResource } from "./common";

const BASE =
  "/subscriptions/{subscriptionId}/providers/Microsoft.MachineLearningServices/locations/{location}";

export const OPERATION_ROUTES: RouteDefinition[] = [
  {
    id: "Emulator_OperationStatus_Get",
    method: "GET",
    template: `${BASE}/mfeOperationsStatus/{operationId}`,
    plane: "arm",
    apiVersions: "ml",
    queryParameters: [],
    acceptsAnyQuery: true,
    nameRules: [],
    scope: "subscription",
    resourceType: "locations/mfeOperationsStatus",
    faultable: true,
  },
  {
    id: "Emulator_OperationResult_Get",
    method: "GET",
    template: `${BASE}/mfeOperationResults/{operationId}`,
    plane: "arm",
    apiVersions: "ml",
    queryParameters: [],
    acceptsAnyQuery: true,
    nameRules: [],
    scope: "subscription",
    resourceType: "locations/mfeOperationResults",
    faultable: true,
  },
];

export function registerOperationHandlers(router: Router): void {
  OPERATION_ROUTES.forEach((r) => router.add({ ...r }));
  router.register("Emulator_OperationStatus_Get", (hc) => {
    const op = observe(hc);
    const headers =
      op.status === "InProgress"
        ? { "Retry-After": String(hc.services.operations.retryAfterInSeconds) }
        : undefined;
    return { status: 200, body: hc.services.operations.statusBody(op), headers };
  });
  router.register("Emulator_OperationResult_Get", (hc) => locationAnswer(hc, observe(hc)));
}

function observe(hc: HandlerContext): OperationRecord {
  const { settings, operations } = hc.services;
  const op =
    hc.params.location.toLowerCase() === settings.location.toLowerCase()
      ? operations.observe(hc.params.operationId)
      : undefined;
  if (op === undefined) {
    throw ErrorFactory.mlNotFound(`operation ${hc.params.operationId}`);
  }
  return op;
}

/** What the Location URL answers for an operation in its current state. */
export function locationAnswer(hc: HandlerContext, op: OperationRecord): HandlerResult {
  const { operations, store } = hc.services;
  if (op.status === "InProgress") {
    return { status: 202, headers: operations.headers(op, { location: true }) };
  }
  if (op.status !== "Succeeded") {
    const error = op.error ?? {
      code: "InternalServerError",
      message: "The long-running operation failed.",
    };
    return { status: op.failureStatusCode, body: { error } };
  }
  const { result } = op;
  if ("bodyFromResource" in result) {
    const record = store.get<StoredResource>(
      result.bodyFromResource.collection,
      result.bodyFromResource.key,
    );
    return record === undefined
      ? { status: 204 }
      : { status: result.statusCode, body: record.resource };
  }
  return { status: result.statusCode, body: result.body };
}
