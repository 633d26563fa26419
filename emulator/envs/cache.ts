/**
 * The emulator's cache of Python environments, outside any work tree, and the one way a cached
 * folder comes to exist: built once under a lock file (across processes), in a staging folder
 * beside it, then renamed into place. A folder under its final name is always complete.
 */
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** Moves the cache (default `${XDG_CACHE_HOME:-~/.cache}/pulumi-azureml`). */
export const CACHE_DIR_ENV = "AZUREML_EMULATOR_CACHE_DIR";

/** The emulator's cache root. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env[CACHE_DIR_ENV];
  if (explicit !== undefined && explicit !== "") {
    return path.resolve(explicit);
  }
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg !== undefined && xdg !== "" ? xdg : path.join(os.homedir(), ".cache");
  return path.join(path.resolve(base), "pulumi-azureml");
}

/** Written last inside a finished build, before it is renamed into place. */
export const COMPLETE_MARKER = ".azureml-emulator-complete";

/** How often a waiting process looks at a lock held by another. */
const LOCK_POLL_INTERVAL_IN_MS = 250;

export interface BuildOnceOptions {
  /** Told once when another process is building the same folder and this one waits. */
  readonly onWait?: (holder: string) => void;
  readonly signal?: AbortSignal;
}

export interface BuildOnceResult {
  /** True when this call ran `build`. */
  readonly built: boolean;
  /** True when this call waited for another process's build. */
  readonly waited: boolean;
}

/**
 * Makes `finalDir` exist, complete: returns at once when it does; otherwise takes
 * `<finalDir>.lock` (waiting while another live process holds it), runs `build` on an empty
 * staging folder and renames that into place. A failed or aborted build leaves nothing behind.
 */
export async function buildOnce(
  finalDir: string,
  build: (stagingDir: string) => Promise<void>,
  options: BuildOnceOptions = {},
): Promise<BuildOnceResult> {
  const lockPath = `${finalDir}.lock`;
  let waited = false;
  await fs.mkdir(path.dirname(finalDir), { recursive: true });
  for (;;) {
    options.signal?.throwIfAborted();
    if (await isComplete(finalDir)) {
      return { built: false, waited };
    }
    const lock = await tryLock(lockPath);
    if (lock.acquired) {
      try {
        // The holder may have finished between the check above and taking the lock.
        if (await isComplete(finalDir)) {
          return { built: false, waited };
        }
        await removeLeftovers(finalDir);
        const staging = `${finalDir}.staging-${process.pid}-${randomBytes(4).toString("hex")}`;
        await fs.mkdir(staging);
        try {
          await build(staging);
          options.signal?.throwIfAborted();
          await fs.writeFile(path.join(staging, COMPLETE_MARKER), new Date().toISOString());
          await fs.rename(staging, finalDir);
        } catch (error) {
          await fs.rm(staging, { recursive: true, force: true });
          throw error;
        }
        return { built: true, waited };
      } finally {
        await fs.rm(lockPath, { force: true });
      }
    }
    if (!waited) {
      waited = true;
      options.onWait?.(lock.holder);
    }
    await sleep(LOCK_POLL_INTERVAL_IN_MS, undefined, { signal: options.signal });
  }
}

async function isComplete(dir: string): Promise<boolean> {
  try {
    await fs.access(path.join(dir, COMPLETE_MARKER));
    return true;
  } catch {
    return false;
  }
}

type LockAttempt = { acquired: true } | { acquired: false; holder: string };

async function tryLock(lockPath: string): Promise<LockAttempt> {
  const owner = JSON.stringify({ pid: process.pid, host: os.hostname(), at: Date.now() });
  try {
    await fs.writeFile(lockPath, owner, { flag: "wx" });
    return { acquired: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
      throw error;
    }
  }
  let text: string;
  try {
    text = await fs.readFile(lockPath, "utf8");
  } catch {
    // Released between our attempt and this read: try again at once.
    return tryLock(lockPath);
  }
  const holder = parseOwner(text);
  if (holder !== undefined && holder.host === os.hostname() && !isAlive(holder.pid)) {
    // Its holder died mid-build. Removing it races only with another process doing the same;
    // the worst outcome is two builds of equal content, and the rename lets just one in.
    await fs.rm(lockPath, { force: true });
    return tryLock(lockPath);
  }
  return { acquired: false, holder: holder === undefined ? "unknown" : `process ${holder.pid}` };
}

function parseOwner(text: string): { pid: number; host: string } | undefined {
  try {
    const value = JSON.parse(text) as { pid?: unknown; host?: unknown };
    if (typeof value.pid === "number" && typeof value.host === "string") {
      return { pid: value.pid, host: value.host };
    }
  } catch {
    // A lock being written right now reads as empty: treat its holder as alive.
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Staging folders of builds that died, and a final folder without its marker. */
async function removeLeftovers(finalDir: string): Promise<void> {
  const parent = path.dirname(finalDir);
  const prefix = `${path.basename(finalDir)}.staging-`;
  for (const entry of await fs.readdir(parent)) {
    if (entry.startsWith(prefix)) {
      await fs.rm(path.join(parent, entry), { recursive: true, force: true });
    }
  }
  await fs.rm(finalDir, { recursive: true, force: true });
}
