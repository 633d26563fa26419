/**
 * ARM resource ids and azureml:// URIs for workspace-scoped resources, plus client-side name rules
 * (contract sections 2.4 and 7.1). Everything here is pure.
 */

const PROVIDER = "Microsoft.MachineLearningServices";

/** The workspace a resource lives in. */
export interface WorkspaceScope {
  subscriptionId: string;
  resourceGroupName: string;
  workspaceName: string;
}

/** Asset kinds as they appear in ARM paths. */
export type AssetKind = "environments" | "data" | "codes" | "models";

/** A parsed ARM resource id. */
export interface ParsedArmId {
  subscriptionId: string;
  resourceGroupName: string;
  /** The resource provider namespace as written in the id, e.g. `Microsoft.MachineLearningServices`. */
  provider: string;
  /** Type/name pairs below the provider, outermost first, e.g. `[{type:"workspaces",name:"ws"}]`. */
  types: { type: string; name: string }[];
}

/** A parsed asset version id. */
export interface ParsedAssetVersionId {
  scope: WorkspaceScope;
  kind: AssetKind;
  name: string;
  version: string;
}

const ASSET_KINDS: readonly AssetKind[] = ["environments", "data", "codes", "models"];

const seg = (value: string) => encodeURIComponent(value);

/** `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}` */
export function workspaceId(scope: WorkspaceScope): string {
  return (
    `/subscriptions/${seg(scope.subscriptionId)}/resourceGroups/${seg(scope.resourceGroupName)}` +
    `/providers/${PROVIDER}/workspaces/${seg(scope.workspaceName)}`
  );
}

/** `{ws}/{kind}/{name}`: an asset container. */
export function assetContainerId(scope: WorkspaceScope, kind: AssetKind, name: string): string {
  return `${workspaceId(scope)}/${kind}/${seg(name)}`;
}

/** `{ws}/{kind}/{name}/versions/{version}`: an asset version. */
export function assetVersionId(
  scope: WorkspaceScope,
  kind: AssetKind,
  name: string,
  version: string,
): string {
  return `${assetContainerId(scope, kind, name)}/versions/${seg(version)}`;
}

/** `{ws}/jobs/{name}` */
export function jobId(scope: WorkspaceScope, name: string): string {
  return `${workspaceId(scope)}/jobs/${seg(name)}`;
}

/** `{ws}/computes/{name}` */
export function computeId(scope: WorkspaceScope, name: string): string {
  return `${workspaceId(scope)}/computes/${seg(name)}`;
}

/** `{ws}/datastores/{name}` */
export function datastoreId(scope: WorkspaceScope, name: string): string {
  return `${workspaceId(scope)}/datastores/${seg(name)}`;
}

/** `{ws}/batchEndpoints/{name}` */
export function batchEndpointId(scope: WorkspaceScope, name: string): string {
  return `${workspaceId(scope)}/batchEndpoints/${seg(name)}`;
}

/** `{ws}/batchEndpoints/{endpoint}/deployments/{name}` */
export function batchDeploymentId(scope: WorkspaceScope, endpoint: string, name: string): string {
  return `${batchEndpointId(scope, endpoint)}/deployments/${seg(name)}`;
}

/**
 * Parses any ARM id of the form
 * `/subscriptions/{s}/resourceGroups/{rg}/providers/{namespace}/{type}/{name}[/{type}/{name}]…`.
 * Segment names are matched case-insensitively, as ARM does. Throws `TypeError` naming the id.
 */
export function parseArmId(id: string): ParsedArmId {
  if (typeof id !== "string") {
    throw new TypeError(`Invalid ARM resource id ${String(id)}: expected a string.`);
  }
  const parts = id.replace(/^\/+|\/+$/g, "").split("/");
  const bad = (why: string) => new TypeError(`Invalid ARM resource id "${id}": ${why}.`);
  if (parts.length < 7 || !id.startsWith("/")) {
    throw bad(
      "expected /subscriptions/{id}/resourceGroups/{name}/providers/{namespace}/{type}/{name}",
    );
  }
  const expectSegment = (index: number, name: string) => {
    if (parts[index]!.toLowerCase() !== name.toLowerCase()) {
      throw bad(`expected "${name}" at segment ${index + 1}, found "${parts[index]}"`);
    }
  };
  expectSegment(0, "subscriptions");
  expectSegment(2, "resourceGroups");
  expectSegment(4, "providers");
  const rest = parts.slice(6);
  if (rest.length % 2 !== 0) {
    throw bad("types and names must come in pairs");
  }
  const decode = (value: string) => {
    if (!value) {
      throw bad("empty segment");
    }
    try {
      return decodeURIComponent(value);
    } catch {
      throw bad(`malformed escape in "${value}"`);
    }
  };
  const types: { type: string; name: string }[] = [];
  for (let i = 0; i < rest.length; i += 2) {
    types.push({ type: decode(rest[i]!), name: decode(rest[i + 1]!) });
  }
  return {
    subscriptionId: decode(parts[1]!),
    resourceGroupName: decode(parts[3]!),
    provider: decode(parts[5]!),
    types,
  };
}

/**
 * Parses exactly a workspace id (not a child resource). Throws `TypeError` naming the id.
 */
export function parseWorkspaceId(id: string): WorkspaceScope {
  const parsed = parseArmId(id);
  if (
    parsed.provider.toLowerCase() !== PROVIDER.toLowerCase() ||
    parsed.types.length !== 1 ||
    parsed.types[0]!.type.toLowerCase() !== "workspaces"
  ) {
    throw new TypeError(
      `Invalid Azure ML workspace id "${id}": expected /subscriptions/{id}/resourceGroups/{name}/providers/${PROVIDER}/workspaces/{name}.`,
    );
  }
  return scopeOf(parsed);
}

/** Parses `{ws}/{environments|data|codes|models}/{name}/versions/{version}`. */
export function parseAssetVersionId(id: string): ParsedAssetVersionId {
  const parsed = parseArmId(id);
  const [ws, asset, versions] = parsed.types;
  const kind = asset?.type.toLowerCase() as AssetKind | undefined;
  if (
    parsed.provider.toLowerCase() !== PROVIDER.toLowerCase() ||
    parsed.types.length !== 3 ||
    ws!.type.toLowerCase() !== "workspaces" ||
    !kind ||
    !ASSET_KINDS.includes(kind) ||
    versions!.type.toLowerCase() !== "versions"
  ) {
    throw new TypeError(
      `Invalid Azure ML asset version id "${id}": expected {workspace id}/{environments|data|codes|models}/{name}/versions/{version}.`,
    );
  }
  return { scope: scopeOf(parsed), kind, name: asset!.name, version: versions!.name };
}

function scopeOf(parsed: ParsedArmId): WorkspaceScope {
  return {
    subscriptionId: parsed.subscriptionId,
    resourceGroupName: parsed.resourceGroupName,
    workspaceName: parsed.types[0]!.name,
  };
}

/** `azureml:<name>:<version>`, the short asset reference jobs and deployments accept. */
export function azuremlAssetReference(name: string, version: string): string {
  return `azureml:${name}:${version}`;
}

/**
 * `azureml://subscriptions/<s>/resourcegroups/<rg>/workspaces/<ws>/datastores/<ds>/paths/<p>`,
 * the long datastore URI form the batch docs accept (contract 5.2). Leading slashes of `path` are dropped.
 */
export function datastoreUri(scope: WorkspaceScope, datastore: string, path: string): string {
  return (
    `azureml://subscriptions/${scope.subscriptionId}/resourcegroups/${scope.resourceGroupName}` +
    `/workspaces/${scope.workspaceName}/datastores/${datastore}/paths/${path.replace(/^\/+/, "")}`
  );
}

/** `azureml://jobs/<job>/outputs/<output>[/paths/<p>]` */
export function jobOutputUri(jobName: string, output: string, path?: string): string {
  const base = `azureml://jobs/${jobName}/outputs/${output}`;
  return path === undefined ? base : `${base}/paths/${path.replace(/^\/+/, "")}`;
}

const ARM_NAME = /^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$/;

/** Workspace names: `^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$` (spec path parameter). */
export function isValidWorkspaceName(name: string): boolean {
  return /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$/.test(name);
}

/** Asset, job and ARM-path names: `^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$` (2024-04-01 PUT rule). */
export function isValidAssetName(name: string): boolean {
  return ARM_NAME.test(name);
}

/**
 * Resource group names: 1 to 90 letters or digits (Unicode), `-`, `_`, `(`, `)` and `.`,
 * not ending with `.` (ARM RPC).
 */
export function isValidResourceGroupName(name: string): boolean {
  return /^[\p{L}\p{N}\-_().]{1,90}$/u.test(name) && !name.endsWith(".");
}

/**
 * Batch endpoint and deployment names: start with a letter, 3 to 32 letters, digits and single
 * dashes, not ending with a dash (azure-ai-ml's client-side check and the quotas doc, which
 * accepts "single dashes").
 */
export function isValidEndpointName(name: string): boolean {
  return name.length >= 3 && name.length <= 32 && /^[a-zA-Z](?:-?[a-zA-Z0-9])*$/.test(name);
}

/**
 * Compute names: `^[a-zA-Z](?![a-zA-Z0-9-]*-\d+$)[a-zA-Z0-9\-]{2,23}$`: 3 to 24 characters, starting
 * with a letter, and not ending in a dash followed only by digits.
 */
export function isValidComputeName(name: string): boolean {
  return /^[a-zA-Z](?![a-zA-Z0-9-]*-\d+$)[a-zA-Z0-9-]{2,23}$/.test(name);
}
