/**
 * Local content at scale (issue 13), on generated data under the OS temp folder (removed after):
 * a "large" folder (default 2 GiB in 20 files) and a "small" one (default 50,000 files of 1 to
 * 64 KiB). Sizes come from BENCH_CONTENT_LARGE_MB, BENCH_CONTENT_LARGE_FILES and
 * BENCH_CONTENT_SMALL_FILES, so a quick run is possible.
 *
 * Figures, each a ratio measured in this run:
 * - the second preview (DataVersion check) of an unchanged folder against the first, per shape;
 * - bytes read by a whole `up` of a new DataVersion of the large folder (check for the preview,
 *   check for the update, create and upload), against its size, and the part read for hashing;
 * - peak RSS of that `up`;
 * - upload throughput of `uploadFiles` against plain `@azure/storage-blob` (`uploadFile` per file,
 *   the same number of requests in flight);
 * - an interrupted upload's re-run: bytes re-sent against bytes left.
 *
 * The previews and the `up` run in a child process (`contentWorker.ts`) that does what the
 * provider host does; the emulator here keeps its blobs on disk (its own, in the temp folder).
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { finished } from "node:stream/promises";
import { promisify } from "node:util";
import {
  ContainerClient,
  newPipeline,
  StorageSharedKeyCredential,
  type StoragePipelineOptions,
} from "@azure/storage-blob";
import { DEV_STORE_ACCOUNT_KEY } from "../emulator/azurite";
import type { RunningEmulator } from "../emulator/index";
import type { RequestRecord } from "../emulator/requestLog";
import { uploadFiles } from "../provider/upload/blobUpload";
import { computeContentHash } from "../provider/upload/contentHash";
import { createLimiter } from "../provider/upload/limiter";
import { benchCertDir, type BenchFigures } from "./index";
import type { ContentWorkerReport, ContentWorkerRequest } from "./contentWorker";

const run$ = promisify(execFile);
const MiB = 1024 * 1024;
const CONCURRENCY = 8;

function sizeFromEnv(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) {
    throw new TypeError(`${name} must be a positive integer; got "${process.env[name]}".`);
  }
  return value;
}

async function writeFileOf(file: string, size: number, block: Buffer): Promise<void> {
  const out = createWriteStream(file);
  for (let written = 0; written < size;) {
    const n = Math.min(block.length, size - written);
    // A counter in each chunk keeps blocks distinct without generating gigabytes of randomness.
    const chunk = Buffer.from(block.subarray(0, n));
    chunk.writeUInt32LE(written >>> 0, 0);
    if (!out.write(chunk)) {
      await new Promise<void>((resolve) => out.once("drain", () => resolve()));
    }
    written += n;
  }
  out.end();
  await finished(out);
}

async function generate(dir: string, large: { bytes: number; files: number }, small: number) {
  const block = randomBytes(MiB);
  const largeRoot = path.join(dir, "large");
  await fs.mkdir(largeRoot, { recursive: true });
  const per = Math.floor(large.bytes / large.files);
  for (let i = 0; i < large.files; i++) {
    await writeFileOf(path.join(largeRoot, `part-${String(i).padStart(3, "0")}.bin`), per, block);
  }
  const smallRoot = path.join(dir, "small");
  let smallBytes = 0;
  for (let i = 0; i < small; i++) {
    const sub = path.join(smallRoot, `d${i % 100}`);
    if (i < 100) {
      await fs.mkdir(sub, { recursive: true });
    }
    const size = 1024 + ((i * 7919) % (63 * 1024));
    smallBytes += size;
    await fs.writeFile(path.join(sub, `f${i}.bin`), block.subarray(i % 1024, (i % 1024) + size));
  }
  // Git's racy rule: files written within the timestamp window of a hash are not trusted.
  await new Promise((resolve) => setTimeout(resolve, 2100));
  return { largeRoot, smallRoot, largeBytes: per * large.files, smallBytes };
}

async function worker(
  emulator: RunningEmulator,
  env: NodeJS.ProcessEnv,
  mode: ContentWorkerRequest["mode"],
  root: string,
  name: string,
): Promise<ContentWorkerReport> {
  const { info } = emulator;
  const request: ContentWorkerRequest = {
    mode,
    root,
    name,
    resourceGroupName: info.resourceGroupName,
    workspaceName: info.workspaceName,
    config: {
      "azureml:armEndpoint": info.armEndpoint,
      "azureml:caCertPath": info.caCertPath,
      "azureml:subscriptionId": info.subscriptionId,
    },
  };
  const { stdout } = await run$(
    process.execPath,
    [path.join(__dirname, "contentWorker.js"), JSON.stringify(request)],
    { env: { ...process.env, AZUREML_PROGRESS: "off", ...env }, maxBuffer: 16 * MiB },
  );
  return JSON.parse(stdout.trim().split("\n").pop() as string) as ContentWorkerReport;
}

function dataPutBytes(records: readonly RequestRecord[], completedOnly: boolean): number {
  return records
    .filter((r) => r.plane === "blob" && r.method === "PUT")
    .filter((r) => !/(^|&)comp=(blocklist|metadata)(&|$)/.test(r.query))
    .filter((r) => !completedOnly || (r.status >= 200 && r.status < 300))
    .reduce((sum, r) => sum + (r.requestBytes ?? 0), 0);
}

async function uploadFigures(
  emulator: RunningEmulator,
  root: string,
  figures: BenchFigures,
): Promise<void> {
  const { info } = emulator;
  const ca = await fs.readFile(info.caCertPath, "utf8");
  const credential = new StorageSharedKeyCredential(info.storageAccountName, DEV_STORE_ACCOUNT_KEY);
  const containerUrl = `${info.blobEndpoint}bench-content-${randomBytes(4).toString("hex")}`;
  const plainClient = new ContainerClient(
    containerUrl,
    newPipeline(credential, { tlsOptions: { ca } } as StoragePipelineOptions),
  );
  await plainClient.create();
  try {
    const hashed = await computeContentHash(root);
    const total = hashed.byteCount;
    const options = { caCertPath: info.caCertPath, concurrency: CONCURRENCY };

    // Plain @azure/storage-blob: one uploadFile per file, CONCURRENCY files at once.
    const limit = createLimiter(CONCURRENCY);
    let started = performance.now();
    await Promise.all(
      hashed.files.map((file) =>
        limit(() =>
          plainClient
            .getBlockBlobClient(`plain/${file.relativePath}`)
            .uploadFile(file.absolutePath, {
              blockSize: 8 * MiB,
              maxSingleShotSize: 32 * MiB,
              concurrency: 1,
            }),
        ),
      ),
    );
    const plainMs = performance.now() - started;
    started = performance.now();
    await uploadFiles({ containerUrl, credential, prefix: "ours/" }, hashed.files, options);
    const oursMs = performance.now() - started;
    figures["upload throughput MB/s (plain @azure/storage-blob)"] = total / MiB / (plainMs / 1000);
    figures["upload throughput MB/s (uploadFiles)"] = total / MiB / (oursMs / 1000);
    figures["upload throughput ratio, uploadFiles / plain (goal >= 0.9)"] = plainMs / oursMs;

    // Interrupted at about half, then re-run.
    const abort = new AbortController();
    let mark = emulator.requests.mark();
    await uploadFiles({ containerUrl, credential, prefix: "resume/" }, hashed.files, {
      ...options,
      abortSignal: abort.signal,
      onProgress: (p) => {
        if (p.loadedBytes >= total / 2) {
          abort.abort(new Error("interrupted by the bench"));
        }
      },
    }).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 500)); // let cancelled requests be logged
    const completed = dataPutBytes(emulator.requests.since(mark), true);
    mark = emulator.requests.mark();
    await uploadFiles({ containerUrl, credential, prefix: "resume/" }, hashed.files, options);
    const resent = dataPutBytes(emulator.requests.since(mark), false);
    figures["interrupted upload: bytes left MB"] = (total - completed) / MiB;
    figures["interrupted upload: bytes re-sent / bytes left (goal <= 1.1)"] =
      resent / Math.max(1, total - completed);
  } finally {
    await plainClient.delete().catch(() => undefined);
  }
}

export async function run(): Promise<BenchFigures> {
  const large = {
    bytes: sizeFromEnv("BENCH_CONTENT_LARGE_MB", 2048) * MiB,
    files: sizeFromEnv("BENCH_CONTENT_LARGE_FILES", 20),
  };
  const smallCount = sizeFromEnv("BENCH_CONTENT_SMALL_FILES", 50_000);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "bench-content-"));
  const { startEmulator } = require("../emulator/index") as typeof import("../emulator/index");
  let emulator: RunningEmulator | undefined;
  const figures: BenchFigures = {};
  try {
    const data = await generate(dir, large, smallCount);
    figures["large folder"] = `${(data.largeBytes / MiB).toFixed(0)} MiB in ${large.files} files`;
    figures["small folder"] = `${smallCount} files, ${(data.smallBytes / MiB).toFixed(0)} MiB`;
    // The machine may be shared: ratios are what count; the load says how noisy the times are.
    figures["load average (1 min) at start"] = os.loadavg()[0];
    emulator = await startEmulator({
      certDir: benchCertDir(),
      dataDir: path.join(dir, "emulator"),
      progression: { mode: "polls", polls: 1 },
      retryAfterInSeconds: 0,
    });
    const env = {
      IDENTITY_ENDPOINT: emulator.info.identityEndpoint,
      IDENTITY_HEADER: emulator.info.identityHeader,
    };

    for (const [shape, root] of [
      ["large", data.largeRoot],
      ["small", data.smallRoot],
    ] as const) {
      const cache = { ...env, AZUREML_CACHE_DIR: path.join(dir, `cache-preview-${shape}`) };
      const first = await worker(emulator, cache, "preview", root, `bench-${shape}`);
      const second = await worker(emulator, cache, "preview", root, `bench-${shape}`);
      figures[`${shape}: first preview check ms`] = first.checkMs;
      figures[`${shape}: second preview check ms`] = second.checkMs;
      figures[`${shape}: second preview / first (goal <= 0.05)`] = second.checkMs / first.checkMs;
    }

    const up = await worker(
      emulator,
      { ...env, AZUREML_CACHE_DIR: path.join(dir, "cache-up") },
      "up",
      data.largeRoot,
      "bench-up",
    );
    figures["up of a new DataVersion: bytes read / size (goal <= 1.05)"] =
      up.bytesRead / data.largeBytes;
    figures["  of which the preview's check / size"] = up.phases.check / data.largeBytes;
    figures["  of which the update's check / size"] = up.phases.recheck / data.largeBytes;
    figures["  of which create (upload) / size"] = up.phases.create / data.largeBytes;
    figures["up of a new DataVersion: peak RSS MB (goal < 300)"] = up.maxRssBytes / MiB;
    figures["up of a new DataVersion ms"] = up.totalMs;
    const hashOnly = await worker(
      emulator,
      { ...env, AZUREML_CACHE_DIR: path.join(dir, "cache-hash") },
      "preview",
      data.largeRoot,
      "bench-hash",
    );
    figures["hashing part: bytes read / size, per up"] = hashOnly.bytesRead / data.largeBytes;

    await uploadFigures(emulator, data.largeRoot, figures);
    figures["load average (1 min) at end"] = os.loadavg()[0];
  } finally {
    await emulator?.close().catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  }
  return figures;
}
