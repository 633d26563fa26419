/**
 * Resource types (and actions) of Microsoft.MachineLearningServices that the emulator does not
 * serve: a request to one gets 501 NotImplemented naming it instead of ARM's 404
 * InvalidResourceType, since Azure serves it. Listed in emulator/DIFFERENCES.md.
 *
 * Source: every path of the 2024-04-01 swagger (`mfe.json`, `machineLearningServices.json`,
 * `registries.json`, `workspaceFeatures.json`; Azure/azure-rest-api-specs
 * `specification/machinelearningservices/resource-manager/Microsoft.MachineLearningServices/stable/2024-04-01/`)
 * reduced to its type (`workspaces/onlineEndpoints/deployments`), minus the served ones, plus
 * 2021-03-01-preview's `labelingJobs` and 2021-10-01's `datasets` (the seed batch document's
 * `PUT .../datasets/{name}/versions/{version}`; examples `DatasetVersion/*.json` of
 * `stable/2021-10-01` at azure-rest-api-specs commit ae9d3d9a, a draft of that version).
 */
export const UNSERVED_RESOURCE_TYPES: readonly string[] = [
  "locations/quotas",
  "locations/updateQuotas",
  "locations/usages",
  "locations/vmSizes",
  "registries",
  "registries/codes",
  "registries/codes/versions",
  "registries/codes/versions/startPendingUpload",
  "registries/components",
  "registries/components/versions",
  "registries/data",
  "registries/data/versions",
  "registries/data/versions/startPendingUpload",
  "registries/datareferences/versions",
  "registries/environments",
  "registries/environments/versions",
  "registries/models",
  "registries/models/versions",
  "registries/models/versions/startPendingUpload",
  "registries/removeRegions",
  "workspaces/codes/versions/publish",
  "workspaces/components",
  "workspaces/components/versions",
  "workspaces/components/versions/publish",
  "workspaces/computes/listKeys",
  "workspaces/computes/listNodes",
  "workspaces/computes/restart",
  "workspaces/computes/start",
  "workspaces/computes/stop",
  "workspaces/connections",
  "workspaces/connections/listsecrets",
  "workspaces/data/versions/publish",
  "workspaces/datasets",
  "workspaces/datasets/versions",
  "workspaces/diagnose",
  "workspaces/environments/versions/publish",
  "workspaces/features",
  "workspaces/featuresets",
  "workspaces/featuresets/versions",
  "workspaces/featuresets/versions/backfill",
  "workspaces/featuresets/versions/features",
  "workspaces/featurestoreEntities",
  "workspaces/featurestoreEntities/versions",
  "workspaces/labelingJobs",
  "workspaces/labelingJobs/exportLabels",
  "workspaces/labelingJobs/pause",
  "workspaces/labelingJobs/resume",
  "workspaces/listKeys",
  "workspaces/listNotebookAccessToken",
  "workspaces/listNotebookKeys",
  "workspaces/listStorageAccountKeys",
  "workspaces/marketplaceSubscriptions",
  "workspaces/models/versions/publish",
  "workspaces/onlineEndpoints",
  "workspaces/onlineEndpoints/deployments",
  "workspaces/onlineEndpoints/deployments/getLogs",
  "workspaces/onlineEndpoints/deployments/skus",
  "workspaces/onlineEndpoints/listKeys",
  "workspaces/onlineEndpoints/regenerateKeys",
  "workspaces/onlineEndpoints/token",
  "workspaces/outboundNetworkDependenciesEndpoints",
  "workspaces/outboundRules",
  "workspaces/prepareNotebook",
  "workspaces/privateEndpointConnections",
  "workspaces/privateLinkResources",
  "workspaces/provisionManagedNetwork",
  "workspaces/resyncKeys",
  "workspaces/schedules",
  "workspaces/serverlessEndpoints",
  "workspaces/serverlessEndpoints/listKeys",
  "workspaces/serverlessEndpoints/regenerateKeys",
];

const UNSERVED = new Set(UNSERVED_RESOURCE_TYPES.map((t) => t.toLowerCase()));

/** True when `resourceType` (e.g. `workspaces/onlineEndpoints`) is an RP type the emulator lacks. */
export function isUnservedResourceType(resourceType: string): boolean {
  return UNSERVED.has(resourceType.toLowerCase());
}
