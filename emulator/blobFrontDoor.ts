// The public blob endpoint: an HTTPS reverse proxy in front of Azurite that streams requests and
// responses through unchanged, records each one (plane "blob") and lets tests inject blob faults.
// The Host header is passed through as sent: Azurite reads the account from the first path segment
// when the host is an IP address, and SharedKey/SAS signatures cover the path and query, not the host.
import { randomUUID } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import {
  applyFault,
  faultHeaders,
  type FaultController,
  type FaultKind,
  type FaultRule,
} from "./faults";
import { closeHttpServer, KEEP_ALIVE_TIMEOUT_IN_MS, listen } from "./net";
import type { RequestLog } from "./requestLog";

/** Options for startBlobFrontDoor. */
export interface BlobFrontDoorOptions {
  /** The emulator's server certificate and key. */
  readonly tls: { readonly certPem: string; readonly keyPem: string };
  /** Where Azurite listens (plain HTTP on loopback). */
  readonly upstream: { readonly host: string; readonly port: number };
  /** The storage account, the first path segment of every blob URL. */
  readonly accountName: string;
  /** Loopback address to bind. @default "127.0.0.1" */
  readonly host?: string;
  /** @default 0 (any free port) */
  readonly port?: number;
}

/** What the front door consults per request; attached once the control plane exists. */
export interface BlobFrontDoorHooks {
  readonly faults: Pick<FaultController, "take" | "delay">;
  readonly requests: Pick<RequestLog, "record">;
}

/** A running blob front door. */
export interface RunningBlobFrontDoor {
  /** `https://127.0.0.1:<port>` */
  readonly url: string;
  /** The public blob endpoint: `https://127.0.0.1:<port>/<account>/` (trailing slash included). */
  readonly blobEndpoint: string;
  readonly port: number;
  /** Starts consulting these faults and recording into this log. */
  attach(hooks: BlobFrontDoorHooks): void;
  close(): Promise<void>;
}

// Connection-scoped headers are the proxy's own business on each hop (RFC 9110 section 7.6.1).
// `expect` is dropped because Node already answered the client's 100-continue itself.
const HOP_BY_HOP_HEADERS = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "upgrade",
  "expect",
]);

/** Copies a flat raw-header list (name, value, name, value, ...) without hop-by-hop headers. */
export function withoutHopByHopHeaders(rawHeaders: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (!HOP_BY_HOP_HEADERS.has(rawHeaders[i].toLowerCase())) {
      kept.push(rawHeaders[i], rawHeaders[i + 1]);
    }
  }
  return kept;
}

/** Starts the HTTPS blob front door. Until `attach` is called, requests pass without faults or records. */
export async function startBlobFrontDoor(
  options: BlobFrontDoorOptions,
): Promise<RunningBlobFrontDoor> {
  const host = options.host ?? "127.0.0.1";
  // Idle upstream sockets are dropped here well before Azurite would close them.
  const agent = new http.Agent({ keepAlive: true, timeout: 30_000 });
  let hooks: BlobFrontDoorHooks | undefined;

  const server = https.createServer(
    { cert: options.tls.certPem, key: options.tls.keyPem },
    (req, res) => {
      // A write to a socket the client already closed must not become an uncaught error.
      res.on("error", () => undefined);
      handle(req, res).catch((error: unknown) => {
        process.stderr.write(`azureml-emulator: blob front door failed: ${String(error)}\n`);
        if (res.headersSent) {
          res.destroy();
          return;
        }
        writeStorageError(
          res,
          {
            kind: "status",
            status: 500,
            error: {
              code: "InternalError",
              message: `The blob front door failed: ${String(error)}`,
            },
          },
          randomUUID(),
        );
      });
    },
  );

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    const target = parseBlobTarget(req.url);
    const clientRequestId = firstHeader(req.headers["x-ms-client-request-id"]);
    let requestId: string = randomUUID();
    let fault: FaultKind | undefined;
    let recorded = false;
    let requestBytes = 0;
    // Attached only where the body is consumed (drain or pipe): a "data" listener starts the flow.
    const countBytes = (): void => {
      req.on("data", (chunk: Buffer) => {
        requestBytes += chunk.length;
      });
    };
    const record = (): void => {
      if (recorded) {
        return;
      }
      recorded = true;
      hooks?.requests.record({
        plane: "blob",
        method,
        path: target.pathname,
        query: target.search.replace(/^\?/, ""),
        status: res.headersSent ? res.statusCode : 0,
        fault,
        requestBytes,
        clientRequestId,
        requestId,
      });
    };
    res.once("close", record);

    if (!target.valid) {
      countBytes();
      await drain(req);
      writeStorageError(
        res,
        {
          kind: "status",
          status: 400,
          error: {
            code: "InvalidUri",
            message: "The requested URI does not represent any resource on the server.",
          },
        },
        requestId,
      );
      return;
    }
    const taken = hooks?.faults.take({ method, path: target.pathname, plane: "blob" });
    if (taken !== undefined) {
      fault = taken.kind;
      if (taken.kind !== "latency") {
        // Read the upload first so the client sees the injected status, not a broken pipe.
        countBytes();
        await drain(req);
      }
      if (taken.kind === "status") {
        writeStorageError(res, taken, requestId);
        return;
      }
      if (hooks !== undefined && (await applyFault(taken, res, requestId, hooks.faults.delay))) {
        return;
      }
    }

    const upstream = http.request({
      host: options.upstream.host,
      port: options.upstream.port,
      method,
      path: req.url,
      headers: withoutHopByHopHeaders(req.rawHeaders),
      agent,
    });
    // These listeners run outside handle()'s promise: a throw in them would stop the emulator.
    upstream.on("response", (answer) => {
      answer.on("error", () => res.destroy());
      try {
        requestId = firstHeader(answer.headers["x-ms-request-id"]) ?? requestId;
        res.writeHead(
          answer.statusCode ?? 502,
          answer.statusMessage,
          withoutHopByHopHeaders(answer.rawHeaders),
        );
        answer.pipe(res);
      } catch (error) {
        process.stderr.write(`azureml-emulator: blob front door failed: ${String(error)}\n`);
        answer.destroy();
        res.destroy();
      }
    });
    upstream.on("error", (error) => {
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      try {
        writeStorageError(
          res,
          {
            kind: "status",
            status: 502,
            error: {
              code: "BadGateway",
              message: `Azurite could not be reached: ${error.message}`,
            },
          },
          requestId,
        );
      } catch {
        res.destroy();
      }
    });
    res.once("close", () => {
      if (!res.writableFinished) {
        upstream.destroy();
      }
    });
    countBytes();
    req.pipe(upstream);
  }

  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_IN_MS;
  // Large uploads over slow CI links may take longer than Node's 5-minute default.
  server.requestTimeout = 0;
  const port = await listen(server, host, options.port ?? 0);
  const url = `https://${host}:${port}`;
  return {
    url,
    blobEndpoint: `${url}/${options.accountName}/`,
    port,
    attach(next) {
      hooks = next;
    },
    async close() {
      await closeHttpServer(server);
      agent.destroy();
    },
  };
}

/** The request target's path and query; `valid` is false when it is no URL at all (e.g. `//[`). */
export function parseBlobTarget(url: string | undefined): {
  pathname: string;
  search: string;
  valid: boolean;
} {
  const raw = url ?? "/";
  try {
    const parsed = new URL(raw, "https://front-door.invalid");
    return { pathname: parsed.pathname, search: parsed.search, valid: true };
  } catch {
    const q = raw.indexOf("?");
    return {
      pathname: q < 0 ? raw : raw.slice(0, q),
      search: q < 0 ? "" : raw.slice(q),
      valid: false,
    };
  }
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function drain(req: http.IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    if (req.readableEnded) {
      resolve();
      return;
    }
    req.once("end", resolve);
    req.once("error", () => resolve());
    req.once("close", () => resolve());
    req.resume();
  });
}

/** The Storage error code a blob "status" fault answers with (what Azure Storage sends for that status). */
export function storageErrorCode(status: number): string {
  switch (status) {
    case 408:
      return "OperationTimedOut";
    case 429:
    case 503:
      return "ServerBusy";
    case 500:
      return "InternalError";
    default:
      return status >= 500 ? "InternalError" : "FaultInjected";
  }
}

// Storage clients parse XML errors and read x-ms-error-code, so blob faults speak Storage, not ARM.
function writeStorageError(res: http.ServerResponse, fault: FaultRule, requestId: string): void {
  const status = fault.status ?? 500;
  const code = fault.error?.code ?? storageErrorCode(status);
  const message =
    fault.error?.message ?? `Injected fault: the emulator answered ${status} on purpose.`;
  const escaped = `${message}\nRequestId:${requestId}`
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
  const body = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${escaped}</Message></Error>`;
  res.writeHead(status, {
    ...faultHeaders(fault),
    "content-type": "application/xml",
    "content-length": Buffer.byteLength(body),
    "x-ms-request-id": requestId,
    "x-ms-error-code": code,
  });
  res.end(body);
}
