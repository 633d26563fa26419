/**
 * Batch scoring jobs: what an invocation of a batch endpoint starts (contract section 5.4). As on
 * Azure, the invocation is a pipeline-like job (`jobType: Pipeline`, visible through the ARM jobs
 * API) with one child job that really scores. The child is an ordinary command job run by the
 * job runner: the deployment's code snapshot, the deployment environment's Python environment
 * (built and cached as for any job), the input and the model materialized, and the command
 * `python -m azureml_emulator_batch.driver …` (emulator/batch/python) with the deployment's
 * settings; its output folder is uploaded to the requested location. This controller follows the
 * child: the parent's status mirrors it, and the driver's progress lines and final summary become
 * the parent's `properties.properties` (`azureml.batch.*`), so a poller sees mini-batches done.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { asObject } from "../handlers/common";
import type { OperationManager } from "../operations";
import type { ControlPlaneSettings } from "../router";
import { childId, storeKey } from "../state/ids";
import type { Store } from "../state/store";
import {
  isTerminalJobStatus,
  JOBS_COLLECTION,
  recordCancelRequest,
  type JobError,
  type JobRunner,
  type JobStatus,
  type StoredJob,
} from "../jobs/types";

/** `properties.properties` keys of a batch scoring job (the parent). */
export const BATCH_JOB_PROPERTIES = {
  /** Marks a job as a batch endpoint invocation. */
  batchRun: "azureml.batchrun",
  endpoint: "azureml.endpointname",
  deployment: "azureml.deploymentname",
  childJob: "azureml.batch.childJobName",
  miniBatches: "azureml.batch.miniBatches",
  miniBatchesCompleted: "azureml.batch.miniBatchesCompleted",
  miniBatchesFailed: "azureml.batch.miniBatchesFailed",
  items: "azureml.batch.items",
  failedItems: "azureml.batch.failedItems",
  rows: "azureml.batch.rows",
} as const;

/** How often a running scoring job's progress is read. */
const FOLLOW_INTERVAL_IN_MS = 250;

/** What the driver printed so far: its progress lines and, at its end, the JSON summary. */
export interface ScoringProgress {
  miniBatches?: number;
  miniBatchesCompleted?: number;
  miniBatchesFailed?: number;
  items?: number;
  failedItems?: number;
  rows?: number;
  status?: string;
  error?: string;
}

/** Reads the driver's log (pure): the last progress line and the summary line, if printed. */
export function parseScoringLog(text: string): ScoringProgress {
  const progress: ScoringProgress = {};
  for (const line of text.split("\n")) {
    const start = /scoring (\d+) files in (\d+) mini-batches/.exec(line);
    if (start !== null) {
      progress.items = Number(start[1]);
      progress.miniBatches = Number(start[2]);
      progress.miniBatchesCompleted ??= 0;
    }
    const done = /mini-batches (\d+)\/(\d+) done \((\d+)\/(\d+) files, (\d+) failed\)/.exec(line);
    if (done !== null) {
      progress.miniBatchesCompleted = Number(done[1]);
      progress.miniBatches = Number(done[2]);
      progress.items = Number(done[4]);
      progress.failedItems = Number(done[5]);
    }
    const trimmed = line.trim();
    if (trimmed.startsWith('{"status"')) {
      try {
        const summary = JSON.parse(trimmed) as Record<string, unknown>;
        progress.status = String(summary.status);
        progress.miniBatches = Number(summary.mini_batches);
        progress.miniBatchesCompleted = Number(summary.mini_batches_completed);
        progress.miniBatchesFailed = Number(summary.mini_batches_failed);
        progress.items = Number(summary.items);
        progress.failedItems = Number(summary.failed_items);
        progress.rows = Number(summary.rows);
        progress.error = typeof summary.error === "string" ? summary.error : undefined;
      } catch {
        // a partial line: read again on the next turn
      }
    }
  }
  return progress;
}

/** The settings a scoring run uses: the deployment's, with what the invocation overrides. */
export interface ScoringSettings {
  scoringScript?: string;
  miniBatchSize: number;
  maxConcurrency: number;
  maxRetries: number;
  timeoutInSeconds: number;
  errorThreshold: number;
  outputAction: "append_row" | "summary_only";
  outputFileName: string;
}

/** The child job's command (pure): the driver with the settings, bound to the job's inputs. */
export function driverCommand(settings: ScoringSettings): string {
  const args = [
    "python -m azureml_emulator_batch.driver",
    "--input ${{inputs.data}}",
    "--output ${{outputs.score}}",
    "--model-dir ${{inputs.model}}",
    "--code-dir .",
    ...(settings.scoringScript === undefined
      ? []
      : [`--scoring-script ${shellQuote(settings.scoringScript)}`]),
    `--mini-batch-size ${settings.miniBatchSize}`,
    `--max-concurrency ${settings.maxConcurrency}`,
    `--max-retries ${settings.maxRetries}`,
    `--timeout-seconds ${settings.timeoutInSeconds}`,
    `--error-threshold ${settings.errorThreshold}`,
    `--output-action ${settings.outputAction}`,
    `--output-file-name ${shellQuote(settings.outputFileName)}`,
  ];
  return args.join(" ");
}

function shellQuote(value: string): string {
  return /^[\w./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Where the driver package lives, relative to this package's root: the child job's runner-only
 * PYTHONPATH (JobRunState.pythonPath), never one of the job's environment variables.
 */
export const DRIVER_PACKAGE = "emulator/batch/python";

export interface BatchScoringControllerOptions {
  store: Store;
  settings: ControlPlaneSettings;
  operations: OperationManager;
  /** The command job runner, which runs the child jobs. */
  commands: JobRunner;
  log?: (line: string) => void;
}

export interface BatchScoringController extends JobRunner {
  /** True when `name` is a batch scoring job (a parent this controller follows). */
  owns(name: string): boolean;
}

/** Follows batch scoring jobs: each parent's status and progress from its child's. */
export function createBatchScoringController(
  options: BatchScoringControllerOptions,
): BatchScoringController {
  const { store, settings, operations, commands } = options;
  const diagnostics =
    options.log ?? ((line: string) => process.stderr.write(`azureml-emulator: ${line}\n`));
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
  const followers = new Map<string, { stop: AbortController; done: Promise<void> }>();
  let closed = false;

  const childOf = (job: StoredJob): string | undefined => {
    const value = asObject(asObject(job.resource.properties).properties)[
      BATCH_JOB_PROPERTIES.childJob
    ];
    return typeof value === "string" ? value : undefined;
  };

  const setProgress = (name: string, status: JobStatus | undefined, progress: ScoringProgress) =>
    update(name, (job) => {
      const props = asObject(job.resource.properties);
      const counts: Record<string, string> = {};
      const put = (key: string, value: number | undefined) => {
        if (value !== undefined && Number.isFinite(value)) {
          counts[key] = String(value);
        }
      };
      put(BATCH_JOB_PROPERTIES.miniBatches, progress.miniBatches);
      put(BATCH_JOB_PROPERTIES.miniBatchesCompleted, progress.miniBatchesCompleted);
      put(BATCH_JOB_PROPERTIES.miniBatchesFailed, progress.miniBatchesFailed);
      put(BATCH_JOB_PROPERTIES.items, progress.items);
      put(BATCH_JOB_PROPERTIES.failedItems, progress.failedItems);
      put(BATCH_JOB_PROPERTIES.rows, progress.rows);
      job.resource.properties = {
        ...props,
        ...(status === undefined ? {} : { status }),
        properties: { ...asObject(props.properties), ...counts },
      };
    });

  /** Completes the operations waiting on an ended parent; removes it when a delete asked to. */
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
    update(name, (job) => {
      job.resource.properties = { ...asObject(job.resource.properties), status };
      job.run.endTimeUtc = new Date().toISOString();
      if (error !== undefined) {
        job.run.error = error;
      }
    });
    settle(name);
  };

  const readLog = async (child: string): Promise<string> => {
    try {
      return await fs.promises.readFile(
        path.join(commands.jobFolder(child), "user_logs", "std_log.txt"),
        "utf8",
      );
    } catch {
      return "";
    }
  };

  const follow = async (name: string, signal: AbortSignal): Promise<void> => {
    for (;;) {
      if (signal.aborted || closed) {
        return;
      }
      const parent = load(name);
      if (parent === undefined) {
        return;
      }
      const child = childOf(parent);
      const childJob = child === undefined ? undefined : load(child);
      if (child === undefined || childJob === undefined) {
        finish(name, "Failed", {
          code: "SystemError",
          message: "The scoring job's child job is gone.",
        });
        return;
      }
      const childStatus = asObject(childJob.resource.properties).status as JobStatus;
      const progress = parseScoringLog(await readLog(child));
      if (isTerminalJobStatus(childStatus)) {
        setProgress(name, undefined, progress);
        if (childStatus === "Completed") {
          finish(name, "Completed");
        } else if (childStatus === "Canceled") {
          finish(name, "Canceled", { code: "UserError", message: "The job was canceled." });
        } else {
          const cause = progress.error ?? childJob.run.error?.message ?? "the child job failed";
          finish(name, "Failed", {
            code: childJob.run.error?.code ?? "UserError",
            message: `Batch scoring job ${name} failed: ${cause} (child job ${child}; its log is user_logs/std_log.txt).`,
          });
        }
        return;
      }
      const shown: JobStatus =
        childStatus === "NotStarted" || childStatus === "Queued"
          ? "Queued"
          : childStatus === "CancelRequested"
            ? "CancelRequested"
            : "Running";
      const current = asObject(load(name)?.resource.properties).status;
      setProgress(name, current === "CancelRequested" ? undefined : shown, progress);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener("abort", done);
          resolve();
        };
        const timer = setTimeout(done, FOLLOW_INTERVAL_IN_MS);
        signal.addEventListener("abort", done, { once: true });
      });
    }
  };

  const startFollowing = (name: string) => {
    if (followers.has(name) || closed) {
      return;
    }
    const stop = new AbortController();
    const done = follow(name, stop.signal)
      .catch((error: unknown) => {
        diagnostics(`batch scoring job ${name}: following it failed: ${String(error)}`);
        finish(name, "Failed", {
          code: "SystemError",
          message: `The emulator failed while following the scoring job: ${(error as Error)?.message ?? String(error)}`,
        });
      })
      .finally(() => followers.delete(name));
    followers.set(name, { stop, done });
  };

  const owns = (name: string) =>
    asObject(asObject(load(name)?.resource.properties).properties)[
      BATCH_JOB_PROPERTIES.batchRun
    ] === "true";

  // Parents a previous emulator process left unfinished: follow their children again.
  for (const { value } of store.list<StoredJob>(JOBS_COLLECTION)) {
    const name = value.resource.name;
    if (owns(name) && !isTerminalJobStatus(asObject(value.resource.properties).status)) {
      startFollowing(name);
    } else if (owns(name)) {
      settle(name);
    }
  }

  return {
    owns,
    submit(name) {
      const parent = load(name);
      const child = parent === undefined ? undefined : childOf(parent);
      if (child !== undefined) {
        commands.submit(child);
      }
      startFollowing(name);
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
      update(name, (j) => {
        j.resource.properties = { ...asObject(j.resource.properties), status: "CancelRequested" };
      });
      const child = childOf(job);
      if (child !== undefined) {
        commands.cancel(child);
      }
      startFollowing(name);
    },
    async reset() {
      const stopping = [...followers.values()];
      stopping.forEach((f) => f.stop.abort());
      await Promise.all(stopping.map((f) => f.done));
    },
    async close() {
      closed = true;
      const stopping = [...followers.values()];
      stopping.forEach((f) => f.stop.abort());
      await Promise.all(stopping.map((f) => f.done));
    },
    jobFolder: (name) => commands.jobFolder(name),
  };
}

/** One JobRunner over the jobs runner and the batch scoring controller (parents go to the latter). */
export function withBatchScoring(jobs: JobRunner, batch: BatchScoringController): JobRunner {
  return {
    submit: (name) => (batch.owns(name) ? batch : jobs).submit(name),
    cancel: (name, operationId, cancelOptions) =>
      (batch.owns(name) ? batch : jobs).cancel(name, operationId, cancelOptions),
    async reset() {
      await batch.reset();
      await jobs.reset();
    },
    async close() {
      await batch.close();
      await jobs.close();
    },
    jobFolder: (name) => jobs.jobFolder(name),
  };
}
