import * as pulumi from "@pulumi/pulumi";
import { armIdOf } from "../provider/resources/batchDeployment";
import { BatchScoringJob } from "../provider/resources/batchScoringJob";
import { DataVersion } from "../provider/resources/dataVersion";
import type { WorkspaceArgs } from "../provider/resources/workspaceArgs";
import type { BatchInputType } from "../provider/operations/batch";
import type { BatchScoringService } from "./batchScoringService";
import { assetName, childName, scoringDataFailure, scoringOutputPath, workspaceOf } from "./derive";

/**
 * ScoringRunArgs describe one scoring of data by a {@link BatchScoringService}: the data (given,
 * or local and registered here) and the scoring settings. The workspace is needed only with
 * [dataPath].
 */
export interface ScoringRunArgs extends WorkspaceArgs {
  /** The service whose endpoint and deployment score the data. */
  readonly service: BatchScoringService;
  /**
   * The data to score, already in Azure ML or storage: an `azureml://datastores/<ds>/paths/<p>`
   * URI, an https URL, a data asset ({@link DataVersion}, its ARM id or
   * `azureml:<name>:<version>`). Mutually exclusive with [dataPath].
   */
  readonly input?: pulumi.Input<string> | pulumi.CustomResource;
  /**
   * Local data to score (a folder of CSV files, or one file with [inputType] `uri_file`),
   * registered as a data asset first. Mutually exclusive with [input].
   */
  readonly dataPath?: pulumi.Input<string>;
  /** The data asset's name when [dataPath] is given. Defaults to `<name>-data`. */
  readonly dataName?: pulumi.Input<string>;
  /** Whether the data is a folder of files or one file. @default "uri_folder" */
  readonly inputType?: BatchInputType;
  /** The predictions file's name. Defaults to the deployment's (`predictions.csv`). */
  readonly outputFileName?: pulumi.Input<string>;
  /** Files per `run()` call, overriding the deployment's. */
  readonly miniBatchSize?: pulumi.Input<number>;
  /** Failed files the job tolerates (-1: all), overriding the deployment's. */
  readonly errorThreshold?: pulumi.Input<number>;
  /** How long `up` waits for the scoring job to end. @default 7200 */
  readonly waitTimeoutInSeconds?: pulumi.Input<number>;
  /** Tags put on the data asset. */
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * One scoring of data by a {@link BatchScoringService}: the data ({@link DataVersion}, when it is
 * local) and a {@link BatchScoringJob} invoking the service's endpoint with its deployment, which
 * `pulumi up` waits for. The results folder is derived from the deployed model, the data and the
 * settings (a hash of them): a new model or new data scores again, an unchanged run
 * never does. A run of the same spec after a failed one writes to the same folder (the emulator
 * overwrites the predictions file; what Azure ML does with an existing one is unconfirmed).
 */
export class ScoringRun extends pulumi.ComponentResource {
  /** The data version, when [dataPath] was given. */
  public readonly data: DataVersion | undefined;
  /** The scoring job. */
  public readonly job: BatchScoringJob;
  /** The scoring job's name in Azure ML. */
  public readonly jobName: pulumi.Output<string>;
  /** The scoring job's final status. */
  public readonly status: pulumi.Output<string>;
  /** The results folder, `azureml://datastores/<ds>/paths/<p>/`. */
  public readonly outputUri: pulumi.Output<string>;
  /** The predictions file in the results folder. */
  public readonly predictionsUri: pulumi.Output<string>;
  /** The predictions file's first rows (up to 5). */
  public readonly firstRows: pulumi.Output<string[] | undefined>;
  /** The files scored. */
  public readonly items: pulumi.Output<number | undefined>;

  /**
   * @param name The _unique_ name of this component.
   * @param args The arguments to use to populate this component's children.
   * @param opts A bag of options that control this component's behavior.
   */
  constructor(name: string, args: ScoringRunArgs, opts?: pulumi.ComponentResourceOptions) {
    super("azureml:components:ScoringRun", name, {}, opts);
    const problem = scoringDataFailure(args);
    if (problem) {
      throw new pulumi.ResourceError(problem, this);
    }
    const child = { parent: this };
    const inputType = args.inputType ?? "uri_folder";

    this.data =
      args.dataPath === undefined
        ? undefined
        : new DataVersion(
            childName(name, "data"),
            {
              ...workspaceOf(args),
              name: args.dataName ?? assetName(undefined, name, "data"),
              dataType: inputType,
              path: args.dataPath,
              tags: args.tags,
            },
            child,
          );
    const input = pulumi.output(this.data ? this.data.assetId : armIdOf(args.input!));

    const service = args.service;
    const outputPath = pulumi
      .all([
        service.endpointName,
        service.deploymentName,
        service.modelId,
        input,
        args.outputFileName,
        args.miniBatchSize,
        args.errorThreshold,
      ])
      .apply(
        ([
          endpointName,
          deploymentName,
          modelId,
          data,
          outputFileName,
          miniBatchSize,
          errorThreshold,
        ]) =>
          scoringOutputPath({
            endpointName,
            deploymentName,
            modelId,
            input: data,
            inputType,
            outputFileName,
            miniBatchSize,
            errorThreshold,
          }),
      );

    this.job = new BatchScoringJob(
      childName(name, "job"),
      {
        endpoint: service.endpoint,
        deployment: service.deployment,
        input,
        inputType,
        outputPath,
        outputFileName: args.outputFileName,
        miniBatchSize: args.miniBatchSize,
        errorThreshold: args.errorThreshold,
        waitTimeoutInSeconds: args.waitTimeoutInSeconds,
      },
      child,
    );

    this.jobName = this.job.jobName;
    this.status = this.job.status;
    this.outputUri = this.job.outputUri;
    this.predictionsUri = this.job.predictionsUri;
    this.firstRows = this.job.firstRows;
    this.items = this.job.items;
    this.registerOutputs({
      jobName: this.jobName,
      status: this.status,
      outputUri: this.outputUri,
      predictionsUri: this.predictionsUri,
      firstRows: this.firstRows,
      items: this.items,
    });
  }
}
