import { expect } from "chai";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import {
  computeContentHash,
  computeObjectHash,
  hashFileList,
} from "../../provider/upload/contentHash";
import {
  hashCacheFromEnvironment,
  isRacy,
  openHashCache,
  recordFileName,
  recordMatches,
  summarizeStamps,
  type FileStamp,
} from "../../provider/upload/hashCache";
import { loadIgnoreRules } from "../../provider/upload/ignore";
import { walkFiles } from "../../provider/upload/walk";

const run = promisify(execFile);
const WORKER = path.resolve(__dirname, "../support/hashCacheWorker.js");

/** Waits long enough for the file system's change-time clock (a coarse tick) to move on. */
const nextTick = () => new Promise((resolve) => setTimeout(resolve, 30));

async function writeFiles(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [relative, data] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(root, relative)), { recursive: true });
    await fs.writeFile(path.join(root, relative), data);
  }
}

/** A folder where the SDK's two orders differ: "data.csv" sorts before "data/…" by full path only. */
const TREE = {
  "data.csv": "a,b\n1,2\n",
  "data/x.txt": "x",
  "a-b.txt": "dash",
  "a/c.txt": "slash",
  "big.bin": Buffer.alloc(300_000, 7),
  "build/out.o": "ignored by a directory pattern",
  ".amlignore": "build/\n",
};

describe("content-hash cache @unit", () => {
  let tmp: string;
  let root: string;
  let cacheDir: string;
  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "aml-hashcache-"));
    root = path.join(tmp, "data");
    cacheDir = path.join(tmp, "cache");
    await writeFiles(root, TREE);
    await fs.mkdir(path.join(root, "empty-folder"));
    await nextTick(); // hash times have millisecond resolution: a write in the same one is racy
  });
  afterEach(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it("@unit one read gives the SDK content hash, the MD5 object hash and each file's MD5", async () => {
    const rules = await loadIgnoreRules(root);
    const walk = await walkFiles(root, rules);
    const result = await computeContentHash(root, { objectHash: true });
    expect(result.hash).to.equal(await hashFileList(walk.files));
    expect(result.objectHash).to.equal(await computeObjectHash(root, rules));
    expect(result.bytesRead, "every byte read once").to.equal(result.byteCount);
    for (const file of result.files) {
      const md5 = createHash("md5")
        .update(await fs.readFile(file.absolutePath))
        .digest("base64");
      expect(file.md5, file.relativePath).to.equal(md5);
    }
  });

  it("@unit a file that does not fit the reorder buffer is read again, and the hashes stay right", async () => {
    const rules = await loadIgnoreRules(root);
    const tiny = { maxBytes: 2, wholeFileLimitInBytes: 2 };
    const result = await computeContentHash(root, { objectHash: true, readAhead: tiny });
    expect(result.objectHash).to.equal(await computeObjectHash(root, rules));
    expect(result.bytesRead).to.be.greaterThan(result.byteCount);
  });

  it("@unit an unchanged folder is not read again, and gives the same digests", async () => {
    const cache = openHashCache({ dir: cacheDir, racyWindowInMs: 0 });
    const first = await computeContentHash(root, { objectHash: true, cache });
    const second = await computeContentHash(root, { objectHash: true, cache });
    expect(first.fromCache).to.equal(false);
    expect(second.fromCache).to.equal(true);
    expect(second.bytesRead).to.equal(0);
    expect(second.hash).to.equal(first.hash);
    expect(second.objectHash).to.equal(first.objectHash);
    expect(second.files.map((f) => f.md5)).to.deep.equal(first.files.map((f) => f.md5));
  });

  it("@unit a changed byte with the same size and a restored modification time is caught by the change time", async () => {
    const cache = openHashCache({ dir: cacheDir, racyWindowInMs: 0 });
    const file = path.join(root, "data.csv");
    await fs.utimes(file, 1_600_000_000, 1_600_000_000); // whole seconds: restorable exactly
    const first = await computeContentHash(root, { cache });
    const before = await fs.stat(file, { bigint: true });
    await nextTick();
    await fs.writeFile(file, "a,b\n1,3\n"); // same size
    await fs.utimes(file, before.atime, before.mtime);
    const after = await fs.stat(file, { bigint: true });
    expect(after.mtimeNs, "modification time restored").to.equal(before.mtimeNs);
    expect(after.size).to.equal(before.size);
    await nextTick();

    const second = await computeContentHash(root, { cache });
    expect(second.fromCache).to.equal(false);
    expect(second.hash).to.not.equal(first.hash);
  });

  it("@unit a file replaced by another with the same size and times is caught by its inode", async () => {
    const cache = openHashCache({ dir: cacheDir, racyWindowInMs: 0 });
    const first = await computeContentHash(root, { cache });
    const file = path.join(root, "a-b.txt");
    const before = await fs.stat(file);
    await fs.writeFile(`${file}.new`, "DASH");
    await fs.utimes(`${file}.new`, before.atime, before.mtime);
    await fs.rename(`${file}.new`, file);
    await nextTick();
    const second = await computeContentHash(root, { cache });
    expect(second.fromCache).to.equal(false);
    expect(second.hash).to.not.equal(first.hash);
  });

  it("@unit a folder hashed within the timestamp granularity of a write is hashed again (git's racy rule)", async () => {
    const cache = openHashCache({ dir: cacheDir, racyWindowInMs: 60_000 });
    await computeContentHash(root, { cache });
    const second = await computeContentHash(root, { cache });
    expect(second.fromCache, "files written a moment ago are never trusted").to.equal(false);
  });

  it("@unit a record whose stamps all match is still refused when a file is racy", () => {
    const stamp: FileStamp = {
      size: 3,
      mtimeNs: "1000000000000",
      ctimeNs: "1000000000000",
      ino: "7",
      dev: "1",
    };
    const files = [{ relativePath: "a.txt", stamp }];
    const record = {
      ...summarizeStamps(files)!,
      hashedAtNs: "1000500000000", // 0.5 s after the write
    };
    expect(isRacy(stamp, 1_000_500_000_000n, 2_000_000_000n)).to.equal(true);
    expect(recordMatches(record, summarizeStamps(files), 2_000_000_000n)).to.equal(false);
    expect(recordMatches(record, summarizeStamps(files), 100_000_000n)).to.equal(true);
    for (const changed of [
      { ino: "8" },
      { dev: "2" },
      { size: 4 },
      { ctimeNs: "999000000000" }, // an older time is a change too
    ]) {
      expect(
        recordMatches(
          record,
          summarizeStamps([{ relativePath: "a.txt", stamp: { ...stamp, ...changed } }]),
          0n,
        ),
        JSON.stringify(changed),
      ).to.equal(false);
    }
    expect(
      recordMatches(record, summarizeStamps([{ relativePath: "b.txt", stamp }]), 0n),
      "renamed",
    ).to.equal(false);
    expect(
      recordMatches(record, summarizeStamps([...files, { relativePath: "b.txt", stamp }]), 0n),
      "a file added",
    ).to.equal(false);
    expect(recordMatches(record, summarizeStamps([{ relativePath: "a.txt" }]), 0n)).to.equal(false);
  });

  it("@unit a deleted cache is rebuilt without a warning", async () => {
    const warnings: string[] = [];
    const cache = openHashCache({
      dir: cacheDir,
      racyWindowInMs: 0,
      onWarning: (m) => warnings.push(m),
    });
    await computeContentHash(root, { cache });
    await fs.rm(cacheDir, { recursive: true });
    expect((await computeContentHash(root, { cache })).fromCache).to.equal(false);
    expect((await computeContentHash(root, { cache })).fromCache).to.equal(true);
    expect(warnings).to.deep.equal([]);
  });

  for (const [what, contents] of [
    ["a corrupt record", "{not json"],
    [
      "a record written by another version",
      JSON.stringify({ format: "pulumi-azureml/content-hash", version: 1, root: "x", files: [] }),
    ],
  ] as const) {
    it(`@unit ${what} is ignored with one warning, then rewritten`, async () => {
      const warnings: string[] = [];
      const cache = openHashCache({
        dir: cacheDir,
        racyWindowInMs: 0,
        onWarning: (m) => warnings.push(m),
      });
      const reference = await computeContentHash(root);
      await fs.mkdir(cacheDir, { recursive: true });
      const key = `${await fs.realpath(root)}${path.sep}`;
      await fs.writeFile(path.join(cacheDir, recordFileName(key)), contents);
      const first = await computeContentHash(root, { cache });
      expect(first.hash).to.equal(reference.hash);
      expect(first.fromCache).to.equal(false);
      const second = await computeContentHash(root, { cache });
      expect(second.fromCache, "rewritten").to.equal(true);
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.match(/corrupt or from another version; it is ignored/);
    });
  }

  it("@unit a cache folder that cannot be written gives one warning and correct hashes", async () => {
    const warnings: string[] = [];
    const blocked = path.join(tmp, "a-file");
    await fs.writeFile(blocked, "not a folder");
    const cache = openHashCache({ dir: blocked, onWarning: (m) => warnings.push(m) });
    const reference = await computeContentHash(root);
    expect((await computeContentHash(root, { cache })).hash).to.equal(reference.hash);
    expect((await computeContentHash(root, { cache })).hash).to.equal(reference.hash);
    expect(warnings).to.have.length(1);
  });

  it("@unit the cache stays within its size, dropping the oldest records", async () => {
    const cache = openHashCache({ dir: cacheDir, racyWindowInMs: 0, maxBytes: 1500 });
    for (let i = 0; i < 6; i++) {
      const other = path.join(tmp, `folder-${i}`);
      await writeFiles(other, { [`f${i}.txt`]: "x".repeat(10), "g.txt": "y" });
      await nextTick();
      await computeContentHash(other, { cache });
    }
    const names = await fs.readdir(cacheDir);
    let total = 0;
    for (const name of names) {
      total += (await fs.stat(path.join(cacheDir, name))).size;
    }
    expect(total).to.be.at.most(1500);
    expect(names.length).to.be.within(1, 5);
    // The newest is kept.
    expect((await computeContentHash(path.join(tmp, "folder-5"), { cache })).fromCache).to.equal(
      true,
    );
  });

  it("@unit two processes hashing one folder into one cache agree, and a third reads their record", async () => {
    const [a, b] = await Promise.all([
      run(process.execPath, [WORKER, root, cacheDir]),
      run(process.execPath, [WORKER, root, cacheDir]),
    ]);
    const first = JSON.parse(a.stdout) as Record<string, unknown>;
    const second = JSON.parse(b.stdout) as Record<string, unknown>;
    const reference = await computeContentHash(root, { objectHash: true });
    for (const seen of [first, second]) {
      expect(seen.hash).to.equal(reference.hash);
      expect(seen.objectHash).to.equal(reference.objectHash);
      expect(seen.md5s).to.deep.equal(reference.files.map((f) => f.md5));
      expect(seen.warnings).to.deep.equal([]);
    }
    const third = JSON.parse((await run(process.execPath, [WORKER, root, cacheDir])).stdout) as {
      fromCache: boolean;
      hash: string;
    };
    expect(third).to.include({ fromCache: true, hash: reference.hash });
    expect((await fs.readdir(cacheDir)).filter((n) => n.endsWith(".tmp"))).to.deep.equal([]);
  });

  it("@unit the first record written removes the folder of version 1 records an older release left", async () => {
    const retired = path.join(tmp, "content-hash", "v1");
    await writeFiles(retired, { [recordFileName(`${root}${path.sep}`)]: "{}" });
    const cache = hashCacheFromEnvironment(undefined, { AZUREML_CACHE_DIR: tmp });
    const first = await computeContentHash(root, { cache });
    expect(first.fromCache).to.equal(false);
    const gone = await fs.stat(retired).then(
      () => "still there",
      (e: NodeJS.ErrnoException) => e.code,
    );
    expect(gone).to.equal("ENOENT");
    expect(await fs.readdir(path.join(tmp, "content-hash"))).to.deep.equal(["v2"]);
    expect(await fs.readdir(path.join(tmp, "content-hash", "v2"))).to.deep.equal([
      recordFileName(`${await fs.realpath(root)}${path.sep}`),
    ]);
  });

  it("@unit AZUREML_HASH_CACHE=off turns the cache off; AZUREML_CACHE_DIR moves it", () => {
    expect(hashCacheFromEnvironment(undefined, { AZUREML_HASH_CACHE: "off" })).to.equal(undefined);
    const moved = hashCacheFromEnvironment(undefined, { AZUREML_CACHE_DIR: tmp });
    expect(moved?.dir).to.equal(path.join(tmp, "content-hash", "v2"));
    const xdg = hashCacheFromEnvironment(undefined, { XDG_CACHE_HOME: tmp });
    expect(xdg?.dir).to.equal(path.join(tmp, "pulumi-azureml", "content-hash", "v2"));
  });
});
