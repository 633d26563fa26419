/**
 * The request side of a batch endpoint invocation (contract section 5), for the data plane that
 * will serve `POST {scoringUri}`: the three body shapes Azure accepts read into one, and the
 * deployment chosen (the `azureml-model-deployment` header, else the endpoint's default). Pure:
 * the data plane route, the job it starts and the scoring run are not built yet.
 *
 * Body shapes:
 * - current (docs, samples since 2023): `{properties: {InputData: {<name>: {JobInputType, Uri}},
 *   OutputData: {<name>: {JobOutputType, Uri}}, properties?}}`;
 * - the Python SDK's camelCase: `inputData`/`jobInputType`/`uri`, `outputData`, and settings
 *   (`miniBatchSize`, `errorThreshold`, `retrySettings`, `outputFileName`, `compute.instanceCount`);
 * - the 2021/2022 samples (seed document): `dataset: {dataInputType: DataUrl, Path}` or
 *   `{dataInputType: DatasetVersion, datasetName, datasetVersion}`, `outputDataset: {datastoreId,
 *   path}`, `outputFileName`.
 * Keys are matched case-insensitively, as the service presumably binds them (unconfirmed).
 */
import { EmulatorError } from "../errors";

/** The deployment header (azure-ai-ml `MODEL_DEPLOYMENT`). */
export const DEPLOYMENT_HEADER = "azureml-model-deployment";

export type InvocationInputType =
  | "uri_folder"
  | "uri_file"
  | "mltable"
  | "literal"
  | "custom_model"
  | "mlflow_model"
  | "triton_model";

export interface InvocationInput {
  name: string;
  type: InvocationInputType;
  /** The data's location (an https URL, an azureml:// URI, an ARM id or `azureml:<name>:<version>`). */
  uri?: string;
  /** A literal input's value. */
  value?: string;
}

export interface InvocationOutput {
  name: string;
  type: "uri_folder" | "uri_file";
  uri: string;
}

/** One invocation, whatever shape its body had. */
export interface BatchInvocation {
  inputs: InvocationInput[];
  output?: InvocationOutput;
  outputFileName?: string;
  /** Settings the invocation overrides (the SDK's camelCase body only). */
  overrides: {
    miniBatchSize?: number;
    errorThreshold?: number;
    maxRetries?: number;
    /** ISO 8601 duration, as sent. */
    timeout?: string;
    instanceCount?: number;
  };
  /** `properties.properties` (for example `experimentName`). */
  properties: Record<string, string>;
}

const INPUT_TYPES: Record<string, InvocationInputType> = {
  urifolder: "uri_folder",
  urifile: "uri_file",
  mltable: "mltable",
  literal: "literal",
  custommodel: "custom_model",
  mlflowmodel: "mlflow_model",
  tritonmodel: "triton_model",
};

type Json = Record<string, unknown>;

function badRequest(message: string, target: string): EmulatorError {
  return new EmulatorError(400, "UserError", message, { target, innerErrorCode: "BadArgument" });
}

/** The value under `key` in any casing. */
function field(object: Json, key: string): unknown {
  const lower = key.toLowerCase();
  const found = Object.keys(object).find((k) => k.toLowerCase() === lower);
  return found === undefined ? undefined : object[found];
}

function objectAt(value: unknown): Json | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Json)
    : undefined;
}

function stringAt(object: Json, key: string, path: string): string | undefined {
  const value = field(object, key);
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== "string" || value === "") {
    throw badRequest(`${path}.${key} must be a non-empty string.`, `${path}.${key}`);
  }
  return value;
}

function integerAt(object: Json, key: string, path: string): number | undefined {
  const value = field(object, key);
  if (value === undefined || value === null) {
    return undefined;
  }
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n)) {
    throw badRequest(`${path}.${key} must be an integer.`, `${path}.${key}`);
  }
  return n;
}

/** Reads an invocation body in any of the shapes Azure accepts; 400 naming the path otherwise. */
export function parseInvocationBody(body: unknown): BatchInvocation {
  const root = objectAt(body);
  const properties = root && objectAt(field(root, "properties"));
  if (properties === undefined) {
    throw badRequest("The invocation body must be an object with properties.", "properties");
  }
  const invocation: BatchInvocation = { inputs: [], overrides: {}, properties: {} };

  const inputData = field(properties, "inputData");
  if (inputData !== undefined && inputData !== null) {
    const inputs = objectAt(inputData);
    if (inputs === undefined) {
      throw badRequest(
        "properties.InputData must be an object of named inputs.",
        "properties.InputData",
      );
    }
    for (const [name, raw] of Object.entries(inputs)) {
      const path = `properties.InputData.${name}`;
      const input = objectAt(raw);
      if (input === undefined) {
        throw badRequest(`${path} must be an object.`, path);
      }
      const typeName = stringAt(input, "jobInputType", path);
      const type =
        typeName === undefined ? undefined : INPUT_TYPES[typeName.replace(/_/g, "").toLowerCase()];
      if (type === undefined) {
        throw badRequest(
          `${path}.JobInputType must be one of UriFolder, UriFile, MLTable, Literal, CustomModel, MLFlowModel, TritonModel.`,
          `${path}.JobInputType`,
        );
      }
      if (type === "literal") {
        const value = field(input, "value");
        if (value === undefined || value === null) {
          throw badRequest(`${path}.Value is required for a literal input.`, `${path}.Value`);
        }
        invocation.inputs.push({ name, type, value: String(value) });
      } else {
        const uri = stringAt(input, "uri", path);
        if (uri === undefined) {
          throw badRequest(`${path}.Uri is required.`, `${path}.Uri`);
        }
        invocation.inputs.push({ name, type, uri });
      }
    }
  }

  const dataset = objectAt(field(properties, "dataset"));
  if (dataset !== undefined) {
    const kind = String(field(dataset, "dataInputType") ?? "").toLowerCase();
    if (kind === "dataurl") {
      const uri = stringAt(dataset, "path", "properties.dataset");
      if (uri === undefined) {
        throw badRequest("properties.dataset.Path is required.", "properties.dataset.Path");
      }
      invocation.inputs.push({ name: "dataset", type: "uri_folder", uri });
    } else if (kind === "datasetversion") {
      const name = stringAt(dataset, "datasetName", "properties.dataset");
      const version = stringAt(dataset, "datasetVersion", "properties.dataset");
      if (name === undefined || version === undefined) {
        throw badRequest(
          "properties.dataset needs datasetName and datasetVersion.",
          "properties.dataset.datasetName",
        );
      }
      invocation.inputs.push({
        name: "dataset",
        type: "uri_folder",
        uri: `azureml:${name}:${version}`,
      });
    } else {
      throw badRequest(
        "properties.dataset.dataInputType must be DataUrl or DatasetVersion.",
        "properties.dataset.dataInputType",
      );
    }
  }

  const outputData = objectAt(field(properties, "outputData"));
  if (outputData !== undefined) {
    const entries = Object.entries(outputData);
    if (entries.length > 1) {
      throw badRequest("A model deployment takes at most one output.", "properties.OutputData");
    }
    for (const [name, raw] of entries) {
      const path = `properties.OutputData.${name}`;
      const output = objectAt(raw) ?? {};
      const typeName = (stringAt(output, "jobOutputType", path) ?? "UriFolder").toLowerCase();
      if (typeName !== "urifolder" && typeName !== "urifile") {
        throw badRequest(
          `${path}.JobOutputType must be UriFolder or UriFile.`,
          `${path}.JobOutputType`,
        );
      }
      const uri = stringAt(output, "uri", path);
      if (uri === undefined) {
        throw badRequest(`${path}.Uri is required.`, `${path}.Uri`);
      }
      invocation.output = { name, type: typeName === "urifile" ? "uri_file" : "uri_folder", uri };
    }
  }
  const outputDataset = objectAt(field(properties, "outputDataset"));
  if (outputDataset !== undefined && invocation.output === undefined) {
    const datastoreId = stringAt(outputDataset, "datastoreId", "properties.outputDataset");
    const path = stringAt(outputDataset, "path", "properties.outputDataset") ?? "";
    if (datastoreId === undefined) {
      throw badRequest(
        "properties.outputDataset.datastoreId is required.",
        "properties.outputDataset.datastoreId",
      );
    }
    const datastore = datastoreId.split("/").pop() as string;
    invocation.output = {
      name: "outputDataset",
      type: "uri_folder",
      uri: `azureml://datastores/${datastore}/paths/${path.replace(/^\/+/, "")}`,
    };
  }
  invocation.outputFileName = stringAt(properties, "outputFileName", "properties");

  invocation.overrides.miniBatchSize = integerAt(properties, "miniBatchSize", "properties");
  invocation.overrides.errorThreshold = integerAt(properties, "errorThreshold", "properties");
  const retry = objectAt(field(properties, "retrySettings"));
  if (retry !== undefined) {
    invocation.overrides.maxRetries = integerAt(retry, "maxRetries", "properties.retrySettings");
    invocation.overrides.timeout = stringAt(retry, "timeout", "properties.retrySettings");
  }
  const compute = objectAt(field(properties, "compute"));
  if (compute !== undefined) {
    invocation.overrides.instanceCount = integerAt(compute, "instanceCount", "properties.compute");
  }
  for (const key of Object.keys(invocation.overrides) as (keyof BatchInvocation["overrides"])[]) {
    if (invocation.overrides[key] === undefined) {
      delete invocation.overrides[key];
    }
  }

  const extra = objectAt(field(properties, "properties"));
  for (const [key, value] of Object.entries(extra ?? {})) {
    invocation.properties[key] = String(value);
  }

  const data = invocation.inputs.filter((i) => i.type !== "literal");
  if (data.length !== 1) {
    throw badRequest(
      `A model deployment takes exactly one data input; the body has ${data.length}.`,
      "properties.InputData",
    );
  }
  return invocation;
}

/**
 * The deployment an invocation goes to: the header's, else the endpoint's default. 400 when the
 * header names no deployment of the endpoint, or when there is neither (the docs: "The endpoint
 * must have a default deployment configured").
 */
export function selectDeployment(
  endpointName: string,
  header: string | undefined,
  defaultDeployment: string | undefined,
  deployments: readonly string[],
): string {
  if (header !== undefined && header !== "") {
    const match = deployments.find((d) => d.toLowerCase() === header.toLowerCase());
    if (match === undefined) {
      throw badRequest(
        `Batch endpoint ${endpointName} has no deployment '${header}' (header ${DEPLOYMENT_HEADER}).`,
        DEPLOYMENT_HEADER,
      );
    }
    return match;
  }
  if (defaultDeployment === undefined || defaultDeployment === "") {
    throw badRequest(
      `Batch endpoint ${endpointName} has no default deployment: set one, or name a deployment in the ${DEPLOYMENT_HEADER} header.`,
      DEPLOYMENT_HEADER,
    );
  }
  return defaultDeployment;
}
