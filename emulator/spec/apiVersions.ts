/**
 * The api-versions Microsoft.MachineLearningServices published, as data, and how the emulator
 * serves each one (which carried spec's shapes it answers with).
 *
 * Source (pinned 2026-08-20): the version folders of Azure/bicep-types-az
 * `generated/machinelearningservices/microsoft.machinelearningservices/` (generated from every
 * swagger folder of Azure/azure-rest-api-specs
 * `specification/machinelearningservices/resource-manager/Microsoft.MachineLearningServices/{stable,preview}/`),
 * plus what bicep-types leaves out: `stable/2021-10-01` (an old-layout folder with `mfe.json`),
 * and the new layout's `MachineLearningServices/stable/2026-07-01` and
 * `preview/2026-07-15-preview` (its `readme.md`, commit 1d1c10b1). `mfe` says whether the
 * version's folder has the v2 asset, job and endpoint operations (`mfe.json`); the ones without
 * (2018-2021 stable, most early previews, 2022-01-01-preview) only had workspaces and computes.
 */

/** One published api-version. */
export interface PublishedApiVersion {
  readonly version: string;
  /** True when the version defines the v2 asset, datastore, job and batch endpoint types. */
  readonly mfe: boolean;
}

/** Every api-version the RP published (see the file header for the source), oldest first. */
export const PUBLISHED_ML_API_VERSIONS: readonly PublishedApiVersion[] = [
  { version: "2018-03-01-preview", mfe: false },
  { version: "2018-11-19", mfe: false },
  { version: "2019-05-01", mfe: false },
  { version: "2019-06-01", mfe: false },
  { version: "2019-11-01", mfe: false },
  { version: "2020-01-01", mfe: false },
  { version: "2020-02-18-preview", mfe: false },
  { version: "2020-03-01", mfe: false },
  { version: "2020-04-01", mfe: false },
  { version: "2020-04-01-preview", mfe: false },
  { version: "2020-05-01-preview", mfe: false },
  { version: "2020-05-15-preview", mfe: false },
  { version: "2020-06-01", mfe: false },
  { version: "2020-08-01", mfe: false },
  { version: "2020-09-01-preview", mfe: false },
  { version: "2021-01-01", mfe: false },
  { version: "2021-03-01-preview", mfe: true },
  { version: "2021-04-01", mfe: false },
  { version: "2021-07-01", mfe: false },
  { version: "2021-10-01", mfe: true },
  { version: "2022-01-01-preview", mfe: false },
  { version: "2022-02-01-preview", mfe: true },
  { version: "2022-05-01", mfe: true },
  { version: "2022-06-01-preview", mfe: true },
  { version: "2022-10-01", mfe: true },
  { version: "2022-10-01-preview", mfe: true },
  { version: "2022-12-01-preview", mfe: true },
  { version: "2023-02-01-preview", mfe: true },
  { version: "2023-04-01", mfe: true },
  { version: "2023-04-01-preview", mfe: true },
  { version: "2023-06-01-preview", mfe: true },
  { version: "2023-08-01-preview", mfe: true },
  { version: "2023-10-01", mfe: true },
  { version: "2024-01-01-preview", mfe: true },
  { version: "2024-04-01", mfe: true },
  { version: "2024-04-01-preview", mfe: true },
  { version: "2024-07-01-preview", mfe: true },
  { version: "2024-10-01", mfe: true },
  { version: "2024-10-01-preview", mfe: true },
  { version: "2025-01-01-preview", mfe: true },
  { version: "2025-04-01", mfe: true },
  { version: "2025-04-01-preview", mfe: true },
  { version: "2025-06-01", mfe: true },
  { version: "2025-07-01-preview", mfe: true },
  { version: "2025-09-01", mfe: true },
  { version: "2025-10-01-preview", mfe: true },
  { version: "2025-12-01", mfe: true },
  { version: "2026-01-15-preview", mfe: true },
  { version: "2026-03-01", mfe: true },
  { version: "2026-03-15-preview", mfe: true },
  { version: "2026-05-01", mfe: true },
  { version: "2026-05-15-preview", mfe: true },
  { version: "2026-07-01", mfe: true },
  { version: "2026-07-15-preview", mfe: true },
];

/**
 * The wire shapes one api-version is served with:
 * - `2021-03-01-preview`: that spec's asset versions (`{datastoreId, path}`, `datasetType`) and
 *   environments (`docker: {dockerSpecificationType, dockerImageUri}`), translated to and from the
 *   stored (2024-04-01) form;
 * - `2024-04-01`: the bundled spec; `newerFields` adds the three optional fields later versions
 *   added (`validate.ts`, `withNewerFields`);
 * - `pascalDataTypes`: the version spells data and job input/output types `UriFile`, `UriFolder`,
 *   `MLTable`, ... (2022-02-01-preview) instead of `uri_file`, `uri_folder`, `mltable`.
 */
export interface ApiVersionProfile {
  readonly version: string;
  readonly shapes: "2021-03-01-preview" | "2024-04-01";
  readonly newerFields: boolean;
  readonly pascalDataTypes: boolean;
  readonly mfe: boolean;
}

const BY_VERSION = new Map(PUBLISHED_ML_API_VERSIONS.map((v) => [v.version, v]));

/** The profile of a published api-version (matched case-insensitively), or undefined. */
export function apiVersionProfile(apiVersion: string): ApiVersionProfile | undefined {
  const published = BY_VERSION.get(apiVersion.toLowerCase());
  if (published === undefined) {
    return undefined;
  }
  const version = published.version;
  return {
    version,
    // The nearest carried spec: 2021-03-01-preview for itself, 2024-04-01 for every other
    // version (2021-10-01 already had the `codeUri`/`dataUri`/`modelUri` asset shapes).
    shapes: version === "2021-03-01-preview" ? "2021-03-01-preview" : "2024-04-01",
    newerFields: version.slice(0, 10) > "2024-04-01",
    pascalDataTypes: version === "2022-02-01-preview",
    mfe: published.mfe,
  };
}

/** The v2 types (below `workspaces/`), defined only by versions with `mfe.json`. */
const MFE_TYPES = new Set([
  "datastores",
  "codes",
  "data",
  "environments",
  "models",
  "jobs",
  "batchendpoints",
  "onlineendpoints",
]);

/**
 * True when `apiVersion` was published for `resourceType` (e.g. `workspaces/codes/versions`):
 * workspaces and computes exist in every version, the v2 types only where `mfe` is true.
 */
export function isPublishedFor(apiVersion: string, resourceType: string): boolean {
  const profile = apiVersionProfile(apiVersion);
  if (profile === undefined) {
    return false;
  }
  const [top, child] = resourceType.toLowerCase().split("/");
  return profile.mfe || top !== "workspaces" || !MFE_TYPES.has(child ?? "");
}

/** The versions published for `resourceType`, for ARM's NoRegisteredProviderFound message. */
export function publishedVersionsFor(resourceType: string): string[] {
  return PUBLISHED_ML_API_VERSIONS.filter((v) => isPublishedFor(v.version, resourceType)).map(
    (v) => v.version,
  );
}
