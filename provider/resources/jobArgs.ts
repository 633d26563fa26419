import * as pulumi from "@pulumi/pulumi";

/**
 * How `pulumi up` waits for a job resource ({@link CommandJob}, {@link SweepJob}) and what
 * destroying it does. These options only change the stack's state: a change to any of them never
 * runs the job again.
 */
export interface JobWaitArgs {
  /**
   * Wait for the job (a sweep: the sweep and its trials) to end before the resource is created.
   * Without waiting, the outputs hold the status at submission, and metrics are read on the next
   * refresh.
   * @default true
   */
  readonly waitForCompletion?: pulumi.Input<boolean>;
  /**
   * Stop waiting after this long (the job keeps running, and the next `up` waits for it again).
   * @default 86400 (24 hours)
   */
  readonly waitTimeoutInSeconds?: pulumi.Input<number>;
  /** Shortest wait between status polls. @default 2 */
  readonly minPollIntervalInSeconds?: pulumi.Input<number>;
  /** Longest wait between status polls. @default 60 */
  readonly maxPollIntervalInSeconds?: pulumi.Input<number>;
  /**
   * Fail the update when the job ends Failed or Canceled, with the service's error and the end of
   * the job's log (a sweep's: its trials by status and its last failed trial's log; a single
   * failed trial does not fail a sweep). When false, the resource is created with that status.
   * @default true
   */
  readonly failOnJobFailure?: pulumi.Input<boolean>;
  /**
   * What destroying the resource does after canceling a job that has not ended (a sweep's running
   * trials are canceled with it): `"archive"` (hide it from job lists; Azure ML keeps job
   * history), `"retain"`, or `"delete"`.
   * @default "archive"
   */
  readonly onDelete?: pulumi.Input<"archive" | "retain" | "delete">;
}

/** What every job resource outputs ({@link CommandJob}, {@link SweepJob}) besides its inputs. */
export interface JobOutputsCommon {
  /** The name the job runs under (the asked-for name, or `<name>-rN` after failed runs). */
  name: string;
  /** The job's ARM id (also this resource's id). */
  jobId: string;
  /** NotStarted, Queued, Preparing, Running, Finalizing, Completed, Failed or Canceled. */
  status: string;
  studioUrl: string;
  startTime?: string;
  endTime?: string;
  /** Seconds from start to end. */
  durationInSeconds?: number;
  /** The code version the job ran (registered from a local folder, or as given). */
  codeId?: string;
  /** The environment the job ran, as sent to Azure ML. */
  environmentId: string;
  computeId?: string;
  /** The service's error when the job failed (with failOnJobFailure false, or after a refresh). */
  error?: string;
}

/**
 * The outputs of {@link JobOutputsCommon} (and `specHash`) as the property bag declares them: unknown
 * until the provider sets them.
 */
export const JOB_OUTPUT_PLACEHOLDERS = {
  jobId: undefined,
  status: undefined,
  studioUrl: undefined,
  startTime: undefined,
  endTime: undefined,
  durationInSeconds: undefined,
  codeId: undefined,
  environmentId: undefined,
  computeId: undefined,
  specHash: undefined,
  error: undefined,
} as const;

/**
 * An EnvironmentVersion or CodeVersion given as a resource becomes its ARM id; `properties` names
 * where it was given, for the error.
 */
export function assetIdOf(
  value: pulumi.Input<string> | pulumi.Resource | undefined,
  properties: string,
): pulumi.Input<string> | undefined {
  if (pulumi.Resource.isInstance(value)) {
    const assetId = (value as unknown as { assetId?: pulumi.Output<string> }).assetId;
    if (assetId === undefined) {
      throw new TypeError(
        `A resource given as ${properties} must be a CodeVersion or an EnvironmentVersion.`,
      );
    }
    return assetId;
  }
  return value;
}

/** The outputs every job resource declares ({@link JobOutputsCommon}, and `specHash`). */
export abstract class JobResource extends pulumi.dynamic.Resource {
  /** The job's name in Azure ML. */
  declare readonly name: pulumi.Output<string>;
  /** The job's ARM id (also this resource's id). */
  declare readonly jobId: pulumi.Output<string>;
  declare readonly status: pulumi.Output<string>;
  declare readonly studioUrl: pulumi.Output<string>;
  declare readonly startTime: pulumi.Output<string | undefined>;
  declare readonly endTime: pulumi.Output<string | undefined>;
  declare readonly durationInSeconds: pulumi.Output<number | undefined>;
  declare readonly codeId: pulumi.Output<string | undefined>;
  declare readonly environmentId: pulumi.Output<string>;
  declare readonly computeId: pulumi.Output<string | undefined>;
  declare readonly specHash: pulumi.Output<string>;
  declare readonly error: pulumi.Output<string | undefined>;
}
