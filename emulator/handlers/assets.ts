/**
 * Asset containers and versions for environments, data, code and models (contract sections 3-4,
 * 7.2): PUT/GET/list/DELETE, implicit containers with latestVersion/nextVersion, listViewType,
 * $orderBy, $top paging with nextLink, code lookup by content hash across all names, integer
 * model versions, and Azure's immutability rules for versions.
 */
import { ErrorFactory } from "../errors";
import { findQuery } from "../middleware/apiVersion";
import type { HandlerContext, Router } from "../router";
import { childId, storeKey } from "../state/ids";
import { NAME_RULES } from "../validate";
import {
  asObject,
  jsonEqual,
  matchesTagFilter,
  nowIso,
  paginate,
  positiveIntQuery,
  systemData,
  type Json,
  type StoredResource,
} from "./common";

export type AssetKind = "environments" | "data" | "codes" | "models";

interface AssetKindSpec {
  kind: AssetKind;
  /** The swagger operationId prefix: `${prefix}Versions_Get`, `${prefix}Containers_List`. */
  prefix: "Environment" | "Data" | "Code" | "Model";
  label: string;
  /** Content fields whose change Azure reports as "Asset paths cannot be updated." (400). */
  pathFields: readonly string[];
  containerHasProvisioningState: boolean;
  /** Server-filled defaults on a version's properties. */
  versionDefaults: Json;
  /** Fields Azure always returns, filled when the body has none. */
  versionFallbacks?: Json;
  checkVersionName?(version: string): void;
  checkVersionBody?(properties: Json): void;
}

/** Fields a re-PUT of an existing version may change (everything else is content). */
export const MUTABLE_VERSION_FIELDS: readonly string[] = [
  "description",
  "tags",
  "properties",
  "isArchived",
  "stage",
];

export const ASSET_KINDS: Record<AssetKind, AssetKindSpec> = {
  environments: {
    kind: "environments",
    prefix: "Environment",
    label: "Environment",
    pathFields: [],
    containerHasProvisioningState: true,
    versionDefaults: {
      osType: "Linux",
      autoRebuild: "Disabled",
      environmentType: "UserCreated",
      provisioningState: "Succeeded",
    },
    checkVersionBody(properties) {
      if (properties.image === undefined && properties.build === undefined) {
        throw ErrorFactory.badArgument(
          "An environment version needs either properties.image or properties.build.",
          "properties.image",
        );
      }
    },
  },
  data: {
    kind: "data",
    prefix: "Data",
    label: "Data",
    pathFields: ["dataUri", "dataType"],
    containerHasProvisioningState: false,
    versionDefaults: {},
  },
  codes: {
    kind: "codes",
    prefix: "Code",
    label: "Code",
    pathFields: ["codeUri"],
    containerHasProvisioningState: true,
    versionDefaults: { provisioningState: "Succeeded" },
  },
  models: {
    kind: "models",
    prefix: "Model",
    label: "Model",
    pathFields: ["modelUri", "modelType"],
    containerHasProvisioningState: true,
    versionDefaults: { provisioningState: "Succeeded" },
    // azure-ai-ml's Model._from_rest_object iterates `flavors` (the spec examples carry it).
    versionFallbacks: { flavors: {} },
    checkVersionName(version) {
      if (!NAME_RULES.modelVersion.test(version)) {
        throw ErrorFactory.invalidModelVersion(version);
      }
    },
  },
};

export const containerCollection = (kind: AssetKind) => `assetContainers:${kind}`;
export const versionCollection = (kind: AssetKind) => `assetVersions:${kind}`;

export function registerAssetHandlers(router: Router): void {
  for (const spec of Object.values(ASSET_KINDS)) {
    registerKind(router, spec);
  }
}

function registerKind(router: Router, spec: AssetKindSpec): void {
  const { kind, prefix } = spec;
  const containerType = `Microsoft.MachineLearningServices/workspaces/${kind}`;
  const versionType = `${containerType}/versions`;
  const containerId = (hc: HandlerContext, name = hc.params.name) =>
    childId(hc.services.settings.scope, kind, name);
  const versionId = (hc: HandlerContext) =>
    childId(hc.services.settings.scope, kind, hc.params.name, "versions", hc.params.version);
  const containerKey = (hc: HandlerContext, name = hc.params.name) =>
    storeKey(containerId(hc, name));
  const versionKey = (hc: HandlerContext) => storeKey(versionId(hc));
  /** Gives a stored resource this request's casing of its name (ARM returns the latest PUT's). */
  const renamed = (record: StoredResource, id: string, name: string): boolean => {
    const changed = record.resource.id !== id || record.resource.name !== name;
    record.resource.id = id;
    record.resource.name = name;
    return changed;
  };
  const versionsOf = (hc: HandlerContext, name: string) => {
    const prefixKey = `${containerKey(hc, name)}/versions/`;
    return hc.services.store
      .list<StoredResource>(versionCollection(kind), prefixKey)
      .map((e) => e.value);
  };

  /** Recomputes latestVersion / nextVersion after a version was added or removed. */
  const refreshContainer = (hc: HandlerContext, name: string) => {
    const key = containerKey(hc, name);
    const container = hc.services.store.get<StoredResource>(containerCollection(kind), key);
    if (container === undefined) {
      return;
    }
    const versions = versionsOf(hc, name);
    const latest = [...versions].sort((a, b) => b.createdSeq - a.createdSeq)[0];
    const integers = versions
      .map((v) => v.resource.name)
      .filter((v) => /^\d+$/.test(v))
      .map(Number);
    container.resource.properties = {
      ...asObject(container.resource.properties),
      latestVersion: latest?.resource.name ?? null,
      nextVersion: String(integers.length === 0 ? 1 : Math.max(...integers) + 1),
    };
    hc.services.store.put(containerCollection(kind), key, container);
  };

  const newContainer = (
    hc: HandlerContext,
    name: string,
    properties: Json,
    createdSeq: number,
  ): StoredResource => ({
    createdSeq,
    resource: {
      id: containerId(hc, name),
      name,
      type: containerType,
      systemData: systemData(nowIso(hc)),
      properties: {
        tags: {},
        properties: {},
        isArchived: false,
        ...properties,
        latestVersion: null,
        nextVersion: "1",
        ...(spec.containerHasProvisioningState ? { provisioningState: "Succeeded" } : {}),
      },
    },
  });

  // --- containers -------------------------------------------------------------------------
  router.register(`${prefix}Containers_List`, (hc) => {
    const items = hc.services.store
      .list<StoredResource>(containerCollection(kind))
      .map((e) => e.value)
      .filter((r) => matchesListView(hc, r))
      .sort((a, b) => b.createdSeq - a.createdSeq)
      .map((r) => r.resource);
    return { status: 200, body: paginate(hc, items, positiveIntQuery(hc, "count")) };
  });

  router.register(`${prefix}Containers_Get`, (hc) => {
    const record = hc.services.store.get<StoredResource>(
      containerCollection(kind),
      containerKey(hc),
    );
    if (record === undefined) {
      throw ErrorFactory.mlNotFound(`${spec.label} container ${hc.params.name}`);
    }
    return { status: 200, body: record.resource };
  });

  router.register(`${prefix}Containers_CreateOrUpdate`, (hc) => {
    const { store } = hc.services;
    const key = containerKey(hc);
    const given = asObject(asObject(hc.body).properties);
    const writable: Json = {
      description: given.description,
      tags: given.tags ?? {},
      properties: given.properties ?? {},
      isArchived: given.isArchived ?? false,
    };
    const existing = store.get<StoredResource>(containerCollection(kind), key);
    if (existing === undefined) {
      const record = newContainer(
        hc,
        hc.params.name,
        { ...writable, ...(kind === "data" ? { dataType: given.dataType } : {}) },
        hc.services.nextSequence(),
      );
      store.put(containerCollection(kind), key, record);
      refreshContainer(hc, hc.params.name);
      return {
        status: 201,
        body: store.get<StoredResource>(containerCollection(kind), key)?.resource,
      };
    }
    const previous = asObject(existing.resource.properties);
    if (
      kind === "data" &&
      given.dataType !== undefined &&
      previous.dataType !== undefined &&
      given.dataType !== previous.dataType
    ) {
      throw ErrorFactory.dataTypeImmutable(
        String(existing.resource.name),
        String(previous.dataType),
        String(given.dataType),
      );
    }
    renamed(existing, containerId(hc), hc.params.name);
    existing.resource.properties = { ...previous, ...writable };
    existing.resource.systemData = systemData(nowIso(hc), asObject(existing.resource.systemData));
    store.put(containerCollection(kind), key, existing);
    return { status: 200, body: existing.resource };
  });

  router.register(`${prefix}Containers_Delete`, (hc) => {
    const { store } = hc.services;
    const key = containerKey(hc);
    for (const version of versionsOf(hc, hc.params.name)) {
      store.delete(versionCollection(kind), storeKey(version.resource.id));
    }
    return { status: store.delete(containerCollection(kind), key) ? 200 : 204 };
  });

  // --- versions ---------------------------------------------------------------------------
  router.register(`${prefix}Versions_List`, (hc) => {
    let records: StoredResource[];
    const hash = findQuery(hc.query, "hash");
    if (kind === "codes" && hash !== undefined) {
      // "If specified, return CodeVersion assets with specified content hash value, regardless of name".
      const hashVersion = findQuery(hc.query, "hashVersion");
      records = hc.services.store
        .list<StoredResource>(versionCollection(kind))
        .map((e) => e.value)
        .filter((r) => {
          const props = asObject(asObject(r.resource.properties).properties);
          return (
            String(props.hash_sha256 ?? "").toLowerCase() === hash.toLowerCase() &&
            (hashVersion === undefined || String(props.hash_version ?? "") === hashVersion)
          );
        });
    } else {
      records = versionsOf(hc, hc.params.name);
    }
    records = records
      .filter((r) => matchesListView(hc, r))
      .filter((r) => matchesVersionFilters(hc, r));
    const ordered = orderVersions(records, findQuery(hc.query, "$orderBy"));
    const offset = positiveIntOrZero(findQuery(hc.query, "offset"));
    const items = ordered.slice(offset).map((r) => r.resource);
    return { status: 200, body: paginate(hc, items, positiveIntQuery(hc, "$top")) };
  });

  router.register(`${prefix}Versions_Get`, (hc) => {
    const record = hc.services.store.get<StoredResource>(versionCollection(kind), versionKey(hc));
    if (record === undefined) {
      throw ErrorFactory.mlNotFound(`${spec.label} version ${hc.params.name}:${hc.params.version}`);
    }
    return { status: 200, body: record.resource };
  });

  router.register(`${prefix}Versions_CreateOrUpdate`, (hc) => {
    const { store } = hc.services;
    const { name, version } = hc.params;
    spec.checkVersionName?.(version);
    const given = asObject(asObject(hc.body).properties);
    spec.checkVersionBody?.(given);
    const properties = withVersionDefaults(spec, given);
    const key = versionKey(hc);
    const existing = store.get<StoredResource>(versionCollection(kind), key);
    if (existing !== undefined) {
      const previous = asObject(existing.resource.properties);
      const changed = changedContentFields(previous, properties);
      const pathField = changed.find((f) => spec.pathFields.includes(f));
      if (pathField !== undefined) {
        throw ErrorFactory.assetPathImmutable(pathField);
      }
      if (changed.length > 0) {
        throw ErrorFactory.assetVersionConflict(spec.label, name, version, changed);
      }
      const casingChanged = renamed(existing, versionId(hc), version);
      if (jsonEqual(previous, properties)) {
        if (casingChanged) {
          store.put(versionCollection(kind), key, existing);
        }
        return { status: 200, body: existing.resource };
      }
      existing.resource.properties = properties;
      existing.resource.systemData = systemData(nowIso(hc), asObject(existing.resource.systemData));
      store.put(versionCollection(kind), key, existing);
      return { status: 200, body: existing.resource };
    }
    const cKey = containerKey(hc, name);
    if (store.get(containerCollection(kind), cKey) === undefined) {
      const containerProps = kind === "data" ? { dataType: properties.dataType } : {};
      store.put(
        containerCollection(kind),
        cKey,
        newContainer(hc, name, containerProps, hc.services.nextSequence()),
      );
    }
    const record: StoredResource = {
      createdSeq: hc.services.nextSequence(),
      resource: {
        id: versionId(hc),
        name: version,
        type: versionType,
        systemData: systemData(nowIso(hc)),
        properties,
      },
    };
    store.put(versionCollection(kind), key, record);
    refreshContainer(hc, name);
    return { status: 201, body: record.resource };
  });

  router.register(`${prefix}Versions_Delete`, (hc) => {
    const deleted = hc.services.store.delete(versionCollection(kind), versionKey(hc));
    if (deleted) {
      refreshContainer(hc, hc.params.name);
    }
    return { status: deleted ? 200 : 204 };
  });
}

/** A version's properties as the service stores them: defaults filled, build path defaulted. */
export function withVersionDefaults(
  spec: Pick<AssetKindSpec, "versionDefaults" | "versionFallbacks">,
  given: Json,
): Json {
  const properties: Json = {
    tags: {},
    properties: {},
    isAnonymous: false,
    isArchived: false,
    ...spec.versionFallbacks,
    ...stripNulls(given),
    ...spec.versionDefaults,
  };
  // User values win over defaults, except for the server-owned read-only fields.
  for (const field of ["osType", "autoRebuild"]) {
    if (given[field] !== undefined && given[field] !== null) {
      properties[field] = given[field];
    }
  }
  if (typeof properties.build === "object" && properties.build !== null) {
    properties.build = { dockerfilePath: "Dockerfile", ...(properties.build as Json) };
  }
  return properties;
}

/** Content fields (everything but the mutable ones) whose values differ. */
export function changedContentFields(previous: Json, next: Json): string[] {
  const keys = new Set([...Object.keys(previous), ...Object.keys(next)]);
  return [...keys]
    .filter((k) => !MUTABLE_VERSION_FIELDS.includes(k) && !jsonEqual(previous[k], next[k]))
    .sort();
}

function stripNulls(value: Json): Json {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined));
}

function matchesListView(hc: HandlerContext, record: StoredResource): boolean {
  const view = (findQuery(hc.query, "listViewType") ?? "ActiveOnly").toLowerCase();
  const archived = asObject(record.resource.properties).isArchived === true;
  if (view === "all") {
    return true;
  }
  return view === "archivedonly" ? archived : !archived;
}

function matchesVersionFilters(hc: HandlerContext, record: StoredResource): boolean {
  const props = asObject(record.resource.properties);
  const version = findQuery(hc.query, "version");
  if (version !== undefined && record.resource.name.toLowerCase() !== version.toLowerCase()) {
    return false;
  }
  const description = findQuery(hc.query, "description");
  if (description !== undefined && !String(props.description ?? "").includes(description)) {
    return false;
  }
  const tags = findQuery(hc.query, "tags") ?? findQuery(hc.query, "$tags");
  if (!matchesTagFilter(tags, props.tags)) {
    return false;
  }
  return matchesTagFilter(findQuery(hc.query, "properties"), props.properties);
}

/** Supports `createdtime`, `lastmodifiedtime` and `version`, each `asc` or `desc` (default createdtime desc). */
export function orderVersions(
  records: StoredResource[],
  orderBy: string | undefined,
): StoredResource[] {
  const match = /^\s*(createdtime|lastmodifiedtime|version)(?:\s+(asc|desc))?\s*$/i.exec(
    orderBy ?? "createdtime desc",
  );
  if (match === null) {
    throw ErrorFactory.invalidQueryParameterValue(
      "$orderBy",
      orderBy ?? "",
      "expected createdtime, lastmodifiedtime or version, optionally followed by asc or desc",
    );
  }
  const field = match[1].toLowerCase();
  const direction =
    (match[2] ?? (field === "version" ? "asc" : "desc")).toLowerCase() === "asc" ? 1 : -1;
  const lastModified = (r: StoredResource) =>
    String(asObject(r.resource.systemData).lastModifiedAt ?? "");
  const compare = (a: StoredResource, b: StoredResource): number => {
    if (field === "version") {
      return a.resource.name.localeCompare(b.resource.name, "en", { numeric: true });
    }
    if (field === "lastmodifiedtime") {
      return lastModified(a).localeCompare(lastModified(b)) || a.createdSeq - b.createdSeq;
    }
    return a.createdSeq - b.createdSeq;
  };
  return [...records].sort((a, b) => compare(a, b) * direction);
}

function positiveIntOrZero(raw: string | undefined): number {
  const n = Number(raw);
  return raw !== undefined && Number.isInteger(n) && n > 0 ? n : 0;
}
