/**
 * A forward proxy (HTTP CONNECT, RFC 9110 section 9.3.6) that clients reach through `HTTPS_PROXY`:
 * it maps the virtual-host blob names the SDKs build from a cloud's storage suffix
 * (`<account>.blob.core.windows.net:443`) onto the emulator's blob front door, and tunnels to the
 * emulator's own loopback listeners. Everything else is refused (403): nothing leaves the machine.
 * The tunnel is raw TCP; TLS runs end to end with the front door, whose certificate covers
 * `*.blob.core.windows.net` (signed by the emulator's CA). Azurite reads the account from such a
 * host name (its "production-style" URLs), so paths and signatures stay as the client made them.
 */
import * as http from "node:http";
import * as net from "node:net";
import { closeHttpServer, listen } from "./net";

/** Options for startForwardProxy. */
export interface ForwardProxyOptions {
  /** The blob front door's loopback port, where blob host names are tunneled to. */
  readonly blobPort: number;
  /** @default "127.0.0.1" */
  readonly host?: string;
  /** @default 0 (any free port) */
  readonly port?: number;
}

/** A running proxy: export `url` as HTTPS_PROXY (and NO_PROXY=127.0.0.1,localhost). */
export interface RunningForwardProxy {
  readonly url: string;
  close(): Promise<void>;
}

const BLOB_HOST = /^[a-z0-9]{3,24}\.blob\.core\.windows\.net$/i;
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

/** Where a CONNECT target goes: the front door for blob names, itself on loopback, else nowhere. */
export function tunnelTarget(
  authority: string,
  blobPort: number,
): { host: string; port: number } | undefined {
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(authority);
  if (match === null) {
    return undefined;
  }
  const [, host, portText] = match;
  const port = Number(portText);
  if (BLOB_HOST.test(host) && port === 443) {
    return { host: "127.0.0.1", port: blobPort };
  }
  if (LOOPBACK.has(host.toLowerCase()) && port > 0 && port < 65536) {
    return { host: host.replace(/^\[|\]$/g, ""), port };
  }
  return undefined;
}

export async function startForwardProxy(
  options: ForwardProxyOptions,
): Promise<RunningForwardProxy> {
  const host = options.host ?? "127.0.0.1";
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => {
    // Plain-HTTP forwarding is not offered: NO_PROXY keeps loopback URLs off the proxy.
    res.writeHead(501, { "content-type": "text/plain" });
    res.end("The emulator's proxy only tunnels (CONNECT); set NO_PROXY=127.0.0.1,localhost.\n");
  });
  server.on("connect", (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => client.destroy());
    const target = tunnelTarget(req.url ?? "", options.blobPort);
    if (target === undefined) {
      client.end(
        "HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n" +
          `The emulator's proxy tunnels only to <account>.blob.core.windows.net:443 and loopback; not ${req.url ?? ""}.\n`,
      );
      return;
    }
    const upstream = net.connect(target.port, target.host, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) {
        upstream.write(head);
      }
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on("close", () => {
      sockets.delete(upstream);
      client.destroy();
    });
    upstream.on("error", () => {
      if (!client.destroyed && client.writable && upstream.connecting) {
        client.end("HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\n\r\n");
      }
      client.destroy();
    });
    client.on("close", () => upstream.destroy());
  });
  const port = await listen(server, host, options.port ?? 0);
  return {
    url: `http://${host}:${port}`,
    async close() {
      for (const socket of sockets) {
        socket.destroy();
      }
      await closeHttpServer(server);
    },
  };
}
