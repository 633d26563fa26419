/**
 * ModelVersion lifecycle. Model versions are positive integers: when none is given, the model's
 * next free integer is taken on create, and a version already registered with the same content
 * (recorded in its properties) is adopted instead of registering a duplicate. Loaded by the
 * provider host through `await import("pulumi-azureml/provider/lifecycle/modelVersion")`.
 */
import { access } from "node:fs/promises";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { isAzureMlRestError } from "../core/errors";
import {
  assetContainerPath,
  assetVersionsPath,
  modelVersionBody,
  type AssetVersionResource,
  type ModelType,
} from "../operations/assets";
import type { ModelVersionInputs, ModelVersionOutputs } from "../resources/modelVersion";
import {
  beginAssetCheck,
  commonOutputs,
  assetDiff,
  deleteAssetVersion,
  putAssetVersion,
  readAssetVersion,
  settleVersion,
} from "./assetVersion";
import { uploadNewToDefaultDatastore, uploadToDefaultDatastore } from "./datastoreUpload";
import { inspectPath, isCreation, localContentHash, recordContent } from "./localContent";
import {
  isKnown,
  isRemoteUri,
  openSession,
  resolveLocalPath,
  withoutProvider,
  type Session,
} from "./shared";

type Config = pulumi.dynamic.Config | undefined;

const MODEL_TYPES: readonly ModelType[] = ["custom_model", "mlflow_model", "triton_model"];

/** Property recording the content a version was registered from, so re-creates adopt it. */
export const CONTENT_HASH_PROPERTY = "pulumi-azureml.contentHash";

/** The job name of an `azureml://jobs/<job>/outputs/<output>` path. */
export function jobNameOf(uri: string): string | undefined {
  return /^azureml:\/\/jobs\/([^/]+)\/outputs\//i.exec(uri)?.[1];
}

export async function check(
  olds: ModelVersionInputs,
  news: ModelVersionInputs,
  config?: Config,
): Promise<pulumi.dynamic.CheckResult<ModelVersionInputs>> {
  // Model versions are judged below: positive integers, not the general version rule.
  const { inputs, failures } = beginAssetCheck(news, config, ["fileCount", "byteCount"], {
    judgeVersion: false,
  });

  if (
    inputs.version !== undefined &&
    isKnown(inputs.version) &&
    !/^[1-9]\d{0,9}$/.test(String(inputs.version))
  ) {
    failures.add(
      "version",
      `[version] "${inputs.version}" is not a positive integer; Azure ML model versions are integers.`,
    );
  }
  inputs.modelType ??= "custom_model";
  if (isKnown(inputs.modelType) && !MODEL_TYPES.includes(inputs.modelType)) {
    failures.add(
      "modelType",
      `[modelType] must be one of ${MODEL_TYPES.join(", ")}, got "${inputs.modelType}".`,
    );
  }
  // A model being created is hashed by create while it is uploaded (one read of a local folder).
  const content = await inspectPath(
    inputs.path,
    { modelType: inputs.modelType },
    failures,
    "any",
    "path",
    !isCreation(olds),
  );
  if (content?.local && inputs.modelType === "mlflow_model") {
    const folder = resolveLocalPath(content.path);
    try {
      await access(path.join(folder, "MLmodel"));
    } catch {
      failures.add(
        "path",
        `[path] "${content.path}" has no MLmodel file, which modelType mlflow_model needs.`,
      );
    }
  }
  if (content && !failures.any && content.contentHash === undefined) {
    inputs.path = content.path; // the hash and the counts come from create
  } else if (content && !failures.any) {
    recordContent(inputs, content);
    if (inputs.version !== undefined) {
      inputs.version = settleVersion(
        olds,
        inputs,
        content.contentHash as string,
        failures,
        `ModelVersion ${inputs.name}`,
      );
    }
  }
  return { inputs, failures: failures.list };
}

export const diff = assetDiff<ModelVersionOutputs, ModelVersionInputs>({
  type: "ModelVersion",
  content: ["path", "modelType"],
  update: ["stage"],
  // An omitted version means "the next free integer", not a change from the one taken.
  versionIsIdentity: (news) => news.version !== undefined,
});

/** A non-archived version already registered from the same content, if any. */
async function findSameContent(
  session: Session,
  inputs: ModelVersionInputs,
): Promise<AssetVersionResource | undefined> {
  const versions = await session.client.list<AssetVersionResource>(
    assetVersionsPath(session.scope, "models", inputs.name),
    "ModelVersions_List",
  );
  return versions.find(
    (v) =>
      v.properties.properties?.[CONTENT_HASH_PROPERTY] === inputs.contentHash &&
      v.properties.isArchived !== true,
  );
}

async function nextVersion(session: Session, name: string): Promise<number> {
  const container = await session.client.getOrUndefined<{
    properties: { nextVersion?: string | null; latestVersion?: string | null };
  }>(assetContainerPath(session.scope, "models", name), "ModelContainers_Get");
  const next = Number(
    container?.properties.nextVersion ?? Number(container?.properties.latestVersion ?? 0) + 1,
  );
  return Number.isInteger(next) && next > 0 ? next : 1;
}

async function register(
  session: Session,
  inputs: ModelVersionInputs,
  modelUri: string,
  version: string,
) {
  const body = modelVersionBody(
    {
      modelType: inputs.modelType ?? "custom_model",
      modelUri,
      jobName: jobNameOf(modelUri),
      stage: inputs.stage,
    },
    {
      ...inputs,
      properties: {
        ...(inputs.properties ?? {}),
        [CONTENT_HASH_PROPERTY]: inputs.contentHash as string,
      },
    },
  );
  await putAssetVersion(session, "models", inputs.name, version, body);
}

async function resolveModelUri(session: Session, inputs: ModelVersionInputs, version: string) {
  if (isRemoteUri(inputs.path)) {
    return { modelUri: inputs.path, uploadedBlobCount: 0 };
  }
  const uploaded = await uploadToDefaultDatastore(session, resolveLocalPath(inputs.path), {
    type: "ModelVersion",
    name: inputs.name,
    version,
  });
  return { modelUri: uploaded.uri, uploadedBlobCount: uploaded.uploadedBlobCount };
}

function outputsOf(
  session: Session,
  inputs: ModelVersionInputs,
  version: string,
  modelUri: string,
  uploadedBlobCount: number,
) {
  const jobName = jobNameOf(modelUri);
  return {
    ...inputs,
    ...commonOutputs(session, "models", inputs, version, modelUri),
    modelUri,
    ...(jobName ? { jobName } : {}),
    uploadedBlobCount,
  };
}

export async function create(
  news: ModelVersionInputs,
  config?: Config,
): Promise<pulumi.dynamic.CreateResult<ModelVersionOutputs>> {
  const inputs = withoutProvider(news);
  const session = openSession(inputs, config);
  let staged: { modelUri: string; uploadedBlobCount: number } | undefined;
  if (!isRemoteUri(inputs.path) && inputs.contentHash === undefined) {
    // Created without a hash from check: hashed while uploading, in one read. The indicator blob
    // records the version this model is about to take (an adopted version keeps its own).
    const provisional = inputs.version ?? String(await nextVersion(session, inputs.name));
    const uploaded = await uploadNewToDefaultDatastore(
      session,
      resolveLocalPath(inputs.path),
      { type: "ModelVersion", name: inputs.name },
      () => provisional,
    );
    inputs.contentHash = localContentHash({ modelType: inputs.modelType }, uploaded.hashed.hash);
    inputs.fileCount = uploaded.hashed.fileCount;
    inputs.byteCount = uploaded.hashed.byteCount;
    staged = { modelUri: uploaded.uri, uploadedBlobCount: uploaded.uploadedBlobCount };
  }
  if (inputs.version === undefined) {
    const existing = await findSameContent(session, inputs);
    const modelUri = existing?.properties.modelUri;
    if (existing && typeof modelUri === "string") {
      // Adopted: PUT again so its description, tags, stage and properties are this resource's
      // (an identical PUT is accepted; only mutable fields can differ, the content being the same).
      const version = existing.id.split("/").pop() as string;
      await register(session, inputs, modelUri, version);
      const outs = outputsOf(session, inputs, version, modelUri, 0);
      return { id: outs.assetId, outs };
    }
  }
  // Two stacks may race for the next integer: a conflict means it was just taken, so try the next.
  let version = inputs.version ?? String(await nextVersion(session, inputs.name));
  const { modelUri, uploadedBlobCount } =
    staged ?? (await resolveModelUri(session, inputs, version));
  for (let attempt = 0; ; attempt++) {
    try {
      await register(session, inputs, modelUri, version);
      break;
    } catch (error) {
      const taken =
        isAzureMlRestError((error as Error).cause) ||
        /already exists/.test((error as Error).message);
      if (inputs.version !== undefined || !taken || attempt >= 4) {
        throw error;
      }
      version = String(Number(version) + 1);
    }
  }
  const outs = outputsOf(session, inputs, version, modelUri, uploadedBlobCount);
  return { id: outs.assetId, outs };
}

export const read = readAssetVersion<ModelVersionOutputs>("models");

export async function update(
  _id: string,
  olds: ModelVersionOutputs,
  news: ModelVersionInputs,
  config?: Config,
): Promise<pulumi.dynamic.UpdateResult<ModelVersionOutputs>> {
  const inputs = withoutProvider(news);
  const session = openSession(inputs, config);
  await register(session, inputs, olds.modelUri, olds.version);
  return {
    outs: outputsOf(
      session,
      { ...inputs, version: olds.version },
      olds.version,
      olds.modelUri,
      olds.uploadedBlobCount ?? 0,
    ),
  };
}

const remove = deleteAssetVersion<ModelVersionOutputs>("models");

export { remove as delete };
