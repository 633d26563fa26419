import * as pulumi from "@pulumi/pulumi";
import { lazyProvider } from "./lazyProvider";
import { ASSET_VERSION_OUTPUT_SEEDS, type AssetVersionArgs } from "./workspaceArgs";
import type {
  AssetVersionCommonInputs,
  AssetVersionCommonOutputs,
} from "../lifecycle/assetVersion";

/** A route of an inference server inside the image. */
export interface RouteArgs {
  readonly path: pulumi.Input<string>;
  readonly port: pulumi.Input<number>;
}

/** Arguments of an {@link EnvironmentVersion}. Give exactly one of [image] and [build]. */
export interface EnvironmentVersionArgs extends AssetVersionArgs {
  /** The container image, for example `mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest`. */
  readonly image?: pulumi.Input<string>;
  /**
   * Build the image from a Docker build context: give exactly one of [contextUri] (already in
   * storage) and [path] (a local folder, relative to the Pulumi project directory, uploaded once to
   * the workspace's default datastore).
   */
  readonly build?: pulumi.Input<{
    /** URI of the build context (an https or `azureml://` folder). */
    readonly contextUri?: pulumi.Input<string>;
    /** A local folder holding the Dockerfile and its context. */
    readonly path?: pulumi.Input<string>;
    /** Path of the Dockerfile inside the context. @default "Dockerfile" */
    readonly dockerfilePath?: pulumi.Input<string>;
  }>;
  /** The conda specification as YAML text. Mutually exclusive with [condaFilePath]. */
  readonly condaFile?: pulumi.Input<string>;
  /**
   * A local conda YAML file, relative to the Pulumi project directory; its content is read at
   * check time (so `pulumi preview` shows a change) and sent as `condaFile`.
   */
  readonly condaFilePath?: pulumi.Input<string>;
  /** @default "Linux" */
  readonly osType?: pulumi.Input<"Linux" | "Windows">;
  /** @default "Disabled" */
  readonly autoRebuild?: pulumi.Input<"Disabled" | "OnBaseImageUpdate">;
  /** Routes of the inference server, for images that serve models. */
  readonly inferenceConfig?: pulumi.Input<{
    readonly livenessRoute?: pulumi.Input<RouteArgs>;
    readonly readinessRoute?: pulumi.Input<RouteArgs>;
    readonly scoringRoute?: pulumi.Input<RouteArgs>;
  }>;
}

/** Plain inputs the provider receives. */
export interface EnvironmentVersionInputs extends AssetVersionCommonInputs {
  image?: string;
  build?: { contextUri?: string; path?: string; dockerfilePath?: string };
  condaFile?: string;
  condaFilePath?: string;
  osType?: "Linux" | "Windows";
  autoRebuild?: "Disabled" | "OnBaseImageUpdate";
  inferenceConfig?: {
    livenessRoute?: { path: string; port: number };
    readinessRoute?: { path: string; port: number };
    scoringRoute?: { path: string; port: number };
  };
}

/** Outputs of an {@link EnvironmentVersion}. */
export interface EnvironmentVersionOutputs
  extends Omit<EnvironmentVersionInputs, "version">, AssetVersionCommonOutputs {
  /** Where the build context is: [build.contextUri], or where [build.path] was uploaded. */
  buildContextUri?: string;
}

const environmentVersionProvider = lazyProvider<
  EnvironmentVersionInputs,
  EnvironmentVersionOutputs
>("pulumi-azureml/provider/lifecycle/environmentVersion");

/**
 * A version of an Azure ML environment: the image (or build context) and conda specification jobs
 * and deployments run in. Content changes create a new version; description and tags update in place.
 */
export class EnvironmentVersion extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  declare readonly version: pulumi.Output<string>;
  /** The version's ARM id (also this resource's id). */
  declare readonly assetId: pulumi.Output<string>;
  /** `azureml:<name>:<version>`. */
  declare readonly assetReference: pulumi.Output<string>;
  /** The image, or the build context URI. */
  declare readonly assetUri: pulumi.Output<string>;
  /** Where the build context is: [build.contextUri], or where [build.path] was uploaded. */
  declare readonly buildContextUri: pulumi.Output<string | undefined>;
  /** sha256 over the environment's content. */
  declare readonly contentHash: pulumi.Output<string>;
  declare readonly image: pulumi.Output<string | undefined>;
  declare readonly condaFile: pulumi.Output<string | undefined>;

  /**
   * @param name The _unique_ name of the resource; also the asset name unless [name] is given.
   * @param args The arguments to use to populate this resource's properties.
   * @param opts A bag of options that control this resource's behavior.
   */
  constructor(name: string, args: EnvironmentVersionArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      environmentVersionProvider,
      name,
      {
        ...ASSET_VERSION_OUTPUT_SEEDS,
        version: undefined,
        image: undefined,
        condaFile: undefined,
        buildContextUri: undefined,
        ...args,
        name: args.name ?? name,
      },
      opts,
      "azureml",
      "EnvironmentVersion",
    );
  }
}
