/**
 * What every job resource shares (CommandJob, SweepJob): references to code, environments and
 * computes; the checks of a command's spec (inputs, outputs, bindings, distribution, identity,
 * local code); submit-or-adopt (GET before PUT, `-rN` after failed runs); following a job to its
 * end with backoff, Retry-After and a progress hook; the failure message with Run History's error
 * and the end of the log; metrics from MLflow; cancel-then-archive on delete.
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
  derivedJobName,
  distributionTypeOf,
  environmentContainerPath,
  identityTypeOf,
  INPUT_MODES,
  isTerminalJobStatus,
  isUnsuccessfulJobStatus,
  JOB_INPUT_TYPES,
  JOB_NAME,
  JOB_OUTPUT_TYPES,
  jobCancelPath,
  jobLogBlobName,
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
  type JobResource,
  type MlflowRunResponse,
  type RunHistoryResponse,
  type RunRecord,
} from "../operations/jobs";
import { computeContentHash } from "../upload/contentHash";
import { readBlobTail, uploadRetryOptions } from "../upload/blobUpload";
import { fingerprint, versionFromContentHash } from "./assetVersion";
import { registerCode } from "./codeVersion";
import { datastoreContainer } from "./datastoreUpload";
import { cachedHashing } from "./localContent";
import { reportProgress } from "./progress";
import {
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
  type Session,
  type WorkspaceInputs,
  UNKNOWN,
} from "./shared";

export type Config = pulumi.dynamic.Config | undefined;

/** The kind of job, as progress lines and errors name it. */
export type JobKind = "CommandJob" | "SweepJob";

/**
 * The wait and delete options every job resource takes, as the provider receives them (the
 * program's side, with their documentation, is `JobWaitArgs` in provider/resources/jobArgs.ts).
 */
export interface JobWaitOptions {
  waitForCompletion?: boolean;
  waitTimeoutInSeconds?: number;
  minPollIntervalInSeconds?: number;
  maxPollIntervalInSeconds?: number;
  failOnJobFailure?: boolean;
  onDelete?: "archive" | "retain" | "delete";
}

/**
 * Outputs Azure ML produced for any job (its identity, times, the assets it ran with, its error);
 * an update in place keeps them. Each resource adds what its kind of job produces.
 */
export const JOB_PRODUCED_FIELDS = [
  "name",
  "jobId",
  "status",
  "studioUrl",
  "startTime",
  "endTime",
  "durationInSeconds",
  "environmentId",
  "codeId",
  "computeId",
  "error",
] as const;

/** Fields Azure ML changes on an existing job. */
export const JOB_MUTABLE_FIELDS = ["displayName", "description", "tags"] as const;

/** Fields only this provider reads: a change updates the state, nothing in Azure ML. */
export const PROVIDER_FIELDS = [
  "waitForCompletion",
  "waitTimeoutInSeconds",
  "minPollIntervalInSeconds",
  "maxPollIntervalInSeconds",
  "failOnJobFailure",
  "onDelete",
  "providerVersion",
] as const;

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

export const WORKSPACE_FIELDS = [
  "workspaceId",
  "subscriptionId",
  "resourceGroupName",
  "workspaceName",
] as const;

export const JOB_TIERS = ["Null", "Spot", "Basic", "Standard", "Premium"];
export const IO_NAME = /^[A-Za-z0-9_]{1,255}$/;

// --- References --------------------------------------------------------------------------------

/** What `check` derives on a job resource's inputs, never taken from the program. */
export interface DerivedJobFields {
  name?: string;
  resourceName?: string;
  /** sha256 of the (trial's) local code folder. */
  codeHash?: string;
  /** sha256 over everything that defines the job. */
  specHash?: string;
  /** The job name asked for: [name], or derived from [resourceName] and [specHash]. */
  baseName?: string;
}

/**
 * The job name the inputs ask for: given, or derived from the resource name (else [fallback]) and
 * the spec's hash; unknown while the hash is.
 */
export function requestedJobName(
  inputs: { name?: string; specHash?: string; resourceName?: string },
  fallback: string,
): string {
  if (inputs.name !== undefined) {
    return inputs.name;
  }
  if (inputs.specHash === undefined || !isKnown(inputs.specHash)) {
    return UNKNOWN;
  }
  return derivedJobName(inputs.resourceName ?? fallback, inputs.specHash);
}

/** Drops what `check` derives (a program passing [specHash], [codeHash] or [baseName] is ignored). */
export function withoutDerivedFields(inputs: DerivedJobFields): void {
  delete inputs.specHash;
  delete inputs.codeHash;
  delete inputs.baseName;
}

/**
 * After a check that found nothing: the spec's hash (unknown while any of [spec] is) and the job
 * name it asks for (see requestedJobName).
 */
export function deriveJobName(
  inputs: DerivedJobFields,
  spec: Record<string, unknown>,
  fallback: string,
): void {
  inputs.specHash = isFullyKnown(spec) ? fingerprint(spec) : UNKNOWN;
  inputs.baseName = requestedJobName(inputs, fallback);
}

/** True for `/subscriptions/...` ARM ids (and the SDK's `azureml:/subscriptions/...` form). */
export function isArmId(value: string): boolean {
  return /^(azureml:)?\/subscriptions\//i.test(value);
}

export function stripAzuremlPrefix(value: string): string {
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

export const SHORT_REFERENCE = /^azureml:([A-Za-z0-9][A-Za-z0-9\-_.]*)(?::([^:@/]+)|@(latest))$/i;

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
export async function resolveEnvironmentId(session: Session, environment: string): Promise<string> {
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

export function codeReferenceId(session: Session, code: string): string {
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
export function resolveComputeId(
  session: Session,
  compute: string | undefined,
): string | undefined {
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

export function checkString(
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

export function checkStringMap(value: unknown, property: string, failures: Failures): void {
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

export function checkNumber(
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

export function checkBoolean(value: unknown, property: string, failures: Failures): void {
  if (value !== undefined && isKnown(value) && typeof value !== "boolean") {
    failures.add(property, `[${property}] must be true or false, got ${JSON.stringify(value)}.`);
  }
}

export function oneOf(value: unknown, allowed: readonly string[]): boolean {
  return typeof value === "string" && allowed.includes(value);
}

/** Why a data or model path cannot be used by a job, or undefined. */
export function assetPathFailure(path: string, property: string): string | undefined {
  if (isArmId(path) || isRemoteUri(path)) {
    return sasFailure(path, property);
  }
  return (
    `[${property}] "${path}" is not a URI or an asset: jobs read data from Azure ML. Register a local ` +
    "file or folder as a DataVersion (or ModelVersion) and give its assetReference, or give an " +
    "azureml://datastores/<ds>/paths/<p>, azureml://jobs/<job>/outputs/<o> or https URI."
  );
}

/** `prefix.name`, or `name` without a prefix (a SweepJob's trial fields sit under `trial`). */
export function propertyOf(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

export function checkInputs(inputs: unknown, failures: Failures, prefix = ""): void {
  if (inputs === undefined || !isKnown(inputs)) {
    return;
  }
  const at = propertyOf(prefix, "inputs");
  if (inputs === null || typeof inputs !== "object" || Array.isArray(inputs)) {
    failures.add(at, `[${at}] must be a map from input names to inputs.`);
    return;
  }
  for (const [name, input] of Object.entries(inputs as Record<string, unknown>)) {
    const property = `${at}.${name}`;
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

export function checkOutputs(outputs: unknown, failures: Failures, prefix = ""): void {
  if (outputs === undefined || !isKnown(outputs)) {
    return;
  }
  const at = propertyOf(prefix, "outputs");
  if (outputs === null || typeof outputs !== "object" || Array.isArray(outputs)) {
    failures.add(at, `[${at}] must be a map from output names to outputs.`);
    return;
  }
  for (const [name, output] of Object.entries(outputs as Record<string, unknown>)) {
    const property = `${at}.${name}`;
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

/** What a command's bindings are checked against. */
export interface CommandBindingSpec {
  command?: unknown;
  inputs?: unknown;
  outputs?: unknown;
}

/**
 * Every binding must name a declared input or output (optional `[...]` segments excepted). A
 * sweep's trial also binds `${{search_space.<name>}}`, which the sweep's own checks judge.
 */
export function checkBindings(
  inputs: CommandBindingSpec,
  failures: Failures,
  options: { prefix?: string; searchSpace?: boolean } = {},
): void {
  if (typeof inputs.command !== "string" || !isKnown(inputs.command)) {
    return;
  }
  const command = propertyOf(options.prefix ?? "", "command");
  const declared = {
    inputs: inputs.inputs,
    outputs: inputs.outputs,
  };
  for (const binding of parseBindings(inputs.command)) {
    if (options.searchSpace && /^search_space\./.test(binding.expression)) {
      continue;
    }
    if (binding.kind === "other") {
      failures.add(
        command,
        `[${command}] binding \${{${binding.expression}}} is neither ${options.searchSpace ? "search_space.<name>, " : ""}inputs.<name> nor outputs.<name>.`,
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
        command,
        `[${command}] binds \${{${binding.expression}}}, but no ${binding.kind.slice(0, -1)} "${binding.name}" is declared in [${propertyOf(options.prefix ?? "", binding.kind)}]` +
          (names.length > 0
            ? ` (declared: ${names.join(", ")}).`
            : `; declare ${which} of that name.`),
      );
    }
  }
}

export function checkDistribution(value: unknown, failures: Failures, prefix = ""): void {
  if (value === undefined || !isKnown(value)) {
    return;
  }
  const at = propertyOf(prefix, "distribution");
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    failures.add(at, `[${at}] must be { type: PyTorch | TensorFlow | Mpi, ... }.`);
    return;
  }
  const d = value as Record<string, unknown>;
  if (!isKnown(d.type)) {
    return;
  }
  const type = typeof d.type === "string" ? distributionTypeOf(d.type) : undefined;
  if (type === undefined) {
    failures.add(
      `${at}.type`,
      `[${at}.type] ${JSON.stringify(d.type)} is not a distribution Azure ML knows: PyTorch, TensorFlow or Mpi.`,
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
        `${at}.${key}`,
        `A ${type} distribution has no "${key}" (it takes ${allowed.slice(1).join(", ")}).`,
      );
    }
  }
  checkNumber(d.processCountPerInstance, `${at}.processCountPerInstance`, failures, {
    integer: true,
    min: 1,
  });
  checkNumber(d.workerCount, `${at}.workerCount`, failures, { integer: true, min: 1 });
  checkNumber(d.parameterServerCount, `${at}.parameterServerCount`, failures, {
    integer: true,
    min: 0,
  });
}

export function checkIdentity(value: unknown, failures: Failures, prefix = ""): void {
  if (value === undefined || !isKnown(value)) {
    return;
  }
  const at = propertyOf(prefix, "identity");
  const identity = value as Record<string, unknown>;
  if (value === null || typeof value !== "object" || !isKnown(identity.type)) {
    if (value === null || typeof value !== "object") {
      failures.add(at, `[${at}] must be { type: AMLToken | Managed | UserIdentity }.`);
    }
    return;
  }
  if (typeof identity.type !== "string" || identityTypeOf(identity.type) === undefined) {
    failures.add(
      `${at}.type`,
      `[${at}.type] must be AMLToken, Managed or UserIdentity, got ${JSON.stringify(identity.type)}.`,
    );
  }
}

/**
 * Judges [code] (named [property]); a local folder is hashed the way CodeVersion hashes it, its
 * path made relative to the project, and its content hash returned.
 */
export async function checkCode(
  holder: { code?: unknown },
  failures: Failures,
  property = "code",
): Promise<string | undefined> {
  const code = holder.code;
  if (code === undefined || !isKnown(code)) {
    return undefined;
  }
  if (typeof code !== "string" || code.trim() === "") {
    failures.add(
      property,
      `[${property}] must be a CodeVersion, a code version id, or a local folder.`,
    );
    return undefined;
  }
  const kind = codeKind(code);
  if (kind === "armId") {
    if (!/\/codes\/[^/]+\/versions\/[^/]+$/i.test(stripAzuremlPrefix(code))) {
      failures.add(
        property,
        `[${property}] "${code}" is not a code version id ({workspace id}/codes/<name>/versions/<version>).`,
      );
    }
    return undefined;
  }
  if (kind === "reference") {
    const short = SHORT_REFERENCE.exec(code);
    if (!short || short[2] === undefined) {
      failures.add(property, `[${property}] "${code}" must be azureml:<name>:<version>.`);
    }
    return undefined;
  }
  const local = resolveLocalPath(code);
  let hash: string | undefined;
  try {
    await stat(local);
    hash = (await computeContentHash(local, cachedHashing())).hash;
  } catch (error) {
    failures.add(property, pathFailure(code, error).replace("[path]", `[${property}]`));
  }
  holder.code = toProjectRelative(code);
  return hash;
}

/** The workspace the inputs name, lower-cased, or undefined while any part is unknown. */
export function designatedWorkspace(
  inputs: WorkspaceInputs,
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

// --- diff --------------------------------------------------------------------------------------

/** How one job resource plans a change (see diffJob). */
export interface JobDiffOptions<T> {
  kind: JobKind;
  /** What a progress line calls one run: `job`, `sweep`. */
  noun: string;
  /**
   * The spec fields that changed, once the spec hash has; none found names `specHash` itself.
   * [news] may hold unknowns in preview.
   */
  changedSpecFields(olds: T, news: T): string[];
  /**
   * Inputs besides the shared ones whose change only updates the state: what the spec hash
   * already covers by content (a local code folder that moved), e.g. `code`, `trial`.
   */
  stateFields: readonly string[];
}

/**
 * The diff every job resource makes: another workspace, an explicit new name or a changed spec
 * (anything the job runs with) replaces the job with a new one, and a progress line says which
 * part changed; display name, description and tags update the job in place; wait and delete
 * options update the state only. A change in the provider's own code is no change (`__provider`
 * is never compared). Dropping an explicit name or renaming the resource (with an alias) keeps the
 * job that ran, since its spec is the same.
 */
export async function diffJob<T extends WorkspaceInputs & DerivedJobFields>(
  olds: T,
  news: T,
  config: Config,
  options: JobDiffOptions<T>,
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
  if (news.name !== undefined && (!isKnown(news.name) || news.name !== olds.baseName)) {
    replaces.push("name");
  }
  if (fieldChanged(oldRecord, newRecord, "specHash")) {
    const fields = options.changedSpecFields(olds, news);
    replaces.push(...(fields.length > 0 ? fields : ["specHash"]));
  }
  if (replaces.length > 0) {
    const { kind, noun } = options;
    await reportProgress(
      `${kind} ${olds.name}: ${replaces.join(", ")} changed; a ${noun}'s spec cannot change, so a new ${noun} runs and replaces it.`,
    );
    return { changes: true, replaces: [...new Set(replaces)], deleteBeforeReplace: false };
  }
  const updates = [
    ...(sameWorkspace ? workspaceChanges : []),
    ...[
      ...JOB_MUTABLE_FIELDS,
      ...PROVIDER_FIELDS,
      "resourceName",
      "baseName",
      ...options.stateFields,
    ].filter((k) => fieldChanged(oldRecord, newRecord, k)),
  ];
  return { changes: updates.length > 0, replaces: [] };
}

// --- create ------------------------------------------------------------------------------------

export interface Submitted {
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
export async function submitOrAdopt(
  session: Session,
  base: string,
  specHash: string,
  body: unknown,
  kind: JobKind = "CommandJob",
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
        `${kind} ${name}: submitted (${created.body.properties?.status ?? "NotStarted"}). Studio: ${studioUrlOf(created.body, session.scope, name)}`,
      );
      return { name, job: created.body, adopted: false };
    }
    const status = existing.properties.status;
    const sameSpec = existing.properties.properties?.[SPEC_HASH_PROPERTY] === specHash;
    const next = attemptName(base, attempt + 1);
    if (!sameSpec) {
      await reportProgress(
        `${kind} ${name}: a job of this name already exists for another spec; this one runs as ${next}.`,
      );
      continue;
    }
    if (isUnsuccessfulJobStatus(status)) {
      await reportProgress(
        `${kind} ${name}: the earlier run of this spec ended ${status}; running it again as ${next}.`,
      );
      continue;
    }
    await reportProgress(
      isTerminalJobStatus(status)
        ? `${kind} ${name}: this spec already ran to ${status}; adopting that job and its outputs.`
        : `${kind} ${name}: already submitted by an earlier update (${status}); adopting it and waiting.`,
    );
    return { name, job: existing, adopted: true };
  }
  throw new Error(
    `${kind} ${base}: ${MAX_ATTEMPTS} jobs of this spec failed or were canceled; fix the job, or give a new [name].`,
  );
}

/** Wait bounds in milliseconds. */
export function waitBounds(inputs: JobWaitOptions) {
  return {
    minInMs: (inputs.minPollIntervalInSeconds ?? WAIT_DEFAULTS.minPollIntervalInSeconds) * 1000,
    maxInMs: (inputs.maxPollIntervalInSeconds ?? WAIT_DEFAULTS.maxPollIntervalInSeconds) * 1000,
  };
}

/** What {@link waitForJob} calls besides polling. */
export interface WaitHooks {
  /** Which resource waits, for progress lines and errors. @default "CommandJob" */
  kind?: JobKind;
  /**
   * Called after every poll with the job as read (a sweep lists its trials here). Its errors are
   * reported as progress and never end the wait.
   */
  onPoll?: (job: JobResource) => Promise<void>;
}

/**
 * Follows a job to a terminal status: GET with the sigmoid backoff between the poll bounds (a
 * Retry-After from the service wins), printing each status change with the time since waiting
 * began. Gives up (the job keeps running) after [waitTimeoutInSeconds].
 */
export async function waitForJob(
  session: Session,
  name: string,
  inputs: JobWaitOptions,
  initial: JobResource,
  hooks: WaitHooks = {},
): Promise<JobResource> {
  const kind = hooks.kind ?? "CommandJob";
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
        if (hooks.onPoll !== undefined) {
          try {
            await hooks.onPoll(lastResponse.body);
          } catch (error) {
            await reportProgress(
              `${kind} ${name}: progress could not be read (${(error as Error).message.split("\n")[0]}).`,
            );
          }
        }
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
            void reportProgress(`${kind} ${name}: ${status} (after ${elapsed()}).`);
          }
        },
      },
    );
  } catch (error) {
    if (isPollTimeoutError(error)) {
      throw new Error(
        `${kind} ${name}: still ${lastStatus} after waiting ${elapsed()} ([waitTimeoutInSeconds] ${timeoutInMs / 1000}). ` +
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
export async function readRun(
  session: Session,
  name: string,
  kind: JobKind = "CommandJob",
): Promise<RunRecord | undefined> {
  const workspace = await session.client.get<WorkspaceResource>(
    session.workspace,
    "Workspaces_Get",
  );
  const base = mlflowBaseUrl(
    workspace.properties?.mlFlowTrackingUri ?? workspace.properties?.mlflowTrackingUri,
  );
  if (base === undefined) {
    await reportProgress(
      `${kind} ${name}: the workspace has no MLflow tracking URI; no metrics to read.`,
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
    await reportProgress(`${kind} ${name}: no MLflow run of that id; no metrics to read.`);
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
export async function readRunHistoryError(
  session: Session,
  name: string,
): Promise<string | undefined> {
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
export async function readLogTail(session: Session, name: string): Promise<string[] | string> {
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

/**
 * The end of a job's log as an error shows it, without the lines the service's error already
 * quotes.
 */
export function logTailText(serviceError: string | undefined, log: string[] | string): string {
  if (!Array.isArray(log)) {
    return log;
  }
  if (log.length === 0) {
    return "The job's log is empty.";
  }
  // Azure ML's error often quotes the end of the log already: those lines are not repeated.
  const quoted = (line: string) =>
    serviceError !== undefined && line.trim() !== "" && serviceError.includes(line.trim());
  const shown = log.filter((line) => !quoted(line));
  const left = log.length - shown.length;
  return (
    `End of user_logs/std_log.txt${left > 0 ? ` (${left} line${left === 1 ? "" : "s"} the error quotes left out)` : ""}:\n` +
    shown.map((line) => `  | ${line}`).join("\n")
  );
}

/** The service's error as a sentence's end (no trailing period), or a stand-in. */
export function errorText(serviceError: string | undefined): string {
  return (serviceError ?? "the service gave no error message").trim().replace(/\.$/, "");
}

/** The error a Failed or Canceled job raises: the service's error and the end of the log. */
export function jobFailureMessage(
  name: string,
  status: string,
  serviceError: string | undefined,
  studioUrl: string,
  log: string[] | string,
  kind: JobKind = "CommandJob",
): string {
  const error = errorText(serviceError);
  const tail = logTailText(serviceError, log);
  return (
    `${kind} ${name} ended ${status}: ${error}.\n` +
    `Studio: ${studioUrl}\n${tail}\n` +
    "Fix the job and run the update again: the next run gets a new name (the failed job is kept)."
  );
}

export function durationOf(start: string | undefined, end: string | undefined): number | undefined {
  if (start === undefined || end === undefined) {
    return undefined;
  }
  const seconds = (Date.parse(end) - Date.parse(start)) / 1000;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

export function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** What {@link resolveCodeId} needs: the workspace, the code as checked, its content hash. */
export interface CodeSpec extends WorkspaceInputs {
  code?: string;
  codeHash?: string;
  /** The Pulumi resource name: a local folder's code version is named after it. */
  resourceName?: string;
}

/** The code id: registered from a local folder as CodeVersion does it, or resolved as given. */
export async function resolveCodeId(
  session: Session,
  inputs: CodeSpec,
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

/** Metrics are a bonus on a job that ended: a tracking server that cannot answer is a warning. */
export async function readRunOrWarn(
  session: Session,
  name: string,
  kind: JobKind = "CommandJob",
): Promise<RunRecord | undefined> {
  try {
    return await readRun(session, name, kind);
  } catch (error) {
    await reportProgress(
      `${kind} ${name}: the metrics could not be read from MLflow (${(error as Error).message.split("\n")[0]}); a refresh reads them again.`,
    );
    return undefined;
  }
}

/** Options of {@link removeJob}. */
export interface RemoveJobOptions {
  onDelete?: JobWaitOptions["onDelete"];
  kind?: JobKind;
  /** Runs after the job was canceled (a sweep makes sure no trial still runs). */
  afterCancel?: () => Promise<void>;
}

/**
 * Cancels a job that has not ended (a long-running POST, polled through the project's LRO
 * engine), then archives it, deletes it or leaves it, per [onDelete]. A job already gone is done.
 */
export async function removeJob(
  session: Session,
  name: string,
  options: RemoveJobOptions = {},
): Promise<void> {
  const kind = options.kind ?? "CommandJob";
  const current = { name, onDelete: options.onDelete };
  const path = jobPath(session.scope, current.name);
  let job = await session.client.getOrUndefined<JobResource>(path, "Jobs_Get");
  if (job === undefined) {
    return;
  }
  if (!isTerminalJobStatus(job.properties.status)) {
    await reportProgress(`${kind} ${current.name}: ${job.properties.status}; canceling it.`);
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
    await options.afterCancel?.();
    job = await session.client.getOrUndefined<JobResource>(path, "Jobs_Get");
    if (job === undefined) {
      return;
    }
    await reportProgress(`${kind} ${current.name}: ${job.properties.status}.`);
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

/**
 * Re-PUTs an existing job with its display name, description and tags as [inputs] has them
 * (Azure ML replaces a job's tags on PUT); the fields that changed are named in a progress line.
 */
export async function updateMutableFields(
  session: Session,
  name: string,
  inputs: { displayName?: string; description?: string; tags?: Record<string, string> },
  changed: readonly string[],
  kind: JobKind = "CommandJob",
): Promise<void> {
  const existing = await session.client.get<JobResource>(jobPath(session.scope, name), "Jobs_Get");
  await session.client.request({
    method: "PUT",
    path: jobPath(session.scope, name),
    body: jobUpdateBody(existing, {
      displayName: inputs.displayName,
      description: inputs.description,
      tags: inputs.tags ?? {},
    }),
    operation: "Jobs_CreateOrUpdate",
  });
  await reportProgress(`${kind} ${name}: updated ${changed.join(", ")} in place.`);
}

/**
 * The in-place update every job resource makes: display name, description and tags are re-PUT on
 * the existing job (see updateMutableFields); everything else only changes the state. What Azure
 * ML produced ([produced], e.g. the job's name, status and metrics) stays as it was.
 */
export async function updateJobInPlace<
  I extends WorkspaceInputs & {
    displayName?: string;
    description?: string;
    tags?: Record<string, string>;
  },
  O extends I & { name: string },
>(
  olds: O,
  inputs: I,
  config: Config,
  options: { kind: JobKind; produced: readonly (keyof O & string)[] },
): Promise<O> {
  const oldRecord = olds as unknown as Record<string, unknown>;
  const newRecord = inputs as unknown as Record<string, unknown>;
  const changed = JOB_MUTABLE_FIELDS.filter((k) => fieldChanged(oldRecord, newRecord, k));
  if (changed.length > 0) {
    const session = openSession(inputs, config);
    await updateMutableFields(session, olds.name, inputs, changed, options.kind);
  }
  const kept: Record<string, unknown> = {};
  for (const key of options.produced) {
    if (olds[key] !== undefined) {
      kept[key] = olds[key];
    }
  }
  return dropUndefined({ ...inputs, ...kept } as unknown as O);
}

/** Copies the job's live display name, description and tags onto refreshed outputs. */
export function applyLiveMutableFields(refreshed: object, job: JobResource): void {
  const live = job.properties;
  const target = refreshed as Record<string, unknown>;
  // Azure ML shows a job without a display name under its name: that is no display name given,
  // or every refresh would plan an update removing it.
  const displayName =
    live.displayName === job.name && target.displayName === undefined
      ? undefined
      : live.displayName;
  for (const [key, value] of [
    ["displayName", displayName],
    ["description", live.description],
    ["tags", live.tags && Object.keys(live.tags).length > 0 ? live.tags : undefined],
  ] as const) {
    if (value === undefined || value === null) {
      delete target[key];
    } else {
      target[key] = value;
    }
  }
}

/** Checks the wait and delete options every job resource takes. */
export function checkWaitOptions(inputs: JobWaitOptions, failures: Failures): void {
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
}

/** Checks [compute] (or [property]): a compute name in the workspace or a compute's ARM id. */
export function checkCompute(compute: unknown, failures: Failures, property = "compute"): void {
  checkString(compute, property, failures, { nonEmpty: true });
  if (typeof compute === "string" && isKnown(compute) && compute.trim()) {
    if (isArmId(compute)) {
      try {
        const parsed = parseArmId(stripAzuremlPrefix(compute));
        if (parsed.types[parsed.types.length - 1]?.type.toLowerCase() !== "computes") {
          throw new TypeError("not a compute");
        }
      } catch {
        failures.add(property, `[${property}] "${compute}" is not a compute's ARM id.`);
      }
    } else if (!JOB_NAME.test(compute)) {
      failures.add(property, `[${property}] "${compute}" is not a compute name.`);
    }
  }
}

/** Checks [environment] (or [property]): required, and in a form Azure ML takes. */
export function checkEnvironment(
  environment: unknown,
  failures: Failures,
  property = "environment",
): void {
  checkString(environment, property, failures, { required: true, nonEmpty: true });
  if (typeof environment === "string" && isKnown(environment)) {
    const why = environmentFailure(environment);
    if (why) {
      failures.add(property, why.replace("[environment]", `[${property}]`));
    }
  }
}

/** Checks a job name given by the program. */
export function checkJobName(name: unknown, failures: Failures): void {
  if (name !== undefined && isKnown(name)) {
    if (typeof name !== "string" || !JOB_NAME.test(name)) {
      failures.add(
        "name",
        `[name] ${JSON.stringify(name)} is not a valid job name: 1-255 letters, digits, '-' or '_', starting with a letter or digit.`,
      );
    }
  }
}
