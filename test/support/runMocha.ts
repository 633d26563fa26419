// `npm test` entry: Node reads NODE_EXTRA_CA_CERTS only at start-up, so make (or reuse) the
// emulator's CA first, then run mocha in a child process that trusts it. Arguments and the exit
// code pass through unchanged.
import { spawn } from "node:child_process";
import { promises as fs, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { prepareTls } from "../../emulator/tls";
import { TEST_CERT_DIR_ENV, testCertDir } from "./emulator";

async function main(): Promise<void> {
  const certDir = testCertDir();
  const tls = await prepareTls({ certDir });
  const caFile = await trustBundle(certDir, tls.caCertPath, process.env.NODE_EXTRA_CA_CERTS);
  const args = process.argv.slice(2);
  const config = await configWithoutSpec(args);
  const child = spawn(
    process.execPath,
    [require.resolve("mocha/bin/mocha.js"), ...(config ? ["--config", config.file] : []), ...args],
    {
      stdio: "inherit",
      env: {
        // Providers' progress lines would interleave with mocha's report; tests that check them
        // turn them back on for the process they start.
        AZUREML_PROGRESS: "off",
        ...process.env,
        NODE_EXTRA_CA_CERTS: caFile,
        [TEST_CERT_DIR_ENV]: certDir,
      },
    },
  );
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => child.kill(signal));
  }
  child.on("exit", (code, signal) => {
    config?.remove();
    process.exit(code ?? 128 + (signal === null ? 0 : os.constants.signals[signal]));
  });
}

/**
 * Mocha appends the rc file's `spec` to the files named on the command line, so naming one file would
 * still run every test. When files are named, mocha gets a copy of .mocharc.json without `spec`.
 */
async function configWithoutSpec(
  args: readonly string[],
): Promise<{ file: string; remove(): void } | undefined> {
  const { loadOptions } = require("mocha/lib/cli/options") as {
    loadOptions(argv: string[]): { _?: unknown[]; config?: unknown };
  };
  const fromCommandLine = loadOptions([...args, "--no-config", "--no-package"]);
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

// NODE_EXTRA_CA_CERTS names one file: keep a CA the caller already trusts next to ours.
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
  const bundle = path.join(certDir, "extra-ca-bundle.pem");
  const text = `${(await fs.readFile(existing, "utf8")).trim()}\n${(await fs.readFile(caCertPath, "utf8")).trim()}\n`;
  await fs.writeFile(bundle, text);
  return bundle;
}

main().catch((error: unknown) => {
  process.stderr.write(`runMocha: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
