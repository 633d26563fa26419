/**
 * A child process of `bench/content.ts`: does what the provider host does for a DataVersion of a
 * local folder during `pulumi preview` (check) or a whole `pulumi up` (check for the preview,
 * check for the update, create), and reports the bytes it read (`rchar` of /proc/self/io, from
 * after start-up), its peak RSS and timings as one JSON line. Not a bench module: no `run`.
 */
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import type * as pulumi from "@pulumi/pulumi";
import { lazyProvider } from "../provider/resources/lazyProvider";

const { Config } = require("@pulumi/pulumi/cmd/dynamic-provider/config") as {
  Config: new (raw: Record<string, string>, project: string) => pulumi.dynamic.Config;
};

/** What the parent passes as argv[2] (JSON). */
export interface ContentWorkerRequest {
  readonly mode: "preview" | "up";
  readonly root: string;
  readonly name: string;
  readonly config: Record<string, string>;
  readonly resourceGroupName: string;
  readonly workspaceName: string;
}

/** What the worker prints. */
export interface ContentWorkerReport {
  readonly bytesRead: number;
  /** Of `bytesRead`: by the first check (the preview's), the update's check, and create. */
  readonly phases: { readonly check: number; readonly recheck: number; readonly create: number };
  readonly checkMs: number;
  readonly totalMs: number;
  readonly maxRssBytes: number;
}

/**
 * This process's own peak resident set, from `VmHWM` in /proc/self/status. Not
 * `resourceUsage().maxRSS`: Linux carries a process's peak across fork and exec, so a worker
 * spawned by a parent of 660 MB (the bench, with the emulator and its blobs) would report 660 MB
 * whatever it used itself.
 */
function peakRssBytes(): number {
  const status = readFileSync("/proc/self/status", "utf8");
  const kib = /^VmHWM:\s*(\d+)\s*kB/m.exec(status)?.[1];
  return kib === undefined ? process.resourceUsage().maxRSS * 1024 : Number(kib) * 1024;
}

function bytesReadSoFar(): number {
  const io = readFileSync("/proc/self/io", "utf8");
  return Number(/^rchar:\s*(\d+)/m.exec(io)?.[1] ?? NaN);
}

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2]) as ContentWorkerRequest;
  const provider = lazyProvider<any, any>("pulumi-azureml/provider/lifecycle/dataVersion");
  await provider.configure!({ config: new Config(request.config, "bench") });
  const news = {
    resourceGroupName: request.resourceGroupName,
    workspaceName: request.workspaceName,
    name: request.name,
    dataType: "uri_folder",
    path: request.root,
  };
  // Load the lifecycle module and what create loads (authentication, the storage client: some MiB
  // of JavaScript) before counting, with a remote URI that reads no local file.
  const warmUp = { ...news, name: `${news.name}-warm-up`, dataType: "uri_file" };
  warmUp.path = "https://example.invalid/warm-up.csv";
  await provider.create((await provider.check!({}, warmUp)).inputs);
  await import("@azure/storage-blob");
  const before = bytesReadSoFar();
  const started = performance.now();
  // "preview": the preview of an update (olds present), which hashes the folder to diff it; "up":
  // a new resource, whose check leaves the hash to create.
  const olds = request.mode === "preview" ? { ...news } : {};
  const checked = (await provider.check!(olds, news)).inputs;
  const checkMs = performance.now() - started;
  const afterCheck = bytesReadSoFar();
  let afterRecheck = afterCheck;
  if (request.mode === "up") {
    const again = (await provider.check!(olds, news)).inputs; // the update's own check
    afterRecheck = bytesReadSoFar();
    await provider.create(again ?? checked);
  }
  const after = bytesReadSoFar();
  const report: ContentWorkerReport = {
    bytesRead: after - before,
    phases: {
      check: afterCheck - before,
      recheck: afterRecheck - afterCheck,
      create: after - afterRecheck,
    },
    checkMs,
    totalMs: performance.now() - started,
    maxRssBytes: peakRssBytes(),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
