// `npm test` entry: Node reads NODE_EXTRA_CA_CERTS only at start-up, so make (or reuse) the
// emulator's CA first, then run mocha in a child process that trusts it. Arguments and the exit
// code pass through unchanged.
import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { prepareTls } from "../../emulator/tls";
import { TEST_CERT_DIR_ENV, testCertDir } from "./emulator";

async function main(): Promise<void> {
  const certDir = testCertDir();
  const tls = await prepareTls({ certDir });
  const caFile = await trustBundle(certDir, tls.caCertPath, process.env.NODE_EXTRA_CA_CERTS);
  const child = spawn(
    process.execPath,
    [require.resolve("mocha/bin/mocha.js"), ...process.argv.slice(2)],
    {
      stdio: "inherit",
      env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile, [TEST_CERT_DIR_ENV]: certDir },
    },
  );
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => child.kill(signal));
  }
  child.on("exit", (code, signal) => {
    process.exit(code ?? 128 + (signal === null ? 0 : os.constants.signals[signal]));
  });
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
