/**
 * The lifecycle shared by the four asset-version resources: PUT a version, adopt an identical one,
 * explain immutability conflicts, refresh, and the archive/delete/retain choice on delete.
 */
import { createHash } from "node:crypto";
import { isAzureMlRestError } from "../core/errors";
import {
  ASSET_OPERATION,
  assetReference,
  assetVersionPath,
  type AssetKind,
  type AssetVersionResource,
} from "../operations/assets";
import type * as pulumi from "@pulumi/pulumi";
import { reportProgress } from "./progress";
import { workspaceId } from "../core/ids";
import { resolveSettings, type AzureMlSettings, type ConfigSource } from "../core/settings";
import {
  checkAssetCommon,
  checkWorkspace,
  Failures,
  fieldChanged,
  isFullyKnown,
  isKnown,
  openSession,
  resolveScope,
  withoutProvider,
  type Session,
} from "./shared";

/** What deleting a version does. Azure ML keeps versions immutable and usually archives them. */
export type OnDelete = "archive" | "delete" | "retain";
export const DEFAULT_ON_DELETE: OnDelete = "archive";

/** Inputs shared by the asset-version resources after `check`. */
export interface AssetVersionCommonInputs {
  workspaceId?: string;
  subscriptionId?: string;
  resourceGroupName?: string;
  workspaceName?: string;
  name: string;
  version?: string;
  description?: string;
  tags?: Record<string, string>;
  properties?: Record<string, string>;
  onDelete?: OnDelete;
  /** sha256 over the version's content, computed by `check` without any network call. */
  contentHash?: string;
  providerVersion?: string;
}

/** Outputs shared by the asset-version resources. */
export interface AssetVersionCommonOutputs extends AssetVersionCommonInputs {
  version: string;
  /** The version's ARM id (also the Pulumi id). */
  assetId: string;
  /** `azureml:<name>:<version>`, accepted wherever Azure ML takes an asset reference. */
  assetReference: string;
  /** Where the content lives: the code, data or model URI, or the environment's image. */
  assetUri: string;
}

/** Fields Azure ML updates in place on an existing version. */
export const MUTABLE_FIELDS = [
  "description",
  "tags",
  "properties",
  "onDelete",
  "providerVersion",
] as const;

/** sha256 of a canonical JSON rendering (keys sorted), for content fingerprints. */
export function fingerprint(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex");
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(",")}]`;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

/** A version derived from content: the first 16 hex digits of its content hash. */
export function versionFromContentHash(contentHash: string): string {
  return contentHash.slice(0, 16);
}

/**
 * The start of every asset-version `check`: a copy of the program's inputs without `__provider`,
 * the workspace, provider settings, name, version and common fields judged, and the facts `check`
 * itself derives (hash, counts) dropped, so they are never taken from the program.
 */
export function beginAssetCheck<I extends AssetVersionCommonInputs>(
  news: I,
  config: ConfigSource | undefined,
  derived: readonly (keyof I & string)[],
  options: { judgeVersion?: boolean } = {},
): { inputs: I; failures: Failures } {
  const failures = new Failures();
  const inputs = withoutProvider(news);
  checkWorkspace(inputs, failures, config);
  checkAssetCommon(
    options.judgeVersion === false ? { ...inputs, version: undefined } : inputs,
    failures,
  );
  for (const key of ["contentHash", ...derived]) {
    delete (inputs as Record<string, unknown>)[key];
  }
  return { inputs, failures };
}

/**
 * Says in preview why a version will be replaced: the engine shows which inputs changed, this says
 * what that means in Azure ML terms.
 */
export async function explainReplacement(
  type: string,
  olds: { name?: string; version?: string; contentHash?: string },
  news: { name?: string; version?: string; contentHash?: string },
  replaces: readonly string[] | undefined,
): Promise<void> {
  if (!replaces || replaces.length === 0) {
    return;
  }
  const reason = replaces.includes("contentHash")
    ? `content changed (sha256 ${short(olds.contentHash)} → ${short(news.contentHash)})`
    : `${replaces.join(", ")} changed`;
  const next = news.version && isKnown(news.version) ? `version ${news.version}` : "a new version";
  await reportProgress(
    `${type} ${olds.name}:${olds.version}: ${reason}; Azure ML versions are immutable, so ${next} replaces it.`,
  );
}

function short(hash: string | undefined): string {
  return hash === undefined
    ? "none"
    : isKnown(hash)
      ? hash.slice(0, 12)
      : "unknown until the update";
}

/**
 * Fills in the version from the content hash when the user gave none, and refuses (at preview) a
 * pinned version whose content changed: Azure ML would reject the PUT, versions being immutable.
 */
export function settleVersion(
  olds: Partial<AssetVersionCommonInputs>,
  news: AssetVersionCommonInputs,
  contentHash: string,
  failures: Failures,
  describe: string,
): string | undefined {
  const explicit = news.version;
  if (explicit === undefined) {
    return isKnown(contentHash) ? versionFromContentHash(contentHash) : contentHash;
  }
  if (
    isKnown(explicit) &&
    explicit === olds.version &&
    olds.name === news.name &&
    olds.contentHash !== undefined &&
    isKnown(contentHash) &&
    olds.contentHash !== contentHash
  ) {
    failures.add(
      "version",
      `${describe} content changed but [version] stayed "${explicit}"; Azure ML versions are immutable. Give a new [version], or omit it to derive one from the content.`,
    );
  }
  return explicit;
}

/**
 * The diff's half of {@link settleVersion}'s refusal. check sees only the previous inputs, and a
 * resource created from a local folder has no content hash among them (create hashed it while
 * uploading), so the first update after such a create is judged here, against the outputs: the
 * same known version with changed known content is a version Azure ML would refuse to overwrite.
 * Thrown in preview, before any request. A derived version changes with its content, so only a
 * pinned one gets here.
 */
function refusePinnedVersionChange(
  type: string,
  olds: AssetVersionCommonOutputs,
  news: AssetVersionCommonInputs,
  contentChanged: boolean,
): void {
  if (
    contentChanged &&
    olds.name === news.name &&
    olds.contentHash !== undefined &&
    news.contentHash !== undefined &&
    isKnown(olds.contentHash) &&
    isKnown(news.contentHash) &&
    news.version !== undefined &&
    isKnown(news.version) &&
    news.version === olds.version
  ) {
    throw new Error(
      `${type} ${news.name}: content changed but [version] stayed "${news.version}"; Azure ML versions are immutable. Give a new [version], or omit it to derive one from the content.`,
    );
  }
}

/** Common outputs of a version. */
export function commonOutputs(
  session: Session,
  kind: AssetKind,
  inputs: AssetVersionCommonInputs,
  version: string,
  assetUri: string,
): AssetVersionCommonOutputs {
  return {
    ...inputs,
    version,
    assetId: `${session.workspace}/${kind}/${inputs.name}/versions/${version}`,
    assetReference: assetReference(inputs.name, version),
    assetUri,
  };
}

/**
 * PUTs a version. An identical existing version is accepted by Azure ML (and so adopted); a
 * different one is refused, and the error says what to do about it.
 */
export async function putAssetVersion(
  session: Session,
  kind: AssetKind,
  name: string,
  version: string,
  body: unknown,
): Promise<AssetVersionResource> {
  const operation = `${ASSET_OPERATION[kind]}_CreateOrUpdate`;
  try {
    const response = await session.client.request<AssetVersionResource>({
      method: "PUT",
      path: assetVersionPath(session.scope, kind, name, version),
      body,
      operation,
    });
    return response.body;
  } catch (error) {
    if (
      isAzureMlRestError(error) &&
      (error.statusCode === 409 || /cannot be (updated|changed)/i.test(error.message))
    ) {
      throw new Error(
        `${name}:${version} already exists in the workspace with different content, and Azure ML versions are immutable. ` +
          `Give a new [version], or omit [version] to derive one from the content. (${error.message})`,
        { cause: error },
      );
    }
    throw error;
  }
}

export async function getAssetVersion(
  session: Session,
  kind: AssetKind,
  name: string,
  version: string,
): Promise<AssetVersionResource | undefined> {
  return session.client.getOrUndefined<AssetVersionResource>(
    assetVersionPath(session.scope, kind, name, version),
    `${ASSET_OPERATION[kind]}_Get`,
  );
}

/**
 * Deletes, archives or keeps a version. Archiving re-PUTs the version as Azure ML returned it with
 * `isArchived: true`, so nothing else changes. A version that is already gone is success.
 */
export async function removeAssetVersion(
  session: Session,
  kind: AssetKind,
  name: string,
  version: string,
  onDelete: OnDelete,
): Promise<void> {
  if (onDelete === "retain") {
    return;
  }
  if (onDelete === "delete") {
    await session.client.delete(
      assetVersionPath(session.scope, kind, name, version),
      `${ASSET_OPERATION[kind]}_Delete`,
    );
    return;
  }
  const existing = await getAssetVersion(session, kind, name, version);
  if (existing === undefined || existing.properties.isArchived === true) {
    return;
  }
  await session.client.request({
    method: "PUT",
    path: assetVersionPath(session.scope, kind, name, version),
    body: { properties: writableProperties(existing.properties, { isArchived: true }) },
    operation: `${ASSET_OPERATION[kind]}_CreateOrUpdate`,
  });
}

/** Read-only fields Azure ML returns but refuses (or ignores) on input. */
const READ_ONLY = new Set(["provisioningState", "environmentType", "latestVersion", "nextVersion"]);

/** The version's properties minus read-only fields, with overrides applied. */
export function writableProperties(
  properties: Record<string, unknown>,
  overrides: Record<string, unknown>,
): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(properties)) {
    if (!READ_ONLY.has(key) && value !== null && value !== undefined) {
      result[key] = value;
    }
  }
  return { ...result, ...overrides };
}

/**
 * Refresh: the version's mutable fields as Azure ML holds them now. Returns undefined when the
 * version is gone (Pulumi then drops it from state).
 */
export async function refreshAssetVersion<O extends AssetVersionCommonOutputs>(
  session: Session,
  kind: AssetKind,
  props: O,
): Promise<O | undefined> {
  const existing = await getAssetVersion(session, kind, props.name, props.version);
  if (existing === undefined) {
    return undefined;
  }
  const refreshed: O = { ...props };
  const live = existing.properties;
  assignOrDrop(refreshed, "description", live.description);
  assignOrDrop(refreshed, "tags", nonEmpty(live.tags));
  return refreshed;
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

/** True when every listed input is known, so content can be judged in preview. */
export function allKnown(...values: unknown[]): boolean {
  return values.every(isFullyKnown);
}

/**
 * The `read` of an asset-version resource: its mutable fields as Azure ML holds them now, or
 * nothing when the version is gone.
 */
export function readAssetVersion<O extends AssetVersionCommonOutputs>(kind: AssetKind) {
  return async (
    id: string,
    props: O,
    config?: pulumi.dynamic.Config,
  ): Promise<pulumi.dynamic.ReadResult<O>> => {
    const current = withoutProvider(props);
    const refreshed = await refreshAssetVersion(openSession(current, config), kind, current);
    return refreshed ? { id, props: refreshed } : {};
  };
}

/** The `delete` of an asset-version resource: archive, delete or retain, per [onDelete]. */
export function deleteAssetVersion<O extends AssetVersionCommonOutputs>(kind: AssetKind) {
  return async (_id: string, props: O, config?: pulumi.dynamic.Config): Promise<void> => {
    const session = openSession(props, config);
    await removeAssetVersion(
      session,
      kind,
      props.name,
      props.version,
      props.onDelete ?? DEFAULT_ON_DELETE,
    );
  };
}

/** The `create` of an asset-version resource whose id is its ARM id: apply the checked inputs. */
export function createAssetVersion<I extends object, O extends AssetVersionCommonOutputs>(
  apply: (inputs: I, config?: pulumi.dynamic.Config) => Promise<O>,
) {
  return async (
    news: I,
    config?: pulumi.dynamic.Config,
  ): Promise<pulumi.dynamic.CreateResult<O>> => {
    const outs = await apply(withoutProvider(news), config);
    return { id: outs.assetId, outs };
  };
}

/** How one asset-version resource's fields take part in its diff. */
export interface AssetDiffSpec {
  /** The resource type, for the preview's explanation. */
  type: string;
  /** Inputs hashed into `contentHash`: they replace the version only when the hash changed. */
  content: readonly string[];
  /** Further fields that update in place. */
  update?: readonly string[];
  /** False for ModelVersion: an omitted version means "the next integer", not a change. */
  versionIsIdentity?: (news: { version?: string }) => boolean;
}

const WORKSPACE_FIELDS = [
  "workspaceId",
  "subscriptionId",
  "resourceGroupName",
  "workspaceName",
] as const;

/**
 * The lower-cased ARM id of the version the inputs designate (ARM compares ids case-insensitively),
 * or undefined when it cannot be known yet.
 */
export function designatedAssetId(
  inputs: AssetVersionCommonInputs,
  settings: AzureMlSettings | undefined,
  withVersion: boolean,
): string | undefined {
  const parts = [...WORKSPACE_FIELDS, "name", ...(withVersion ? ["version"] : [])].map(
    (key) => (inputs as unknown as Record<string, unknown>)[key],
  );
  if (!parts.every(isFullyKnown) || settings === undefined) {
    return undefined;
  }
  try {
    const scope = resolveScope(inputs, settings);
    const version = withVersion ? `/versions/${inputs.version}` : "";
    return `${workspaceId(scope)}/${inputs.name}${version}`.toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * The diff of an asset-version resource.
 * - It replaces only when the designated Azure resource changes: another workspace, name or version
 *   (resolved, so `workspaceId` in place of the same names, or a name's casing, is no replacement),
 *   or new content (`contentHash`). Replacing a version by itself would create it, then delete it.
 * - Inputs hashed into the content (a local path, say) only update state while the hash holds.
 * - A change in the serialized provider code alone is no change (`__provider` is never compared).
 * In preview it also says, in Azure ML's terms, why a version is replaced.
 */
export function assetDiff<O extends AssetVersionCommonOutputs, I extends AssetVersionCommonInputs>(
  spec: AssetDiffSpec,
) {
  return async (
    _id: string,
    olds: O,
    news: I,
    config?: pulumi.dynamic.Config,
  ): Promise<pulumi.dynamic.DiffResult> => {
    let settings: AzureMlSettings | undefined;
    try {
      settings = resolveSettings(config);
    } catch {
      settings = undefined; // compare the raw fields instead
    }
    const oldRecord = olds as unknown as Record<string, unknown>;
    const newRecord = news as unknown as Record<string, unknown>;
    const versionCounts = spec.versionIsIdentity?.(news) ?? true;
    const identity = [...WORKSPACE_FIELDS, "name", ...(versionCounts ? ["version"] : [])];
    const identityChanges = identity.filter((key) => fieldChanged(oldRecord, newRecord, key));
    const oldId = designatedAssetId(olds, settings, versionCounts);
    const newId = designatedAssetId(news, settings, versionCounts);
    const sameTarget = oldId !== undefined && oldId === newId;
    const contentChanged = fieldChanged(oldRecord, newRecord, "contentHash");
    const contentChanges = spec.content.filter((key) => fieldChanged(oldRecord, newRecord, key));
    refusePinnedVersionChange(spec.type, olds, news, contentChanged);

    const replaces = [
      ...(sameTarget
        ? []
        : identityChanges.length > 0
          ? identityChanges
          : oldId !== newId
            ? ["subscriptionId"]
            : []),
      ...(contentChanged ? [...contentChanges, "contentHash"] : []),
    ];
    const updates = [
      ...(sameTarget ? identityChanges : []),
      ...(contentChanged ? [] : contentChanges),
      ...[...MUTABLE_FIELDS, ...(spec.update ?? [])].filter((key) =>
        fieldChanged(oldRecord, newRecord, key),
      ),
    ];
    if (replaces.length > 0) {
      await explainReplacement(spec.type, olds, news, replaces);
      return { changes: true, replaces, deleteBeforeReplace: false };
    }
    return { changes: updates.length > 0, replaces: [] };
  };
}
