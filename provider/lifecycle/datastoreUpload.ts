/**
 * Uploads a local file or folder to the workspace's default datastore the way azure-ai-ml does for
 * data and model assets: under `LocalUpload/<md5 object hash>/<basename>`, skipping the upload when
 * the indicator blob already says `upload_status=completed`.
 */
import { createHash } from "node:crypto";
import * as path from "node:path";
import { StorageSharedKeyCredential } from "@azure/storage-blob";
import {
  blobEndpointFromDatastore,
  datastorePathUri,
  datastoresPath,
  listSecretsPath,
  STORAGE_API_VERSION,
  type DatastoreResource,
  type StorageAccountResource,
  type WorkspaceResource,
} from "../operations/datastores";
import { computeContentHash, type ContentHashResult } from "../upload/contentHash";
import {
  deleteStaging,
  openStaging,
  promoteStaged,
  pruneAbandonedStaging,
  type StagingWriter,
} from "../upload/stagedUpload";
import { readBlobMetadata, uploadFiles, uploadRetryOptions } from "../upload/blobUpload";
import {
  describeContent,
  indicatorBlob,
  indicatorMetadata,
  LEGACY_UPLOAD_FOLDER,
  UPLOAD_COMPLETED_METADATA,
  uploadPrefixFor,
} from "../upload/plan";
import { reportProgress, reportWarning, uploadProgressLines } from "./progress";
import { cachedHashing } from "./localContent";
import type { Session } from "./shared";

export interface DatastoreUploadResult {
  /** `azureml://…/datastores/<ds>/paths/LocalUpload/<md5>/<basename>[/]`. */
  uri: string;
  uploadedBlobCount: number;
}

async function defaultDatastore(session: Session): Promise<DatastoreResource> {
  const stores = await session.client.list<DatastoreResource>(
    datastoresPath(session.scope),
    "Datastores_List",
    {
      isDefault: true,
    },
  );
  const store = stores.find((s) => s.properties.isDefault);
  if (!store || store.properties.datastoreType !== "AzureBlob") {
    throw new Error(
      `The workspace ${session.scope.workspaceName} has no default Azure Blob datastore to upload to.`,
    );
  }
  return store;
}

/** The account's blob endpoint: from ARM when it is the workspace's own account, else built. */
async function blobEndpoint(session: Session, store: DatastoreResource): Promise<string> {
  const workspace = await session.client.get<WorkspaceResource>(
    session.workspace,
    "Workspaces_Get",
  );
  const accountId = workspace.properties.storageAccount;
  if (
    accountId &&
    accountId.split("/").pop()?.toLowerCase() === store.properties.accountName?.toLowerCase()
  ) {
    const account = await session.client.request<StorageAccountResource>({
      method: "GET",
      path: accountId,
      query: { "api-version": STORAGE_API_VERSION },
      operation: "StorageAccounts_GetProperties",
    });
    const blob = account.body.properties?.primaryEndpoints?.blob;
    if (blob) {
      return blob.endsWith("/") ? blob : `${blob}/`;
    }
  }
  return blobEndpointFromDatastore(store);
}

/** The account key Azure ML hands out for a datastore (`listSecrets`), or undefined when none. */
async function accountKeyOf(
  session: Session,
  store: DatastoreResource,
): Promise<string | undefined> {
  const secrets = await session.client.request<{ secretsType?: string; key?: string }>({
    method: "POST",
    path: listSecretsPath(session.scope, store.name),
    operation: "Datastores_ListSecrets",
    retryNonIdempotent: true,
  });
  return secrets.body.secretsType === "AccountKey" && secrets.body.key
    ? secrets.body.key
    : undefined;
}

/**
 * The container of a named Azure Blob datastore with its account key, for reading what Azure ML
 * wrote there (a job's log in `workspaceartifactstore`, say).
 */
export async function datastoreContainer(
  session: Session,
  datastore: string,
): Promise<{ containerUrl: string; credential: StorageSharedKeyCredential }> {
  const store = await session.client.get<DatastoreResource>(
    `${datastoresPath(session.scope)}/${encodeURIComponent(datastore)}`,
    "Datastores_Get",
  );
  const key = await accountKeyOf(session, store);
  if (key === undefined) {
    throw new Error(
      `The datastore ${datastore} exposes no account key (an identity-based datastore).`,
    );
  }
  return {
    containerUrl: `${await blobEndpoint(session, store)}${store.properties.containerName}`,
    credential: new StorageSharedKeyCredential(store.properties.accountName as string, key),
  };
}

/** The default datastore's container, with its account key and the upload options. */
async function defaultDatastoreTarget(session: Session) {
  const store = await defaultDatastore(session);
  const key = await accountKeyOf(session, store);
  if (key === undefined) {
    throw new Error(
      `The default datastore ${store.name} exposes no account key (an identity-based datastore); ` +
        "local uploads need one for now. Upload the files yourself and give an azureml:// or https path.",
    );
  }
  return {
    store,
    containerUrl: `${await blobEndpoint(session, store)}${store.properties.containerName}`,
    credential: new StorageSharedKeyCredential(store.properties.accountName as string, key),
    options: {
      caCertPath: session.settings.caCertPath,
      retryOptions: uploadRetryOptions(session.settings),
    },
  };
}

type DatastoreTarget = Awaited<ReturnType<typeof defaultDatastoreTarget>>;

export async function uploadToDefaultDatastore(
  session: Session,
  localPath: string,
  asset: { type: string; name: string; version: string },
  opened?: DatastoreTarget,
): Promise<DatastoreUploadResult> {
  const { store, containerUrl, credential, options } =
    opened ?? (await defaultDatastoreTarget(session));
  // The MD5 object hash names the folder. `check` computed it with the content hash and left it in
  // the content-hash cache, so an unchanged folder is not read again here (only stat'ed).
  const hashed = await computeContentHash(localPath, { ...cachedHashing(), objectHash: true });
  const md5 = hashed.objectHash as string;
  const basename = path.basename(localPath);
  const folder = `${LEGACY_UPLOAD_FOLDER}/${md5}/`;
  const target = {
    containerUrl,
    credential,
    prefix: `${folder}${uploadPrefixFor(basename, hashed.rootIsFile)}`,
  };
  const indicator = indicatorBlob(hashed.files.map((f) => `${target.prefix}${f.relativePath}`));
  const uri = datastorePathUri(
    session.scope,
    store.name,
    hashed.rootIsFile ? `${folder}${basename}` : `${folder}${basename}/`,
  );
  const existing = await readBlobMetadata(target, indicator, options);
  const label = `${asset.type} ${asset.name}:${asset.version}`;
  if (existing?.upload_status === UPLOAD_COMPLETED_METADATA.upload_status) {
    await reportProgress(
      `${label}: ${basename} is already on datastore ${store.name}; nothing to upload.`,
    );
    return { uri, uploadedBlobCount: 0 };
  }
  await reportProgress(
    `${label}: uploading ${describeContent({ ...hashed, hash: undefined })} to datastore ${store.name}.`,
  );
  // Blobs already complete (same size and MD5) and blocks already staged by an interrupted upload
  // are not sent again.
  const uploaded = await uploadFiles(target, hashed.files, {
    ...options,
    onProgress: uploadProgressLines(label),
    metadata: { blobName: indicator, metadata: indicatorMetadata(asset.name, asset.version) },
  });
  return { uri, uploadedBlobCount: uploaded.blobCount };
}

/** The staging prefix of a new asset's upload: fixed by the workspace, asset and local path. */
export function stagingPrefixFor(
  session: Session,
  asset: { type: string; name: string },
  localPath: string,
): string {
  const id = createHash("sha256")
    .update(`${session.workspace}\n${asset.type}\n${asset.name}\n${path.resolve(localPath)}`)
    .digest("hex")
    .slice(0, 32);
  return `${LEGACY_UPLOAD_FOLDER}/${STAGING_FOLDER}/${id}/`;
}

/** Under `LocalUpload/`, where a new asset's bytes wait while they are hashed. */
export const STAGING_FOLDER = ".staging";

/**
 * Uploads the local content of an asset being created, reading it once: hashed while it is sent to
 * a staging prefix, then copied on the service side under `LocalUpload/<md5>/` and the staging
 * blobs deleted. `versionOf` turns the content hash into the version the indicator blob records.
 * A folder the content-hash cache already names is not read when its upload folder is complete;
 * when it is not, it is read once more, to stage it.
 */
export async function uploadNewToDefaultDatastore(
  session: Session,
  localPath: string,
  asset: { type: string; name: string },
  versionOf: (sha256: string) => string,
): Promise<DatastoreUploadResult & { hashed: ContentHashResult }> {
  const opened = await defaultDatastoreTarget(session);
  const { store, containerUrl, credential, options } = opened;
  const stagingPrefix = stagingPrefixFor(session, asset, localPath);
  const staging = { containerUrl, credential, stagingPrefix };
  const label = `${asset.type} ${asset.name}`;
  await reportProgress(`${label}: hashing and uploading ${path.basename(localPath)} in one read.`);
  // The total is not known before the walk; progress lines count what was sent so far.
  const writer = await openStaging(staging, 0, { ...options });
  let hashed = await computeContentHash(localPath, {
    ...cachedHashing(),
    objectHash: true,
    tee: writer.tee,
  });
  const version = versionOf(hashed.hash);
  const md5 = hashed.objectHash as string;
  const basename = path.basename(localPath);
  const folder = `${LEGACY_UPLOAD_FOLDER}/${md5}/`;
  const finalPrefix = `${folder}${uploadPrefixFor(basename, hashed.rootIsFile)}`;
  const indicator = indicatorBlob(hashed.files.map((f) => `${finalPrefix}${f.relativePath}`));
  const uri = datastorePathUri(
    session.scope,
    store.name,
    hashed.rootIsFile ? `${folder}${basename}` : `${folder}${basename}/`,
  );
  const target = { containerUrl, credential, prefix: finalPrefix };
  const complete =
    (await readBlobMetadata(target, indicator, options))?.upload_status ===
    UPLOAD_COMPLETED_METADATA.upload_status;
  if (hashed.fromCache && !complete) {
    // The cache named the folder without a read, but its blobs are not all there: read it once
    // more to stage it (what an interrupted run staged is not sent again), recording the digests.
    const { cache } = cachedHashing();
    hashed = await computeContentHash(localPath, {
      cache: cache && {
        dir: cache.dir,
        lookup: async () => undefined,
        store: cache.store.bind(cache),
      },
      objectHash: true,
      tee: writer.tee,
    });
    if (hashed.objectHash !== md5) {
      throw new Error(`${label}: ${basename} changed while it was uploaded; run the update again.`);
    }
  } else if (complete) {
    await writer.finish();
    await deleteStaging(writer.container, stagingPrefix);
    await reportProgress(
      `${label}:${version}: ${basename} is already on datastore ${store.name}; nothing to upload.`,
    );
    await pruneAbandoned(writer, stagingPrefix, label);
    return { uri, uploadedBlobCount: 0, hashed };
  }
  await writer.finish();
  const promoted = await promoteStaged(staging, writer.container, hashed.files, finalPrefix);
  if (promoted.missing.length > 0) {
    throw new Error(
      `${label}: ${promoted.missing.length} staged blob(s) under ${stagingPrefix} were missing after the upload (first: ${promoted.missing[0].relativePath}); run the update again.`,
    );
  }
  await writer.container
    .getBlobClient(indicator)
    .setMetadata(indicatorMetadata(asset.name, version));
  await reportProgress(
    `${label}:${version}: ${describeContent({ ...hashed, hash: undefined })} on datastore ${store.name} (${promoted.copied} blobs copied from staging).`,
  );
  await pruneAbandoned(writer, stagingPrefix, label);
  return { uri, uploadedBlobCount: hashed.files.length, hashed };
}

/**
 * Removes the staging prefixes other uploads abandoned over a week ago (see
 * `pruneAbandonedStaging`). Best effort: what is left costs storage, never correctness.
 */
async function pruneAbandoned(writer: StagingWriter, keep: string, label: string): Promise<void> {
  const root = `${LEGACY_UPLOAD_FOLDER}/${STAGING_FOLDER}/`;
  try {
    const removed = await pruneAbandonedStaging(writer.container, root, { keep });
    if (removed > 0) {
      await reportProgress(
        `${label}: removed ${removed} staging blob(s) under ${root} that uploads abandoned over a week ago.`,
      );
    }
  } catch (error) {
    await reportWarning(
      `${label}: could not remove abandoned staging blobs under ${root}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
