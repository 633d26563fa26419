/**
 * CodeVersion lifecycle: hash locally in `check` (no network, so `pulumi preview` shows content
 * changes), reuse a version with the same hash, else upload through `startPendingUpload` the way
 * azure-ai-ml does, then PUT the version. Loaded by the provider host through
 * `await import("pulumi-azureml/provider/lifecycle/codeVersion")`.
 */
import { stat } from "node:fs/promises";
import { isDeepStrictEqual } from "node:util";
import type * as pulumi from "@pulumi/pulumi";
import {
  assetVersionsPath,
  codeVersionBody,
  HASH_PROPERTY,
  parseAssetVersionPath,
  pendingUploadIdFor,
  pendingUploadRequest,
  startPendingUploadPath,
  type AssetVersionResource,
  type PendingUploadResponse,
} from "../operations/assets";
import { computeContentHash, CONTENT_HASH_VERSION } from "../upload/contentHash";
import { uploadFiles, uploadRetryOptions } from "../upload/blobUpload";
import {
  codeUriFor,
  describeContent,
  indicatorBlob,
  indicatorMetadata,
  uploadPrefixFor,
} from "../upload/plan";
import { reportProgress, uploadProgressLines } from "./progress";
import { cachedHashing } from "./localContent";
import type { CodeVersionInputs, CodeVersionOutputs } from "../resources/codeVersion";
import {
  beginAssetCheck,
  commonOutputs,
  assetDiff,
  createAssetVersion,
  deleteAssetVersion,
  fingerprint,
  putAssetVersion,
  readAssetVersion,
  settleVersion,
} from "./assetVersion";
import {
  isKnown,
  openSession,
  pathFailure,
  resolveLocalPath,
  sasFailure,
  toProjectRelative,
  UNKNOWN,
  withoutProvider,
  type Session,
} from "./shared";

type Config = pulumi.dynamic.Config | undefined;

export async function check(
  olds: CodeVersionInputs,
  news: CodeVersionInputs,
  config?: Config,
): Promise<pulumi.dynamic.CheckResult<CodeVersionInputs>> {
  const { inputs, failures } = beginAssetCheck(news, config, [
    "fileCount",
    "byteCount",
    "ignoredCount",
    "ignoreFile",
  ]);

  let contentHash = UNKNOWN;
  if ((inputs.path === undefined) === (inputs.codeUri === undefined)) {
    failures.add(
      "path",
      "Give exactly one of [path] (a local folder to upload) and [codeUri] (code already in storage).",
    );
  } else if (inputs.codeUri !== undefined) {
    if (isKnown(inputs.codeUri)) {
      const sas = sasFailure(inputs.codeUri, "codeUri");
      if (!/^https:\/\//i.test(inputs.codeUri)) {
        failures.add("codeUri", `[codeUri] must be an https blob URI, got "${inputs.codeUri}".`);
      } else if (sas) {
        failures.add("codeUri", sas);
      } else {
        contentHash = fingerprint({ codeUri: inputs.codeUri });
      }
    }
  } else if (isKnown(inputs.path)) {
    const local = resolveLocalPath(inputs.path as string);
    try {
      await stat(local);
      const hashed = await computeContentHash(local, cachedHashing());
      contentHash = hashed.hash;
      inputs.fileCount = hashed.fileCount;
      inputs.byteCount = hashed.byteCount;
      inputs.ignoredCount = hashed.ignoredCount;
      inputs.ignoreFile = hashed.ignoreSource;
    } catch (error) {
      failures.add("path", pathFailure(inputs.path as string, error));
    }
    inputs.path = toProjectRelative(inputs.path as string);
  }
  if (!failures.any) {
    inputs.contentHash = contentHash;
    inputs.version = settleVersion(
      olds,
      inputs,
      contentHash,
      failures,
      `CodeVersion ${inputs.name}`,
    );
  }
  return { inputs, failures: failures.list };
}

// [codeUri] is content too, through contentHash; when [path] is given it is an output, not an input.
export const diff = assetDiff<CodeVersionOutputs, CodeVersionInputs>({
  type: "CodeVersion",
  content: ["path"],
});

/** Code versions whose content hash equals ours, anywhere in the workspace ("regardless of name"). */
async function findByHash(
  session: Session,
  name: string,
  contentHash: string,
): Promise<AssetVersionResource[]> {
  return session.client.list<AssetVersionResource>(
    assetVersionsPath(session.scope, "codes", name),
    "CodeVersions_List",
    {
      hash: contentHash,
      hashVersion: String(CONTENT_HASH_VERSION),
    },
  );
}

interface Placed {
  codeUri: string;
  uploadedBlobCount: number;
  /** True when the very version we want already exists with this content. */
  adopted: boolean;
}

async function placeCode(
  session: Session,
  inputs: CodeVersionInputs,
  version: string,
): Promise<Placed> {
  if (inputs.codeUri !== undefined) {
    return { codeUri: inputs.codeUri, uploadedBlobCount: 0, adopted: false };
  }
  const contentHash = inputs.contentHash as string;
  const matches = (await findByHash(session, inputs.name, contentHash)).filter(
    (m) =>
      m.properties?.properties?.[HASH_PROPERTY] === contentHash &&
      typeof m.properties.codeUri === "string",
  );
  const same = matches.find((m) => {
    const parsed = parseAssetVersionPath(m.id);
    return parsed?.name === inputs.name && parsed.version === version;
  });
  const label = `CodeVersion ${inputs.name}:${version}`;
  if (same) {
    await reportProgress(
      `${label}: already in the workspace with the same content; nothing to upload.`,
    );
    return {
      codeUri: same.properties.codeUri as string,
      uploadedBlobCount: 0,
      adopted: isUnchanged(same, inputs),
    };
  }
  if (matches.length > 0) {
    await reportProgress(
      `${label}: reusing the code uploaded for ${matches[0].id.split("/codes/")[1] ?? matches[0].id} (same sha256); nothing to upload.`,
    );
    return {
      codeUri: matches[0].properties.codeUri as string,
      uploadedBlobCount: 0,
      adopted: false,
    };
  }
  return upload(session, inputs, version);
}

/** Adopting skips the PUT only when description and tags already match. */
function isUnchanged(existing: AssetVersionResource, inputs: CodeVersionInputs): boolean {
  const live = existing.properties;
  const liveProperties = live.properties ?? {};
  const sameProperties = Object.entries(inputs.properties ?? {}).every(
    ([key, value]) => liveProperties[key] === value,
  );
  return (
    (live.description ?? undefined) === inputs.description &&
    isDeepStrictEqual(live.tags ?? {}, inputs.tags ?? {}) &&
    sameProperties &&
    live.isArchived !== true
  );
}

/** The container name: the last segment of the SAS URL's path. */
function containerOf(containerSasUrl: string): string {
  return decodeURIComponent(
    new URL(containerSasUrl).pathname.split("/").filter(Boolean).pop() ?? "",
  );
}

async function upload(
  session: Session,
  inputs: CodeVersionInputs,
  version: string,
): Promise<Placed> {
  // The same id for the same content: a re-run after an interrupted upload gets the container it
  // was filling, and uploadFiles skips the blobs (and blocks) already complete there.
  const pendingUploadId = pendingUploadIdFor(
    session.workspace,
    inputs.name,
    version,
    inputs.contentHash as string,
  );
  const pending = await session.client.request<PendingUploadResponse>({
    method: "POST",
    path: startPendingUploadPath(session.scope, inputs.name, version),
    body: pendingUploadRequest(pendingUploadId),
    operation: "CodeVersions_CreateOrGetStartPendingUpload",
    // Asking twice for a pending upload is harmless: it only hands out a fresh SAS.
    retryNonIdempotent: true,
  });
  const reference = pending.body.blobReferenceForConsumption;
  const sasUri = reference?.credential?.sasUri;
  const blobUri = reference?.blobUri;
  if (!sasUri || !blobUri) {
    throw new Error(
      `CodeVersions_CreateOrGetStartPendingUpload returned no SAS URI for ${inputs.name}:${version}.`,
    );
  }
  const local = resolveLocalPath(inputs.path as string);
  const hashed = await computeContentHash(local, cachedHashing());
  if (hashed.hash !== inputs.contentHash) {
    throw new Error(
      `The code in "${inputs.path}" changed between preview and update (sha256 ${inputs.contentHash} → ${hashed.hash}); run the update again.`,
    );
  }
  await reportProgress(
    `CodeVersion ${inputs.name}:${version}: uploading ${describeContent(hashed)} from ${inputs.path}.`,
  );
  // As azure-ai-ml: blobs at the SAS container's root as <folder>/<relative path>, and the first
  // blob in SDK order marked upload_status=completed with the asset's name and version.
  const prefix = uploadPrefixFor(hashed.rootName, hashed.rootIsFile);
  const uploaded = await uploadFiles({ containerSasUrl: sasUri, prefix }, hashed.files, {
    caCertPath: session.settings.caCertPath,
    retryOptions: uploadRetryOptions(session.settings),
    onProgress: uploadProgressLines(`CodeVersion ${inputs.name}:${version}`),
    metadata: {
      blobName: indicatorBlob(hashed.files.map((f) => `${prefix}${f.relativePath}`)),
      metadata: indicatorMetadata(inputs.name, version),
    },
  });
  const relative = hashed.rootIsFile ? hashed.files[0].relativePath : hashed.rootName;
  return {
    codeUri: codeUriFor(blobUri, containerOf(sasUri), relative),
    uploadedBlobCount: uploaded.blobCount,
    adopted: false,
  };
}

async function apply(
  inputs: CodeVersionInputs,
  config: Config,
  placed?: Placed,
): Promise<CodeVersionOutputs> {
  const session = openSession(inputs, config);
  const version = inputs.version as string;
  const where = placed ?? (await placeCode(session, inputs, version));
  if (!where.adopted) {
    const body = codeVersionBody(
      {
        codeUri: where.codeUri,
        contentHash: inputs.path !== undefined ? inputs.contentHash : undefined,
        hashVersion: CONTENT_HASH_VERSION,
      },
      inputs,
    );
    await putAssetVersion(session, "codes", inputs.name, version, body);
  }
  return {
    ...inputs,
    ...commonOutputs(session, "codes", inputs, version, where.codeUri),
    codeUri: where.codeUri,
    ...(inputs.path !== undefined ? { hashVersion: CONTENT_HASH_VERSION } : {}),
    uploadedBlobCount: where.uploadedBlobCount,
  };
}

export const create = createAssetVersion<CodeVersionInputs, CodeVersionOutputs>((inputs, config) =>
  apply(inputs, config),
);

/**
 * Registers checked code-version inputs exactly as `create` does (reusing an upload with the same
 * hash, else uploading through startPendingUpload), for resources that take a local code folder,
 * such as CommandJob. `inputs.contentHash` and `inputs.version` must be set.
 */
export function registerCode(
  inputs: CodeVersionInputs,
  config?: Config,
): Promise<CodeVersionOutputs> {
  return apply(withoutProvider(inputs), config);
}

export const read = readAssetVersion<CodeVersionOutputs>("codes");

export async function update(
  _id: string,
  olds: CodeVersionOutputs,
  news: CodeVersionInputs,
  config?: Config,
): Promise<pulumi.dynamic.UpdateResult<CodeVersionOutputs>> {
  // Same content (else diff replaces): re-PUT the stored codeUri with the new description and tags.
  const inputs = withoutProvider(news);
  return {
    outs: await apply(inputs, config, {
      codeUri: olds.codeUri,
      uploadedBlobCount: 0,
      adopted: false,
    }),
  };
}

const remove = deleteAssetVersion<CodeVersionOutputs>("codes");

export { remove as delete };
