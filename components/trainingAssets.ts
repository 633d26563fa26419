import * as pulumi from "@pulumi/pulumi";
import { CodeVersion } from "../provider/resources/codeVersion";
import { DataVersion } from "../provider/resources/dataVersion";
import { EnvironmentVersion } from "../provider/resources/environmentVersion";
import type { WorkspaceArgs } from "../provider/resources/workspaceArgs";
import { assetName, childName } from "./derive";

/**
 * TrainingAssetsArgs describe what a training run needs registered: its code, the environment it
 * runs in, and optionally its input data.
 */
export interface TrainingAssetsArgs extends WorkspaceArgs {
  /** The local folder of training code, relative to the Pulumi project directory. */
  readonly codePath: pulumi.Input<string>;
  /** The code asset's name. Defaults to `<name>-code`. */
  readonly codeName?: pulumi.Input<string>;
  /** The environment's image. Give [image] or [buildPath]. */
  readonly image?: pulumi.Input<string>;
  /** A local Docker build context. Give [image] or [buildPath]. */
  readonly buildPath?: pulumi.Input<string>;
  /** A local conda YAML file for the environment. */
  readonly condaFilePath?: pulumi.Input<string>;
  /** The environment asset's name. Defaults to `<name>-env`. */
  readonly environmentName?: pulumi.Input<string>;
  /**
   * The training data: an `azureml://` URI, an https URL or a local path. No data asset is
   * registered when absent.
   */
  readonly dataPath?: pulumi.Input<string>;
  /** @default "uri_folder" */
  readonly dataType?: pulumi.Input<"uri_file" | "uri_folder" | "mltable">;
  /** The data asset's name. Defaults to `<name>-data`. */
  readonly dataName?: pulumi.Input<string>;
  /** Tags put on every asset. */
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * The assets of a training run — a {@link CodeVersion}, an {@link EnvironmentVersion} and
 * optionally a {@link DataVersion} — registered together, each versioned by its content.
 */
export class TrainingAssets extends pulumi.ComponentResource {
  /** The code version. */
  public readonly code: CodeVersion;
  /** The environment version. */
  public readonly environment: EnvironmentVersion;
  /** The data version, when [dataPath] was given. */
  public readonly data: DataVersion | undefined;
  /** `azureml:<name>:<version>` of the code. */
  public readonly codeReference: pulumi.Output<string>;
  /** `azureml:<name>:<version>` of the environment. */
  public readonly environmentReference: pulumi.Output<string>;
  /** `azureml:<name>:<version>` of the data, when registered. */
  public readonly dataReference: pulumi.Output<string> | undefined;

  /**
   * @param name The _unique_ name of this component.
   * @param args The arguments to use to populate this component's children.
   * @param opts A bag of options that control this component's behavior.
   */
  constructor(name: string, args: TrainingAssetsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("azureml:components:TrainingAssets", name, {}, opts);
    if ((args.image === undefined) === (args.buildPath === undefined)) {
      throw new pulumi.ResourceError("Give exactly one of [image] and [buildPath].", this);
    }
    const workspace: WorkspaceArgs = {
      workspaceId: args.workspaceId,
      subscriptionId: args.subscriptionId,
      resourceGroupName: args.resourceGroupName,
      workspaceName: args.workspaceName,
    };
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
    this.environment = new EnvironmentVersion(
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

    this.codeReference = this.code.assetReference;
    this.environmentReference = this.environment.assetReference;
    this.dataReference = this.data?.assetReference;
    this.registerOutputs({
      codeReference: this.codeReference,
      environmentReference: this.environmentReference,
      dataReference: this.dataReference,
    });
  }
}
