import * as pulumi from "@pulumi/pulumi";
import { lazyProvider } from "./lazyProvider";
import { ASSET_VERSION_OUTPUT_SEEDS, type AssetVersionArgs } from "./workspaceArgs";
import type {
  AssetVersionCommonInputs,
  AssetVersionCommonOutputs,
} from "../lifecycle/assetVersion";

/** Arguments of a {@link DataVersion}. */
export interface DataVersionArgs extends AssetVersionArgs {
  /** `uri_file` (one file), `uri_folder` (a folder) or `mltable` (a folder with an `MLTable` file). */
  readonly dataType: pulumi.Input<"uri_file" | "uri_folder" | "mltable">;
  /**
   * Where the data is: an `azureml://` URI (datastore path), an https URL, or a local file or
   * folder relative to the Pulumi project directory, which is uploaded to the workspace's default
   * datastore under `LocalUpload/<hash>/` (only once per content).
   */
  readonly path: pulumi.Input<string>;
  /** For `mltable`: URIs the table references. */
  readonly referencedUris?: pulumi.Input<pulumi.Input<string>[]>;
}

/** Plain inputs the provider receives. */
export interface DataVersionInputs extends AssetVersionCommonInputs {
  dataType: "uri_file" | "uri_folder" | "mltable";
  path: string;
  referencedUris?: string[];
  /** Files in a local [path] (after ignore rules). */
  fileCount?: number;
  /** Bytes in a local [path]. */
  byteCount?: number;
}

/** Outputs of a {@link DataVersion}. */
export interface DataVersionOutputs
  extends Omit<DataVersionInputs, "version">, AssetVersionCommonOutputs {
  /** The URI Azure ML stores: [path] itself, or the datastore URI a local path was uploaded to. */
  dataUri: string;
  uploadedBlobCount: number;
}

const dataVersionProvider = lazyProvider<DataVersionInputs, DataVersionOutputs>(
  "pulumi-azureml/provider/lifecycle/dataVersion",
);

/**
 * A version of an Azure ML data asset. Versions are immutable: a content change makes a new
 * version; description and tags update in place.
 */
export class DataVersion extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  declare readonly version: pulumi.Output<string>;
  /** The version's ARM id (also this resource's id). */
  declare readonly assetId: pulumi.Output<string>;
  /** `azureml:<name>:<version>`. */
  declare readonly assetReference: pulumi.Output<string>;
  /** Same as [dataUri]. */
  declare readonly assetUri: pulumi.Output<string>;
  declare readonly dataUri: pulumi.Output<string>;
  /** sha256 over the data's content (a local path's files) or its URI. */
  declare readonly contentHash: pulumi.Output<string>;
  declare readonly uploadedBlobCount: pulumi.Output<number>;

  /**
   * @param name The _unique_ name of the resource; also the asset name unless [name] is given.
   * @param args The arguments to use to populate this resource's properties.
   * @param opts A bag of options that control this resource's behavior.
   */
  constructor(name: string, args: DataVersionArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      dataVersionProvider,
      name,
      {
        ...ASSET_VERSION_OUTPUT_SEEDS,
        version: undefined,
        dataUri: undefined,
        uploadedBlobCount: undefined,
        fileCount: undefined,
        byteCount: undefined,
        ...args,
        name: args.name ?? name,
      },
      opts,
      "azureml",
      "DataVersion",
    );
  }
}
