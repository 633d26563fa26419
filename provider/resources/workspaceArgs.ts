import type * as pulumi from "@pulumi/pulumi";

/**
 * Where a resource lives. Give either [workspaceId] (for example an `azure-native`
 * `machinelearningservices.Workspace`'s `id`) or [resourceGroupName] and [workspaceName].
 */
export interface WorkspaceArgs {
  /**
   * The workspace's ARM id. Mutually exclusive with [resourceGroupName]/[workspaceName]/[subscriptionId].
   */
  readonly workspaceId?: pulumi.Input<string>;
  /**
   * The subscription. Defaults to the stack config `azureml:subscriptionId`, then the environment
   * variable `AZURE_SUBSCRIPTION_ID`.
   */
  readonly subscriptionId?: pulumi.Input<string>;
  /** The workspace's resource group. */
  readonly resourceGroupName?: pulumi.Input<string>;
  /** The workspace's name. */
  readonly workspaceName?: pulumi.Input<string>;
}

/** Inputs shared by the four asset-version resources. */
export interface AssetVersionArgs extends WorkspaceArgs {
  /** The asset's name in Azure ML. Defaults to the Pulumi resource name. */
  readonly name?: pulumi.Input<string>;
  /**
   * The version. Defaults to one derived from the content (the first 16 hex digits of its sha256),
   * so a content change makes a new version instead of an update Azure ML would reject.
   */
  readonly version?: pulumi.Input<string>;
  /** A description; updated in place. */
  readonly description?: pulumi.Input<string>;
  /** Tags; updated in place. */
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Asset properties (a string map); updated in place. */
  readonly properties?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * What destroying the resource does to the version: `"archive"` (hide it from lists but keep it
   * usable by jobs that reference it, as Azure ML recommends), `"delete"`, or `"retain"`.
   * @default "archive"
   */
  readonly onDelete?: pulumi.Input<"archive" | "delete" | "retain">;
  /**
   * Bump this to force an update after upgrading this package (a change in provider code alone is
   * never a change).
   */
  readonly providerVersion?: pulumi.Input<string>;
}

/** Output seeds every asset-version resource registers, so Pulumi exposes them as outputs. */
export const ASSET_VERSION_OUTPUT_SEEDS = {
  assetId: undefined,
  assetReference: undefined,
  assetUri: undefined,
  contentHash: undefined,
} as const;
