/**
 * Lists the files of a code folder the way the Azure ML SDK does before hashing or uploading it:
 * `os.walk(root, followlinks=True)` minus ignored files, each file named by its path relative to
 * the root with `/` separators, sorted by the lower-cased relative path.
 *
 * Where we differ on purpose:
 * - Broken symbolic links and links that loop back to a folder being walked are skipped and
 *   reported in `skippedSymlinks` (the SDK crashes on the first and never ends on the second).
 * - Ignored entries are never followed, so an ignored link to a huge folder costs nothing
 *   (Azure/azure-sdk-for-python#28035). An ignored directory is pruned, not walked.
 * - `.git` is always skipped (see `ignore.ts`).
 * - FIFOs, sockets and devices are skipped and reported (reading a FIFO would block).
 */
import * as fs from "node:fs/promises";
import * as fsSync from "node:fs";
import type { BigIntStats, Dirent } from "node:fs";
import * as path from "node:path";
import { ContentPathError } from "./errors";
import { ALWAYS_SKIPPED_NAME, type IgnoreRules } from "./ignore";
import { sortBySdkPathOrder } from "./order";
import { stampOf, type FileStamp } from "./hashCache";

/** One file to hash or upload. */
export interface WalkedFile {
  /** Absolute path; for a file reached through a symbolic link, the path through the link. */
  readonly absolutePath: string;
  /** Path relative to the code folder, with `/` separators; a link keeps its own name. */
  readonly relativePath: string;
  /** Size in bytes when the folder was walked. */
  readonly size: number;
  /** The file's stat identity when it was walked (for the content-hash cache). */
  readonly stamp?: FileStamp;
}

/** Options of {@link walkFiles}. */
export interface WalkOptions {
  /**
   * Follow symbolic links to files and folders, like `os.walk(followlinks=True)` in the SDK.
   * When false, links are skipped and reported in `skippedSymlinks`.
   * @default true
   */
  readonly followSymlinks?: boolean;
  readonly abortSignal?: AbortSignal;
}

/** What {@link walkFiles} found. */
export interface WalkResult {
  /** The files, in the SDK's content-hash order. */
  readonly files: WalkedFile[];
  /** Entries excluded by the ignore rules; a pruned directory counts once. `.git` is not counted. */
  readonly ignoredCount: number;
  /** Relative paths of links that were not followed: broken, looping, or with links turned off. */
  readonly skippedSymlinks: string[];
  /** Relative paths of FIFOs, sockets and devices, which are never read. */
  readonly skippedSpecialFiles: string[];
  /** Whether the root was a single file rather than a folder. */
  readonly rootIsFile: boolean;
  /** The root after resolving symbolic links. */
  readonly resolvedRoot: string;
  /**
   * Each listed folder's entries, by its relative path (`""` for the root), so that the MD5
   * object hash's walk (`planObjectHash`) need not list them again.
   */
  readonly listings: ReadonlyMap<string, readonly Dirent[]>;
}

/** Entries handled between two turns of the event loop. */
const YIELD_EVERY_ENTRIES = 2048;

function errnoCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

function fileIdentity(stats: BigIntStats): string {
  return `${stats.dev}:${stats.ino}`;
}

async function resolveRoot(root: string): Promise<{ resolved: string; stats: BigIntStats }> {
  const absolute = path.resolve(root);
  try {
    const resolved = await fs.realpath(absolute);
    return { resolved, stats: await fs.stat(resolved, { bigint: true }) };
  } catch (e) {
    const code = errnoCode(e);
    if (code === "ENOENT" || code === "ENOTDIR" || code === "ELOOP") {
      throw new ContentPathError(
        "PathNotFound",
        root,
        `No such file or directory: "${root}"${code === "ELOOP" ? " (symbolic link loop)" : ""}.`,
        { cause: e },
      );
    }
    throw e;
  }
}

/**
 * Lists the files under `root` that `rules` keep, in the SDK's order. A single-file root yields
 * one file named by its base name (after resolving a link, as the SDK does).
 */
export async function walkFiles(
  root: string,
  rules: IgnoreRules,
  options: WalkOptions = {},
): Promise<WalkResult> {
  const followSymlinks = options.followSymlinks ?? true;
  const abortSignal = options.abortSignal;
  abortSignal?.throwIfAborted();

  const { resolved, stats: rootStats } = await resolveRoot(root);
  if (rootStats.isFile()) {
    return {
      files: [
        {
          absolutePath: resolved,
          relativePath: path.basename(resolved),
          size: Number(rootStats.size),
          stamp: stampOf(rootStats),
        },
      ],
      ignoredCount: 0,
      skippedSymlinks: [],
      skippedSpecialFiles: [],
      rootIsFile: true,
      resolvedRoot: resolved,
      listings: new Map(),
    };
  }
  if (!rootStats.isDirectory()) {
    throw new ContentPathError(
      "UnsupportedPathType",
      root,
      `"${root}" is neither a file nor a folder, so it cannot be hashed or uploaded.`,
    );
  }

  const files: WalkedFile[] = [];
  const skippedSymlinks: string[] = [];
  const skippedSpecialFiles: string[] = [];
  let ignoredCount = 0;

  // Directories still to list, each with the identities of the folders above it (for cycles).
  const pending: {
    absoluteDir: string;
    relativeDir: string;
    ancestors: ReadonlySet<string>;
  }[] = [{ absoluteDir: resolved, relativeDir: "", ancestors: new Set([fileIdentity(rootStats)]) }];
  let sinceYield = 0;
  const listings = new Map<string, Dirent[]>();

  /** Lists one directory: files are stat'ed, folders (and linked folders) queued. */
  const listDirectory = (
    absoluteDir: string,
    relativeDir: string,
    ancestors: ReadonlySet<string>,
  ) => {
    const entries = fsSync.readdirSync(absoluteDir, { withFileTypes: true });
    listings.set(relativeDir, entries);
    for (const entry of entries) {
      if (entry.name === ALWAYS_SKIPPED_NAME) {
        continue;
      }
      const relativePath = relativeDir ? `${relativeDir}/${entry.name}` : entry.name;
      // Concatenation, not path.join: both parts are already normal, and this runs per entry.
      const absolutePath = `${absoluteDir}${path.sep}${entry.name}`;
      let kind: "file" | "directory" | "symlink" | "other";
      if (entry.isFile()) {
        kind = "file";
      } else if (entry.isDirectory()) {
        kind = "directory";
      } else if (entry.isSymbolicLink()) {
        kind = "symlink";
      } else {
        // Some file systems report no type in readdir; ask lstat.
        const lstats = fsSync.lstatSync(absolutePath);
        kind = lstats.isFile()
          ? "file"
          : lstats.isDirectory()
            ? "directory"
            : lstats.isSymbolicLink()
              ? "symlink"
              : "other";
      }

      if (kind === "symlink") {
        // Checked before following: an ignored link is never followed.
        if (rules.isIgnored(relativePath, false)) {
          ignoredCount++;
          continue;
        }
        if (!followSymlinks) {
          skippedSymlinks.push(relativePath);
          continue;
        }
        let target: BigIntStats;
        try {
          target = fsSync.statSync(absolutePath, { bigint: true });
        } catch (e) {
          const code = errnoCode(e);
          if (code === "ENOENT" || code === "ELOOP" || code === "ENOTDIR" || code === "EACCES") {
            skippedSymlinks.push(relativePath); // broken or self-referencing link
            continue;
          }
          throw e;
        }
        if (target.isDirectory()) {
          if (rules.isIgnored(relativePath, true)) {
            ignoredCount++;
            continue;
          }
          const identity = fileIdentity(target);
          if (ancestors.has(identity)) {
            skippedSymlinks.push(relativePath); // a cycle: os.walk would never end
            continue;
          }
          pending.push({
            absoluteDir: absolutePath,
            relativeDir: relativePath,
            ancestors: new Set([...ancestors, identity]),
          });
        } else if (target.isFile()) {
          files.push({
            absolutePath,
            relativePath,
            size: Number(target.size),
            stamp: stampOf(target),
          });
        } else {
          skippedSpecialFiles.push(relativePath);
        }
        continue;
      }

      if (kind === "directory") {
        if (rules.isIgnored(relativePath, true)) {
          ignoredCount++;
          continue;
        }
        const stats = fsSync.statSync(absolutePath, { bigint: true });
        pending.push({
          absoluteDir: absolutePath,
          relativeDir: relativePath,
          ancestors: new Set([...ancestors, fileIdentity(stats)]),
        });
        continue;
      }

      if (rules.isIgnored(relativePath, false)) {
        ignoredCount++;
        continue;
      }
      if (kind === "file") {
        const stats = fsSync.statSync(absolutePath, { bigint: true });
        files.push({ absolutePath, relativePath, size: Number(stats.size), stamp: stampOf(stats) });
      } else {
        skippedSpecialFiles.push(relativePath);
      }
    }
  };

  // Synchronous calls in batches: a stat answered from the kernel's cache takes microseconds, and
  // a promise per file (a thread-pool round trip, a limiter slot, garbage) cost several times the
  // call itself on a folder of 50,000 files. The event loop gets a turn after every
  // YIELD_EVERY_ENTRIES entries, so the provider host stays responsive and an abort is heard.
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    abortSignal?.throwIfAborted();
    const before = files.length;
    listDirectory(next.absoluteDir, next.relativeDir, next.ancestors);
    sinceYield += files.length - before + 1;
    if (sinceYield >= YIELD_EVERY_ENTRIES) {
      sinceYield = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  return {
    files: sortBySdkPathOrder(files, (f) => f.relativePath),
    ignoredCount,
    skippedSymlinks: skippedSymlinks.sort(),
    skippedSpecialFiles: skippedSpecialFiles.sort(),
    rootIsFile: false,
    resolvedRoot: resolved,
    listings,
  };
}
