/**
 * URL and body builders for Azure ML jobs (contract 3 `Jobs_*`, 4.5, 4.6), the command's
 * `${{inputs.x}}` / `${{outputs.y}}` bindings, job names derived from the spec, the MLflow run the
 * service keeps for every job, and the wait between status polls. Pure: no I/O.
 */
import { jobId, workspaceId, type WorkspaceScope } from "../core/ids";

export { jobOutputUri } from "../core/ids";

// --- Paths -----------------------------------------------------------------------------------

/** `{ws}/jobs/{name}` (Jobs_CreateOrUpdate, Jobs_Get, Jobs_Delete). */
export function jobPath(scope: WorkspaceScope, name: string): string {
  return jobId(scope, name);
}

/** `{ws}/jobs/{name}/cancel` (Jobs_Cancel, a POST answered 202 + Location). */
export function jobCancelPath(scope: WorkspaceScope, name: string): string {
  return `${jobPath(scope, name)}/cancel`;
}

/** `{ws}/environments/{name}` (the container, for `@latest`). */
export function environmentContainerPath(scope: WorkspaceScope, name: string): string {
  return `${workspaceId(scope)}/environments/${encodeURIComponent(name)}`;
}

// --- Statuses --------------------------------------------------------------------------------

/** The statuses a job ends in (contract 4.5: the azureml-examples wait loops stop on these). */
export const TERMINAL_JOB_STATUSES: readonly string[] = ["Completed", "Failed", "Canceled"];

export function isTerminalJobStatus(status: string | undefined): boolean {
  return status !== undefined && TERMINAL_JOB_STATUSES.includes(status);
}

/** Failed or Canceled: a job that did not produce what it was asked for. */
export function isUnsuccessfulJobStatus(status: string | undefined): boolean {
  return status === "Failed" || status === "Canceled";
}

// --- Inputs, outputs, distribution -----------------------------------------------------------

export const JOB_INPUT_TYPES = [
  "uri_file",
  "uri_folder",
  "mltable",
  "custom_model",
  "mlflow_model",
  "triton_model",
] as const;
export type JobInputType = (typeof JOB_INPUT_TYPES)[number];

export const INPUT_MODES = [
  "ReadOnlyMount",
  "ReadWriteMount",
  "Download",
  "Direct",
  "EvalMount",
  "EvalDownload",
] as const;
export type InputMode = (typeof INPUT_MODES)[number];

/** Output types a command job can write (the list). */
export const JOB_OUTPUT_TYPES = ["uri_folder", "uri_file", "mlflow_model", "custom_model"] as const;
export type JobOutputType = (typeof JOB_OUTPUT_TYPES)[number];

export const OUTPUT_MODES = ["ReadWriteMount", "Upload", "Direct"] as const;
export type OutputMode = (typeof OUTPUT_MODES)[number];

/** A data or model input, as the Azure ML CLI's YAML writes it. */
export interface JobAssetInput {
  type: JobInputType;
  /** A datastore or job-output URI, an https URL, or an asset (`azureml:<name>:<version>` or ARM id). */
  path: string;
  /** @default "ReadOnlyMount" */
  mode?: InputMode;
  description?: string;
}

/** A literal input: a string or a number (sent as a string, as the REST API types it). */
export type JobLiteralInput = string | number;

export type JobInput = JobLiteralInput | JobAssetInput;

export interface JobOutput {
  /** @default "uri_folder" */
  type?: JobOutputType;
  /** @default "ReadWriteMount" */
  mode?: OutputMode;
  /** Where to write it; Azure ML picks a folder on the default datastore when omitted. */
  path?: string;
  description?: string;
}

export const DISTRIBUTION_TYPES = ["PyTorch", "TensorFlow", "Mpi"] as const;
export type DistributionType = (typeof DISTRIBUTION_TYPES)[number];

export interface JobDistribution {
  /** `PyTorch`, `TensorFlow` or `Mpi` (any casing, as the CLI's `pytorch`). */
  type: string;
  processCountPerInstance?: number;
  workerCount?: number;
  parameterServerCount?: number;
}

export const IDENTITY_TYPES = ["AMLToken", "Managed", "UserIdentity"] as const;
export type JobIdentityType = (typeof IDENTITY_TYPES)[number];

export interface JobIdentity {
  type: string;
  clientId?: string;
  objectId?: string;
  resourceId?: string;
}

/** The REST spelling of a distribution type given in any casing, or undefined when unknown. */
export function distributionTypeOf(value: string): DistributionType | undefined {
  return DISTRIBUTION_TYPES.find((t) => t.toLowerCase() === value.toLowerCase());
}

/** The REST spelling of an identity type given in any casing (`aml_token` too), or undefined. */
export function identityTypeOf(value: string): JobIdentityType | undefined {
  const key = value.replace(/[_\s-]/g, "").toLowerCase();
  return IDENTITY_TYPES.find(
    (t) => t.toLowerCase() === key || (t === "Managed" && key === "managedidentity"),
  );
}

export function isLiteralInput(input: JobInput): input is JobLiteralInput {
  return typeof input === "string" || typeof input === "number";
}

// --- Bindings --------------------------------------------------------------------------------

/** One `${{...}}` expression in a command. */
export interface Binding {
  /** The text between the braces, trimmed, e.g. `inputs.data`. */
  expression: string;
  kind: "inputs" | "outputs" | "other";
  /** The input or output name, for `inputs.x` / `outputs.y`. */
  name?: string;
  /**
   * Inside an optional segment `[ ... ]`, which Azure ML drops when the input is not given, so
   * it may name an input that is not declared.
   */
  optional: boolean;
}

/** Every `${{...}}` binding in a command, in order (duplicates kept). */
export function parseBindings(command: string): Binding[] {
  const optionalRanges = [...command.matchAll(/\[[^[\]]*\]/g)].map(
    (m) => [m.index, m.index + m[0].length] as const,
  );
  const bindings: Binding[] = [];
  for (const match of command.matchAll(/\$\{\{\s*([^}]*?)\s*\}\}/g)) {
    const expression = match[1];
    const optional = optionalRanges.some(([from, to]) => match.index > from && match.index < to);
    const named = /^(inputs|outputs)\.([A-Za-z0-9_]+)$/.exec(expression);
    bindings.push(
      named
        ? { expression, kind: named[1] as "inputs" | "outputs", name: named[2], optional }
        : { expression, kind: "other", optional },
    );
  }
  return bindings;
}

// --- Durations -------------------------------------------------------------------------------

const ISO_DURATION =
  /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/**
 * Seconds in an ISO 8601 duration such as `PT1H30M` or `P1DT2H`, or undefined when it is not one.
 * Years and months count as 365 and 30 days (only used to judge the value, never sent converted).
 */
export function isoDurationSeconds(value: string): number | undefined {
  const match = ISO_DURATION.exec(value);
  if (!match) {
    return undefined;
  }
  const [, y, mo, w, d, h, mi, s] = match.map((part) => (part === undefined ? 0 : Number(part)));
  return (((y * 365 + mo * 30 + w * 7 + d) * 24 + h) * 60 + mi) * 60 + s;
}

// --- The job spec and its body ---------------------------------------------------------------

/** Everything that defines what a command job runs; a change here is a new job. */
export interface CommandJobSpec {
  command: string;
  /** ARM id (or registry URI) of the environment version. */
  environmentId: string;
  /** ARM id of the code version, if any. */
  codeId?: string;
  /** ARM id of the compute, if any (none: serverless). */
  computeId?: string;
  experimentName?: string;
  inputs?: Record<string, JobInput>;
  outputs?: Record<string, JobOutput>;
  environmentVariables?: Record<string, string>;
  distribution?: JobDistribution;
  instanceCount?: number;
  instanceType?: string;
  /** ISO 8601 duration. */
  timeout?: string;
  queueSettings?: { jobTier?: string };
  identity?: JobIdentity;
  properties?: Record<string, string>;
}

/** Fields of a job Azure ML lets us change on an existing job (tags replace, contract 7.2). */
export interface CommandJobMutableFields {
  displayName?: string;
  description?: string;
  tags?: Record<string, string>;
  isArchived?: boolean;
}

function inputBody(input: JobInput): Record<string, unknown> {
  if (isLiteralInput(input)) {
    return { jobInputType: "literal", value: String(input) };
  }
  return compact({
    jobInputType: input.type,
    uri: input.path,
    mode: input.mode,
    description: input.description,
  });
}

function outputBody(output: JobOutput): Record<string, unknown> {
  return compact({
    jobOutputType: output.type ?? "uri_folder",
    uri: output.path,
    mode: output.mode,
    description: output.description,
  });
}

function distributionBody(distribution: JobDistribution): Record<string, unknown> {
  const distributionType = distributionTypeOf(distribution.type) ?? distribution.type;
  switch (distributionType) {
    case "TensorFlow":
      return compact({
        distributionType,
        workerCount: distribution.workerCount,
        parameterServerCount: distribution.parameterServerCount,
      });
    default:
      return compact({
        distributionType,
        processCountPerInstance: distribution.processCountPerInstance,
      });
  }
}

function identityBody(identity: JobIdentity): Record<string, unknown> {
  const identityType = identityTypeOf(identity.type) ?? identity.type;
  return identityType === "Managed"
    ? compact({
        identityType,
        clientId: identity.clientId,
        objectId: identity.objectId,
        resourceId: identity.resourceId,
      })
    : { identityType };
}

function mapValues<T>(
  record: Record<string, T> | undefined,
  fn: (value: T) => Record<string, unknown>,
): Record<string, unknown> | undefined {
  if (record === undefined || Object.keys(record).length === 0) {
    return undefined;
  }
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fn(v)]));
}

/** Drops undefined values (the REST schemas are `additionalProperties: false`, nulls are noise). */
function compact(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}

/** `PUT {ws}/jobs/{name}` body of a command job (`JobBaseResource` with `jobType: "Command"`). */
export function commandJobBody(spec: CommandJobSpec, fields: CommandJobMutableFields = {}) {
  const resources =
    spec.instanceCount !== undefined || spec.instanceType !== undefined
      ? compact({ instanceCount: spec.instanceCount, instanceType: spec.instanceType })
      : undefined;
  return {
    properties: compact({
      jobType: "Command",
      displayName: fields.displayName,
      description: fields.description,
      tags: fields.tags,
      properties: spec.properties,
      experimentName: spec.experimentName,
      computeId: spec.computeId,
      command: spec.command,
      codeId: spec.codeId,
      environmentId: spec.environmentId,
      environmentVariables:
        spec.environmentVariables && Object.keys(spec.environmentVariables).length > 0
          ? spec.environmentVariables
          : undefined,
      inputs: mapValues(spec.inputs, inputBody),
      outputs: mapValues(spec.outputs, outputBody),
      distribution: spec.distribution ? distributionBody(spec.distribution) : undefined,
      limits: spec.timeout ? { jobLimitsType: "Command", timeout: spec.timeout } : undefined,
      resources,
      queueSettings: spec.queueSettings,
      identity: spec.identity ? identityBody(spec.identity) : undefined,
      isArchived: fields.isArchived,
    }),
  };
}

/** A job as Azure ML returns it (the fields this package reads). */
export interface JobResource {
  id: string;
  name: string;
  properties: Record<string, unknown> & {
    jobType?: string;
    status?: string;
    displayName?: string;
    description?: string;
    tags?: Record<string, string>;
    properties?: Record<string, string>;
    experimentName?: string;
    isArchived?: boolean;
    services?: Record<string, { jobServiceType?: string; endpoint?: string } | null> | null;
  };
}

/** Read-only fields a job body carries that a PUT must not send back. */
const READ_ONLY_JOB_FIELDS = new Set(["status", "parameters", "services", "provisioningState"]);

/** A value with null members dropped at every depth (null means absent to ARM). */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(withoutNulls);
  }
  if (typeof value !== "object" || value === null) {
    return value;
  }
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => [k, withoutNulls(v)]),
  );
}

/** The body that re-PUTs an existing job with some of its updatable fields changed. */
export function jobUpdateBody(existing: JobResource, changes: CommandJobMutableFields) {
  const properties: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(existing.properties)) {
    if (!READ_ONLY_JOB_FIELDS.has(key) && value !== null && value !== undefined) {
      properties[key] = withoutNulls(value);
    }
  }
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) {
      delete properties[key];
    } else {
      properties[key] = value;
    }
  }
  return { properties };
}

// --- Names -----------------------------------------------------------------------------------

/** Job names in the ARM path (contract 7.1). */
export const JOB_NAME = /^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$/;

/** Property recording the spec a job was submitted for, so a later `up` knows it may adopt it. */
export const SPEC_HASH_PROPERTY = "pulumi-azureml.specHash";

/**
 * The default job name: a readable prefix (the Pulumi resource name, made ARM-safe) and the first
 * 16 hex digits of the spec's hash. An unchanged spec names the same job; a changed one a new job.
 */
export function derivedJobName(prefix: string, specHash: string): string {
  let safe = prefix.replace(/[^a-zA-Z0-9\-_]+/g, "-").replace(/^[^a-zA-Z0-9]+/, "");
  safe = safe.slice(0, 200).replace(/[-_]+$/, "");
  const hash = specHash.slice(0, 16);
  return safe ? `${safe}-${hash}` : `job-${hash}`;
}

/**
 * The name of the `attempt`-th job for one spec: the name itself first, then `<name>-r2`,
 * `<name>-r3`, … after failed or canceled runs, so a fix re-runs under a fresh name.
 */
export function attemptName(name: string, attempt: number): string {
  if (attempt <= 1) {
    return name;
  }
  const suffix = `-r${attempt}`;
  return `${name.slice(0, 255 - suffix.length)}${suffix}`;
}

// --- Outputs, Studio, MLflow, logs -----------------------------------------------------------

/** The Studio URL the service gives (`services.Studio.endpoint`), else the one Studio uses. */
export function studioUrlOf(job: JobResource | undefined, scope: WorkspaceScope, name: string) {
  const services = job?.properties.services ?? {};
  for (const [key, service] of Object.entries(services)) {
    if (
      service?.endpoint &&
      (key.toLowerCase() === "studio" || service.jobServiceType?.toLowerCase() === "studio")
    ) {
      return service.endpoint;
    }
  }
  return `https://ml.azure.com/runs/${encodeURIComponent(name)}?wsid=${workspaceId(scope)}`;
}

/**
 * The https base of a workspace's MLflow tracking URI: Azure ML hands out
 * `azureml://<host>/mlflow/v1.0/subscriptions/...`, which the azureml-mlflow plugin serves as
 * `https://<host>/mlflow/v1.0/subscriptions/...`. Undefined when it is not such a URI.
 */
export function mlflowBaseUrl(trackingUri: string | undefined | null): string | undefined {
  if (!trackingUri) {
    return undefined;
  }
  const match = /^(azureml|https):\/\/(.+?)\/*$/i.exec(trackingUri.trim());
  return match ? `https://${match[2]}` : undefined;
}

/** `GET <tracking>/api/2.0/mlflow/runs/get?run_id=<job name>` (the MLflow run id is the job name). */
export function mlflowRunUrl(baseUrl: string, runId: string): string {
  return `${baseUrl}/api/2.0/mlflow/runs/get?run_id=${encodeURIComponent(runId)}`;
}

/** MLflow's `runs/get` answer (the fields this package reads). */
export interface MlflowRunResponse {
  run?: {
    info?: { status?: string; start_time?: number | string; end_time?: number | string };
    data?: {
      metrics?: { key: string; value: number; timestamp?: number | string; step?: number }[];
      params?: { key: string; value: string }[];
    };
  };
}

/** What a job's MLflow run holds: the last value of each metric, the parameters, the times. */
export interface RunRecord {
  metrics: Record<string, number>;
  parameters: Record<string, string>;
  startTime?: string;
  endTime?: string;
}

function isoFromEpochMs(value: number | string | undefined): string | undefined {
  const ms = typeof value === "string" ? Number(value) : value;
  return ms !== undefined && Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : undefined;
}

/**
 * Reads a `runs/get` answer. MLflow returns each metric's latest value there; when a response lists
 * a key more than once, the entry with the highest step (then timestamp) wins. Non-finite values
 * (NaN, infinities) are dropped: Pulumi's state cannot hold them.
 */
export function runRecordOf(response: MlflowRunResponse): RunRecord {
  const latest = new Map<string, { value: number; step: number; timestamp: number }>();
  for (const metric of response.run?.data?.metrics ?? []) {
    const step = metric.step ?? 0;
    const timestamp = Number(metric.timestamp ?? 0);
    const seen = latest.get(metric.key);
    if (
      seen === undefined ||
      step > seen.step ||
      (step === seen.step && timestamp >= seen.timestamp)
    ) {
      latest.set(metric.key, { value: Number(metric.value), step, timestamp });
    }
  }
  const metrics: Record<string, number> = {};
  for (const [key, { value }] of [...latest].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (Number.isFinite(value)) {
      metrics[key] = value;
    }
  }
  const parameters: Record<string, string> = {};
  for (const param of response.run?.data?.params ?? []) {
    parameters[param.key] = param.value;
  }
  return {
    metrics,
    parameters,
    startTime: isoFromEpochMs(response.run?.info?.start_time),
    endTime: isoFromEpochMs(response.run?.info?.end_time),
  };
}

/** `/history/v1.0{workspace id}/runs/{run}`: Run History's view of a job (status, times, error). */
export function runHistoryPath(scope: WorkspaceScope, runId: string): string {
  return `/history/v1.0${workspaceId(scope)}/runs/${encodeURIComponent(runId)}`;
}

/** Run History's answer (the fields this package reads). */
export interface RunHistoryResponse {
  status?: string;
  startTimeUtc?: string | null;
  endTimeUtc?: string | null;
  error?: { error?: { code?: string; message?: string } | null } | null;
}

/** The datastore Azure ML keeps run artifacts and logs in. */
export const ARTIFACT_DATASTORE = "workspaceartifactstore";

/** Where a job's user log lives in the artifact store, as on Azure. */
export function jobLogBlobName(jobName: string): string {
  return `ExperimentRun/dcid.${jobName}/user_logs/std_log.txt`;
}

/** The last `count` non-empty lines of a log. */
export function lastLines(text: string, count: number): string[] {
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  while (lines.length > 0 && lines[lines.length - 1].trim() === "") {
    lines.pop();
  }
  return lines.slice(-count);
}

// --- Waiting ---------------------------------------------------------------------------------

/**
 * The wait before the next status poll after `elapsedInMs` of waiting: azure-ai-ml's sigmoid
 * (`max / (1 + 100·e^(-t/20 s))`), kept within `[minInMs, maxInMs]`, so short jobs are seen
 * ending quickly and long ones are not polled more than once a minute. A `Retry-After` from the
 * service wins over the curve (still at least `minInMs`).
 */
export function pollDelayInMs(
  elapsedInMs: number,
  bounds: { minInMs: number; maxInMs: number },
  retryAfterInMs?: number,
): number {
  if (retryAfterInMs !== undefined) {
    return Math.max(bounds.minInMs, retryAfterInMs);
  }
  const seconds = Math.max(0, elapsedInMs) / 1000;
  const curve = bounds.maxInMs / (1 + 100 * Math.exp(-seconds / 20));
  return Math.round(Math.min(bounds.maxInMs, Math.max(bounds.minInMs, curve)));
}
