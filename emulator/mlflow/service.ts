/**
 * The workspace's MLflow tracking service: the real MLflow server (server.ts), started on first
 * use and served below the workspace's tracking path by the emulator's HTTPS front door. Runs
 * for jobs are made with the job name as their id through the emulator's tracking-store plugin.
 */
import { randomUUID } from "node:crypto";
import { promises as fs } from "node:fs";
import * as http from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as path from "node:path";
import {
  startMlflowServer,
  temporaryDataDir,
  type ArtifactStorage,
  type RunningMlflowServer,
} from "./server";
import { workspaceTrackingPath, type TrackingScope } from "./paths";
import type { TrackingRunRequest, TrackingRunStatus, TrackingService } from "./types";

export { workspaceTrackingPath, type TrackingScope } from "./paths";

export type { TrackingRunRequest, TrackingRunStatus, TrackingService } from "./types";

/** The tag that makes the emulator's store create a run under a chosen id (see the plugin). */
export const RUN_ID_TAG = "azureml.emulator.runId";

/** Options for createTrackingService. */
export interface TrackingServiceOptions extends TrackingScope {
  /** Keep the tracking database under `<dataDir>/mlflow`; a temporary folder (removed on close) otherwise. */
  readonly dataDir?: string;
  /**
   * The workspace's blob storage for artifacts, reached directly (e.g. Azurite's plain-HTTP
   * `http://127.0.0.1:<port>/devstoreaccount1`). Without it artifacts go to `<data>/artifacts`.
   */
  readonly storage?: {
    readonly blobEndpoint: string;
    readonly accountName: string;
    readonly accountKey: string;
    readonly container: string;
    /** @default "mlflow" */
    readonly prefix?: string;
  };
  /** The machine's Python. @default `$AZUREML_EMULATOR_PYTHON`, else `python3` */
  readonly python?: string;
  /** The server's output lines. @default dropped (the last ones go into a start failure's message) */
  readonly log?: (line: string) => void;
}

/** A tracking service that also tells how its server started. */
export interface LocalTrackingService extends TrackingService {
  /** The running server, once ready() has resolved (undefined before and after close). */
  readonly server: RunningMlflowServer | undefined;
}

/** Creates the service; nothing starts until ready(), createRun() or a request needs the server. */
export function createTrackingService(options: TrackingServiceOptions): LocalTrackingService {
  const trackingPath = workspaceTrackingPath(options);
  const prefix = trackingPath.toLowerCase();
  const controller = new AbortController();
  let starting: Promise<RunningMlflowServer> | undefined;
  let running: RunningMlflowServer | undefined;
  let temporary: string | undefined;
  let closed = false;

  const start = async (): Promise<RunningMlflowServer> => {
    let dataDir: string;
    if (options.dataDir !== undefined) {
      dataDir = path.join(path.resolve(options.dataDir), "mlflow");
    } else {
      temporary ??= await temporaryDataDir();
      dataDir = temporary;
    }
    const storage = options.storage;
    const artifacts: ArtifactStorage =
      storage === undefined
        ? { kind: "folder", path: path.join(dataDir, "artifacts") }
        : {
            kind: "blob",
            accountName: storage.accountName,
            container: storage.container,
            prefix: storage.prefix ?? "mlflow",
            connectionString:
              `DefaultEndpointsProtocol=http;AccountName=${storage.accountName};` +
              `AccountKey=${storage.accountKey};BlobEndpoint=${storage.blobEndpoint.replace(/\/+$/, "")};`,
          };
    const server = await startMlflowServer({
      dataDir,
      artifacts,
      python: options.python,
      log: options.log ?? (() => undefined),
      signal: controller.signal,
    });
    if (closed) {
      await server.close();
      throw new Error("The tracking service was closed while its server started.");
    }
    running = server;
    return server;
  };

  const ready = (): Promise<RunningMlflowServer> => {
    if (closed) {
      return Promise.reject(new Error("The tracking service is closed."));
    }
    starting ??= start().catch((error: unknown) => {
      // A later call tries again (e.g. after a transient install failure).
      starting = undefined;
      throw error;
    });
    return starting;
  };

  const api = async (method: "GET" | "POST", route: string, body?: unknown) => {
    const server = await ready();
    const response = await fetch(`${server.url}/api/2.0/mlflow/${route}`, {
      method,
      headers: body === undefined ? undefined : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await response.json().catch(() => ({}))) as Record<string, any>;
    return { status: response.status, json };
  };

  const experimentId = async (name: string): Promise<string> => {
    const byName = `experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      const found = await api("GET", byName);
      if (found.status === 200) {
        return String(found.json.experiment.experiment_id);
      }
      if (found.json.error_code !== "RESOURCE_DOES_NOT_EXIST") {
        throw mlflowError(`Reading experiment ${name}`, found);
      }
      const created = await api("POST", "experiments/create", { name });
      if (created.status === 200) {
        return String(created.json.experiment_id);
      }
      // Made by a concurrent call in between: read it again.
      if (created.json.error_code !== "RESOURCE_ALREADY_EXISTS") {
        throw mlflowError(`Creating experiment ${name}`, created);
      }
    }
    throw new Error(`Experiment ${name} could not be created or read.`);
  };

  const getRun = async (runId: string) => {
    const got = await api("GET", `runs/get?run_id=${encodeURIComponent(runId)}`);
    if (got.status === 200) {
      return got.json.run as { info: { status: string } };
    }
    if (got.json.error_code === "RESOURCE_DOES_NOT_EXIST") {
      return undefined;
    }
    throw mlflowError(`Reading run ${runId}`, got);
  };

  return {
    trackingPath,
    get server() {
      return running;
    },
    async ready() {
      await ready();
    },
    async createRun(run: TrackingRunRequest) {
      if ((await getRun(run.runId)) !== undefined) {
        return;
      }
      const tags = Object.entries(run.tags ?? {}).map(([key, value]) => ({ key, value }));
      const created = await api("POST", "runs/create", {
        experiment_id: await experimentId(run.experimentName),
        run_name: run.runName,
        start_time: Date.now(),
        tags: [...tags, { key: RUN_ID_TAG, value: run.runId }],
      });
      if (created.status !== 200 && created.json.error_code !== "RESOURCE_ALREADY_EXISTS") {
        throw mlflowError(`Creating run ${run.runId}`, created);
      }
      const params = Object.entries(run.params ?? {}).map(([key, value]) => ({ key, value }));
      if (params.length > 0) {
        const logged = await api("POST", "runs/log-batch", { run_id: run.runId, params });
        if (logged.status !== 200) {
          throw mlflowError(`Logging the parameters of run ${run.runId}`, logged);
        }
      }
    },
    async metricHistory(runId: string, key: string) {
      const got = await api(
        "GET",
        `metrics/get-history?run_id=${encodeURIComponent(runId)}&metric_key=${encodeURIComponent(key)}`,
      );
      if (got.status !== 200) {
        if (got.json.error_code === "RESOURCE_DOES_NOT_EXIST") {
          return [];
        }
        throw mlflowError(`Reading metric ${key} of run ${runId}`, got);
      }
      const metrics = (got.json.metrics ?? []) as Array<{
        value: number;
        step?: number | string;
        timestamp?: number | string;
      }>;
      return metrics
        .map((m, i) => ({
          v: Number(m.value),
          step: Number(m.step ?? 0),
          t: Number(m.timestamp ?? 0),
          i,
        }))
        .sort((a, b) => a.step - b.step || a.t - b.t || a.i - b.i)
        .map((m) => m.v);
    },
    async endRun(runId: string, status: TrackingRunStatus) {
      const run = await getRun(runId);
      if (run === undefined) {
        throw new Error(`MLflow run ${runId} does not exist.`);
      }
      if (run.info.status !== "RUNNING" && run.info.status !== "SCHEDULED") {
        return;
      }
      const updated = await api("POST", "runs/update", {
        run_id: runId,
        status,
        end_time: Date.now(),
      });
      if (updated.status !== 200) {
        throw mlflowError(`Ending run ${runId}`, updated);
      }
    },
    owns(pathname: string) {
      const lower = pathname.toLowerCase();
      return lower === prefix || lower.startsWith(`${prefix}/`);
    },
    handle(req: IncomingMessage, res: ServerResponse) {
      res.on("error", () => undefined);
      ready().then(
        (server) => proxy(server, trackingPath.length, req, res),
        (error: unknown) =>
          sendError(
            res,
            503,
            "TEMPORARILY_UNAVAILABLE",
            (error as Error)?.message ?? String(error),
          ),
      );
    },
    async close() {
      closed = true;
      controller.abort(new Error("The tracking service was closed."));
      const pending = starting;
      starting = undefined;
      running = undefined;
      const server = await pending?.catch(() => undefined);
      await server?.close();
      if (temporary !== undefined) {
        await fs.rm(temporary, { recursive: true, force: true });
      }
    },
  };
}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** Streams one request to the server, the tracking path (and the bearer token) taken off. */
function proxy(
  server: RunningMlflowServer,
  prefixLength: number,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const rest = (req.url ?? "/").slice(prefixLength);
  const target = rest === "" || rest.startsWith("?") ? `/${rest}` : rest;
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!HOP_BY_HOP.has(name) && name !== "host" && name !== "authorization") {
      headers[name] = value;
    }
  }
  // MLflow's security middleware answers only requests addressed to localhost.
  headers.host = `127.0.0.1:${server.port}`;
  const upstream = http.request(
    { host: "127.0.0.1", port: server.port, method: req.method, path: target, headers },
    (answer) => {
      const out: http.OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (!HOP_BY_HOP.has(name) && value !== undefined) {
          out[name] = value;
        }
      }
      res.writeHead(answer.statusCode ?? 502, out);
      answer.pipe(res);
      answer.once("error", () => res.destroy());
    },
  );
  upstream.once("error", (error) =>
    sendError(res, 502, "TEMPORARILY_UNAVAILABLE", `The tracking server failed: ${error.message}`),
  );
  req.pipe(upstream);
  req.once("error", () => upstream.destroy());
}

/** An error in MLflow's own JSON shape, so MLflow clients show its message. */
export function sendError(
  res: ServerResponse,
  status: number,
  errorCode: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  res.writeHead(status, {
    "content-type": "application/json",
    "x-ms-request-id": randomUUID(),
    ...headers,
  });
  res.end(JSON.stringify({ error_code: errorCode, message }));
}

function mlflowError(what: string, answer: { status: number; json: Record<string, any> }): Error {
  const detail = answer.json.message ?? JSON.stringify(answer.json);
  return new Error(
    `${what} failed (HTTP ${answer.status} ${answer.json.error_code ?? ""}): ${detail}`,
  );
}
