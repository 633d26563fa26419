/**
 * CommandJob lifecycle: check the spec without a request (bindings, inputs, outputs, limits) and
 * derive the job name from its hash; on create, submit the job (or adopt the one a previous,
 * interrupted `up` submitted), follow it to its end printing each status change, and read its
 * metrics and parameters back from the workspace's MLflow tracking server. Loaded by the provider
 * host through `await import("pulumi-azureml/provider/lifecycle/commandJob")`.
 */
import { stat } from "node:fs/promises";
import type * as pulumi from "@pulumi/pulumi";
import { computeId as computeArmId, parseArmId, workspaceId } from "../core/ids";
import { sleep } from "../core/abort";
import { isAzureMlRestError, isPollTimeoutError } from "../core/errors";
import { pollUntil } from "../core/lro";
import { resolveSettings, type AzureMlSettings } from "../core/settings";
import { parseRetryAfter } from "../core/throttling";
import type { AzureMlResponse } from "../core/client";
import { assetVersionPath } from "../operations/assets";
import type { WorkspaceResource } from "../operations/datastores";
import {
  ARTIFACT_DATASTORE,
  attemptName,
  commandJobBody,
  derivedJobName,
  distributionTypeOf,
  environmentContainerPath,
  identityTypeOf,
  INPUT_MODES,
  isoDurationSeconds,
  isTerminalJobStatus,
  isUnsuccessfulJobStatus,
  JOB_INPUT_TYPES,
  JOB_NAME,
  JOB_OUTPUT_TYPES,
  jobCancelPath,
  jobLogBlobName,
  jobOutputUri,
  jobPath,
  jobUpdateBody,
  lastLines,
  mlflowBaseUrl,
  mlflowRunUrl,
  OUTPUT_MODES,
  parseBindings,
  pollDelayInMs,
  runHistoryPath,
  runRecordOf,
  SPEC_HASH_PROPERTY,
  studioUrlOf,
  type CommandJobSpec,
  type JobAssetInput,
  type JobResource,
  type MlflowRunResponse,
  type RunHistoryResponse,
  type RunRecord,
} from "../operations/jobs";
import { computeContentHash } from "../upload/contentHash";
import { readBlobTail, uploadRetryOptions } from "../upload/blobUpload";
import type { CommandJobInputs, CommandJobOutputs } from "../resources/commandJob";
import { fingerprint, versionFromContentHash } from "./assetVersion";
import { registerCode } from "./codeVersion";
import { datastoreContainer } from "./datastoreUpload";
import { cachedHashing } from "./localContent";
import { reportProgress } from "./progress";
import {
  checkWorkspace,
  Failures,
  fieldChanged,
  isFullyKnown,
  isKnown,
  isRemoteUri,
  openSession,
  pathFailure,
  resolveLocalPath,
  resolveScope,
  sasFailure,
  toProjectRelative,
  UNKNOWN,
  withoutProvider,
  type Session,
} from "./shared";

type Config = pulumi.dynamic.Config | undefined;

/** Defaults of the wait options. */
export const WAIT_DEFAULTS = {
  waitForCompletion: true,
  waitTimeoutInSeconds: 24 * 60 * 60,
  minPollIntervalInSeconds: 2,
  maxPollIntervalInSeconds: 60,
  failOnJobFailure: true,
  onDelete: "archive",
} as const;

/** Lines of the job's log an error shows. */
export const LOG_TAIL_LINES = 30;

/** Fields that define the job: a change to any of them runs a new job. */
export const SPEC_FIELDS = [
  "command",
  "code",
  "environment",
  "compute",
  "experimentName",
  "inputs",
  "outputs",
  "environmentVariables",
  "distribution",
  "instanceCount",
  "instanceType",
  "timeout",
  "queueSettings",
  "identity",
  "properties",
] as const;

/** Fields Azure ML changes on the existing job. */
const JOB_MUTABLE_FIELDS = ["displayName", "description", "tags"] as const;

/** Fields only this provider reads: a change updates the state, nothing in Azure ML. */
const PROVIDER_FIELDS = [
  "waitForCompletion",
  "waitTimeoutInSeconds",
  "minPollIntervalInSeconds",
  "maxPollIntervalInSeconds",
  "failOnJobFailure",
  "onDelete",
  "providerVersion",
] as const;

const WORKSPACE_FIELDS = [
  "workspaceId",
  "subscriptionId",
  "resourceGroupName",
  "workspaceName",
] as const;

const JOB_TIERS = ["Null", "Spot", "Basic", "Standard", "Premium"];
const IO_NAME = /^[A-Za-z0-9_]{1,255}$/;

// --- References --------------------------------------------------------------------------------

/** True for `/subscriptions/...` ARM ids (and the SDK's `azureml:/subscriptions/...` form). */
function isArmId(value: string): boolean {
  return /^(azureml:)?\/subscriptions\//i.test(value);
}

function stripAzuremlPrefix(value: string): string {
  return value.replace(/^azureml:(?=\/subscriptions\/)/i, "");
}

/** How [code] is given. */
export function codeKind(code: string): "armId" | "reference" | "local" {
  if (isArmId(code)) {
    return "armId";
  }
  if (/^azureml:/i.test(code)) {
    return "reference";
  }
  return "local";
}

const SHORT_REFERENCE = /^azureml:([A-Za-z0-9][A-Za-z0-9\-_.]*)(?::([^:@/]+)|@(latest))$/i;

/** Why [environment] cannot be used, or undefined when its form is fine. */
export function environmentFailure(environment: string): string | undefined {
  if (isArmId(environment)) {
    return /\/environments\/[^/]+\/versions\/[^/]+$/i.test(stripAzuremlPrefix(environment))
      ? undefined
      : `[environment] "${environment}" is not an environment version id ({workspace id}/environments/<name>/versions/<version>).`;
  }
  if (
    /^azureml:\/\/registries\/[^/]+\/environments\/[^/]+\/(versions\/[^/]+|labels\/[^/]+)$/i.test(
      environment,
    )
  ) {
    return undefined;
  }
  if (SHORT_REFERENCE.test(environment)) {
    return undefined;
  }
  return (
    `[environment] "${environment}" is not an environment: give an EnvironmentVersion, its ARM id, ` +
    "azureml:<name>:<version>, azureml:<name>@latest, or a registry environment " +
    "(azureml://registries/azureml/environments/<name>/versions/<version>)."
  );
}

/** The environmentId Azure ML is sent: ARM ids for workspace environments, registry URIs as given. */
async function resolveEnvironmentId(session: Session, environment: string): Promise<string> {
  if (isArmId(environment)) {
    return stripAzuremlPrefix(environment);
  }
  const short = SHORT_REFERENCE.exec(environment);
  if (!short) {
    return environment; // a registry environment, passed through as the SDK does
  }
  const [, name, version, latest] = short;
  if (latest === undefined) {
    return assetVersionPath(session.scope, "environments", name, version);
  }
  const container = await session.client.getOrUndefined<{
    properties?: { latestVersion?: string | null };
  }>(environmentContainerPath(session.scope, name), "EnvironmentContainers_Get");
  const latestVersion = container?.properties?.latestVersion;
  if (!latestVersion) {
    throw new Error(
      `[environment] "${environment}": the workspace has no environment ${name} with a latest version.`,
    );
  }
  return assetVersionPath(session.scope, "environments", name, latestVersion);
}

function codeReferenceId(session: Session, code: string): string {
  if (isArmId(code)) {
    return stripAzuremlPrefix(code);
  }
  const short = SHORT_REFERENCE.exec(code);
  if (!short || short[2] === undefined) {
    throw new Error(`[code] "${code}" is not azureml:<name>:<version>.`);
  }
  return assetVersionPath(session.scope, "codes", short[1], short[2]);
}

/** The computeId Azure ML is sent: an ARM id as given, a name under the workspace. */
function resolveComputeId(session: Session, compute: string | undefined): string | undefined {
  if (compute === undefined) {
    return undefined;
  }
  return isArmId(compute) ? stripAzuremlPrefix(compute) : computeArmId(session.scope, compute);
}

/** The code version's name when [code] is a local folder: the resource name, made ARM-safe. */
export function localCodeName(resourceName: string | undefined): string {
  const safe = (resourceName ?? "job")
    .replace(/[^a-zA-Z0-9\-_]+/g, "-")
    .replace(/^[^a-zA-Z0-9]+/, "")
    .slice(0, 200);
  return `${safe || "job"}-code`;
}

// --- check -------------------------------------------------------------------------------------

function checkString(
  value: unknown,
  property: string,
  failures: Failures,
  options: { required?: boolean; nonEmpty?: boolean } = {},
): void {
  if (value === undefined) {
    if (options.required) {
      failures.add(property, `[${property}] is required.`);
    }
    return;
  }
  if (!isKnown(value)) {
    return;
  }
  if (typeof value !== "string" || (options.nonEmpty && value.trim() === "")) {
    failures.add(
      property,
      `[${property}] must be a ${options.nonEmpty ? "non-empty " : ""}string, got ${JSON.stringify(value)}.`,
    );
  }
}

function checkStringMap(value: unknown, property: string, failures: Failures): void {
  if (value === undefined || !isKnown(value)) {
    return;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    failures.add(property, `[${property}] must be a map of strings.`);
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    if (isKnown(v) && typeof v !== "string") {
      failures.add(`${property}.${key}`, `[${property}.${key}] must be a string, got ${typeof v}.`);
    }
  }
}

function checkNumber(
  value: unknown,
  property: string,
  failures: Failures,
  rule: { integer?: boolean; min: number; max?: number },
): void {
  if (value === undefined || !isKnown(value)) {
    return;
  }
  const ok =
    typeof value === "number" &&
    Number.isFinite(value) &&
    (!rule.integer || Number.isInteger(value)) &&
    value >= rule.min &&
    (rule.max === undefined || value <= rule.max);
  if (!ok) {
    const range = rule.max === undefined ? `at least ${rule.min}` : `${rule.min} to ${rule.max}`;
    failures.add(
      property,
      `[${property}] must be ${rule.integer ? "an integer" : "a number"} ${range}, got ${JSON.stringify(value)}.`,
    );
  }
}

function checkBoolean(value: unknown, property: string, failures: Failures): void {
  if (value !== undefined && isKnown(value) && typeof value !== "boolean") {
    failures.add(property, `[${property}] must be true or false, got ${JSON.stringify(value)}.`);
  }
}

function oneOf(value: unknown, allowed: readonly string[]): boolean {
  return typeof value === "string" && allowed.includes(value);
}

/** Why a data or model path cannot be used by a job, or undefined. */
function assetPathFailure(path: string, property: string): string | undefined {
  if (isArmId(path) || isRemoteUri(path)) {
    return sasFailure(path, property);
  }
  return (
    `[${property}] "${path}" is not a URI or an asset: jobs read data from Azure ML. Register a local ` +
    "file or folder as a DataVersion (or ModelVersion) and give its assetReference, or give an " +
    "azureml://datastores/<ds>/paths/<p>, azureml://jobs/<job>/outputs/<o> or https URI."
  );
}

function checkInputs(inputs: unknown, failures: Failures): void {
  if (inputs === undefined || !isKnown(inputs)) {
    return;
  }
  if (inputs === null || typeof inputs !== "object" || Array.isArray(inputs)) {
    failures.add("inputs", "[inputs] must be a map from input names to inputs.");
    return;
  }
  for (const [name, input] of Object.entries(inputs as Record<string, unknown>)) {
    const property = `inputs.${name}`;
    if (!IO_NAME.test(name)) {
      failures.add(property, `Input name "${name}" must be letters, digits or '_'.`);
    }
    if (!isKnown(input)) {
      continue;
    }
    if (typeof input === "string") {
      continue;
    }
    if (typeof input === "number") {
      if (!Number.isFinite(input)) {
        failures.add(property, `[${property}] must be a finite number, got ${input}.`);
      }
      continue;
    }
    if (input === null || typeof input !== "object" || Array.isArray(input)) {
      failures.add(
        property,
        `[${property}] must be a literal (a string or a number) or { type, path, mode }, got ${JSON.stringify(input)}.`,
      );
      continue;
    }
    const asset = input as Record<string, unknown>;
    if (isKnown(asset.type) && !oneOf(asset.type, JOB_INPUT_TYPES)) {
      failures.add(
        `${property}.type`,
        `[${property}.type] must be one of ${JOB_INPUT_TYPES.join(", ")}, got ${JSON.stringify(asset.type)}. ` +
          "Literal values are given directly, as a string or a number.",
      );
    }
    if (asset.path === undefined || (typeof asset.path === "string" && !asset.path.trim())) {
      failures.add(`${property}.path`, `[${property}.path] is required.`);
    } else if (isKnown(asset.path)) {
      const why =
        typeof asset.path === "string"
          ? assetPathFailure(asset.path, `${property}.path`)
          : `[${property}.path] must be a string.`;
      if (why) {
        failures.add(`${property}.path`, why);
      }
    }
    if (asset.mode !== undefined && isKnown(asset.mode) && !oneOf(asset.mode, INPUT_MODES)) {
      failures.add(
        `${property}.mode`,
        `[${property}.mode] must be one of ${INPUT_MODES.join(", ")}, got ${JSON.stringify(asset.mode)}.`,
      );
    }
    checkString(asset.description, `${property}.description`, failures);
    for (const key of Object.keys(asset)) {
      if (!["type", "path", "mode", "description"].includes(key)) {
        failures.add(`${property}.${key}`, `[${property}] has no property "${key}".`);
      }
    }
  }
}

function checkOutputs(outputs: unknown, failures: Failures): void {
  if (outputs === undefined || !isKnown(outputs)) {
    return;
  }
  if (outputs === null || typeof outputs !== "object" || Array.isArray(outputs)) {
    failures.add("outputs", "[outputs] must be a map from output names to outputs.");
    return;
  }
  for (const [name, output] of Object.entries(outputs as Record<string, unknown>)) {
    const property = `outputs.${name}`;
    if (!IO_NAME.test(name)) {
      failures.add(property, `Output name "${name}" must be letters, digits or '_'.`);
    }
    if (!isKnown(output)) {
      continue;
    }
    if (output === null || typeof output !== "object" || Array.isArray(output)) {
      failures.add(
        property,
        `[${property}] must be { type, mode, path }, got ${JSON.stringify(output)}.`,
      );
      continue;
    }
    const o = output as Record<string, unknown>;
    if (o.type !== undefined && isKnown(o.type) && !oneOf(o.type, JOB_OUTPUT_TYPES)) {
      failures.add(
        `${property}.type`,
        `[${property}.type] must be one of ${JOB_OUTPUT_TYPES.join(", ")}, got ${JSON.stringify(o.type)}.`,
      );
    }
    if (o.mode !== undefined && isKnown(o.mode) && !oneOf(o.mode, OUTPUT_MODES)) {
      failures.add(
        `${property}.mode`,
        `[${property}.mode] must be one of ${OUTPUT_MODES.join(", ")}, got ${JSON.stringify(o.mode)}.`,
      );
    }
    if (o.path !== undefined && isKnown(o.path)) {
      const why =
        typeof o.path === "string"
          ? isRemoteUri(o.path)
            ? sasFailure(o.path, `${property}.path`)
            : `[${property}.path] "${o.path}" must be a datastore URI (azureml://datastores/<ds>/paths/<p>).`
          : `[${property}.path] must be a string.`;
      if (why) {
        failures.add(`${property}.path`, why);
      }
    }
    checkString(o.description, `${property}.description`, failures);
    for (const key of Object.keys(o)) {
      if (!["type", "path", "mode", "description"].includes(key)) {
        failures.add(`${property}.${key}`, `[${property}] has no property "${key}".`);
      }
    }
  }
}

/** Every binding must name a declared input or output (optional `[...]` segments excepted). */
function checkBindings(inputs: CommandJobInputs, failures: Failures): void {
  if (typeof inputs.command !== "string" || !isKnown(inputs.command)) {
    return;
  }
  const declared = {
    inputs: inputs.inputs,
    outputs: inputs.outputs,
  };
  for (const binding of parseBindings(inputs.command)) {
    if (binding.kind === "other") {
      failures.add(
        "command",
        `[command] binding \${{${binding.expression}}} is neither inputs.<name> nor outputs.<name>.`,
      );
      continue;
    }
    const map = declared[binding.kind];
    if (map !== undefined && !isKnown(map)) {
      continue; // not known until the update
    }
    const names = map && typeof map === "object" ? Object.keys(map) : [];
    if (!names.includes(binding.name as string) && !binding.optional) {
      const which = binding.kind === "inputs" ? "an input" : "an output";
      failures.add(
        "command",
        `[command] binds \${{${binding.expression}}}, but no ${binding.kind.slice(0, -1)} "${binding.name}" is declared in [${binding.kind}]` +
          (names.length > 0
            ? ` (declared: ${names.join(", ")}).`
            : `; declare ${which} of that name.`),
      );
    }
  }
}

function checkDistribution(value: unknown, failures: Failures): void {
  if (value === undefined || !isKnown(value)) {
    return;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    failures.add(
      "distribution",
      "[distribution] must be { type: PyTorch | TensorFlow | Mpi, ... }.",
    );
    return;
  }
  const d = value as Record<string, unknown>;
  if (!isKnown(d.type)) {
    return;
  }
  const type = typeof d.type === "string" ? distributionTypeOf(d.type) : undefined;
  if (type === undefined) {
    failures.add(
      "distribution.type",
      `[distribution.type] ${JSON.stringify(d.type)} is not a distribution Azure ML knows: PyTorch, TensorFlow or Mpi.`,
    );
    return;
  }
  const allowed =
    type === "TensorFlow"
      ? ["type", "workerCount", "parameterServerCount"]
      : ["type", "processCountPerInstance"];
  for (const key of Object.keys(d)) {
    if (!allowed.includes(key)) {
      failures.add(
        `distribution.${key}`,
        `A ${type} distribution has no "${key}" (it takes ${allowed.slice(1).join(", ")}).`,
      );
    }
  }
  checkNumber(d.processCountPerInstance, "distribution.processCountPerInstance", failures, {
    integer: true,
    min: 1,
  });
  checkNumber(d.workerCount, "distribution.workerCount", failures, { integer: true, min: 1 });
  checkNumber(d.parameterServerCount, "distribution.parameterServerCount", failures, {
    integer: true,
    min: 0,
  });
}

function checkIdentity(value: unknown, failures: Failures): void {
  if (value === undefined || !isKnown(value)) {
    return;
  }
  const identity = value as Record<string, unknown>;
  if (value === null || typeof value !== "object" || !isKnown(identity.type)) {
    if (value === null || typeof value !== "object") {
      failures.add("identity", "[identity] must be { type: AMLToken | Managed | UserIdentity }.");
    }
    return;
  }
  if (typeof identity.type !== "string" || identityTypeOf(identity.type) === undefined) {
    failures.add(
      "identity.type",
      `[identity.type] must be AMLToken, Managed or UserIdentity, got ${JSON.stringify(identity.type)}.`,
    );
  }
}

/** Judges [code]; a local folder is hashed the way CodeVersion hashes it. */
async function checkCode(inputs: CommandJobInputs, failures: Failures): Promise<void> {
  const code = inputs.code;
  if (code === undefined || !isKnown(code)) {
    return;
  }
  if (typeof code !== "string" || code.trim() === "") {
    failures.add("code", "[code] must be a CodeVersion, a code version id, or a local folder.");
    return;
  }
  const kind = codeKind(code);
  if (kind === "armId") {
    if (!/\/codes\/[^/]+\/versions\/[^/]+$/i.test(stripAzuremlPrefix(code))) {
      failures.add(
        "code",
        `[code] "${code}" is not a code version id ({workspace id}/codes/<name>/versions/<version>).`,
      );
    }
    return;
  }
  if (kind === "reference") {
    const short = SHORT_REFERENCE.exec(code);
    if (!short || short[2] === undefined) {
      failures.add("code", `[code] "${code}" must be azureml:<name>:<version>.`);
    }
    return;
  }
  const local = resolveLocalPath(code);
  try {
    await stat(local);
    inputs.codeHash = (await computeContentHash(local, cachedHashing())).hash;
  } catch (error) {
    failures.add("code", pathFailure(code, error).replace("[path]", "[code]"));
  }
  inputs.code = toProjectRelative(code);
}

/** The job's spec as hashed: local code by content (so moving the folder changes nothing). */
export function specOf(inputs: CommandJobInputs): Record<string, unknown> {
  const spec: Record<string, unknown> = {};
  for (const key of SPEC_FIELDS) {
    spec[key] = inputs[key];
  }
  if (inputs.code !== undefined && isKnown(inputs.code) && codeKind(inputs.code) === "local") {
    spec.code = { sha256: inputs.codeHash ?? UNKNOWN };
  }
  return spec;
}

export async function check(
  _olds: CommandJobInputs,
  news: CommandJobInputs,
  config?: Config,
): Promise<pulumi.dynamic.CheckResult<CommandJobInputs>> {
  const failures = new Failures();
  const inputs = withoutProvider(news);
  // Derived here, never taken from the program.
  delete inputs.specHash;
  delete inputs.codeHash;
  delete inputs.baseName;
  checkWorkspace(inputs, failures, config);

  if (inputs.name !== undefined && isKnown(inputs.name)) {
    if (typeof inputs.name !== "string" || !JOB_NAME.test(inputs.name)) {
      failures.add(
        "name",
        `[name] ${JSON.stringify(inputs.name)} is not a valid job name: 1-255 letters, digits, '-' or '_', starting with a letter or digit.`,
      );
    }
  }
  checkString(inputs.command, "command", failures, { required: true, nonEmpty: true });
  checkString(inputs.environment, "environment", failures, { required: true, nonEmpty: true });
  if (typeof inputs.environment === "string" && isKnown(inputs.environment)) {
    const why = environmentFailure(inputs.environment);
    if (why) {
      failures.add("environment", why);
    }
  }
  checkString(inputs.compute, "compute", failures, { nonEmpty: true });
  if (typeof inputs.compute === "string" && isKnown(inputs.compute) && inputs.compute.trim()) {
    if (isArmId(inputs.compute)) {
      try {
        const parsed = parseArmId(stripAzuremlPrefix(inputs.compute));
        if (parsed.types[parsed.types.length - 1]?.type.toLowerCase() !== "computes") {
          throw new TypeError("not a compute");
        }
      } catch {
        failures.add("compute", `[compute] "${inputs.compute}" is not a compute's ARM id.`);
      }
    } else if (!JOB_NAME.test(inputs.compute)) {
      failures.add("compute", `[compute] "${inputs.compute}" is not a compute name.`);
    }
  }
  for (const key of ["displayName", "experimentName", "description", "instanceType"] as const) {
    checkString(inputs[key], key, failures);
  }
  checkStringMap(inputs.tags, "tags", failures);
  checkStringMap(inputs.properties, "properties", failures);
  checkStringMap(inputs.environmentVariables, "environmentVariables", failures);
  checkInputs(inputs.inputs, failures);
  checkOutputs(inputs.outputs, failures);
  checkBindings(inputs, failures);
  checkDistribution(inputs.distribution, failures);
  checkIdentity(inputs.identity, failures);
  checkNumber(inputs.instanceCount, "instanceCount", failures, { integer: true, min: 1 });
  if (inputs.timeout !== undefined && isKnown(inputs.timeout)) {
    const seconds =
      typeof inputs.timeout === "string" ? isoDurationSeconds(inputs.timeout) : undefined;
    if (seconds === undefined || seconds <= 0) {
      failures.add(
        "timeout",
        `[timeout] ${JSON.stringify(inputs.timeout)} is not an ISO 8601 duration such as "PT30M", "PT2H" or "P1DT12H".`,
      );
    }
  }
  if (inputs.queueSettings !== undefined && isKnown(inputs.queueSettings)) {
    const tier = (inputs.queueSettings as { jobTier?: unknown }).jobTier;
    if (tier !== undefined && isKnown(tier) && !oneOf(tier, JOB_TIERS)) {
      failures.add(
        "queueSettings.jobTier",
        `[queueSettings.jobTier] must be one of ${JOB_TIERS.join(", ")}, got ${JSON.stringify(tier)}.`,
      );
    }
  }
  checkBoolean(inputs.waitForCompletion, "waitForCompletion", failures);
  checkBoolean(inputs.failOnJobFailure, "failOnJobFailure", failures);
  checkNumber(inputs.waitTimeoutInSeconds, "waitTimeoutInSeconds", failures, { min: 1 });
  checkNumber(inputs.minPollIntervalInSeconds, "minPollIntervalInSeconds", failures, {
    min: 0.1,
    max: 600,
  });
  checkNumber(inputs.maxPollIntervalInSeconds, "maxPollIntervalInSeconds", failures, {
    min: 0.1,
    max: 600,
  });
  const min = inputs.minPollIntervalInSeconds ?? WAIT_DEFAULTS.minPollIntervalInSeconds;
  const max = inputs.maxPollIntervalInSeconds ?? WAIT_DEFAULTS.maxPollIntervalInSeconds;
  if (
    isKnown(min) &&
    isKnown(max) &&
    typeof min === "number" &&
    typeof max === "number" &&
    min > max
  ) {
    failures.add(
      "minPollIntervalInSeconds",
      `[minPollIntervalInSeconds] (${min}) is above [maxPollIntervalInSeconds] (${max}).`,
    );
  }
  if (
    inputs.onDelete !== undefined &&
    isKnown(inputs.onDelete) &&
    !oneOf(inputs.onDelete, ["archive", "retain", "delete"])
  ) {
    failures.add(
      "onDelete",
      `[onDelete] must be "archive", "retain" or "delete", got ${JSON.stringify(inputs.onDelete)}.`,
    );
  }
  await checkCode(inputs, failures);

  if (!failures.any) {
    const spec = specOf(inputs);
    inputs.specHash = isFullyKnown(spec) ? fingerprint(spec) : UNKNOWN;
    inputs.baseName = requestedName(inputs);
  }
  return { inputs, failures: failures.list };
}

/** The job name the inputs ask for: given, or derived from the resource name and the spec. */
export function requestedName(inputs: CommandJobInputs): string {
  if (inputs.name !== undefined) {
    return inputs.name;
  }
  if (inputs.specHash === undefined || !isKnown(inputs.specHash)) {
    return UNKNOWN;
  }
  return derivedJobName(inputs.resourceName ?? "job", inputs.specHash);
}

// --- diff --------------------------------------------------------------------------------------

function designatedWorkspace(
  inputs: CommandJobInputs,
  settings: AzureMlSettings | undefined,
): string | undefined {
  if (settings === undefined || !WORKSPACE_FIELDS.every((k) => isFullyKnown(inputs[k]))) {
    return undefined;
  }
  try {
    return workspaceId(resolveScope(inputs, settings)).toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * The diff: another workspace or a changed spec (anything a job runs with) replaces the job with a
 * new one; display name, description and tags update the job in place; wait and delete options
 * update the state only. A change in the provider's own code is no change (`__provider` is never
 * compared). In preview it says which part of the spec changed.
 */
export async function diff(
  _id: string,
  olds: CommandJobOutputs,
  news: CommandJobInputs,
  config?: Config,
): Promise<pulumi.dynamic.DiffResult> {
  let settings: AzureMlSettings | undefined;
  try {
    settings = resolveSettings(config);
  } catch {
    settings = undefined;
  }
  const oldRecord = olds as unknown as Record<string, unknown>;
  const newRecord = news as unknown as Record<string, unknown>;
  const oldWorkspace = designatedWorkspace(olds, settings);
  const sameWorkspace =
    oldWorkspace !== undefined && oldWorkspace === designatedWorkspace(news, settings);
  const workspaceChanges = WORKSPACE_FIELDS.filter((k) => fieldChanged(oldRecord, newRecord, k));

  const replaces: string[] = [];
  if (!sameWorkspace && workspaceChanges.length > 0) {
    replaces.push(...workspaceChanges);
  }
  // An explicit new name runs the job under it; dropping an explicit name or renaming the
  // resource (with an alias) keeps the job that ran, since its spec is the same.
  if (news.name !== undefined && (!isKnown(news.name) || news.name !== olds.baseName)) {
    replaces.push("name");
  }
  if (fieldChanged(oldRecord, newRecord, "specHash")) {
    const fields = SPEC_FIELDS.filter((k) =>
      k === "code" &&
      olds.codeHash !== undefined &&
      isKnown(olds.code) &&
      codeKind(olds.code as string) === "local"
        ? fieldChanged(oldRecord, newRecord, "codeHash") ||
          fieldChanged(oldRecord, newRecord, "code")
        : fieldChanged(oldRecord, newRecord, k),
    );
    replaces.push(...(fields.length > 0 ? fields : ["specHash"]));
  }
  if (replaces.length > 0) {
    await reportProgress(
      `CommandJob ${olds.name}: ${replaces.join(", ")} changed; a job's spec cannot change, so a new job runs and replaces it.`,
    );
    return { changes: true, replaces: [...new Set(replaces)], deleteBeforeReplace: false };
  }
  const updates = [
    ...(sameWorkspace ? workspaceChanges : []),
    ...[...JOB_MUTABLE_FIELDS, ...PROVIDER_FIELDS, "resourceName", "baseName", "code"].filter((k) =>
      fieldChanged(oldRecord, newRecord, k),
    ),
  ];
  return { changes: updates.length > 0, replaces: [] };
}

// --- create ------------------------------------------------------------------------------------

interface Submitted {
  name: string;
  job: JobResource;
  adopted: boolean;
}

/** Most jobs to try for one spec before giving up (each failed run takes the next suffix). */
const MAX_ATTEMPTS = 50;

/**
 * Submits the job, or adopts the one an earlier `up` submitted for the same spec: GET before PUT,
 * so an interrupted `up` never submits twice. A name whose job failed, was canceled or belongs to
 * another spec is skipped for the next `-rN` suffix.
 */
async function submitOrAdopt(
  session: Session,
  base: string,
  specHash: string,
  body: ReturnType<typeof commandJobBody>,
): Promise<Submitted> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const name = attemptName(base, attempt);
    const existing = await session.client.getOrUndefined<JobResource>(
      jobPath(session.scope, name),
      "Jobs_Get",
    );
    if (existing === undefined) {
      const created = await session.client.request<JobResource>({
        method: "PUT",
        path: jobPath(session.scope, name),
        body,
        operation: "Jobs_CreateOrUpdate",
      });
      await reportProgress(
        `CommandJob ${name}: submitted (${created.body.properties?.status ?? "NotStarted"}). Studio: ${studioUrlOf(created.body, session.scope, name)}`,
      );
      return { name, job: created.body, adopted: false };
    }
    const status = existing.properties.status;
    const sameSpec = existing.properties.properties?.[SPEC_HASH_PROPERTY] === specHash;
    const next = attemptName(base, attempt + 1);
    if (!sameSpec) {
      await reportProgress(
        `CommandJob ${name}: a job of this name already exists for another spec; this one runs as ${next}.`,
      );
      continue;
    }
    if (isUnsuccessfulJobStatus(status)) {
      await reportProgress(
        `CommandJob ${name}: the earlier run of this spec ended ${status}; running it again as ${next}.`,
      );
      continue;
    }
    await reportProgress(
      isTerminalJobStatus(status)
        ? `CommandJob ${name}: this spec already ran to ${status}; adopting that job and its outputs.`
        : `CommandJob ${name}: already submitted by an earlier update (${status}); adopting it and waiting.`,
    );
    return { name, job: existing, adopted: true };
  }
  throw new Error(
    `CommandJob ${base}: ${MAX_ATTEMPTS} jobs of this spec failed or were canceled; fix the job, or give a new [name].`,
  );
}

/** Wait bounds in milliseconds. */
function waitBounds(inputs: CommandJobInputs) {
  return {
    minInMs: (inputs.minPollIntervalInSeconds ?? WAIT_DEFAULTS.minPollIntervalInSeconds) * 1000,
    maxInMs: (inputs.maxPollIntervalInSeconds ?? WAIT_DEFAULTS.maxPollIntervalInSeconds) * 1000,
  };
}

/**
 * Follows a job to a terminal status: GET with the sigmoid backoff between the poll bounds (a
 * Retry-After from the service wins), printing each status change with the time since waiting
 * began. Gives up (the job keeps running) after [waitTimeoutInSeconds].
 */
async function waitForJob(
  session: Session,
  name: string,
  inputs: CommandJobInputs,
  initial: JobResource,
): Promise<JobResource> {
  const started = Date.now();
  const bounds = waitBounds(inputs);
  let lastStatus = initial.properties.status;
  let lastResponse: AzureMlResponse<JobResource> | undefined;
  const timeoutInMs = (inputs.waitTimeoutInSeconds ?? WAIT_DEFAULTS.waitTimeoutInSeconds) * 1000;
  const elapsed = () => `${Math.round((Date.now() - started) / 1000)} s`;
  try {
    let first = true;
    return await pollUntil<JobResource>(
      async ({ abortSignal }) => {
        if (first) {
          // The submission (or the GET that found the job) just told us the status.
          first = false;
          await sleep(
            pollDelayInMs(0, bounds),
            abortSignal,
            `Waiting for job ${name} was aborted.`,
          );
        }
        lastResponse = await session.client.request<JobResource>({
          method: "GET",
          path: jobPath(session.scope, name),
          operation: "Jobs_Get",
          abortSignal,
        });
        return lastResponse.body;
      },
      (job) => isTerminalJobStatus(job.properties.status),
      {
        intervalInMs: () =>
          pollDelayInMs(
            Date.now() - started,
            bounds,
            lastResponse ? parseRetryAfter(lastResponse.headers) : undefined,
          ),
        timeoutInMs,
        operation: `Jobs_Get ${name}`,
        operationUrl: jobPath(session.scope, name),
        describe: (job) => job.properties.status ?? "unknown",
        onProgress: (job) => {
          const status = job.properties.status;
          if (status !== lastStatus) {
            lastStatus = status;
            void reportProgress(`CommandJob ${name}: ${status} (after ${elapsed()}).`);
          }
        },
      },
    );
  } catch (error) {
    if (isPollTimeoutError(error)) {
      throw new Error(
        `CommandJob ${name}: still ${lastStatus} after waiting ${elapsed()} ([waitTimeoutInSeconds] ${timeoutInMs / 1000}). ` +
          `The job keeps running in Azure ML (${studioUrlOf(initial, session.scope, name)}); the next update adopts it and waits again, without submitting it twice.`,
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * The job's MLflow run, read as Azure serves it: the workspace's `mlflowTrackingUri`, then
 * `runs/get` with the job name as run id, with the ARM token, through the project's transport.
 * Undefined (with a progress line) when the workspace has no tracking URI or no such run.
 */
async function readRun(session: Session, name: string): Promise<RunRecord | undefined> {
  const workspace = await session.client.get<WorkspaceResource>(
    session.workspace,
    "Workspaces_Get",
  );
  const base = mlflowBaseUrl(
    workspace.properties?.mlFlowTrackingUri ?? workspace.properties?.mlflowTrackingUri,
  );
  if (base === undefined) {
    await reportProgress(
      `CommandJob ${name}: the workspace has no MLflow tracking URI; no metrics to read.`,
    );
    return undefined;
  }
  const response = await session.client.request<MlflowRunResponse>({
    method: "GET",
    url: mlflowRunUrl(base, name),
    operation: "MLflow_GetRun",
    allowNotFound: true,
  });
  if (response.statusCode === 404 || response.body === undefined) {
    await reportProgress(`CommandJob ${name}: no MLflow run of that id; no metrics to read.`);
    return undefined;
  }
  return runRecordOf(response.body);
}

/** The service's error of a failed job, wherever the job carries it. */
export function jobErrorOf(job: JobResource): string | undefined {
  const props = job.properties as Record<string, unknown> & {
    error?: { code?: string; message?: string } | null;
    properties?: Record<string, string>;
  };
  const error = props.error;
  if (error && typeof error === "object" && (error.message || error.code)) {
    return [error.code, error.message].filter(Boolean).join(": ");
  }
  for (const key of ["azureml.error", "error", "errorMessage"]) {
    const value = props.properties?.[key];
    if (typeof value === "string" && value) {
      return value;
    }
  }
  return undefined;
}

/**
 * The service's error for a failed job, from Run History (where azure-ai-ml reads it). Azure
 * serves Run History on the region's host, the host of the workspace's tracking URI; the emulator
 * serves it on the ARM endpoint. Both are asked, the ARM endpoint first (a 404 on Azure).
 */
async function readRunHistoryError(session: Session, name: string): Promise<string | undefined> {
  const hosts = [session.settings.armEndpoint];
  try {
    const workspace = await session.client.get<WorkspaceResource>(
      session.workspace,
      "Workspaces_Get",
    );
    const tracking = mlflowBaseUrl(
      workspace.properties?.mlFlowTrackingUri ?? workspace.properties?.mlflowTrackingUri,
    );
    if (tracking !== undefined) {
      hosts.push(new URL(tracking).origin);
    }
  } catch {
    // the ARM endpoint alone
  }
  for (const host of [...new Set(hosts)]) {
    try {
      const response = await session.client.request<RunHistoryResponse>({
        method: "GET",
        url: `${host}${runHistoryPath(session.scope, name)}`,
        operation: "RunHistory_Get",
        allowNotFound: true,
      });
      const error = response.body?.error?.error;
      if (error?.message || error?.code) {
        return [error.code, error.message].filter(Boolean).join(": ");
      }
      if (response.statusCode !== 404) {
        return undefined;
      }
    } catch {
      // try the next host
    }
  }
  return undefined;
}

/** The last lines of the job's log, from the artifact store where Azure ML writes it. */
async function readLogTail(session: Session, name: string): Promise<string[] | string> {
  try {
    const container = await datastoreContainer(session, ARTIFACT_DATASTORE);
    const text = await readBlobTail({ ...container, prefix: "" }, jobLogBlobName(name), 64 * 1024, {
      caCertPath: session.settings.caCertPath,
      retryOptions: uploadRetryOptions(session.settings),
    });
    return text === undefined ? "(the job wrote no log)" : lastLines(text, LOG_TAIL_LINES);
  } catch (error) {
    return `(the log could not be read: ${(error as Error).message.split("\n")[0]})`;
  }
}

/** The error a Failed or Canceled job raises: the service's error and the end of the log. */
export function jobFailureMessage(
  name: string,
  status: string,
  serviceError: string | undefined,
  studioUrl: string,
  log: string[] | string,
): string {
  const error = (serviceError ?? "the service gave no error message").trim().replace(/\.$/, "");
  let tail: string;
  if (!Array.isArray(log)) {
    tail = log;
  } else if (log.length === 0) {
    tail = "The job's log is empty.";
  } else {
    // Azure ML's error often quotes the end of the log already: those lines are not repeated.
    const quoted = (line: string) =>
      serviceError !== undefined && line.trim() !== "" && serviceError.includes(line.trim());
    const shown = log.filter((line) => !quoted(line));
    const left = log.length - shown.length;
    tail =
      `End of user_logs/std_log.txt${left > 0 ? ` (${left} line${left === 1 ? "" : "s"} the error quotes left out)` : ""}:\n` +
      shown.map((line) => `  | ${line}`).join("\n");
  }
  return (
    `CommandJob ${name} ended ${status}: ${error}.\n` +
    `Studio: ${studioUrl}\n${tail}\n` +
    "Fix the job and run the update again: the next run gets a new name (the failed job is kept)."
  );
}

function durationOf(start: string | undefined, end: string | undefined): number | undefined {
  if (start === undefined || end === undefined) {
    return undefined;
  }
  const seconds = (Date.parse(end) - Date.parse(start)) / 1000;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** The resource's outputs for a job as Azure ML holds it now. */
function outputsOf(
  session: Session,
  inputs: CommandJobInputs,
  resolved: { environmentId: string; codeId?: string; computeId?: string },
  name: string,
  job: JobResource,
  run: RunRecord | undefined,
  serviceError?: string,
): CommandJobOutputs {
  const status = job.properties.status ?? "Unknown";
  const outputUris = Object.fromEntries(
    Object.keys(inputs.outputs ?? {}).map((output) => [output, jobOutputUri(name, output)]),
  );
  return dropUndefined({
    ...inputs,
    name,
    jobId: jobPath(session.scope, name),
    status,
    studioUrl: studioUrlOf(job, session.scope, name),
    startTime: run?.startTime,
    endTime: isTerminalJobStatus(status) ? run?.endTime : undefined,
    durationInSeconds: isTerminalJobStatus(status)
      ? durationOf(run?.startTime, run?.endTime)
      : undefined,
    outputUris,
    metrics: run?.metrics ?? {},
    parameters: run?.parameters ?? {},
    environmentId: resolved.environmentId,
    codeId: resolved.codeId,
    computeId: resolved.computeId,
    error: isUnsuccessfulJobStatus(status)
      ? (serviceError ?? jobErrorOf(job) ?? status)
      : undefined,
  });
}

/** The code id: registered from a local folder as CodeVersion does it, or resolved as given. */
async function resolveCodeId(
  session: Session,
  inputs: CommandJobInputs,
  config: Config,
): Promise<string | undefined> {
  if (inputs.code === undefined) {
    return undefined;
  }
  if (codeKind(inputs.code) !== "local") {
    return codeReferenceId(session, inputs.code);
  }
  const contentHash = inputs.codeHash as string;
  const registered = await registerCode(
    {
      workspaceId: inputs.workspaceId,
      subscriptionId: inputs.subscriptionId,
      resourceGroupName: inputs.resourceGroupName,
      workspaceName: inputs.workspaceName,
      name: localCodeName(inputs.resourceName),
      version: versionFromContentHash(contentHash),
      path: inputs.code,
      contentHash,
    },
    config,
  );
  return registered.assetId;
}

export async function create(
  news: CommandJobInputs,
  config?: Config,
): Promise<pulumi.dynamic.CreateResult<CommandJobOutputs>> {
  const inputs = withoutProvider(news);
  const session = openSession(inputs, config);
  const base = inputs.baseName ?? requestedName(inputs);
  const specHash = inputs.specHash as string;
  const resolved = {
    codeId: await resolveCodeId(session, inputs, config),
    environmentId: await resolveEnvironmentId(session, inputs.environment),
    computeId: resolveComputeId(session, inputs.compute),
  };
  const spec: CommandJobSpec = {
    command: inputs.command,
    environmentId: resolved.environmentId,
    codeId: resolved.codeId,
    computeId: resolved.computeId,
    experimentName: inputs.experimentName,
    inputs: inputs.inputs as Record<string, string | number | JobAssetInput> | undefined,
    outputs: inputs.outputs,
    environmentVariables: inputs.environmentVariables,
    distribution: inputs.distribution,
    instanceCount: inputs.instanceCount,
    instanceType: inputs.instanceType,
    timeout: inputs.timeout,
    queueSettings: inputs.queueSettings,
    identity: inputs.identity,
    properties: { ...(inputs.properties ?? {}), [SPEC_HASH_PROPERTY]: specHash },
  };
  const body = commandJobBody(spec, {
    displayName: inputs.displayName,
    description: inputs.description,
    tags: inputs.tags,
  });
  const submitted = await submitOrAdopt(session, base, specHash, body);
  const { name } = submitted;
  let job = submitted.job;
  if (
    (inputs.waitForCompletion ?? WAIT_DEFAULTS.waitForCompletion) &&
    !isTerminalJobStatus(job.properties.status)
  ) {
    job = await waitForJob(session, name, inputs, job);
  }
  const status = job.properties.status;
  const serviceError = isUnsuccessfulJobStatus(status)
    ? (jobErrorOf(job) ?? (await readRunHistoryError(session, name)))
    : undefined;
  if (
    isUnsuccessfulJobStatus(status) &&
    (inputs.failOnJobFailure ?? WAIT_DEFAULTS.failOnJobFailure)
  ) {
    const log = await readLogTail(session, name);
    throw new Error(
      jobFailureMessage(
        name,
        status as string,
        serviceError,
        studioUrlOf(job, session.scope, name),
        log,
      ),
    );
  }
  const run = isTerminalJobStatus(status) ? await readRunOrWarn(session, name) : undefined;
  if (status === "Completed") {
    const count = Object.keys(run?.metrics ?? {}).length;
    await reportProgress(
      `CommandJob ${name}: Completed; ${count} metric${count === 1 ? "" : "s"} read from MLflow.`,
    );
  }
  const outs = outputsOf(session, inputs, resolved, name, job, run, serviceError);
  return { id: outs.jobId, outs };
}

/** Metrics are a bonus on a job that ended: a tracking server that cannot answer is a warning. */
async function readRunOrWarn(session: Session, name: string): Promise<RunRecord | undefined> {
  try {
    return await readRun(session, name);
  } catch (error) {
    await reportProgress(
      `CommandJob ${name}: the metrics could not be read from MLflow (${(error as Error).message.split("\n")[0]}); a refresh reads them again.`,
    );
    return undefined;
  }
}

// --- read, update, delete ---------------------------------------------------------------------

/**
 * Refresh: the job's status, mutable fields and, once it has ended, its metrics and parameters,
 * so a job that failed or was canceled after the update shows. Nothing when the job is gone.
 */
export async function read(
  id: string,
  props: CommandJobOutputs,
  config?: Config,
): Promise<pulumi.dynamic.ReadResult<CommandJobOutputs>> {
  const current = withoutProvider(props);
  const session = openSession(current, config);
  const job = await session.client.getOrUndefined<JobResource>(
    jobPath(session.scope, current.name),
    "Jobs_Get",
  );
  if (job === undefined) {
    return {};
  }
  const status = job.properties.status;
  const run = isTerminalJobStatus(status) ? await readRunOrWarn(session, current.name) : undefined;
  const serviceError = isUnsuccessfulJobStatus(status)
    ? (jobErrorOf(job) ?? (await readRunHistoryError(session, current.name)))
    : undefined;
  const refreshed = outputsOf(
    session,
    current,
    { environmentId: current.environmentId, codeId: current.codeId, computeId: current.computeId },
    current.name,
    job,
    run ??
      (isTerminalJobStatus(status)
        ? {
            metrics: current.metrics ?? {},
            parameters: current.parameters ?? {},
            startTime: current.startTime,
            endTime: current.endTime,
          }
        : undefined),
    serviceError,
  );
  const live = job.properties;
  for (const [key, value] of [
    ["displayName", live.displayName],
    ["description", live.description],
    ["tags", live.tags && Object.keys(live.tags).length > 0 ? live.tags : undefined],
  ] as const) {
    if (value === undefined || value === null) {
      delete (refreshed as unknown as Record<string, unknown>)[key];
    } else {
      (refreshed as unknown as Record<string, unknown>)[key] = value;
    }
  }
  return { id, props: refreshed };
}

/**
 * In place: display name, description and tags are re-PUT on the existing job (Azure ML replaces
 * its tags); wait and delete options only change the state.
 */
export async function update(
  _id: string,
  olds: CommandJobOutputs,
  news: CommandJobInputs,
  config?: Config,
): Promise<pulumi.dynamic.UpdateResult<CommandJobOutputs>> {
  const inputs = withoutProvider(news);
  const oldRecord = olds as unknown as Record<string, unknown>;
  const newRecord = inputs as unknown as Record<string, unknown>;
  const changed = JOB_MUTABLE_FIELDS.filter((k) => fieldChanged(oldRecord, newRecord, k));
  if (changed.length > 0) {
    const session = openSession(inputs, config);
    const existing = await session.client.get<JobResource>(
      jobPath(session.scope, olds.name),
      "Jobs_Get",
    );
    await session.client.request({
      method: "PUT",
      path: jobPath(session.scope, olds.name),
      body: jobUpdateBody(existing, {
        displayName: inputs.displayName,
        description: inputs.description,
        tags: inputs.tags ?? {},
      }),
      operation: "Jobs_CreateOrUpdate",
    });
    await reportProgress(`CommandJob ${olds.name}: updated ${changed.join(", ")} in place.`);
  }
  // Everything Azure ML produced stays as it was; only the inputs change.
  const kept: Partial<CommandJobOutputs> = {};
  for (const key of [
    "name",
    "jobId",
    "status",
    "studioUrl",
    "startTime",
    "endTime",
    "durationInSeconds",
    "outputUris",
    "metrics",
    "parameters",
    "environmentId",
    "codeId",
    "computeId",
    "error",
  ] as const) {
    if (olds[key] !== undefined) {
      (kept as Record<string, unknown>)[key] = olds[key];
    }
  }
  return { outs: dropUndefined({ ...inputs, ...kept } as CommandJobOutputs) };
}

/**
 * Cancels a job that has not ended (a long-running POST, polled through the project's LRO
 * engine), then archives it, deletes it or leaves it, per [onDelete]. A job already gone is done.
 */
async function remove(_id: string, props: CommandJobOutputs, config?: Config): Promise<void> {
  const current = withoutProvider(props);
  const session = openSession(current, config);
  const path = jobPath(session.scope, current.name);
  let job = await session.client.getOrUndefined<JobResource>(path, "Jobs_Get");
  if (job === undefined) {
    return;
  }
  if (!isTerminalJobStatus(job.properties.status)) {
    await reportProgress(`CommandJob ${current.name}: ${job.properties.status}; canceling it.`);
    try {
      const cancel = await session.client.beginPost(
        jobCancelPath(session.scope, current.name),
        undefined,
        "Jobs_Cancel",
        { retryNonIdempotent: true },
      );
      await cancel.pollUntilDone();
    } catch (error) {
      // A job that ended (or vanished) between the GET and the cancel needs no canceling.
      const now = await session.client.getOrUndefined<JobResource>(path, "Jobs_Get");
      if (!isAzureMlRestError(error) || (now && !isTerminalJobStatus(now.properties.status))) {
        throw error;
      }
    }
    job = await session.client.getOrUndefined<JobResource>(path, "Jobs_Get");
    if (job === undefined) {
      return;
    }
    await reportProgress(`CommandJob ${current.name}: ${job.properties.status}.`);
  }
  const onDelete = current.onDelete ?? WAIT_DEFAULTS.onDelete;
  if (onDelete === "retain") {
    return;
  }
  if (onDelete === "delete") {
    const deletion = await session.client.beginDelete(path, "Jobs_Delete");
    await deletion.pollUntilDone();
    return;
  }
  if (job.properties.isArchived !== true) {
    await session.client.request({
      method: "PUT",
      path,
      body: jobUpdateBody(job, { isArchived: true }),
      operation: "Jobs_CreateOrUpdate",
    });
  }
}

export { remove as delete };
