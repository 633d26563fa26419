import { expect } from "chai";
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { finished } from "node:stream/promises";
import {
  CONTENT_HASH_VERSION,
  computeContentHash,
  computeObjectHash,
  hashFileList,
} from "../../provider/upload/contentHash";
import { isContentPathError, isEmptyDirectoryError } from "../../provider/upload/errors";
import { createIgnoreRules, loadIgnoreRules } from "../../provider/upload/ignore";
import { compareCodePoints, sortBySdkPathOrder } from "../../provider/upload/order";
import { walkFiles } from "../../provider/upload/walk";

/**
 * Expected values from the shared reference `code-hash-vectors/expected.json` (described in
 * AZUREML-REST-CONTRACT.md section 8.7); the folder is copied to test/fixtures/code-hash-vectors/src.
 */
const VECTOR = {
  md5ObjectHash: "77606e8e7980ac90af168238a3e8d57c",
  sha256ContentHash: "5b496995c67ff387bd90539cf16ddc36b941b54cb0ff9518737ddd6d5c27ad39",
  hashVersion: 202208,
  fileOrder: ["empty.txt", "sub/data.csv", "train.py", "Zeta/a.txt"],
  sizes: [0, 8, 15, 1],
};
const VECTOR_ROOT = path.resolve(__dirname, "../../../test/fixtures/code-hash-vectors/src");

type Tree = { [name: string]: string | Buffer | Tree | { symlink: string } };

async function writeTree(dir: string, tree: Tree): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  for (const [name, value] of Object.entries(tree)) {
    const target = path.join(dir, name);
    if (typeof value === "string" || Buffer.isBuffer(value)) {
      await fs.writeFile(target, value);
    } else if ("symlink" in value && typeof value.symlink === "string") {
      await fs.symlink(value.symlink, target);
    } else {
      await writeTree(target, value as Tree);
    }
  }
}

/** The SDK's byte stream, written out by hand for a list of (relative path, contents). */
function expectedContentHash(files: [string, string | Buffer][]): string {
  const h = createHash("sha256");
  h.update(String(files.length));
  for (const [rel, data] of files) {
    h.update(`#${rel}#${Buffer.byteLength(data)}`);
  }
  for (const [, data] of files) {
    h.update(data);
  }
  return h.digest("hex");
}

describe("content hash (SDK hash_version 202208)", () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "aml-hash-"));
  });
  afterEach(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it("@unit the reference folder hashes to the SDK's SHA-256 vector 5b4969…ad39", async () => {
    const result = await computeContentHash(VECTOR_ROOT);
    expect(result.hash).to.equal(VECTOR.sha256ContentHash);
    expect(result.hashVersion).to.equal(VECTOR.hashVersion);
    expect(CONTENT_HASH_VERSION).to.equal(VECTOR.hashVersion);
    expect(result.files.map((f) => f.relativePath)).to.deep.equal(VECTOR.fileOrder);
    expect(result.files.map((f) => f.size)).to.deep.equal(VECTOR.sizes);
    expect(result).to.include({
      fileCount: 4,
      byteCount: 24,
      ignoredCount: 0,
      ignoreSource: "none",
    });
    expect(result.rootName).to.equal("src");
  });

  it("@unit the reference folder hashes to the SDK's MD5 object hash vector 77606e…d57c", async () => {
    const rules = await loadIgnoreRules(VECTOR_ROOT);
    expect(await computeObjectHash(VECTOR_ROOT, rules)).to.equal(VECTOR.md5ObjectHash);
  });

  it("@unit the hash is the file count, then #path#size per file, then every file's bytes", async () => {
    await writeTree(tmp, { "b.txt": "bee", a: { "x.py": "print(1)\n" } });
    const result = await computeContentHash(tmp);
    expect(result.hash).to.equal(
      expectedContentHash([
        ["a/x.py", "print(1)\n"],
        ["b.txt", "bee"],
      ]),
    );
  });

  it("@unit a walk of thousands of files lets other work of the provider host run meanwhile", async () => {
    for (let d = 0; d < 4; d++) {
      await fs.mkdir(path.join(tmp, `d${d}`));
      await Promise.all(
        Array.from({ length: 1500 }, (_, i) => fs.writeFile(path.join(tmp, `d${d}`, `f${i}`), "")),
      );
    }
    let turns = 0;
    let walking = true;
    const tick = (): void => {
      if (walking) {
        turns++;
        setImmediate(tick);
      }
    };
    setImmediate(tick);
    // The rules are asked about every entry as it is listed: the turns seen between the first
    // entry and the last are turns the event loop got in the middle of the listing.
    const none = createIgnoreRules("none", "");
    const seen: number[] = [];
    const rules = {
      ...none,
      isIgnored: (p: string, dir: boolean) => (seen.push(turns), none.isIgnored(p, dir)),
    };
    const { files } = await walkFiles(tmp, rules);
    walking = false;
    expect(files).to.have.length(6000);
    expect(seen.at(-1)! - seen[0], "event-loop turns in the middle of the listing").to.be.at.least(
      1,
    );
  });

  it("@unit files are ordered by lower-cased relative path, code point by code point", async () => {
    await writeTree(tmp, {
      "B.txt": "1",
      "a.txt": "2",
      "a-b.txt": "3",
      A_x: "4",
      a: { "b.txt": "5", "C.txt": "6" },
      zeta: "7",
      Zed: { "q.txt": "8" },
    });
    const { files } = await walkFiles(tmp, createIgnoreRules("none", ""));
    // "-" (0x2D) < "." (0x2E) < "/" (0x2F) < "_" (0x5F): Python's sorted(key=str.lower).
    expect(files.map((f) => f.relativePath)).to.deep.equal([
      "a-b.txt",
      "a.txt",
      "a/b.txt",
      "a/C.txt",
      "A_x",
      "B.txt",
      "Zed/q.txt",
      "zeta",
    ]);
  });

  it("@unit names outside the Basic Multilingual Plane sort after U+FFxx, as in Python", () => {
    const emoji = "\u{1F600}.txt"; // UTF-16 surrogates D83D DE00 would sort first by code unit
    const fullwidth = "\uFF01.txt";
    expect(compareCodePoints(emoji, fullwidth)).to.be.greaterThan(0);
    expect(sortBySdkPathOrder([emoji, fullwidth, "a.txt"], (s) => s)).to.deep.equal([
      "a.txt",
      fullwidth,
      emoji,
    ]);
  });

  it("@unit a symbolic link to a file is hashed under the link's own name", async () => {
    await writeTree(tmp, {
      real: { "target.txt": "payload" },
      code: { "link.txt": { symlink: "../real/target.txt" } },
    });
    const result = await computeContentHash(path.join(tmp, "code"));
    expect(result.files.map((f) => [f.relativePath, f.size])).to.deep.equal([["link.txt", 7]]);
    expect(result.hash).to.equal(expectedContentHash([["link.txt", "payload"]]));
  });

  it("@unit a symbolic link to a folder is followed and its files named through the link", async () => {
    await writeTree(tmp, {
      shared: { "util.py": "u", deep: { "d.py": "d" } },
      code: { "main.py": "m", lib: { symlink: "../shared" } },
    });
    const result = await computeContentHash(path.join(tmp, "code"));
    expect(result.files.map((f) => f.relativePath)).to.deep.equal([
      "lib/deep/d.py",
      "lib/util.py",
      "main.py",
    ]);
    expect(result.hash).to.equal(
      expectedContentHash([
        ["lib/deep/d.py", "d"],
        ["lib/util.py", "u"],
        ["main.py", "m"],
      ]),
    );
  });

  it("@unit a broken symbolic link is skipped and reported instead of failing the hash", async () => {
    await writeTree(tmp, { "main.py": "m", dangling: { symlink: "does-not-exist.txt" } });
    const result = await computeContentHash(tmp);
    expect(result.files.map((f) => f.relativePath)).to.deep.equal(["main.py"]);
    expect(result.skippedSymlinks).to.deep.equal(["dangling"]);
  });

  it("@unit a symbolic link looping back to a parent folder is skipped, not walked forever", async () => {
    await writeTree(tmp, { "main.py": "m", sub: { "s.py": "s", loop: { symlink: ".." } } });
    const result = await computeContentHash(tmp);
    expect(result.files.map((f) => f.relativePath)).to.deep.equal(["main.py", "sub/s.py"]);
    expect(result.skippedSymlinks).to.deep.equal(["sub/loop"]);
  });

  it("@unit an ignored symbolic link to a folder is never followed", async () => {
    await writeTree(tmp, {
      elsewhere: { "huge.bin": "x", inner: { symlink: "nowhere" } },
      code: { ".amlignore": "data/\n", "main.py": "m", data: { symlink: "../elsewhere" } },
    });
    const result = await computeContentHash(path.join(tmp, "code"));
    expect(result.files.map((f) => f.relativePath)).to.deep.equal([".amlignore", "main.py"]);
    expect(result.ignoredCount).to.equal(1);
    // Walking the link would have met (and reported) the broken link inside it.
    expect(result.skippedSymlinks).to.deep.equal([]);
  });

  it("@unit an empty folder fails with EmptyDirectoryError naming the folder", async () => {
    const empty = path.join(tmp, "empty-code");
    await fs.mkdir(empty);
    const error = await computeContentHash(empty).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isEmptyDirectoryError(error), String(error)).to.equal(true);
    expect((error as Error).message).to.contain(empty);
    expect(error).to.include({ code: "EmptyDirectory", path: empty });
  });

  it("@unit a folder whose files are all ignored fails with EmptyDirectoryError naming the ignore file", async () => {
    await writeTree(tmp, { ".amlignore": "*\n", "a.py": "a" });
    const error = await computeContentHash(tmp).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isEmptyDirectoryError(error)).to.equal(true);
    expect((error as Error).message)
      .to.contain(".amlignore")
      .and.contain(tmp);
  });

  it("@unit a missing path fails with a PathNotFound error naming it", async () => {
    const missing = path.join(tmp, "nope");
    const error = await computeContentHash(missing).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isContentPathError(error)).to.equal(true);
    expect(error).to.include({ code: "PathNotFound" });
    expect((error as Error).message).to.contain(missing);
  });

  it("@unit a single-file root is hashed under its base name", async () => {
    await writeTree(tmp, { "score.py": "def run(x): return x\n" });
    const result = await computeContentHash(path.join(tmp, "score.py"));
    expect(result.rootIsFile).to.equal(true);
    expect(result.files.map((f) => f.relativePath)).to.deep.equal(["score.py"]);
    expect(result.hash).to.equal(expectedContentHash([["score.py", "def run(x): return x\n"]]));
  });

  it("@unit a file whose size changed since the walk fails instead of hashing mixed content", async () => {
    await writeTree(tmp, { "a.txt": "abc" });
    const error = await hashFileList([
      { absolutePath: path.join(tmp, "a.txt"), relativePath: "a.txt", size: 10 },
    ]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isContentPathError(error)).to.equal(true);
    expect(error).to.include({ code: "FileChangedDuringRead" });
  });

  it("@unit a streamed file that grew or shrank since the walk fails as a change", async () => {
    await writeTree(tmp, { "grew.bin": Buffer.alloc(40, 1), "shrank.bin": Buffer.alloc(10, 2) });
    const streamed = { readAhead: { wholeFileLimitInBytes: 1, chunkSizeInBytes: 8 } };
    for (const [name, walkedSize] of [
      ["grew.bin", 33],
      ["shrank.bin", 17],
    ] as const) {
      const error = await hashFileList(
        [{ absolutePath: path.join(tmp, name), relativePath: name, size: walkedSize }],
        streamed,
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, name).to.include({ code: "FileChangedDuringRead" });
      expect((error as Error).message).to.contain(name);
    }
  });

  it("@unit a tee gets every file's bytes in order, streamed ones chunk by chunk through reused buffers", async () => {
    const tree: Tree = {};
    for (let i = 0; i < 6; i++) {
      tree[`f${i}.bin`] = Buffer.from(
        Array.from({ length: 5 + i * 13 }, (_, j) => (i * 31 + j) % 256),
      );
    }
    await writeTree(tmp, tree);
    const received = new Map<string, Buffer[]>();
    const ended: string[] = [];
    let largestChunk = 0;
    const result = await computeContentHash(tmp, {
      // Files above 20 bytes are streamed in chunks of 8, through the same two buffers.
      readAhead: { wholeFileLimitInBytes: 20, chunkSizeInBytes: 8 },
      tee: {
        chunk(_index, file, data) {
          largestChunk = Math.max(largestChunk, data.length);
          // A receiver that keeps a streamed chunk copies it (the reader reuses the buffer).
          const kept = data.length === file.size ? data : Buffer.from(data);
          received.set(file.relativePath, [...(received.get(file.relativePath) ?? []), kept]);
        },
        end(_index, file, md5) {
          ended.push(file.relativePath);
          const bytes = Buffer.concat(received.get(file.relativePath) ?? []);
          expect(createHash("md5").update(bytes).digest("base64"), file.relativePath).to.equal(md5);
        },
      },
    });
    expect(ended).to.deep.equal(result.files.map((f) => f.relativePath));
    for (const [name, content] of Object.entries(tree)) {
      expect(Buffer.concat(received.get(name) ?? []).equals(content as Buffer), name).to.equal(
        true,
      );
    }
    expect(largestChunk).to.equal(18); // f1 (18 bytes) is read whole; f2 to f5 in chunks of 8
  });

  it("@unit a file deleted since the walk fails as a change, naming the file", async () => {
    const error = await hashFileList([
      { absolutePath: path.join(tmp, "gone.py"), relativePath: "gone.py", size: 3 },
    ]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isContentPathError(error)).to.equal(true);
    expect(error).to.include({ code: "FileChangedDuringRead" });
    expect((error as Error).message).to.contain("gone.py");
  });

  it("@unit many small and large files hash the same with any read-ahead setting", async () => {
    const tree: Tree = {};
    for (let i = 0; i < 40; i++) {
      tree[`f${i}.bin`] = Buffer.alloc((i * 7919) % 50_000, i);
    }
    tree["big.bin"] = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    await writeTree(tmp, tree);
    const reference = await computeContentHash(tmp, {
      readAhead: { maxFiles: 1, maxBytes: 1, wholeFileLimitInBytes: 1, chunkSizeInBytes: 1024 },
    });
    const eager = await computeContentHash(tmp, {
      readAhead: { maxFiles: 64, maxBytes: 1 << 30, wholeFileLimitInBytes: 1 << 30 },
    });
    const defaults = await computeContentHash(tmp);
    const expected = expectedContentHash(
      await Promise.all(
        reference.files.map(
          async (f) => [f.relativePath, await fs.readFile(f.absolutePath)] as [string, Buffer],
        ),
      ),
    );
    expect([reference.hash, eager.hash, defaults.hash]).to.deep.equal([
      expected,
      expected,
      expected,
    ]);
  });

  it("@unit a 200 MB file is streamed and hashes to what node:crypto gives for the same bytes", async function () {
    this.timeout(120_000);
    const chunk = createHash("sha512").update("seed").digest(); // 64 varied bytes
    const block = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < block.length; i += chunk.length) {
      chunk.copy(block, i);
    }
    const blocks = 200;
    const size = blocks * block.length;
    const expected = createHash("sha256").update(`1#big.bin#${size}`);
    const out = createWriteStream(path.join(tmp, "big.bin"));
    for (let i = 0; i < blocks; i++) {
      block.writeUInt32LE(i, 0); // every MiB differs
      expected.update(block);
      if (!out.write(block)) {
        await new Promise<void>((resolve) => out.once("drain", () => resolve()));
      }
    }
    out.end();
    await finished(out);
    const result = await computeContentHash(tmp);
    expect(result.byteCount).to.equal(size);
    expect(result.hash).to.equal(expected.digest("hex"));
  });
});
