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
import type {
  InputMode,
  JobInputType,
  JobOutputType,
  OutputMode,
  JobAssetInput,
  JobOutput,
  JobDistribution,
  JobIdentity,
} from "../operations/jobs";
import type { JobWaitOptions } from "../lifecycle/job";

/** A data or model input of a {@link CommandJob}, as the Azure ML CLI's YAML writes it. */
export interface CommandJobInputArgs {
  readonly type: pulumi.Input<JobInputType>;
  /**
   * A data or model asset (`azureml:<name>:<version>`, its ARM id, or a DataVersion's or
   * ModelVersion's `assetReference`), a datastore URI (`azureml://datastores/<ds>/paths/<p>`),
   * another job's output (`azureml://jobs/<job>/outputs/<output>`) or an https URL.
   */
  readonly path: pulumi.Input<string>;
  /** @default "ReadOnlyMount" */
  readonly mode?: pulumi.Input<InputMode>;
  readonly description?: pulumi.Input<string>;
}

/** An output of a {@link CommandJob}. */
export interface CommandJobOutputArgs {
  /** @default "uri_folder" */
  readonly type?: pulumi.Input<JobOutputType>;
  /** @default "ReadWriteMount" */
  readonly mode?: pulumi.Input<OutputMode>;
  /** Where to write it; by default Azure ML picks a folder on the default datastore. */
  readonly path?: pulumi.Input<string>;
  readonly description?: pulumi.Input<string>;
}

/** Arguments of a {@link CommandJob}. */
export interface CommandJobArgs extends WorkspaceArgs, JobWaitArgs {
  /**
   * The job's name (its id in Azure ML). By default it is derived from the Pulumi resource name
   * and a hash of the whole job spec, so an unchanged spec never runs again and a changed spec
   * runs as a new job. After a failed or canceled run, the next `up` runs the spec again under
   * `<name>-r2`, `<name>-r3`, … instead of failing on the name.
   */
  readonly name?: pulumi.Input<string>;
  /** Shown in Studio; updated in place. */
  readonly displayName?: pulumi.Input<string>;
  /** The experiment the run is filed under. @default "Default" */
  readonly experimentName?: pulumi.Input<string>;
  /** Updated in place. */
  readonly description?: pulumi.Input<string>;
  /** Updated in place (Azure ML replaces a job's tags on PUT). */
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Job properties (a string map), set when the job is submitted. */
  readonly properties?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * The command, run from the code folder, with `${{inputs.<name>}}` and `${{outputs.<name>}}`
   * bindings to the declared [inputs] and [outputs].
   */
  readonly command: pulumi.Input<string>;
  /**
   * The code: a CodeVersion (or its `assetId`), a code version's ARM id or
   * `azureml:<name>:<version>`, or a local folder relative to the Pulumi project directory, which
   * is hashed and uploaded as a code version exactly as {@link CodeVersion} does it.
   */
  readonly code?: pulumi.Input<string> | pulumi.Resource;
  /**
   * The environment: an EnvironmentVersion (or its `assetId`), an environment version's ARM id,
   * `azureml:<name>:<version>`, `azureml:<name>@latest`, or a registry environment such as
   * `azureml://registries/azureml/environments/sklearn-1.5/versions/1` (curated environments).
   */
  readonly environment: pulumi.Input<string> | pulumi.Resource;
  /** The compute: a name in the workspace or an ARM id. */
  readonly compute?: pulumi.Input<string>;
  /** Inputs: a literal (string or number) or a data/model input, by name. */
  readonly inputs?: pulumi.Input<
    Record<string, pulumi.Input<string | number | CommandJobInputArgs>>
  >;
  /** Outputs by name; each is readable afterwards at `outputUris[name]`. */
  readonly outputs?: pulumi.Input<Record<string, pulumi.Input<CommandJobOutputArgs>>>;
  readonly environmentVariables?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Distributed training: `{ type: "PyTorch" | "TensorFlow" | "Mpi", ... }`. */
  readonly distribution?: pulumi.Input<{
    readonly type: pulumi.Input<string>;
    readonly processCountPerInstance?: pulumi.Input<number>;
    readonly workerCount?: pulumi.Input<number>;
    readonly parameterServerCount?: pulumi.Input<number>;
  }>;
  /** Nodes to run on. @default 1 */
  readonly instanceCount?: pulumi.Input<number>;
  /** The VM size, on computes that take one per job. */
  readonly instanceType?: pulumi.Input<string>;
  /** The job's time limit in Azure ML, an ISO 8601 duration such as `PT30M`. */
  readonly timeout?: pulumi.Input<string>;
  /** `{ jobTier: "Spot" | "Basic" | "Standard" | "Premium" }`. */
  readonly queueSettings?: pulumi.Input<{ readonly jobTier?: pulumi.Input<string> }>;
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

/** Plain inputs the provider receives (after `check`, with the derived facts filled in). */
export interface CommandJobInputs extends JobWaitOptions {
  workspaceId?: string;
  subscriptionId?: string;
  resourceGroupName?: string;
  workspaceName?: string;
  /** The Pulumi resource name, the readable part of a derived job name. */
  resourceName?: string;
  /** The job name given by the program, if any. */
  name?: string;
  displayName?: string;
  experimentName?: string;
  description?: string;
  tags?: Record<string, string>;
  properties?: Record<string, string>;
  command: string;
  code?: string;
  environment: string;
  compute?: string;
  inputs?: Record<string, string | number | JobAssetInput>;
  outputs?: Record<string, JobOutput>;
  environmentVariables?: Record<string, string>;
  distribution?: JobDistribution;
  instanceCount?: number;
  instanceType?: string;
  timeout?: string;
  queueSettings?: { jobTier?: string };
  identity?: JobIdentity;
  providerVersion?: string;
  /** sha256 of the code folder when [code] is local (the CodeVersion content hash). */
  codeHash?: string;
  /** sha256 over everything that defines the job; set by `check`. */
  specHash?: string;
  /** The job name asked for: [name], or derived from [resourceName] and [specHash]; set by `check`. */
  baseName?: string;
}

/** Outputs of a {@link CommandJob}. */
export interface CommandJobOutputs extends CommandJobInputs, JobOutputsCommon {
  name: string;
  /** `azureml://jobs/<name>/outputs/<output>` per declared output. */
  outputUris: Record<string, string>;
  /** The final value of every metric the run logged to MLflow. */
  metrics: Record<string, number>;
  /** The parameters the run logged to MLflow. */
  parameters: Record<string, string>;
}

const commandJobProvider = lazyProvider<CommandJobInputs, CommandJobOutputs>(
  "pulumi-azureml/provider/lifecycle/commandJob",
);

/**
 * An Azure ML command job that runs to completion: `pulumi up` submits it, prints each status
 * change, and fails when the job fails, with the service's error and the end of the job's log.
 * Its outputs carry the metrics and parameters the run logged to MLflow and the URIs of its
 * outputs, ready for a ModelVersion or DataVersion. An unchanged spec never runs again.
 */
export class CommandJob extends JobResource {
  declare readonly outputUris: pulumi.Output<Record<string, string>>;
  declare readonly metrics: pulumi.Output<Record<string, number>>;
  declare readonly parameters: pulumi.Output<Record<string, string>>;

  /**
   * @param name The _unique_ name of the resource; the readable part of the derived job name.
   * @param args The arguments to use to populate this resource's properties.
   * @param opts A bag of options that control this resource's behavior.
   */
  constructor(name: string, args: CommandJobArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      commandJobProvider,
      name,
      {
        ...JOB_OUTPUT_PLACEHOLDERS,
        outputUris: undefined,
        metrics: undefined,
        parameters: undefined,
        ...args,
        code: assetIdOf(args.code, "code or environment"),
        environment: assetIdOf(args.environment, "code or environment"),
        name: args.name,
        resourceName: name,
      },
      opts,
      "azureml",
      "CommandJob",
    );
  }
}
