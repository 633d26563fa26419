/**
 * URL builders and shapes for the workspace, its datastores and its storage account. Pure.
 */
import { workspaceId, type WorkspaceScope } from "../core/ids";

export function datastoresPath(scope: WorkspaceScope): string {
  return `${workspaceId(scope)}/datastores`;
}

export function listSecretsPath(scope: WorkspaceScope, datastore: string): string {
  return `${datastoresPath(scope)}/${encodeURIComponent(datastore)}/listSecrets`;
}

/** Microsoft.Storage api-version used to read a storage account's endpoints. */
export const STORAGE_API_VERSION = "2023-01-01";

export interface DatastoreResource {
  id: string;
  name: string;
  properties: {
    datastoreType?: string;
    isDefault?: boolean;
    accountName?: string;
    containerName?: string;
    endpoint?: string;
    protocol?: string;
  };
}

export interface WorkspaceResource {
  id: string;
  location?: string;
  properties: {
    storageAccount?: string;
    workspaceId?: string;
    /**
     * `azureml://<host>/mlflow/v1.0/subscriptions/...`: where the workspace's MLflow runs live.
     * ARM spells it `mlFlowTrackingUri`; SDKs `mlflowTrackingUri`.
     */
    mlFlowTrackingUri?: string | null;
    mlflowTrackingUri?: string | null;
  };
}

export interface StorageAccountResource {
  properties?: { primaryEndpoints?: { blob?: string } };
}

/**
 * The blob endpoint of a datastore's account, as Azure builds it from the datastore's fields
 * (`https://<account>.blob.core.windows.net/`), used when the account is not the workspace's own.
 */
export function blobEndpointFromDatastore(datastore: DatastoreResource): string {
  const { accountName, endpoint = "core.windows.net", protocol = "https" } = datastore.properties;
  return `${protocol}://${accountName}.blob.${endpoint}/`;
}

/** `azureml://subscriptions/<s>/resourcegroups/<rg>/workspaces/<ws>/datastores/<ds>/paths/<p>`. */
export function datastorePathUri(
  scope: WorkspaceScope,
  datastore: string,
  blobPath: string,
): string {
  return (
    `azureml://subscriptions/${scope.subscriptionId}/resourcegroups/${scope.resourceGroupName}` +
    `/workspaces/${scope.workspaceName}/datastores/${datastore}/paths/${blobPath}`
  );
}
