import { promises as fs, existsSync, readFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { attachFilePersistence, STATE_FILE_NAME } from "../../emulator/state/persistence";
import { createMemoryStore } from "../../emulator/state/store";

/** Lets every setImmediate queued so far run (the background write is one). */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("emulator state file", () => {
  let dataDir: string;
  let blocker: string;

  beforeEach(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "azureml-persistence-"));
    // A directory where the temporary file goes makes every write fail, even as root.
    blocker = path.join(dataDir, `${STATE_FILE_NAME}.${process.pid}.tmp`);
  });

  afterEach(async () => {
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  const saved = () =>
    JSON.parse(readFileSync(path.join(dataDir, STATE_FILE_NAME), "utf8")).collections;

  it("logs a failed background write instead of crashing, and saves everything on the next change @unit", async () => {
    const store = createMemoryStore();
    const logs: string[] = [];
    const persistence = attachFilePersistence(store, dataDir, { log: (m) => logs.push(m) });
    await fs.mkdir(blocker);

    store.put("things", "a", 1);
    await nextTurn();
    expect(logs).to.have.length(1);
    expect(logs[0])
      .to.contain("could not save the control-plane state")
      .and.contain("kept in memory");
    expect(existsSync(path.join(dataDir, STATE_FILE_NAME))).to.equal(false);

    await fs.rm(blocker, { recursive: true });
    store.put("things", "b", 2);
    await nextTurn();
    expect(saved()).to.deep.equal({ things: { a: 1, b: 2 } });
    expect(logs).to.have.length(1);
    await persistence.close();
  });

  it("keeps a failed change pending for close(), which rejects while the write still fails @unit", async () => {
    const store = createMemoryStore();
    const logs: string[] = [];
    const persistence = attachFilePersistence(store, dataDir, { log: (m) => logs.push(m) });
    await fs.mkdir(blocker);
    store.put("things", "a", 1);
    await nextTurn();

    const failures: unknown[] = [];
    await persistence.flush().catch((e: unknown) => failures.push(e));
    await persistence.close().catch((e: unknown) => failures.push(e));
    expect(failures.map((e) => (e as NodeJS.ErrnoException).code)).to.deep.equal([
      "EISDIR",
      "EISDIR",
    ]);

    await fs.rm(blocker, { recursive: true });
    await persistence.close();
    expect(saved()).to.deep.equal({ things: { a: 1 } });
  });

  it("reloads the saved state into a fresh store @unit", async () => {
    const first = createMemoryStore();
    const persistence = attachFilePersistence(first, dataDir, { log: () => undefined });
    first.put("things", "a", { x: 1 });
    await persistence.close();

    const second = createMemoryStore();
    await attachFilePersistence(second, dataDir).close();
    expect(second.get("things", "a")).to.deep.equal({ x: 1 });
  });
});
