/**
 * The seeded workspace: the workspace itself (derived from the settings, never stored), its two
 * blob datastores and the local compute `cpu-cluster`. Seeds are written at start and on reset.
 */
import type { ControlPlaneSettings } from "../router";
import type { StoredResource } from "../handlers/common";
import {
  childId,
  stableGuid,
  storageAccountId,
  storeKey,
  workspaceArmId,
  type WorkspaceScope,
} from "./ids";
import { EMULATOR_TENANT_ID } from "../tokens";
import { workspaceTrackingPath } from "../mlflow/paths";

export const COLLECTIONS = {
  computes: "computes",
  datastores: "datastores",
  pendingUploads: "pendingUploads",
  scenarios: "scenarios",
  meta: "meta",
} as const;

export const DEFAULT_DATASTORE = "workspaceblobstore";
export const ARTIFACT_DATASTORE = "workspaceartifactstore";
export const LOCAL_COMPUTE = "cpu-cluster";
/** When seeds were "created": fixed, so seeded resources look the same across restarts. */
export const SEED_TIME = "2024-01-01T00:00:00.000Z";

export function workspaceGuid(scope: WorkspaceScope): string {
  return stableGuid(
    "azureml-emulator-workspace",
    scope.subscriptionId,
    scope.resourceGroupName,
    scope.workspaceName,
  );
}

export function defaultBlobContainer(scope: WorkspaceScope): string {
  return `azureml-blobstore-${workspaceGuid(scope)}`;
}

export const ARTIFACT_CONTAINER = "azureml";

/** `GET {ws}`: the Workspace resource. */
export function workspaceResource(settings: ControlPlaneSettings): Record<string, unknown> {
  const { scope, location } = settings;
  const rg = `/subscriptions/${scope.subscriptionId}/resourceGroups/${scope.resourceGroupName}`;
  const guid = workspaceGuid(scope);
  return {
    id: workspaceArmId(scope),
    name: scope.workspaceName,
    type: "Microsoft.MachineLearningServices/workspaces",
    location,
    kind: "Default",
    tags: {},
    sku: { name: "Basic", tier: "Basic" },
    identity: {
      type: "SystemAssigned",
      principalId: stableGuid("principal", guid),
      tenantId: EMULATOR_TENANT_ID,
    },
    systemData: {
      createdAt: SEED_TIME,
      createdBy: "emulator-user@azureml-emulator.local",
      createdByType: "User",
      lastModifiedAt: SEED_TIME,
      lastModifiedBy: "emulator-user@azureml-emulator.local",
      lastModifiedByType: "User",
    },
    properties: {
      workspaceId: guid,
      friendlyName: scope.workspaceName,
      description: "Local Azure ML emulator workspace",
      storageAccount: storageAccountId(scope, settings.storage.accountName),
      keyVault: `${rg}/providers/Microsoft.KeyVault/vaults/kv-${guid.slice(0, 8)}`,
      applicationInsights: `${rg}/providers/Microsoft.Insights/components/ai-${guid.slice(0, 8)}`,
      containerRegistry: null,
      discoveryUrl: `https://${location}.api.azureml.ms/discovery`,
      // Azure's shape with the emulator's host: a client turns azureml:// into https://.
      mlFlowTrackingUri: `azureml://${new URL(settings.publicUrl).host}${workspaceTrackingPath(scope)}`,
      provisioningState: "Succeeded",
      tenantId: EMULATOR_TENANT_ID,
      hbiWorkspace: false,
      storageHnsEnabled: false,
      publicNetworkAccess: "Enabled",
      v1LegacyMode: false,
      privateLinkCount: 0,
      allowPublicAccessWhenBehindVnet: false,
      enableDataIsolation: false,
    },
  };
}

export function datastoreResource(
  settings: ControlPlaneSettings,
  name: string,
  containerName: string,
  isDefault: boolean,
): StoredResource {
  const { scope } = settings;
  return {
    createdSeq: 0,
    resource: {
      id: childId(scope, "datastores", name),
      name,
      type: "Microsoft.MachineLearningServices/workspaces/datastores",
      systemData: seedSystemData(),
      properties: {
        description: null,
        tags: {},
        properties: {},
        isDefault,
        credentials: { credentialsType: "AccountKey" },
        datastoreType: "AzureBlob",
        accountName: settings.storage.accountName,
        containerName,
        endpoint: "core.windows.net",
        protocol: "https",
        serviceDataAccessAuthIdentity: "None",
        subscriptionId: scope.subscriptionId,
        resourceGroup: scope.resourceGroupName,
      },
    },
  };
}

export function localComputeResource(settings: ControlPlaneSettings): StoredResource {
  return {
    createdSeq: 0,
    resource: {
      id: childId(settings.scope, "computes", LOCAL_COMPUTE),
      name: LOCAL_COMPUTE,
      type: "Microsoft.MachineLearningServices/workspaces/computes",
      location: settings.location,
      tags: {},
      systemData: seedSystemData(),
      properties: {
        computeType: "AmlCompute",
        computeLocation: settings.location,
        description: "Local compute: the emulator runs jobs on it as local processes.",
        provisioningState: "Succeeded",
        createdOn: SEED_TIME,
        modifiedOn: SEED_TIME,
        isAttachedCompute: false,
        disableLocalAuth: true,
        resourceId: null,
        provisioningErrors: null,
        properties: {
          osType: "Linux",
          vmSize: "STANDARD_DS3_V2",
          vmPriority: "Dedicated",
          scaleSettings: { maxNodeCount: 1, minNodeCount: 0, nodeIdleTimeBeforeScaleDown: "PT2M" },
          remoteLoginPortPublicAccess: "Disabled",
          enableNodePublicIp: true,
          isolatedNetwork: false,
          allocationState: "Steady",
          allocationStateTransitionTime: SEED_TIME,
          currentNodeCount: 0,
          targetNodeCount: 0,
          nodeStateCounts: {
            idleNodeCount: 0,
            runningNodeCount: 0,
            preparingNodeCount: 0,
            unusableNodeCount: 0,
            leavingNodeCount: 0,
            preemptedNodeCount: 0,
          },
          errors: null,
        },
      },
    },
  };
}

/** Every seeded record, keyed by collection and store key (the lower-cased ARM id). */
export function seedRecords(
  settings: ControlPlaneSettings,
): Array<{ collection: string; key: string; value: StoredResource }> {
  const records = [
    {
      collection: COLLECTIONS.datastores,
      value: datastoreResource(
        settings,
        DEFAULT_DATASTORE,
        defaultBlobContainer(settings.scope),
        true,
      ),
    },
    {
      collection: COLLECTIONS.datastores,
      value: datastoreResource(settings, ARTIFACT_DATASTORE, ARTIFACT_CONTAINER, false),
    },
    { collection: COLLECTIONS.computes, value: localComputeResource(settings) },
  ];
  return records.map((r) => ({ ...r, key: storeKey(r.value.resource.id) }));
}

/** Blob containers the seeded datastores point at (created in Azurite at start). */
export function seedContainers(scope: WorkspaceScope): string[] {
  return [defaultBlobContainer(scope), ARTIFACT_CONTAINER];
}

function seedSystemData() {
  return {
    createdAt: SEED_TIME,
    createdBy: "emulator-user@azureml-emulator.local",
    createdByType: "User",
    lastModifiedAt: SEED_TIME,
    lastModifiedBy: "emulator-user@azureml-emulator.local",
    lastModifiedByType: "User",
  };
}
