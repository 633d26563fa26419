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
import * as fsSync from "node:fs";
import { createReadStream, type Dirent, type Stats } from "node:fs";
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
import { nowNs, type HashCache } from "./hashCache";

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
  /** Also compute the SDK's MD5 object hash (the datastore upload folder), in the same read. */
  readonly objectHash?: boolean;
  /** Reuse and record digests here (see `hashCache.ts`). */
  readonly cache?: HashCache;
  /**
   * Also hands every byte of the one read to this receiver (a staged upload, say): each file's
   * bytes in order, then its MD5. A returned promise holds the read back until it settles. Not
   * called when the digests come from the cache.
   */
  readonly tee?: ContentTee;
  readonly abortSignal?: AbortSignal;
}

/** Receives the bytes of a hashing pass, file by file in hash order. */
export interface ContentTee {
  /**
   * The next bytes of `file`. A chunk that holds the whole file (`data.length === file.size`) is
   * the receiver's to keep; the chunks of a larger, streamed file are read into buffers that are
   * reused once this call (or the promise it returns) settles, so a receiver that keeps them
   * copies them.
   */
  chunk(index: number, file: WalkedFile, data: Buffer): void | Promise<void>;
  /** The file's bytes are all handed over; `md5` is their base64 MD5. */
  end(index: number, file: WalkedFile, md5: string): void | Promise<void>;
}

/**
 * How far reads may run ahead of the digest. Memory use is bounded by `maxBytes` plus two
 * streaming chunks.
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
  /** The hashed files, in hash order, each with the base64 MD5 of its bytes. */
  readonly files: HashedFile[];
  /** Links that were not followed (broken or looping). */
  readonly skippedSymlinks: string[];
  /** Whether the root was a single file. */
  readonly rootIsFile: boolean;
  /** Base name of the root after resolving links: the folder name the SDK uploads under. */
  readonly rootName: string;
  /** The SDK's MD5 object hash, when `objectHash` was asked for. */
  readonly objectHash?: string;
  /** Whether every digest came from the cache (no byte was read). */
  readonly fromCache: boolean;
  /** Bytes read from the files to compute the digests. */
  readonly bytesRead: number;
}

/** A walked file and the base64 MD5 of its bytes (a blob's Content-MD5). */
export interface HashedFile extends WalkedFile {
  readonly md5: string;
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

/** Receives a file's bytes in order: all of a whole-read file at once, or a streamed file's chunks. */
interface ContentSink {
  begin(index: number, file: WalkedFile): void;
  /**
   * A returned promise holds the read back until it settles. A streamed file's `data` is reused
   * after that (see {@link ContentTee.chunk}).
   */
  chunk(data: Buffer): void | Promise<void>;
  end(index: number, file: WalkedFile, whole: Buffer | undefined): void | Promise<void>;
}

/**
 * Two chunk buffers, allocated once per pass and reused for every streamed file: one is read into
 * while the sink digests the other. Streaming a large folder through a fresh buffer per chunk left
 * gigabytes of garbage for the collector, and the allocator's arenas grew with it (a peak RSS of
 * 670 MB for 600 MiB uploaded, against about 250 MB with these two).
 */
interface ChunkBuffers {
  readonly buffers: readonly [Buffer, Buffer];
}

function chunkBuffers(chunkSizeInBytes: number): ChunkBuffers {
  return {
    buffers: [Buffer.allocUnsafeSlow(chunkSizeInBytes), Buffer.allocUnsafeSlow(chunkSizeInBytes)],
  };
}

/**
 * Streams a file into the sink through the two reused chunk buffers (the read of the next chunk
 * overlaps the sink's work on this one), checking that the byte count matches the walked size.
 */
async function streamInto(
  sink: ContentSink,
  file: WalkedFile,
  chunks: ChunkBuffers,
  abortSignal: AbortSignal | undefined,
): Promise<void> {
  const handle = await fs.open(file.absolutePath, "r").catch((e: unknown) => {
    throw vanishedToChanged(file, e);
  });
  const [first, second] = chunks.buffers;
  const readAt = (buffer: Buffer, position: number) =>
    handle.read(buffer, 0, Math.min(buffer.length, Math.max(1, file.size - position)), position);
  let next: ReturnType<typeof readAt> | undefined;
  try {
    let position = 0;
    let current = first;
    next = readAt(current, 0);
    for (;;) {
      abortSignal?.throwIfAborted();
      const { bytesRead } = await next;
      next = undefined;
      if (bytesRead === 0) {
        break;
      }
      if (position + bytesRead > file.size) {
        throw fileChanged(file, `more than ${file.size}`);
      }
      const data = current.subarray(0, bytesRead);
      position += bytesRead;
      current = current === first ? second : first;
      // Reads one byte past the walked size at the end, to notice a file that grew.
      next = readAt(current, position);
      const held = sink.chunk(data);
      if (held) {
        await held;
      }
    }
    if (position !== file.size) {
      throw fileChanged(file, position);
    }
  } catch (e) {
    throw vanishedToChanged(file, e);
  } finally {
    await next?.catch(() => undefined);
    await handle.close();
  }
}

/**
 * Feeds the contents of `files`, in the given order, to `sink`. Small files are read whole and
 * ahead of the sink (bounded by `readAhead`); large files are streamed when their turn comes.
 */
async function feedContents(
  sink: ContentSink,
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

  let chunks: ChunkBuffers | undefined; // allocated at the first streamed file
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
      sink.begin(i, file);
      if (read) {
        const buffer = await read;
        pending.delete(i);
        pendingBytes -= file.size;
        fill(i + 1); // start the next reads before hashing this buffer
        const held = sink.chunk(buffer);
        if (held) {
          await held;
        }
        const ended = sink.end(i, file, buffer);
        if (ended) {
          await ended;
        }
      } else {
        chunks ??= chunkBuffers(chunkSize);
        await streamInto(sink, file, chunks, abortSignal);
        const ended = sink.end(i, file, undefined);
        if (ended) {
          await ended;
        }
      }
    }
  } finally {
    await Promise.allSettled(pending.values()); // close every handle before returning
  }
}

function sdkHashHeader(files: readonly WalkedFile[]): Hash {
  const digest = createHash("sha256");
  digest.update(String(files.length));
  for (const file of files) {
    digest.update(`#${file.relativePath}#`);
    digest.update(String(file.size));
  }
  return digest;
}

/**
 * The SHA-256 content hash of an already walked, SDK-ordered file list (`_get_file_list_content_hash`):
 * the file count, then `#relativePath#` and the size of each file, then every file's contents.
 */
export async function hashFileList(
  files: readonly WalkedFile[],
  options: { readonly readAhead?: ReadAheadOptions; readonly abortSignal?: AbortSignal } = {},
): Promise<string> {
  const digest = sdkHashHeader(files);
  const sink: ContentSink = {
    begin: () => undefined,
    chunk: (data) => {
      digest.update(data);
    },
    end: () => undefined,
  };
  await feedContents(sink, files, options.readAhead ?? {}, options.abortSignal);
  return digest.digest("hex");
}

/** One step of the MD5 object hash: a bare name, or a file's contents. */
export type ObjectHashEvent =
  | { readonly kind: "name"; readonly name: string }
  | { readonly kind: "file"; readonly relativePath: string; readonly absolutePath: string };

/** What the MD5 object hash walks, without reading any file's bytes. */
export interface ObjectHashPlan {
  readonly events: readonly ObjectHashEvent[];
  /** A digest of the events (names and file paths), so a cached object hash can be checked. */
  readonly structure: string;
}

/** Digests of one pass over a folder's bytes. */
interface PassResult {
  readonly sha256: string;
  readonly objectMd5?: string;
  readonly fileMd5s: string[];
  readonly bytesRead: number;
}

/**
 * One read of every file feeds the SDK content hash (SDK order), the MD5 of each file, and, when a
 * plan is given, the MD5 object hash, whose order (folder by folder) can differ: a file read before
 * its turn in the object hash waits in a buffer of at most `reorderBytes`, and a file that does not
 * fit is read again at the end (the only case where a byte is read twice).
 */
async function hashPass(
  files: readonly WalkedFile[],
  plan: ObjectHashPlan | undefined,
  options: {
    readonly readAhead?: ReadAheadOptions;
    readonly abortSignal?: AbortSignal;
    readonly reorderBytes?: number;
    readonly tee?: ContentTee;
  },
): Promise<PassResult> {
  const tee = options.tee;
  const sha = sdkHashHeader(files);
  const fileMd5s: string[] = new Array<string>(files.length);
  const events = plan?.events ?? [];
  const objectDigest = plan ? createHash("md5").update(OBJECT_HASH_SEED) : undefined;
  const eventOf = new Map<string, number>();
  events.forEach((event, index) => {
    if (event.kind === "file") {
      eventOf.set(event.relativePath, index);
    }
  });
  const reorderLimit = options.reorderBytes ?? options.readAhead?.maxBytes ?? DEFAULTS.maxBytes;
  const buffered = new Map<number, Buffer>();
  let bufferedBytes = 0;
  let position = 0;
  let bytesRead = 0;
  const advance = (): void => {
    while (objectDigest && position < events.length) {
      const event = events[position];
      if (event.kind === "name") {
        objectDigest.update(event.name);
      } else {
        const data = buffered.get(position);
        if (data === undefined) {
          return;
        }
        objectDigest.update(data);
        buffered.delete(position);
        bufferedBytes -= data.length;
      }
      position++;
    }
  };

  let fileDigest = createHash("md5");
  let direct = false;
  let current: { index: number; file: WalkedFile } | undefined;
  const sink: ContentSink = {
    begin(index, file) {
      fileDigest = createHash("md5");
      current = { index, file };
      advance();
      direct = objectDigest !== undefined && eventOf.get(file.relativePath) === position;
    },
    chunk(data) {
      bytesRead += data.length;
      sha.update(data);
      fileDigest.update(data);
      if (direct) {
        objectDigest?.update(data);
      }
      return current && tee?.chunk(current.index, current.file, data);
    },
    end(index, file, whole) {
      fileMd5s[index] = fileDigest.digest("base64");
      const ended = tee?.end(index, file, fileMd5s[index]);
      if (direct) {
        position++;
        return ended;
      }
      const event = eventOf.get(file.relativePath);
      if (
        objectDigest &&
        event !== undefined &&
        event > position &&
        whole !== undefined &&
        bufferedBytes + whole.length <= reorderLimit
      ) {
        buffered.set(event, whole);
        bufferedBytes += whole.length;
      }
      return ended;
    },
  };
  await feedContents(sink, files, options.readAhead ?? {}, options.abortSignal);

  if (objectDigest) {
    advance();
    for (; position < events.length; position++) {
      options.abortSignal?.throwIfAborted();
      const event = events[position];
      if (event.kind === "name") {
        objectDigest.update(event.name);
        continue;
      }
      const data = buffered.get(position);
      if (data !== undefined) {
        objectDigest.update(data);
        continue;
      }
      for await (const chunk of createReadStream(event.absolutePath, {
        highWaterMark: MiB,
        signal: options.abortSignal,
      }) as AsyncIterable<Buffer>) {
        bytesRead += chunk.length;
        objectDigest.update(chunk);
      }
    }
  }
  return {
    sha256: sha.digest("hex"),
    objectMd5: objectDigest?.digest("hex"),
    fileMd5s,
    bytesRead,
  };
}

/**
 * Computes the Azure ML SDK's content hash (hash version 202208) of a folder or a single file,
 * honouring `.amlignore`/`.gitignore` in the folder's root, and the MD5 of each file; with
 * `objectHash`, the SDK's MD5 object hash too, from the same read. With a `cache`, a folder whose
 * files all carry the stamps recorded at its last hash is not read at all (see `hashCache.ts`).
 *
 * @throws EmptyDirectoryError when no file is left to hash (Azure ML rejects empty code).
 * @throws ContentPathError when the path is missing or a file changes while it is read.
 */
export async function computeContentHash(
  root: string,
  options: ContentHashOptions = {},
): Promise<ContentHashResult> {
  const hashedAtNs = nowNs(); // before any stat: a write after it is never trusted
  const rules =
    options.ignoreRules ??
    (await loadIgnoreRules(root, { includeParentIgnoreFiles: options.includeParentIgnoreFiles }));
  const walk = await walkFiles(root, rules, { abortSignal: options.abortSignal });
  if (walk.files.length === 0) {
    throw new EmptyDirectoryError(root, walk.ignoredCount, rules.source);
  }
  const plan = options.objectHash ? await planObjectHash(root, rules, walk.listings) : undefined;
  const cacheKey = walk.rootIsFile ? walk.resolvedRoot : `${walk.resolvedRoot}${path.sep}`;
  const cached = await options.cache?.lookup(cacheKey, walk.files);
  let digests: PassResult;
  let fromCache = false;
  if (
    cached !== undefined &&
    (plan === undefined ||
      (cached.objectMd5 !== undefined && cached.objectStructure === plan.structure))
  ) {
    digests = { ...cached, fileMd5s: [...cached.fileMd5s], bytesRead: 0 };
    fromCache = true;
  } else {
    digests = await hashPass(walk.files, plan, {
      readAhead: options.readAhead,
      abortSignal: options.abortSignal,
      tee: options.tee,
    });
    await options.cache?.store(cacheKey, hashedAtNs, walk.files, {
      sha256: digests.sha256,
      objectMd5: digests.objectMd5,
      objectStructure: plan?.structure,
      fileMd5s: digests.fileMd5s,
    });
  }
  return {
    hash: digests.sha256,
    hashVersion: CONTENT_HASH_VERSION,
    fileCount: walk.files.length,
    byteCount: walk.files.reduce((sum, f) => sum + f.size, 0),
    ignoredCount: walk.ignoredCount,
    ignoreSource: rules.source,
    files: walk.files.map((file, i) => ({ ...file, md5: digests.fileMd5s[i] })),
    skippedSymlinks: walk.skippedSymlinks,
    rootIsFile: walk.rootIsFile,
    rootName: path.basename(walk.resolvedRoot),
    objectHash: digests.objectMd5,
    fromCache,
    bytesRead: digests.bytesRead,
  };
}

function statSyncOrUndefined(target: string): Stats | undefined {
  try {
    return fsSync.statSync(target);
  } catch {
    return undefined; // broken or looping link: the SDK hashes its name and nothing else
  }
}

async function statOrUndefined(target: string): Promise<Stats | undefined> {
  try {
    return await fs.stat(target);
  } catch {
    return undefined; // broken or looping link: the SDK hashes its name and nothing else
  }
}

/**
 * The walk of the SDK's MD5 object hash (`get_object_hash`), which names the legacy
 * `LocalUpload/<md5>/` blob folder. Per folder, entries are sorted by lower-cased name; each kept
 * entry feeds its bare name, then a file its contents or a folder its own entries, recursively. No
 * sizes, counts or separators.
 *
 * As in the SDK, the ignore check on a folder uses its bare path, so a directory-only pattern such
 * as `build/` still hashes the name `build` while excluding everything inside it. Links are
 * followed; a link that loops back to a folder being hashed contributes only its name.
 */
export async function planObjectHash(
  root: string,
  rules: IgnoreRules,
  listings?: ReadonlyMap<string, readonly Dirent[]>,
): Promise<ObjectHashPlan> {
  const events: ObjectHashEvent[] = [];
  const rootStats = await statOrUndefined(root);
  if (!rootStats) {
    throw new ContentPathError("PathNotFound", root, `No such file or directory: "${root}".`);
  }
  if (!rootStats.isDirectory()) {
    const resolved = await fs.realpath(root);
    events.push({ kind: "file", relativePath: path.basename(resolved), absolutePath: resolved });
  } else {
    // Synchronous listing, with a turn of the event loop now and then (see `walk.ts`).
    let sinceYield = 0;
    const visit = async (dir: string, relativeDir: string, ancestors: ReadonlySet<string>) => {
      const entries = [
        ...(listings?.get(relativeDir) ?? fsSync.readdirSync(dir, { withFileTypes: true })),
      ].sort((a, b) => compareSdkPathOrder(a.name, b.name));
      sinceYield += entries.length;
      if (sinceYield >= 2048) {
        sinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      for (const entry of entries) {
        const name = entry.name;
        if (name === ALWAYS_SKIPPED_NAME) {
          continue;
        }
        const relativePath = relativeDir ? `${relativeDir}/${name}` : name;
        if (rules.isIgnored(relativePath, false)) {
          continue;
        }
        events.push({ kind: "name", name });
        const entryPath = `${dir}${path.sep}${name}`; // both parts already normal
        if (entry.isFile()) {
          events.push({ kind: "file", relativePath, absolutePath: entryPath });
          continue; // a plain file needs no stat; links and folders do
        }
        const stats = statSyncOrUndefined(entryPath);
        if (stats?.isFile()) {
          events.push({ kind: "file", relativePath, absolutePath: entryPath });
        } else if (stats?.isDirectory()) {
          const identity = `${stats.dev}:${stats.ino}`;
          if (!ancestors.has(identity)) {
            await visit(entryPath, relativePath, new Set([...ancestors, identity]));
          }
        }
      }
    };
    await visit(path.resolve(root), "", new Set([`${rootStats.dev}:${rootStats.ino}`]));
  }
  const structure = createHash("sha256");
  let batch = "";
  for (const event of events) {
    batch += event.kind === "name" ? `n${event.name}\0` : `f${event.relativePath}\0`;
    if (batch.length > 65536) {
      structure.update(batch); // a few large updates rather than one per entry
      batch = "";
    }
  }
  structure.update(batch);
  return { events, structure: structure.digest("hex") };
}

/**
 * The SDK's MD5 object hash (`get_object_hash`) of `root` alone; see {@link planObjectHash}.
 * {@link computeContentHash} with `objectHash: true` computes it in the same read as the content
 * hash.
 */
export async function computeObjectHash(root: string, rules: IgnoreRules): Promise<string> {
  const plan = await planObjectHash(root, rules);
  const digest = createHash("md5").update(OBJECT_HASH_SEED);
  for (const event of plan.events) {
    if (event.kind === "name") {
      digest.update(event.name);
    } else {
      for await (const chunk of createReadStream(event.absolutePath, {
        highWaterMark: MiB,
      }) as AsyncIterable<Buffer>) {
        digest.update(chunk);
      }
    }
  }
  return digest.digest("hex");
}
