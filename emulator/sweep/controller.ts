/**
 * The sweep controller: runs a stored sweep job to its end. It asks the sampler (Optuna, in
 * Python) for each trial's values, stores the trial as a child command job `<sweep>_<n>` and hands
 * it to the job runner, keeps at most maxConcurrentTrials running and maxTotalTrials in all, reads
 * the trials' primary metric through a TrialMetricSource (MLflow in the emulator), terminates
 * trials early by the sweep's policy, and records the best trial where Azure does
 * (`best_child_run_id` and `score` in the sweep's properties). Cancel and delete cancel the running
 * trials first. The loop is driven by the stored state, so it never waits on a poll.
 */
import { createHash } from "node:crypto";
import { asObject, type Json } from "../handlers/common";
import type { OperationManager } from "../operations";
import type { ControlPlaneSettings } from "../router";
import { childId, storeKey } from "../state/ids";
import type { Store } from "../state/store";
import type { TrackingService } from "../mlflow/types";
import { normalizeJobProperties } from "../jobs/spec";
import {
  JOBS_COLLECTION,
  isTerminalJobStatus,
  recordCancelRequest,
  type JobError,
  type JobRunner,
  type JobStatus,
  type StoredJob,
} from "../jobs/types";
import { better, trialsToTerminate, type TrialCurve } from "./policies";
import { SamplerError, type SamplerFactory, type SweepSampler, type TrialOutcome } from "./sampler";
import { planSweep, trialName, trialProperties, type SweepPlan } from "./spec";

/** Where the controller reads the primary metric a trial logged. */
export interface TrialMetricSource {
  /** The values the trial logged for `metric`, in the order it logged them; [] when none. */
  history(trialName: string, metric: string): Promise<number[]>;
}

/** Options of the sweep room (part of JobsOptions). */
export interface SweepOptions {
  /** Samples trials' values. @default Optuna in a cached environment (createOptunaSamplerFactory) */
  readonly sampler?: SamplerFactory;
  /**
   * Where trials' metrics are read. @default the workspace's MLflow tracking (the trials' metric
   * history), when the emulator has one; without either, no trial has a metric: early
   * termination never fires and the sweep ends with no best trial.
   */
  readonly metrics?: TrialMetricSource;
  /** Time between two looks at a sweep's trials. @default 500 */
  readonly tickInMs?: number;
}

export interface SweepControllerOptions {
  store: Store;
  settings: ControlPlaneSettings;
  operations: OperationManager;
  /** The command job runner the trials run on. */
  runner: JobRunner;
  sampler: SamplerFactory;
  metrics?: TrialMetricSource;
  /** The workspace's MLflow tracking: the sweep's own run, and the default metric source. */
  tracking?: TrackingService;
  tickInMs?: number;
  /** The control plane's creation sequence (list order). */
  nextSequence: () => number;
  /** Resolves a trial's pool (compute) the way the job routes do at PUT. */
  pool: (trial: Json) => { pool: string; nodes: number };
  now?: () => number;
  log?: (line: string) => void;
}

/** Trial counts by how they ended, as the controller tells them apart. */
export interface SweepCounts {
  running: number;
  completed: number;
  failed: number;
  canceled: number;
  earlyTerminated: number;
}

class SweepEnded extends Error {
  constructor(
    readonly status: "Failed" | "Canceled",
    readonly error: JobError,
  ) {
    super(error.message);
  }
}

interface TrialState {
  name: string;
  number: number;
  values: number[];
  ended?: JobStatus;
  earlyTerminated?: boolean;
}

/** A seed derived from the sweep's name, for algorithms without a seed of their own. */
export function sweepSeed(name: string): number {
  return createHash("sha256").update(name).digest().readUInt32BE(0) & 0x7fffffff;
}

export function createSweepController(options: SweepControllerOptions): JobRunner {
  const { store, settings, operations, runner } = options;
  const now = options.now ?? Date.now;
  const tickInMs = options.tickInMs ?? 500;
  const log =
    options.log ?? ((line: string) => process.stderr.write(`azureml-emulator: ${line}\n`));
  const tracking = options.tracking;
  const metrics: TrialMetricSource | undefined =
    options.metrics ??
    (tracking === undefined
      ? undefined
      : { history: (trial, metric) => tracking.metricHistory(trial, metric) });
  const active = new Map<string, { abort: AbortController; done: Promise<void> }>();
  let closed = false;

  const keyOf = (name: string) => storeKey(childId(settings.scope, "jobs", name));
  const load = (name: string) => store.get<StoredJob>(JOBS_COLLECTION, keyOf(name));
  const update = (name: string, change: (job: StoredJob) => void) => {
    const job = load(name);
    if (job !== undefined) {
      change(job);
      store.put(JOBS_COLLECTION, keyOf(name), job);
    }
    return job;
  };
  const setProps = (name: string, change: (props: Json) => Json, run?: (job: StoredJob) => void) =>
    update(name, (job) => {
      job.resource.properties = change(asObject(job.resource.properties));
      run?.(job);
    });
  const statusOf = (name: string) => asObject(load(name)?.resource.properties).status as JobStatus;

  const settle = (name: string) => {
    const job = load(name);
    if (job === undefined || !isTerminalJobStatus(asObject(job.resource.properties).status)) {
      return;
    }
    const waiting = job.run.waitingOperations ?? [];
    if (job.run.deleteRequested === true) {
      store.delete(JOBS_COLLECTION, keyOf(name));
    } else if (waiting.length > 0) {
      update(name, (j) => {
        j.run.waitingOperations = [];
      });
    }
    for (const id of waiting) {
      operations.complete(id, "Succeeded");
    }
  };

  const finish = (name: string, status: "Completed" | "Failed" | "Canceled", error?: JobError) => {
    setProps(
      name,
      (p) => ({ ...p, status }),
      (job) => {
        job.run.endTimeUtc = new Date(now()).toISOString();
        if (error !== undefined) {
          job.run.error = error;
        }
      },
    );
    settle(name);
  };

  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });

  const readMetric = async (trial: string, metric: string): Promise<number[]> => {
    if (metrics === undefined) {
      return [];
    }
    try {
      return (await metrics.history(trial, metric)).filter((v) => Number.isFinite(v));
    } catch (error) {
      log(`sweep: reading ${metric} of ${trial} failed: ${(error as Error).message}`);
      return [];
    }
  };

  const submitTrial = (sweep: StoredJob, index: number, params: Record<string, unknown>) => {
    const sweepName = sweep.resource.name;
    const name = trialName(sweepName, index);
    const props = normalizeJobProperties(
      name,
      trialProperties(sweepName, asObject(sweep.resource.properties), index, params),
    );
    const { pool, nodes } = options.pool(props);
    const record: StoredJob = {
      createdSeq: options.nextSequence(),
      resource: {
        id: childId(settings.scope, "jobs", name),
        name,
        type: sweep.resource.type,
        systemData: sweep.resource.systemData,
        properties: {
          ...props,
          status: "NotStarted",
          services: asObject(sweep.resource.properties).services,
        },
      },
      run: { pool, nodes, parent: sweepName },
    };
    store.put(JOBS_COLLECTION, keyOf(name), record);
    runner.submit(name);
    return name;
  };

  const recordBest = (sweepName: string, plan: SweepPlan, trials: TrialState[]) => {
    let best: { name: string; value: number } | undefined;
    for (const t of trials) {
      const value = t.values[t.values.length - 1];
      if (t.ended === "Completed" && value !== undefined) {
        if (best === undefined || better(plan.goal, value, best.value)) {
          best = { name: t.name, value };
        }
      }
    }
    if (best !== undefined) {
      const found = best;
      setProps(sweepName, (p) => ({
        ...p,
        properties: {
          ...asObject(p.properties),
          best_child_run_id: found.name,
          score: String(found.value),
          best_metric_status: "Succeeded",
        },
      }));
    }
    return best;
  };

  const execute = async (name: string, abort: AbortController): Promise<void> => {
    const sweep = load(name);
    if (sweep === undefined) {
      return;
    }
    const props = asObject(sweep.resource.properties);
    const plan = planSweep(props);
    const trials: TrialState[] = [];
    let sampler: SweepSampler | undefined;
    let ending: SweepEnded | undefined;
    let total = plan.maxTotalTrials;
    let timer: NodeJS.Timeout | undefined;
    let trackingRun = false;
    try {
      setProps(name, (p) => ({ ...p, status: "Preparing" }));
      try {
        sampler = await options.sampler.start(
          {
            searchSpace: asObject(props.searchSpace),
            samplingAlgorithm: plan.samplingAlgorithm,
            goal: plan.goal,
            seed: sweepSeed(name),
          },
          abort.signal,
        );
      } catch (error) {
        if (abort.signal.aborted) {
          throw abort.signal.reason;
        }
        throw new SweepEnded("Failed", {
          code: error instanceof SamplerError ? "UserError" : "SystemError",
          message: `The sweep's sampler could not start: ${(error as Error).message}`,
        });
      }
      if (sampler.gridSize !== undefined) {
        total = Math.min(total, sampler.gridSize);
      }
      // The sweep's own MLflow run: its trials' runs name it as their parent.
      if (tracking !== undefined) {
        try {
          await tracking.createRun({
            runId: name,
            experimentName: String(props.experimentName ?? "Default"),
            runName: typeof props.displayName === "string" ? props.displayName : undefined,
          });
          trackingRun = true;
        } catch (error) {
          log(`sweep ${name}: its MLflow run could not be made: ${(error as Error).message}`);
        }
      }
      setProps(
        name,
        (p) => ({ ...p, status: "Running" }),
        (job) => {
          job.run.startTimeUtc = new Date(now()).toISOString();
        },
      );

      // The sweep's timeout counts from Running (after its sampler is ready), as trials can only
      // start from then.
      if (plan.timeoutInMs !== undefined) {
        timer = setTimeout(
          () =>
            abort.abort(
              new SweepEnded("Canceled", {
                code: "UserError",
                message: `The sweep job exceeded its timeout (limits.timeout ${String(
                  asObject(props.limits).timeout,
                )}); its running trials were canceled.`,
              }),
            ),
          plan.timeoutInMs,
        );
      }
      const tell = async (t: TrialState, outcome: TrialOutcome, value?: number) => {
        await sampler?.tell(t.number, outcome, value);
      };

      while (!abort.signal.aborted) {
        // Trials that ended since the last look.
        for (const t of trials.filter((x) => x.ended === undefined)) {
          const status = statusOf(t.name);
          if (status === undefined || isTerminalJobStatus(status)) {
            t.values = await readMetric(t.name, plan.primaryMetric);
            t.ended = status ?? "Canceled";
            const last = t.values[t.values.length - 1];
            if (t.earlyTerminated === true) {
              await tell(t, "pruned");
            } else if (t.ended === "Completed" && last !== undefined) {
              await tell(t, "complete", last);
            } else {
              await tell(t, "fail");
            }
            recordBest(name, plan, trials);
          }
        }
        // Early termination on the running trials' curves.
        const running = trials.filter((t) => t.ended === undefined);
        if (plan.earlyTermination !== undefined && running.length > 0) {
          for (const t of running) {
            t.values = await readMetric(t.name, plan.primaryMetric);
          }
          const curves: TrialCurve[] = trials.map((t) => ({
            name: t.name,
            running: t.ended === undefined && t.earlyTerminated !== true,
            values: t.values,
          }));
          for (const victim of trialsToTerminate(plan.earlyTermination, plan.goal, curves)) {
            const t = trials.find((x) => x.name === victim);
            if (t !== undefined) {
              t.earlyTerminated = true;
              runner.cancel(victim);
            }
          }
        }
        // New trials, up to the limits.
        while (
          trials.length < total &&
          trials.filter((t) => t.ended === undefined).length < plan.maxConcurrentTrials
        ) {
          const sampled = await sampler.ask();
          if (sampled === undefined) {
            total = trials.length;
            break;
          }
          const index = trials.length;
          trials.push({
            name: submitTrial(load(name) ?? sweep, index, sampled.params),
            number: sampled.number,
            values: [],
          });
        }
        if (trials.length >= total && trials.every((t) => t.ended !== undefined)) {
          break;
        }
        await sleep(tickInMs, abort.signal);
      }

      if (abort.signal.aborted) {
        throw abort.signal.reason;
      }
      const best = recordBest(name, plan, trials);
      const completed = trials.filter((t) => t.ended === "Completed").length;
      if (completed === 0) {
        finish(name, "Failed", {
          code: "UserError",
          message: `None of the sweep's ${trials.length} trial(s) completed.`,
        });
      } else {
        if (best === undefined) {
          log(
            `sweep ${name}: no trial logged ${plan.primaryMetric}` +
              (metrics === undefined ? " (no metric source)" : ""),
          );
        }
        finish(name, "Completed");
      }
    } catch (error) {
      ending =
        error instanceof SweepEnded
          ? error
          : new SweepEnded("Failed", {
              code: "SystemError",
              message: `The emulator failed while running the sweep: ${(error as Error)?.message ?? String(error)}`,
            });
      // Cancel what still runs and wait for it before the sweep itself ends.
      const open = trials.filter((t) => t.ended === undefined);
      for (const t of open) {
        runner.cancel(t.name);
      }
      while (
        open.some((t) => !isTerminalJobStatus(statusOf(t.name)) && statusOf(t.name) !== undefined)
      ) {
        await new Promise((r) => setTimeout(r, Math.min(tickInMs, 100)));
      }
      recordBest(name, plan, trials);
      finish(name, ending.status, ending.error);
    } finally {
      if (timer !== undefined) {
        clearTimeout(timer);
      }
      sampler?.close();
      if (trackingRun && tracking !== undefined) {
        const status = statusOf(name);
        await tracking
          .endRun(
            name,
            status === "Completed" ? "FINISHED" : status === "Failed" ? "FAILED" : "KILLED",
          )
          .catch((error: unknown) =>
            log(`sweep ${name}: its MLflow run could not be ended: ${(error as Error).message}`),
          );
      }
    }
  };

  const start = (name: string) => {
    const abort = new AbortController();
    const entry = { abort, done: Promise.resolve() };
    active.set(name, entry);
    entry.done = execute(name, abort)
      .catch((error: unknown) => {
        log(`sweep ${name} ended with an emulator error: ${String(error)}`);
        finish(name, "Failed", { code: "SystemError", message: String(error) });
      })
      .finally(() => active.delete(name));
  };

  // Sweeps a previous emulator process left unfinished: their controller went with it.
  for (const { value } of store.list<StoredJob>(JOBS_COLLECTION)) {
    const props = asObject(value.resource.properties);
    if (props.jobType !== "Sweep") {
      continue;
    }
    if (isTerminalJobStatus(props.status)) {
      settle(value.resource.name);
    } else {
      finish(value.resource.name, value.run.cancelRequested === true ? "Canceled" : "Failed", {
        code: "SystemError",
        message:
          "The emulator stopped while this sweep ran, and its controller ended with it. " +
          "Submit the sweep again under a new name.",
      });
    }
  }

  return {
    submit(name) {
      setImmediate(() => {
        if (closed || statusOf(name) !== "NotStarted" || active.has(name)) {
          return;
        }
        start(name);
      });
    },
    cancel(name, operationId, cancelOptions = {}) {
      const job = update(name, (j) =>
        recordCancelRequest(j, operationId, cancelOptions.deleteAfter === true),
      );
      if (job === undefined) {
        if (operationId !== undefined) {
          operations.complete(operationId, "Succeeded");
        }
        return;
      }
      if (isTerminalJobStatus(asObject(job.resource.properties).status)) {
        settle(name);
        return;
      }
      const entry = active.get(name);
      if (entry !== undefined) {
        setProps(name, (p) => ({ ...p, status: "CancelRequested" }));
        entry.abort.abort(
          new SweepEnded("Canceled", { code: "UserError", message: "The sweep job was canceled." }),
        );
        return;
      }
      finish(name, "Canceled", { code: "UserError", message: "The sweep job was canceled." });
    },
    async reset() {
      const stopping = [...active.values()];
      for (const e of stopping) {
        e.abort.abort(new SweepEnded("Canceled", { code: "SystemError", message: "Reset." }));
      }
      await Promise.all(stopping.map((e) => e.done));
    },
    async close() {
      closed = true;
      const stopping = [...active.values()];
      for (const e of stopping) {
        e.abort.abort(
          new SweepEnded("Failed", {
            code: "SystemError",
            message: "The emulator was stopped while the sweep ran.",
          }),
        );
      }
      await Promise.all(stopping.map((e) => e.done));
    },
    jobFolder(name) {
      return runner.jobFolder(name);
    },
  };
}
