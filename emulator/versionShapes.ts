/**
 * Older api-versions' wire shapes, translated to the stored (2024-04-01) form on the way in and
 * back on the way out, so one store serves every version (`spec/apiVersions.ts` says which version
 * gets which shapes). Pure functions over parsed JSON.
 *
 * 2021-03-01-preview (`azureml/spec-2021-03-01-preview/mfe.json`, contract 4.11):
 * - code, data and model versions are `{datastoreId?, path}` (data adds `datasetType`), stored as
 *   `codeUri`/`dataUri`/`modelUri` (`azureml://datastores/<name>/paths/<path>` when a datastore is
 *   named, else the path as given);
 * - environment versions carry `docker: {dockerSpecificationType: "Image", dockerImageUri}`,
 *   stored as `image`; property names are matched case-insensitively, as the service's JSON reader
 *   binds them (the seed documents send `"Docker": {"DockerSpecificationType": ...}`);
 * - datastores, command and sweep jobs, batch endpoints and deployments: see legacyJobShapes.ts.
 * 2021-10-01 types job inputs `Dataset`/`Uri`/`Literal` and outputs `Uri`/`Dataset` (legacyJobShapes.ts).
 * 2022-02-01-preview spells data and job input/output types `UriFile`, `UriFolder`, `MLTable`, ...
 */
import { ErrorFactory } from "./errors";
import { isObject, keyOf, take, type Json } from "./jsonFields";
import {
  jobIo2021ToStored,
  legacyRequestToStored,
  storedJobIoTo2021,
  storedToLegacyResponse,
} from "./legacyJobShapes";
import type { ApiVersionProfile } from "./spec/apiVersions";

/** Pascal-case type names of 2022-02-01-preview and the current spelling. */
const PASCAL_TYPES: Readonly<Record<string, string>> = {
  UriFile: "uri_file",
  UriFolder: "uri_folder",
  MLTable: "mltable",
  CustomModel: "custom_model",
  MLFlowModel: "mlflow_model",
  TritonModel: "triton_model",
  Literal: "literal",
};
const SNAKE_TYPES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(PASCAL_TYPES).map(([pascal, snake]) => [snake, pascal]),
);

const DATASTORE_URI =
  /^azureml:\/\/(?:subscriptions\/[^/]+\/resourcegroups\/[^/]+\/workspaces\/[^/]+\/)?datastores\/([^/]+)\/paths\/(.*)$/i;

/** `codes/versions`, `data/versions`, ... from `workspaces/codes/versions`. */
function assetVersionKind(resourceType: string): string | undefined {
  const match = /^workspaces\/(codes|data|models|environments)\/versions$/i.exec(resourceType);
  return match?.[1].toLowerCase();
}

const URI_FIELD: Readonly<Record<string, string>> = {
  codes: "codeUri",
  data: "dataUri",
  models: "modelUri",
};

/** A request body of `profile`'s version, in the stored (2024-04-01) shape. */
export function toStoredShape(
  profile: ApiVersionProfile | undefined,
  resourceType: string,
  body: unknown,
): unknown {
  if (profile === undefined || !isObject(body)) {
    return body;
  }
  const copy = structuredClone(body);
  const propertiesKey = keyOf(copy, "properties");
  const properties = propertiesKey === undefined ? undefined : copy[propertiesKey];
  if (!isObject(properties)) {
    return copy;
  }
  if (profile.shapes === "2021-03-01-preview") {
    legacyAssetToStored(resourceType, properties);
    legacyRequestToStored(resourceType, properties);
  }
  if (profile.version === "2021-10-01") {
    jobIo2021ToStored(resourceType, properties);
  }
  if (profile.pascalDataTypes) {
    renameTypes(properties, PASCAL_TYPES);
  }
  return copy;
}

/** A stored resource (or a list page of them) in the shape of `profile`'s version. */
export function toVersionShape(
  profile: ApiVersionProfile | undefined,
  resourceType: string,
  body: unknown,
): unknown {
  if (
    profile === undefined ||
    (profile.shapes !== "2021-03-01-preview" &&
      !profile.pascalDataTypes &&
      profile.version !== "2021-10-01")
  ) {
    return body;
  }
  if (isObject(body) && Array.isArray(body.value)) {
    return {
      ...body,
      value: body.value.map((item) => toVersionShape(profile, resourceType, item)),
    };
  }
  if (!isObject(body) || !isObject(body.properties)) {
    return body;
  }
  const copy = structuredClone(body) as Json & { properties: Json };
  if (profile.shapes === "2021-03-01-preview") {
    storedAssetToLegacy(resourceType, copy);
    storedToLegacyResponse(resourceType, copy);
  }
  if (profile.version === "2021-10-01") {
    storedJobIoTo2021(resourceType, copy.properties);
  }
  if (profile.pascalDataTypes) {
    renameTypes(copy.properties, SNAKE_TYPES);
  }
  return copy;
}

function legacyAssetToStored(resourceType: string, properties: Json): void {
  const kind = assetVersionKind(resourceType);
  if (kind === "environments") {
    const docker = take(properties, "docker");
    if (docker === undefined || docker === null) {
      return;
    }
    if (!isObject(docker)) {
      throw ErrorFactory.validationFailed([
        { path: "$.properties.docker", message: "expected an object" },
      ]);
    }
    const type = String(take(docker, "dockerSpecificationType") ?? "");
    if (type.toLowerCase() !== "image") {
      throw ErrorFactory.badArgument(
        "The emulator serves 2021-03-01-preview environments with docker.dockerSpecificationType " +
          `'Image' only (got '${type}'); send a build context with api-version 2024-04-01 or later.`,
        "properties.docker.dockerSpecificationType",
      );
    }
    const image = take(docker, "dockerImageUri");
    if (typeof image !== "string" || image === "") {
      throw ErrorFactory.validationFailed([
        { path: "$.properties.docker.dockerImageUri", message: "a non-empty string is required" },
      ]);
    }
    properties.image = image;
    return;
  }
  if (kind === undefined || URI_FIELD[kind] === undefined) {
    return;
  }
  const datastoreId = take(properties, "datastoreId");
  const path = take(properties, "path");
  if (typeof path !== "string" || path === "") {
    throw ErrorFactory.validationFailed([
      { path: "$.properties.path", message: "a non-empty string is required" },
    ]);
  }
  let uri = path;
  if (typeof datastoreId === "string" && datastoreId !== "") {
    const datastore = datastoreId.replace(/\/+$/, "").split("/").pop() as string;
    uri = `azureml://datastores/${datastore}/paths/${path.replace(/^\/+/, "")}`;
  }
  properties[URI_FIELD[kind]] = uri;
  if (kind === "data") {
    take(properties, "datasetType");
    // 2021-03-01-preview data had no file/folder type: a path ending in `/` or without an
    // extension in its last segment is a folder.
    const last =
      uri
        .replace(/[?#].*$/, "")
        .split("/")
        .pop() ?? "";
    properties.dataType = uri.endsWith("/") || !last.includes(".") ? "uri_folder" : "uri_file";
  }
}

function storedAssetToLegacy(resourceType: string, resource: Json & { properties: Json }): void {
  const kind = assetVersionKind(resourceType);
  const properties = resource.properties;
  if (kind === "environments") {
    if (typeof properties.image === "string") {
      properties.docker = { dockerSpecificationType: "Image", dockerImageUri: properties.image };
    }
    for (const field of ["image", "build", "osType", "autoRebuild", "environmentType", "stage"]) {
      delete properties[field];
    }
    return;
  }
  if (kind === undefined || URI_FIELD[kind] === undefined) {
    return;
  }
  const uri = properties[URI_FIELD[kind]];
  delete properties[URI_FIELD[kind]];
  const match = typeof uri === "string" ? DATASTORE_URI.exec(uri) : null;
  if (match !== null && typeof resource.id === "string") {
    const workspaceId =
      /^.*\/providers\/Microsoft\.MachineLearningServices\/workspaces\/[^/]+/i.exec(
        resource.id,
      )?.[0];
    properties.datastoreId = `${workspaceId ?? ""}/datastores/${match[1]}`;
    properties.path = match[2];
  } else {
    properties.path = uri;
  }
  if (kind === "data") {
    delete properties.dataType;
    properties.datasetType = "Simple";
  }
  if (kind === "models") {
    delete properties.modelType;
  }
  delete properties.stage;
}

/** Renames `dataType` and every job input/output type through `names`. */
function renameTypes(properties: Json, names: Readonly<Record<string, string>>): void {
  const rename = (object: Json, field: string) => {
    const key = keyOf(object, field);
    const value = key === undefined ? undefined : object[key];
    if (key !== undefined && typeof value === "string" && names[value] !== undefined) {
      object[key] = names[value];
    }
  };
  rename(properties, "dataType");
  for (const [bindings, field] of [
    ["inputs", "jobInputType"],
    ["outputs", "jobOutputType"],
  ] as const) {
    const key = keyOf(properties, bindings);
    const map = key === undefined ? undefined : properties[key];
    if (isObject(map)) {
      for (const binding of Object.values(map)) {
        if (isObject(binding)) {
          rename(binding, field);
        }
      }
    }
  }
}
