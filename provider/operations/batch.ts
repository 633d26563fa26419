/**
 * URLs and bodies of batch endpoints and deployments (contract sections 3, 4.8, 4.9, 7.2). Pure:
 * no I/O, no Pulumi.
 */
import {
  batchDeploymentId,
  batchEndpointId,
  parseArmId,
  workspaceId,
  type WorkspaceScope,
} from "../core/ids";

/** Operation ids, for errors and logs. */
export const BATCH_OPERATION = {
  endpointPut: "BatchEndpoints_CreateOrUpdate",
  endpointPatch: "BatchEndpoints_Update",
  endpointGet: "BatchEndpoints_Get",
  endpointDelete: "BatchEndpoints_Delete",
  deploymentPut: "BatchDeployments_CreateOrUpdate",
  deploymentPatch: "BatchDeployments_Update",
  deploymentGet: "BatchDeployments_Get",
  deploymentDelete: "BatchDeployments_Delete",
  workspaceGet: "Workspaces_Get",
} as const;

export type EndpointAuthMode = "AADToken" | "AMLToken" | "Key";
export const AUTH_MODES: readonly EndpointAuthMode[] = ["AADToken", "AMLToken", "Key"];

export type IdentityType =
  "None" | "SystemAssigned" | "UserAssigned" | "SystemAssigned,UserAssigned";
export const IDENTITY_TYPES: readonly IdentityType[] = [
  "None",
  "SystemAssigned",
  "UserAssigned",
  "SystemAssigned,UserAssigned",
];

/** A managed identity as the resources take it. */
export interface ManagedIdentityInput {
  type: IdentityType;
  /** ARM ids of user-assigned identities. */
  userAssignedIdentityIds?: string[];
}

export type OutputAction = "append_row" | "summary_only";
export type LoggingLevel = "info" | "warning" | "debug";

/** The ARM resource of an endpoint or a deployment (the fields the provider reads). */
export interface TrackedResource<P> {
  id: string;
  name: string;
  location: string;
  tags?: Record<string, string> | null;
  identity?: {
    type: string;
    principalId?: string;
    userAssignedIdentities?: Record<string, unknown>;
  } | null;
  systemData?: { createdAt?: string; lastModifiedAt?: string };
  properties: P;
}

export interface BatchEndpointProperties {
  authMode: string;
  description?: string | null;
  properties?: Record<string, string> | null;
  defaults?: { deploymentName?: string | null } | null;
  scoringUri?: string | null;
  swaggerUri?: string | null;
  provisioningState?: string;
}

export interface BatchDeploymentProperties {
  description?: string | null;
  model?: { referenceType: string; assetId?: string } | null;
  codeConfiguration?: { codeId?: string | null; scoringScript: string } | null;
  environmentId?: string | null;
  environmentVariables?: Record<string, string> | null;
  properties?: Record<string, string> | null;
  compute?: string | null;
  resources?: { instanceCount?: number } | null;
  maxConcurrencyPerInstance?: number;
  miniBatchSize?: number;
  errorThreshold?: number;
  retrySettings?: { maxRetries?: number; timeout?: string } | null;
  outputAction?: string;
  outputFileName?: string;
  loggingLevel?: string;
  provisioningState?: string;
}

export type BatchEndpointResource = TrackedResource<BatchEndpointProperties>;
export type BatchDeploymentResource = TrackedResource<BatchDeploymentProperties>;

/** The endpoint's ARM path. */
export function batchEndpointPath(scope: WorkspaceScope, name: string): string {
  return batchEndpointId(scope, name);
}

/** The deployment's ARM path. */
export function batchDeploymentPath(scope: WorkspaceScope, endpoint: string, name: string): string {
  return batchDeploymentId(scope, endpoint, name);
}

/** The workspace and name of a batch endpoint ARM id. Throws TypeError naming the id. */
export function parseBatchEndpointId(id: string): { scope: WorkspaceScope; name: string } {
  const parsed = parseArmId(id);
  const [ws, endpoint] = parsed.types;
  if (
    parsed.provider.toLowerCase() !== "microsoft.machinelearningservices" ||
    parsed.types.length !== 2 ||
    ws!.type.toLowerCase() !== "workspaces" ||
    endpoint!.type.toLowerCase() !== "batchendpoints"
  ) {
    throw new TypeError(
      `Invalid batch endpoint id "${id}": expected {workspace id}/batchEndpoints/{name}.`,
    );
  }
  return {
    scope: {
      subscriptionId: parsed.subscriptionId,
      resourceGroupName: parsed.resourceGroupName,
      workspaceName: ws!.name,
    },
    name: endpoint!.name,
  };
}

/** ARM's `identity` object for a {@link ManagedIdentityInput}. */
export function identityBody(identity: ManagedIdentityInput): Record<string, unknown> {
  const body: Record<string, unknown> = { type: identity.type };
  if (identity.userAssignedIdentityIds && identity.userAssignedIdentityIds.length > 0) {
    body.userAssignedIdentities = Object.fromEntries(
      identity.userAssignedIdentityIds.map((id) => [id, {}]),
    );
  }
  return body;
}

/** The endpoint fields the provider owns. */
export interface BatchEndpointSpec {
  location: string;
  authMode: EndpointAuthMode;
  description?: string;
  tags?: Record<string, string>;
  properties?: Record<string, string>;
  identity?: ManagedIdentityInput;
  /** The default deployment to keep (read from the live endpoint; owned by another resource). */
  defaultDeploymentName?: string;
}

/** `BatchEndpointTrackedResource` for a PUT. */
export function batchEndpointBody(spec: BatchEndpointSpec): Record<string, unknown> {
  const properties: Record<string, unknown> = { authMode: spec.authMode };
  if (spec.description !== undefined) {
    properties.description = spec.description;
  }
  if (spec.properties !== undefined) {
    properties.properties = spec.properties;
  }
  if (spec.defaultDeploymentName !== undefined) {
    properties.defaults = { deploymentName: spec.defaultDeploymentName };
  }
  const body: Record<string, unknown> = { location: spec.location, properties };
  if (spec.tags !== undefined) {
    body.tags = spec.tags;
  }
  if (spec.identity !== undefined) {
    body.identity = identityBody(spec.identity);
  }
  return body;
}

/** `PartialMinimalTrackedResourceWithIdentity` for a PATCH: tags and identity only. */
export function batchEndpointPatchBody(spec: {
  tags?: Record<string, string>;
  identity?: ManagedIdentityInput;
}): Record<string, unknown> {
  return {
    tags: spec.tags ?? {},
    ...(spec.identity ? { identity: identityBody(spec.identity) } : {}),
  };
}

/**
 * The PUT body that re-applies a live endpoint as it is, with `defaults` replaced: how the default
 * deployment is set without touching anything another resource owns.
 */
export function endpointBodyWithDefault(
  live: BatchEndpointResource,
  deploymentName: string | undefined,
): Record<string, unknown> {
  const p = live.properties;
  const properties: Record<string, unknown> = { authMode: p.authMode };
  if (p.description !== undefined && p.description !== null) {
    properties.description = p.description;
  }
  if (p.properties && Object.keys(p.properties).length > 0) {
    properties.properties = p.properties;
  }
  if (deploymentName !== undefined) {
    properties.defaults = { deploymentName };
  }
  const body: Record<string, unknown> = { location: live.location, properties };
  if (live.tags && Object.keys(live.tags).length > 0) {
    body.tags = live.tags;
  }
  if (live.identity && live.identity.type) {
    body.identity = {
      type: live.identity.type,
      ...(live.identity.userAssignedIdentities
        ? {
            userAssignedIdentities: Object.fromEntries(
              Object.keys(live.identity.userAssignedIdentities).map((id) => [id, {}]),
            ),
          }
        : {}),
    };
  }
  return body;
}

/** The deployment fields the provider owns, references already resolved to ARM ids. */
export interface BatchDeploymentSpec {
  location: string;
  modelId: string;
  codeId?: string;
  scoringScript?: string;
  environmentId?: string;
  computeId: string;
  instanceCount?: number;
  maxConcurrencyPerInstance?: number;
  miniBatchSize?: number;
  errorThreshold?: number;
  retrySettings?: { maxRetries?: number; timeoutInSeconds?: number };
  outputAction?: OutputAction;
  outputFileName?: string;
  loggingLevel?: LoggingLevel;
  environmentVariables?: Record<string, string>;
  properties?: Record<string, string>;
  description?: string;
  tags?: Record<string, string>;
}

const OUTPUT_ACTION_WIRE: Record<OutputAction, string> = {
  append_row: "AppendRow",
  summary_only: "SummaryOnly",
};
const LOGGING_LEVEL_WIRE: Record<LoggingLevel, string> = {
  info: "Info",
  warning: "Warning",
  debug: "Debug",
};

/** `PT<n>S`, the ISO 8601 duration the service takes for retry timeouts. */
export function isoSeconds(seconds: number): string {
  return `PT${seconds}S`;
}

/** Seconds of a simple ISO 8601 duration (`PT1M30S`, `PT30S`, `P1D`), or undefined. */
export function secondsOfIsoDuration(value: string | undefined | null): number | undefined {
  const match =
    /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(value ?? "") ??
    undefined;
  if (!match || value === "P" || value === "PT") {
    return undefined;
  }
  const [, d, h, m, s] = match;
  return Number(d ?? 0) * 86400 + Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(s ?? 0);
}

/** `BatchDeploymentTrackedResource` for a PUT. */
export function batchDeploymentBody(spec: BatchDeploymentSpec): Record<string, unknown> {
  const properties: Record<string, unknown> = {
    model: { referenceType: "Id", assetId: spec.modelId },
    compute: spec.computeId,
  };
  if (spec.scoringScript !== undefined) {
    properties.codeConfiguration = {
      ...(spec.codeId !== undefined ? { codeId: spec.codeId } : {}),
      scoringScript: spec.scoringScript,
    };
  }
  if (spec.environmentId !== undefined) {
    properties.environmentId = spec.environmentId;
  }
  if (spec.instanceCount !== undefined) {
    properties.resources = { instanceCount: spec.instanceCount };
  }
  for (const key of [
    "maxConcurrencyPerInstance",
    "miniBatchSize",
    "errorThreshold",
    "outputFileName",
    "environmentVariables",
    "properties",
    "description",
  ] as const) {
    if (spec[key] !== undefined) {
      properties[key] = spec[key];
    }
  }
  if (spec.retrySettings !== undefined) {
    const retry: Record<string, unknown> = {};
    if (spec.retrySettings.maxRetries !== undefined) {
      retry.maxRetries = spec.retrySettings.maxRetries;
    }
    if (spec.retrySettings.timeoutInSeconds !== undefined) {
      retry.timeout = isoSeconds(spec.retrySettings.timeoutInSeconds);
    }
    properties.retrySettings = retry;
  }
  if (spec.outputAction !== undefined) {
    properties.outputAction = OUTPUT_ACTION_WIRE[spec.outputAction];
  }
  if (spec.loggingLevel !== undefined) {
    properties.loggingLevel = LOGGING_LEVEL_WIRE[spec.loggingLevel];
  }
  const body: Record<string, unknown> = { location: spec.location, properties };
  if (spec.tags !== undefined) {
    body.tags = spec.tags;
  }
  return body;
}

/** `PartialBatchDeploymentPartialMinimalTrackedResourceWithProperties` for a PATCH. */
export function batchDeploymentPatchBody(spec: {
  description?: string;
  tags?: Record<string, string>;
}): Record<string, unknown> {
  return { properties: { description: spec.description ?? null }, tags: spec.tags ?? {} };
}

/** `{ws}/computes/<name>` for a compute name; an ARM id is returned as is. */
export function computeArmId(scope: WorkspaceScope, compute: string): string {
  return compute.startsWith("/")
    ? compute
    : `${workspaceId(scope)}/computes/${encodeURIComponent(compute)}`;
}

/**
 * The ARM id of an asset version given as an ARM id or as `azureml:<name>:<version>` (resolved
 * in the deployment's workspace); undefined for anything else.
 */
export function assetVersionArmId(
  scope: WorkspaceScope,
  kind: "models" | "codes" | "environments",
  value: string,
): string | undefined {
  if (value.startsWith("/")) {
    return value;
  }
  const short = /^azureml:([^:/]+):([^:/]+)$/.exec(value);
  if (short) {
    return `${workspaceId(scope)}/${kind}/${encodeURIComponent(short[1]!)}/versions/${encodeURIComponent(short[2]!)}`;
  }
  return undefined;
}

// --- invocation (data plane, contract section 5) ---------------------------------------------

/** The header that sends an invocation to a deployment other than the default. */
export const DEPLOYMENT_HEADER = "azureml-model-deployment";

/** The property marking an invocation with the hash of what it scores (found again by it). */
export const INVOCATION_HASH_PROPERTY = "pulumi-azureml.invocationHash";

export type BatchInputType = "uri_folder" | "uri_file";

/** One invocation: the data, where results go, and the settings it overrides. */
export interface BatchInvocationSpec {
  inputType: BatchInputType;
  /** An azureml:// URI, an https URL, a data asset id or `azureml:<name>:<version>`. */
  inputUri: string;
  /** The output folder (`azureml://datastores/<ds>/paths/<p>/`). */
  outputUri: string;
  outputFileName?: string;
  miniBatchSize?: number;
  errorThreshold?: number;
  maxRetries?: number;
  timeoutInSeconds?: number;
  instanceCount?: number;
  /** `properties.properties`: the invocation mark and, when given, `experimentName`. */
  properties: Record<string, string>;
}

/**
 * The invocation body in the Python SDK's camelCase shape (`BatchJobResource`), the one that
 * carries the setting overrides: `inputData`, `outputData`, `outputFileName`, `miniBatchSize`,
 * `errorThreshold`, `retrySettings`, `compute.instanceCount`, and the caller's `properties`.
 */
export function batchInvocationBody(spec: BatchInvocationSpec): Record<string, unknown> {
  const properties: Record<string, unknown> = {
    inputData: {
      input: {
        jobInputType: spec.inputType === "uri_file" ? "UriFile" : "UriFolder",
        uri: spec.inputUri,
      },
    },
    outputData: { score: { jobOutputType: "UriFolder", uri: spec.outputUri } },
    properties: spec.properties,
  };
  if (spec.outputFileName !== undefined) {
    properties.outputFileName = spec.outputFileName;
  }
  if (spec.miniBatchSize !== undefined) {
    properties.miniBatchSize = spec.miniBatchSize;
  }
  if (spec.errorThreshold !== undefined) {
    properties.errorThreshold = spec.errorThreshold;
  }
  if (spec.maxRetries !== undefined || spec.timeoutInSeconds !== undefined) {
    properties.retrySettings = {
      ...(spec.maxRetries === undefined ? {} : { maxRetries: spec.maxRetries }),
      ...(spec.timeoutInSeconds === undefined
        ? {}
        : { timeout: isoSeconds(spec.timeoutInSeconds) }),
    };
  }
  if (spec.instanceCount !== undefined) {
    properties.compute = { instanceCount: spec.instanceCount };
  }
  return { properties };
}

/** `properties.properties` keys where the emulator reports a scoring job's progress. */
export const BATCH_PROGRESS_PROPERTIES = {
  miniBatches: "azureml.batch.miniBatches",
  miniBatchesCompleted: "azureml.batch.miniBatchesCompleted",
  miniBatchesFailed: "azureml.batch.miniBatchesFailed",
  items: "azureml.batch.items",
  failedItems: "azureml.batch.failedItems",
} as const;
