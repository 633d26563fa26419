import * as pulumi from "@pulumi/pulumi";
import { lazyProvider } from "./lazyProvider";
import { ASSET_VERSION_OUTPUT_SEEDS, type AssetVersionArgs } from "./workspaceArgs";
import type {
  AssetVersionCommonInputs,
  AssetVersionCommonOutputs,
} from "../lifecycle/assetVersion";

/** Arguments of a {@link CodeVersion}. Give exactly one of [path] and [codeUri]. */
export interface CodeVersionArgs extends AssetVersionArgs {
  /**
   * A local folder (or file), relative to the Pulumi project directory. It is hashed the way the
   * Azure ML SDK hashes code (sha256, hash version 202208), honouring a root `.amlignore`, else
   * `.gitignore`, and always skipping `.git`; it is uploaded only when no code version with the
   * same hash exists in the workspace.
   */
  readonly path?: pulumi.Input<string>;
  /** An existing blob URI of the code; nothing is uploaded. */
  readonly codeUri?: pulumi.Input<string>;
}

/** Plain inputs the provider receives (after `check`, with the content facts filled in). */
export interface CodeVersionInputs extends AssetVersionCommonInputs {
  path?: string;
  codeUri?: string;
  /** Files hashed and uploaded. */
  fileCount?: number;
  /** Bytes hashed and uploaded. */
  byteCount?: number;
  /** Entries skipped by the ignore file. */
  ignoredCount?: number;
  /** Which ignore file applied: ".amlignore", ".gitignore" or "none". */
  ignoreFile?: string;
}

/** Outputs of a {@link CodeVersion}. */
export interface CodeVersionOutputs
  extends Omit<CodeVersionInputs, "version">, AssetVersionCommonOutputs {
  codeUri: string;
  /** The SDK's hash version, 202208. */
  hashVersion?: number;
  /** Blobs written by the last create (0 when a version with the same hash was reused). */
  uploadedBlobCount: number;
}

const codeVersionProvider = lazyProvider<CodeVersionInputs, CodeVersionOutputs>(
  "pulumi-azureml/provider/lifecycle/codeVersion",
);

/**
 * A version of Azure ML code: a local folder hashed and uploaded as the Azure ML SDK does it, or
 * an existing blob URI. An unchanged folder is never uploaded twice.
 */
export class CodeVersion extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  declare readonly version: pulumi.Output<string>;
  /** The version's ARM id (also this resource's id). */
  declare readonly assetId: pulumi.Output<string>;
  /** `azureml:<name>:<version>`. */
  declare readonly assetReference: pulumi.Output<string>;
  /** The blob URI of the code (same as [codeUri]). */
  declare readonly assetUri: pulumi.Output<string>;
  declare readonly codeUri: pulumi.Output<string>;
  /** The SDK-compatible sha256 content hash (hash version 202208). */
  declare readonly contentHash: pulumi.Output<string>;
  declare readonly hashVersion: pulumi.Output<number>;
  declare readonly fileCount: pulumi.Output<number>;
  declare readonly byteCount: pulumi.Output<number>;
  declare readonly ignoredCount: pulumi.Output<number>;
  declare readonly uploadedBlobCount: pulumi.Output<number>;

  /**
   * @param name The _unique_ name of the resource; also the asset name unless [name] is given.
   * @param args The arguments to use to populate this resource's properties.
   * @param opts A bag of options that control this resource's behavior.
   */
  constructor(name: string, args: CodeVersionArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      codeVersionProvider,
      name,
      {
        ...ASSET_VERSION_OUTPUT_SEEDS,
        version: undefined,
        codeUri: undefined,
        hashVersion: undefined,
        fileCount: undefined,
        byteCount: undefined,
        ignoredCount: undefined,
        uploadedBlobCount: undefined,
        ...args,
        name: args.name ?? name,
      },
      opts,
      "azureml",
      "CodeVersion",
    );
  }
}
