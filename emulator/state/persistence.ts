/**
 * Optional persistence of a Store as one JSON file under `dataDir`: loaded at start, written
 * after each change (coalesced to one write per event-loop turn, atomically via rename).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Store, StoreSnapshot } from "./store";

export const STATE_FILE_NAME = "control-plane.json";

export interface FilePersistence {
  /** The file the state lives in. */
  readonly filePath: string;
  /** Writes any pending change now. */
  flush(): Promise<void>;
  /** Stops watching the store and writes any pending change. */
  close(): Promise<void>;
}

/** Loads `dataDir/control-plane.json` into the store when it exists, then saves after each change. */
export function attachFilePersistence(store: Store, dataDir: string): FilePersistence {
  const filePath = path.join(dataDir, STATE_FILE_NAME);
  fs.mkdirSync(dataDir, { recursive: true });
  if (fs.existsSync(filePath)) {
    const snapshot = JSON.parse(fs.readFileSync(filePath, "utf8")) as StoreSnapshot;
    store.restore(snapshot);
  }

  let pending: NodeJS.Immediate | undefined;
  const save = () => {
    pending = undefined;
    const tmp = `${filePath}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(store.snapshot()));
    fs.renameSync(tmp, filePath);
  };
  const unsubscribe = store.onChange(() => {
    pending ??= setImmediate(save);
  });

  const flush = async () => {
    if (pending !== undefined) {
      clearImmediate(pending);
      save();
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
