/**
 * Listener and dependency plumbing shared by the emulator's servers (ARM, blob front door,
 * managed identity) and by the pieces that load optional peer dependencies (Azurite, selfsigned).
 */
import type * as http from "node:http";
import type * as https from "node:https";
import type * as net from "node:net";

/** Thrown when an optional peer dependency the emulator needs is not installed. */
export class MissingPeerDependencyError extends Error {
  readonly code = "EMULATOR_MISSING_PEER_DEPENDENCY";
  constructor(
    readonly packageName: string,
    feature: string,
    options?: { cause?: unknown },
  ) {
    super(
      `The emulator needs the package "${packageName}" for ${feature}. ` +
        `Install it next to pulumi-azureml: npm install --save-dev ${packageName}`,
      options,
    );
    this.name = "MissingPeerDependencyError";
  }
}

/** Loads an optional peer dependency, or throws MissingPeerDependencyError naming the package. */
export function requireOptionalPeer<T>(packageName: string, feature: string): T {
  try {
    return require(packageName) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "MODULE_NOT_FOUND") {
      throw new MissingPeerDependencyError(packageName.split("/dist/")[0], feature, {
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * Idle keep-alive time of the emulator's listeners. Node's 5 s default races clients that reuse a
 * pooled socket just as the server closes it (a spurious ECONNRESET); Azure's front ends wait minutes.
 */
export const KEEP_ALIVE_TIMEOUT_IN_MS = 120_000;

/** Listens on host:port (0 = any free port) and resolves with the bound port. */
export function listen(server: net.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const bound = (server.address() as net.AddressInfo).port;
      // Later errors (e.g. EMFILE on accept) would otherwise be uncaught and stop the emulator.
      server.on("error", (error) => {
        process.stderr.write(`azureml-emulator: listener on ${host}:${bound}: ${String(error)}\n`);
      });
      resolve(bound);
    });
  });
}

/** Stops listening, drops idle keep-alive sockets and waits until the port is released. */
export function closeHttpServer(server: http.Server | https.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
