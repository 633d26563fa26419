/**
 * Content-hash throughput against `sha256sum` over the same files, in one run.
 *
 * Generates a tree of 2,000 files totalling 200 MiB (mostly small files, some medium, a few large)
 * in the OS temp folder, times `computeContentHash` and `find … | xargs -0 sha256sum` (best of 3
 * each, interleaved so both see the same page cache), and deletes the tree. The target is
 * ours/sha256sum ≥ 0.8: our hash is one sequential SHA-256 over every byte, like sha256sum.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { computeContentHash } from "../provider/upload/contentHash";

const MiB = 1024 * 1024;
const FILE_COUNT = 2000;
const TOTAL_BYTES = 200 * MiB;
const RUNS = 3;
const TARGET_RATIO = 0.8;

/** Deterministic pseudo-random numbers (mulberry32), so every run hashes the same layout. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** File sizes: 1,900 small (≤ 32 KiB), 90 medium (≤ 1 MiB), the rest large, summing to the total. */
export function fileSizes(count = FILE_COUNT, total = TOTAL_BYTES): number[] {
  const next = random(42);
  const sizes: number[] = [];
  for (let i = 0; i < count; i++) {
    if (i < count * 0.95) {
      sizes.push(Math.floor(next() * 32 * 1024));
    } else if (i < count * 0.995) {
      sizes.push(Math.floor(next() * MiB));
    } else {
      sizes.push(0); // large files take what is left
    }
  }
  const large = sizes.filter((s) => s === 0).length;
  const rest = total - sizes.reduce((a, b) => a + b, 0);
  let assigned = 0;
  let seen = 0;
  for (let i = 0; i < count; i++) {
    if (i >= count * 0.995) {
      seen++;
      sizes[i] = seen === large ? rest - assigned : Math.floor(rest / large);
      assigned += sizes[i];
    }
  }
  return sizes;
}

async function generateTree(root: string): Promise<number> {
  const pool = randomBytes(8 * MiB);
  const sizes = fileSizes();
  let offset = 0;
  for (let i = 0; i < sizes.length; i++) {
    const dir = path.join(root, `pkg${i % 20}`, `mod${i % 7}`);
    await fs.mkdir(dir, { recursive: true });
    const handle = await fs.open(path.join(dir, `file${i}.bin`), "w");
    try {
      for (let left = sizes[i]; left > 0;) {
        const n = Math.min(left, pool.length - offset);
        await handle.write(pool, offset, n);
        left -= n;
        offset = (offset + n) % (pool.length - 1);
      }
    } finally {
      await handle.close();
    }
  }
  return sizes.reduce((a, b) => a + b, 0);
}

function timeSha256sum(root: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(
      "sh",
      ["-c", 'find "$1" -type f -print0 | xargs -0 sha256sum > /dev/null', "sh", root],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0
        ? resolve(Number(process.hrtime.bigint() - start) / 1e6)
        : reject(new Error(`sha256sum exited with ${code}`)),
    );
  });
}

async function timeContentHash(root: string): Promise<number> {
  const start = process.hrtime.bigint();
  await computeContentHash(root);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function hasSha256sum(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn("sha256sum", ["--version"], { stdio: "ignore" });
    child.on("error", () => resolve(false));
    child.on("exit", (code) => resolve(code === 0));
  });
}

export async function run(): Promise<Record<string, number | string>> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "aml-bench-hash-"));
  try {
    const bytes = await generateTree(root);
    const withSha256sum = await hasSha256sum();
    let oursMs = Infinity;
    let theirsMs = Infinity;
    for (let i = 0; i < RUNS; i++) {
      oursMs = Math.min(oursMs, await timeContentHash(root));
      if (withSha256sum) {
        theirsMs = Math.min(theirsMs, await timeSha256sum(root));
      }
    }
    const mb = bytes / 1e6;
    const oursMBps = mb / (oursMs / 1000);
    const result: Record<string, number | string> = {
      files: FILE_COUNT,
      totalMB: Number(mb.toFixed(1)),
      contentHashBestMs: Math.round(oursMs),
      contentHashMBps: Math.round(oursMBps),
    };
    if (withSha256sum) {
      const theirsMBps = mb / (theirsMs / 1000);
      result.sha256sumBestMs = Math.round(theirsMs);
      result.sha256sumMBps = Math.round(theirsMBps);
      result.ratioOursToSha256sum = Number((oursMBps / theirsMBps).toFixed(2));
      result.targetRatio = TARGET_RATIO;
    } else {
      result.sha256sum = "unavailable";
    }
    return result;
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}

if (require.main === module) {
  run().then(
    (result) => console.log(JSON.stringify(result, null, 2)),
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
