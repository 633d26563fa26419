/**
 * Batch endpoints and deployments on the ARM control plane (contract sections 3, 4.8, 4.9, 6.3,
 * 7.2):
 * - PUT: 201 (create) or 200 (update) + `Azure-AsyncOperation` + `Retry-After`, provisioningState
 *   Creating/Updating in the body and the operation URL echoed at
 *   `properties.properties.AzureAsyncOperationUri`; the final state is read from the resource.
 * - PATCH (tags/identity of an endpoint; tags/description of a deployment) and DELETE: 202 +
 *   `Location` + `Retry-After`; the Location URL answers 202 until done, then the resource (PATCH)
 *   or 204 (DELETE).
 * - What Azure refuses to change in place is refused: an endpoint's location and its properties
 *   (add-only); a deployment's location, codeConfiguration and resources (create-only).
 * - Deployments need their endpoint, model, code, environment and compute to exist; a custom model
 *   needs a scoring script and an environment (an MLflow model does not).
 * - `defaults.deploymentName` must name an existing deployment of the endpoint; the first
 *   deployment of an endpoint without a default becomes its default; deleting the default
 *   deployment clears it; deleting an endpoint deletes its deployments.
 * Every choice where Azure's behaviour is unconfirmed is listed in emulator/DIFFERENCES.md.
 */
import { createHash } from "node:crypto";
import { ErrorFactory, EmulatorError } from "../errors";
import {
  asObject,
  jsonEqual,
  nowIso,
  paginate,
  positiveIntQuery,
  systemData,
  type Json,
  type StoredResource,
} from "../handlers/common";
import { findQuery } from "../middleware/apiVersion";
import type { OperationRecord } from "../operations";
import type { HandlerContext, HandlerResult, Router } from "../router";
import { childId, storeKey } from "../state/ids";
import { COLLECTIONS } from "../state/seed";

export const BATCH_COLLECTIONS = {
  endpoints: "batchEndpoints",
  deployments: "batchDeployments",
} as const;

const ENDPOINT_TYPE = "Microsoft.MachineLearningServices/workspaces/batchEndpoints";
const DEPLOYMENT_TYPE = `${ENDPOINT_TYPE}/deployments`;

/** Server-filled defaults of a deployment's properties (the 2024-04-01 schema's `default`s). */
export const DEPLOYMENT_DEFAULTS: Json = {
  miniBatchSize: 10,
  maxConcurrencyPerInstance: 1,
  errorThreshold: -1,
  outputAction: "AppendRow",
  outputFileName: "predictions.csv",
  loggingLevel: "Info",
};

/**
 * The emulator's scoring URI of an endpoint: a path of the emulator's own HTTPS listener, where a
 * data plane can serve `POST .../jobs` (Azure: `https://<name>.<region>.inference.ml.azure.com/jobs`).
 */
export function scoringUri(publicUrl: string, location: string, endpointName: string): string {
  return `${publicUrl}/inference/${location}/${encodeURIComponent(endpointName)}/jobs`;
}

/** The emulator's Swagger URI of an endpoint, next to its scoring URI. */
export function swaggerUri(publicUrl: string, location: string, endpointName: string): string {
  return `${publicUrl}/inference/${location}/${encodeURIComponent(endpointName)}/swagger.json`;
}

export function registerBatchHandlers(router: Router): void {
  router.register("BatchEndpoints_List", (hc) => {
    const { store, operations } = hc.services;
    for (const { key } of store.list(BATCH_COLLECTIONS.endpoints)) {
      operations.observeResource(BATCH_COLLECTIONS.endpoints, key);
    }
    const items = store
      .list<StoredResource>(BATCH_COLLECTIONS.endpoints)
      .map((e) => e.value)
      .sort((a, b) => b.createdSeq - a.createdSeq)
      .map((r) => r.resource);
    return { status: 200, body: paginate(hc, items, positiveIntQuery(hc, "count")) };
  });

  router.register("BatchEndpoints_Get", (hc) => {
    const key = endpointKey(hc);
    hc.services.operations.observeResource(BATCH_COLLECTIONS.endpoints, key);
    return { status: 200, body: requireEndpoint(hc).resource };
  });

  router.register("BatchEndpoints_CreateOrUpdate", (hc) => putEndpoint(hc));
  router.register("BatchEndpoints_Update", (hc) => patchEndpoint(hc));
  router.register("BatchEndpoints_Delete", (hc) => deleteEndpoint(hc));

  router.register("BatchEndpoints_ListKeys", (hc) => {
    const endpoint = requireEndpoint(hc);
    const authMode = String(asObject(endpoint.resource.properties).authMode ?? "");
    if (authMode.toLowerCase() !== "key") {
      // Entra-token endpoints have no keys (batch endpoints support only token auth).
      return { status: 200, body: { primaryKey: null, secondaryKey: null } };
    }
    const seed = endpoint.resource.id.toLowerCase();
    return {
      status: 200,
      body: {
        primaryKey: derivedKey(seed, "primary"),
        secondaryKey: derivedKey(seed, "secondary"),
      },
    };
  });

  router.register("BatchDeployments_List", (hc) => {
    const { store, operations } = hc.services;
    requireEndpoint(hc);
    const prefix = `${endpointKey(hc)}/deployments/`;
    for (const { key } of store.list(BATCH_COLLECTIONS.deployments, prefix)) {
      operations.observeResource(BATCH_COLLECTIONS.deployments, key);
    }
    const records = store
      .list<StoredResource>(BATCH_COLLECTIONS.deployments, prefix)
      .map((e) => e.value);
    const ordered = orderDeployments(records, findQuery(hc.query, "$orderBy"));
    return {
      status: 200,
      body: paginate(
        hc,
        ordered.map((r) => r.resource),
        positiveIntQuery(hc, "$top"),
      ),
    };
  });

  router.register("BatchDeployments_Get", (hc) => {
    requireEndpoint(hc);
    const key = deploymentKey(hc);
    hc.services.operations.observeResource(BATCH_COLLECTIONS.deployments, key);
    return { status: 200, body: requireDeployment(hc).resource };
  });

  router.register("BatchDeployments_CreateOrUpdate", (hc) => putDeployment(hc));
  router.register("BatchDeployments_Update", (hc) => patchDeployment(hc));
  router.register("BatchDeployments_Delete", (hc) => deleteDeployment(hc));
}

// --- endpoints ------------------------------------------------------------------------------

function putEndpoint(hc: HandlerContext): HandlerResult {
  const { store, operations, settings } = hc.services;
  const name = hc.params.endpointName;
  const key = endpointKey(hc);
  const existing = store.get<StoredResource>(BATCH_COLLECTIONS.endpoints, key);
  if (existing !== undefined && provisioningState(existing) === "Deleting") {
    throw nameInUse(name, settings.location, "is being deleted");
  }
  refuseWhileBusy(hc, BATCH_COLLECTIONS.endpoints, key, `Batch endpoint ${name}`);
  const body = asObject(hc.body);
  const given = asObject(body.properties);
  const location = String(body.location);
  const previous = asObject(existing?.resource.properties);
  if (existing !== undefined) {
    refuseLocationChange(existing, location);
    refusePropertyRemoval(asObject(previous.properties), asObject(given.properties));
  }
  const defaults = asObject(given.defaults);
  const defaultName = defaults.deploymentName;
  if (typeof defaultName === "string" && defaultName !== "") {
    const deployment = store.get<StoredResource>(
      BATCH_COLLECTIONS.deployments,
      `${key}/deployments/${defaultName.toLowerCase()}`,
    );
    if (deployment === undefined) {
      throw new EmulatorError(
        400,
        "UserError",
        `Deployment '${defaultName}' does not exist in batch endpoint '${name}'; ` +
          "defaults.deploymentName must name one of its deployments.",
        { target: "properties.defaults.deploymentName", innerErrorCode: "BadArgument" },
      );
    }
  }
  const now = nowIso(hc);
  const id = childId(settings.scope, "batchEndpoints", name);
  const resource: StoredResource["resource"] = {
    id,
    name,
    type: ENDPOINT_TYPE,
    location,
    tags: asObject(body.tags),
    systemData: systemData(now, existing?.resource.systemData as Json | undefined),
    properties: {
      authMode: given.authMode,
      description: given.description ?? null,
      properties: { ...asObject(given.properties) },
      keys: null,
      defaults:
        typeof defaultName === "string" && defaultName !== ""
          ? { deploymentName: defaultName }
          : {},
      scoringUri: scoringUri(settings.publicUrl, location, name),
      swaggerUri: swaggerUri(settings.publicUrl, location, name),
      provisioningState: existing === undefined ? "Creating" : "Updating",
    },
  };
  for (const optional of ["identity", "kind", "sku"] as const) {
    if (body[optional] !== undefined && body[optional] !== null) {
      resource[optional] = withIdentityIds(optional, body[optional], id);
    }
  }
  store.put(BATCH_COLLECTIONS.endpoints, key, {
    resource,
    createdSeq: existing?.createdSeq ?? hc.services.nextSequence(),
  });
  const op = startPutOperation(hc, BATCH_COLLECTIONS.endpoints, key);
  return {
    status: existing === undefined ? 201 : 200,
    body: echoOperation(resource, operations.statusUrl(op)),
    headers: operations.headers(op, { asyncOperation: true }),
  };
}

function patchEndpoint(hc: HandlerContext): HandlerResult {
  const key = endpointKey(hc);
  const existing = requireEndpoint(hc);
  refuseWhileBusy(hc, BATCH_COLLECTIONS.endpoints, key, `Batch endpoint ${hc.params.endpointName}`);
  const body = asObject(hc.body);
  if (body.tags !== undefined && body.tags !== null) {
    existing.resource.tags = asObject(body.tags);
  }
  if (body.identity !== undefined && body.identity !== null) {
    existing.resource.identity = withIdentityIds("identity", body.identity, existing.resource.id);
  }
  return startPatch(hc, BATCH_COLLECTIONS.endpoints, key, existing);
}

function deleteEndpoint(hc: HandlerContext): HandlerResult {
  const { store, operations } = hc.services;
  const key = endpointKey(hc);
  const existing = store.get<StoredResource>(BATCH_COLLECTIONS.endpoints, key);
  if (existing === undefined) {
    return { status: 204 };
  }
  refuseWhileBusy(hc, BATCH_COLLECTIONS.endpoints, key, `Batch endpoint ${hc.params.endpointName}`);
  setProvisioningState(hc, BATCH_COLLECTIONS.endpoints, key, existing, "Deleting");
  // The endpoint's deployments go with it (Azure deletes them as part of the endpoint's delete).
  for (const { key: child, value } of store.list<StoredResource>(
    BATCH_COLLECTIONS.deployments,
    `${key}/deployments/`,
  )) {
    setProvisioningState(hc, BATCH_COLLECTIONS.deployments, child, value, "Deleting");
  }
  const op = operations.start({
    request: { method: hc.ctx.method, path: hc.ctx.path },
    apiVersion: hc.apiVersion,
    effect: {
      type: "delete",
      collection: BATCH_COLLECTIONS.endpoints,
      key,
      cascade: [{ collection: BATCH_COLLECTIONS.deployments, keyPrefix: `${key}/deployments/` }],
    },
    resource: { collection: BATCH_COLLECTIONS.endpoints, key },
    result: { statusCode: 204 },
  });
  return { status: 202, headers: operations.headers(op, { location: true }) };
}

// --- deployments ----------------------------------------------------------------------------

function putDeployment(hc: HandlerContext): HandlerResult {
  const { store, operations, settings } = hc.services;
  const { endpointName, deploymentName } = hc.params;
  const endpoint = requireEndpoint(hc);
  const endpointState = provisioningState(endpoint);
  if (endpointState !== "Succeeded") {
    throw ErrorFactory.conflict(
      `Batch endpoint ${endpointName} is ${endpointState}; deployments can be created or updated ` +
        "only while it is Succeeded.",
      "endpointName",
    );
  }
  const key = deploymentKey(hc);
  refuseWhileBusy(hc, BATCH_COLLECTIONS.deployments, key, `Batch deployment ${deploymentName}`);
  const existing = store.get<StoredResource>(BATCH_COLLECTIONS.deployments, key);
  const body = asObject(hc.body);
  const given = stripNulls(asObject(body.properties));
  const location = String(body.location);
  const properties: Json = {
    ...DEPLOYMENT_DEFAULTS,
    ...given,
    retrySettings: { maxRetries: 3, timeout: "PT30S", ...asObject(given.retrySettings) },
    resources: { instanceCount: 1, properties: {}, ...asObject(given.resources) },
    properties: asObject(given.properties),
    environmentVariables: asObject(given.environmentVariables),
    description: given.description ?? null,
  };
  if (existing !== undefined) {
    refuseLocationChange(existing, location);
    const previous = asObject(existing.resource.properties);
    for (const field of ["codeConfiguration", "resources"]) {
      if (!jsonEqual(previous[field] ?? null, properties[field] ?? null)) {
        throw new EmulatorError(
          400,
          "UserError",
          `Batch deployment ${deploymentName}: ${field} cannot be changed on an existing deployment. ` +
            "Create a new deployment instead.",
          { target: `properties.${field}`, innerErrorCode: "BadArgument" },
        );
      }
    }
  }
  checkReferences(hc, properties);
  const now = nowIso(hc);
  const id = childId(
    settings.scope,
    "batchEndpoints",
    endpoint.resource.name,
    "deployments",
    deploymentName,
  );
  const resource: StoredResource["resource"] = {
    id,
    name: deploymentName,
    type: DEPLOYMENT_TYPE,
    location,
    tags: asObject(body.tags),
    systemData: systemData(now, existing?.resource.systemData as Json | undefined),
    properties: {
      ...properties,
      provisioningState: existing === undefined ? "Creating" : "Updating",
    },
  };
  for (const optional of ["identity", "kind", "sku"] as const) {
    if (body[optional] !== undefined && body[optional] !== null) {
      resource[optional] = withIdentityIds(optional, body[optional], id);
    }
  }
  store.put(BATCH_COLLECTIONS.deployments, key, {
    resource,
    createdSeq: existing?.createdSeq ?? hc.services.nextSequence(),
  });
  // The first deployment of an endpoint without a default becomes its default.
  const endpointProps = asObject(endpoint.resource.properties);
  if (typeof asObject(endpointProps.defaults).deploymentName !== "string") {
    endpoint.resource.properties = { ...endpointProps, defaults: { deploymentName } };
    store.put(BATCH_COLLECTIONS.endpoints, endpointKey(hc), endpoint);
  }
  const op = startPutOperation(hc, BATCH_COLLECTIONS.deployments, key);
  return {
    status: existing === undefined ? 201 : 200,
    body: echoOperation(resource, operations.statusUrl(op)),
    headers: operations.headers(op, { asyncOperation: true }),
  };
}

function patchDeployment(hc: HandlerContext): HandlerResult {
  requireEndpoint(hc);
  const key = deploymentKey(hc);
  const existing = requireDeployment(hc);
  refuseWhileBusy(
    hc,
    BATCH_COLLECTIONS.deployments,
    key,
    `Batch deployment ${hc.params.deploymentName}`,
  );
  const body = asObject(hc.body);
  if (body.tags !== undefined && body.tags !== null) {
    existing.resource.tags = asObject(body.tags);
  }
  const given = asObject(body.properties);
  if (given.description !== undefined) {
    existing.resource.properties = {
      ...asObject(existing.resource.properties),
      description: given.description,
    };
  }
  return startPatch(hc, BATCH_COLLECTIONS.deployments, key, existing);
}

function deleteDeployment(hc: HandlerContext): HandlerResult {
  const { store, operations } = hc.services;
  const key = deploymentKey(hc);
  const existing = store.get<StoredResource>(BATCH_COLLECTIONS.deployments, key);
  if (existing === undefined) {
    return { status: 204 };
  }
  refuseWhileBusy(
    hc,
    BATCH_COLLECTIONS.deployments,
    key,
    `Batch deployment ${hc.params.deploymentName}`,
  );
  setProvisioningState(hc, BATCH_COLLECTIONS.deployments, key, existing, "Deleting");
  // An endpoint whose default deployment is deleted has no default any more.
  const endpoint = store.get<StoredResource>(BATCH_COLLECTIONS.endpoints, endpointKey(hc));
  const endpointProps = asObject(endpoint?.resource.properties);
  const defaultName = asObject(endpointProps.defaults).deploymentName;
  if (
    endpoint !== undefined &&
    typeof defaultName === "string" &&
    defaultName.toLowerCase() === hc.params.deploymentName.toLowerCase()
  ) {
    endpoint.resource.properties = { ...endpointProps, defaults: {} };
    store.put(BATCH_COLLECTIONS.endpoints, endpointKey(hc), endpoint);
  }
  const op = operations.start({
    request: { method: hc.ctx.method, path: hc.ctx.path },
    apiVersion: hc.apiVersion,
    effect: { type: "delete", collection: BATCH_COLLECTIONS.deployments, key },
    resource: { collection: BATCH_COLLECTIONS.deployments, key },
    result: { statusCode: 204 },
  });
  return { status: 202, headers: operations.headers(op, { location: true }) };
}

/** The deployment's model, code, environment and compute must exist in the workspace. */
function checkReferences(hc: HandlerContext, properties: Json): void {
  const { store, settings } = hc.services;
  const model = asObject(properties.model);
  let modelType: string | undefined;
  if (String(model.referenceType ?? "").toLowerCase() === "id") {
    const record = findInWorkspace(hc, "assetVersions:models", String(model.assetId));
    if (record === undefined) {
      throw missingReference("model.assetId", `Model version ${String(model.assetId)}`);
    }
    modelType = String(asObject(record.resource.properties).modelType ?? "custom_model");
  }
  const code = asObject(properties.codeConfiguration);
  if (
    typeof code.codeId === "string" &&
    findInWorkspace(hc, "assetVersions:codes", code.codeId) === undefined
  ) {
    throw missingReference("codeConfiguration.codeId", `Code version ${code.codeId}`);
  }
  if (
    typeof properties.environmentId === "string" &&
    findInWorkspace(hc, "assetVersions:environments", properties.environmentId) === undefined
  ) {
    throw missingReference("environmentId", `Environment version ${properties.environmentId}`);
  }
  if (typeof properties.compute === "string") {
    const computeKey = properties.compute.startsWith("/")
      ? storeKey(properties.compute)
      : storeKey(childId(settings.scope, "computes", properties.compute));
    if (store.get(COLLECTIONS.computes, computeKey) === undefined) {
      throw missingReference("compute", `Compute ${properties.compute}`);
    }
  }
  const mlflow = modelType?.toLowerCase() === "mlflow_model";
  const pipeline =
    String(asObject(properties.deploymentConfiguration).deploymentConfigurationType ?? "") ===
    "PipelineComponent";
  if (!mlflow && !pipeline) {
    const missing = [
      properties.codeConfiguration === undefined ? "codeConfiguration" : undefined,
      properties.environmentId === undefined ? "environmentId" : undefined,
    ].filter((f): f is string => f !== undefined);
    if (missing.length > 0) {
      throw new EmulatorError(
        400,
        "UserError",
        `A batch deployment of a model that is not an MLflow model needs a scoring script and an environment ` +
          `(missing: ${missing.join(", ")}).`,
        { target: `properties.${missing[0]}`, innerErrorCode: "BadArgument" },
      );
    }
  }
  if (properties.codeConfiguration !== undefined && properties.environmentId === undefined) {
    throw new EmulatorError(
      400,
      "UserError",
      "A batch deployment with a scoring script needs an environment (properties.environmentId).",
      { target: "properties.environmentId", innerErrorCode: "BadArgument" },
    );
  }
}

/** A stored record by ARM id, only when the id lies in the emulated workspace. */
function findInWorkspace(
  hc: HandlerContext,
  collection: string,
  armId: string,
): StoredResource | undefined {
  const workspace = storeKey(childId(hc.services.settings.scope));
  const key = storeKey(armId);
  if (!key.startsWith(`${workspace}/`)) {
    return undefined;
  }
  return hc.services.store.get<StoredResource>(collection, key);
}

function missingReference(field: string, what: string): EmulatorError {
  return new EmulatorError(
    400,
    "UserError",
    `${what} was not found in the workspace; a batch deployment can only use existing assets and computes.`,
    { target: `properties.${field}`, innerErrorCode: "NotFound" },
  );
}

// --- shared ---------------------------------------------------------------------------------

function endpointKey(hc: HandlerContext): string {
  return storeKey(childId(hc.services.settings.scope, "batchEndpoints", hc.params.endpointName));
}

function deploymentKey(hc: HandlerContext): string {
  return `${endpointKey(hc)}/deployments/${hc.params.deploymentName.toLowerCase()}`;
}

function requireEndpoint(hc: HandlerContext): StoredResource {
  const record = hc.services.store.get<StoredResource>(
    BATCH_COLLECTIONS.endpoints,
    endpointKey(hc),
  );
  if (record === undefined) {
    throw ErrorFactory.mlNotFound(`batch endpoint ${hc.params.endpointName}`);
  }
  return record;
}

function requireDeployment(hc: HandlerContext): StoredResource {
  const record = hc.services.store.get<StoredResource>(
    BATCH_COLLECTIONS.deployments,
    deploymentKey(hc),
  );
  if (record === undefined) {
    throw ErrorFactory.mlNotFound(
      `batch deployment ${hc.params.deploymentName} of endpoint ${hc.params.endpointName}`,
    );
  }
  return record;
}

function provisioningState(record: StoredResource): string {
  return String(asObject(record.resource.properties).provisioningState ?? "Succeeded");
}

function setProvisioningState(
  hc: HandlerContext,
  collection: string,
  key: string,
  record: StoredResource,
  state: string,
): void {
  record.resource.properties = {
    ...asObject(record.resource.properties),
    provisioningState: state,
  };
  hc.services.store.put(collection, key, record);
}

/** 409 while a create, update or delete of the same endpoint or deployment still runs. */
function refuseWhileBusy(hc: HandlerContext, collection: string, key: string, what: string): void {
  if (hc.services.operations.pendingFor(collection, key) !== undefined) {
    throw ErrorFactory.conflict(
      `${what} has an operation in progress; retry when it completes.`,
      collection === BATCH_COLLECTIONS.endpoints ? "endpointName" : "deploymentName",
    );
  }
}

function nameInUse(name: string, location: string, why: string): EmulatorError {
  return new EmulatorError(
    409,
    "UserError",
    `A batch endpoint named '${name}' already exists in region '${location}' (it ${why}). ` +
      "Batch endpoint names must be unique per region; choose another name.",
    { target: "endpointName", innerErrorCode: "Conflict" },
  );
}

function refuseLocationChange(existing: StoredResource, location: string): void {
  const current = String(existing.resource.location ?? "");
  if (current.toLowerCase() !== location.toLowerCase()) {
    throw new EmulatorError(
      400,
      "UserError",
      `The location of ${existing.resource.name} is '${current}' and cannot be changed to '${location}'.`,
      { target: "location", innerErrorCode: "BadArgument" },
    );
  }
}

/** An endpoint's `properties` "can be added, but not removed or altered". */
function refusePropertyRemoval(previous: Json, next: Json): void {
  for (const [name, value] of Object.entries(previous)) {
    if (!Object.hasOwn(next, name) || next[name] !== value) {
      throw new EmulatorError(
        400,
        "UserError",
        `Endpoint property '${name}' cannot be ${Object.hasOwn(next, name) ? "altered" : "removed"}; ` +
          "endpoint properties can only be added.",
        { target: `properties.properties.${name}`, innerErrorCode: "BadArgument" },
      );
    }
  }
}

function startPutOperation(hc: HandlerContext, collection: string, key: string): OperationRecord {
  return hc.services.operations.start({
    request: { method: hc.ctx.method, path: hc.ctx.path },
    apiVersion: hc.apiVersion,
    effect: { type: "provisioningState", collection, key },
    resource: { collection, key },
    result: { statusCode: 200, bodyFromResource: { collection, key } },
  });
}

function startPatch(
  hc: HandlerContext,
  collection: string,
  key: string,
  record: StoredResource,
): HandlerResult {
  record.resource.systemData = systemData(nowIso(hc), asObject(record.resource.systemData));
  setProvisioningState(hc, collection, key, record, "Updating");
  const op = hc.services.operations.start({
    request: { method: hc.ctx.method, path: hc.ctx.path },
    apiVersion: hc.apiVersion,
    effect: { type: "provisioningState", collection, key },
    resource: { collection, key },
    result: { statusCode: 200, bodyFromResource: { collection, key } },
  });
  return { status: 202, headers: hc.services.operations.headers(op, { location: true }) };
}

/** Service quirk (contract 4.9/6.3): the PUT body echoes the operation URL; it is not stored. */
function echoOperation(resource: StoredResource["resource"], url: string): Json {
  const properties = asObject(resource.properties);
  return {
    ...resource,
    properties: {
      ...properties,
      properties: { ...asObject(properties.properties), AzureAsyncOperationUri: url },
    },
  };
}

/** A system-assigned identity gets a principal and tenant id, as ARM fills them in. */
function withIdentityIds(field: string, value: unknown, resourceId: string): unknown {
  if (field !== "identity") {
    return value;
  }
  const identity = asObject(value);
  const type = String(identity.type ?? "None");
  if (!/systemassigned/i.test(type)) {
    return identity;
  }
  return {
    ...identity,
    principalId: stableId("principal", resourceId),
    tenantId: stableId("tenant", "emulator"),
  };
}

function stableId(...parts: string[]): string {
  const hex = createHash("sha1").update(parts.join("\u0000")).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function derivedKey(seed: string, which: string): string {
  return createHash("sha256").update(`${seed}\u0000${which}`).digest("base64");
}

function stripNulls(value: Json): Json {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined));
}

/** `$orderBy` of deployments: `createdAt` (default, newest first) or `name`, `asc`/`desc`. */
function orderDeployments(
  records: StoredResource[],
  orderBy: string | undefined,
): StoredResource[] {
  const match = /^\s*(createdat|createdtime|name)(?:\s+(asc|desc))?\s*$/i.exec(
    orderBy ?? "createdAt desc",
  );
  if (match === null) {
    throw ErrorFactory.invalidQueryParameterValue(
      "$orderBy",
      orderBy ?? "",
      "expected createdAt or name, optionally followed by asc or desc",
    );
  }
  const byName = match[1].toLowerCase() === "name";
  const direction = (match[2] ?? (byName ? "asc" : "desc")).toLowerCase() === "asc" ? 1 : -1;
  return [...records].sort(
    (a, b) =>
      (byName ? a.resource.name.localeCompare(b.resource.name) : a.createdSeq - b.createdSeq) *
      direction,
  );
}
