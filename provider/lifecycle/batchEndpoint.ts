/**
 * BatchEndpoint lifecycle (contract 4.8, 7.2). Loaded by the provider host through
 * `await import("pulumi-azureml/provider/lifecycle/batchEndpoint")`.
 *
 * Field by field:
 * - workspace and name: the endpoint's identity; a change replaces it (deleted first: the name is
 *   the caller's and unique per region).
 * - `properties`: Azure only adds them, so removing or altering one replaces; adding one is a PUT.
 * - `authMode`, `description`: a PUT (which re-sends the live default deployment, owned by
 *   BatchEndpointDefaultDeployment, so this resource never changes it).
 * - `tags`, `identity`: a PATCH.
 * - `defaults`: never compared; it is the BatchEndpointDefaultDeployment's.
 * - `providerVersion`: an update with no request.
 * Create, update and delete are long-running operations on provider/core/lro.ts.
 */
import { isAzureMlRestError } from "../core/errors";
import { batchEndpointId, workspaceId } from "../core/ids";
import { beginLongRunning } from "../core/lro";
import { resolveSettings, type AzureMlSettings } from "../core/settings";
import {
  AUTH_MODES,
  BATCH_OPERATION,
  IDENTITY_TYPES,
  batchEndpointBody,
  batchEndpointPatchBody,
  batchEndpointPath,
  type BatchEndpointResource,
  type IdentityType,
} from "../operations/batch";
import type { BatchEndpointInputs, BatchEndpointOutputs } from "../resources/batchEndpoint";
import {
  checkChoice,
  checkOwnerProperty,
  endpointNameFailure,
  isOwnedBy,
  runLro,
  createOrUndo,
  withOwner,
  type Config,
} from "./batchCommon";
import { reportProgress } from "./progress";
import {
  Failures,
  checkStringMap,
  checkWorkspace,
  fieldChanged,
  isFullyKnown,
  isKnown,
  openSession,
  resolveScope,
  withoutProvider,
  type Session,
} from "./shared";
import type * as pulumi from "@pulumi/pulumi";

const WORKSPACE_FIELDS = ["workspaceId", "subscriptionId", "resourceGroupName", "workspaceName"];
/** Fields a PUT changes in place. */
export const ENDPOINT_PUT_FIELDS = ["authMode", "description", "properties"] as const;
/** Fields a PATCH changes in place. */
export const ENDPOINT_PATCH_FIELDS = ["tags", "identity"] as const;

export async function check(
  _olds: BatchEndpointInputs,
  news: BatchEndpointInputs,
  config?: Config,
): Promise<pulumi.dynamic.CheckResult<BatchEndpointInputs>> {
  const failures = new Failures();
  const inputs = withoutProvider(news);
  checkWorkspace(inputs, failures, config);
  const nameFailure = endpointNameFailure("name", "batch endpoint", inputs.name);
  if (nameFailure) {
    failures.add("name", nameFailure);
  }
  inputs.authMode = checkChoice(inputs.authMode ?? "AADToken", "authMode", AUTH_MODES, failures);
  if (inputs.description !== undefined && isKnown(inputs.description)) {
    if (typeof inputs.description !== "string") {
      failures.add("description", "[description] must be a string.");
    }
  }
  checkStringMap(inputs.tags, "tags", failures);
  checkStringMap(inputs.properties, "properties", failures);
  checkOwnerProperty(inputs.properties, failures);
  checkIdentity(inputs.identity, failures);
  return { inputs, failures: failures.list };
}

/** Checks an identity input: a known type, and user-assigned ids exactly when the type needs them. */
export function checkIdentity(identity: BatchEndpointInputs["identity"], failures: Failures): void {
  if (identity === undefined || !isKnown(identity)) {
    return;
  }
  const type = checkChoice(identity.type, "identity.type", IDENTITY_TYPES, failures);
  if (type !== undefined) {
    identity.type = type as IdentityType;
  }
  const ids = identity.userAssignedIdentityIds;
  if (
    ids !== undefined &&
    isKnown(ids) &&
    (!Array.isArray(ids) || ids.some((id) => typeof id !== "string"))
  ) {
    failures.add(
      "identity.userAssignedIdentityIds",
      "[identity.userAssignedIdentityIds] must be a list of ARM ids.",
    );
    return;
  }
  const needsIds = typeof type === "string" && isKnown(type) && type.includes("UserAssigned");
  const hasIds = Array.isArray(ids) && ids.length > 0;
  if (needsIds && ids !== undefined && !isKnown(ids)) {
    return;
  }
  if (needsIds && !hasIds) {
    failures.add(
      "identity.userAssignedIdentityIds",
      `[identity.userAssignedIdentityIds] is required with identity type ${type}.`,
    );
  } else if (!needsIds && hasIds) {
    failures.add(
      "identity.userAssignedIdentityIds",
      `[identity.userAssignedIdentityIds] is only allowed with a UserAssigned identity type, not ${String(type)}.`,
    );
  }
}

/** The lower-cased ARM id the inputs designate, or undefined while a part is unknown. */
export function designatedEndpointId(
  inputs: BatchEndpointInputs,
  settings: AzureMlSettings | undefined,
): string | undefined {
  const parts = [...WORKSPACE_FIELDS, "name"].map(
    (key) => (inputs as unknown as Record<string, unknown>)[key],
  );
  if (!parts.every(isFullyKnown) || settings === undefined) {
    return undefined;
  }
  try {
    return batchEndpointId(resolveScope(inputs, settings), inputs.name).toLowerCase();
  } catch {
    return undefined;
  }
}

/** How a change of inputs reaches Azure. */
export interface EndpointChanges {
  replaces: string[];
  put: string[];
  patch: string[];
  other: string[];
}

/** Classifies every changed input (pure; the diff's whole logic). */
export function classifyEndpointChanges(
  olds: BatchEndpointOutputs,
  news: BatchEndpointInputs,
  settings: AzureMlSettings | undefined,
): EndpointChanges {
  const o = olds as unknown as Record<string, unknown>;
  const n = { authMode: "AADToken", ...news } as unknown as Record<string, unknown>;
  const oldId = designatedEndpointId(olds, settings);
  const newId = designatedEndpointId(news, settings);
  const identityChanges = [...WORKSPACE_FIELDS, "name"].filter((k) => fieldChanged(o, n, k));
  const replaces =
    oldId !== undefined && oldId === newId
      ? []
      : identityChanges.length > 0
        ? identityChanges
        : oldId !== newId
          ? ["name"]
          : [];
  const put: string[] = [];
  for (const key of ENDPOINT_PUT_FIELDS) {
    if (!fieldChanged(o, n, key)) {
      continue;
    }
    if (key === "properties" && propertiesRemovedOrAltered(olds.properties, news.properties)) {
      replaces.push("properties");
    } else {
      put.push(key);
    }
  }
  const patch = ENDPOINT_PATCH_FIELDS.filter((k) => fieldChanged(o, n, k));
  const other = ["providerVersion"].filter((k) => fieldChanged(o, n, k));
  // A name whose casing alone changed is the same endpoint: a PUT takes the new casing.
  if (replaces.length === 0 && identityChanges.length > 0) {
    put.push(...identityChanges);
  }
  return { replaces, put, patch, other };
}

/** True when a property the endpoint has is missing from, or different in, the new map. */
export function propertiesRemovedOrAltered(
  olds: Record<string, string> | undefined,
  news: Record<string, string> | undefined,
): boolean {
  if (!isFullyKnown(news)) {
    return false; // judged again at update, once known
  }
  return Object.entries(olds ?? {}).some(([key, value]) => (news ?? {})[key] !== value);
}

export async function diff(
  _id: string,
  olds: BatchEndpointOutputs,
  news: BatchEndpointInputs,
  config?: Config,
): Promise<pulumi.dynamic.DiffResult> {
  const settings = settingsOrUndefined(config);
  const changes = classifyEndpointChanges(olds, news, settings);
  if (changes.replaces.length > 0) {
    // The same name (unique per region) must be freed first; another name or workspace need not.
    const newId = designatedEndpointId(news, settings);
    const sameEndpoint = newId === undefined || newId === designatedEndpointId(olds, settings);
    await reportProgress(
      `BatchEndpoint ${olds.name}: ${changes.replaces.join(", ")} changed, which Azure ML cannot change on an existing endpoint; ` +
        (sameEndpoint
          ? "it is deleted and created again (its deployments go with it)."
          : "a new endpoint is created and the old one deleted."),
    );
    return { changes: true, replaces: changes.replaces, deleteBeforeReplace: sameEndpoint };
  }
  const changed = [...changes.put, ...changes.patch, ...changes.other];
  if (changes.put.length + changes.patch.length > 0) {
    await reportProgress(`BatchEndpoint ${olds.name}: ${describeChanges(changes)}.`);
  }
  return { changes: changed.length > 0, replaces: [] };
}

/** "authMode, description: updated in place (PUT); tags: updated in place (PATCH)". */
export function describeChanges(changes: {
  replaces: readonly string[];
  put: readonly string[];
  patch: readonly string[];
}): string {
  const parts: string[] = [];
  if (changes.replaces.length > 0) {
    parts.push(`${changes.replaces.join(", ")}: replace`);
  }
  if (changes.put.length > 0) {
    parts.push(`${changes.put.join(", ")}: updated in place (PUT)`);
  }
  if (changes.patch.length > 0) {
    parts.push(`${changes.patch.join(", ")}: updated in place (PATCH)`);
  }
  return parts.join("; ");
}

function settingsOrUndefined(config: Config): AzureMlSettings | undefined {
  try {
    return resolveSettings(config);
  } catch {
    return undefined;
  }
}

/** The endpoint's region: the workspace's. */
async function workspaceLocation(session: Session): Promise<string> {
  const workspace = await session.client.get<{ location: string }>(
    workspaceId(session.scope),
    BATCH_OPERATION.workspaceGet,
  );
  return workspace.location;
}

function outputsOf(inputs: BatchEndpointInputs, live: BatchEndpointResource): BatchEndpointOutputs {
  const outs: BatchEndpointOutputs = {
    ...inputs,
    authMode: inputs.authMode ?? "AADToken",
    endpointId: live.id,
    location: live.location,
    scoringUri: live.properties.scoringUri ?? "",
    swaggerUri: live.properties.swaggerUri ?? "",
    provisioningState: live.properties.provisioningState ?? "Succeeded",
  };
  const defaultName = live.properties.defaults?.deploymentName;
  if (typeof defaultName === "string" && defaultName !== "") {
    outs.defaultDeploymentName = defaultName;
  }
  if (live.identity?.principalId) {
    outs.principalId = live.identity.principalId;
  }
  return outs;
}

export async function create(
  news: BatchEndpointInputs,
  config?: Config,
): Promise<pulumi.dynamic.CreateResult<BatchEndpointOutputs>> {
  const inputs = withoutProvider(news);
  const session = openSession(inputs, config);
  const path = batchEndpointPath(session.scope, inputs.name);
  const what = `BatchEndpoint ${inputs.name}`;
  const existing = await session.client.getOrUndefined<BatchEndpointResource>(
    path,
    BATCH_OPERATION.endpointGet,
  );
  if (existing !== undefined) {
    if (!isOwnedBy(existing, inputs.ownerKey)) {
      throw new Error(
        `${what} already exists in workspace ${session.scope.workspaceName}, and this stack did not create it. ` +
          "Batch endpoint names are unique per Azure region: choose another [name] (import is not supported).",
      );
    }
    // An earlier up of this resource sent the create and ended before it could record it: the
    // PUT below finishes it (waiting first for an operation still running on it).
    await reportProgress(
      `${what}: created by this stack in an earlier \`up\` that did not finish (${existing.properties.provisioningState ?? "no state"}); taking it over.`,
    );
  }
  const location = existing?.location ?? (await workspaceLocation(session));
  const body = batchEndpointBody({
    location,
    authMode: inputs.authMode ?? "AADToken",
    description: inputs.description,
    tags: inputs.tags,
    properties: withOwner(inputs.properties, inputs.ownerKey),
    identity: inputs.identity,
    defaultDeploymentName: existing?.properties.defaults?.deploymentName ?? undefined,
  });
  const live = await createOrUndo<BatchEndpointResource>(
    session.client,
    async () => {
      try {
        return await beginPut(session, path, body);
      } catch (error) {
        throw explainConflict(error, inputs.name);
      }
    },
    { path, operation: BATCH_OPERATION.endpointDelete, what },
  );
  await reportProgress(`${what}: created; scoring URI ${live.properties.scoringUri ?? "(none)"}.`);
  const outs = outputsOf(inputs, live);
  return { id: live.id, outs };
}

async function beginPut(session: Session, path: string, body: unknown) {
  return beginLongRunning<BatchEndpointResource>(session.client, {
    method: "PUT",
    path,
    body,
    operation: BATCH_OPERATION.endpointPut,
  });
}

/** A 409 on the PUT: the name is taken in the region (by another workspace or subscription). */
function explainConflict(error: unknown, name: string): unknown {
  if (isAzureMlRestError(error) && error.statusCode === 409) {
    return new Error(
      `Batch endpoint name "${name}" is not available: ${error.message} ` +
        "Batch endpoint names are unique per Azure region, across workspaces; choose another [name].",
      { cause: error },
    );
  }
  return error;
}

export async function read(
  id: string,
  props: BatchEndpointOutputs,
  config?: Config,
): Promise<pulumi.dynamic.ReadResult<BatchEndpointOutputs>> {
  const current = withoutProvider(props);
  const session = openSession(current, config);
  const live = await session.client.getOrUndefined<BatchEndpointResource>(
    batchEndpointPath(session.scope, current.name),
    BATCH_OPERATION.endpointGet,
  );
  if (live === undefined) {
    return {};
  }
  const refreshed = outputsOf(current, live);
  refreshed.authMode = (AUTH_MODES.find(
    (m) => m.toLowerCase() === String(live.properties.authMode).toLowerCase(),
  ) ?? refreshed.authMode) as BatchEndpointOutputs["authMode"];
  assignOrDrop(refreshed, "description", live.properties.description);
  assignOrDrop(refreshed, "tags", nonEmpty(live.tags ?? undefined));
  if (
    live.properties.defaults?.deploymentName === undefined ||
    live.properties.defaults.deploymentName === null
  ) {
    delete refreshed.defaultDeploymentName;
  }
  return { id, props: refreshed };
}

export async function update(
  _id: string,
  olds: BatchEndpointOutputs,
  news: BatchEndpointInputs,
  config?: Config,
): Promise<pulumi.dynamic.UpdateResult<BatchEndpointOutputs>> {
  const inputs = withoutProvider(news);
  const session = openSession(inputs, config);
  const path = batchEndpointPath(session.scope, inputs.name);
  const what = `BatchEndpoint ${inputs.name}`;
  const changes = classifyEndpointChanges(olds, inputs, session.settings);
  if (changes.replaces.length > 0) {
    // Only reachable when a value unknown at preview turned out to need a replacement.
    throw new Error(
      `${what}: ${changes.replaces.join(", ")} cannot change on an existing endpoint (endpoint properties can only be added). Run \`pulumi up\` again to replace it.`,
    );
  }
  let live: BatchEndpointResource | undefined;
  if (changes.put.length > 0) {
    // Re-send the live default deployment: it belongs to BatchEndpointDefaultDeployment.
    const current = await session.client.get<BatchEndpointResource>(
      path,
      BATCH_OPERATION.endpointGet,
    );
    // Azure ML never removes an endpoint property: the live ones the inputs do not name (the
    // owner key, say) are sent again as they are.
    const body = batchEndpointBody({
      location: current.location,
      authMode: inputs.authMode ?? "AADToken",
      description: inputs.description,
      tags: inputs.tags,
      properties: mergedProperties(current.properties.properties, inputs.properties),
      identity: inputs.identity,
      defaultDeploymentName: current.properties.defaults?.deploymentName ?? undefined,
    });
    live = await runLro<BatchEndpointResource>(
      session.client,
      { method: "PUT", path, body, operation: BATCH_OPERATION.endpointPut },
      what,
    );
  } else if (changes.patch.length > 0) {
    await runLro(
      session.client,
      {
        method: "PATCH",
        path,
        body: batchEndpointPatchBody({ tags: inputs.tags, identity: inputs.identity }),
        operation: BATCH_OPERATION.endpointPatch,
      },
      what,
    );
  }
  live ??= await session.client.get<BatchEndpointResource>(path, BATCH_OPERATION.endpointGet);
  return { outs: outputsOf(inputs, live) };
}

async function remove(_id: string, props: BatchEndpointOutputs, config?: Config): Promise<void> {
  const session = openSession(props, config);
  await runLro(
    session.client,
    {
      method: "DELETE",
      path: batchEndpointPath(session.scope, props.name),
      operation: BATCH_OPERATION.endpointDelete,
    },
    `BatchEndpoint ${props.name}`,
  );
}

export { remove as delete };

/** The live properties with the inputs' over them; undefined when there are none. */
export function mergedProperties(
  live: Record<string, string> | null | undefined,
  inputs: Record<string, string> | undefined,
): Record<string, string> | undefined {
  return nonEmpty({ ...(live ?? {}), ...(inputs ?? {}) });
}

function nonEmpty(map: Record<string, string> | undefined): Record<string, string> | undefined {
  return map && Object.keys(map).length > 0 ? map : undefined;
}

function assignOrDrop<T extends object>(target: T, key: keyof T & string, value: unknown): void {
  if (value === undefined || value === null) {
    delete (target as Record<string, unknown>)[key];
  } else {
    (target as Record<string, unknown>)[key] = value;
  }
}
