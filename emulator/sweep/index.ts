/**
 * The sweep room: sweep jobs (`jobType: "Sweep"`) run by a controller of their own, their trials
 * by the command job runner. `createJobsRunner` gives the job routes one JobRunner for both.
 */
import { asObject } from "../handlers/common";
import { checkRunnable } from "../jobs/handlers";
import type { OperationManager } from "../operations";
import type { ControlPlaneSettings } from "../router";
import { childId, storeKey } from "../state/ids";
import type { Store } from "../state/store";
import type { TrackingService } from "../mlflow/types";
import { JOBS_COLLECTION, type JobRunner, type StoredJob } from "../jobs/types";
import { createSweepController, type SweepOptions } from "./controller";
import { createOptunaSamplerFactory } from "./sampler";

export { createSweepController, type SweepOptions, type TrialMetricSource } from "./controller";
export { createOptunaSamplerFactory, type SamplerFactory, type SweepSampler } from "./sampler";

export interface JobsRunnerOptions {
  store: Store;
  settings: ControlPlaneSettings;
  operations: OperationManager;
  /** The command job runner. */
  commands: JobRunner;
  sweeps?: SweepOptions;
  /** The workspace's MLflow tracking (the sweep's run, trials' metrics). */
  tracking?: TrackingService;
  nextSequence: () => number;
  log?: (line: string) => void;
}

/** One JobRunner over command jobs (the runner) and sweep jobs (the sweep controller). */
export function createJobsRunner(options: JobsRunnerOptions): JobRunner {
  const { store, settings, commands } = options;
  const refs = { store, scope: settings.scope, accountName: settings.storage.accountName };
  const sweeps = createSweepController({
    store,
    settings,
    operations: options.operations,
    runner: commands,
    sampler: options.sweeps?.sampler ?? createOptunaSamplerFactory({ log: options.log }),
    metrics: options.sweeps?.metrics,
    tracking: options.tracking,
    tickInMs: options.sweeps?.tickInMs,
    nextSequence: options.nextSequence,
    pool: (props) => checkRunnable(refs, props),
    log: options.log,
  });
  const isSweep = (name: string) =>
    asObject(
      store.get<StoredJob>(JOBS_COLLECTION, storeKey(childId(settings.scope, "jobs", name)))
        ?.resource.properties,
    ).jobType === "Sweep";
  return {
    submit: (name) => (isSweep(name) ? sweeps : commands).submit(name),
    cancel: (name, operationId, cancelOptions) =>
      (isSweep(name) ? sweeps : commands).cancel(name, operationId, cancelOptions),
    async reset() {
      await sweeps.reset();
      await commands.reset();
    },
    async close() {
      // Sweeps first: they cancel their trials through the command runner.
      await sweeps.close();
      await commands.close();
    },
    jobFolder: (name) => commands.jobFolder(name),
  };
}
