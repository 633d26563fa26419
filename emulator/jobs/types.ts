/**
 * The jobs room's seams: what the job routes store, and the runner they call. The routes own the
 * ARM side (validation, the stored resource, operations); the runner owns the processes and moves
 * a stored job through NotStarted → Queued → Preparing → Running → Finalizing → Completed | Failed
 * | Canceled as the real work happens.
 */
import type { StoredResource } from "../handlers/common";
import type { EnvironmentBuilder } from "../envs/types";
import type { TrackingService } from "../mlflow/types";
import type { SweepOptions } from "../sweep/controller";

export const JOBS_COLLECTION = "jobs";

/** Azure ML job statuses the emulator reports (a subset of the swagger's `JobStatus`). */
export type JobStatus =
  | "NotStarted"
  | "Queued"
  | "Preparing"
  | "Running"
  | "Finalizing"
  | "CancelRequested"
  | "Completed"
  | "Failed"
  | "Canceled";

export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ["Completed", "Failed", "Canceled"];

export function isTerminalJobStatus(status: unknown): boolean {
  return TERMINAL_JOB_STATUSES.includes(status as JobStatus);
}

/** A job's error as Run History reports it (`error.error.{code,message}`). */
export interface JobError {
  code: string;
  message: string;
}

/** What the emulator keeps about a job's run, beside the ARM resource (never served on ARM). */
export interface JobRunState {
  /** The pool the job takes nodes from: a compute's store key, or `serverless`. */
  pool: string;
  /** Nodes the job occupies while it runs. */
  nodes: number;
  /** When it started Running / reached a terminal status (ISO 8601). */
  startTimeUtc?: string;
  endTimeUtc?: string;
  error?: JobError;
  /** Set by a cancel or delete; the runner ends the job as Canceled. */
  cancelRequested?: boolean;
  /** Set by a delete: the record goes once the job has ended. */
  deleteRequested?: boolean;
  /** The sweep job this job is a trial of. */
  parent?: string;
  /**
   * The emulator's own Python packages the job imports (e.g. the batch scoring driver), as
   * folders relative to this package's root (`emulator/batch/python`): the runner puts them first
   * on the job's PYTHONPATH. Kept here, not in the job's `environmentVariables`, so the job a
   * client reads shows only the variables that were sent, and no path of this machine.
   */
  pythonPath?: string[];
  /**
   * The input holding an MLflow model whose own dependency files make the job's environment (a
   * batch deployment of an MLflow model without an environment, as Azure builds one); the job
   * then has no `environmentId`.
   */
  environmentFromModel?: string;
  /** Operations (cancel, delete) that complete when the job reaches a terminal status. */
  waitingOperations?: string[];
}

export interface StoredJob extends StoredResource {
  run: JobRunState;
}

/**
 * Records a cancel (or delete) on a stored job: the operation waits for the job's end, a delete
 * also removes the record then, and a job not ended yet is asked to stop. Command jobs and sweeps
 * share this bookkeeping; each then stops its own work.
 */
export function recordCancelRequest(
  job: StoredJob,
  operationId: string | undefined,
  deleteAfter: boolean,
): void {
  job.run.waitingOperations = [
    ...(job.run.waitingOperations ?? []),
    ...(operationId === undefined ? [] : [operationId]),
  ];
  job.run.deleteRequested = (job.run.deleteRequested ?? false) || deleteAfter;
  const status = (job.resource.properties as { status?: unknown } | undefined)?.status;
  if (!isTerminalJobStatus(status)) {
    job.run.cancelRequested = true;
  }
}

/** Options for the jobs room, given to createControlPlane. */
export interface JobsOptions {
  /** Builds (or reuses) a job's Python environment. Without it, jobs fail while Preparing. */
  readonly environments?: EnvironmentBuilder;
  /** The workspace's MLflow tracking; without it no MLflow variables are set and no run is made. */
  readonly tracking?: TrackingService;
  /**
   * The blob endpoint the runner itself uses (account URL, e.g. Azurite's own
   * `http://127.0.0.1:<port>/devstoreaccount1`). @default the control plane's storage.blobEndpoint
   */
  readonly blobEndpoint?: string;
  /** The CA a job's HTTPS clients must trust to reach the emulator (MLflow). */
  readonly caCertPath?: string;
  /**
   * Where job folders live. @default `<dataDir>/jobs` with a data dir, else a temporary folder
   * removed on close
   */
  readonly workDir?: string;
  /** Time between SIGTERM and SIGKILL when a job is canceled or times out. @default 5000 */
  readonly killGraceInMs?: number;
  /** How often a running job's log is uploaded to the artifact store. @default 2000 */
  readonly logUploadIntervalInMs?: number;
  /** Nodes of the serverless pool (jobs without computeId). @default 2 */
  readonly serverlessNodes?: number;
  /** How sweep jobs sample and read their trials' metrics. */
  readonly sweeps?: SweepOptions;
  /** Emulator diagnostics (one line each). @default stderr */
  readonly log?: (line: string) => void;
}

/** What the job routes call. */
export interface JobRunner {
  /** A job was stored as NotStarted: queue it on its pool. */
  submit(name: string): void;
  /**
   * Cancel (or, with `deleteAfter`, cancel then remove) a stored job; `operationId`, when given,
   * completes when it has ended (a sweep cancels its trials without one).
   */
  cancel(name: string, operationId?: string, options?: { deleteAfter?: boolean }): void;
  /** Kills every job and forgets every queue (control-plane reset). Records are left to the caller. */
  reset(): Promise<void>;
  /** Kills running jobs, waits for them, and removes a temporary work folder. */
  close(): Promise<void>;
  /** Where a job's files live on this machine (for diagnostics and tests). */
  jobFolder(name: string): string;
}
