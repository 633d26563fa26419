/**
 * 2021-03-01-preview shapes of datastores, jobs and batch endpoints/deployments
 * (`azureml/spec-2021-03-01-preview/mfe.json`), to and from the stored (2024-04-01) form. Called by
 * versionShapes.ts for that api-version only; pure functions over a copied `properties` object.
 *
 * - Datastores nest their storage in `contents: {contentsType, accountName, containerName,
 *   endpoint, protocol, credentials}`; stored flat with `datastoreType`.
 * - Command jobs: `compute: {target, instanceCount}` ↔ `computeId` + `resources`;
 *   `inputDataBindings: {name: {dataId, mode}}` ↔ `inputs` (`uri_folder`, the asset's URI is
 *   resolved when the job runs; the old API had no file/folder input types);
 *   `outputDataBindings: {name: {datastoreId, pathOnDatastore}}` ↔ `outputs`; `timeout` ↔ `limits`.
 *   The runner sets `AZURE_ML_INPUT_<name>`, which the old commands read.
 * - Sweep jobs: `algorithm` ↔ `samplingAlgorithm`; `maxTotalTrials`, `maxConcurrentTrials`,
 *   `timeout` ↔ `limits`; `compute` ↔ `computeId` + the trial's `resources`. The old search space
 *   named the script's arguments (`"--learning_rate": [...]`) and the service appended them to the
 *   trial's command; stored, the key loses its dashes and the command gets
 *   ` --learning_rate ${{search_space.learning_rate}}`, which the way back removes again.
 * - Batch endpoints route by `traffic: {deployment: percent}` ↔ `defaults.deploymentName` (the
 *   deployment with the most traffic); batch deployments have `compute: {target, instanceCount}` and
 *   `outputConfiguration: {outputAction, appendRowFileName}`.
 */
import { ErrorFactory } from "./errors";
import { isObject, keyOf, take, type Json } from "./jsonFields";

function expectObject(value: unknown, path: string): Json | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  if (!isObject(value)) {
    throw ErrorFactory.validationFailed([{ path, message: "expected an object" }]);
  }
  return value;
}

function setIfDefined(object: Json, key: string, value: unknown): void {
  if (value !== undefined) {
    object[key] = value;
  }
}

/** `datastores`, `jobs`, `batchendpoints` or `deployments` from the route's resource type. */
export function legacyKind(
  resourceType: string,
): "datastores" | "jobs" | "batchEndpoints" | "batchDeployments" | undefined {
  const t = resourceType.toLowerCase();
  if (t === "workspaces/datastores") {
    return "datastores";
  }
  if (t === "workspaces/jobs") {
    return "jobs";
  }
  if (t === "workspaces/batchendpoints") {
    return "batchEndpoints";
  }
  if (t === "workspaces/batchendpoints/deployments") {
    return "batchDeployments";
  }
  return undefined;
}

const DATASTORE_URI =
  /^azureml:\/\/(?:subscriptions\/[^/]+\/resourcegroups\/[^/]+\/workspaces\/[^/]+\/)?datastores\/([^/]+)\/paths\/(.*)$/i;

/** `azureml://datastores/<name>/paths/<path>` from a datastore's ARM id (or name) and a path. */
function datastoreUri(datastoreId: string, path: string): string {
  const name = datastoreId.replace(/\/+$/, "").split("/").pop() as string;
  return `azureml://datastores/${name}/paths/${path.replace(/^\/+/, "")}`;
}

function workspaceIdOf(resourceId: unknown): string {
  return typeof resourceId === "string"
    ? (/^.*\/providers\/Microsoft\.MachineLearningServices\/workspaces\/[^/]+/i.exec(
        resourceId,
      )?.[0] ?? "")
    : "";
}

// ---------------------------------------------------------------------------------------------
// Requests: 2021-03-01-preview → stored
// ---------------------------------------------------------------------------------------------

/** Translates `properties` of a 2021-03-01-preview request body in place. */
export function legacyRequestToStored(resourceType: string, properties: Json): void {
  switch (legacyKind(resourceType)) {
    case "datastores":
      return datastoreToStored(properties);
    case "jobs":
      return jobToStored(properties);
    case "batchEndpoints":
      return batchEndpointToStored(properties);
    case "batchDeployments":
      return batchDeploymentToStored(properties);
    default:
      return;
  }
}

function datastoreToStored(properties: Json): void {
  const contents = expectObject(take(properties, "contents"), "$.properties.contents");
  if (contents === undefined) {
    throw ErrorFactory.validationFailed([
      { path: "$.properties.contents", message: "required property is missing" },
    ]);
  }
  const type = take(contents, "contentsType");
  properties.datastoreType = type;
  const credentials = expectObject(
    take(contents, "credentials"),
    "$.properties.contents.credentials",
  );
  for (const [key, value] of Object.entries(contents)) {
    properties[key] = value;
  }
  if (credentials !== undefined) {
    const kind = credentials[keyOf(credentials, "credentialsType") ?? "credentialsType"];
    const secrets = expectObject(
      credentials[keyOf(credentials, "secrets") ?? "secrets"],
      "$.properties.contents.credentials.secrets",
    );
    // 2021-03-01-preview's secrets carried their type too, but scripts often left it out.
    if (secrets !== undefined && keyOf(secrets, "secretsType") === undefined) {
      secrets.secretsType = kind;
    }
    properties.credentials = credentials;
  }
  // Read-only or gone in later versions.
  for (const field of ["isDefault", "hasBeenValidated", "linkedInfo"]) {
    take(properties, field);
  }
}

const MODES: Readonly<Record<string, string>> = {
  mount: "ReadOnlyMount",
  readonlymount: "ReadOnlyMount",
  readwritemount: "ReadWriteMount",
  download: "Download",
  upload: "Upload",
  direct: "Direct",
  evalmount: "EvalMount",
  evaldownload: "EvalDownload",
};

/** `compute: {target, instanceCount, instanceType, properties}` → computeId, resources. */
function computeToStored(
  properties: Json,
  path: string,
): { computeId?: unknown; resources?: Json } {
  const compute = expectObject(take(properties, "compute"), path);
  if (compute === undefined) {
    return {};
  }
  const resources: Json = {};
  setIfDefined(resources, "instanceCount", take(compute, "instanceCount"));
  setIfDefined(resources, "instanceType", take(compute, "instanceType"));
  setIfDefined(resources, "properties", take(compute, "properties"));
  return {
    computeId: take(compute, "target"),
    resources: Object.keys(resources).length > 0 ? resources : undefined,
  };
}

function inputsToStored(bindings: unknown, path: string): Json | undefined {
  const map = expectObject(bindings, path);
  if (map === undefined) {
    return undefined;
  }
  const inputs: Json = {};
  for (const [name, value] of Object.entries(map)) {
    const binding = expectObject(value, `${path}.${name}`) ?? {};
    const dataId = take(binding, "dataId");
    if (typeof dataId !== "string" || dataId === "") {
      throw ErrorFactory.validationFailed([
        { path: `${path}.${name}.dataId`, message: "a non-empty string is required" },
      ]);
    }
    const input: Json = { jobInputType: "uri_folder", uri: dataId };
    const mode = take(binding, "mode");
    if (typeof mode === "string" && MODES[mode.toLowerCase()] !== undefined) {
      input.mode = MODES[mode.toLowerCase()];
    }
    inputs[name] = input;
  }
  return inputs;
}

function outputsToStored(bindings: unknown, path: string): Json | undefined {
  const map = expectObject(bindings, path);
  if (map === undefined) {
    return undefined;
  }
  const outputs: Json = {};
  for (const [name, value] of Object.entries(map)) {
    const binding = expectObject(value, `${path}.${name}`) ?? {};
    const output: Json = { jobOutputType: "uri_folder" };
    const datastoreId = take(binding, "datastoreId");
    const pathOnDatastore = take(binding, "pathOnDatastore");
    if (typeof datastoreId === "string" && datastoreId !== "") {
      output.uri = datastoreUri(
        datastoreId,
        typeof pathOnDatastore === "string" ? pathOnDatastore : name,
      );
    }
    const mode = take(binding, "mode");
    if (typeof mode === "string" && /^(upload|readwritemount)$/i.test(mode)) {
      output.mode = MODES[mode.toLowerCase()];
    }
    outputs[name] = output;
  }
  return outputs;
}

/** Fields of the old job base and command job that are read-only or gone. */
const DROPPED_JOB_FIELDS = [
  "status",
  "provisioningState",
  "interactionEndpoints",
  "output",
  "parameters",
  "priority",
];

function jobToStored(properties: Json): void {
  const jobType = String(properties[keyOf(properties, "jobType") ?? "jobType"] ?? "");
  for (const field of DROPPED_JOB_FIELDS) {
    take(properties, field);
  }
  if (/^command$/i.test(jobType)) {
    const { computeId, resources } = computeToStored(properties, "$.properties.compute");
    setIfDefined(properties, "computeId", computeId);
    setIfDefined(properties, "resources", resources);
    setIfDefined(
      properties,
      "inputs",
      inputsToStored(take(properties, "inputDataBindings"), "$.properties.inputDataBindings"),
    );
    setIfDefined(
      properties,
      "outputs",
      outputsToStored(take(properties, "outputDataBindings"), "$.properties.outputDataBindings"),
    );
    const timeout = take(properties, "timeout");
    if (timeout !== undefined) {
      properties.limits = { jobLimitsType: "Command", timeout };
    }
    return;
  }
  if (/^sweep$/i.test(jobType)) {
    sweepToStored(properties);
  }
}

function sweepToStored(properties: Json): void {
  const algorithm = take(properties, "algorithm");
  if (algorithm !== undefined) {
    properties.samplingAlgorithm = { samplingAlgorithmType: algorithm };
  }
  const { computeId, resources } = computeToStored(properties, "$.properties.compute");
  setIfDefined(properties, "computeId", computeId);
  const limits: Json = { jobLimitsType: "Sweep" };
  setIfDefined(limits, "maxTotalTrials", take(properties, "maxTotalTrials"));
  setIfDefined(limits, "maxConcurrentTrials", take(properties, "maxConcurrentTrials"));
  setIfDefined(limits, "timeout", take(properties, "timeout"));
  if (Object.keys(limits).length > 1) {
    properties.limits = limits;
  }
  const trialKey = keyOf(properties, "trial");
  const trial = expectObject(
    trialKey === undefined ? undefined : properties[trialKey],
    "$.properties.trial",
  );
  if (trial === undefined) {
    return;
  }
  if (trialKey !== "trial" && trialKey !== undefined) {
    delete properties[trialKey];
  }
  properties.trial = trial;
  setIfDefined(trial, "resources", resources);
  // The trial's data bindings become the sweep's inputs and outputs, which its trials inherit.
  setIfDefined(
    properties,
    "inputs",
    inputsToStored(take(trial, "inputDataBindings"), "$.properties.trial.inputDataBindings"),
  );
  setIfDefined(
    properties,
    "outputs",
    outputsToStored(take(trial, "outputDataBindings"), "$.properties.trial.outputDataBindings"),
  );
  take(trial, "timeout");
  const spaceKey = keyOf(properties, "searchSpace");
  const space = expectObject(
    spaceKey === undefined ? undefined : properties[spaceKey],
    "$.properties.searchSpace",
  );
  if (space === undefined) {
    return;
  }
  const renamed: Json = {};
  let command = typeof trial.command === "string" ? trial.command : undefined;
  for (const [key, distribution] of Object.entries(space)) {
    const name = key.replace(/^-+/, "");
    if (name === "" || !/^[A-Za-z0-9_.-]+$/.test(name)) {
      throw ErrorFactory.validationFailed([
        {
          path: `$.properties.searchSpace['${key}']`,
          message: "a search space key names a script argument: letters, digits, '_', '.', '-'",
        },
      ]);
    }
    renamed[name] = distribution;
    if (command !== undefined) {
      command = `${command} ${key.startsWith("-") ? key : `--${key}`} \${{search_space.${name}}}`;
    }
  }
  if (spaceKey !== undefined) {
    delete properties[spaceKey];
  }
  properties.searchSpace = renamed;
  if (command !== undefined) {
    trial.command = command;
  }
}

function batchEndpointToStored(properties: Json): void {
  const traffic = expectObject(take(properties, "traffic"), "$.properties.traffic");
  take(properties, "keys");
  if (traffic === undefined || keyOf(properties, "defaults") !== undefined) {
    return;
  }
  let best: [string, number] | undefined;
  for (const [deployment, share] of Object.entries(traffic)) {
    const percent = Number(share);
    if (best === undefined || percent > best[1]) {
      best = [deployment, percent];
    }
  }
  if (best !== undefined) {
    properties.defaults = { deploymentName: best[0] };
  }
}

function batchDeploymentToStored(properties: Json): void {
  const { computeId, resources } = computeToStored(properties, "$.properties.compute");
  setIfDefined(properties, "compute", computeId);
  if (resources !== undefined && keyOf(properties, "resources") === undefined) {
    properties.resources = resources;
  }
  const output = expectObject(
    take(properties, "outputConfiguration"),
    "$.properties.outputConfiguration",
  );
  if (output !== undefined) {
    setIfDefined(properties, "outputAction", take(output, "outputAction"));
    setIfDefined(properties, "outputFileName", take(output, "appendRowFileName"));
  }
  take(properties, "partitionKeys");
}

// ---------------------------------------------------------------------------------------------
// Responses: stored → 2021-03-01-preview
// ---------------------------------------------------------------------------------------------

/** Rewrites a stored resource's `properties` in 2021-03-01-preview's shape. */
export function storedToLegacyResponse(resourceType: string, resource: Json): void {
  const properties = resource.properties as Json;
  switch (legacyKind(resourceType)) {
    case "datastores":
      resource.properties = datastoreToLegacy(properties);
      return;
    case "jobs":
      resource.properties = jobToLegacy(properties, workspaceIdOf(resource.id));
      return;
    case "batchEndpoints":
      resource.properties = batchEndpointToLegacy(properties);
      return;
    case "batchDeployments":
      resource.properties = batchDeploymentToLegacy(properties);
      return;
    default:
      return;
  }
}

const DATASTORE_CONTENTS_FIELDS = [
  "accountName",
  "containerName",
  "endpoint",
  "protocol",
  "fileShareName",
  "filesystem",
  "storeName",
  "credentials",
];

function datastoreToLegacy(properties: Json): Json {
  const contents: Json = { contentsType: properties.datastoreType };
  for (const field of DATASTORE_CONTENTS_FIELDS) {
    setIfDefined(contents, field, properties[field]);
  }
  const legacy: Json = { contents, hasBeenValidated: false };
  for (const field of ["description", "isDefault", "properties", "tags"]) {
    setIfDefined(legacy, field, properties[field]);
  }
  return legacy;
}

function computeToLegacy(computeId: unknown, resources: unknown): Json | undefined {
  if (computeId === undefined && resources === undefined) {
    return undefined;
  }
  const r = isObject(resources) ? resources : {};
  const compute: Json = { instanceCount: r.instanceCount ?? 1 };
  setIfDefined(compute, "target", computeId);
  setIfDefined(compute, "instanceType", r.instanceType);
  setIfDefined(compute, "properties", r.properties);
  return compute;
}

function inputsToLegacy(inputs: unknown): Json | undefined {
  if (!isObject(inputs)) {
    return undefined;
  }
  const bindings: Json = {};
  for (const [name, input] of Object.entries(inputs)) {
    if (!isObject(input) || typeof input.uri !== "string") {
      continue; // literal inputs did not exist
    }
    const binding: Json = { dataId: input.uri };
    setIfDefined(binding, "mode", input.mode);
    bindings[name] = binding;
  }
  return bindings;
}

function outputsToLegacy(outputs: unknown, workspaceId: string): Json | undefined {
  if (!isObject(outputs)) {
    return undefined;
  }
  const bindings: Json = {};
  for (const [name, output] of Object.entries(outputs)) {
    if (!isObject(output)) {
      continue;
    }
    const binding: Json = {};
    const match = typeof output.uri === "string" ? DATASTORE_URI.exec(output.uri) : null;
    if (match !== null) {
      binding.datastoreId = `${workspaceId}/datastores/${match[1]}`;
      binding.pathOnDatastore = match[2];
    }
    setIfDefined(binding, "mode", output.mode);
    bindings[name] = binding;
  }
  return bindings;
}

const COMMON_JOB_FIELDS = [
  "jobType",
  "description",
  "tags",
  "properties",
  "experimentName",
  "status",
  "identity",
];

function jobToLegacy(properties: Json, workspaceId: string): Json {
  const legacy: Json = {};
  for (const field of COMMON_JOB_FIELDS) {
    setIfDefined(legacy, field, properties[field]);
  }
  legacy.provisioningState = "Succeeded";
  const services = properties.services;
  if (isObject(services)) {
    legacy.interactionEndpoints = services;
  }
  const limits = isObject(properties.limits) ? properties.limits : {};
  if (properties.jobType === "Sweep") {
    const trial = isObject(properties.trial) ? structuredClone(properties.trial) : {};
    const sampling = isObject(properties.samplingAlgorithm) ? properties.samplingAlgorithm : {};
    setIfDefined(legacy, "algorithm", sampling.samplingAlgorithmType);
    setIfDefined(legacy, "compute", computeToLegacy(properties.computeId, trial.resources));
    setIfDefined(legacy, "objective", properties.objective);
    setIfDefined(legacy, "earlyTermination", properties.earlyTermination);
    setIfDefined(legacy, "maxTotalTrials", limits.maxTotalTrials);
    setIfDefined(legacy, "maxConcurrentTrials", limits.maxConcurrentTrials);
    setIfDefined(legacy, "timeout", limits.timeout);
    const space = isObject(properties.searchSpace) ? properties.searchSpace : {};
    const legacySpace: Json = {};
    let command = typeof trial.command === "string" ? trial.command : "";
    for (const [name, distribution] of Object.entries(space)) {
      // The argument the request's key named, appended on the way in (see the file header).
      const appended = new RegExp(
        ` (-{1,2}${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}) \\$\\{\\{search_space\\.${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\}\\}`,
      ).exec(command);
      if (appended !== null) {
        command = command.replace(appended[0], "");
        legacySpace[appended[1]] = distribution;
      } else {
        legacySpace[name] = distribution;
      }
    }
    legacy.searchSpace = legacySpace;
    const legacyTrial: Json = {};
    for (const field of ["codeId", "environmentId", "environmentVariables", "distribution"]) {
      setIfDefined(legacyTrial, field, trial[field]);
    }
    legacyTrial.command = command;
    setIfDefined(legacyTrial, "inputDataBindings", inputsToLegacy(properties.inputs));
    setIfDefined(
      legacyTrial,
      "outputDataBindings",
      outputsToLegacy(properties.outputs, workspaceId),
    );
    legacy.trial = legacyTrial;
    return legacy;
  }
  for (const field of [
    "codeId",
    "command",
    "environmentId",
    "environmentVariables",
    "distribution",
  ]) {
    setIfDefined(legacy, field, properties[field]);
  }
  setIfDefined(legacy, "compute", computeToLegacy(properties.computeId, properties.resources));
  setIfDefined(legacy, "inputDataBindings", inputsToLegacy(properties.inputs));
  setIfDefined(legacy, "outputDataBindings", outputsToLegacy(properties.outputs, workspaceId));
  setIfDefined(legacy, "timeout", limits.timeout);
  const artifacts = isObject(properties.outputs) ? properties.outputs.default : undefined;
  const match =
    isObject(artifacts) && typeof artifacts.uri === "string"
      ? DATASTORE_URI.exec(artifacts.uri)
      : null;
  if (match !== null) {
    legacy.output = { datastoreId: `${workspaceId}/datastores/${match[1]}`, path: match[2] };
  }
  return legacy;
}

function batchEndpointToLegacy(properties: Json): Json {
  const legacy: Json = {};
  for (const field of ["authMode", "description", "properties", "scoringUri", "swaggerUri"]) {
    setIfDefined(legacy, field, properties[field]);
  }
  const defaults = isObject(properties.defaults) ? properties.defaults : {};
  legacy.traffic =
    typeof defaults.deploymentName === "string" ? { [defaults.deploymentName]: 100 } : {};
  return legacy;
}

function batchDeploymentToLegacy(properties: Json): Json {
  const legacy: Json = {};
  for (const field of [
    "codeConfiguration",
    "description",
    "environmentId",
    "environmentVariables",
    "errorThreshold",
    "loggingLevel",
    "miniBatchSize",
    "model",
    "properties",
    "retrySettings",
  ]) {
    setIfDefined(legacy, field, properties[field]);
  }
  setIfDefined(legacy, "compute", computeToLegacy(properties.compute, properties.resources));
  const output: Json = {};
  setIfDefined(output, "outputAction", properties.outputAction);
  setIfDefined(output, "appendRowFileName", properties.outputFileName);
  if (Object.keys(output).length > 0) {
    legacy.outputConfiguration = output;
  }
  return legacy;
}

// ---------------------------------------------------------------------------------------------
// 2021-10-01 job inputs and outputs (its mfe.json; azure-ai-ml's `_restclient/v2021_10_01`):
// inputs `Dataset {datasetId}`, `Uri {uri: {file} | {folder}}`, `Literal {value}`; outputs `Uri`
// (uri and mode read-only) and `Dataset {mode}`.
// ---------------------------------------------------------------------------------------------

/** The job's input and output maps (a sweep's too), each binding an object. */
function bindingMaps(properties: Json, field: "inputs" | "outputs"): Json[] {
  const key = keyOf(properties, field);
  const map = key === undefined ? undefined : properties[key];
  return isObject(map) ? Object.values(map).filter(isObject) : [];
}

/** Translates a 2021-10-01 job's inputs and outputs to the stored types, in place. */
export function jobIo2021ToStored(resourceType: string, properties: Json): void {
  if (legacyKind(resourceType) !== "jobs") {
    return;
  }
  for (const input of bindingMaps(properties, "inputs")) {
    const type = String(take(input, "jobInputType") ?? "").toLowerCase();
    if (type === "dataset") {
      input.jobInputType = "uri_folder";
      input.uri = take(input, "datasetId");
    } else if (type === "uri") {
      const uri = expectObject(take(input, "uri"), "$.properties.inputs.uri") ?? {};
      const file = uri[keyOf(uri, "file") ?? "file"];
      const folder = uri[keyOf(uri, "folder") ?? "folder"];
      input.jobInputType = typeof file === "string" && file !== "" ? "uri_file" : "uri_folder";
      input.uri = input.jobInputType === "uri_file" ? file : folder;
    } else if (type === "literal") {
      input.jobInputType = "literal";
    } else {
      input.jobInputType = type; // refused by validation, naming the type
    }
  }
  for (const output of bindingMaps(properties, "outputs")) {
    const type = String(take(output, "jobOutputType") ?? "").toLowerCase();
    take(output, "uri"); // read-only in 2021-10-01
    if (type === "uri") {
      take(output, "mode"); // read-only too
    }
    output.jobOutputType = type === "uri" || type === "dataset" ? "uri_folder" : type;
  }
}

/** Answers a stored job's inputs and outputs in 2021-10-01's types, in place. */
export function storedJobIoTo2021(resourceType: string, properties: Json): void {
  if (legacyKind(resourceType) !== "jobs") {
    return;
  }
  for (const input of bindingMaps(properties, "inputs")) {
    const type = input.jobInputType;
    if (type === "literal") {
      input.jobInputType = "Literal";
      continue;
    }
    const uri = input.uri;
    delete input.uri;
    if (
      type === "uri_folder" &&
      typeof uri === "string" &&
      /(^azureml:[^/]|\/data\/[^/]+\/versions\/)/i.test(uri)
    ) {
      input.jobInputType = "Dataset";
      input.datasetId = uri;
    } else {
      input.jobInputType = "Uri";
      input.uri = type === "uri_file" ? { file: uri } : { folder: uri };
    }
  }
  for (const output of bindingMaps(properties, "outputs")) {
    const uri = output.uri;
    output.jobOutputType = "Uri";
    output.uri = typeof uri === "string" ? { folder: uri } : null;
  }
}
