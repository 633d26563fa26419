// Azurite's blob service, started in-process through its programmatic API on 127.0.0.1.
// Azurite is an optional peer dependency: users who never start the emulator do not need it.
import { promises as fs } from "node:fs";
import * as https from "node:https";
import { rootCertificates } from "node:tls";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { requireOptionalPeer } from "./net";

/** Azurite's well-known development account (public, documented by Microsoft; not a secret). */
export const DEV_STORE_ACCOUNT_NAME = "devstoreaccount1";
export const DEV_STORE_ACCOUNT_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/** Options for startAzurite. */
export interface AzuriteOptions {
  /** Loopback address to bind. @default "127.0.0.1" */
  readonly host?: string;
  /** Port to listen on; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** Folder for blobs and metadata; without it everything lives in memory and is lost on close. */
  readonly dataDir?: string;
}

/** A running Azurite blob service (plain HTTP; the HTTPS front door sits before it). */
export interface RunningAzurite {
  /** `http://127.0.0.1:<port>` without the account path. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly accountName: string;
  readonly accountKey: string;
  /** Creates a blob container; an existing one is fine. */
  createContainer(name: string): Promise<void>;
  close(): Promise<void>;
}

// The slice of Azurite's internals used here (it ships no type declarations).
interface AzuriteBlobServer {
  start(): Promise<void>;
  close(): Promise<void>;
  readonly httpServer: Server;
}
type AzuriteBlobServerConstructor = new (configuration: unknown) => AzuriteBlobServer;
type AzuriteBlobConfigurationConstructor = new (...args: unknown[]) => unknown;
interface AzuriteMemoryChunkStoreConstructor {
  new (sizeLimitInBytes?: number): unknown;
}

const FEATURE = "the emulator's blob storage";

/** The part of axios (Azurite's own copy) that {@link trustFrontDoorForCopySources} uses. */
interface AxiosInterceptors {
  readonly interceptors: {
    readonly request: {
      use(hook: (config: { url?: string; httpsAgent?: unknown }) => unknown): number;
      eject(id: number): void;
    };
  };
}

/**
 * Lets Azurite read copy sources through the blob front door's HTTPS. Azurite checks the SAS of a
 * copy source (Copy Blob From URL, Copy Blob) by reading the source URL with axios; in a process
 * that does not trust the emulator's CA (no NODE_EXTRA_CA_CERTS, as with `npx azureml-emulator`)
 * that read failed and every such copy answered a bare 500. Only requests to `origin` get an agent
 * trusting `caPem` besides the usual roots; nothing else in the process changes. Returns what
 * removes the hook.
 */
export function trustFrontDoorForCopySources(origin: string, caPem: string): () => void {
  const azuriteDir = path.dirname(require.resolve("azurite/package.json"));
  const axiosModule = require(require.resolve("axios", { paths: [azuriteDir] })) as
    AxiosInterceptors | { default: AxiosInterceptors };
  const axios = "default" in axiosModule ? axiosModule.default : axiosModule;
  const agent = new https.Agent({ ca: [...rootCertificates, caPem], keepAlive: false });
  const prefix = `${origin.replace(/\/+$/, "")}/`;
  const id = axios.interceptors.request.use((config) => {
    if (typeof config.url === "string" && config.url.startsWith(prefix)) {
      config.httpsAgent = agent;
    }
    return config;
  });
  return () => {
    axios.interceptors.request.eject(id);
    agent.destroy();
  };
}

/** Starts Azurite's blob service. Throws MissingPeerDependencyError when azurite is not installed. */
export async function startAzurite(options: AzuriteOptions = {}): Promise<RunningAzurite> {
  const { default: BlobServer } = requireOptionalPeer<{ default: AzuriteBlobServerConstructor }>(
    "azurite/dist/src/blob/BlobServer",
    FEATURE,
  );
  const { default: BlobConfiguration } = requireOptionalPeer<{
    default: AzuriteBlobConfigurationConstructor;
  }>("azurite/dist/src/blob/BlobConfiguration", FEATURE);
  const { MemoryExtentChunkStore } = requireOptionalPeer<{
    MemoryExtentChunkStore: AzuriteMemoryChunkStoreConstructor;
  }>("azurite/dist/src/common/persistence/MemoryExtentStore", FEATURE);

  const host = options.host ?? "127.0.0.1";
  const dataDir = options.dataDir === undefined ? undefined : path.resolve(options.dataDir);
  const inMemory = dataDir === undefined;
  if (dataDir !== undefined) {
    await fs.mkdir(dataDir, { recursive: true });
  }
  const at = (name: string): string => (dataDir === undefined ? name : path.join(dataDir, name));
  // Positional arguments of Azurite 3.35's BlobConfiguration constructor.
  const configuration = new BlobConfiguration(
    host,
    options.port ?? 0,
    600, // keepAliveTimeout in seconds: the front door's pool closes idle sockets first
    at("__azurite_db_blob__.json"),
    at("__azurite_db_blob_extent__.json"),
    [{ locationId: "Default", locationPath: at("__blobstorage__"), maxConcurrency: 50 }],
    false, // enableAccessLog: its default stream is stdout, which the CLI reserves for one JSON line
    undefined, // accessLogWriteStream
    false, // enableDebugLog
    undefined, // debugLogFilePath
    true, // loose: accept headers Azurite does not implement rather than fail uploads
    true, // skipApiVersionCheck: newer storage SDKs send versions Azurite does not list yet
    "", // cert: TLS is terminated by the blob front door
    "", // key
    "", // pwd
    undefined, // oauth: clients use SharedKey or SAS
    // disableProductStyleUrl off: for 127.0.0.1 the account is the first path segment; for
    // `<account>.blob.core.windows.net` (reached through the forward proxy) it is the host's first label.
    false,
    inMemory,
    // Own chunk store, so two emulators in one process do not share Azurite's global one.
    inMemory ? new MemoryExtentChunkStore() : undefined,
  );
  const server = new BlobServer(configuration);
  await server.start();
  const port = (server.httpServer.address() as AddressInfo).port;
  const url = `http://${host}:${port}`;

  const serviceClient = new BlobServiceClient(
    `${url}/${DEV_STORE_ACCOUNT_NAME}`,
    new StorageSharedKeyCredential(DEV_STORE_ACCOUNT_NAME, DEV_STORE_ACCOUNT_KEY),
    { retryOptions: { maxTries: 3 } },
  );

  let closing: Promise<void> | undefined;
  return {
    url,
    host,
    port,
    accountName: DEV_STORE_ACCOUNT_NAME,
    accountKey: DEV_STORE_ACCOUNT_KEY,
    async createContainer(name: string): Promise<void> {
      await serviceClient.getContainerClient(name).createIfNotExists();
    },
    close(): Promise<void> {
      closing ??= closeServer(server);
      return closing;
    },
  };
}

// Azurite's close() stops the listener without waiting for it; wait for "close" so the port is free.
async function closeServer(server: AzuriteBlobServer): Promise<void> {
  const closed = new Promise<void>((resolve) => {
    if (!server.httpServer.listening) {
      resolve();
      return;
    }
    server.httpServer.once("close", () => resolve());
  });
  await server.close();
  server.httpServer.closeAllConnections();
  await closed;
}
