/**
 * The content-hash cache: what a folder hashed to, and the stat identity of every file it held
 * then, so that an unchanged folder is never read again (the idea of git's index and DVC's state
 * database, in a format of our own).
 *
 * - One JSON record per hashed root, named by a digest of the root's absolute path, in
 *   `<cache>/content-hash/v2/`. A record holds the SDK content hash (sha256), the MD5 object hash
 *   that names a datastore upload folder, the MD5 of each file (a blob's Content-MD5), and one
 *   digest of every file's path, size, modification and change times in nanoseconds, inode and
 *   device, with the latest of those times. (Version 1 kept each file's stamp as a row of
 *   strings; parsing 300,000 strings for a folder of 50,000 files cost more than the walk.)
 * - A record is trusted only when the walk finds exactly the same files with exactly the same
 *   stamps, and no file was modified within `racyWindowInMs` of the moment the record was hashed
 *   (git's "racy" rule: a write in the same timestamp tick as the hash would leave the stamp
 *   unchanged). A changed byte with the same size and a restored modification time still changes
 *   the change time (and a replaced file its inode).
 * - Writes go to a temporary file renamed into place, so a reader sees a whole record or none and
 *   two processes hashing the same folder at once both leave a correct record (the last rename
 *   wins). Records beyond `maxBytes` in total are removed, oldest first.
 * - A corrupt, unreadable or foreign record is ignored with one warning per process, never an error.
 *   The folders of earlier record versions (`v1/`) are removed at the first store.
 *
 * The location is `AZUREML_CACHE_DIR`, else `${XDG_CACHE_HOME:-~/.cache}/pulumi-azureml`, read at
 * run time: no cache path reaches a provider's serialized code or the stack's state.
 * `AZUREML_HASH_CACHE=off` turns the cache off.
 */
import { createHash, randomBytes } from "node:crypto";
import type { BigIntStats } from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";

/** The stat identity of one file when it was hashed. Times are nanoseconds since the epoch. */
export interface FileStamp {
  readonly size: number;
  readonly mtimeNs: string;
  readonly ctimeNs: string;
  readonly ino: string;
  readonly dev: string;
}

/** A file as the cache sees it: where it is below the root, and its stamp. */
export interface StampedFile {
  readonly relativePath: string;
  readonly stamp?: FileStamp;
}

/** What a folder hashed to. */
export interface FolderDigests {
  /** SDK content hash (hash version 202208), lower-case hex. */
  readonly sha256: string;
  /** SDK MD5 object hash, lower-case hex, when it was computed. */
  readonly objectMd5?: string;
  /** A digest of the names the MD5 object hash walked (folders and files), when it was computed. */
  readonly objectStructure?: string;
  /** Base64 MD5 of each file's bytes, by relative path, in hash order. */
  readonly fileMd5s: readonly string[];
}

/** What a record keeps of the files' stamps: enough to tell that none changed. */
export interface StampSummary {
  /** SHA-256 (hex) of every file's path and stamp, in hash order. */
  readonly stamps: string;
  /** The latest modification or change time of any file, in nanoseconds. */
  readonly latestChangeNs: string;
  readonly fileCount: number;
}

/** One cached record. */
interface CacheRecord extends FolderDigests, StampSummary {
  readonly format: typeof RECORD_FORMAT;
  readonly version: typeof RECORD_VERSION;
  readonly root: string;
  /** Wall-clock nanoseconds taken before the files were stat'ed and read. */
  readonly hashedAtNs: string;
}

/** Options of {@link openHashCache}. */
export interface HashCacheOptions {
  /** The folder holding the records (created on first write). */
  readonly dir: string;
  /**
   * A file modified this close to (or after) the moment its folder was hashed is never trusted.
   * Two seconds covers the coarsest common file systems (FAT); ext4, XFS, APFS and NTFS tick far
   * finer. @default 2000
   */
  readonly racyWindowInMs?: number;
  /** Total size of the records kept; the oldest go first beyond it. @default 256 MiB */
  readonly maxBytes?: number;
  /** Called at most once per cache with why a record or the folder could not be used. */
  readonly onWarning?: (message: string) => void;
  /**
   * Folders of records in a format this version no longer reads, removed (best effort) at the
   * first store, so that an upgrade does not leave them on disk for good.
   */
  readonly retiredDirs?: readonly string[];
}

/** A content-hash cache over one folder of records. */
export interface HashCache {
  readonly dir: string;
  /**
   * The digests recorded for `root`, when `files` (as just walked, with stamps) are exactly the
   * files recorded and none of them is racy; otherwise undefined.
   */
  lookup(root: string, files: readonly StampedFile[]): Promise<FolderDigests | undefined>;
  /** Records what `root` hashed to; `hashedAtNs` is from {@link nowNs}, taken before the walk. */
  store(
    root: string,
    hashedAtNs: bigint,
    files: readonly StampedFile[],
    digests: FolderDigests,
  ): Promise<void>;
}

const RECORD_FORMAT = "pulumi-azureml/content-hash";
const RECORD_VERSION = 2;
const MiB = 1024 * 1024;
const DEFAULT_RACY_WINDOW_IN_MS = 2000;
const DEFAULT_MAX_BYTES = 256 * MiB;
/** Temporary files of writers that died are removed after this long. */
const STALE_TEMP_IN_MS = 60 * 60 * 1000;

/** The stamp of a file from bigint stats. */
export function stampOf(stats: BigIntStats): FileStamp {
  return {
    size: Number(stats.size),
    mtimeNs: stats.mtimeNs.toString(),
    ctimeNs: stats.ctimeNs.toString(),
    ino: stats.ino.toString(),
    dev: stats.dev.toString(),
  };
}

/** Wall-clock time in nanoseconds (millisecond resolution), comparable with file times. */
export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

function laterThan(a: string, b: string): boolean {
  return a.length !== b.length ? a.length > b.length : a > b;
}

/**
 * The summary of `files` as walked, or undefined when a file has no stamp. Any change of a path, a
 * size, a time, an inode or a device, or a file added, removed or renamed, changes `stamps`.
 */
export function summarizeStamps(files: readonly StampedFile[]): StampSummary | undefined {
  const digest = createHash("sha256");
  let latest = "0";
  let batch = "";
  for (const file of files) {
    const s = file.stamp;
    if (s === undefined) {
      return undefined;
    }
    // NUL cannot occur in a path; one update per few hundred files keeps this cheap.
    batch += `${file.relativePath}\0${s.size}\0${s.mtimeNs}\0${s.ctimeNs}\0${s.ino}\0${s.dev}\n`;
    if (batch.length > 65536) {
      digest.update(batch);
      batch = "";
    }
    // Decimal strings without leading zeros: the longer, or else the greater, is the later.
    if (laterThan(s.mtimeNs, latest)) {
      latest = s.mtimeNs;
    }
    if (laterThan(s.ctimeNs, latest)) {
      latest = s.ctimeNs;
    }
  }
  digest.update(batch);
  return {
    stamps: digest.digest("hex"),
    latestChangeNs: latest,
    fileCount: files.length,
  };
}

/**
 * Whether a file stamped `stamp` may have changed again within the same timestamp tick as the
 * hash taken at `hashedAtNs`: modified or changed less than `racyWindowNs` before it (or after).
 */
export function isRacy(stamp: FileStamp, hashedAtNs: bigint, racyWindowNs: bigint): boolean {
  const latest =
    BigInt(stamp.mtimeNs) > BigInt(stamp.ctimeNs) ? BigInt(stamp.mtimeNs) : BigInt(stamp.ctimeNs);
  return latest + racyWindowNs > hashedAtNs;
}

/**
 * Pure: whether `record` may stand for the files whose summary is `now`. Every file must be
 * there, in the same order, with the same stamp, and none may be racy (the latest change of all
 * files is racy exactly when one file is).
 */
export function recordMatches(
  record: StampSummary & { readonly hashedAtNs: string },
  now: StampSummary | undefined,
  racyWindowNs: bigint,
): boolean {
  return (
    now !== undefined &&
    record.fileCount === now.fileCount &&
    record.stamps === now.stamps &&
    record.latestChangeNs === now.latestChangeNs &&
    BigInt(record.latestChangeNs) + racyWindowNs <= BigInt(record.hashedAtNs)
  );
}

function isRecord(value: unknown): value is CacheRecord {
  const r = value as Partial<CacheRecord> | null;
  return (
    typeof r === "object" &&
    r !== null &&
    r.format === RECORD_FORMAT &&
    r.version === RECORD_VERSION &&
    typeof r.root === "string" &&
    typeof r.hashedAtNs === "string" &&
    /^\d+$/.test(r.hashedAtNs) &&
    typeof r.sha256 === "string" &&
    typeof r.stamps === "string" &&
    typeof r.latestChangeNs === "string" &&
    /^\d+$/.test(r.latestChangeNs) &&
    typeof r.fileCount === "number" &&
    Array.isArray(r.fileMd5s) &&
    r.fileMd5s.length === r.fileCount &&
    r.fileMd5s.every((m) => typeof m === "string")
  );
}

/** The record file of a root. */
export function recordFileName(root: string): string {
  return `${createHash("sha256").update(root).digest("hex").slice(0, 40)}.json`;
}

/** Opens (lazily) the cache in `options.dir`. Nothing touches the disk until a lookup or store. */
export function openHashCache(options: HashCacheOptions): HashCache {
  const dir = options.dir;
  const racyWindowNs = BigInt(options.racyWindowInMs ?? DEFAULT_RACY_WINDOW_IN_MS) * 1_000_000n;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  let warned = false;
  const warn = (message: string): void => {
    if (!warned) {
      warned = true;
      options.onWarning?.(message);
    }
  };
  const fileOf = (root: string) => path.join(dir, recordFileName(root));
  let retired = false;
  const removeRetired = async (): Promise<void> => {
    if (retired) {
      return;
    }
    retired = true;
    for (const old of options.retiredDirs ?? []) {
      await fs.rm(old, { recursive: true, force: true }).catch(() => undefined);
    }
  };

  /** Removes the oldest records beyond `maxBytes`, never `keep` (the record just written). */
  const prune = async (keep: string): Promise<void> => {
    const names = await fs.readdir(dir);
    const now = Date.now();
    const records: { file: string; size: number; mtimeMs: number }[] = [];
    let total = 0;
    for (const name of names) {
      const file = path.join(dir, name);
      const stats = await fs.stat(file).catch(() => undefined);
      if (!stats?.isFile()) {
        continue;
      }
      if (name.endsWith(".tmp")) {
        if (now - stats.mtimeMs > STALE_TEMP_IN_MS) {
          await fs.rm(file, { force: true });
        }
        continue;
      }
      total += stats.size;
      if (file !== keep) {
        records.push({ file, size: stats.size, mtimeMs: stats.mtimeMs });
      }
    }
    records.sort((a, b) => a.mtimeMs - b.mtimeMs);
    for (const record of records) {
      if (total <= maxBytes) {
        break;
      }
      await fs.rm(record.file, { force: true });
      total -= record.size;
    }
  };

  return {
    dir,
    async lookup(root, files) {
      const file = fileOf(root);
      let text: string;
      try {
        text = await fs.readFile(file, "utf8");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") {
          warn(
            `The content-hash cache ${file} could not be read (${(e as Error).message}); ` +
              "hashing without it.",
          );
        }
        return undefined;
      }
      let record: unknown;
      try {
        record = JSON.parse(text);
      } catch {
        record = undefined;
      }
      if (!isRecord(record) || record.root !== root) {
        warn(
          `The content-hash cache record ${file} is corrupt or from another version; it is ` +
            "ignored and will be rewritten.",
        );
        return undefined;
      }
      if (!recordMatches(record, summarizeStamps(files), racyWindowNs)) {
        return undefined;
      }
      return {
        sha256: record.sha256,
        objectMd5: record.objectMd5,
        objectStructure: record.objectStructure,
        fileMd5s: record.fileMd5s,
      };
    },
    async store(root, hashedAtNs, files, digests) {
      const summary = summarizeStamps(files);
      if (summary === undefined) {
        return;
      }
      const record: CacheRecord = {
        ...summary,
        format: RECORD_FORMAT,
        version: RECORD_VERSION,
        root,
        hashedAtNs: hashedAtNs.toString(),
        sha256: digests.sha256,
        objectMd5: digests.objectMd5,
        objectStructure: digests.objectStructure,
        fileMd5s: digests.fileMd5s,
      };
      const file = fileOf(root);
      const temp = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
      try {
        await fs.mkdir(dir, { recursive: true });
        await fs.writeFile(temp, JSON.stringify(record));
        await fs.rename(temp, file);
        await prune(file);
        await removeRetired();
      } catch (e) {
        await fs.rm(temp, { force: true }).catch(() => undefined);
        warn(
          `The content-hash cache in ${dir} could not be written (${(e as Error).message}); ` +
            "hashing without it.",
        );
      }
    },
  };
}

/** Where the cache lives by default: `AZUREML_CACHE_DIR`, else the user's cache folder. */
export function defaultCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.AZUREML_CACHE_DIR) {
    return path.resolve(env.AZUREML_CACHE_DIR);
  }
  const base = env.XDG_CACHE_HOME ? env.XDG_CACHE_HOME : path.join(os.homedir(), ".cache");
  return path.join(base, "pulumi-azureml");
}

/**
 * The cache the environment asks for, or undefined when `AZUREML_HASH_CACHE=off`. Read at run
 * time, inside the provider host.
 */
export function hashCacheFromEnvironment(
  onWarning?: (message: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): HashCache | undefined {
  if ((env.AZUREML_HASH_CACHE ?? "").toLowerCase() === "off") {
    return undefined;
  }
  const root = path.join(defaultCacheRoot(env), "content-hash");
  return openHashCache({
    dir: path.join(root, `v${RECORD_VERSION}`),
    onWarning,
    retiredDirs: Array.from({ length: RECORD_VERSION - 1 }, (_, i) => path.join(root, `v${i + 1}`)),
  });
}
