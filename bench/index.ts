/**
 * `npm run bench`: runs the exported `run()` of every other `bench/*.ts` module in one process and
 * prints one table of figures. `node dist/bench/index.js transport hashing` runs only those.
 *
 * Node reads NODE_EXTRA_CA_CERTS only at start-up, so the first process makes (or reuses) the
 * emulator's CA in a cache folder and re-spawns itself trusting it; Azure SDK clients in bench
 * modules then accept the emulator's certificate like they would in the tests. Modules that need
 * the emulator call {@link getBenchEmulator}: one emulator is started lazily and shared.
 */
import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { RunningEmulator } from "../emulator/index";

/** Set in the re-spawned child: the folder holding the trusted emulator CA. */
export const BENCH_CERT_DIR_ENV = "AZUREML_BENCH_CERT_DIR";

/** A figure a bench module reports. */
export type BenchFigures = Record<string, number | string>;

/** What every bench module exports. */
export interface BenchModule {
  run(): Promise<BenchFigures>;
}

/** The certificate cache shared by bench runs, under the OS temp folder. */
export function benchCertDir(): string {
  return process.env[BENCH_CERT_DIR_ENV] || path.join(os.tmpdir(), "pulumi-azureml-bench-tls");
}

let emulator: Promise<RunningEmulator> | undefined;

/**
 * The shared bench emulator (HTTPS, managed identity, fast progression: one poll per state, no
 * Retry-After), started on first call. It also exports IDENTITY_ENDPOINT/IDENTITY_HEADER so
 * DefaultAzureCredential in this process gets its tokens, like the tests do.
 */
export function getBenchEmulator(): Promise<RunningEmulator> {
  emulator ??= (async () => {
    const { startEmulator } = require("../emulator/index") as typeof import("../emulator/index");
    const started = await startEmulator({
      certDir: benchCertDir(),
      progression: { mode: "polls", polls: 1 },
      retryAfterInSeconds: 0,
    });
    process.env.IDENTITY_ENDPOINT = started.info.identityEndpoint;
    process.env.IDENTITY_HEADER = started.info.identityHeader;
    process.env.AZURE_SUBSCRIPTION_ID = started.info.subscriptionId;
    return started;
  })();
  return emulator;
}

async function closeBenchEmulator(): Promise<void> {
  const pending = emulator;
  emulator = undefined;
  if (pending) {
    await (await pending.catch(() => undefined))?.close();
  }
}

/** Module names (file names without extension) next to this file, `index` excluded. */
async function discoverModules(only: string[]): Promise<string[]> {
  const names = (await fs.readdir(__dirname))
    .filter((file) => file.endsWith(".js") && file !== "index.js")
    .map((file) => file.slice(0, -3))
    .sort();
  const unknown = only.filter((name) => !names.includes(name));
  if (unknown.length > 0) {
    throw new TypeError(
      `Unknown bench module(s): ${unknown.join(", ")}. Known: ${names.join(", ")}.`,
    );
  }
  return only.length > 0 ? names.filter((name) => only.includes(name)) : names;
}

/** Formats rows as an aligned three-column table. */
export function formatTable(rows: [string, string, string][]): string {
  const header: [string, string, string] = ["module", "figure", "value"];
  const all = [header, ...rows];
  const widths = [0, 1, 2].map((i) => Math.max(...all.map((row) => row[i]!.length)));
  const line = (row: [string, string, string]) =>
    row
      .map((cell, i) => (i === 2 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

function formatValue(value: number | string): string {
  if (typeof value === "string") {
    return value;
  }
  if (Number.isInteger(value)) {
    return String(value);
  }
  return value.toFixed(Math.abs(value) >= 100 ? 1 : 3);
}

async function runAll(only: string[]): Promise<number> {
  const rows: [string, string, string][] = [];
  let failures = 0;
  try {
    for (const name of await discoverModules(only)) {
      const module = require(path.join(__dirname, `${name}.js`)) as Partial<BenchModule>;
      if (typeof module.run !== "function") {
        continue;
      }
      process.stderr.write(`bench: running ${name}…\n`);
      try {
        const figures = await module.run();
        for (const [figure, value] of Object.entries(figures)) {
          rows.push([name, figure, formatValue(value)]);
        }
      } catch (error) {
        failures++;
        rows.push([name, "error", error instanceof Error ? error.message : String(error)]);
      }
    }
  } finally {
    await closeBenchEmulator();
    const { closeHttpAgents } =
      require("../provider/core/http") as typeof import("../provider/core/http");
    await closeHttpAgents();
  }
  process.stdout.write(`${formatTable(rows)}\n`);
  return failures === 0 ? 0 : 1;
}

/** Makes the CA, then runs this file again in a child that trusts it. */
async function respawnTrustingCa(): Promise<number> {
  const certDir = benchCertDir();
  const { prepareTls } = require("../emulator/tls") as typeof import("../emulator/tls");
  const tls = await prepareTls({ certDir });
  let caFile = tls.caCertPath;
  const existing = process.env.NODE_EXTRA_CA_CERTS;
  if (existing && path.resolve(existing) !== path.resolve(caFile)) {
    // NODE_EXTRA_CA_CERTS names one file: keep the caller's extra CA next to ours.
    caFile = path.join(certDir, "extra-ca-bundle.pem");
    const ours = await fs.readFile(tls.caCertPath, "utf8");
    await fs.writeFile(caFile, `${(await fs.readFile(existing, "utf8")).trim()}\n${ours.trim()}\n`);
  }
  const child = spawn(process.execPath, [__filename, ...process.argv.slice(2)], {
    stdio: "inherit",
    env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile, [BENCH_CERT_DIR_ENV]: certDir },
  });
  return new Promise((resolve) => {
    child.on("exit", (code, signal) =>
      resolve(code ?? 128 + (signal === null ? 0 : os.constants.signals[signal])),
    );
  });
}

async function main(): Promise<void> {
  const code = process.env[BENCH_CERT_DIR_ENV]
    ? await runAll(process.argv.slice(2))
    : await respawnTrustingCa();
  process.exit(code);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
