/**
 * Uploads walked files to a blob container with `@azure/storage-blob`, as the Azure ML SDK does
 * for code assets: through the container SAS that `startPendingUpload` returns, or with a
 * datastore credential (account key from `listSecrets`, or a token credential).
 *
 * One bounded pool of requests covers the whole upload: a small file is one request; a file above
 * `singleShotLimitInBytes` is one request per block plus the commit, so `concurrency` bounds what
 * is in flight, whatever the mix of sizes. Files are streamed from disk, never held in memory.
 * The storage client retries transient faults itself (its exponential policy); we only set how
 * many tries and how long one try may take.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import * as fs from "node:fs/promises";
import type { TokenCredential } from "@azure/identity";
import type { StorageSharedKeyCredential } from "@azure/storage-blob";
import { BlobUploadError } from "./errors";
import { createLimiter } from "./limiter";
import { sortBlobNames } from "./plan";
import type { WalkedFile } from "./walk";
import { trustedCertificates } from "../core/trust";

/** Where blobs go. Blob names are `prefix + relativePath`. */
export type UploadTarget =
  | {
      /** A container URL with a SAS query, e.g. from `startPendingUpload`. */
      readonly containerSasUrl: string;
      /** Prepended to each relative path, e.g. `"src/"` or `"LocalUpload/<md5>/src/"`. */
      readonly prefix: string;
    }
  | {
      /** A container URL without a SAS, e.g. a datastore's container. */
      readonly containerUrl: string;
      /** An account key credential (from the datastore's `listSecrets`) or a token credential. */
      readonly credential: StorageSharedKeyCredential | TokenCredential;
      readonly prefix: string;
    };

/** Progress of a whole upload. */
export interface UploadProgress {
  /** Bytes sent, plus bytes found already in place (`skippedBytes`). */
  readonly loadedBytes: number;
  readonly totalBytes: number;
  /** Bytes not sent because the blob or block was already complete. */
  readonly skippedBytes: number;
  readonly completedBlobCount: number;
  readonly blobCount: number;
}

/** Retry settings passed to the storage client's own retry policy. */
export interface UploadRetryOptions {
  /** Attempts per request, the first included. @default 4 */
  readonly maxTries?: number;
  /**
   * Time one attempt may take. It must cover sending the largest request (a single-shot file or a
   * block) on a slow link. @default 600000 (10 minutes)
   */
  readonly tryTimeoutInMs?: number;
  /** First delay between attempts; the storage client's default applies when unset. */
  readonly retryDelayInMs?: number;
  /** Largest delay between attempts; the storage client's default applies when unset. */
  readonly maxRetryDelayInMs?: number;
}

/** Options of {@link uploadFiles}. */
export interface UploadOptions {
  /** Requests in flight at once, across all files and blocks. @default 8 */
  readonly concurrency?: number;
  /** Block size for files above `singleShotLimitInBytes`. @default 8 MiB */
  readonly blockSizeInBytes?: number;
  /** Files up to this size go in one request; larger ones in blocks. @default 32 MiB */
  readonly singleShotLimitInBytes?: number;
  readonly abortSignal?: AbortSignal;
  readonly onProgress?: (progress: UploadProgress) => void;
  /**
   * A PEM file with an extra CA to trust for TLS (e.g. the emulator's), added to Node's bundled
   * roots rather than replacing them.
   */
  readonly caCertPath?: string;
  /**
   * Metadata to set on one uploaded blob once every blob is in place, e.g. the SDK's indicator
   * `{upload_status: "completed", name, version}` on the first blob in SDK order.
   */
  readonly metadata?: { readonly blobName: string; readonly metadata: Record<string, string> };
  readonly retryOptions?: UploadRetryOptions;
}

/** A file to upload; with its base64 MD5 (from the content hash) the upload can resume. */
export type UploadFile = WalkedFile & { readonly md5?: string };

/** The storage client's retry options from the provider's settings (the ARM transport's). */
export function uploadRetryOptions(settings: {
  readonly maxRetries: number;
  readonly retryDelayInMs: number;
  readonly maxRetryDelayInMs: number;
  readonly requestTimeoutInMs: number;
}): UploadRetryOptions {
  return {
    maxTries: settings.maxRetries + 1,
    retryDelayInMs: settings.retryDelayInMs,
    maxRetryDelayInMs: settings.maxRetryDelayInMs,
    tryTimeoutInMs: settings.requestTimeoutInMs,
  };
}

/** What {@link uploadFiles} uploaded. */
export interface UploadResult {
  readonly blobCount: number;
  readonly byteCount: number;
  /** Blobs already complete with the same size and MD5, not sent again. */
  readonly skippedBlobCount: number;
  /** Bytes not sent again: whole blobs skipped and blocks already staged. */
  readonly skippedByteCount: number;
  /** Blob names in code-point order. */
  readonly blobNames: string[];
}

const MiB = 1024 * 1024;
const DEFAULT_CONCURRENCY = 8;
const DEFAULT_BLOCK_SIZE_IN_BYTES = 8 * MiB;
const DEFAULT_SINGLE_SHOT_LIMIT_IN_BYTES = 32 * MiB;
const DEFAULT_MAX_TRIES = 4;
const DEFAULT_TRY_TIMEOUT_IN_MS = 10 * 60 * 1000;
/** Service limits of block blobs. */
const MAX_BLOCKS_PER_BLOB = 50_000;
const MAX_BLOCK_SIZE_IN_BYTES = 4000 * MiB;

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer; got ${value}.`);
  }
  return value;
}

/** Block IDs must have the same length within a blob; six digits cover the 50,000-block limit. */
function blockId(index: number): string {
  return Buffer.from(`block-${String(index).padStart(6, "0")}`).toString("base64");
}

/**
 * The ID of a block named by its content: index and MD5 (39 bytes, the same length for every block
 * of a blob, under the 64-byte limit), so an uncommitted block with this ID holds these bytes.
 */
export function contentBlockId(index: number, md5Hex: string): string {
  return Buffer.from(`${String(index).padStart(6, "0")}-${md5Hex}`).toString("base64");
}

/** Reads `length` bytes at `offset` into `into` (when given and large enough) or a new buffer. */
async function readRange(
  file: string,
  offset: number,
  length: number,
  into?: Buffer,
): Promise<Buffer> {
  const handle = await fs.open(file, "r");
  try {
    const buffer =
      into !== undefined && into.length >= length
        ? into.subarray(0, length)
        : Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(buffer, done, length - done, offset + done);
      if (bytesRead === 0) {
        throw new Error(`"${file}" is shorter than when it was hashed.`);
      }
      done += bytesRead;
    }
    return buffer;
  } finally {
    await handle.close();
  }
}

function changedSinceHashed(file: WalkedFile): Error {
  return new Error(
    `"${file.relativePath}" changed since it was hashed; nothing of it was committed. Run the ` +
      "update again once the folder is no longer being written to.",
  );
}

/** Node's codes for a server certificate that no trusted CA vouches for. */
const UNTRUSTED_CERTIFICATE_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
]);

/** Removes SAS signatures from text that may echo a URL. */
export function redactSas(text: string): string {
  return text.replace(/([?&]sig=)[^&\s"']+/gi, "$1REDACTED");
}

function toUploadError(blobName: string, e: unknown, action = "Uploading"): BlobUploadError {
  const err = e as {
    name?: string;
    message?: string;
    statusCode?: number;
    code?: string;
    details?: { errorCode?: string; requestId?: string };
    response?: { headers?: { get(name: string): string | undefined } };
  };
  const storageErrorCode = err.details?.errorCode ?? err.code;
  const requestId = err.details?.requestId ?? err.response?.headers?.get("x-ms-request-id");
  const status =
    err.statusCode !== undefined
      ? ` (HTTP ${err.statusCode}${storageErrorCode ? ` ${storageErrorCode}` : ""})`
      : "";
  let reason = redactSas(String(err.message ?? e).split("\n")[0]);
  if (err.code !== undefined && UNTRUSTED_CERTIFICATE_CODES.has(err.code)) {
    reason +=
      " (to trust a private CA such as the emulator's, set caCertPath / AZUREML_CA_CERT_PATH)";
  }
  return new BlobUploadError(blobName, `${action} blob "${blobName}" failed${status}: ${reason}`, {
    statusCode: err.statusCode,
    storageErrorCode,
    requestId,
    cause: e,
  });
}

/**
 * Loaded on first use: hashing during `pulumi preview` never pays for the storage client. In a
 * CommonJS module `import()` loads the package's ES build, so the types below come from it too.
 */
const loadStorage = () => import("@azure/storage-blob");
export type StorageModule = Awaited<ReturnType<typeof loadStorage>>;
export type LoadedContainerClient = InstanceType<StorageModule["ContainerClient"]>;
type LoadedBlockBlobClient = ReturnType<LoadedContainerClient["getBlockBlobClient"]>;
type LoadedPipelineOptions = NonNullable<Parameters<StorageModule["newPipeline"]>[1]>;

function isTokenCredential(credential: unknown): credential is TokenCredential {
  return typeof (credential as TokenCredential).getToken === "function";
}

/**
 * The storage pipeline recognises a shared key with `instanceof`, and the caller's credential may
 * come from the other build (CommonJS) of the package, so it is rebuilt from the loaded one.
 */
export function toLoadedCredential(
  storage: StorageModule,
  credential: StorageSharedKeyCredential | TokenCredential,
): InstanceType<StorageModule["StorageSharedKeyCredential"]> | TokenCredential {
  if (isTokenCredential(credential)) {
    return credential;
  }
  if (credential instanceof storage.StorageSharedKeyCredential) {
    return credential;
  }
  const key = (credential as unknown as { accountKey?: unknown }).accountKey;
  if (typeof credential.accountName !== "string" || !Buffer.isBuffer(key)) {
    throw new TypeError("credential must be a StorageSharedKeyCredential or a TokenCredential.");
  }
  return new storage.StorageSharedKeyCredential(credential.accountName, key.toString("base64"));
}

export async function createContainerClient(
  target: UploadTarget,
  options: Pick<UploadOptions, "caCertPath" | "retryOptions">,
): Promise<LoadedContainerClient> {
  const storage = await loadStorage();
  const retry = options.retryOptions ?? {};
  const pipelineOptions: LoadedPipelineOptions & {
    tlsOptions?: { ca: string[] };
  } = {
    retryOptions: {
      maxTries: retry.maxTries ?? DEFAULT_MAX_TRIES,
      tryTimeoutInMs: retry.tryTimeoutInMs ?? DEFAULT_TRY_TIMEOUT_IN_MS,
      retryDelayInMs: retry.retryDelayInMs,
      maxRetryDelayInMs: retry.maxRetryDelayInMs,
    },
    userAgentOptions: { userAgentPrefix: "pulumi-azureml" },
  };
  if (options.caCertPath) {
    // The storage pipeline passes unknown options on to core-rest-pipeline, whose TLS policy
    // gives `ca` to the https agent; the same list the ARM transport trusts.
    pipelineOptions.tlsOptions = { ca: await trustedCertificates(options.caCertPath) };
  }
  if ("containerSasUrl" in target) {
    const pipeline = storage.newPipeline(new storage.AnonymousCredential(), pipelineOptions);
    return new storage.ContainerClient(target.containerSasUrl, pipeline);
  }
  const pipeline = storage.newPipeline(
    toLoadedCredential(storage, target.credential),
    pipelineOptions,
  );
  return new storage.ContainerClient(target.containerUrl, pipeline);
}

/**
 * Uploads `files` to `target`, overwriting blobs of the same name, then sets `options.metadata`.
 *
 * @throws BlobUploadError for the first blob that fails after the storage client's retries; the
 *   other requests are cancelled.
 * @throws the abort reason when `options.abortSignal` fires.
 */
export async function uploadFiles(
  target: UploadTarget,
  files: readonly UploadFile[],
  options: UploadOptions = {},
): Promise<UploadResult> {
  const concurrency = positiveInteger("concurrency", options.concurrency ?? DEFAULT_CONCURRENCY);
  const requestedBlockSize = positiveInteger(
    "blockSizeInBytes",
    options.blockSizeInBytes ?? DEFAULT_BLOCK_SIZE_IN_BYTES,
  );
  const singleShotLimit = positiveInteger(
    "singleShotLimitInBytes",
    options.singleShotLimitInBytes ?? DEFAULT_SINGLE_SHOT_LIMIT_IN_BYTES,
  );
  if (target.prefix.startsWith("/")) {
    throw new TypeError(`prefix must not start with "/"; got "${target.prefix}".`);
  }
  const items = files.map((file) => ({ file, blobName: `${target.prefix}${file.relativePath}` }));
  const blobNames = sortBlobNames(items.map((i) => i.blobName));
  if (new Set(blobNames).size !== blobNames.length) {
    throw new TypeError("Two files map to the same blob name; relative paths must be unique.");
  }
  if (options.metadata && !blobNames.includes(options.metadata.blobName)) {
    throw new RangeError(
      `metadata.blobName "${options.metadata.blobName}" is not one of the uploaded blobs.`,
    );
  }
  options.abortSignal?.throwIfAborted();

  const container = await createContainerClient(target, options);
  const stop = new AbortController(); // cancels the other requests after the first failure
  const signal = options.abortSignal
    ? AbortSignal.any([options.abortSignal, stop.signal])
    : stop.signal;
  const limit = createLimiter(concurrency);

  const totalBytes = items.reduce((sum, i) => sum + i.file.size, 0);
  let doneBytes = 0; // bytes of finished requests, and bytes found in place
  let skippedBytes = 0;
  let skippedBlobCount = 0;
  const inFlightBytes = new Map<object, number>();
  let completedBlobCount = 0;
  const report = (): void => {
    if (!options.onProgress) {
      return;
    }
    let loadedBytes = doneBytes;
    for (const value of inFlightBytes.values()) {
      loadedBytes += value;
    }
    options.onProgress({
      loadedBytes,
      totalBytes,
      skippedBytes,
      completedBlobCount,
      blobCount: items.length,
    });
  };

  /** Runs one request in the pool, tracking its progress. */
  const request = <T>(
    bytes: number,
    send: (onProgress: (e: { loadedBytes: number }) => void) => Promise<T>,
  ): Promise<T> =>
    limit(async () => {
      signal.throwIfAborted();
      const key = {};
      inFlightBytes.set(key, 0);
      try {
        const result = await send((e) => {
          inFlightBytes.set(key, e.loadedBytes);
          report();
        });
        doneBytes += bytes;
        return result;
      } finally {
        inFlightBytes.delete(key);
      }
    });

  const skip = (bytes: number): void => {
    doneBytes += bytes;
    skippedBytes += bytes;
  };

  // Block buffers are reused: at most `concurrency` are in use at once (one per request in
  // flight), so memory stays at concurrency x block size however many blocks the files hold,
  // instead of leaving a fresh 8 MiB buffer per block for the garbage collector to find.
  const freeBlockBuffers: Buffer[] = [];
  const takeBlockBuffer = (length: number): Buffer | undefined =>
    length <= requestedBlockSize
      ? (freeBlockBuffers.pop() ?? Buffer.allocUnsafeSlow(requestedBlockSize))
      : undefined; // a block of a huge file, larger than the usual size: not pooled
  const giveBlockBuffer = (buffer: Buffer | undefined): void => {
    if (buffer !== undefined && freeBlockBuffers.length < concurrency) {
      freeBlockBuffers.push(buffer);
    }
  };

  const blockSizeFor = (file: WalkedFile): number =>
    Math.min(
      Math.max(requestedBlockSize, Math.ceil(file.size / MAX_BLOCKS_PER_BLOB)),
      MAX_BLOCK_SIZE_IN_BYTES,
    );

  /** Blocks streamed from disk under index IDs: used when the file's MD5 is not known. */
  const uploadBlocks = async (client: LoadedBlockBlobClient, file: WalkedFile): Promise<void> => {
    const blockSize = blockSizeFor(file);
    const ids: string[] = [];
    const staged: Promise<unknown>[] = [];
    for (let offset = 0, index = 0; offset < file.size; offset += blockSize, index++) {
      const id = blockId(index);
      const length = Math.min(blockSize, file.size - offset);
      const end = offset + length - 1;
      ids.push(id);
      staged.push(
        request(length, (onProgress) =>
          client.stageBlock(
            id,
            // A factory, so the storage client can reopen the range when it retries.
            () => createReadStream(file.absolutePath, { start: offset, end }),
            length,
            { abortSignal: signal, onProgress },
          ),
        ),
      );
    }
    await Promise.all(staged);
    await request(0, () => client.commitBlockList(ids, { abortSignal: signal }));
  };

  /**
   * Blocks named by their content, skipping those already staged, committed with the file's MD5
   * once the blocks read add up to it.
   */
  const uploadBlocksResumably = async (
    client: LoadedBlockBlobClient,
    file: WalkedFile,
    md5: string,
  ): Promise<void> => {
    const blockSize = blockSizeFor(file);
    const staged = new Map<string, number>();
    try {
      const list = await client.getBlockList("uncommitted", { abortSignal: signal });
      for (const block of list.uncommittedBlocks ?? []) {
        staged.set(block.name, block.size);
      }
    } catch {
      // No blob yet (404), or a SAS that may not read: nothing to resume from.
      signal.throwIfAborted();
    }
    const whole = createHash("md5");
    let reads = Promise.resolve(); // blocks are read in order, so `whole` sees the file in order
    const ids: string[] = [];
    const sends: Promise<unknown>[] = [];
    for (let offset = 0, index = 0; offset < file.size; offset += blockSize, index++) {
      const start = offset;
      const length = Math.min(blockSize, file.size - offset);
      const blockIndex = index;
      const position = ids.push("") - 1;
      sends.push(
        // Bytes are counted here, not by request(): a block already staged is skipped, not sent.
        request(0, async (onProgress) => {
          const buffer = takeBlockBuffer(length);
          try {
            const read = reads.then(async () => {
              const data = await readRange(file.absolutePath, start, length, buffer);
              whole.update(data);
              return data;
            });
            reads = read.then(
              () => undefined,
              () => undefined,
            );
            const data = await read;
            const blockMd5 = createHash("md5").update(data).digest();
            const id = contentBlockId(blockIndex, blockMd5.toString("hex"));
            ids[position] = id;
            if (staged.get(id) === length) {
              skip(length);
              return;
            }
            await client.stageBlock(id, data, length, {
              abortSignal: signal,
              onProgress,
              transactionalContentMD5: blockMd5,
            });
            doneBytes += length;
          } finally {
            giveBlockBuffer(buffer);
          }
        }),
      );
    }
    await Promise.all(sends);
    if (whole.digest("base64") !== md5) {
      throw changedSinceHashed(file);
    }
    await request(0, () =>
      client.commitBlockList(ids, {
        abortSignal: signal,
        blobHTTPHeaders: { blobContentMD5: Buffer.from(md5, "base64") },
      }),
    );
  };

  // What is already in place: one listing under the prefix, when the files' MD5s are known.
  const existing = new Map<string, { size: number; md5?: string }>();
  if (items.some((i) => i.file.md5 !== undefined)) {
    try {
      for await (const blob of container.listBlobsFlat({
        prefix: target.prefix,
        abortSignal: signal,
      })) {
        const md5 = blob.properties.contentMD5;
        existing.set(blob.name, {
          size: blob.properties.contentLength ?? -1,
          md5: md5 ? Buffer.from(md5).toString("base64") : undefined,
        });
      }
    } catch {
      // A SAS allowed to write but not to list (or any listing failure): upload everything.
      options.abortSignal?.throwIfAborted();
      existing.clear();
    }
  }

  let firstError: unknown;
  await Promise.all(
    items.map(async ({ file, blobName }) => {
      try {
        const client = container.getBlockBlobClient(blobName);
        const there = existing.get(blobName);
        if (file.md5 !== undefined && there?.size === file.size && there.md5 === file.md5) {
          skip(file.size);
          skippedBlobCount++;
        } else if (file.size > singleShotLimit && file.md5 !== undefined) {
          await uploadBlocksResumably(client, file, file.md5);
        } else if (file.size > singleShotLimit) {
          await uploadBlocks(client, file);
        } else {
          const response = await request(file.size, (onProgress) =>
            client.uploadFile(file.absolutePath, {
              maxSingleShotSize: singleShotLimit,
              blockSize: requestedBlockSize,
              concurrency: 1,
              abortSignal: signal,
              onProgress,
            }),
          );
          // The service computes a single-shot blob's MD5 from the bytes it received.
          const received = response.contentMD5;
          if (
            file.md5 !== undefined &&
            received !== undefined &&
            Buffer.from(received).toString("base64") !== file.md5
          ) {
            throw changedSinceHashed(file);
          }
        }
        completedBlobCount++;
        report();
      } catch (e) {
        if (firstError === undefined && !options.abortSignal?.aborted) {
          firstError = toUploadError(blobName, e);
          stop.abort(firstError);
        }
      }
    }),
  );
  options.abortSignal?.throwIfAborted();
  if (firstError !== undefined) {
    throw firstError;
  }

  if (options.metadata) {
    const { blobName, metadata } = options.metadata;
    try {
      await container.getBlobClient(blobName).setMetadata(metadata, { abortSignal: signal });
    } catch (e) {
      options.abortSignal?.throwIfAborted();
      throw toUploadError(blobName, e);
    }
  }

  return {
    blobCount: items.length,
    byteCount: totalBytes,
    skippedBlobCount,
    skippedByteCount: skippedBytes,
    blobNames,
  };
}

/** Options of {@link readBlobMetadata}. */
export type ReadBlobMetadataOptions = Pick<
  UploadOptions,
  "abortSignal" | "caCertPath" | "retryOptions"
>;

/**
 * Reads one blob's metadata, or `undefined` when the blob does not exist. Used before an upload
 * the way the SDK's `check_blob_exists` does: an indicator blob that already says
 * `upload_status=completed` means the same content is in place.
 *
 * @throws BlobUploadError for any failure other than a missing blob.
 */
export async function readBlobMetadata(
  target: UploadTarget,
  blobName: string,
  options: ReadBlobMetadataOptions = {},
): Promise<Record<string, string> | undefined> {
  const container = await createContainerClient(target, options);
  try {
    const properties = await container
      .getBlobClient(blobName)
      .getProperties({ abortSignal: options.abortSignal });
    return properties.metadata ?? {};
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) {
      return undefined;
    }
    options.abortSignal?.throwIfAborted();
    throw toUploadError(blobName, e, "Reading");
  }
}

/**
 * Reads the last `maxBytes` of a blob as UTF-8 text (a partial first line is dropped), or
 * `undefined` when the blob does not exist. Used for the end of a job's log.
 *
 * @throws BlobUploadError for any failure other than a missing blob.
 */
export async function readBlobTail(
  target: UploadTarget,
  blobName: string,
  maxBytes: number,
  options: ReadBlobMetadataOptions = {},
): Promise<string | undefined> {
  const container = await createContainerClient(target, options);
  const blob = container.getBlobClient(`${target.prefix}${blobName}`);
  try {
    const { contentLength = 0 } = await blob.getProperties({ abortSignal: options.abortSignal });
    const offset = Math.max(0, contentLength - maxBytes);
    if (contentLength === 0) {
      return "";
    }
    const buffer = await blob.downloadToBuffer(offset, contentLength - offset, {
      abortSignal: options.abortSignal,
    });
    const text = buffer.toString("utf8");
    return offset > 0 ? text.slice(text.indexOf("\n") + 1) : text;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) {
      return undefined;
    }
    options.abortSignal?.throwIfAborted();
    throw toUploadError(blobName, e, "Reading");
  }
}

/**
 * Reads the first `maxBytes` of a blob as UTF-8 text (a partial last line is dropped), or
 * `undefined` when the blob does not exist. Used for the first rows of a predictions file.
 *
 * @throws BlobUploadError for any failure other than a missing blob.
 */
export async function readBlobHead(
  target: UploadTarget,
  blobName: string,
  maxBytes: number,
  options: ReadBlobMetadataOptions = {},
): Promise<string | undefined> {
  const container = await createContainerClient(target, options);
  const blob = container.getBlobClient(`${target.prefix}${blobName}`);
  try {
    const { contentLength = 0 } = await blob.getProperties({ abortSignal: options.abortSignal });
    if (contentLength === 0) {
      return "";
    }
    const count = Math.min(contentLength, maxBytes);
    const text = (
      await blob.downloadToBuffer(0, count, { abortSignal: options.abortSignal })
    ).toString("utf8");
    return count < contentLength ? text.slice(0, text.lastIndexOf("\n") + 1) : text;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) {
      return undefined;
    }
    options.abortSignal?.throwIfAborted();
    throw toUploadError(blobName, e, "Reading");
  }
}
