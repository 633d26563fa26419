/** The variables that point an unmodified MLflow client in a job at the workspace's tracking. */

export interface TrackingEnvironmentOptions {
  /** `https://127.0.0.1:<port>`: the emulator's ARM endpoint (its HTTPS front door). */
  readonly armEndpoint: string;
  /** The tracking service's path (TrackingService.trackingPath). */
  readonly trackingPath: string;
  /** A bearer token the front door accepts (ARM or Azure ML audience). */
  readonly token: string;
  /** The emulator's CA, which the client must trust. */
  readonly caCertPath?: string;
  readonly experimentName: string;
  /** The job's name: its MLflow run id. */
  readonly runId: string;
}

/**
 * `MLFLOW_TRACKING_URI` (`https://…` + tracking path; the workspace's `azureml://` URI with the
 * scheme a plain client understands), `MLFLOW_TRACKING_TOKEN`, `MLFLOW_EXPERIMENT_NAME`,
 * `MLFLOW_RUN_ID` and, with a CA, `MLFLOW_TRACKING_SERVER_CERT_PATH`. The CA is given to MLflow
 * only, not as `REQUESTS_CA_BUNDLE`, which would make every other HTTPS host untrusted in the job.
 */
export function trackingEnvironment(options: TrackingEnvironmentOptions): Record<string, string> {
  const variables: Record<string, string> = {
    MLFLOW_TRACKING_URI: `${options.armEndpoint.replace(/\/+$/, "")}${options.trackingPath}`,
    MLFLOW_TRACKING_TOKEN: options.token,
    MLFLOW_EXPERIMENT_NAME: options.experimentName,
    MLFLOW_RUN_ID: options.runId,
  };
  if (options.caCertPath !== undefined) {
    variables.MLFLOW_TRACKING_SERVER_CERT_PATH = options.caCertPath;
  }
  return variables;
}
