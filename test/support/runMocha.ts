// `npm test` entry: Node reads NODE_EXTRA_CA_CERTS only at start-up, so make (or reuse) the
// emulator's CA first, then run mocha in child processes that trust it.
//
// With no spec files, --grep/--fgrep, --spec or --config on the command line, the suite runs as a
// few concurrent mocha processes ("shards") over groups of spec files balanced by their measured
// wall time (test/support/testDurations.json); most of the suite's time is spent waiting for the
// Pulumi engine and emulated jobs, not computing. Each shard is a whole mocha run with its own root
// hooks and shared emulator; its output is buffered and printed whole when it ends, followed by one
// summary line per shard; the exit code is 1 when any shard failed. AZUREML_TEST_SHARDS=<n> sets
// the number of shards (1: one mocha, as below); `--serial` forces one. `--shards <n>` shards a
// --grep run too, over the files holding a selected test (found by a dry run). Otherwise (one
// shard, files or a grep named) one mocha runs with the arguments as given and its output and exit
// code pass through unchanged.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { promises as fs, readFileSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { prepareTls } from "../../emulator/tls";
import { TEST_CERT_DIR_ENV, testCertDir } from "./emulator";
import { SHARD_STATS_ENV, type ShardStats } from "./shardStats";

/** The number of shards (a positive integer); default DEFAULT_SHARDS. */
export const SHARDS_ENV = "AZUREML_TEST_SHARDS";
/** On two cores 2 shards ran the suite in 501 s, 3 in 658 s (under more load from other work). */
export const DEFAULT_SHARDS = 2;
/** Seconds assumed for a spec file testDurations.json does not list yet. */
const UNKNOWN_FILE_SECONDS = 5;

const MOCHA = require.resolve("mocha/bin/mocha.js");

async function main(): Promise<void> {
  const certDir = testCertDir();
  const tls = await prepareTls({ certDir });
  const caFile = await trustBundle(certDir, tls.caCertPath, process.env.NODE_EXTRA_CA_CERTS);
  const { args, serial, shards: requested } = runnerOptions(process.argv.slice(2));
  const env: NodeJS.ProcessEnv = {
    // Providers' progress lines would interleave with mocha's report; tests that check them
    // turn them back on for the process they start.
    AZUREML_PROGRESS: "off",
    ...process.env,
    NODE_EXTRA_CA_CERTS: caFile,
    [TEST_CERT_DIR_ENV]: certDir,
  };
  const shards = serial ? 1 : (requested ?? shardCount(process.env[SHARDS_ENV]));
  const selection = loadCommandLine(args);
  if (shards > 1 && (requested !== undefined ? !namesFiles(args) : !selectsTests(args))) {
    const rc = readMocharc();
    let files = specFiles(rc);
    if (selection.grep !== undefined || selection.fgrep !== undefined) {
      const selected = await filesWithSelectedTests(files, selection);
      files = files.filter((f) => selected.has(f));
    }
    if (files.length > 1) {
      process.exit(await runShards(args, rc, files, shards, env));
    }
  }
  const config = await configWithoutSpec(args);
  const child = spawn(
    process.execPath,
    [MOCHA, ...(config ? ["--config", config.file] : []), ...args],
    { stdio: "inherit", env },
  );
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => child.kill(signal));
  }
  child.on("exit", (code, signal) => {
    config?.remove();
    process.exit(code ?? 128 + (signal === null ? 0 : os.constants.signals[signal]));
  });
}

/** AZUREML_TEST_SHARDS as a positive integer; DEFAULT_SHARDS when unset or empty. */
export function shardCount(value: string | undefined, name: string = SHARDS_ENV): number {
  if (value === undefined || value.trim() === "") {
    if (name !== SHARDS_ENV) {
      throw new Error(`${name} must be a positive integer`);
    }
    return DEFAULT_SHARDS;
  }
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`${name} must be a positive integer, not ${JSON.stringify(value)}`);
  }
  return n;
}

/**
 * Takes runMocha's own flags out of the arguments: `--serial` (one mocha) and `--shards <n>` /
 * `--shards=<n>` (n shards even with a --grep; CI's second Node.js line uses it).
 */
export function runnerOptions(argv: readonly string[]): {
  args: string[];
  serial: boolean;
  shards: number | undefined;
} {
  const args: string[] = [];
  let serial = false;
  let shards: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--serial") {
      serial = true;
    } else if (arg === "--shards" || arg.startsWith("--shards=")) {
      const value = arg === "--shards" ? argv[++i] : arg.slice("--shards=".length);
      shards = shardCount(value ?? "", "--shards");
    } else {
      args.push(arg);
    }
  }
  return { args, serial, shards };
}

/** True when the command line names spec files. */
function namesFiles(args: readonly string[]): boolean {
  const options = loadCommandLine(args);
  return (
    (options._ ?? []).length > 0 ||
    options.spec !== undefined ||
    args.some((a) => a.startsWith("--config"))
  );
}

/**
 * The files holding at least one test the --grep/--fgrep (and --invert) selects: a dry run in one
 * mocha without the root hooks (no emulator), reported as JSON to a temporary file.
 */
async function filesWithSelectedTests(
  files: readonly string[],
  selection: Record<string, unknown>,
): Promise<Set<string>> {
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), "pulumi-azureml-dry-run-"));
  try {
    const output = path.join(scratch, "tests.json");
    const filters = [
      ...(selection.grep !== undefined ? ["--grep", String(selection.grep)] : []),
      ...(selection.fgrep !== undefined ? ["--fgrep", String(selection.fgrep)] : []),
      ...(selection.invert === true ? ["--invert"] : []),
    ];
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          MOCHA,
          "--no-config",
          "--no-package",
          "--dry-run",
          "--reporter",
          "json",
          "--reporter-option",
          `output=${output}`,
          ...filters,
          ...files,
        ],
        { stdio: ["ignore", "ignore", "inherit"] },
      );
      child.once("error", reject);
      child.once("close", resolve);
    });
    if (code !== 0) {
      throw new Error(`mocha --dry-run exited with code ${String(code)}`);
    }
    const report = JSON.parse(await fs.readFile(output, "utf8")) as {
      tests: { file?: string }[];
    };
    return new Set(
      report.tests.flatMap((t) => (t.file === undefined ? [] : [path.resolve(t.file)])),
    );
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

/** True when the command line picks tests itself (files, a grep, a spec or config, watch mode). */
function selectsTests(args: readonly string[]): boolean {
  const options = loadCommandLine(args);
  return (
    (options._ ?? []).length > 0 ||
    ["grep", "fgrep", "spec", "config", "parallel", "watch"].some(
      (name) => options[name] !== undefined && options[name] !== false,
    ) ||
    args.some((a) => a.startsWith("--config"))
  );
}

function loadCommandLine(args: readonly string[]): Record<string, unknown> & { _?: unknown[] } {
  const { loadOptions } = require("mocha/lib/cli/options") as {
    loadOptions(argv: string[]): Record<string, unknown> & { _?: unknown[] };
  };
  return loadOptions([...args, "--no-config", "--no-package"]);
}

function readMocharc(): Record<string, unknown> {
  return JSON.parse(readFileSync(path.resolve(".mocharc.json"), "utf8")) as Record<string, unknown>;
}

/** The spec files .mocharc.json names, sorted. */
function specFiles(rc: Record<string, unknown>): string[] {
  const lookupFiles = require("mocha/lib/cli/lookup-files") as (
    pattern: string,
    extensions: string[],
    recursive: boolean,
  ) => string[];
  const patterns = ([] as unknown[]).concat(rc.spec ?? []).map(String);
  const files = new Set<string>();
  for (const pattern of patterns) {
    for (const file of lookupFiles(pattern, ["js"], false)) {
      files.add(path.resolve(file));
    }
  }
  return [...files].sort();
}

/** `dist/test/a/b.test.js` → `test/a/b.test.ts`, the key testDurations.json uses. */
export function durationKey(file: string, root: string = process.cwd()): string {
  return path
    .relative(path.join(root, "dist"), path.resolve(root, file))
    .split(path.sep)
    .join("/")
    .replace(/\.js$/, ".ts");
}

function measuredDurations(): Record<string, number> {
  try {
    const text = readFileSync(path.resolve("test", "support", "testDurations.json"), "utf8");
    return (JSON.parse(text) as { seconds: Record<string, number> }).seconds;
  } catch {
    return {};
  }
}

/**
 * Splits files into `count` groups of about equal total seconds: longest first, each into the
 * group with the least so far (ties: the lower index). Each group keeps its files sorted.
 */
export function balance(
  files: readonly string[],
  seconds: (file: string) => number,
  count: number,
): { files: string[]; seconds: number }[] {
  const groups = Array.from({ length: count }, () => ({ files: [] as string[], seconds: 0 }));
  const byDuration = [...files].sort((a, b) => seconds(b) - seconds(a) || a.localeCompare(b));
  for (const file of byDuration) {
    const lightest = groups.reduce((min, g) => (g.seconds < min.seconds ? g : min), groups[0]);
    lightest.files.push(file);
    lightest.seconds += seconds(file);
  }
  for (const group of groups) {
    group.files.sort();
  }
  return groups.filter((g) => g.files.length > 0);
}

interface ShardResult {
  readonly index: number;
  readonly files: number;
  readonly exitCode: number;
  readonly signal: NodeJS.Signals | null;
  readonly stats: ShardStats | undefined;
  readonly seconds: number;
}

async function runShards(
  args: readonly string[],
  rc: Record<string, unknown>,
  files: readonly string[],
  count: number,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const measured = measuredDurations();
  const seconds = (file: string): number => measured[durationKey(file)] ?? UNKNOWN_FILE_SECONDS;
  const groups = balance(files, seconds, count);
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), "pulumi-azureml-shards-"));
  const config = path.join(scratch, "mocharc.json");
  const withoutSpec = { ...rc };
  delete withoutSpec.spec;
  await fs.writeFile(config, JSON.stringify(withoutSpec));
  const color = process.stdout.isTTY && !args.some((a) => /^--(no-)?colou?rs?$|^-c$/.test(a));
  process.stdout.write(
    `Running ${files.length} spec files in ${groups.length} concurrent mocha processes ` +
      `(${SHARDS_ENV}=1 or --serial for one); each prints its report when it ends.\n`,
  );
  const children = new Set<ChildProcess>();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      for (const child of children) {
        child.kill(signal);
      }
    });
  }
  const started = Date.now();
  const results = await Promise.all(
    groups.map(
      (group, index) =>
        new Promise<ShardResult>((resolve, reject) => {
          const statsFile = path.join(scratch, `shard-${index + 1}.json`);
          const chunks: Buffer[] = [];
          const child = spawn(
            process.execPath,
            [MOCHA, "--config", config, ...(color ? ["--color"] : []), ...args, ...group.files],
            {
              stdio: ["ignore", "pipe", "pipe"],
              env: { ...env, [SHARD_STATS_ENV]: statsFile },
            },
          );
          children.add(child);
          child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
          child.stderr.on("data", (chunk: Buffer) => chunks.push(chunk));
          child.once("error", reject);
          child.once("close", (code, signal) => {
            children.delete(child);
            const label = `shard ${index + 1}/${groups.length}`;
            process.stdout.write(
              `\n===== ${label}: ${group.files.length} files ` +
                `(${group.files.map((f) => durationKey(f).replace(/^test\//, "")).join(", ")})\n`,
            );
            process.stdout.write(Buffer.concat(chunks));
            process.stdout.write(`===== end of ${label}\n`);
            let stats: ShardStats | undefined;
            try {
              stats = JSON.parse(readFileSync(statsFile, "utf8")) as ShardStats;
            } catch {
              stats = undefined;
            }
            resolve({
              index,
              files: group.files.length,
              exitCode: code ?? 128 + (signal === null ? 0 : os.constants.signals[signal]),
              signal,
              stats,
              seconds: (Date.now() - started) / 1000,
            });
          });
        }),
    ),
  );
  await fs.rm(scratch, { recursive: true, force: true });
  process.stdout.write("\n");
  let total = { passes: 0, failures: 0, pending: 0 };
  for (const r of results) {
    const where = `shard ${r.index + 1}/${results.length} (${r.files} files, ${Math.round(r.seconds)} s)`;
    if (r.stats === undefined) {
      process.stdout.write(
        `${where}: no report; mocha exited with ${r.signal ?? `code ${r.exitCode}`}\n`,
      );
      continue;
    }
    const { passes, failures, pending } = r.stats;
    total = {
      passes: total.passes + passes,
      failures: total.failures + failures,
      pending: total.pending + pending,
    };
    process.stdout.write(
      `${where}: ${passes} passing, ${failures} failing, ${pending} pending` +
        `${r.exitCode === 0 ? "" : ` (exit code ${r.exitCode})`}\n`,
    );
  }
  process.stdout.write(
    `all shards (${Math.round((Date.now() - started) / 1000)} s): ${total.passes} passing, ` +
      `${total.failures} failing, ${total.pending} pending\n`,
  );
  return results.some((r) => r.exitCode !== 0 || r.stats === undefined) ? 1 : 0;
}

/**
 * Mocha appends the rc file's `spec` to the files named on the command line, so naming one file would
 * still run every test. When files are named, mocha gets a copy of .mocharc.json without `spec`.
 */
async function configWithoutSpec(
  args: readonly string[],
): Promise<{ file: string; remove(): void } | undefined> {
  const fromCommandLine = loadCommandLine(args);
  const rcFile = path.resolve(".mocharc.json");
  if ((fromCommandLine._ ?? []).length === 0 || args.some((a) => a.startsWith("--config"))) {
    return undefined;
  }
  let rc: Record<string, unknown>;
  try {
    rc = JSON.parse(await fs.readFile(rcFile, "utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  delete rc.spec;
  const file = path.join(os.tmpdir(), `pulumi-azureml-mocharc-${process.pid}.json`);
  await fs.writeFile(file, JSON.stringify(rc));
  return { file, remove: () => rmSync(file, { force: true }) };
}

/**
 * NODE_EXTRA_CA_CERTS names one file: keep a CA the caller already trusts next to ours. The bundle
 * is named by its content and written atomically: concurrent runs share certDir, and a mocha
 * process starting while another run rewrote a shared bundle in place could read it half written.
 */
async function trustBundle(
  certDir: string,
  caCertPath: string,
  existing: string | undefined,
): Promise<string> {
  if (
    existing === undefined ||
    existing === "" ||
    path.resolve(existing) === path.resolve(caCertPath)
  ) {
    return caCertPath;
  }
  const text = `${(await fs.readFile(existing, "utf8")).trim()}\n${(await fs.readFile(caCertPath, "utf8")).trim()}\n`;
  const digest = createHash("sha256").update(text).digest("hex").slice(0, 16);
  const bundle = path.join(certDir, `extra-ca-bundle-${digest}.pem`);
  const temporary = `${bundle}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await fs.writeFile(temporary, text);
  await fs.rename(temporary, bundle);
  return bundle;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`runMocha: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
