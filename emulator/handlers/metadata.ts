/**
 * `GET /metadata/endpoints?api-version=...`: ARM's cloud metadata document, unauthenticated as on
 * ARM, naming the emulator's own endpoints. Azure CLI (`az cloud register --endpoint-resource-manager`)
 * and azure-ai-ml (`ARM_CLOUD_METADATA_URL`) read a custom cloud from it; azure-ai-ml takes the
 * cloud whose `resourceManager` is a prefix of the metadata URL, asks for tokens for
 * `<resourceManager>/.default`, and derives the Azure ML audience `https://ml.azure.<suffix>` from
 * `portal` (so `https://portal.azure.com` keeps it `https://ml.azure.com`).
 */
import type { RouteDefinition, Router } from "../router";
import { findQuery } from "../middleware/apiVersion";

/** The cloud name clients register the emulator under. */
export const EMULATOR_CLOUD_NAME = "AzureMLEmulator";

export const METADATA_ROUTE: RouteDefinition = {
  id: "Emulator_Metadata_Endpoints",
  method: "GET",
  template: "/metadata/endpoints",
  plane: "arm",
  apiVersions: "none",
  queryParameters: [],
  acceptsAnyQuery: true,
  nameRules: [],
  scope: "none",
  resourceType: "",
  faultable: true,
  anonymous: true,
};

/** The metadata document of a cloud whose ARM endpoint is `armEndpoint`. */
export function cloudMetadata(armEndpoint: string): Record<string, unknown> {
  const resourceManager = `${armEndpoint.replace(/\/+$/, "")}/`;
  return {
    name: EMULATOR_CLOUD_NAME,
    portal: "https://portal.azure.com",
    resourceManager,
    authentication: {
      loginEndpoint: "https://login.microsoftonline.com/",
      audiences: [
        resourceManager,
        "https://management.core.windows.net/",
        "https://management.azure.com/",
      ],
      tenant: "common",
      identityProvider: "AAD",
    },
    media: "https://rest.media.azure.net",
    graphAudience: "https://graph.windows.net/",
    graph: "https://graph.windows.net/",
    batch: "https://batch.core.windows.net/",
    microsoftGraphResourceId: "https://graph.microsoft.com/",
    sqlManagement: "https://management.core.windows.net:8443/",
    gallery: "https://gallery.azure.com/",
    suffixes: {
      storage: "core.windows.net",
      acrLoginServer: "azurecr.io",
      keyVaultDns: "vault.azure.net",
      sqlServerHostname: "database.windows.net",
    },
  };
}

export function registerMetadataHandlers(router: Router): void {
  router.add({ ...METADATA_ROUTE });
  router.register(METADATA_ROUTE.id, (hc) => {
    const document = cloudMetadata(hc.services.settings.publicUrl);
    // api-version 2019-05-01 (azure-ai-ml's default URL) answers a list of clouds; 2022-09-01
    // (Azure CLI) a single one. The boundary between them is unconfirmed: 2020-06-01 and later
    // answer one object here.
    const apiVersion = findQuery(hc.query, "api-version") ?? "";
    return { status: 200, body: apiVersion >= "2020-06-01" ? document : [document] };
  });
}
