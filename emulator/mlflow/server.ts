/**
 * The real MLflow tracking server (pinned in emulator/mlflow/requirements.txt), in its own cached
 * environment with the emulator's tracking-store plugin (emulator/mlflow/python), on a loopback
 * port: SQLite backend, artifacts proxied by the server (`--serve-artifacts`) into the workspace's
 * storage in Azurite, or into a folder when no storage is given.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { promises as fs } from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { packageFile } from "../envs/python";
import { ensureToolEnvironment } from "../envs/toolEnvironment";

/** The plugin's store URI scheme (azureml_emulator_mlflow.SCHEME). */
export const STORE_SCHEME = "azureml-emulator-sqlite";

/** Where the server keeps artifacts. */
export type ArtifactStorage =
  | {
      readonly kind: "blob";
      /** A storage connection string the server uses, e.g. Azurite's over plain HTTP. */
      readonly connectionString: string;
      readonly accountName: string;
      readonly container: string;
      /** Folder inside the container. */
      readonly prefix: string;
    }
  | { readonly kind: "folder"; readonly path: string };

export interface MlflowServerOptions {
  /** Holds `mlflow.db` (and `artifacts/` when artifacts go to a folder). */
  readonly dataDir: string;
  readonly artifacts: ArtifactStorage;
  /** The machine's Python. */
  readonly python?: string;
  /** The server's own output lines and what the emulator does with it. */
  readonly log: (line: string) => void;
  readonly signal?: AbortSignal;
}

export interface RunningMlflowServer {
  /** `http://127.0.0.1:<port>` (plain HTTP, loopback only). */
  readonly url: string;
  readonly port: number;
  /** From spawning the process to `/health` answering 200. */
  readonly startDurationInMs: number;
  /** Stops the server and its workers (SIGTERM to its process group, then SIGKILL). */
  close(): Promise<void>;
}

/** The `--artifacts-destination` for a storage. */
export function artifactsDestination(artifacts: ArtifactStorage): string {
  return artifacts.kind === "blob"
    ? `wasbs://${artifacts.container}@${artifacts.accountName}.blob.core.windows.net/${artifacts.prefix}`
    : artifacts.path;
}

/** The server's command-line arguments after `python -m mlflow`. */
export function serverArguments(
  dataDir: string,
  artifacts: ArtifactStorage,
  port: number,
): string[] {
  const db = path.resolve(dataDir, "mlflow.db");
  return [
    "server",
    // The plugin's scheme (run ids chosen by the emulator); the model registry reads the same file.
    "--backend-store-uri",
    `${STORE_SCHEME}:///${db}`,
    "--registry-store-uri",
    `sqlite:///${db}`,
    "--serve-artifacts",
    "--artifacts-destination",
    artifactsDestination(artifacts),
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--workers",
    "1",
  ];
}

/** Builds (once) the server's environment, starts it and resolves when `/health` answers. */
export async function startMlflowServer(
  options: MlflowServerOptions,
): Promise<RunningMlflowServer> {
  const env = await ensureToolEnvironment(
    {
      name: "mlflow-server",
      requirementFiles: [packageFile("emulator", "mlflow", "requirements.txt")],
      localPackages: [packageFile("emulator", "mlflow", "python")],
    },
    { python: options.python, log: options.log, signal: options.signal },
  );
  await fs.mkdir(options.dataDir, { recursive: true });
  if (options.artifacts.kind === "folder") {
    await fs.mkdir(options.artifacts.path, { recursive: true });
  }
  const port = await freePort();
  const started = performance.now();
  const child = spawn(
    env.pythonPath,
    ["-m", "mlflow", ...serverArguments(options.dataDir, options.artifacts, port)],
    {
      cwd: options.dataDir,
      env: serverEnvironment(options.artifacts),
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group: uvicorn runs workers in child processes.
      detached: true,
    },
  );
  const tail: string[] = [];
  const onLine = (line: string) => {
    tail.push(line);
    if (tail.length > 40) {
      tail.shift();
    }
    options.log(line);
  };
  forwardLines(child, onLine);
  const exited = new Promise<string>((resolve) => {
    child.once("exit", (code, signal) => resolve(`exit code ${code ?? signal}`));
    child.once("error", (error) => resolve(error.message));
  });
  const url = `http://127.0.0.1:${port}`;
  const server: RunningMlflowServer = {
    url,
    port,
    startDurationInMs: 0,
    close: () => stopProcessGroup(child, exited),
  };
  try {
    for (;;) {
      options.signal?.throwIfAborted();
      const outcome = await Promise.race([
        exited.then((how) => ({ exited: how })),
        healthy(url).then((ok) => ({ ok })),
      ]);
      if ("exited" in outcome) {
        throw new Error(
          `The MLflow tracking server stopped while starting (${outcome.exited}):\n${tail.join("\n")}`,
        );
      }
      if (outcome.ok) {
        return { ...server, startDurationInMs: Math.round(performance.now() - started) };
      }
      await sleep(250, undefined, { signal: options.signal });
    }
  } catch (error) {
    await server.close();
    throw error;
  }
}

function serverEnvironment(artifacts: ArtifactStorage): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // A client's settings in the emulator's own environment must not steer the server.
  for (const name of Object.keys(env)) {
    if (name.startsWith("MLFLOW_") || name.startsWith("_MLFLOW_")) {
      delete env[name];
    }
  }
  delete env.AZURE_STORAGE_CONNECTION_STRING;
  delete env.AZURE_STORAGE_ACCESS_KEY;
  Object.assign(env, {
    // The emulator is offline by design: no usage reports.
    MLFLOW_DISABLE_TELEMETRY: "true",
    DO_NOT_TRACK: "true",
    PYTHONUNBUFFERED: "1",
    PYTHONDONTWRITEBYTECODE: "1",
  });
  if (artifacts.kind === "blob") {
    env.AZURE_STORAGE_CONNECTION_STRING = artifacts.connectionString;
  }
  return env;
}

function forwardLines(child: ChildProcess, onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    let pending = "";
    stream?.on("data", (chunk: Buffer) => {
      const lines = (pending + chunk.toString("utf8")).split(/\r?\n/);
      pending = lines.pop() ?? "";
      lines.forEach(onLine);
    });
  }
}

function healthy(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get(`${url}/health`, { timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.once("timeout", () => request.destroy());
    request.once("error", () => resolve(false));
  });
}

async function stopProcessGroup(child: ChildProcess, exited: Promise<string>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
    return;
  }
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-(child.pid as number), signal);
    } catch {
      // Already gone.
    }
  };
  signalGroup("SIGTERM");
  const timer = new AbortController();
  const stopped = await Promise.race([
    exited.then(() => true),
    sleep(10_000, false, { signal: timer.signal }).catch(() => false),
  ]);
  timer.abort();
  if (!stopped) {
    signalGroup("SIGKILL");
    await exited;
  }
  // Workers that outlived the server process.
  signalGroup("SIGKILL");
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** A temporary data folder for a server without one; removed by the caller. */
export function temporaryDataDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), "azureml-emulator-mlflow-"));
}
