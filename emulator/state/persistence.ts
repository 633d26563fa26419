/**
 * Optional persistence of a Store as one JSON file under `dataDir`: loaded at start, written
 * after each change (coalesced to one write per event-loop turn, atomically via rename).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Store, StoreSnapshot } from "./store";

export const STATE_FILE_NAME = "control-plane.json";

/** Options for attachFilePersistence. */
export interface FilePersistenceOptions {
  /** Reports a failed background write. @default one line on stderr */
  readonly log?: (message: string) => void;
}

export interface FilePersistence {
  /** The file the state lives in. */
  readonly filePath: string;
  /** Writes any pending change now; rejects when the write fails (the change stays pending). */
  flush(): Promise<void>;
  /** Stops watching the store and writes any pending change; rejects when that write fails. */
  close(): Promise<void>;
}

/** Loads `dataDir/control-plane.json` into the store when it exists, then saves after each change. */
export function attachFilePersistence(
  store: Store,
  dataDir: string,
  options: FilePersistenceOptions = {},
): FilePersistence {
  const log =
    options.log ?? ((message: string) => process.stderr.write(`azureml-emulator: ${message}\n`));
  const filePath = path.join(dataDir, STATE_FILE_NAME);
  fs.mkdirSync(dataDir, { recursive: true });
  if (fs.existsSync(filePath)) {
    const snapshot = JSON.parse(fs.readFileSync(filePath, "utf8")) as StoreSnapshot;
    store.restore(snapshot);
  }

  // `dirty` outlives a failed write, so the next change or close() writes everything again.
  let dirty = false;
  let scheduled: NodeJS.Immediate | undefined;
  const write = () => {
    const tmp = `${filePath}.${process.pid}.tmp`;
    try {
      fs.writeFileSync(tmp, JSON.stringify(store.snapshot()));
      fs.renameSync(tmp, filePath);
    } catch (error) {
      removeQuietly(tmp);
      throw error;
    }
    dirty = false;
  };
  const writeInBackground = () => {
    scheduled = undefined;
    try {
      write();
    } catch (error) {
      // A full disk or a read-only folder must not stop the emulator; the state stays in memory.
      log(
        `could not save the control-plane state to ${filePath}; it is kept in memory and ` +
          `saved again after the next change: ${(error as Error).message}`,
      );
    }
  };
  const unsubscribe = store.onChange(() => {
    dirty = true;
    scheduled ??= setImmediate(writeInBackground);
  });

  const flush = async () => {
    if (scheduled !== undefined) {
      clearImmediate(scheduled);
      scheduled = undefined;
    }
    if (dirty) {
      write();
    }
  };
  return {
    filePath,
    flush,
    async close() {
      unsubscribe();
      await flush();
    },
  };
}

/** Best effort: a leftover temporary file is harmless, the write error is what matters. */
function removeQuietly(file: string): void {
  try {
    fs.rmSync(file, { force: true });
  } catch {
    // e.g. the path is a directory: leave it
  }
}
