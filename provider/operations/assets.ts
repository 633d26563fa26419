/**
 * URL and body builders for Azure ML asset containers and versions (environments, data, codes,
 * models) and for the code pending-upload handshake. Pure: no I/O.
 */
import { createHash } from "node:crypto";
import { workspaceId, type WorkspaceScope } from "../core/ids";

export type AssetKind = "environments" | "data" | "codes" | "models";

/** Operation names as Azure ML's swagger spells them, for error messages. */
export const ASSET_OPERATION: Record<AssetKind, string> = {
  environments: "EnvironmentVersions",
  data: "DataVersions",
  codes: "CodeVersions",
  models: "ModelVersions",
};

export function assetContainerPath(scope: WorkspaceScope, kind: AssetKind, name: string): string {
  return `${workspaceId(scope)}/${kind}/${encodeURIComponent(name)}`;
}

export function assetVersionPath(
  scope: WorkspaceScope,
  kind: AssetKind,
  name: string,
  version: string,
): string {
  return `${assetContainerPath(scope, kind, name)}/versions/${encodeURIComponent(version)}`;
}

export function assetVersionsPath(scope: WorkspaceScope, kind: AssetKind, name: string): string {
  return `${assetContainerPath(scope, kind, name)}/versions`;
}

export function startPendingUploadPath(
  scope: WorkspaceScope,
  name: string,
  version: string,
): string {
  return `${assetVersionPath(scope, "codes", name, version)}/startPendingUpload`;
}

/** Fields every asset version body carries. */
export interface AssetCommonFields {
  description?: string;
  tags?: Record<string, string>;
  properties?: Record<string, string>;
  isArchived?: boolean;
}

function common(fields: AssetCommonFields): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (fields.description !== undefined) {
    body.description = fields.description;
  }
  if (fields.tags !== undefined) {
    body.tags = fields.tags;
  }
  if (fields.properties !== undefined) {
    body.properties = fields.properties;
  }
  body.isArchived = fields.isArchived ?? false;
  return body;
}

export interface RouteSpec {
  path: string;
  port: number;
}

export interface EnvironmentContent {
  image?: string;
  condaFile?: string;
  build?: { contextUri: string; dockerfilePath?: string };
  osType?: "Linux" | "Windows";
  autoRebuild?: "Disabled" | "OnBaseImageUpdate";
  inferenceConfig?: {
    livenessRoute?: RouteSpec;
    readinessRoute?: RouteSpec;
    scoringRoute?: RouteSpec;
  };
}

/** `PUT {ws}/environments/{name}/versions/{version}` body (EnvironmentVersionResource). */
export function environmentVersionBody(content: EnvironmentContent, fields: AssetCommonFields) {
  const properties: Record<string, unknown> = { ...common(fields) };
  for (const key of [
    "image",
    "condaFile",
    "build",
    "osType",
    "autoRebuild",
    "inferenceConfig",
  ] as const) {
    if (content[key] !== undefined) {
      properties[key] = content[key];
    }
  }
  return { properties };
}

export type DataType = "uri_file" | "uri_folder" | "mltable";

/** `PUT {ws}/data/{name}/versions/{version}` body (DataVersionBaseResource). */
export function dataVersionBody(
  content: { dataType: DataType; dataUri: string; referencedUris?: string[] },
  fields: AssetCommonFields,
) {
  const properties: Record<string, unknown> = {
    ...common(fields),
    dataType: content.dataType,
    dataUri: content.dataUri,
  };
  if (content.dataType === "mltable" && content.referencedUris !== undefined) {
    properties.referencedUris = content.referencedUris;
  }
  return { properties };
}

/** Property names the Azure ML SDK uses to record a code folder's content hash. */
export const HASH_PROPERTY = "hash_sha256";
export const HASH_VERSION_PROPERTY = "hash_version";

/** `PUT {ws}/codes/{name}/versions/{version}` body (CodeVersionResource), as azure-ai-ml sends it. */
export function codeVersionBody(
  content: { codeUri: string; contentHash?: string; hashVersion?: number },
  fields: AssetCommonFields,
) {
  const base = common(fields);
  const properties: Record<string, string> = { ...(fields.properties ?? {}) };
  if (content.contentHash !== undefined) {
    properties[HASH_PROPERTY] = content.contentHash;
    properties[HASH_VERSION_PROPERTY] = String(content.hashVersion ?? 202208);
  }
  return {
    properties: {
      ...base,
      properties,
      codeUri: content.codeUri,
      isAnonymous: false,
    },
  };
}

export type ModelType = "custom_model" | "mlflow_model" | "triton_model";

/** `PUT {ws}/models/{name}/versions/{version}` body (ModelVersionResource). */
export function modelVersionBody(
  content: { modelType: ModelType; modelUri: string; jobName?: string; stage?: string },
  fields: AssetCommonFields,
) {
  const properties: Record<string, unknown> = {
    ...common(fields),
    modelType: content.modelType,
    modelUri: content.modelUri,
  };
  if (content.jobName !== undefined) {
    properties.jobName = content.jobName;
  }
  if (content.stage !== undefined) {
    properties.stage = content.stage;
  }
  return { properties };
}

/**
 * `POST .../startPendingUpload` body, as the SDK sends it, plus a `pendingUploadId` when given
 * (the SDK leaves it out, so the service picks a random one and a new container).
 */
export function pendingUploadRequest(pendingUploadId?: string) {
  return pendingUploadId === undefined
    ? { pendingUploadType: "TemporaryBlobReference" }
    : { pendingUploadId, pendingUploadType: "TemporaryBlobReference" };
}

/**
 * A `pendingUploadId` fixed by what is uploaded: the workspace, the code asset's name and version
 * and its content hash, shaped as a GUID (RFC 9562 version 8). Asking again with it after an
 * interrupted upload gets the same container back, so blobs and blocks already there are not sent
 * again. Pure.
 */
export function pendingUploadIdFor(
  workspaceId: string,
  name: string,
  version: string,
  contentHash: string,
): string {
  const bytes = createHash("sha256")
    .update(`${workspaceId.toLowerCase()}\n${name}\n${version}\n${contentHash}`)
    .digest()
    .subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x80; // version 8: custom
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // the RFC variant
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The fields of a PendingUploadResponseDto this package reads. */
export interface PendingUploadResponse {
  pendingUploadId?: string;
  blobReferenceForConsumption?: {
    blobUri?: string;
    storageAccountArmId?: string;
    credential?: { credentialType?: string; sasUri?: string };
  };
}

/** An asset version as Azure ML returns it. */
export interface AssetVersionResource {
  id: string;
  name: string;
  properties: Record<string, unknown> & {
    description?: string;
    tags?: Record<string, string>;
    properties?: Record<string, string>;
    isArchived?: boolean;
  };
}

/** `azureml:<name>:<version>`, the reference jobs and deployments accept. */
export function assetReference(name: string, version: string): string {
  return `azureml:${name}:${version}`;
}

/**
 * Parses `/codes/<name>/versions/<version>` (or any asset kind) out of an ARM id, as azure-ai-ml does
 * when it reuses a code version found by hash under another name.
 */
export function parseAssetVersionPath(
  id: string,
): { kind: string; name: string; version: string } | undefined {
  const match = /\/(environments|data|codes|models)\/([^/]+)\/versions\/([^/?]+)/i.exec(id);
  if (!match) {
    return undefined;
  }
  return {
    kind: match[1].toLowerCase(),
    name: decodeURIComponent(match[2]),
    version: decodeURIComponent(match[3]),
  };
}
