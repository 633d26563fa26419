// Drives Pulumi's real dynamic-provider host (`@pulumi/pulumi/cmd/dynamic-provider`) over gRPC,
// the way the engine does, without the Pulumi CLI: spawn it with the project directory as cwd,
// read its port from the first stdout line, send Configure, then the resource RPCs.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { createInterface } from "node:readline";
import * as grpc from "@grpc/grpc-js";

// The stubs and Struct must be the single google-protobuf 3.21.4 copy @pulumi/pulumi loads.
const pb = require("@pulumi/pulumi/proto/provider_pb");
const { ResourceProviderClient } = require("@pulumi/pulumi/proto/provider_grpc_pb");
const { Struct } = require("google-protobuf/google/protobuf/struct_pb");
const { Empty } = require("google-protobuf/google/protobuf/empty_pb");

export type PropertyMap = Record<string, unknown>;

export interface CheckFailure {
  readonly property: string;
  readonly reason: string;
}

export interface CheckResponse {
  readonly inputs: PropertyMap;
  readonly failures: CheckFailure[];
}

export type DiffChanges = "unknown" | "none" | "some";

export interface DiffResponse {
  readonly changes: DiffChanges;
  readonly replaces: string[];
  readonly deleteBeforeReplace: boolean;
  readonly stables: string[];
}

export interface CreateResponse {
  readonly id: string;
  readonly outs: PropertyMap;
}

export interface ReadResponse {
  readonly id: string;
  readonly props: PropertyMap;
  /** Present only when the provider's read returned inputs. */
  readonly inputs: PropertyMap | undefined;
}

export interface ConfigureResponse {
  readonly acceptSecrets: boolean;
  readonly supportsPreview: boolean;
  readonly acceptResources: boolean;
}

/** A failed RPC: the grpc-js error, with the host's message in `details`. */
export interface HostRpcError extends Error {
  readonly code: number;
  readonly details: string;
}

export interface ProviderHost {
  readonly port: number;
  readonly pid: number;
  readonly cwd: string;
  readonly project: string;
  getPluginInfo(): Promise<{ version: string }>;
  /** Namespaced stack config (`"azureml:armEndpoint"`). Sent automatically before the first resource RPC if never called. */
  configure(config: Record<string, string>): Promise<ConfigureResponse>;
  check(urn: string, olds: PropertyMap, news: PropertyMap): Promise<CheckResponse>;
  diff(
    urn: string,
    id: string,
    olds: PropertyMap,
    news: PropertyMap,
    oldInputs?: PropertyMap,
  ): Promise<DiffResponse>;
  create(urn: string, props: PropertyMap, options?: { preview?: boolean }): Promise<CreateResponse>;
  read(urn: string, id: string, props: PropertyMap, inputs?: PropertyMap): Promise<ReadResponse>;
  update(
    urn: string,
    id: string,
    olds: PropertyMap,
    news: PropertyMap,
    oldInputs?: PropertyMap,
  ): Promise<PropertyMap>;
  delete(urn: string, id: string, props: PropertyMap, oldInputs?: PropertyMap): Promise<void>;
  /** Lines the host printed after its port (stdout and stderr, in arrival order): provider logs. */
  logs(): string[];
  /** Closes the client and stops the host process. */
  stop(): Promise<void>;
}

export interface StartHostOptions {
  /** Config namespace used by `config.get("key")`; default: `name` in the project's Pulumi.yaml. */
  readonly project?: string;
  /** Namespaced stack config, exported as PULUMI_CONFIG and sent by the automatic Configure. */
  readonly config?: Record<string, string>;
  /** Deadline for each RPC. Default 120 s. */
  readonly rpcTimeoutInMs?: number;
  /** How long to wait for the port line. Default 30 s. */
  readonly startTimeoutInMs?: number;
}

const liveHosts = new Set<ChildProcess>();
let exitHookInstalled = false;

function killAllOnExit(): void {
  for (const child of liveHosts) {
    child.kill("SIGKILL");
  }
}

/** `urn:pulumi:<stack>::<project>::<type>::<name>`, the form the engine sends. */
export function resourceUrn(
  name: string,
  options: { stack?: string; project?: string; type?: string } = {},
): string {
  const type = options.type ?? "pulumi-nodejs:dynamic:Resource";
  return `urn:pulumi:${options.stack ?? "test"}::${options.project ?? "harness"}::${type}::${name}`;
}

/** The `name:` of a Pulumi.yaml, or undefined. */
export function readProjectName(projectDir: string): string | undefined {
  try {
    const yaml = readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8");
    const match = /^name:\s*["']?([^"'\s#]+)/m.exec(yaml);
    return match?.[1];
  } catch {
    return undefined;
  }
}

/**
 * Starts the host from the repository's `@pulumi/pulumi` with `projectDir` as its cwd and the
 * environment the engine gives plugins (process.env + PULUMI_NODEJS_PROJECT, PULUMI_PROJECT,
 * PULUMI_CONFIG), plus `env`.
 */
export async function startHost(
  projectDir: string,
  env: NodeJS.ProcessEnv = {},
  options: StartHostOptions = {},
): Promise<ProviderHost> {
  const cwd = path.resolve(projectDir);
  const project = options.project ?? readProjectName(cwd) ?? path.basename(cwd);
  const stackConfig = options.config ?? {};
  const entry = require.resolve("@pulumi/pulumi/cmd/dynamic-provider/index.js");
  const hostEnv: NodeJS.ProcessEnv = {
    ...process.env,
    PULUMI_NODEJS_PROJECT: project,
    PULUMI_PROJECT: project,
    PULUMI_CONFIG: JSON.stringify(stackConfig),
    ...env,
  };
  // The engine never gives plugins an engine address for logging; keep stray test settings out.
  if (!("PULUMI_NODEJS_ENGINE" in env)) {
    delete hostEnv.PULUMI_NODEJS_ENGINE;
  }
  // The engine address is required but never dialled by this host.
  const child = spawn(process.execPath, [entry, "127.0.0.1:1"], {
    cwd,
    env: hostEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  liveHosts.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", killAllOnExit);
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      process.once(signal, () => {
        killAllOnExit();
        // Signals skip "exit" handlers. With no other listener left, die as the signal would.
        if (process.listenerCount(signal) === 0) {
          process.kill(process.pid, signal);
        }
      });
    }
  }
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      liveHosts.delete(child);
      resolve(code);
    }),
  );

  const logLines: string[] = [];
  const stdout = createInterface({ input: child.stdout! });
  const stderr = createInterface({ input: child.stderr! });
  stderr.on("line", (line) => logLines.push(line));
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`host printed no port within ${options.startTimeoutInMs ?? 30_000} ms`)),
        options.startTimeoutInMs ?? 30_000,
      );
      stdout.once("line", (line) => {
        clearTimeout(timer);
        const parsed = Number.parseInt(line.trim(), 10);
        if (Number.isInteger(parsed) && parsed > 0) {
          resolve(parsed);
        } else {
          reject(new Error(`host printed "${line}" instead of a port`));
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(
          new Error(`host exited with ${code} before printing a port: ${logLines.join("\n")}`),
        );
      });
    });
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  stdout.on("line", (line) => logLines.push(line));

  const client = new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const rpcTimeoutInMs = options.rpcTimeoutInMs ?? 120_000;
  const call = (method: string, request: unknown): Promise<any> =>
    new Promise((resolve, reject) => {
      const deadline = new Date(Date.now() + rpcTimeoutInMs);
      client[method](request, new grpc.Metadata(), { deadline }, (err: Error | null, res: any) =>
        err ? reject(err) : resolve(res),
      );
    });
  const struct = (value: PropertyMap) => Struct.fromJavaScript(value);

  let configured: Promise<unknown> | undefined;
  const configure = (config: Record<string, string>): Promise<ConfigureResponse> => {
    const request = new pb.ConfigureRequest();
    request.setArgs(struct(config));
    request.setAcceptsecrets(true);
    request.setAcceptresources(true);
    const response = call("configure", request).then((res) => ({
      acceptSecrets: res.getAcceptsecrets() as boolean,
      supportsPreview: res.getSupportspreview() as boolean,
      acceptResources: res.getAcceptresources() as boolean,
    }));
    configured = response.catch(() => undefined);
    return response;
  };
  // The engine always configures a provider before anything else; a host that never saw
  // Configure crashes inside the provider's configure().
  const ready = async () => {
    configured ??= configure(stackConfig);
    await configured;
  };

  return {
    port,
    pid: child.pid!,
    cwd,
    project,
    async getPluginInfo() {
      const res = await call("getPluginInfo", new Empty());
      return { version: res.getVersion() };
    },
    configure,
    async check(urn, olds, news) {
      await ready();
      const request = new pb.CheckRequest();
      request.setUrn(urn);
      request.setOlds(struct(olds));
      request.setNews(struct(news));
      const res = await call("check", request);
      return {
        inputs: res.getInputs()?.toJavaScript() ?? {},
        failures: res
          .getFailuresList()
          .map((f: any) => ({ property: f.getProperty(), reason: f.getReason() })),
      };
    },
    async diff(urn, id, olds, news, oldInputs) {
      await ready();
      const request = new pb.DiffRequest();
      request.setUrn(urn);
      request.setId(id);
      request.setOlds(struct(olds));
      request.setNews(struct(news));
      request.setOldInputs(struct(oldInputs ?? {}));
      const res = await call("diff", request);
      return {
        changes: diffChangesName(res.getChanges()),
        replaces: res.getReplacesList(),
        deleteBeforeReplace: res.getDeletebeforereplace(),
        stables: res.getStablesList(),
      };
    },
    async create(urn, props, createOptions = {}) {
      await ready();
      const request = new pb.CreateRequest();
      request.setUrn(urn);
      request.setProperties(struct(props));
      request.setPreview(createOptions.preview ?? false);
      const res = await call("create", request);
      return { id: res.getId(), outs: res.getProperties()?.toJavaScript() ?? {} };
    },
    async read(urn, id, props, inputs) {
      await ready();
      const request = new pb.ReadRequest();
      request.setUrn(urn);
      request.setId(id);
      request.setProperties(struct(props));
      if (inputs) {
        request.setInputs(struct(inputs));
      }
      const res = await call("read", request);
      return {
        id: res.getId(),
        props: res.getProperties()?.toJavaScript() ?? {},
        inputs: res.getInputs()?.toJavaScript(),
      };
    },
    async update(urn, id, olds, news, oldInputs) {
      await ready();
      const request = new pb.UpdateRequest();
      request.setUrn(urn);
      request.setId(id);
      request.setOlds(struct(olds));
      request.setNews(struct(news));
      request.setOldInputs(struct(oldInputs ?? {}));
      request.setPreview(false);
      const res = await call("update", request);
      return res.getProperties()?.toJavaScript() ?? {};
    },
    async delete(urn, id, props, oldInputs) {
      await ready();
      const request = new pb.DeleteRequest();
      request.setUrn(urn);
      request.setId(id);
      request.setProperties(struct(props));
      request.setOldInputs(struct(oldInputs ?? {}));
      await call("delete", request);
    },
    logs: () => [...logLines],
    async stop() {
      client.close();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const forced = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(forced);
      }
    },
  };
}

function diffChangesName(value: number): DiffChanges {
  const { DiffChanges: codes } = pb.DiffResponse;
  switch (value) {
    case codes.DIFF_NONE:
      return "none";
    case codes.DIFF_SOME:
      return "some";
    default:
      return "unknown";
  }
}
