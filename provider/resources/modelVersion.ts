import * as pulumi from "@pulumi/pulumi";
import { lazyProvider } from "./lazyProvider";
import { ASSET_VERSION_OUTPUT_SEEDS, type AssetVersionArgs } from "./workspaceArgs";
import type {
  AssetVersionCommonInputs,
  AssetVersionCommonOutputs,
} from "../lifecycle/assetVersion";

/** Arguments of a {@link ModelVersion}. */
export interface ModelVersionArgs extends Omit<AssetVersionArgs, "version"> {
  /**
   * A positive integer, as Azure ML requires of model versions. Defaults to the model's next free
   * integer, taken when the version is created.
   */
  readonly version?: pulumi.Input<string>;
  /** @default "custom_model" */
  readonly modelType?: pulumi.Input<"custom_model" | "mlflow_model" | "triton_model">;
  /**
   * Where the model is: a job output (`azureml://jobs/<job>/outputs/<output>[/paths/<path>]`), a
   * datastore path (`azureml://datastores/<ds>/paths/<path>` or the long form), an https URL, or a
   * local file or folder relative to the Pulumi project directory, which is uploaded to the
   * workspace's default datastore (an `mlflow_model` folder must contain an `MLmodel` file).
   */
  readonly path: pulumi.Input<string>;
  /** The model's stage, for example "Development" or "Production". */
  readonly stage?: pulumi.Input<string>;
}

/** Plain inputs the provider receives. */
export interface ModelVersionInputs extends AssetVersionCommonInputs {
  modelType?: "custom_model" | "mlflow_model" | "triton_model";
  path: string;
  stage?: string;
  fileCount?: number;
  byteCount?: number;
}

/** Outputs of a {@link ModelVersion}. */
export interface ModelVersionOutputs
  extends Omit<ModelVersionInputs, "version">, AssetVersionCommonOutputs {
  /** The URI Azure ML stores: [path] itself, or the datastore URI a local path was uploaded to. */
  modelUri: string;
  /** The job that produced the model, when [path] is a job output. */
  jobName?: string;
  uploadedBlobCount: number;
}

const modelVersionProvider = lazyProvider<ModelVersionInputs, ModelVersionOutputs>(
  "pulumi-azureml/provider/lifecycle/modelVersion",
);

/**
 * A registered model version. Content changes register a new integer version; description, tags
 * and stage update in place.
 */
export class ModelVersion extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  /** The integer version, as a string. */
  declare readonly version: pulumi.Output<string>;
  /** The version's ARM id (also this resource's id). */
  declare readonly assetId: pulumi.Output<string>;
  /** `azureml:<name>:<version>`. */
  declare readonly assetReference: pulumi.Output<string>;
  /** Same as [modelUri]. */
  declare readonly assetUri: pulumi.Output<string>;
  /** `custom_model` unless given: what a BatchDeployment checks to know an MLflow model. */
  declare readonly modelType: pulumi.Output<"custom_model" | "mlflow_model" | "triton_model">;
  declare readonly modelUri: pulumi.Output<string>;
  declare readonly jobName: pulumi.Output<string | undefined>;
  declare readonly contentHash: pulumi.Output<string>;
  declare readonly uploadedBlobCount: pulumi.Output<number>;

  /**
   * @param name The _unique_ name of the resource; also the model name unless [name] is given.
   * @param args The arguments to use to populate this resource's properties.
   * @param opts A bag of options that control this resource's behavior.
   */
  constructor(name: string, args: ModelVersionArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      modelVersionProvider,
      name,
      {
        ...ASSET_VERSION_OUTPUT_SEEDS,
        version: undefined,
        modelType: undefined,
        modelUri: undefined,
        jobName: undefined,
        uploadedBlobCount: undefined,
        fileCount: undefined,
        byteCount: undefined,
        ...args,
        name: args.name ?? name,
      },
      opts,
      "azureml",
      "ModelVersion",
    );
  }
}
