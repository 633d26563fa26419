/**
 * `GET .../providers/Microsoft.Storage/storageAccounts/{accountName}` (any Microsoft.Storage
 * api-version): how clients discover the workspace's blob endpoint, faithfully through ARM.
 */
import { ErrorFactory } from "../errors";
import type { RouteDefinition, Router } from "../router";
import { storageAccountId } from "../state/ids";
import { SEED_TIME } from "../state/seed";

export const STORAGE_ACCOUNT_ROUTE: RouteDefinition = {
  id: "Emulator_StorageAccounts_GetProperties",
  method: "GET",
  template:
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Storage/storageAccounts/{accountName}",
  plane: "arm",
  apiVersions: "storage",
  queryParameters: [{ name: "$expand", in: "query", type: "string" }],
  nameRules: [],
  scope: "resourceGroup",
  resourceType: "storageAccounts",
  faultable: true,
};

export function registerStorageAccountHandlers(router: Router): void {
  router.add({ ...STORAGE_ACCOUNT_ROUTE });
  router.register(STORAGE_ACCOUNT_ROUTE.id, (hc) => {
    const { settings } = hc.services;
    const name = hc.params.accountName;
    if (name.toLowerCase() !== settings.storage.accountName.toLowerCase()) {
      throw ErrorFactory.armResourceNotFound(
        "Microsoft.Storage/storageAccounts",
        name,
        hc.params.resourceGroupName,
      );
    }
    const blob = settings.storage.blobEndpoint.endsWith("/")
      ? settings.storage.blobEndpoint
      : `${settings.storage.blobEndpoint}/`;
    return {
      status: 200,
      body: {
        id: storageAccountId(settings.scope, settings.storage.accountName),
        name: settings.storage.accountName,
        type: "Microsoft.Storage/storageAccounts",
        location: settings.location,
        kind: "StorageV2",
        sku: { name: "Standard_LRS", tier: "Standard" },
        tags: {},
        properties: {
          provisioningState: "Succeeded",
          creationTime: SEED_TIME,
          primaryLocation: settings.location,
          statusOfPrimary: "available",
          accessTier: "Hot",
          isHnsEnabled: false,
          supportsHttpsTrafficOnly: blob.startsWith("https:"),
          allowBlobPublicAccess: false,
          minimumTlsVersion: "TLS1_2",
          primaryEndpoints: { blob },
        },
      },
    };
  });
}
