/**
 * The seam between the emulator and its MLflow room: the real MLflow tracking server (from PyPI)
 * runs behind the emulator's HTTPS front door at the workspace's tracking path, with the same
 * token check as ARM. Runs are created with the job name as their MLflow run id, as Azure ML does.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** The MLflow run of one job. */
export interface TrackingRunRequest {
  /** The MLflow run id: the job's name. */
  readonly runId: string;
  /** The job's experiment name (`Default` when the job names none). */
  readonly experimentName: string;
  /** The job's display name, as the run's name. */
  readonly runName?: string;
  readonly tags?: Readonly<Record<string, string>>;
  /** Parameters logged when the run is made (a sweep trial's hyperparameters, as Azure logs them). */
  readonly params?: Readonly<Record<string, string>>;
}

/** An MLflow run's terminal status. */
export type TrackingRunStatus = "FINISHED" | "FAILED" | "KILLED";

/** The workspace's MLflow tracking service. */
export interface TrackingService {
  /**
   * The path prefix of the workspace's tracking URI under the ARM endpoint, for example
   * `/mlflow/v1.0/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.MachineLearningServices/workspaces/<ws>`.
   * MLflow's REST API is served below it (`<trackingPath>/api/2.0/mlflow/...`).
   */
  readonly trackingPath: string;
  /** Starts the server once (in the background) and resolves when it answers `/health`. */
  ready(): Promise<void>;
  /** Creates the job's run (idempotent: an existing run with that id is kept). */
  createRun(run: TrackingRunRequest): Promise<void>;
  /** Ends the run with the given status, unless it already ended. */
  endRun(runId: string, status: TrackingRunStatus): Promise<void>;
  /**
   * The values the run logged for a metric, in step order (MLflow's metric history); [] when it
   * logged none or the run does not exist. A sweep reads its trials' primary metric through it.
   */
  metricHistory(runId: string, key: string): Promise<number[]>;
  /** True when `path` (without query) is served by this service. */
  owns(path: string): boolean;
  /** Serves one request below `trackingPath` (token already checked by the caller). Never throws. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Stops the server and its processes. */
  close(): Promise<void>;
}
