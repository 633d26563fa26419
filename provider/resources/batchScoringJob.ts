import * as pulumi from "@pulumi/pulumi";
import { armIdOf } from "./batchDeployment";
import { lazyProvider } from "./lazyProvider";
import type { BatchInputType } from "../operations/batch";

/** Arguments of a {@link BatchScoringJob}. */
export interface BatchScoringJobArgs {
  /** The endpoint to invoke: a {@link BatchEndpoint} or its ARM id. */
  readonly endpoint: pulumi.Input<string> | pulumi.CustomResource;
  /**
   * The deployment that scores: a {@link BatchDeployment} of the endpoint or its name, sent as
   * the `azureml-model-deployment` header. Defaults to the endpoint's default deployment.
   */
  readonly deployment?: pulumi.Input<string> | pulumi.CustomResource;
  /**
   * When no [deployment] is named: the {@link BatchEndpointDefaultDeployment} that makes one the
   * endpoint's default (or the default deployment's name). The run scores again when it names
   * another deployment, or (given the resource, with a {@link BatchDeployment}) when that
   * deployment serves another model. Mutually exclusive with [deployment].
   */
  readonly defaultDeployment?: pulumi.Input<string> | pulumi.CustomResource;
  /**
   * The model the scoring deployment serves (a {@link ModelVersion}, its ARM id or
   * `azureml:<name>:<version>`): a change scores again. Taken from [deployment] or
   * [defaultDeployment] when they are resources; give it when they are names.
   */
  readonly model?: pulumi.Input<string> | pulumi.CustomResource;
  /**
   * The data to score: an `azureml://datastores/<ds>/paths/<p>` URI, an https URL, a data asset
   * (a {@link DataVersion}, its ARM id, or `azureml:<name>:<version>`).
   */
  readonly input: pulumi.Input<string> | pulumi.CustomResource;
  /** Whether the input is a folder of files or one file. @default "uri_folder" */
  readonly inputType?: pulumi.Input<BatchInputType>;
  /**
   * The folder the results go to, `azureml://datastores/<ds>/paths/<p>/`. Azure ML wants a new
   * one per run; when omitted it is derived from what the run scores
   * (`azureml://datastores/workspaceblobstore/paths/batch/<endpoint>/<hash>/`).
   */
  readonly outputPath?: pulumi.Input<string>;
  /** The predictions file's name. @default the deployment's (`predictions.csv`) */
  readonly outputFileName?: pulumi.Input<string>;
  /** Overrides the deployment's files per `run()` call. */
  readonly miniBatchSize?: pulumi.Input<number>;
  /** Overrides the deployment's error threshold (-1 tolerates every failed file). */
  readonly errorThreshold?: pulumi.Input<number>;
  /** Overrides the deployment's retries of a failed mini-batch. */
  readonly maxRetries?: pulumi.Input<number>;
  /** Overrides the deployment's time limit of one mini-batch. */
  readonly timeoutInSeconds?: pulumi.Input<number>;
  /** Overrides the deployment's node count. */
  readonly instanceCount?: pulumi.Input<number>;
  /** The experiment the job is filed under. @default the endpoint's name */
  readonly experimentName?: pulumi.Input<string>;
  /** How long `up` waits for the scoring job to end. @default 7200 */
  readonly waitTimeoutInSeconds?: pulumi.Input<number>;
  /**
   * Bump this to force a new run after upgrading this package (a change in provider code alone
   * is never a change).
   */
  readonly providerVersion?: pulumi.Input<string>;
}

/** Plain inputs the provider receives. */
export interface BatchScoringJobInputs {
  endpointId: string;
  deploymentName?: string;
  /** With no [deploymentName]: the deployment the endpoint defaults to, which scores. */
  defaultDeploymentName?: string;
  /** The model the scoring deployment serves: a change is a new run. */
  servedModelId?: string;
  input: string;
  inputType?: BatchInputType;
  outputPath?: string;
  outputFileName?: string;
  miniBatchSize?: number;
  errorThreshold?: number;
  maxRetries?: number;
  timeoutInSeconds?: number;
  instanceCount?: number;
  experimentName?: string;
  waitTimeoutInSeconds?: number;
  providerVersion?: string;
  /**
   * Set by check: the hash of (endpoint, deployment or default deployment, served model, input,
   * output, settings) marking the run.
   */
  invocationHash?: string;
}

/** Outputs of a {@link BatchScoringJob}. */
export interface BatchScoringJobOutputs extends BatchScoringJobInputs {
  /** The scoring job's name (also its name in the ARM jobs API and the studio). */
  jobName: string;
  /** The job's ARM id. */
  jobId: string;
  /** Completed, Failed or Canceled once `up` has waited; a running status after a timeout. */
  status: string;
  /** The deployment that scored. */
  deployment: string;
  /** The results folder. */
  outputUri: string;
  /** The predictions file in it (`append_row`; absent for `summary_only`). */
  predictionsUri: string;
  miniBatches?: number;
  miniBatchesCompleted?: number;
  miniBatchesFailed?: number;
  items?: number;
  failedItems?: number;
  /** The service's error when the job did not complete. */
  error?: string;
  /** The predictions file's first rows (up to 5), read when the job completed. */
  firstRows?: string[];
}

const batchScoringJobProvider = lazyProvider<BatchScoringJobInputs, BatchScoringJobOutputs>(
  "pulumi-azureml/provider/lifecycle/batchScoringJob",
);

/**
 * One invocation of a batch endpoint: `create` POSTs to the endpoint's scoring URI (a token for
 * `https://ml.azure.com`) and waits for the scoring job, printing the mini-batches done. The run
 * is marked with a hash of what it scores, and a job with that mark is adopted instead of invoking
 * again, so a second `up` or a retry after a dropped connection starts no other job. Changed
 * inputs or settings make a new run (a replacement); destroying it cancels a running job and
 * leaves the results in storage.
 */
export class BatchScoringJob extends pulumi.dynamic.Resource {
  declare readonly jobName: pulumi.Output<string>;
  declare readonly jobId: pulumi.Output<string>;
  declare readonly status: pulumi.Output<string>;
  declare readonly deployment: pulumi.Output<string>;
  declare readonly outputUri: pulumi.Output<string>;
  declare readonly predictionsUri: pulumi.Output<string>;
  declare readonly miniBatches: pulumi.Output<number | undefined>;
  declare readonly miniBatchesCompleted: pulumi.Output<number | undefined>;
  declare readonly miniBatchesFailed: pulumi.Output<number | undefined>;
  declare readonly items: pulumi.Output<number | undefined>;
  declare readonly failedItems: pulumi.Output<number | undefined>;
  declare readonly error: pulumi.Output<string | undefined>;
  declare readonly firstRows: pulumi.Output<string[] | undefined>;

  /**
   * @param name The _unique_ name of the resource.
   * @param args The arguments to use to populate this resource's properties.
   * @param opts A bag of options that control this resource's behavior.
   */
  constructor(name: string, args: BatchScoringJobArgs, opts?: pulumi.CustomResourceOptions) {
    const { endpoint, deployment, defaultDeployment, model, input, ...rest } = args;
    const named = deployment ?? defaultDeployment;
    // What the scoring deployment serves: the model of the BatchDeployment resource given (or of
    // the one a BatchEndpointDefaultDeployment resource makes the default), else the model given.
    const served = pulumi.CustomResource.isInstance(named)
      ? servedDeploymentOf(named as pulumi.CustomResource)
      : undefined;
    super(
      batchScoringJobProvider,
      name,
      {
        jobName: undefined,
        jobId: undefined,
        status: undefined,
        deployment: undefined,
        outputUri: undefined,
        predictionsUri: undefined,
        miniBatches: undefined,
        miniBatchesCompleted: undefined,
        miniBatchesFailed: undefined,
        items: undefined,
        failedItems: undefined,
        error: undefined,
        firstRows: undefined,
        invocationHash: undefined,
        ...rest,
        endpointId: armIdOf(endpoint),
        deploymentName:
          deployment === undefined
            ? undefined
            : pulumi.CustomResource.isInstance(deployment)
              ? (deployment as unknown as { name: pulumi.Output<string> }).name
              : deployment,
        defaultDeploymentName:
          defaultDeployment === undefined
            ? undefined
            : pulumi.CustomResource.isInstance(defaultDeployment)
              ? (defaultDeployment as unknown as { deploymentName: pulumi.Output<string> })
                  .deploymentName
              : defaultDeployment,
        servedModelId: model !== undefined ? armIdOf(model) : served?.modelId,
        input: armIdOf(input),
      },
      opts,
      "azureml",
      "BatchScoringJob",
    );
  }
}

/**
 * The BatchDeployment resource behind `resource`: itself, or the deployment a
 * BatchEndpointDefaultDeployment resource was given; undefined for a deployment given by name.
 */
function servedDeploymentOf(
  resource: pulumi.CustomResource,
): { modelId: pulumi.Output<string> } | undefined {
  const fields = resource as unknown as {
    modelId?: pulumi.Output<string>;
    deploymentResource?: pulumi.CustomResource;
  };
  if (pulumi.Output.isInstance(fields.modelId)) {
    return { modelId: fields.modelId };
  }
  return fields.deploymentResource === undefined
    ? undefined
    : servedDeploymentOf(fields.deploymentResource);
}
