import * as pulumi from "@pulumi/pulumi";
import { CodeVersion } from "../provider/resources/codeVersion";
import {
  CommandJob,
  type CommandJobInputArgs,
  type CommandJobOutputArgs,
} from "../provider/resources/commandJob";
import { DataVersion } from "../provider/resources/dataVersion";
import { EnvironmentVersion } from "../provider/resources/environmentVersion";
import type { WorkspaceArgs } from "../provider/resources/workspaceArgs";
import { assetName, childName, environmentSourceFailure, workspaceOf } from "./derive";

/**
 * TrainingRunArgs describe one training run: the code and the environment it runs in, its data,
 * and the command job that runs it to the end.
 */
export interface TrainingRunArgs extends WorkspaceArgs {
  /** The local folder of training code, relative to the Pulumi project directory. */
  readonly codePath: pulumi.Input<string>;
  /** The code asset's name. Defaults to `<name>-code`. */
  readonly codeName?: pulumi.Input<string>;
  /**
   * An environment registered elsewhere (for example by a platform stack): an
   * {@link EnvironmentVersion}, its ARM id or `azureml:<name>:<version>`. Give exactly one of
   * [environment], [image] and [buildPath].
   */
  readonly environment?: pulumi.Input<string> | EnvironmentVersion;
  /** The image of an environment registered for this run. */
  readonly image?: pulumi.Input<string>;
  /** A local Docker build context of an environment registered for this run. */
  readonly buildPath?: pulumi.Input<string>;
  /** A local conda YAML file for the environment registered for this run (with [image]). */
  readonly condaFilePath?: pulumi.Input<string>;
  /** The environment asset's name, when one is registered. Defaults to `<name>-env`. */
  readonly environmentName?: pulumi.Input<string>;
  /**
   * The training data, registered as a data asset and given to the job as the input
   * [dataInputName]: an `azureml://` URI, an https URL or a local path. No data asset without it.
   */
  readonly dataPath?: pulumi.Input<string>;
  /** @default "uri_folder" */
  readonly dataType?: pulumi.Input<"uri_file" | "uri_folder" | "mltable">;
  /** The data asset's name. Defaults to `<name>-data`. */
  readonly dataName?: pulumi.Input<string>;
  /** The job input the data is bound to (`${{inputs.<dataInputName>}}`). @default "data" */
  readonly dataInputName?: string;
  /**
   * The command, run from the code folder, with `${{inputs.<name>}}` and `${{outputs.<name>}}`
   * bindings (the data is `${{inputs.data}}` unless [dataInputName] says otherwise).
   */
  readonly command: pulumi.Input<string>;
  /** More inputs: literals (hyperparameters) or data and model inputs, by name. */
  readonly inputs?: Record<string, pulumi.Input<string | number | CommandJobInputArgs>>;
  /** The job's outputs by name, e.g. `{ model: { type: "mlflow_model" } }`. */
  readonly outputs?: pulumi.Input<Record<string, pulumi.Input<CommandJobOutputArgs>>>;
  /** The compute the job runs on: a name in the workspace or an ARM id. */
  readonly compute?: pulumi.Input<string>;
  /** The experiment the run is filed under. @default "Default" */
  readonly experimentName?: pulumi.Input<string>;
  /** Shown in Studio. */
  readonly displayName?: pulumi.Input<string>;
  /** The job's time limit, an ISO 8601 duration such as `PT30M`. */
  readonly timeout?: pulumi.Input<string>;
  readonly environmentVariables?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Tags put on the assets and the job. */
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * A training run: its code ({@link CodeVersion}), environment ({@link EnvironmentVersion}, unless
 * one is given), data ({@link DataVersion}, when given) and the {@link CommandJob} that `pulumi up`
 * runs to the end. An unchanged run never runs again; the job's metrics and output URIs are
 * outputs.
 */
export class TrainingRun extends pulumi.ComponentResource {
  /** The code version. */
  public readonly code: CodeVersion;
  /** The environment registered for this run; undefined when [environment] was given. */
  public readonly environment: EnvironmentVersion | undefined;
  /** The data version, when [dataPath] was given. */
  public readonly data: DataVersion | undefined;
  /** The command job. */
  public readonly job: CommandJob;
  /** The job's name in Azure ML. */
  public readonly jobName: pulumi.Output<string>;
  /** The job's final status. */
  public readonly status: pulumi.Output<string>;
  /** The final value of every metric the run logged to MLflow. */
  public readonly metrics: pulumi.Output<Record<string, number>>;
  /** `azureml://jobs/<name>/outputs/<output>` per declared output. */
  public readonly outputUris: pulumi.Output<Record<string, string>>;
  /** The environment the job ran in: an ARM id or a reference. */
  public readonly environmentReference: pulumi.Output<string>;

  /**
   * @param name The _unique_ name of this component.
   * @param args The arguments to use to populate this component's children.
   * @param opts A bag of options that control this component's behavior.
   */
  constructor(name: string, args: TrainingRunArgs, opts?: pulumi.ComponentResourceOptions) {
    super("azureml:components:TrainingRun", name, {}, opts);
    const problem = environmentSourceFailure(args);
    if (problem) {
      throw new pulumi.ResourceError(problem, this);
    }
    const workspace = workspaceOf(args);
    const child = { parent: this };

    this.code = new CodeVersion(
      childName(name, "code"),
      {
        ...workspace,
        name: args.codeName ?? assetName(undefined, name, "code"),
        path: args.codePath,
        tags: args.tags,
      },
      child,
    );
    this.environment =
      args.environment !== undefined
        ? undefined
        : new EnvironmentVersion(
            childName(name, "env"),
            {
              ...workspace,
              name: args.environmentName ?? assetName(undefined, name, "env"),
              image: args.image,
              build: args.buildPath === undefined ? undefined : { path: args.buildPath },
              condaFilePath: args.condaFilePath,
              tags: args.tags,
            },
            child,
          );
    this.data =
      args.dataPath === undefined
        ? undefined
        : new DataVersion(
            childName(name, "data"),
            {
              ...workspace,
              name: args.dataName ?? assetName(undefined, name, "data"),
              dataType: args.dataType ?? "uri_folder",
              path: args.dataPath,
              tags: args.tags,
            },
            child,
          );

    const inputs: Record<string, pulumi.Input<string | number | CommandJobInputArgs>> = {
      ...args.inputs,
    };
    if (this.data) {
      inputs[args.dataInputName ?? "data"] = {
        type: args.dataType ?? "uri_folder",
        path: this.data.assetReference,
      };
    }
    const environment = this.environment ?? args.environment!;
    this.job = new CommandJob(
      childName(name, "job"),
      {
        ...workspace,
        command: args.command,
        code: this.code,
        environment,
        compute: args.compute,
        inputs,
        outputs: args.outputs,
        experimentName: args.experimentName,
        displayName: args.displayName,
        timeout: args.timeout,
        environmentVariables: args.environmentVariables,
        tags: args.tags,
      },
      child,
    );

    this.jobName = this.job.name;
    this.status = this.job.status;
    this.metrics = this.job.metrics;
    this.outputUris = this.job.outputUris;
    this.environmentReference = this.job.environmentId;
    this.registerOutputs({
      jobName: this.jobName,
      status: this.status,
      metrics: this.metrics,
      outputUris: this.outputUris,
      environmentReference: this.environmentReference,
    });
  }
}
