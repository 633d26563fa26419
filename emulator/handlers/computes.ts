/**
 * Computes: list and get; PUT is a long-running create/update (201/200 + Azure-AsyncOperation,
 * provisioningState Creating → Succeeded); DELETE is long-running (202 + Azure-AsyncOperation +
 * Location, resource gone at the end). GETs of a compute advance its pending operation.
 */
import { ErrorFactory } from "../errors";
import type { HandlerContext, Router } from "../router";
import { childId, storeKey } from "../state/ids";
import { COLLECTIONS } from "../state/seed";
import { asObject, nowIso, paginate, systemData, type Json, type StoredResource } from "./common";

const COMPUTE_TYPE = "Microsoft.MachineLearningServices/workspaces/computes";

export function registerComputeHandlers(router: Router): void {
  router.register("Compute_List", (hc) => {
    const { store, operations } = hc.services;
    for (const { key } of store.list(COLLECTIONS.computes)) {
      operations.observeResource(COLLECTIONS.computes, key);
    }
    const items = store.list<StoredResource>(COLLECTIONS.computes).map((e) => e.value.resource);
    return { status: 200, body: paginate(hc, items) };
  });

  router.register("Compute_Get", (hc) => {
    const key = computeKey(hc);
    hc.services.operations.observeResource(COLLECTIONS.computes, key);
    const record = hc.services.store.get<StoredResource>(COLLECTIONS.computes, key);
    if (record === undefined) {
      throw ErrorFactory.mlNotFound(`compute ${hc.params.computeName}`);
    }
    return { status: 200, body: record.resource };
  });

  router.register("Compute_CreateOrUpdate", (hc) => {
    const { store, operations, settings } = hc.services;
    const key = computeKey(hc);
    refuseWhileBusy(hc, key);
    const existing = store.get<StoredResource>(COLLECTIONS.computes, key);
    const body = asObject(hc.body);
    const given = asObject(body.properties);
    const now = nowIso(hc);
    const previous = asObject(existing?.resource.properties);
    const resource: StoredResource["resource"] = {
      id: childId(settings.scope, "computes", hc.params.computeName),
      name: hc.params.computeName,
      type: COMPUTE_TYPE,
      location: (body.location as string | undefined) ?? settings.location,
      tags: (body.tags as Json | undefined) ?? {},
      systemData: systemData(now, existing?.resource.systemData as Json | undefined),
      properties: {
        description: null,
        resourceId: null,
        provisioningErrors: null,
        ...given,
        computeLocation: (given.computeLocation as string | undefined) ?? settings.location,
        createdOn: (previous.createdOn as string | undefined) ?? now,
        modifiedOn: now,
        isAttachedCompute: false,
        provisioningState: existing === undefined ? "Creating" : "Updating",
      },
    };
    for (const optional of ["identity", "sku"] as const) {
      if (body[optional] !== undefined && body[optional] !== null) {
        resource[optional] = body[optional];
      }
    }
    store.put(COLLECTIONS.computes, key, {
      resource,
      createdSeq: existing?.createdSeq ?? hc.services.nextSequence(),
    });
    const op = operations.start({
      request: { method: hc.ctx.method, path: hc.ctx.path },
      apiVersion: hc.apiVersion,
      effect: { type: "provisioningState", collection: COLLECTIONS.computes, key },
      resource: { collection: COLLECTIONS.computes, key },
      result: { statusCode: 200, bodyFromResource: { collection: COLLECTIONS.computes, key } },
    });
    // Service quirk (contract 4.9/6.3): the PUT body echoes the operation URL.
    const echoed = {
      ...resource,
      properties: {
        ...resource.properties,
        properties: {
          ...asObject(asObject(resource.properties).properties),
          AzureAsyncOperationUri: operations.statusUrl(op),
        },
      },
    };
    return {
      status: existing === undefined ? 201 : 200,
      body: echoed,
      headers: operations.headers(op, { asyncOperation: true }),
    };
  });

  router.register("Compute_Delete", (hc) => {
    const { store, operations } = hc.services;
    const key = computeKey(hc);
    const existing = store.get<StoredResource>(COLLECTIONS.computes, key);
    if (existing === undefined) {
      return { status: 204 };
    }
    // A delete racing a running create would leave that create pending forever.
    refuseWhileBusy(hc, key);
    existing.resource.properties = {
      ...asObject(existing.resource.properties),
      provisioningState: "Deleting",
    };
    store.put(COLLECTIONS.computes, key, existing);
    const op = operations.start({
      request: { method: hc.ctx.method, path: hc.ctx.path },
      apiVersion: hc.apiVersion,
      effect: { type: "delete", collection: COLLECTIONS.computes, key },
      resource: { collection: COLLECTIONS.computes, key },
      result: { statusCode: 204 },
    });
    return {
      status: 202,
      headers: operations.headers(op, { asyncOperation: true, location: true }),
    };
  });
}

/** 409 while a create, update or delete of this compute is still running. */
function refuseWhileBusy(hc: HandlerContext, key: string): void {
  if (hc.services.operations.pendingFor(COLLECTIONS.computes, key) !== undefined) {
    throw ErrorFactory.conflict(
      `Compute ${hc.params.computeName} has an operation in progress; retry when it completes.`,
      "computeName",
    );
  }
}

function computeKey(hc: HandlerContext): string {
  return storeKey(childId(hc.services.settings.scope, "computes", hc.params.computeName));
}
