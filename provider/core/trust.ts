/**
 * The CA list for a client that must also trust an extra CA (the emulator's, a proxy's). An
 * explicit `ca` replaces Node's default store, so the bundled roots and any NODE_EXTRA_CA_CERTS
 * file are added back; otherwise real Azure would stop verifying. Shared by the ARM transport and
 * the blob uploader, so both trust the same set.
 */
import { readFile } from "node:fs/promises";
import { rootCertificates } from "node:tls";

export async function trustedCertificates(caCertPath: string): Promise<string[]> {
  const ca: string[] = [...rootCertificates];
  ca.push(await readCa(caCertPath, "azureml:caCertPath / AZUREML_CA_CERT_PATH"));
  const extra = process.env.NODE_EXTRA_CA_CERTS;
  if (extra && extra !== caCertPath) {
    // Node only warns about an unreadable NODE_EXTRA_CA_CERTS; so do we (by ignoring it).
    ca.push(
      ...(await readCa(extra, "NODE_EXTRA_CA_CERTS").then(
        (pem) => [pem],
        () => [],
      )),
    );
  }
  return ca;
}

async function readCa(path: string, setting: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new TypeError(`Cannot read the CA certificate named by ${setting} (${path}): ${reason}`);
  }
}
