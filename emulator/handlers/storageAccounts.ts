/**
 * `GET .../providers/Microsoft.Storage/storageAccounts/{accountName}` (any Microsoft.Storage
 * api-version): how clients discover the workspace's blob endpoint, faithfully through ARM.
 */
import { ErrorFactory } from "../errors";
import type { ControlPlaneSettings, Handler, RouteDefinition, Router } from "../router";
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

const ACCOUNT_TEMPLATE = STORAGE_ACCOUNT_ROUTE.template;

/** `POST .../storageAccounts/{accountName}/listKeys` and the account lists scripts call. */
const EXTRA_ROUTES: RouteDefinition[] = [
  {
    ...STORAGE_ACCOUNT_ROUTE,
    id: "Emulator_StorageAccounts_ListKeys",
    method: "POST",
    template: `${ACCOUNT_TEMPLATE}/listKeys`,
    queryParameters: [{ name: "$expand", in: "query", type: "string" }],
  },
  {
    ...STORAGE_ACCOUNT_ROUTE,
    id: "Emulator_StorageAccounts_ListByResourceGroup",
    template:
      "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Storage/storageAccounts",
    queryParameters: [],
  },
  {
    ...STORAGE_ACCOUNT_ROUTE,
    id: "Emulator_StorageAccounts_List",
    template: "/subscriptions/{subscriptionId}/providers/Microsoft.Storage/storageAccounts",
    queryParameters: [],
    scope: "subscription",
  },
];

export function registerStorageAccountHandlers(router: Router): void {
  for (const route of EXTRA_ROUTES) {
    router.add({ ...route });
  }
  router.register("Emulator_StorageAccounts_ListKeys", (hc) => {
    const { settings } = hc.services;
    if (hc.params.accountName.toLowerCase() !== settings.storage.accountName.toLowerCase()) {
      throw ErrorFactory.armResourceNotFound(
        "Microsoft.Storage/storageAccounts",
        hc.params.accountName,
        hc.params.resourceGroupName,
      );
    }
    // Microsoft.Storage's StorageAccountListKeysResult; Azurite has one key, served as both.
    const key = (keyName: string) => ({
      keyName,
      value: settings.storage.accountKey,
      permissions: "FULL",
      creationTime: SEED_TIME,
    });
    return { status: 200, body: { keys: [key("key1"), key("key2")] } };
  });
  const list: Handler = (hc) => ({
    status: 200,
    body: { value: [accountResource(hc.services.settings)] },
  });
  router.register("Emulator_StorageAccounts_ListByResourceGroup", list);
  router.register("Emulator_StorageAccounts_List", list);
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
    return { status: 200, body: accountResource(settings) };
  });
}

/** The workspace's storage account as Microsoft.Storage's GET returns it. */
function accountResource(settings: ControlPlaneSettings): Record<string, unknown> {
  const blob = settings.storage.blobEndpoint.endsWith("/")
    ? settings.storage.blobEndpoint
    : `${settings.storage.blobEndpoint}/`;
  return {
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
  };
}
