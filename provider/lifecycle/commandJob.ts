/**
 * CommandJob lifecycle: check the spec without a request (bindings, inputs, outputs, limits) and
 * derive the job name from its hash; on create, submit the job (or adopt the one a previous,
 * interrupted `up` submitted), follow it to its end printing each status change, and read its
 * metrics and parameters back from the workspace's MLflow tracking server. Loaded by the provider
 * host through `await import("pulumi-azureml/provider/lifecycle/commandJob")`.
 */
import type * as pulumi from "@pulumi/pulumi";
import {
  commandJobBody,
  isoDurationSeconds,
  isTerminalJobStatus,
  isUnsuccessfulJobStatus,
  jobOutputUri,
  jobPath,
  SPEC_HASH_PROPERTY,
  studioUrlOf,
  type CommandJobSpec,
  type JobAssetInput,
  type JobResource,
  type RunRecord,
} from "../operations/jobs";
import type { CommandJobInputs, CommandJobOutputs } from "../resources/commandJob";
import {
  applyLiveMutableFields,
  checkBindings,
  checkCode,
  checkCompute,
  checkDistribution,
  checkEnvironment,
  checkIdentity,
  checkInputs,
  checkJobName,
  checkNumber,
  checkOutputs,
  checkString,
  checkStringMap,
  checkWaitOptions,
  codeKind,
  dropUndefined,
  durationOf,
  JOB_TIERS,
  jobErrorOf,
  jobFailureMessage,
  oneOf,
  readLogTail,
  readRunHistoryError,
  readRunOrWarn,
  removeJob,
  resolveCodeId,
  resolveComputeId,
  resolveEnvironmentId,
  submitOrAdopt,
  WAIT_DEFAULTS,
  waitForJob,
  type Config,
  deriveJobName,
  diffJob,
  requestedJobName,
  updateJobInPlace,
  withoutDerivedFields,
  JOB_PRODUCED_FIELDS,
} from "./job";
import { reportProgress } from "./progress";
import {
  checkWorkspace,
  Failures,
  fieldChanged,
  isKnown,
  openSession,
  UNKNOWN,
  withoutProvider,
  type Session,
} from "./shared";

// Moved to ./job (shared with SweepJob); still exported here under their old names.
export {
  codeKind,
  environmentFailure,
  jobErrorOf,
  jobFailureMessage,
  localCodeName,
  LOG_TAIL_LINES,
  WAIT_DEFAULTS,
} from "./job";

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
  withoutDerivedFields(inputs);
  checkWorkspace(inputs, failures, config);

  checkJobName(inputs.name, failures);
  checkString(inputs.command, "command", failures, { required: true, nonEmpty: true });
  checkEnvironment(inputs.environment, failures);
  checkCompute(inputs.compute, failures);
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
  checkWaitOptions(inputs, failures);
  const codeHash = await checkCode(inputs, failures);
  if (codeHash !== undefined) {
    inputs.codeHash = codeHash;
  }

  if (!failures.any) {
    deriveJobName(inputs, specOf(inputs), NAME_FALLBACK);
  }
  return { inputs, failures: failures.list };
}

/** The readable part of a derived job name when the resource name is not known. */
const NAME_FALLBACK = "job";

/** The job name the inputs ask for: given, or derived from the resource name and the spec. */
export function requestedName(inputs: CommandJobInputs): string {
  return requestedJobName(inputs, NAME_FALLBACK);
}

// --- diff --------------------------------------------------------------------------------------

/**
 * The diff (diffJob): another workspace or a changed spec (anything a job runs with) replaces the
 * job with a new one; display name, description and tags update the job in place; wait and delete
 * options update the state only. A change in the provider's own code is no change (`__provider` is
 * never compared). In preview it says which part of the spec changed.
 */
export async function diff(
  _id: string,
  olds: CommandJobOutputs,
  news: CommandJobInputs,
  config?: Config,
): Promise<pulumi.dynamic.DiffResult> {
  return diffJob<CommandJobInputs>(olds, news, config, {
    kind: "CommandJob",
    noun: "job",
    changedSpecFields,
    // A moved local folder with the same content: its new path goes into the state.
    stateFields: ["code"],
  });
}

/** The spec fields that differ; local code by its content hash (or a change of how it is given). */
function changedSpecFields(olds: CommandJobInputs, news: CommandJobInputs): string[] {
  const oldRecord = olds as unknown as Record<string, unknown>;
  const newRecord = news as unknown as Record<string, unknown>;
  return SPEC_FIELDS.filter((k) =>
    k === "code" &&
    olds.codeHash !== undefined &&
    isKnown(olds.code) &&
    codeKind(olds.code as string) === "local"
      ? fieldChanged(oldRecord, newRecord, "codeHash") || fieldChanged(oldRecord, newRecord, "code")
      : fieldChanged(oldRecord, newRecord, k),
  );
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
  applyLiveMutableFields(refreshed, job);
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
  const outs = await updateJobInPlace(olds, withoutProvider(news), config, {
    kind: "CommandJob",
    produced: PRODUCED_FIELDS,
  });
  return { outs };
}

/** Outputs Azure ML produced; an update in place keeps them. */
const PRODUCED_FIELDS = [...JOB_PRODUCED_FIELDS, "outputUris", "metrics", "parameters"] as const;

/**
 * Cancels a job that has not ended (a long-running POST, polled through the project's LRO
 * engine), then archives it, deletes it or leaves it, per [onDelete]. A job already gone is done.
 */
async function remove(_id: string, props: CommandJobOutputs, config?: Config): Promise<void> {
  const current = withoutProvider(props);
  const session = openSession(current, config);
  await removeJob(session, current.name, { onDelete: current.onDelete });
}

export { remove as delete };
