// The one emulator shared by a test run. The root hooks (hooks.ts) start it when the selected tests
// include an @emulator, @host or @engine test and stop it at the end; `--grep @unit` runs never start it.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { EmulatorOptions, RunningEmulator } from "../../emulator/index";
import { fileMetricSource } from "./sweepMetrics";

/** Set by runMocha.ts: the folder holding the CA that NODE_EXTRA_CA_CERTS points at. */
export const TEST_CERT_DIR_ENV = "AZUREML_TEST_CERT_DIR";

/** Titles carrying one of these tags need the emulator. */
export const EMULATOR_TAGS: readonly string[] = ["@emulator", "@host", "@engine"];

/** The certificate cache runMocha.ts and the hooks agree on, under the OS temp folder. */
export function testCertDir(): string {
  return process.env[TEST_CERT_DIR_ENV] || path.join(os.tmpdir(), "pulumi-azureml-test-tls");
}

/** The options the shared emulator starts with: fast progression, short Retry-After. */
export function testEmulatorOptions(): EmulatorOptions {
  return {
    certDir: testCertDir(),
    progression: { mode: "polls", polls: 1 },
    retryAfterInSeconds: 0,
    // Sweep trials of the shared emulator log their metric to files (test/support/sweepMetrics.ts)
    // since it serves no MLflow; the MLflow metric source has a test of its own.
    sweeps: { metrics: fileMetricSource(), tickInMs: 100 },
    // The MLflow server takes tens of seconds to start: tests that need it start their own emulator.
    mlflow: false,
  };
}

/** True when a test's full title asks for the emulator. */
export function needsEmulator(fullTitle: string): boolean {
  return EMULATOR_TAGS.some((tag) => fullTitle.includes(tag));
}

let shared: RunningEmulator | undefined;
let starting: Promise<RunningEmulator> | undefined;
const savedEnv = new Map<string, string | undefined>();

/** The running shared emulator. Throws when none was started (the test is not tagged). */
export function getEmulator(): RunningEmulator {
  if (shared === undefined) {
    throw new Error(
      "No emulator is running. Tag the test (or its describe) with @emulator or @host: the root " +
        "hooks in test/support/hooks.ts start the emulator only when such tests are selected.",
    );
  }
  return shared;
}

/** Starts the shared emulator once and exports its settings to process.env (idempotent). */
export function startSharedEmulator(): Promise<RunningEmulator> {
  starting ??= (async () => {
    // Loaded on demand so runs without emulator tests never load the emulator at all.
    const { startEmulator } =
      require("../../emulator/index") as typeof import("../../emulator/index");
    const emulator = await startEmulator(testEmulatorOptions());
    const { info } = emulator;
    warnWhenCaIsNotTrusted(info.caCertPath);
    // Read by DefaultAzureCredential (App Service managed identity) and by the provider's settings,
    // in this process and in every process it spawns (Pulumi hosts).
    setEnv("IDENTITY_ENDPOINT", info.identityEndpoint);
    setEnv("IDENTITY_HEADER", info.identityHeader);
    setEnv("AZURE_SUBSCRIPTION_ID", info.subscriptionId);
    setEnv("AZUREML_ARM_ENDPOINT", info.armEndpoint);
    setEnv("AZUREML_CA_CERT_PATH", info.caCertPath);
    shared = emulator;
    return emulator;
  })();
  return starting;
}

/** Stops the shared emulator, if any, and restores the environment it changed. */
export async function stopSharedEmulator(): Promise<void> {
  const pending = starting;
  starting = undefined;
  shared = undefined;
  if (pending === undefined) {
    return;
  }
  try {
    const emulator = await pending;
    await emulator.close();
  } finally {
    for (const [name, value] of savedEnv) {
      if (value === undefined) {
        delete process.env[name];
      } else {
        process.env[name] = value;
      }
    }
    savedEnv.clear();
  }
}

let counter = 0;

/**
 * A name no other test in this run (or a concurrent run) uses: `<prefix>-<n><4 letters>`. It ends in
 * a letter, so it also satisfies Azure ML's compute rule (no trailing `-<digits>`), and stays short.
 */
export function uniqueName(prefix: string): string {
  counter += 1;
  const letters = Array.from(randomBytes(4), (byte) => String.fromCharCode(97 + (byte % 26))).join(
    "",
  );
  return `${prefix}-${counter.toString(36)}${letters}`;
}

/** The stack config a Pulumi program would set to target the shared emulator. */
export function emulatorConfig(): Record<string, string> {
  const { info } = getEmulator();
  return {
    "azureml:armEndpoint": info.armEndpoint,
    "azureml:subscriptionId": info.subscriptionId,
    "azureml:caCertPath": info.caCertPath,
  };
}

function setEnv(name: string, value: string): void {
  if (!savedEnv.has(name)) {
    savedEnv.set(name, process.env[name]);
  }
  process.env[name] = value;
}

// Node reads NODE_EXTRA_CA_CERTS once at start-up; without it, Azure SDK clients in this process
// reject the emulator's certificate. runMocha.ts sets it; plain `mocha` does not.
function warnWhenCaIsNotTrusted(caCertPath: string): void {
  const extra = process.env.NODE_EXTRA_CA_CERTS;
  const ca = readFileSync(caCertPath, "utf8").trim();
  let trusted = false;
  try {
    trusted = extra !== undefined && readFileSync(extra, "utf8").includes(ca);
  } catch {
    trusted = false;
  }
  if (!trusted) {
    process.stderr.write(
      "warning: NODE_EXTRA_CA_CERTS does not include the emulator CA, so in-process HTTPS clients will " +
        "reject it. Run the tests with `node dist/test/support/runMocha.js` (npm test).\n",
    );
  }
}
