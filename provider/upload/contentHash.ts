/**
 * The two hashes the Azure ML SDK (azure-ai-ml, `_utils/_asset_utils.py`) computes over a code
 * folder, re-implemented byte for byte:
 *
 * - the SHA-256 content hash (`get_content_hash`, hash version 202208): the asset fingerprint sent
 *   as `properties.hash_sha256` and used by the list-by-hash lookup;
 * - the MD5 object hash (`get_object_hash`): names the legacy `LocalUpload/<md5>/` blob folder.
 *
 * Both are local only and streamed. The SDK reads in 1,024-byte chunks; chunking never changes a
 * digest, so we read whole small files and 1 MiB chunks of large ones, and read ahead of the
 * digest (which must stay sequential, in SDK order) so that the disk and the hash overlap.
 */
import { createHash, type Hash } from "node:crypto";
import { createReadStream, type Stats } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { ContentPathError, EmptyDirectoryError } from "./errors";
import {
  ALWAYS_SKIPPED_NAME,
  loadIgnoreRules,
  type IgnoreRules,
  type IgnoreSource,
} from "./ignore";
import { compareSdkPathOrder } from "./order";
import { walkFiles, type WalkedFile } from "./walk";

/** `get_content_hash_version()` in the SDK. */
export const CONTENT_HASH_VERSION = 202208;

/** The seed the SDK feeds to MD5 before anything else (43 ASCII bytes). */
const OBJECT_HASH_SEED = "Initialize for october 2021 AML CLI version";

/** Options of {@link computeContentHash}. */
export interface ContentHashOptions {
  /** Rules to use instead of loading them from the folder. */
  readonly ignoreRules?: IgnoreRules;
  /** See {@link IgnoreRulesOptions.includeParentIgnoreFiles}. @default false */
  readonly includeParentIgnoreFiles?: boolean;
  /** See {@link ReadAheadOptions}. */
  readonly readAhead?: ReadAheadOptions;
  readonly abortSignal?: AbortSignal;
}

/**
 * How far reads may run ahead of the digest. Memory use is bounded by `maxBytes` plus one
 * streaming chunk.
 */
export interface ReadAheadOptions {
  /** Files read concurrently ahead of the digest. @default 8 */
  readonly maxFiles?: number;
  /** Bytes buffered ahead of the digest. @default 32 MiB */
  readonly maxBytes?: number;
  /** Files up to this size are read whole; larger ones are streamed. @default 4 MiB */
  readonly wholeFileLimitInBytes?: number;
  /** Chunk size when streaming a large file. @default 1 MiB */
  readonly chunkSizeInBytes?: number;
}

/** The SDK-compatible fingerprint of a code folder, and what went into it. */
export interface ContentHashResult {
  /** SHA-256, lower-case hex, as `get_content_hash` returns it. */
  readonly hash: string;
  readonly hashVersion: typeof CONTENT_HASH_VERSION;
  readonly fileCount: number;
  readonly byteCount: number;
  /** Entries excluded by the ignore rules (a pruned directory counts once). */
  readonly ignoredCount: number;
  readonly ignoreSource: IgnoreSource;
  /** The hashed files, in hash order. */
  readonly files: WalkedFile[];
  /** Links that were not followed (broken or looping). */
  readonly skippedSymlinks: string[];
  /** Whether the root was a single file. */
  readonly rootIsFile: boolean;
  /** Base name of the root after resolving links: the folder name the SDK uploads under. */
  readonly rootName: string;
}

const MiB = 1024 * 1024;
const DEFAULTS = {
  maxFiles: 8,
  maxBytes: 32 * MiB,
  wholeFileLimitInBytes: 4 * MiB,
  chunkSizeInBytes: MiB,
} as const;

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer; got ${value}.`);
  }
  return value;
}

function fileChanged(file: WalkedFile, actual: number | string): ContentPathError {
  return new ContentPathError(
    "FileChangedDuringRead",
    file.absolutePath,
    `"${file.relativePath}" changed while it was being hashed (expected ${file.size} bytes, ` +
      `found ${actual}). Hash again once the folder is no longer being written to.`,
  );
}

/** A file that vanished since the walk is a change too, not a bare ENOENT. */
function vanishedToChanged(file: WalkedFile, e: unknown): unknown {
  return (e as NodeJS.ErrnoException).code === "ENOENT" ? fileChanged(file, "no file") : e;
}

/** Reads a whole file of known size into one buffer, checking that the size still holds. */
async function readWhole(file: WalkedFile): Promise<Buffer> {
  const handle = await fs.open(file.absolutePath, "r").catch((e: unknown) => {
    throw vanishedToChanged(file, e);
  });
  try {
    const { size } = await handle.stat();
    if (size !== file.size) {
      throw fileChanged(file, size);
    }
    const buffer = Buffer.allocUnsafe(size);
    let offset = 0;
    while (offset < size) {
      const { bytesRead } = await handle.read(buffer, offset, size - offset, offset);
      if (bytesRead === 0) {
        throw fileChanged(file, offset);
      }
      offset += bytesRead;
    }
    return buffer;
  } finally {
    await handle.close();
  }
}

/** Streams a file into the digest, checking that the byte count matches the walked size. */
async function streamInto(
  digest: Hash,
  file: WalkedFile,
  chunkSizeInBytes: number,
  abortSignal: AbortSignal | undefined,
): Promise<void> {
  let total = 0;
  const stream = createReadStream(file.absolutePath, {
    highWaterMark: chunkSizeInBytes,
    signal: abortSignal,
  });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > file.size) {
        throw fileChanged(file, `more than ${file.size}`);
      }
      digest.update(chunk);
    }
  } catch (e) {
    throw vanishedToChanged(file, e);
  } finally {
    stream.destroy();
  }
  if (total !== file.size) {
    throw fileChanged(file, total);
  }
}

/**
 * Feeds the contents of `files`, in the given order, to `digest`. Small files are read whole and
 * ahead of the digest (bounded by `readAhead`); large files are streamed when their turn comes.
 */
async function feedContents(
  digest: Hash,
  files: readonly WalkedFile[],
  readAhead: ReadAheadOptions,
  abortSignal: AbortSignal | undefined,
): Promise<void> {
  const maxFiles = positiveInteger("readAhead.maxFiles", readAhead.maxFiles ?? DEFAULTS.maxFiles);
  const maxBytes = positiveInteger("readAhead.maxBytes", readAhead.maxBytes ?? DEFAULTS.maxBytes);
  const wholeLimit = Math.min(
    positiveInteger(
      "readAhead.wholeFileLimitInBytes",
      readAhead.wholeFileLimitInBytes ?? DEFAULTS.wholeFileLimitInBytes,
    ),
    maxBytes,
  );
  const chunkSize = positiveInteger(
    "readAhead.chunkSizeInBytes",
    readAhead.chunkSizeInBytes ?? DEFAULTS.chunkSizeInBytes,
  );

  const pending = new Map<number, Promise<Buffer>>();
  let pendingBytes = 0;
  let next = 0; // the next file to consider for read-ahead

  const fill = (current: number): void => {
    if (next < current) {
      next = current;
    }
    while (next < files.length && pending.size < maxFiles) {
      const file = files[next];
      if (file.size > wholeLimit) {
        if (next === current) {
          next++; // streamed at its turn; look past it
          continue;
        }
        break; // keep order simple: never read past a large file that is not being streamed yet
      }
      if (file.size > 0 && pendingBytes + file.size > maxBytes && pending.size > 0) {
        break;
      }
      const read = file.size === 0 ? Promise.resolve(Buffer.alloc(0)) : readWhole(file);
      read.catch(() => undefined); // awaited in order below; avoid an unhandled rejection meanwhile
      pending.set(next, read);
      pendingBytes += file.size;
      next++;
    }
  };

  try {
    for (let i = 0; i < files.length; i++) {
      abortSignal?.throwIfAborted();
      const file = files[i];
      fill(i);
      const read = pending.get(i);
      if (read) {
        const buffer = await read;
        pending.delete(i);
        pendingBytes -= file.size;
        fill(i + 1); // start the next reads before hashing this buffer
        digest.update(buffer);
      } else {
        await streamInto(digest, file, chunkSize, abortSignal);
      }
    }
  } finally {
    await Promise.allSettled(pending.values()); // close every handle before returning
  }
}

/**
 * The SHA-256 content hash of an already walked, SDK-ordered file list (`_get_file_list_content_hash`):
 * the file count, then `#relativePath#` and the size of each file, then every file's contents.
 */
export async function hashFileList(
  files: readonly WalkedFile[],
  options: { readonly readAhead?: ReadAheadOptions; readonly abortSignal?: AbortSignal } = {},
): Promise<string> {
  const digest = createHash("sha256");
  digest.update(String(files.length));
  for (const file of files) {
    digest.update(`#${file.relativePath}#`);
    digest.update(String(file.size));
  }
  await feedContents(digest, files, options.readAhead ?? {}, options.abortSignal);
  return digest.digest("hex");
}

/**
 * Computes the Azure ML SDK's content hash (hash version 202208) of a folder or a single file,
 * honouring `.amlignore`/`.gitignore` in the folder's root.
 *
 * @throws EmptyDirectoryError when no file is left to hash (Azure ML rejects empty code).
 * @throws ContentPathError when the path is missing or a file changes while it is read.
 */
export async function computeContentHash(
  root: string,
  options: ContentHashOptions = {},
): Promise<ContentHashResult> {
  const rules =
    options.ignoreRules ??
    (await loadIgnoreRules(root, { includeParentIgnoreFiles: options.includeParentIgnoreFiles }));
  const walk = await walkFiles(root, rules, { abortSignal: options.abortSignal });
  if (walk.files.length === 0) {
    throw new EmptyDirectoryError(root, walk.ignoredCount, rules.source);
  }
  const hash = await hashFileList(walk.files, {
    readAhead: options.readAhead,
    abortSignal: options.abortSignal,
  });
  return {
    hash,
    hashVersion: CONTENT_HASH_VERSION,
    fileCount: walk.files.length,
    byteCount: walk.files.reduce((sum, f) => sum + f.size, 0),
    ignoredCount: walk.ignoredCount,
    ignoreSource: rules.source,
    files: walk.files,
    skippedSymlinks: walk.skippedSymlinks,
    rootIsFile: walk.rootIsFile,
    rootName: path.basename(walk.resolvedRoot),
  };
}

async function statOrUndefined(target: string): Promise<Stats | undefined> {
  try {
    return await fs.stat(target);
  } catch {
    return undefined; // broken or looping link: the SDK hashes its name and nothing else
  }
}

async function streamFileInto(digest: Hash, filePath: string): Promise<void> {
  for await (const chunk of createReadStream(filePath, {
    highWaterMark: MiB,
  }) as AsyncIterable<Buffer>) {
    digest.update(chunk);
  }
}

/**
 * The SDK's MD5 object hash (`get_object_hash`), which names the legacy `LocalUpload/<md5>/` blob
 * folder. Per folder, entries are sorted by lower-cased name; each kept entry feeds its bare name,
 * then a file its contents or a folder its own entries, recursively. No sizes, counts or separators.
 *
 * As in the SDK, the ignore check on a folder uses its bare path, so a directory-only pattern such
 * as `build/` still hashes the name `build` while excluding everything inside it. Links are
 * followed; a link that loops back to a folder being hashed contributes only its name.
 */
export async function computeObjectHash(root: string, rules: IgnoreRules): Promise<string> {
  const digest = createHash("md5");
  digest.update(OBJECT_HASH_SEED);
  const rootStats = await statOrUndefined(root);
  if (!rootStats) {
    throw new ContentPathError("PathNotFound", root, `No such file or directory: "${root}".`);
  }
  if (!rootStats.isDirectory()) {
    await streamFileInto(digest, root);
    return digest.digest("hex");
  }

  const visit = async (dir: string, relativeDir: string, ancestors: ReadonlySet<string>) => {
    const names = (await fs.readdir(dir)).sort(compareSdkPathOrder);
    for (const name of names) {
      if (name === ALWAYS_SKIPPED_NAME) {
        continue;
      }
      const relativePath = relativeDir ? `${relativeDir}/${name}` : name;
      if (rules.isIgnored(relativePath, false)) {
        continue;
      }
      digest.update(name);
      const entryPath = path.join(dir, name);
      const stats = await statOrUndefined(entryPath);
      if (stats?.isFile()) {
        await streamFileInto(digest, entryPath);
      } else if (stats?.isDirectory()) {
        const identity = `${stats.dev}:${stats.ino}`;
        if (!ancestors.has(identity)) {
          await visit(entryPath, relativePath, new Set([...ancestors, identity]));
        }
      }
    }
  };
  await visit(root, "", new Set([`${rootStats.dev}:${rootStats.ino}`]));
  return digest.digest("hex");
}
