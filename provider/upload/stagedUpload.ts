/**
 * A new local folder read once: the bytes the content hash reads (`ContentHashOptions.tee`) go to
 * a staging prefix of the container while they are hashed, then the blobs are copied on the
 * service side under the folder the hash names, and the staging blobs are deleted.
 *
 * Resumable like {@link uploadFiles}: a staging blob already there with the same size and MD5 is
 * not sent again, a large file's blocks are named by index and MD5 (blocks an interrupted run
 * staged are skipped), and a final blob already there with the same size and MD5 is not copied.
 */
import { createHash } from "node:crypto";
import type { StorageSharedKeyCredential } from "@azure/storage-blob";
import {
  contentBlockId,
  createContainerClient,
  toLoadedCredential,
  type LoadedContainerClient as ContainerClient,
  type UploadOptions,
} from "./blobUpload";
import type { ContentTee } from "./contentHash";
import { BlobUploadError } from "./errors";
import { createLimiter } from "./limiter";
import type { WalkedFile } from "./walk";

const MiB = 1024 * 1024;
/** Copy Blob From URL copies synchronously up to 256 MiB; larger blobs are copied asynchronously. */
export const SYNC_COPY_LIMIT_IN_BYTES = 256 * MiB;
const DEFAULT_STAGING_BLOCK_SIZE_IN_BYTES = 4 * MiB;

/** The container, its account key credential and the staging prefix (ending in "/"). */
export interface StagingTarget {
  readonly containerUrl: string;
  readonly credential: StorageSharedKeyCredential;
  readonly stagingPrefix: string;
}

export type StagingOptions = Pick<UploadOptions, "caCertPath" | "retryOptions" | "onProgress"> & {
  /** Requests in flight at once. @default 8 */
  readonly concurrency?: number;
  /**
   * Block size of files larger than one block. 4 MiB rather than `uploadFiles`' 8: each block in
   * flight is held twice (our buffer and TLS's encrypted copy), and with 4 MiB blocks a new 2 GiB
   * folder's whole `up` peaked about 50 MB lower at the same throughput.
   * @default 4 MiB
   */
  readonly blockSizeInBytes?: number;
};

/** What a staged upload sent, and what it found already there. */
export interface StagingResult {
  readonly sentBytes: number;
  readonly skippedBytes: number;
}

interface Existing {
  readonly size: number;
  readonly md5?: string;
}

function md5Of(item: { properties: { contentMD5?: Uint8Array } }): string | undefined {
  const md5 = item.properties.contentMD5;
  return md5 ? Buffer.from(md5).toString("base64") : undefined;
}

async function listPrefix(
  container: ContainerClient,
  prefix: string,
): Promise<Map<string, Existing>> {
  const found = new Map<string, Existing>();
  for await (const item of container.listBlobsFlat({ prefix })) {
    found.set(item.name, { size: item.properties.contentLength ?? -1, md5: md5Of(item) });
  }
  return found;
}

function failure(blobName: string, what: string, error: unknown): BlobUploadError {
  const e = error as { statusCode?: number; code?: string; request?: { requestId?: string } };
  return new BlobUploadError(
    blobName,
    `Could not ${what} blob ${blobName}: ${error instanceof Error ? error.message : String(error)}`,
    { statusCode: e.statusCode, storageErrorCode: e.code, cause: error },
  );
}

/** A staging writer: give its `tee` to `computeContentHash`, then await `finish()`. */
export interface StagingWriter {
  readonly tee: ContentTee;
  finish(): Promise<StagingResult>;
  readonly container: ContainerClient;
}

export async function openStaging(
  target: StagingTarget,
  totalBytes: number,
  options: StagingOptions = {},
): Promise<StagingWriter> {
  const container = await createContainerClient(
    { containerUrl: target.containerUrl, credential: target.credential, prefix: "" },
    options,
  );
  const concurrency = options.concurrency ?? 8;
  const blockSize = options.blockSizeInBytes ?? DEFAULT_STAGING_BLOCK_SIZE_IN_BYTES;
  const existing = await listPrefix(container, target.stagingPrefix);
  const inFlight = new Set<Promise<void>>();
  let firstError: unknown;
  let sentBytes = 0;
  let skippedBytes = 0;
  let completedBlobCount = 0;
  const report = (): void =>
    options.onProgress?.({
      loadedBytes: sentBytes + skippedBytes,
      totalBytes,
      skippedBytes,
      completedBlobCount,
      blobCount: 0,
    });

  /** Starts a request, waiting first while `concurrency` are in flight (holding the read back). */
  const start = async (send: () => Promise<void>): Promise<void> => {
    while (inFlight.size >= concurrency) {
      await Promise.race(inFlight);
    }
    if (firstError !== undefined) {
      throw firstError;
    }
    const running: Promise<void> = send()
      .catch((error: unknown) => {
        firstError ??= error;
      })
      .finally(() => inFlight.delete(running));
    inFlight.add(running);
  };

  let parts: Buffer[] = [];
  let partBytes = 0;
  let blockIndex = 0;
  let blockIds: string[] = [];
  let fileBlocks: Promise<void>[] = [];
  let knownBlocks: Set<string> | undefined;

  const blobNameOf = (file: WalkedFile): string => `${target.stagingPrefix}${file.relativePath}`;

  // A large file's blocks are copied into reused buffers (one per request in flight), as in
  // uploadFiles, instead of a fresh buffer per block for the garbage collector to find.
  const freeBuffers: Buffer[] = [];
  let block: Buffer | undefined;
  let blockFilled = 0;
  const release = (buffer: Buffer): void => {
    if (freeBuffers.length <= concurrency) {
      freeBuffers.push(buffer);
    }
  };

  const stageBlock = async (file: WalkedFile, buffer: Buffer, length: number): Promise<void> => {
    try {
      await stageBlockOf(file, buffer.subarray(0, length), () => release(buffer));
    } catch (error) {
      release(buffer);
      throw error;
    }
  };

  const stageBlockOf = async (file: WalkedFile, data: Buffer, done: () => void): Promise<void> => {
    const blob = container.getBlockBlobClient(blobNameOf(file));
    if (knownBlocks === undefined) {
      knownBlocks = new Set<string>();
      try {
        const list = await blob.getBlockList("all");
        for (const block of [...(list.committedBlocks ?? []), ...(list.uncommittedBlocks ?? [])]) {
          knownBlocks.add(block.name);
        }
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode !== 404) {
          throw failure(blob.name, "list the blocks of", error);
        }
      }
    }
    const md5 = createHash("md5").update(data).digest();
    const id = contentBlockId(blockIndex++, md5.toString("hex"));
    blockIds.push(id);
    if (knownBlocks.has(id)) {
      skippedBytes += data.length;
      report();
      done();
      return;
    }
    let staged!: () => void;
    fileBlocks.push(new Promise<void>((resolve) => (staged = resolve)));
    try {
      await start(async () => {
        try {
          await blob.stageBlock(id, data, data.length, { transactionalContentMD5: md5 });
          sentBytes += data.length;
          report();
        } catch (error) {
          throw failure(blob.name, "stage a block of", error);
        } finally {
          staged();
          done();
        }
      });
    } catch (error) {
      staged();
      throw error;
    }
  };

  /** The whole of a file up to one block, from its chunks. */
  const takeWhole = (): Buffer => {
    const whole = parts.length === 1 ? parts[0] : Buffer.concat(parts, partBytes);
    parts = [];
    partBytes = 0;
    return whole;
  };

  const tee: ContentTee = {
    async chunk(_index, file, data) {
      if (firstError !== undefined) {
        throw firstError;
      }
      if (file.size <= blockSize) {
        // Sent at the file's end, when its MD5 says whether the staging blob already holds it. A
        // streamed file's chunks are reused by the reader once this returns: copy them.
        parts.push(data.length === file.size ? data : Buffer.from(data));
        partBytes += data.length;
        return;
      }
      // A larger file goes in blocks as its bytes come.
      for (let offset = 0; offset < data.length;) {
        block ??= freeBuffers.pop() ?? Buffer.allocUnsafeSlow(blockSize);
        const copied = data.copy(block, blockFilled, offset);
        offset += copied;
        blockFilled += copied;
        if (blockFilled === blockSize) {
          const full = block;
          block = undefined;
          blockFilled = 0;
          await stageBlock(file, full, blockSize);
        }
      }
    },
    async end(_index, file, md5) {
      const name = blobNameOf(file);
      const there = existing.get(name);
      const complete = there !== undefined && there.size === file.size && there.md5 === md5;
      if (file.size <= blockSize) {
        const data = takeWhole();
        if (complete) {
          skippedBytes += file.size;
          completedBlobCount++;
          report();
          return;
        }
        await start(async () => {
          try {
            await container.getBlockBlobClient(name).upload(data, data.length, {
              blobHTTPHeaders: { blobContentMD5: Buffer.from(md5, "base64") },
            });
            sentBytes += data.length;
            completedBlobCount++;
            report();
          } catch (error) {
            throw failure(name, "upload", error);
          }
        });
      } else {
        if (block !== undefined && blockFilled > 0) {
          const last = block;
          const length = blockFilled;
          block = undefined;
          blockFilled = 0;
          await stageBlock(file, last, length);
        }
        const ids = blockIds;
        const blocks = fileBlocks;
        blockIds = [];
        fileBlocks = [];
        blockIndex = 0;
        knownBlocks = undefined;
        if (complete) {
          completedBlobCount++;
          return;
        }
        await start(async () => {
          await Promise.all(blocks);
          if (firstError !== undefined) {
            return;
          }
          try {
            // Committed with the file's MD5; the service keeps it as the blob's Content-MD5.
            await container.getBlockBlobClient(name).commitBlockList(ids, {
              blobHTTPHeaders: { blobContentMD5: Buffer.from(md5, "base64") },
            });
            completedBlobCount++;
            report();
          } catch (error) {
            throw failure(name, "commit", error);
          }
        });
      }
    },
  };

  return {
    tee,
    container,
    async finish() {
      await Promise.all(inFlight);
      if (firstError !== undefined) {
        throw firstError;
      }
      return { sentBytes, skippedBytes };
    },
  };
}

/**
 * Copies each staged file to `finalPrefix + relativePath` on the service side (no byte goes
 * through this process), skipping final blobs already there with the same size and MD5, then
 * deletes every blob under the staging prefix. A file whose staging blob is missing or holds other
 * bytes is left out and returned, for the caller to upload (a re-run whose hash came from the
 * cache finds only what the interrupted run staged).
 */
export async function promoteStaged(
  target: StagingTarget,
  container: ContainerClient,
  files: readonly (WalkedFile & { readonly md5?: string })[],
  finalPrefix: string,
  options: { readonly concurrency?: number } = {},
): Promise<{ copied: number; missing: (WalkedFile & { readonly md5?: string })[] }> {
  const storage = await import("@azure/storage-blob");
  const { generateBlobSASQueryParameters, BlobSASPermissions } = storage;
  const credential = toLoadedCredential(storage, target.credential) as InstanceType<
    typeof storage.StorageSharedKeyCredential
  >;
  const finals = await listPrefix(container, finalPrefix);
  const staged = await listPrefix(container, target.stagingPrefix);
  const missing: (WalkedFile & { readonly md5?: string })[] = [];
  const limit = createLimiter(options.concurrency ?? 8);
  const expiresOn = new Date(Date.now() + 24 * 3600 * 1000);
  let copied = 0;
  await Promise.all(
    files.map((file) =>
      limit(async () => {
        const finalName = `${finalPrefix}${file.relativePath}`;
        const there = finals.get(finalName);
        if (there !== undefined && there.size === file.size && there.md5 === file.md5) {
          return;
        }
        const stagingName = `${target.stagingPrefix}${file.relativePath}`;
        const held = staged.get(stagingName);
        if (held === undefined || held.size !== file.size || held.md5 !== file.md5) {
          missing.push(file);
          return;
        }
        const source = container.getBlobClient(stagingName);
        // Azure authorizes the copy's source separately: a read SAS on the staging blob.
        const sas = generateBlobSASQueryParameters(
          {
            containerName: container.containerName,
            blobName: source.name,
            permissions: BlobSASPermissions.parse("r"),
            expiresOn,
          },
          credential,
        ).toString();
        const destination = container.getBlobClient(finalName);
        try {
          if (file.size <= SYNC_COPY_LIMIT_IN_BYTES) {
            await destination.syncCopyFromURL(`${source.url}?${sas}`);
          } else {
            const poller = await destination.beginCopyFromURL(`${source.url}?${sas}`, {
              intervalInMs: 1000,
            });
            const result = await poller.pollUntilDone();
            if (result.copyStatus !== "success") {
              throw new Error(`copy ended ${result.copyStatus ?? "without a status"}`);
            }
          }
        } catch (error) {
          throw failure(finalName, "copy the staged", error);
        }
        copied++;
      }),
    ),
  );
  await deleteStaging(container, target.stagingPrefix);
  return { copied, missing };
}

/** Uncommitted blocks are discarded by Azure after a week: older staging cannot be resumed. */
export const ABANDONED_STAGING_AGE_IN_MS = 7 * 24 * 3600 * 1000;

/**
 * Pure: the staging prefixes under `root` (each `root + <id>/`) that were abandoned, that is, none
 * of whose blobs changed since `cutoff`, except `keep`. A younger prefix may be another stack's
 * upload in progress, or one an interrupted run will resume.
 */
export function abandonedStagingPrefixes(
  blobs: readonly { readonly name: string; readonly lastModified: Date }[],
  root: string,
  cutoff: Date,
  keep?: string,
): string[] {
  const newest = new Map<string, number>();
  for (const blob of blobs) {
    if (!blob.name.startsWith(root)) {
      continue;
    }
    const id = blob.name.slice(root.length).split("/")[0];
    const prefix = `${root}${id}/`;
    newest.set(prefix, Math.max(newest.get(prefix) ?? 0, blob.lastModified.getTime()));
  }
  return [...newest]
    .filter(([prefix, time]) => prefix !== keep && time < cutoff.getTime())
    .map(([prefix]) => prefix)
    .sort();
}

/**
 * Deletes the staging prefixes under `root` that interrupted uploads left and nobody resumed for
 * `maxAgeInMs` (see {@link abandonedStagingPrefixes}); returns how many blobs went.
 */
export async function pruneAbandonedStaging(
  container: ContainerClient,
  root: string,
  options: { readonly keep?: string; readonly maxAgeInMs?: number; readonly now?: Date } = {},
): Promise<number> {
  const blobs: { name: string; lastModified: Date }[] = [];
  for await (const item of container.listBlobsFlat({ prefix: root })) {
    blobs.push({ name: item.name, lastModified: item.properties.lastModified });
  }
  const now = options.now ?? new Date();
  const cutoff = new Date(now.getTime() - (options.maxAgeInMs ?? ABANDONED_STAGING_AGE_IN_MS));
  const prefixes = abandonedStagingPrefixes(blobs, root, cutoff, options.keep);
  const doomed = blobs.filter((b) => prefixes.some((p) => b.name.startsWith(p))).map((b) => b.name);
  await deleteBlobs(container, doomed);
  return doomed.length;
}

/** Deletes the named blobs, 8 at a time; one already gone is fine. */
async function deleteBlobs(container: ContainerClient, names: readonly string[]): Promise<void> {
  const limit = createLimiter(8);
  await Promise.all(
    names.map((name) =>
      limit(async () => {
        await container.getBlobClient(name).deleteIfExists();
      }),
    ),
  );
}

/** Deletes every blob under the staging prefix. */
export async function deleteStaging(container: ContainerClient, prefix: string): Promise<void> {
  await deleteBlobs(container, [...(await listPrefix(container, prefix)).keys()]);
}
