/** ARM ids and stable GUIDs for the emulated workspace. Pure functions. */
import { createHash } from "node:crypto";

export const ML_PROVIDER = "Microsoft.MachineLearningServices";

export interface WorkspaceScope {
  subscriptionId: string;
  resourceGroupName: string;
  workspaceName: string;
}

export function resourceGroupId(
  scope: Pick<WorkspaceScope, "subscriptionId" | "resourceGroupName">,
): string {
  return `/subscriptions/${scope.subscriptionId}/resourceGroups/${scope.resourceGroupName}`;
}

export function workspaceArmId(scope: WorkspaceScope): string {
  return `${resourceGroupId(scope)}/providers/${ML_PROVIDER}/workspaces/${scope.workspaceName}`;
}

/** `{ws}/<segments joined by '/'>`, e.g. `childId(scope, "codes", name, "versions", v)`. */
export function childId(scope: WorkspaceScope, ...segments: string[]): string {
  return [workspaceArmId(scope), ...segments].join("/");
}

/**
 * The store key of a resource: its ARM id lower-cased, because ARM matches resource names
 * case-insensitively while the resource itself keeps the casing of its latest PUT.
 */
export function storeKey(armId: string): string {
  return armId.toLowerCase();
}

export function storageAccountId(
  scope: Pick<WorkspaceScope, "subscriptionId" | "resourceGroupName">,
  accountName: string,
): string {
  return `${resourceGroupId(scope)}/providers/Microsoft.Storage/storageAccounts/${accountName}`;
}

/** A GUID derived from the inputs (SHA-1, version-5 layout): stable across restarts. */
export function stableGuid(...parts: string[]): string {
  const hash = createHash("sha1").update(parts.join("\u0000")).digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
