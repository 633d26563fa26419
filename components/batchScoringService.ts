import * as pulumi from "@pulumi/pulumi";
import {
  BatchDeployment,
  type BatchRetrySettingsArgs,
} from "../provider/resources/batchDeployment";
import { BatchEndpoint } from "../provider/resources/batchEndpoint";
import { BatchEndpointDefaultDeployment } from "../provider/resources/batchEndpointDefaultDeployment";
import type { CodeVersion } from "../provider/resources/codeVersion";
import type { EnvironmentVersion } from "../provider/resources/environmentVersion";
import type { ModelVersion } from "../provider/resources/modelVersion";
import type { WorkspaceArgs } from "../provider/resources/workspaceArgs";
import type { OutputAction } from "../provider/operations/batch";
import { childName, scoringCodeFailure, workspaceOf } from "./derive";

/**
 * BatchScoringServiceArgs describe a batch endpoint serving one model: the endpoint, the
 * deployment that scores with the model, and that deployment as the endpoint's default.
 */
export interface BatchScoringServiceArgs extends WorkspaceArgs {
  /**
   * The endpoint's name (3 to 32 letters, digits and single dashes, starting with a letter;
   * unique in the workspace's region). Defaults to the component's name.
   */
  readonly endpointName?: pulumi.Input<string>;
  /** The deployment's name, same rules. @default "blue" */
  readonly deploymentName?: pulumi.Input<string>;
  /** The model: a {@link ModelVersion}, its ARM id or `azureml:<name>:<version>`. */
  readonly model: pulumi.Input<string> | ModelVersion;
  /**
   * The scoring script's code: a {@link CodeVersion}, its ARM id or `azureml:<name>:<version>`.
   * Give it with [scoringScript]; leave both out for an MLflow model.
   */
  readonly code?: pulumi.Input<string> | CodeVersion;
  /** The scoring script's path inside [code] (it defines `init()` and `run(mini_batch)`). */
  readonly scoringScript?: pulumi.Input<string>;
  /** The scoring environment; required with a scoring script, optional for an MLflow model. */
  readonly environment?: pulumi.Input<string> | EnvironmentVersion;
  /** The compute cluster scoring jobs run on: its name or ARM id. */
  readonly compute: pulumi.Input<string>;
  /** Nodes per scoring job (changing it replaces the deployment). @default 1 */
  readonly instanceCount?: pulumi.Input<number>;
  /** Parallel scoring processes per node. @default 1 */
  readonly maxConcurrencyPerInstance?: pulumi.Input<number>;
  /** Files per `run()` call. @default 10 */
  readonly miniBatchSize?: pulumi.Input<number>;
  /** Failed files a job tolerates before failing; -1 tolerates all. @default -1 */
  readonly errorThreshold?: pulumi.Input<number>;
  readonly retrySettings?: pulumi.Input<BatchRetrySettingsArgs>;
  /** @default "append_row" */
  readonly outputAction?: pulumi.Input<OutputAction>;
  /** @default "predictions.csv" */
  readonly outputFileName?: pulumi.Input<string>;
  /** A description of the endpoint and the deployment. */
  readonly description?: pulumi.Input<string>;
  /** Tags put on the endpoint and the deployment. */
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * A batch scoring service: a {@link BatchEndpoint}, a {@link BatchDeployment} of the model, and a
 * {@link BatchEndpointDefaultDeployment} making it the endpoint's default. A new model updates the
 * deployment; a changed scoring script or instance count replaces it, and it is made the default
 * again.
 */
export class BatchScoringService extends pulumi.ComponentResource {
  public readonly endpoint: BatchEndpoint;
  public readonly deployment: BatchDeployment;
  public readonly defaultDeployment: BatchEndpointDefaultDeployment;
  /** The endpoint's name in Azure ML. */
  public readonly endpointName: pulumi.Output<string>;
  /** The deployment's name. */
  public readonly deploymentName: pulumi.Output<string>;
  /** Where scoring jobs are invoked. */
  public readonly scoringUri: pulumi.Output<string>;
  /** The model the deployment scores with (its ARM id). */
  public readonly modelId: pulumi.Output<string>;

  /**
   * @param name The _unique_ name of this component.
   * @param args The arguments to use to populate this component's children.
   * @param opts A bag of options that control this component's behavior.
   */
  constructor(name: string, args: BatchScoringServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("azureml:components:BatchScoringService", name, {}, opts);
    const problem = scoringCodeFailure(args);
    if (problem) {
      throw new pulumi.ResourceError(problem, this);
    }
    const child = { parent: this };

    this.endpoint = new BatchEndpoint(
      childName(name, "endpoint"),
      {
        ...workspaceOf(args),
        name: args.endpointName ?? name,
        description: args.description,
        tags: args.tags,
      },
      child,
    );
    this.deployment = new BatchDeployment(
      childName(name, "deployment"),
      {
        endpoint: this.endpoint,
        name: args.deploymentName ?? "blue",
        model: args.model,
        codeConfiguration:
          args.code === undefined
            ? undefined
            : { code: args.code, scoringScript: args.scoringScript! },
        environment: args.environment,
        compute: args.compute,
        instanceCount: args.instanceCount,
        maxConcurrencyPerInstance: args.maxConcurrencyPerInstance,
        miniBatchSize: args.miniBatchSize,
        errorThreshold: args.errorThreshold,
        retrySettings: args.retrySettings,
        outputAction: args.outputAction,
        outputFileName: args.outputFileName,
        description: args.description,
        tags: args.tags,
      },
      child,
    );
    this.defaultDeployment = new BatchEndpointDefaultDeployment(
      childName(name, "default"),
      { endpoint: this.endpoint, deployment: this.deployment },
      child,
    );

    this.endpointName = this.endpoint.name;
    this.deploymentName = this.deployment.name;
    this.scoringUri = this.endpoint.scoringUri;
    this.modelId = (this.deployment as unknown as { modelId: pulumi.Output<string> }).modelId;
    this.registerOutputs({
      endpointName: this.endpointName,
      deploymentName: this.deploymentName,
      scoringUri: this.scoringUri,
      modelId: this.modelId,
    });
  }
}
