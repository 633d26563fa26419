/**
 * SweepJob lifecycle: check the sweep (its trial as a command job's spec, the search space,
 * sampling, objective, limits and early termination) without a request, and derive its name from
 * the spec's hash; on create, submit the sweep (or adopt the one an interrupted `up` submitted),
 * follow it to its end printing its trials' progress and the best metric so far, and hand over the
 * best trial: its name, metric, hyperparameters, output URIs and MLflow model. Loaded by the
 * provider host through `await import("pulumi-azureml/provider/lifecycle/sweepJob")`.
 */
import type * as pulumi from "@pulumi/pulumi";
import { workspaceId } from "../core/ids";
import { isAzureMlRestError } from "../core/errors";
import {
  isTerminalJobStatus,
  isUnsuccessfulJobStatus,
  jobCancelPath,
  jobOutputUri,
  jobPath,
  SPEC_HASH_PROPERTY,
  studioUrlOf,
  type JobAssetInput,
  type JobResource,
  type RunRecord,
} from "../operations/jobs";
import {
  bestTrialOf,
  countTrials,
  describeTrialCounts,
  distributionFailure,
  isTrialOf,
  modelOutputName,
  parseHyperparameters,
  sweepFindings,
  sweepJobBody,
  sweepTrialsQuery,
  typedHyperparameters,
  type SearchDistribution,
  type SweepFinding,
  type TrialCounts,
} from "../operations/sweep";
import type { SweepJobInputs, SweepJobOutputs, SweepTrialInputs } from "../resources/sweepJob";
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
  errorText,
  jobErrorOf,
  logTailText,
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
  isFullyKnown,
  isKnown,
  openSession,
  UNKNOWN,
  withoutProvider,
  type Session,
} from "./shared";

const KIND = "SweepJob";

/** Fields that define the sweep: a change to any of them runs a new sweep. */
export const SWEEP_SPEC_FIELDS = [
  "trial",
  "compute",
  "experimentName",
  "objective",
  "samplingAlgorithm",
  "searchSpace",
  "limits",
  "earlyTermination",
  "identity",
  "properties",
] as const;

const TRIAL_FIELDS = [
  "command",
  "code",
  "environment",
  "inputs",
  "outputs",
  "environmentVariables",
  "distribution",
  "instanceCount",
  "instanceType",
];

// --- check -------------------------------------------------------------------------------------

/** The sweep's spec as hashed: local code by content (so moving the folder changes nothing). */
export function specOf(inputs: SweepJobInputs): Record<string, unknown> {
  const spec: Record<string, unknown> = {};
  for (const key of SWEEP_SPEC_FIELDS) {
    spec[key] = inputs[key];
  }
  const trial = inputs.trial;
  if (
    trial !== undefined &&
    isKnown(trial) &&
    trial.code !== undefined &&
    isKnown(trial.code) &&
    codeKind(trial.code) === "local"
  ) {
    spec.trial = { ...trial, code: { sha256: inputs.codeHash ?? UNKNOWN } };
  }
  return spec;
}

/** The findings of operations/sweep.ts, with the sampling property named as this resource does. */
function renamed(finding: SweepFinding): SweepFinding {
  return {
    ...finding,
    property: finding.property.replace(/^sampling\b/, "samplingAlgorithm"),
    reason: finding.reason.replace(/\[sampling(\.|\])/g, "[samplingAlgorithm$1"),
  };
}

function checkTrial(trial: unknown, failures: Failures): void {
  if (trial === undefined || trial === null) {
    failures.add("trial", "[trial] is required: { command, environment, code?, inputs?, … }.");
    return;
  }
  if (!isKnown(trial)) {
    return;
  }
  if (typeof trial !== "object" || Array.isArray(trial)) {
    failures.add("trial", "[trial] must be { command, environment, code?, inputs?, … }.");
    return;
  }
  const t = trial as Record<string, unknown>;
  for (const key of Object.keys(t)) {
    if (!TRIAL_FIELDS.includes(key)) {
      failures.add(
        `trial.${key}`,
        `[trial] has no property "${key}" (it takes ${TRIAL_FIELDS.join(", ")}).`,
      );
    }
  }
  checkString(t.command, "trial.command", failures, { required: true, nonEmpty: true });
  checkEnvironment(t.environment, failures, "trial.environment");
  checkStringMap(t.environmentVariables, "trial.environmentVariables", failures);
  checkInputs(t.inputs, failures, "trial");
  checkOutputs(t.outputs, failures, "trial");
  checkBindings(t, failures, { prefix: "trial", searchSpace: true });
  checkDistribution(t.distribution, failures, "trial");
  checkNumber(t.instanceCount, "trial.instanceCount", failures, { integer: true, min: 1 });
  checkString(t.instanceType, "trial.instanceType", failures);
}

/** The sweep's own refusals (operations/sweep.ts), once what they judge is known. */
async function checkSweep(inputs: SweepJobInputs, failures: Failures): Promise<void> {
  const command = inputs.trial?.command;
  const judged = [
    inputs.objective,
    inputs.samplingAlgorithm,
    inputs.searchSpace,
    inputs.limits,
    inputs.earlyTermination,
    command,
  ];
  if (inputs.objective === undefined) {
    failures.add("objective", "[objective] is required: { primaryMetric, goal }.");
  }
  if (inputs.samplingAlgorithm === undefined) {
    failures.add(
      "samplingAlgorithm",
      '[samplingAlgorithm] is required: { type: "random" }, { type: "grid" } or { type: "bayesian" }.',
    );
  }
  if (inputs.searchSpace === undefined) {
    failures.add("searchSpace", "[searchSpace] is required.");
  }
  if (failures.any && judged.slice(0, 3).some((v) => v === undefined)) {
    return;
  }
  if (!judged.every(isFullyKnown) || typeof command !== "string") {
    // Judge what is known: each distribution of a known search space.
    if (inputs.searchSpace !== undefined && isKnown(inputs.searchSpace)) {
      for (const [name, d] of Object.entries(inputs.searchSpace)) {
        const why = isFullyKnown(d) ? distributionFailure(name, d) : undefined;
        if (why) {
          failures.add(`searchSpace.${name}`, why);
        }
      }
    }
    return;
  }
  const findings = sweepFindings({
    command,
    searchSpace: inputs.searchSpace as Record<string, SearchDistribution>,
    sampling: inputs.samplingAlgorithm,
    objective: inputs.objective,
    limits: inputs.limits,
    earlyTermination: inputs.earlyTermination,
  }).map(renamed);
  for (const finding of findings) {
    if (finding.warning) {
      await reportProgress(`SweepJob ${inputs.resourceName ?? ""}: warning: ${finding.reason}`);
    } else {
      failures.add(finding.property, finding.reason);
    }
  }
}

export async function check(
  _olds: SweepJobInputs,
  news: SweepJobInputs,
  config?: Config,
): Promise<pulumi.dynamic.CheckResult<SweepJobInputs>> {
  const failures = new Failures();
  const inputs = withoutProvider(news);
  withoutDerivedFields(inputs);
  checkWorkspace(inputs, failures, config);

  checkJobName(inputs.name, failures);
  for (const key of ["displayName", "experimentName", "description"] as const) {
    checkString(inputs[key], key, failures);
  }
  checkStringMap(inputs.tags, "tags", failures);
  checkStringMap(inputs.properties, "properties", failures);
  checkTrial(inputs.trial, failures);
  checkCompute(inputs.compute, failures);
  checkIdentity(inputs.identity, failures);
  await checkSweep(inputs, failures);
  checkWaitOptions(inputs, failures);
  if (inputs.trial !== undefined && inputs.trial !== null && isKnown(inputs.trial)) {
    const trial = { ...inputs.trial };
    const codeHash = await checkCode(trial, failures, "trial.code");
    inputs.trial = trial;
    if (codeHash !== undefined) {
      inputs.codeHash = codeHash;
    }
  }

  if (!failures.any) {
    deriveJobName(inputs, specOf(inputs), NAME_FALLBACK);
  }
  return { inputs, failures: failures.list };
}

/** The readable part of a derived sweep name when the resource name is not known. */
const NAME_FALLBACK = "sweep";

/** The sweep name the inputs ask for: given, or derived from the resource name and the spec. */
export function requestedName(inputs: SweepJobInputs): string {
  return requestedJobName(inputs, NAME_FALLBACK);
}

// --- diff --------------------------------------------------------------------------------------

/**
 * The diff (diffJob), as CommandJob's: another workspace or a changed spec replaces the sweep with
 * a new one (a local code folder compares by content); display name, description and tags update
 * in place; wait and delete options update the state only.
 */
export async function diff(
  _id: string,
  olds: SweepJobOutputs,
  news: SweepJobInputs,
  config?: Config,
): Promise<pulumi.dynamic.DiffResult> {
  return diffJob<SweepJobInputs>(olds, news, config, {
    kind: KIND,
    noun: "sweep",
    changedSpecFields,
    // A moved local code folder with the same content: its new path goes into the state.
    stateFields: ["trial"],
  });
}

/** The spec fields that differ, comparing specs as hashed (local code by its content). */
function changedSpecFields(olds: SweepJobInputs, news: SweepJobInputs): string[] {
  const oldSpec = specOf(olds);
  const newSpec = isKnown(news.specHash)
    ? specOf(news)
    : (news as unknown as Record<string, unknown>);
  return SWEEP_SPEC_FIELDS.filter((k) => fieldChanged(oldSpec, newSpec, k));
}

// --- trials ------------------------------------------------------------------------------------

/**
 * The sweep's trials, as the service lists them by parent, keeping only jobs named `<sweep>_<n>`
 * (a service that ignored the filter would list every job).
 */
async function listTrials(session: Session, name: string): Promise<JobResource[]> {
  const jobs = await session.client.list<JobResource>(
    `${workspaceId(session.scope)}/jobs`,
    "Jobs_List",
    sweepTrialsQuery(name),
  );
  return jobs.filter((job) => isTrialOf(name, job.name));
}

function countsOf(inputs: SweepJobInputs, sweep: JobResource, trials: JobResource[]): TrialCounts {
  return countTrials(
    trials.map((t) => t.properties.status),
    {
      earlyTermination: inputs.earlyTermination !== undefined,
      sweepStatus: sweep.properties.status,
    },
  );
}

/**
 * Follows the sweep's trials while it runs: on each poll, the trials by status and the best
 * metric so far (the sweep's own `best_child_run_id`/`score`), as a progress line when either
 * changed.
 */
function trialProgress(session: Session, inputs: SweepJobInputs, name: string) {
  let last = "";
  return async (sweep: JobResource): Promise<void> => {
    const trials = await listTrials(session, name);
    const counts = countsOf(inputs, sweep, trials);
    const best = bestTrialOf(sweep.properties.properties);
    const line =
      `${describeTrialCounts(counts)}` +
      (best?.score !== undefined
        ? `; best ${inputs.objective.primaryMetric} so far ${best.score} (${best.name})`
        : "");
    if (line !== last) {
      last = line;
      await reportProgress(`SweepJob ${name}: ${line}.`);
    }
  };
}

interface BestTrial {
  name?: string;
  metric?: number;
  hyperparameters: Record<string, string | number | boolean>;
  metrics: Record<string, number>;
}

/**
 * The best trial as the sweep records it (`best_child_run_id`, `score`), its hyperparameters (the
 * trial's `hyperparameters` property) and its metrics (its MLflow run). The primary metric is the
 * MLflow value when there is one, else the sweep's `score`.
 */
async function bestTrial(
  session: Session,
  inputs: SweepJobInputs,
  sweep: JobResource,
  trials: JobResource[],
  readMetrics: boolean,
): Promise<BestTrial> {
  const best = bestTrialOf(sweep.properties.properties);
  if (best === undefined) {
    return { hyperparameters: {}, metrics: {} };
  }
  const trial =
    trials.find((t) => t.name === best.name) ??
    (await session.client.getOrUndefined<JobResource>(
      jobPath(session.scope, best.name),
      "Jobs_Get",
    ));
  const hyperparameters = typedHyperparameters(
    parseHyperparameters(trial?.properties.properties?.hyperparameters),
  );
  const run: RunRecord | undefined = readMetrics
    ? await readRunOrWarn(session, best.name, KIND)
    : undefined;
  const metrics = run?.metrics ?? {};
  const fromRun = metrics[inputs.objective.primaryMetric];
  return {
    name: best.name,
    metric: fromRun !== undefined ? fromRun : best.score,
    hyperparameters,
    metrics,
  };
}

// --- create ------------------------------------------------------------------------------------

interface Resolved {
  environmentId: string;
  codeId?: string;
  computeId?: string;
}

/** The resource's outputs for a sweep as Azure ML holds it now. */
async function outputsOf(
  session: Session,
  inputs: SweepJobInputs,
  resolved: Resolved,
  name: string,
  sweep: JobResource,
  options: { serviceError?: string; previous?: SweepJobOutputs } = {},
): Promise<SweepJobOutputs> {
  const status = sweep.properties.status ?? "Unknown";
  const trials = await listTrials(session, name);
  const ended = isTerminalJobStatus(status);
  const best = await bestTrial(session, inputs, sweep, trials, ended);
  const previous = options.previous;
  const metrics =
    Object.keys(best.metrics).length > 0 || previous?.bestTrialName !== best.name
      ? best.metrics
      : (previous?.bestTrialMetrics ?? {});
  const outputNames = Object.keys(inputs.trial.outputs ?? {});
  const modelOutput = modelOutputName(inputs.trial.outputs);
  // The sweep's times come from its own MLflow run (the sweep's name), as a CommandJob's do.
  const own =
    ended && previous?.endTime === undefined ? await readRunOrWarn(session, name, KIND) : undefined;
  const startTime = previous?.startTime ?? own?.startTime;
  const endTime = ended ? (previous?.endTime ?? own?.endTime) : undefined;
  return dropUndefined({
    ...inputs,
    name,
    jobId: jobPath(session.scope, name),
    status,
    studioUrl: studioUrlOf(sweep, session.scope, name),
    startTime,
    endTime,
    durationInSeconds: ended ? durationOf(startTime, endTime) : undefined,
    trialCounts: countsOf(inputs, sweep, trials),
    bestTrialName: best.name,
    bestPrimaryMetric: best.metric,
    bestHyperparameters: best.hyperparameters,
    bestTrialMetrics: metrics,
    bestTrialOutputUris:
      best.name === undefined
        ? {}
        : Object.fromEntries(outputNames.map((o) => [o, jobOutputUri(best.name as string, o)])),
    bestModelUri:
      best.name !== undefined && modelOutput !== undefined
        ? jobOutputUri(best.name, modelOutput)
        : undefined,
    environmentId: resolved.environmentId,
    codeId: resolved.codeId,
    computeId: resolved.computeId,
    error: isUnsuccessfulJobStatus(status)
      ? (options.serviceError ?? jobErrorOf(sweep) ?? status)
      : undefined,
  });
}

/**
 * The error a Failed or Canceled sweep raises: the service's error, its trials by status and, when
 * a trial failed, that trial's error and the end of its log.
 */
export function sweepFailureMessage(
  name: string,
  status: string,
  serviceError: string | undefined,
  studioUrl: string,
  counts: TrialCounts,
  failedTrial?: { name: string; error?: string; log: string[] | string },
): string {
  const trial =
    failedTrial === undefined
      ? ""
      : `The last trial that failed, ${failedTrial.name}: ${errorText(failedTrial.error)}.\n` +
        `${logTailText(failedTrial.error, failedTrial.log)}\n`;
  return (
    `SweepJob ${name} ended ${status}: ${errorText(serviceError)}.\n` +
    `${describeTrialCounts(counts)}.\n` +
    `Studio: ${studioUrl}\n${trial}` +
    "Fix the trial and run the update again: the next run gets a new name (the failed sweep is kept)."
  );
}

async function failureOf(
  session: Session,
  inputs: SweepJobInputs,
  name: string,
  sweep: JobResource,
  serviceError: string | undefined,
): Promise<string> {
  const trials = await listTrials(session, name);
  const failed = trials
    .filter((t) => t.properties.status === "Failed")
    .sort((a, b) => b.name.localeCompare(a.name, undefined, { numeric: true }))[0];
  const failedTrial =
    failed === undefined
      ? undefined
      : {
          name: failed.name,
          error: jobErrorOf(failed) ?? (await readRunHistoryError(session, failed.name)),
          log: await readLogTail(session, failed.name),
        };
  return sweepFailureMessage(
    name,
    sweep.properties.status as string,
    serviceError,
    studioUrlOf(sweep, session.scope, name),
    countsOf(inputs, sweep, trials),
    failedTrial,
  );
}

async function resolve(session: Session, inputs: SweepJobInputs, config: Config) {
  return {
    codeId: await resolveCodeId(
      session,
      {
        workspaceId: inputs.workspaceId,
        subscriptionId: inputs.subscriptionId,
        resourceGroupName: inputs.resourceGroupName,
        workspaceName: inputs.workspaceName,
        code: inputs.trial.code,
        codeHash: inputs.codeHash,
        resourceName: inputs.resourceName,
      },
      config,
    ),
    environmentId: await resolveEnvironmentId(session, inputs.trial.environment),
    computeId: resolveComputeId(session, inputs.compute),
  };
}

function bodyOf(inputs: SweepJobInputs, resolved: Resolved, specHash: string) {
  const trial: SweepTrialInputs = inputs.trial;
  return sweepJobBody(
    {
      trial: {
        command: trial.command,
        environmentId: resolved.environmentId,
        codeId: resolved.codeId,
        computeId: resolved.computeId,
        experimentName: inputs.experimentName,
        inputs: trial.inputs as Record<string, string | number | JobAssetInput> | undefined,
        outputs: trial.outputs,
        environmentVariables: trial.environmentVariables,
        distribution: trial.distribution,
        instanceCount: trial.instanceCount,
        instanceType: trial.instanceType,
        identity: inputs.identity,
        properties: { ...(inputs.properties ?? {}), [SPEC_HASH_PROPERTY]: specHash },
      },
      objective: inputs.objective,
      samplingAlgorithm: inputs.samplingAlgorithm,
      searchSpace: inputs.searchSpace,
      limits: inputs.limits,
      earlyTermination: inputs.earlyTermination,
    },
    {
      displayName: inputs.displayName,
      description: inputs.description,
      tags: inputs.tags,
    },
  );
}

export async function create(
  news: SweepJobInputs,
  config?: Config,
): Promise<pulumi.dynamic.CreateResult<SweepJobOutputs>> {
  const inputs = withoutProvider(news);
  const session = openSession(inputs, config);
  const base = inputs.baseName ?? requestedName(inputs);
  const specHash = inputs.specHash as string;
  const resolved = await resolve(session, inputs, config);
  const submitted = await submitOrAdopt(
    session,
    base,
    specHash,
    bodyOf(inputs, resolved, specHash),
    KIND,
  );
  const { name } = submitted;
  let sweep = submitted.job;
  if (
    (inputs.waitForCompletion ?? WAIT_DEFAULTS.waitForCompletion) &&
    !isTerminalJobStatus(sweep.properties.status)
  ) {
    sweep = await waitForJob(session, name, inputs, sweep, {
      kind: KIND,
      onPoll: trialProgress(session, inputs, name),
    });
  }
  const status = sweep.properties.status;
  const serviceError = isUnsuccessfulJobStatus(status)
    ? (jobErrorOf(sweep) ?? (await readRunHistoryError(session, name)))
    : undefined;
  if (
    isUnsuccessfulJobStatus(status) &&
    (inputs.failOnJobFailure ?? WAIT_DEFAULTS.failOnJobFailure)
  ) {
    throw new Error(await failureOf(session, inputs, name, sweep, serviceError));
  }
  const outs = await outputsOf(session, inputs, resolved, name, sweep, { serviceError });
  if (status === "Completed") {
    await reportProgress(
      `SweepJob ${name}: Completed; ${describeTrialCounts(outs.trialCounts)}; best trial ${outs.bestTrialName ?? "(none)"}` +
        (outs.bestPrimaryMetric === undefined
          ? "."
          : ` with ${inputs.objective.primaryMetric} ${outs.bestPrimaryMetric}, hyperparameters ${JSON.stringify(outs.bestHyperparameters)}.`),
    );
  }
  return { id: outs.jobId, outs };
}

// --- read, update, delete ---------------------------------------------------------------------

/**
 * Refresh: the sweep's status, trials, best trial and mutable fields, so a sweep that failed or
 * was canceled after the update shows. Nothing when the sweep is gone.
 */
export async function read(
  id: string,
  props: SweepJobOutputs,
  config?: Config,
): Promise<pulumi.dynamic.ReadResult<SweepJobOutputs>> {
  const current = withoutProvider(props);
  const session = openSession(current, config);
  const sweep = await session.client.getOrUndefined<JobResource>(
    jobPath(session.scope, current.name),
    "Jobs_Get",
  );
  if (sweep === undefined) {
    return {};
  }
  const status = sweep.properties.status;
  const serviceError = isUnsuccessfulJobStatus(status)
    ? (jobErrorOf(sweep) ?? (await readRunHistoryError(session, current.name)))
    : undefined;
  const refreshed = await outputsOf(
    session,
    current,
    { environmentId: current.environmentId, codeId: current.codeId, computeId: current.computeId },
    current.name,
    sweep,
    { serviceError, previous: current },
  );
  applyLiveMutableFields(refreshed, sweep);
  return { id, props: refreshed };
}

/** Outputs Azure ML produced; an update in place keeps them. */
const PRODUCED_FIELDS = [
  ...JOB_PRODUCED_FIELDS,
  "trialCounts",
  "bestTrialName",
  "bestPrimaryMetric",
  "bestHyperparameters",
  "bestTrialMetrics",
  "bestTrialOutputUris",
  "bestModelUri",
] as const;

/** In place: display name, description and tags are re-PUT; wait options change the state only. */
export async function update(
  _id: string,
  olds: SweepJobOutputs,
  news: SweepJobInputs,
  config?: Config,
): Promise<pulumi.dynamic.UpdateResult<SweepJobOutputs>> {
  const outs = await updateJobInPlace(olds, withoutProvider(news), config, {
    kind: KIND,
    produced: PRODUCED_FIELDS,
  });
  return { outs };
}

/**
 * Cancels trials the sweep's cancel left running (Azure ML cancels a sweep's trials with it; this
 * makes sure), each a long-running POST.
 */
async function cancelRunningTrials(session: Session, name: string): Promise<void> {
  for (const trial of await listTrials(session, name)) {
    if (isTerminalJobStatus(trial.properties.status)) {
      continue;
    }
    try {
      const cancel = await session.client.beginPost(
        jobCancelPath(session.scope, trial.name),
        undefined,
        "Jobs_Cancel",
        { retryNonIdempotent: true },
      );
      await cancel.pollUntilDone();
    } catch (error) {
      const now = await session.client.getOrUndefined<JobResource>(
        jobPath(session.scope, trial.name),
        "Jobs_Get",
      );
      if (!isAzureMlRestError(error) || (now && !isTerminalJobStatus(now.properties.status))) {
        throw error;
      }
    }
  }
}

/**
 * Cancels a sweep that has not ended (and so its running trials), then archives it, deletes it or
 * leaves it, per [onDelete]. A sweep already gone is done.
 */
async function remove(_id: string, props: SweepJobOutputs, config?: Config): Promise<void> {
  const current = withoutProvider(props);
  const session = openSession(current, config);
  await removeJob(session, current.name, {
    onDelete: current.onDelete,
    kind: KIND,
    afterCancel: () => cancelRunningTrials(session, current.name),
  });
}

export { remove as delete };
