import type * as pulumi from "@pulumi/pulumi";

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
