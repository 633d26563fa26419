/**
 * BatchScoringJob lifecycle: one invocation of a batch endpoint (contract section 5). Loaded by
 * the provider host through `await import("pulumi-azureml/provider/lifecycle/batchScoringJob")`.
 *
 * - check: the inputs judged, naming the property; `invocationHash` derived (pure) from the
 *   endpoint, the deployment (or, when none is named, the deployment the endpoint defaults to),
 *   the model it serves, the input, output and settings.
 * - create: finds a job marked with that hash (Jobs_List filtered on the property, then checked
 *   here) and adopts it; otherwise POSTs to the endpoint's scoring URI with a token for
 *   `https://ml.azure.com`. The POST is never retried blindly: after a failure that may have
 *   reached the service (a dropped connection, a 5xx), the mark is looked for first and the POST
 *   sent again only when no job carries it. Then the job is polled through the ARM jobs API until
 *   it ends, the mini-batches done printed as they change.
 * - diff: every input that changes what is scored makes a new run (a replacement), a new model
 *   served by the same deployment among them; the wait timeout changes in place.
 * - delete: a running job is canceled; the job and its results stay.
 */
import type * as pulumi from "@pulumi/pulumi";
import { createAzureMlClient, type AzureMlClient } from "../core/client";
import { isAzureMlRestError } from "../core/errors";
import { workspaceId, type WorkspaceScope } from "../core/ids";
import { pollUntil } from "../core/lro";
import { resolveSettings, type AzureMlSettings } from "../core/settings";
import {
  BATCH_OPERATION,
  BATCH_PROGRESS_PROPERTIES,
  DEPLOYMENT_HEADER,
  INVOCATION_HASH_PROPERTY,
  batchEndpointPath,
  batchInvocationBody,
  parseBatchEndpointId,
  type BatchEndpointResource,
  type BatchInputType,
} from "../operations/batch";
import {
  isTerminalJobStatus,
  isUnsuccessfulJobStatus,
  jobCancelPath,
  jobPath,
  pollDelayInMs,
  runHistoryPath,
  type JobResource,
  type RunHistoryResponse,
} from "../operations/jobs";
import type { BatchScoringJobInputs, BatchScoringJobOutputs } from "../resources/batchScoringJob";
import { fingerprint } from "./assetVersion";
import {
  checkChoice,
  checkEndpointId,
  checkInteger,
  checkSettings,
  endpointNameFailure,
  type Config,
} from "./batchCommon";
import { readBlobHead } from "../upload/blobUpload";
import { datastoreContainer } from "./datastoreUpload";
import { reportProgress } from "./progress";
import { Failures, fieldChanged, isFullyKnown, isKnown, withoutProvider } from "./shared";

type Inputs = BatchScoringJobInputs;
type Outputs = BatchScoringJobOutputs;

export const INPUT_TYPES: readonly BatchInputType[] = ["uri_folder", "uri_file"];

/** Defaults of the client-side settings. */
export const SCORING_DEFAULTS = {
  inputType: "uri_folder" as BatchInputType,
  waitTimeoutInSeconds: 7200,
  outputFileName: "predictions.csv",
  /** The datastore a derived output folder is on. */
  outputDatastore: "workspaceblobstore",
  /** Times the invocation is sent when it fails before the service could have seen it. */
  maxInvokeAttempts: 3,
  pollBounds: { minInMs: 1000, maxInMs: 30000 },
} as const;

/** Inputs that change what is scored: a change makes a new run. */
export const RUN_FIELDS = [
  "endpointId",
  "deploymentName",
  "defaultDeploymentName",
  "servedModelId",
  "input",
  "inputType",
  "outputPath",
  "outputFileName",
  "miniBatchSize",
  "errorThreshold",
  "maxRetries",
  "timeoutInSeconds",
  "instanceCount",
  "experimentName",
  "providerVersion",
] as const;

/**
 * The hash marking a run (pure): what is scored, by which deployment serving which model, where,
 * and how. ARM ids count without their case; fields not given leave the hash as it was before
 * they existed.
 */
export function invocationHash(inputs: Inputs): string {
  const fields: Record<string, unknown> = {};
  for (const key of RUN_FIELDS) {
    if (key !== "providerVersion") {
      const value = inputs[key];
      fields[key] =
        key === "endpointId" || (key === "servedModelId" && isArmId(value))
          ? String(value).toLowerCase()
          : value;
    }
  }
  fields.inputType = inputs.inputType ?? SCORING_DEFAULTS.inputType;
  return fingerprint(fields);
}

/**
 * The output folder of a run (pure): the given one, else one derived from the endpoint and the
 * run's hash, so the same run always writes to the same place and another run to another; the
 * `attempt` after failed runs of the same inputs gets a folder of its own.
 */
export function derivedOutputUri(
  endpointName: string,
  hash: string,
  outputPath: string | undefined,
  attempt = 0,
): string {
  if (outputPath !== undefined) {
    return outputPath.endsWith("/") ? outputPath : `${outputPath}/`;
  }
  const suffix = attempt > 0 ? `-r${attempt}` : "";
  return `azureml://datastores/${SCORING_DEFAULTS.outputDatastore}/paths/batch/${endpointName}/${hash.slice(0, 16)}${suffix}/`;
}

function isArmId(value: unknown): boolean {
  return typeof value === "string" && value.toLowerCase().startsWith("/subscriptions/");
}

const OUTPUT_PATH =
  /^azureml:\/\/(?:subscriptions\/[^/]+\/resource[gG]roups\/[^/]+\/workspaces\/[^/]+\/)?datastores\/[^/]+\/paths\/.+/;

function checkInput(value: unknown, failures: Failures): void {
  if (value === undefined || value === "") {
    failures.add(
      "input",
      "[input] is required: an azureml://datastores/... URI, an https URL or a data asset.",
    );
    return;
  }
  if (!isKnown(value)) {
    return;
  }
  const text = String(value);
  const ok =
    text.startsWith("azureml:") ||
    text.startsWith("https://") ||
    text.toLowerCase().startsWith("/subscriptions/");
  if (!ok) {
    failures.add(
      "input",
      `[input] must be an azureml:// URI, an https URL, a data asset id or azureml:<name>:<version>, got "${text}".`,
    );
  }
}

function checkPositive(value: unknown, property: string, failures: Failures, min = 1): void {
  checkInteger(value, property, failures);
  if (typeof value === "number" && Number.isInteger(value) && value < min) {
    failures.add(property, `[${property}] must be at least ${min}, got ${value}.`);
  }
}

export async function check(
  _olds: Inputs,
  news: Inputs,
  config?: Config,
): Promise<pulumi.dynamic.CheckResult<Inputs>> {
  const failures = new Failures();
  const inputs = withoutProvider(news);
  delete inputs.invocationHash; // derived here, never taken from the program
  checkSettings(failures, config);
  checkEndpointId(inputs.endpointId, "endpoint", failures);
  if (inputs.deploymentName !== undefined) {
    const failure = endpointNameFailure("deployment", "batch deployment", inputs.deploymentName);
    if (failure) {
      failures.add("deployment", failure);
    }
  }
  if (inputs.defaultDeploymentName !== undefined) {
    if (inputs.deploymentName !== undefined) {
      failures.add(
        "defaultDeployment",
        "[deployment] and [defaultDeployment] are mutually exclusive: name the deployment that scores, or the default deployment resource when none is named.",
      );
    } else {
      const failure = endpointNameFailure(
        "defaultDeployment",
        "batch deployment",
        inputs.defaultDeploymentName,
      );
      if (failure) {
        failures.add("defaultDeployment", failure);
      }
    }
  }
  if (
    inputs.servedModelId !== undefined &&
    isKnown(inputs.servedModelId) &&
    (typeof inputs.servedModelId !== "string" || inputs.servedModelId === "")
  ) {
    failures.add(
      "model",
      `[model] must be a model version's ARM id or azureml:<name>:<version>, got "${String(inputs.servedModelId)}".`,
    );
  }
  checkInput(inputs.input, failures);
  checkChoice(inputs.inputType, "inputType", INPUT_TYPES, failures);
  if (inputs.outputPath !== undefined && isKnown(inputs.outputPath)) {
    if (typeof inputs.outputPath !== "string" || !OUTPUT_PATH.test(inputs.outputPath)) {
      failures.add(
        "outputPath",
        `[outputPath] must be a datastore folder, azureml://datastores/<datastore>/paths/<path>/, got "${String(inputs.outputPath)}".`,
      );
    }
  }
  if (inputs.outputFileName !== undefined && isKnown(inputs.outputFileName)) {
    if (
      typeof inputs.outputFileName !== "string" ||
      inputs.outputFileName === "" ||
      /[\\/]/.test(inputs.outputFileName)
    ) {
      failures.add(
        "outputFileName",
        `[outputFileName] must be a file name without folders, got "${String(inputs.outputFileName)}".`,
      );
    }
  }
  checkPositive(inputs.miniBatchSize, "miniBatchSize", failures);
  checkPositive(inputs.errorThreshold, "errorThreshold", failures, -1);
  checkPositive(inputs.maxRetries, "maxRetries", failures, 0);
  checkPositive(inputs.timeoutInSeconds, "timeoutInSeconds", failures);
  checkPositive(inputs.instanceCount, "instanceCount", failures);
  checkPositive(inputs.waitTimeoutInSeconds, "waitTimeoutInSeconds", failures);
  if (!failures.any && isFullyKnown(inputs)) {
    inputs.invocationHash = invocationHash(inputs);
  }
  return { inputs, failures: failures.list };
}

export async function diff(
  _id: string,
  olds: Outputs,
  news: Inputs,
): Promise<pulumi.dynamic.DiffResult> {
  const replaces = RUN_FIELDS.filter((key) =>
    fieldChanged(
      olds as unknown as Record<string, unknown>,
      news as unknown as Record<string, unknown>,
      key,
    ),
  );
  const updates = fieldChanged(
    olds as unknown as Record<string, unknown>,
    news as unknown as Record<string, unknown>,
    "waitTimeoutInSeconds",
  )
    ? ["waitTimeoutInSeconds"]
    : [];
  if (replaces.length > 0) {
    const served =
      replaces.includes("servedModelId") && isKnown(news.servedModelId)
        ? ` (the deployment serves ${String(news.servedModelId)} now)`
        : "";
    await reportProgress(
      `BatchScoringJob ${olds.jobName}: ${replaces.join(", ")} changed${served}, so a new scoring run replaces it (the old results stay).`,
    );
  }
  return { changes: replaces.length > 0 || updates.length > 0, replaces };
}

interface ScoringSession {
  settings: AzureMlSettings;
  client: AzureMlClient;
  scope: WorkspaceScope;
  /** The workspace's ARM id. */
  workspace: string;
  endpointName: string;
}

function openScoringSession(inputs: Inputs, config: Config): ScoringSession {
  const settings = resolveSettings(config);
  const { scope, name } = parseBatchEndpointId(inputs.endpointId);
  return {
    settings,
    client: createAzureMlClient({ settings }),
    scope,
    workspace: workspaceId(scope),
    endpointName: name,
  };
}

/** Jobs carrying the run's mark, newest first (the service's filter, checked again here). */
async function markedJobs(s: ScoringSession, hash: string): Promise<JobResource[]> {
  const jobs = await s.client.list<JobResource>(`${workspaceId(s.scope)}/jobs`, "Jobs_List", {
    properties: `${INVOCATION_HASH_PROPERTY}=${hash}`,
    listViewType: "All",
  });
  return jobs.filter(
    (job) =>
      (job.properties as { properties?: Record<string, string> }).properties?.[
        INVOCATION_HASH_PROPERTY
      ] === hash,
  );
}

/** True when the POST failed in a way that may have reached the service. */
function mayHaveReachedService(error: unknown): boolean {
  if (isAzureMlRestError(error)) {
    return error.statusCode >= 500 || error.statusCode === 408 || error.statusCode === 429;
  }
  return true; // a network error: the request may have been served before the connection broke
}

/** Invokes the endpoint once, or adopts the job an earlier attempt started. */
async function invokeOnce(
  s: ScoringSession,
  inputs: Inputs,
  hash: string,
): Promise<{ job: JobResource; adopted: boolean }> {
  const what = `BatchScoringJob on ${s.endpointName}`;
  const marked = await markedJobs(s, hash);
  const live = marked.find((job) => !isUnsuccessfulJobStatus(job.properties.status));
  if (live !== undefined) {
    await reportProgress(
      `${what}: job ${live.name} already scores these inputs (${live.properties.status}); following it instead of invoking again.`,
    );
    return { job: live, adopted: true };
  }
  const endpoint = await s.client.get<BatchEndpointResource>(
    batchEndpointPath(s.scope, s.endpointName),
    BATCH_OPERATION.endpointGet,
  );
  const scoringUri = endpoint.properties.scoringUri;
  if (typeof scoringUri !== "string" || scoringUri === "") {
    throw new Error(
      `${what}: the endpoint has no scoring URI yet (${endpoint.properties.provisioningState}).`,
    );
  }
  const outputUri = derivedOutputUri(s.endpointName, hash, inputs.outputPath, marked.length);
  const body = batchInvocationBody({
    inputType: inputs.inputType ?? SCORING_DEFAULTS.inputType,
    inputUri: inputs.input,
    outputUri,
    outputFileName: inputs.outputFileName,
    miniBatchSize: inputs.miniBatchSize,
    errorThreshold: inputs.errorThreshold,
    maxRetries: inputs.maxRetries,
    timeoutInSeconds: inputs.timeoutInSeconds,
    instanceCount: inputs.instanceCount,
    properties: {
      [INVOCATION_HASH_PROPERTY]: hash,
      ...(inputs.experimentName === undefined ? {} : { experimentName: inputs.experimentName }),
    },
  });
  let lastError: unknown;
  for (let attempt = 1; attempt <= SCORING_DEFAULTS.maxInvokeAttempts; attempt++) {
    if (attempt > 1) {
      // The earlier POST may have started a job before its answer was lost: look for the mark.
      const found = (await markedJobs(s, hash)).find(
        (job) => !isUnsuccessfulJobStatus(job.properties.status),
      );
      if (found !== undefined) {
        await reportProgress(`${what}: the invocation started job ${found.name}; following it.`);
        return { job: found, adopted: true };
      }
    }
    try {
      const response = await s.client.request<JobResource>({
        method: "POST",
        url: scoringUri,
        audience: "ml",
        headers:
          inputs.deploymentName === undefined ? {} : { [DEPLOYMENT_HEADER]: inputs.deploymentName },
        body,
        operation: "BatchEndpoints_Invoke",
      });
      await reportProgress(`${what}: invoked, job ${response.body.name}.`);
      return { job: response.body, adopted: false };
    } catch (error) {
      lastError = error;
      if (!mayHaveReachedService(error)) {
        throw error;
      }
      await reportProgress(
        `${what}: the invocation failed (${(error as Error).message.split("\n")[0]}); checking whether it started a job.`,
      );
    }
  }
  throw lastError;
}

function countOf(job: JobResource, key: string): number | undefined {
  const value = (job.properties as { properties?: Record<string, string> }).properties?.[key];
  const n = value === undefined ? NaN : Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/** The service's error for a failed job, from Run History (the ARM endpoint, as the emulator serves it). */
async function runHistoryError(s: ScoringSession, name: string): Promise<string | undefined> {
  try {
    const response = await s.client.request<RunHistoryResponse>({
      method: "GET",
      url: `${s.settings.armEndpoint}${runHistoryPath(s.scope, name)}`,
      operation: "RunHistory_Get",
      allowNotFound: true,
    });
    const error = response.body?.error?.error;
    return error?.message ?? error?.code ?? undefined;
  } catch {
    return undefined;
  }
}

function outputsOf(s: ScoringSession, inputs: Inputs, job: JobResource, error?: string): Outputs {
  const props = job.properties as {
    properties?: Record<string, string>;
    outputs?: Record<string, { uri?: string }>;
    settings?: { outputFileName?: string };
  };
  const deployment =
    props.properties?.["azureml.deploymentname"] ??
    inputs.deploymentName ??
    inputs.defaultDeploymentName ??
    "";
  const outputUri =
    Object.values(props.outputs ?? {})[0]?.uri ??
    derivedOutputUri(s.endpointName, inputs.invocationHash as string, inputs.outputPath);
  const folder = outputUri.endsWith("/") ? outputUri : `${outputUri}/`;
  const fileName =
    props.settings?.outputFileName ?? inputs.outputFileName ?? SCORING_DEFAULTS.outputFileName;
  const outs: Outputs = {
    ...inputs,
    jobName: job.name,
    jobId: jobPath(s.scope, job.name),
    status: job.properties.status ?? "Unknown",
    deployment,
    outputUri: folder,
    predictionsUri: `${folder}${fileName}`,
  };
  const counts = {
    miniBatches: countOf(job, BATCH_PROGRESS_PROPERTIES.miniBatches),
    miniBatchesCompleted: countOf(job, BATCH_PROGRESS_PROPERTIES.miniBatchesCompleted),
    miniBatchesFailed: countOf(job, BATCH_PROGRESS_PROPERTIES.miniBatchesFailed),
    items: countOf(job, BATCH_PROGRESS_PROPERTIES.items),
    failedItems: countOf(job, BATCH_PROGRESS_PROPERTIES.failedItems),
  };
  for (const [key, value] of Object.entries(counts)) {
    if (value !== undefined) {
      (outs as unknown as Record<string, unknown>)[key] = value;
    }
  }
  if (error !== undefined) {
    outs.error = error;
  }
  return outs;
}

/** Rows the predictions file starts with, for the outputs. */
export const FIRST_ROWS = 5;

/**
 * The first rows of the predictions file, read from the datastore (the account key from
 * `listSecrets`, as for any datastore read); undefined, with a progress line, when it cannot be
 * read (a `summary_only` deployment writes none).
 */
async function readFirstRows(s: ScoringSession, uri: string): Promise<string[] | undefined> {
  const match = /^azureml:\/\/(?:.*\/)?datastores\/([^/]+)\/paths\/(.+)$/.exec(uri);
  if (match === null) {
    return undefined;
  }
  try {
    const container = await datastoreContainer(s, match[1]);
    const text = await readBlobHead({ ...container, prefix: "" }, match[2], 16 * 1024, {
      caCertPath: s.settings.caCertPath,
    });
    if (text === undefined) {
      await reportProgress(
        `The predictions file ${uri} does not exist (summary_only writes none).`,
      );
      return undefined;
    }
    return text
      .split("\n")
      .filter((line) => line !== "")
      .slice(0, FIRST_ROWS);
  } catch (error) {
    await reportProgress(
      `The predictions file ${uri} could not be read: ${(error as Error).message.split("\n")[0]}`,
    );
    return undefined;
  }
}

/** Polls the job through the ARM jobs API until it ends, printing mini-batches done. */
async function waitForScoring(
  s: ScoringSession,
  inputs: Inputs,
  initial: JobResource,
): Promise<JobResource> {
  if (isTerminalJobStatus(initial.properties.status)) {
    return initial;
  }
  const name = initial.name;
  const started = Date.now();
  let reported = "";
  return pollUntil<JobResource>(
    ({ abortSignal }) =>
      s.client
        .request<JobResource>({
          method: "GET",
          path: jobPath(s.scope, name),
          operation: "Jobs_Get",
          abortSignal,
        })
        .then((r) => r.body),
    (job) => isTerminalJobStatus(job.properties.status),
    {
      intervalInMs: () => pollDelayInMs(Date.now() - started, SCORING_DEFAULTS.pollBounds),
      timeoutInMs: (inputs.waitTimeoutInSeconds ?? SCORING_DEFAULTS.waitTimeoutInSeconds) * 1000,
      operation: `Jobs_Get ${name}`,
      operationUrl: jobPath(s.scope, name),
      describe: (job) => job.properties.status ?? "unknown",
      onProgress: (job) => {
        const done = countOf(job, BATCH_PROGRESS_PROPERTIES.miniBatchesCompleted);
        const total = countOf(job, BATCH_PROGRESS_PROPERTIES.miniBatches);
        const line =
          done === undefined || total === undefined
            ? `${job.properties.status}`
            : `${job.properties.status}, mini-batches ${done}/${total} done`;
        if (line !== reported) {
          reported = line;
          void reportProgress(`BatchScoringJob ${name}: ${line}.`);
        }
      },
    },
  );
}

export async function create(
  news: Inputs,
  config?: Config,
): Promise<pulumi.dynamic.CreateResult<Outputs>> {
  const inputs = withoutProvider(news);
  const hash = inputs.invocationHash ?? invocationHash(inputs);
  inputs.invocationHash = hash;
  const s = openScoringSession(inputs, config);
  const { job: started } = await invokeOnce(s, inputs, hash);
  const job = await waitForScoring(s, inputs, started);
  const status = job.properties.status;
  if (isUnsuccessfulJobStatus(status)) {
    const error = (await runHistoryError(s, job.name)) ?? status ?? "unknown";
    throw new Error(
      `BatchScoringJob ${job.name} ended ${status}: ${error}\n` +
        `Its log is in the child job's user_logs/std_log.txt. Fix the cause and run the update again: ` +
        `the next run gets a new job and output folder (the failed one is kept).`,
    );
  }
  const outs = outputsOf(s, inputs, job);
  const firstRows = await readFirstRows(s, outs.predictionsUri);
  if (firstRows !== undefined) {
    outs.firstRows = firstRows;
  }
  const scored =
    outs.miniBatches === undefined
      ? ""
      : `, mini-batches ${outs.miniBatchesCompleted ?? 0}/${outs.miniBatches} scored`;
  await reportProgress(
    `BatchScoringJob ${job.name}: ${status}${scored}; predictions at ${outs.predictionsUri}.`,
  );
  return { id: outs.jobId, outs };
}

/** Refresh: the job's status and counts; nothing when it is gone. */
export async function read(
  id: string,
  props: Outputs,
  config?: Config,
): Promise<pulumi.dynamic.ReadResult<Outputs>> {
  const current = withoutProvider(props);
  const s = openScoringSession(current, config);
  const job = await s.client.getOrUndefined<JobResource>(
    jobPath(s.scope, current.jobName),
    "Jobs_Get",
  );
  if (job === undefined) {
    return {};
  }
  return { id, props: { ...current, ...outputsOf(s, current, job, current.error) } };
}

/** Only the wait timeout changes in place: nothing is sent. */
export async function update(
  _id: string,
  olds: Outputs,
  news: Inputs,
): Promise<pulumi.dynamic.UpdateResult<Outputs>> {
  return { outs: { ...olds, waitTimeoutInSeconds: withoutProvider(news).waitTimeoutInSeconds } };
}

/** Cancels the job when it still runs; the job and its results stay. */
async function remove(_id: string, props: Outputs, config?: Config): Promise<void> {
  const current = withoutProvider(props);
  const s = openScoringSession(current, config);
  const path = jobPath(s.scope, current.jobName);
  const job = await s.client.getOrUndefined<JobResource>(path, "Jobs_Get");
  if (job === undefined || isTerminalJobStatus(job.properties.status)) {
    return;
  }
  await reportProgress(
    `BatchScoringJob ${current.jobName}: ${job.properties.status}; canceling it.`,
  );
  try {
    const cancel = await s.client.beginPost(
      jobCancelPath(s.scope, current.jobName),
      undefined,
      "Jobs_Cancel",
      { retryNonIdempotent: true },
    );
    await cancel.pollUntilDone();
  } catch (error) {
    const now = await s.client.getOrUndefined<JobResource>(path, "Jobs_Get");
    if (!isAzureMlRestError(error) || (now && !isTerminalJobStatus(now.properties.status))) {
      throw error;
    }
  }
}

export { remove as delete };
