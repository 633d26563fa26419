import * as pulumi from "@pulumi/pulumi";
import { lazyProvider } from "./lazyProvider";
import {
  assetIdOf,
  JOB_OUTPUT_PLACEHOLDERS,
  JobResource,
  type JobOutputsCommon,
  type JobWaitArgs,
} from "./jobArgs";
import type { WorkspaceArgs } from "./workspaceArgs";
import type { CommandJobInputArgs, CommandJobOutputArgs } from "./commandJob";
import type { JobAssetInput, JobDistribution, JobIdentity, JobOutput } from "../operations/jobs";
import type { JobWaitOptions } from "../lifecycle/job";
import type {
  EarlyTerminationInput,
  ObjectiveInput,
  SamplingInput,
  SearchDistribution,
  SweepLimitsInput,
} from "../operations/sweep";

/**
 * What each trial of a {@link SweepJob} runs: a command job's spec whose command takes the trial's
 * hyperparameters through `${{search_space.<name>}}`.
 */
export interface SweepTrialArgs {
  /**
   * The command, run from the code folder, with `${{search_space.<name>}}` for each parameter of
   * [searchSpace] and `${{inputs.<name>}}` / `${{outputs.<name>}}` bindings to [inputs] and
   * [outputs].
   */
  readonly command: pulumi.Input<string>;
  /**
   * The code: a CodeVersion (or its `assetId`), a code version's ARM id or
   * `azureml:<name>:<version>`, or a local folder relative to the Pulumi project directory, which
   * is hashed and uploaded as a code version exactly as {@link CodeVersion} does it.
   */
  readonly code?: pulumi.Input<string> | pulumi.Resource;
  /** The environment, as a {@link CommandJob} takes it. */
  readonly environment: pulumi.Input<string> | pulumi.Resource;
  /** Inputs every trial gets: a literal (string or number) or a data/model input, by name. */
  readonly inputs?: pulumi.Input<
    Record<string, pulumi.Input<string | number | CommandJobInputArgs>>
  >;
  /** Outputs each trial writes on its own; the best trial's are at `bestTrialOutputUris`. */
  readonly outputs?: pulumi.Input<Record<string, pulumi.Input<CommandJobOutputArgs>>>;
  readonly environmentVariables?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Distributed training of each trial: `{ type: "PyTorch" | "TensorFlow" | "Mpi", ... }`. */
  readonly distribution?: pulumi.Input<{
    readonly type: pulumi.Input<string>;
    readonly processCountPerInstance?: pulumi.Input<number>;
    readonly workerCount?: pulumi.Input<number>;
    readonly parameterServerCount?: pulumi.Input<number>;
  }>;
  /** Nodes each trial runs on. @default 1 */
  readonly instanceCount?: pulumi.Input<number>;
  /** The VM size, on computes that take one per job. */
  readonly instanceType?: pulumi.Input<string>;
}

/** Arguments of a {@link SweepJob}. */
export interface SweepJobArgs extends WorkspaceArgs, JobWaitArgs {
  /**
   * The sweep's name (its id in Azure ML). By default it is derived from the Pulumi resource name
   * and a hash of the whole spec, as for a CommandJob; after a failed run the next `up` runs the
   * spec again as `<name>-r2`, `<name>-r3`, …
   */
  readonly name?: pulumi.Input<string>;
  /** Shown in Studio; updated in place. */
  readonly displayName?: pulumi.Input<string>;
  /** The experiment the sweep and its trials are filed under. @default "Default" */
  readonly experimentName?: pulumi.Input<string>;
  /** Updated in place. */
  readonly description?: pulumi.Input<string>;
  /** Updated in place. */
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Job properties (a string map), set when the sweep is submitted. */
  readonly properties?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** The metric the trials log (to MLflow) and whether to `maximize` or `minimize` it. */
  readonly objective: pulumi.Input<ObjectiveInput>;
  /**
   * How trials are sampled: `{ type: "random", rule?: "Random" | "Sobol", seed? }`,
   * `{ type: "grid" }` (choice parameters only) or `{ type: "bayesian" }` (choice, uniform and
   * quniform only; no early termination).
   */
  readonly samplingAlgorithm: pulumi.Input<SamplingInput>;
  /**
   * The hyperparameters, built with the `searchSpace` helpers:
   * `{ learning_rate: searchSpace.uniform(0.01, 0.9), boosting: searchSpace.choice("gbdt", "dart") }`.
   */
  readonly searchSpace: pulumi.Input<Record<string, pulumi.Input<SearchDistribution>>>;
  /** What each trial runs. */
  readonly trial: SweepTrialArgs;
  /** The compute the trials run on: a name in the workspace or an ARM id. */
  readonly compute?: pulumi.Input<string>;
  /**
   * `{ maxTotalTrials, maxConcurrentTrials, timeout, trialTimeout }` (durations in ISO 8601, such
   * as `PT30M`). Azure ML runs up to 1000 trials when [maxTotalTrials] is not given.
   */
  readonly limits?: pulumi.Input<SweepLimitsInput>;
  /**
   * Stops poorly performing trials: `{ type: "bandit", slackFactor | slackAmount, … }`,
   * `{ type: "medianStopping", … }` or `{ type: "truncationSelection", truncationPercentage, … }`,
   * each with `evaluationInterval` and `delayEvaluation`.
   */
  readonly earlyTermination?: pulumi.Input<EarlyTerminationInput>;
  /** `{ type: "AMLToken" | "Managed" | "UserIdentity", clientId?, objectId?, resourceId? }`. */
  readonly identity?: pulumi.Input<{
    readonly type: pulumi.Input<string>;
    readonly clientId?: pulumi.Input<string>;
    readonly objectId?: pulumi.Input<string>;
    readonly resourceId?: pulumi.Input<string>;
  }>;
  /** Bump this to force an update after upgrading this package. */
  readonly providerVersion?: pulumi.Input<string>;
}

/** A sweep's trial, plain. */
export interface SweepTrialInputs {
  command: string;
  code?: string;
  environment: string;
  inputs?: Record<string, string | number | JobAssetInput>;
  outputs?: Record<string, JobOutput>;
  environmentVariables?: Record<string, string>;
  distribution?: JobDistribution;
  instanceCount?: number;
  instanceType?: string;
}

/** Plain inputs the provider receives (after `check`, with the derived facts filled in). */
export interface SweepJobInputs extends JobWaitOptions {
  workspaceId?: string;
  subscriptionId?: string;
  resourceGroupName?: string;
  workspaceName?: string;
  /** The Pulumi resource name, the readable part of a derived sweep name. */
  resourceName?: string;
  name?: string;
  displayName?: string;
  experimentName?: string;
  description?: string;
  tags?: Record<string, string>;
  properties?: Record<string, string>;
  objective: ObjectiveInput;
  samplingAlgorithm: SamplingInput;
  searchSpace: Record<string, SearchDistribution>;
  trial: SweepTrialInputs;
  compute?: string;
  limits?: SweepLimitsInput;
  earlyTermination?: EarlyTerminationInput;
  identity?: JobIdentity;
  providerVersion?: string;
  /** sha256 of the trial's code folder when it is local; set by `check`. */
  codeHash?: string;
  /** sha256 over everything that defines the sweep; set by `check`. */
  specHash?: string;
  /** The sweep name asked for; set by `check`. */
  baseName?: string;
}

/** A sweep's trials by status. */
export interface SweepTrialCounts {
  /** Trials submitted so far. */
  total: number;
  /** Not ended yet (queued, preparing, running, …). */
  running: number;
  completed: number;
  failed: number;
  /** Canceled by the sweep's early termination policy. */
  earlyTerminated: number;
  /** Canceled otherwise (the sweep was canceled or timed out). */
  canceled: number;
}

/** A hyperparameter value, as the sampler chose it. */
export type HyperparameterValue = string | number | boolean;

/** Outputs of a {@link SweepJob}. */
export interface SweepJobOutputs extends SweepJobInputs, JobOutputsCommon {
  name: string;
  trialCounts: SweepTrialCounts;
  /** The best trial's job name (`best_child_run_id`). */
  bestTrialName?: string;
  /** The best trial's final value of the primary metric. */
  bestPrimaryMetric?: number;
  /** The hyperparameters the best trial ran with. */
  bestHyperparameters: Record<string, HyperparameterValue>;
  /** The best trial's final value of every metric it logged to MLflow. */
  bestTrialMetrics: Record<string, number>;
  /** `azureml://jobs/<best trial>/outputs/<output>` per declared output. */
  bestTrialOutputUris: Record<string, string>;
  /** The best trial's first `mlflow_model` output, ready for a ModelVersion's [path]. */
  bestModelUri?: string;
}

const sweepJobProvider = lazyProvider<SweepJobInputs, SweepJobOutputs>(
  "pulumi-azureml/provider/lifecycle/sweepJob",
);

/**
 * An Azure ML hyperparameter sweep that runs to completion: `pulumi up` submits it and follows it
 * to its end, printing the trials running, done, failed and early-terminated and the best metric
 * so far. Its outputs name the best trial, its metric, hyperparameters and output URIs (its MLflow
 * model ready for a ModelVersion). An unchanged spec never runs again.
 */
export class SweepJob extends JobResource {
  declare readonly trialCounts: pulumi.Output<SweepTrialCounts>;
  declare readonly bestTrialName: pulumi.Output<string | undefined>;
  declare readonly bestPrimaryMetric: pulumi.Output<number | undefined>;
  declare readonly bestHyperparameters: pulumi.Output<Record<string, HyperparameterValue>>;
  declare readonly bestTrialMetrics: pulumi.Output<Record<string, number>>;
  declare readonly bestTrialOutputUris: pulumi.Output<Record<string, string>>;
  declare readonly bestModelUri: pulumi.Output<string | undefined>;

  /**
   * @param name The _unique_ name of the resource; the readable part of the derived sweep name.
   * @param args The arguments to use to populate this resource's properties.
   * @param opts A bag of options that control this resource's behavior.
   */
  constructor(name: string, args: SweepJobArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      sweepJobProvider,
      name,
      {
        ...JOB_OUTPUT_PLACEHOLDERS,
        trialCounts: undefined,
        bestTrialName: undefined,
        bestPrimaryMetric: undefined,
        bestHyperparameters: undefined,
        bestTrialMetrics: undefined,
        bestTrialOutputUris: undefined,
        bestModelUri: undefined,
        ...args,
        trial: {
          ...args.trial,
          code: assetIdOf(args.trial?.code, "trial.code or trial.environment"),
          environment: assetIdOf(args.trial?.environment, "trial.code or trial.environment"),
        },
        name: args.name,
        resourceName: name,
      },
      opts,
      "azureml",
      "SweepJob",
    );
  }
}
