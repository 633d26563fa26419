// TLS material for the emulator: a throwaway CA and a server certificate for the loopback names.
// Clients trust the CA through NODE_EXTRA_CA_CERTS=<caCertPath> or an explicit `ca` option.
import { X509Certificate, createPrivateKey, randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { requireOptionalPeer } from "./net";

/** PEM-encoded server certificate, its private key, and the CA certificate that issued it. */
export interface TlsMaterial {
  readonly certPem: string;
  readonly keyPem: string;
  readonly caPem: string;
}

/** Where the TLS material comes from. With neither field, fresh material is made in a temporary folder. */
export interface TlsOptions {
  /** Use this material as is (it must cover 127.0.0.1, ::1 and localhost). */
  readonly tls?: TlsMaterial;
  /** Reuse the material stored in this folder when it is still valid; otherwise make it and store it here. */
  readonly certDir?: string;
}

/** TLS material ready to serve, with the CA written to disk for NODE_EXTRA_CA_CERTS. */
export interface PreparedTls extends TlsMaterial {
  readonly caCertPath: string;
  /** Removes the temporary folder when one was made; a given certDir is kept. */
  dispose(): Promise<void>;
}

/** The names every emulator certificate must cover: the listeners bind 127.0.0.1 only. */
export const SERVER_IP_ADDRESSES: readonly string[] = ["127.0.0.1", "::1"];
export const SERVER_HOST_NAMES: readonly string[] = ["localhost"];
/**
 * Virtual-host blob names the SDKs build (`https://<account>.blob.core.windows.net`), reached
 * through the emulator's forward proxy (`proxy.ts`) and served by the blob front door. Only clients
 * that trust the emulator's throwaway CA accept this certificate.
 */
export const BLOB_HOST_NAMES: readonly string[] = ["*.blob.core.windows.net"];
const BLOB_HOST_EXAMPLE = "devstoreaccount1.blob.core.windows.net";

/** Material this close to expiry is replaced rather than reused. */
export const MIN_REMAINING_VALIDITY_IN_MS = 7 * 24 * 60 * 60 * 1000;

const BUNDLE_FILE = "tls.json";
const CA_FILE = "ca.pem";

/** Options for generateTlsMaterial. */
export interface GenerateTlsOptions {
  /** @default 365 */
  readonly validityInDays?: number;
  /** @default new Date() */
  readonly now?: Date;
}

/**
 * Makes a CA and a server certificate it signs for 127.0.0.1, ::1 and localhost (EC P-256, SHA-256).
 * The CA key is discarded: nothing else can ever be signed by this CA.
 */
export async function generateTlsMaterial(options: GenerateTlsOptions = {}): Promise<TlsMaterial> {
  const selfsigned = requireOptionalPeer<typeof import("selfsigned")>(
    "selfsigned",
    "generating the emulator's TLS certificates",
  );
  const now = options.now ?? new Date();
  const validityInDays = options.validityInDays ?? 365;
  // Back-date a little so a client whose clock lags the emulator's does not reject the chain.
  const notBeforeDate = new Date(now.getTime() - 5 * 60 * 1000);
  const notAfterDate = new Date(now.getTime() + validityInDays * 24 * 60 * 60 * 1000);
  const common = {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate,
  } as const;

  const ca = await selfsigned.generate(
    [
      { name: "commonName", value: "pulumi-azureml emulator CA" },
      { name: "organizationName", value: "pulumi-azureml" },
    ],
    {
      ...common,
      extensions: [
        { name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true },
        {
          name: "keyUsage",
          keyCertSign: true,
          cRLSign: true,
          digitalSignature: true,
          critical: true,
        },
      ],
    },
  );
  const server = await selfsigned.generate(
    [
      { name: "commonName", value: "localhost" },
      { name: "organizationName", value: "pulumi-azureml" },
    ],
    {
      ...common,
      ca: { key: ca.private, cert: ca.cert },
      extensions: [
        { name: "basicConstraints", cA: false, critical: true },
        { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
        { name: "extKeyUsage", serverAuth: true },
        {
          name: "subjectAltName",
          altNames: [
            ...[...SERVER_HOST_NAMES, ...BLOB_HOST_NAMES].map((value) => ({
              type: 2 as const,
              value,
            })),
            ...SERVER_IP_ADDRESSES.map((ip) => ({ type: 7 as const, ip })),
          ],
        },
      ],
    },
  );
  return { certPem: server.cert, keyPem: server.private, caPem: ca.cert };
}

/**
 * Why this material cannot serve the emulator, or undefined when it can: the CA is a CA, it signed the
 * server certificate, the key matches, every loopback name is covered and enough validity remains.
 */
export function findTlsMaterialProblem(
  material: TlsMaterial,
  now: Date = new Date(),
): string | undefined {
  let ca: X509Certificate;
  let cert: X509Certificate;
  try {
    ca = new X509Certificate(material.caPem);
    cert = new X509Certificate(material.certPem);
    if (!cert.checkPrivateKey(createPrivateKey(material.keyPem))) {
      return "the private key does not match the server certificate";
    }
  } catch (error) {
    return `the PEM text cannot be parsed (${(error as Error).message})`;
  }
  if (!ca.ca) {
    return "the CA certificate is not marked as a CA";
  }
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) {
    return "the server certificate was not signed by the CA";
  }
  for (const ip of SERVER_IP_ADDRESSES) {
    if (cert.checkIP(ip) === undefined) {
      return `the server certificate does not cover ${ip}`;
    }
  }
  for (const host of [...SERVER_HOST_NAMES, BLOB_HOST_EXAMPLE]) {
    if (cert.checkHost(host) === undefined) {
      return `the server certificate does not cover ${host}`;
    }
  }
  for (const [label, x509] of [
    ["CA", ca],
    ["server", cert],
  ] as const) {
    if (new Date(x509.validFrom).getTime() > now.getTime()) {
      return `the ${label} certificate is not valid yet`;
    }
    if (new Date(x509.validTo).getTime() - now.getTime() < MIN_REMAINING_VALIDITY_IN_MS) {
      return `the ${label} certificate expires too soon (${x509.validTo})`;
    }
  }
  return undefined;
}

/**
 * Resolves the emulator's TLS material (given, reused from certDir, or made) and writes the CA to disk.
 * Throws TypeError when given material is unusable.
 */
export async function prepareTls(options: TlsOptions = {}): Promise<PreparedTls> {
  if (options.tls) {
    const problem = findTlsMaterialProblem(options.tls);
    if (problem !== undefined) {
      throw new TypeError(`The TLS material in [tls] cannot be used: ${problem}.`);
    }
  }
  const ownsDir = options.certDir === undefined;
  const dir =
    options.certDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), "azureml-emulator-tls-")));
  await fs.mkdir(dir, { recursive: true });

  const material = options.tls ?? (await reuseOrCreateBundle(dir));
  const caCertPath = path.join(dir, CA_FILE);
  if ((await readText(caCertPath)) !== material.caPem) {
    await writeFileAtomic(caCertPath, material.caPem, 0o644);
  }
  const { certPem, keyPem, caPem } = material;
  return {
    certPem,
    keyPem,
    caPem,
    caCertPath,
    async dispose() {
      if (ownsDir) {
        await fs.rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Reads valid material from dir, or makes and stores it; when two processes race, the first file wins. */
async function reuseOrCreateBundle(dir: string): Promise<TlsMaterial> {
  const file = path.join(dir, BUNDLE_FILE);
  const existing = await readBundle(dir);
  if (existing !== undefined && findTlsMaterialProblem(existing) === undefined) {
    return existing;
  }
  const fresh = await generateTlsMaterial();
  const temporary = await writeTemporary(file, JSON.stringify(fresh), 0o600);
  if (existing === undefined) {
    try {
      // link() creates the name only if it is free: a concurrent first run keeps the winner's CA.
      await fs.link(temporary, file);
      await fs.rm(temporary, { force: true });
      return fresh;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        await fs.rm(temporary, { force: true });
        throw error;
      }
      const winner = await readBundle(dir);
      if (winner !== undefined && findTlsMaterialProblem(winner) === undefined) {
        await fs.rm(temporary, { force: true });
        return winner;
      }
    }
  }
  await fs.rename(temporary, file);
  return fresh;
}

// One JSON file holds the set, so a concurrent reader never sees a CA from one run and a key from another.
async function readBundle(dir: string): Promise<TlsMaterial | undefined> {
  const text = await readText(path.join(dir, BUNDLE_FILE));
  if (text === undefined) {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as Partial<TlsMaterial>;
    if (
      typeof parsed.certPem === "string" &&
      typeof parsed.keyPem === "string" &&
      typeof parsed.caPem === "string"
    ) {
      return { certPem: parsed.certPem, keyPem: parsed.keyPem, caPem: parsed.caPem };
    }
  } catch {
    // A truncated or foreign file is simply replaced.
  }
  return undefined;
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      return undefined;
    }
    throw error;
  }
}

async function writeFileAtomic(file: string, text: string, mode: number): Promise<void> {
  await fs.rename(await writeTemporary(file, text, mode), file);
}

async function writeTemporary(file: string, text: string, mode: number): Promise<string> {
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await fs.writeFile(temporary, text, { mode });
  return temporary;
}
