/**
 * DataVersion lifecycle. Loaded by the provider host through
 * `await import("pulumi-azureml/provider/lifecycle/dataVersion")`.
 */
import { access } from "node:fs/promises";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { dataVersionBody } from "../operations/assets";
import type { DataVersionInputs, DataVersionOutputs } from "../resources/dataVersion";
import {
  beginAssetCheck,
  commonOutputs,
  assetDiff,
  createAssetVersion,
  deleteAssetVersion,
  putAssetVersion,
  readAssetVersion,
  settleVersion,
  versionFromContentHash,
} from "./assetVersion";
import { uploadNewToDefaultDatastore, uploadToDefaultDatastore } from "./datastoreUpload";
import { inspectPath, isCreation, localContentHash, recordContent } from "./localContent";
import { isKnown, isRemoteUri, openSession, resolveLocalPath, withoutProvider } from "./shared";

type Config = pulumi.dynamic.Config | undefined;

const DATA_TYPES = ["uri_file", "uri_folder", "mltable"] as const;

export async function check(
  olds: DataVersionInputs,
  news: DataVersionInputs,
  config?: Config,
): Promise<pulumi.dynamic.CheckResult<DataVersionInputs>> {
  const { inputs, failures } = beginAssetCheck(news, config, ["fileCount", "byteCount"]);

  if (inputs.dataType === undefined) {
    failures.add("dataType", '[dataType] is required: "uri_file", "uri_folder" or "mltable".');
  } else if (isKnown(inputs.dataType) && !DATA_TYPES.includes(inputs.dataType)) {
    failures.add(
      "dataType",
      `[dataType] must be "uri_file", "uri_folder" or "mltable", got "${inputs.dataType}".`,
    );
  }
  if (
    inputs.referencedUris !== undefined &&
    isKnown(inputs.dataType) &&
    inputs.dataType !== "mltable"
  ) {
    failures.add("referencedUris", "[referencedUris] only applies to dataType mltable.");
  }
  const expect =
    inputs.dataType === "uri_file" ? "file" : isKnown(inputs.dataType) ? "folder" : "any";
  // A resource being created has nothing to diff its content against: its local folder is hashed
  // by create while it is uploaded (one read), and the preview shows the derived values unknown.
  const content = await inspectPath(
    inputs.path,
    { dataType: inputs.dataType, referencedUris: inputs.referencedUris },
    failures,
    expect,
    "path",
    !isCreation(olds),
  );
  if (content?.local && inputs.dataType === "mltable") {
    try {
      await access(path.join(resolveLocalPath(content.path), "MLTable"));
    } catch {
      failures.add(
        "path",
        `[path] "${content.path}" has no MLTable file, which dataType mltable needs.`,
      );
    }
  }
  if (content && !failures.any && content.contentHash === undefined) {
    inputs.path = content.path; // the hash, the counts and a derived version come from create
  } else if (content && !failures.any) {
    recordContent(inputs, content);
    inputs.version = settleVersion(
      olds,
      inputs,
      content.contentHash as string,
      failures,
      `DataVersion ${inputs.name}`,
    );
  }
  return { inputs, failures: failures.list };
}

export const diff = assetDiff<DataVersionOutputs, DataVersionInputs>({
  type: "DataVersion",
  content: ["path", "dataType", "referencedUris"],
});

async function apply(
  inputs: DataVersionInputs,
  config: Config,
  stored?: { dataUri: string },
): Promise<DataVersionOutputs> {
  const session = openSession(inputs, config);
  let dataUri = stored?.dataUri ?? inputs.path;
  let uploadedBlobCount = 0;
  if (!stored && !isRemoteUri(inputs.path) && inputs.contentHash === undefined) {
    // Created without a hash from check: hashed while uploading, in one read.
    const salt = { dataType: inputs.dataType, referencedUris: inputs.referencedUris };
    const uploaded = await uploadNewToDefaultDatastore(
      session,
      resolveLocalPath(inputs.path),
      { type: "DataVersion", name: inputs.name },
      (sha256) => inputs.version ?? versionFromContentHash(localContentHash(salt, sha256)),
    );
    inputs = {
      ...inputs,
      contentHash: localContentHash(salt, uploaded.hashed.hash),
      fileCount: uploaded.hashed.fileCount,
      byteCount: uploaded.hashed.byteCount,
    };
    inputs.version ??= versionFromContentHash(inputs.contentHash as string);
    dataUri = uploaded.uri;
    uploadedBlobCount = uploaded.uploadedBlobCount;
  }
  const version = inputs.version as string;
  if (!stored && !isRemoteUri(inputs.path) && dataUri === inputs.path) {
    const uploaded = await uploadToDefaultDatastore(session, resolveLocalPath(inputs.path), {
      type: "DataVersion",
      name: inputs.name,
      version,
    });
    dataUri = uploaded.uri;
    uploadedBlobCount = uploaded.uploadedBlobCount;
  }
  const body = dataVersionBody(
    { dataType: inputs.dataType, dataUri, referencedUris: inputs.referencedUris },
    inputs,
  );
  await putAssetVersion(session, "data", inputs.name, version, body);
  return {
    ...inputs,
    ...commonOutputs(session, "data", inputs, version, dataUri),
    dataUri,
    uploadedBlobCount,
  };
}

export const create = createAssetVersion<DataVersionInputs, DataVersionOutputs>((inputs, config) =>
  apply(inputs, config),
);

export const read = readAssetVersion<DataVersionOutputs>("data");

export async function update(
  _id: string,
  olds: DataVersionOutputs,
  news: DataVersionInputs,
  config?: Config,
): Promise<pulumi.dynamic.UpdateResult<DataVersionOutputs>> {
  const outs = await apply(withoutProvider(news), config, { dataUri: olds.dataUri });
  return { outs: { ...outs, uploadedBlobCount: olds.uploadedBlobCount ?? 0 } };
}

const remove = deleteAssetVersion<DataVersionOutputs>("data");

export { remove as delete };
