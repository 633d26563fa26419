/**
 * Helpers shared by every lifecycle module: the preview's unknown sentinel, workspace scope,
 * check failures, field-by-field diffs and client creation. Loaded only inside the provider host.
 */
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import type * as pulumi from "@pulumi/pulumi";
import { createAzureMlClient, type AzureMlClient } from "../core/client";
import {
  isValidResourceGroupName,
  parseWorkspaceId,
  workspaceId,
  type WorkspaceScope,
} from "../core/ids";
import { resolveSettings, type AzureMlSettings, type ConfigSource } from "../core/settings";
import { isEmptyDirectoryError } from "../upload/errors";

/** What the engine sends for every value that is not known yet during `pulumi preview`. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** True when `value` is not the preview's unknown sentinel (shallow). */
export function isKnown(value: unknown): boolean {
  return value !== UNKNOWN;
}

/** True when neither `value` nor anything inside it is unknown. */
export function isFullyKnown(value: unknown): boolean {
  if (value === UNKNOWN) {
    return false;
  }
  if (Array.isArray(value)) {
    return value.every(isFullyKnown);
  }
  if (value !== null && typeof value === "object") {
    return Object.values(value).every(isFullyKnown);
  }
  return true;
}

export type CheckFailure = pulumi.dynamic.CheckFailure;

/** Collects check failures; each names the property the user has to fix. */
export class Failures {
  readonly list: CheckFailure[] = [];
  add(property: string, reason: string): void {
    this.list.push({ property, reason });
  }
  get any(): boolean {
    return this.list.length > 0;
  }
}

/** Drops `__provider` (and undefined values) before inputs are forwarded anywhere. */
export function withoutProvider<T extends object>(value: T): T {
  const copy: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key !== "__provider" && v !== undefined) {
      copy[key] = v;
    }
  }
  return copy as T;
}

/** Workspace inputs common to every resource: an ARM id, or the three names. */
export interface WorkspaceInputs {
  workspaceId?: string;
  subscriptionId?: string;
  resourceGroupName?: string;
  workspaceName?: string;
}

const WORKSPACE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$/;

/**
 * Validates the workspace inputs that are known, and the provider settings they will be used with
 * (stack config and environment), so a bad setting or a missing subscription shows in preview.
 */
export function checkWorkspace(
  news: WorkspaceInputs,
  failures: Failures,
  config?: ConfigSource,
): void {
  checkNames(news, failures);
  let settings: AzureMlSettings;
  try {
    settings = resolveSettings(config);
  } catch (error) {
    failures.add("providerConfig", (error as Error).message);
    return;
  }
  if (
    news.workspaceId === undefined &&
    news.subscriptionId === undefined &&
    !settings.subscriptionId
  ) {
    failures.add(
      "subscriptionId",
      "No subscription: set [subscriptionId] or [workspaceId] on the resource, the stack config azureml:subscriptionId, or AZURE_SUBSCRIPTION_ID.",
    );
  }
}

function checkNames(news: WorkspaceInputs, failures: Failures): void {
  const named =
    news.resourceGroupName !== undefined ||
    news.workspaceName !== undefined ||
    news.subscriptionId !== undefined;
  if (news.workspaceId !== undefined) {
    if (named) {
      failures.add(
        "workspaceId",
        "[workspaceId] and [subscriptionId]/[resourceGroupName]/[workspaceName] are mutually exclusive; give one or the other.",
      );
    }
    if (isKnown(news.workspaceId)) {
      try {
        parseWorkspaceId(news.workspaceId);
      } catch {
        failures.add(
          "workspaceId",
          `[workspaceId] must be a workspace ARM id (/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.MachineLearningServices/workspaces/<name>), got "${news.workspaceId}".`,
        );
      }
    }
    return;
  }
  if (news.resourceGroupName === undefined) {
    failures.add("resourceGroupName", "[resourceGroupName] is required (or give [workspaceId]).");
  } else if (isKnown(news.resourceGroupName) && !isValidResourceGroupName(news.resourceGroupName)) {
    failures.add(
      "resourceGroupName",
      `[resourceGroupName] "${news.resourceGroupName}" is not a valid resource group name: 1-90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.'.`,
    );
  }
  if (news.workspaceName === undefined) {
    failures.add("workspaceName", "[workspaceName] is required (or give [workspaceId]).");
  } else if (isKnown(news.workspaceName) && !WORKSPACE_NAME.test(news.workspaceName)) {
    failures.add(
      "workspaceName",
      `[workspaceName] "${news.workspaceName}" is not a valid workspace name: 3-33 letters, digits, '-' or '_', starting with a letter or digit.`,
    );
  }
}

/** Resolves the workspace scope; the subscription falls back to the provider settings. */
export function resolveScope(inputs: WorkspaceInputs, settings: AzureMlSettings): WorkspaceScope {
  if (inputs.workspaceId) {
    return parseWorkspaceId(inputs.workspaceId);
  }
  const subscriptionId = inputs.subscriptionId ?? settings.subscriptionId;
  if (!subscriptionId) {
    throw new TypeError(
      "No subscription: set [subscriptionId] on the resource, the stack config azureml:subscriptionId, or AZURE_SUBSCRIPTION_ID.",
    );
  }
  return {
    subscriptionId,
    resourceGroupName: inputs.resourceGroupName as string,
    workspaceName: inputs.workspaceName as string,
  };
}

export interface Session {
  settings: AzureMlSettings;
  client: AzureMlClient;
  scope: WorkspaceScope;
  /** The workspace's ARM id. */
  workspace: string;
}

/** Settings from the stack config and environment, a client, and the resource's workspace. */
export function openSession(inputs: WorkspaceInputs, config?: ConfigSource): Session {
  const settings = resolveSettings(config);
  const scope = resolveScope(inputs, settings);
  return {
    settings,
    client: createAzureMlClient({ settings }),
    scope,
    workspace: workspaceId(scope),
  };
}

/** Values the user did not set and values set to empty collections compare equal. */
function normalized(value: unknown): unknown {
  if (value === null || value === undefined) {
    return undefined;
  }
  if (Array.isArray(value)) {
    return value.length === 0 ? undefined : value;
  }
  if (typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined && v !== null);
    return entries.length === 0 ? undefined : Object.fromEntries(entries);
  }
  return value;
}

/** True when a field differs between the stored outputs and the new inputs (unknown counts). */
export function fieldChanged(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
  key: string,
): boolean {
  if (!isFullyKnown(news[key])) {
    return true;
  }
  return !isDeepStrictEqual(normalized(olds[key]), normalized(news[key]));
}

/**
 * Local paths are kept relative to the Pulumi project directory (the provider host's working
 * directory), so state holds no machine path and a stack works from any checkout.
 */
export function toProjectRelative(localPath: string, projectDir = process.cwd()): string {
  if (!path.isAbsolute(localPath)) {
    return localPath.split(path.sep).join("/");
  }
  const relative = path.relative(projectDir, localPath) || ".";
  return relative.split(path.sep).join("/");
}

/** The absolute path of a project-relative (or absolute) local path. */
export function resolveLocalPath(localPath: string, projectDir = process.cwd()): string {
  return path.resolve(projectDir, localPath);
}

/** True for strings that name remote content rather than a local path. */
export function isRemoteUri(value: string): boolean {
  return /^(https?|azureml|wasbs?|abfss?|adl|runs):/i.test(value) || value.startsWith("azureml:");
}

/** Why a local path cannot be used, in the user's own terms. */
export function pathFailure(userPath: string, error: unknown): string {
  if (isEmptyDirectoryError(error)) {
    return error.ignoredCount > 0
      ? `[path] "${userPath}" has no files to upload: all ${error.ignoredCount} entries are excluded by ${error.ignoreSource}.`
      : `[path] "${userPath}" has no files to upload.`;
  }
  if ((error as NodeJS.ErrnoException).code === "ENOENT") {
    return `[path] "${userPath}" does not exist (relative paths are resolved from the Pulumi project directory).`;
  }
  return `[path] "${userPath}" cannot be read: ${(error as Error).message}`;
}

const ASSET_NAME = /^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$/;

/** Validates the name, version, description, tags and properties shared by all asset versions. */
export function checkAssetCommon(
  news: {
    name?: unknown;
    version?: unknown;
    description?: unknown;
    tags?: unknown;
    properties?: unknown;
    onDelete?: unknown;
  },
  failures: Failures,
): void {
  if (typeof news.name !== "string" || (isKnown(news.name) && !ASSET_NAME.test(news.name))) {
    failures.add(
      "name",
      `[name] "${String(news.name)}" is not a valid Azure ML asset name: 1-255 letters, digits, '-' or '_', starting with a letter or digit.`,
    );
  }
  if (news.version !== undefined && isKnown(news.version)) {
    if (
      typeof news.version !== "string" ||
      !/^[a-zA-Z0-9][a-zA-Z0-9.\-_]{0,99}$/.test(news.version)
    ) {
      failures.add(
        "version",
        `[version] "${String(news.version)}" is not a valid version: up to 100 letters, digits, '.', '-' or '_', starting with a letter or digit.`,
      );
    }
  }
  checkStringMap(news.tags, "tags", failures);
  checkStringMap(news.properties, "properties", failures);
  if (
    news.description !== undefined &&
    isKnown(news.description) &&
    typeof news.description !== "string"
  ) {
    failures.add("description", "[description] must be a string.");
  }
  if (
    news.onDelete !== undefined &&
    isKnown(news.onDelete) &&
    !["archive", "delete", "retain"].includes(news.onDelete as string)
  ) {
    failures.add(
      "onDelete",
      `[onDelete] must be "archive", "delete" or "retain", got "${String(news.onDelete)}".`,
    );
  }
}

/** A map of strings (tags, properties, environment variables); unknown values pass. */
export function checkStringMap(value: unknown, property: string, failures: Failures): void {
  if (value === undefined || !isKnown(value)) {
    return;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    failures.add(property, `[${property}] must be a map of strings.`);
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    if (isKnown(v) && typeof v !== "string") {
      failures.add(`${property}.${key}`, `[${property}.${key}] must be a string, got ${typeof v}.`);
    }
  }
}

/**
 * Why a URI cannot be stored: one carrying a SAS signature would sit in the stack's state in plain
 * text (and make every rotation a new version). Undefined when the URI is fine.
 */
export function sasFailure(uri: string, property: string): string | undefined {
  let query: URLSearchParams;
  try {
    query = new URL(uri).searchParams;
  } catch {
    return undefined;
  }
  return query.has("sig")
    ? `[${property}] carries a SAS signature (sig=…), which would be stored in plain text in the stack state. ` +
        "Register the data through a datastore (azureml://datastores/<name>/paths/…) or give a URL without a SAS."
    : undefined;
}
