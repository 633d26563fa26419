/**
 * The EnvironmentBuilder: an environment version's conda file becomes a virtual environment built
 * with uv, cached by content (what gets installed plus the interpreter), as Azure caches images.
 * Equal content builds once — in this process (one shared build) and across processes (a lock
 * file and an atomic rename, see cache.ts).
 */
import * as path from "node:path";
import { buildOnce, cacheRoot } from "./cache";
import { parseCondaFile, pythonPinSatisfied, type InstallRequirement } from "./conda";
import { runProcess } from "./process";
import {
  contentKey,
  ensureUv,
  machinePython,
  pythonCacheDir,
  type MachinePython,
  type UvTool,
} from "./python";
import type { EnvironmentBuilder, EnvironmentRequest, PreparedEnvironment } from "./types";

export type { EnvironmentBuilder, EnvironmentRequest, PreparedEnvironment } from "./types";

/** Options for createEnvironmentBuilder. */
export interface EnvironmentBuilderOptions {
  /**
   * Where environments are cached. The uv tool itself always lives in the cache root.
   * @default `$AZUREML_EMULATOR_CACHE_DIR`, else `${XDG_CACHE_HOME:-~/.cache}/pulumi-azureml`
   */
  readonly cacheDir?: string;
  /** The machine's Python. @default `$AZUREML_EMULATOR_PYTHON`, else `python3` */
  readonly python?: string;
}

/** Thrown when the installer fails; the message is the installer's own. */
export class EnvironmentBuildError extends Error {
  readonly code = "EMULATOR_ENVIRONMENT_BUILD_FAILED";
  constructor(message: string) {
    super(message);
    this.name = "EnvironmentBuildError";
  }
}

/** What is installed into one environment; its hash names the cached folder. */
export interface EnvironmentPlan {
  /** `machine`: no conda file (image only), the machine's Python with its own packages. */
  readonly kind: "conda" | "machine";
  readonly requirements: readonly InstallRequirement[];
  readonly installerOptions: readonly string[];
  /** Warnings and notes for the job's log, in order. */
  readonly messages: readonly string[];
}

/** Turns an environment version into a plan (pure apart from the interpreter it is given). */
export function planEnvironment(
  request: EnvironmentRequest,
  python: MachinePython,
): EnvironmentPlan {
  if (request.condaFile === undefined || request.condaFile.trim() === "") {
    const image = request.image === undefined ? "no image" : `image ${request.image}`;
    return {
      kind: "machine",
      requirements: [],
      installerOptions: [],
      messages: [
        `Warning: environment ${request.id} has ${image} and no conda file; the emulator runs ` +
          `it on the machine's Python ${python.version} (${python.executable}) instead.`,
      ],
    };
  }
  const spec = parseCondaFile(request.condaFile);
  const messages = [...spec.notes];
  if (spec.pythonPin !== undefined && !pythonPinSatisfied(spec.pythonPin, python.version)) {
    messages.unshift(
      `Warning: the conda file pins python${spec.pythonPin}, but the machine's Python is ` +
        `${python.version}; the emulator builds the environment with ${python.version}.`,
    );
  }
  return {
    kind: "conda",
    requirements: spec.requirements,
    installerOptions: spec.installerOptions,
    messages,
  };
}

/** The cache key of a plan on an interpreter: equal content, equal key. */
export function environmentKey(plan: EnvironmentPlan, python: MachinePython): string {
  return contentKey({
    format: 1,
    kind: plan.kind,
    python: [python.executable, python.version],
    requirements: plan.requirements.map((r) => `${r.origin}:${r.requirement}`).sort(),
    options: plan.installerOptions,
  });
}

interface SharedBuild {
  readonly promise: Promise<{ built: boolean; waited: boolean }>;
  readonly logs: Set<(line: string) => void>;
  readonly controller: AbortController;
  waiters: number;
}

/** Creates the builder the job runner uses. */
export function createEnvironmentBuilder(
  options: EnvironmentBuilderOptions = {},
): EnvironmentBuilder {
  const root = cacheRoot();
  const envsDir =
    options.cacheDir === undefined ? pythonCacheDir(root) : path.resolve(options.cacheDir);
  const building = new Map<string, SharedBuild>();

  return {
    async prepare(request, log, signal) {
      const started = performance.now();
      signal?.throwIfAborted();
      const python = await machinePython(options.python);
      const plan = planEnvironment(request, python);
      plan.messages.forEach((message) => log(message));
      const key = environmentKey(plan, python);
      const dir = path.join(envsDir, `env-${key}`);

      let shared = building.get(key);
      if (shared === undefined) {
        const controller = new AbortController();
        const logs = new Set<(line: string) => void>();
        const fanOut = (line: string) => logs.forEach((write) => write(line));
        const promise = (async () => {
          const uv = await ensureUv(python, root, fanOut);
          return buildOnce(
            dir,
            (staging) => buildEnvironment(uv, python, plan, staging, fanOut, controller.signal),
            {
              signal: controller.signal,
              onWait: (holder) =>
                fanOut(`Waiting for ${holder}, which is building this environment`),
            },
          );
        })();
        shared = { promise, logs, controller, waiters: 0 };
        const entry = shared;
        building.set(key, entry);
        promise
          .finally(() => {
            if (building.get(key) === entry) {
              building.delete(key);
            }
          })
          .catch(() => undefined);
      }
      const build = shared;
      build.waiters += 1;
      build.logs.add(log);
      // The shared build stops only when every caller waiting for it has given up; the last one
      // to leave waits for its cleanup, so nothing half-built outlives the rejection.
      let stoppedBuild = false;
      const onAbort = () => {
        build.logs.delete(log);
        build.waiters -= 1;
        if (build.waiters === 0) {
          stoppedBuild = true;
          // A caller arriving from now on starts afresh instead of joining a build being stopped.
          if (building.get(key) === build) {
            building.delete(key);
          }
          build.controller.abort(signal?.reason);
        }
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      try {
        const outcome = await raceAbort(build.promise, signal);
        const reused = !outcome.built && !outcome.waited;
        if (reused) {
          log(`Reusing the environment built for this content (${key}): nothing to install.`);
        }
        return {
          binDir: path.join(dir, "bin"),
          pythonPath: path.join(dir, "bin", "python"),
          key,
          reused,
          durationInMs: Math.round(performance.now() - started),
        } satisfies PreparedEnvironment;
      } catch (error) {
        if (stoppedBuild) {
          await build.promise.catch(() => undefined);
        }
        throw error;
      } finally {
        signal?.removeEventListener("abort", onAbort);
        if (!signal?.aborted) {
          build.logs.delete(log);
          build.waiters -= 1;
        }
      }
    },
  };
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) {
    return promise;
  }
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** `uv venv` then `uv pip install` into `target`; conda names PyPI lacks are dropped and retried. */
async function buildEnvironment(
  tool: UvTool,
  python: MachinePython,
  plan: EnvironmentPlan,
  target: string,
  log: (line: string) => void,
  signal: AbortSignal,
): Promise<void> {
  const venvArgs = ["venv", "--relocatable", "--python", python.executable, "--seed"];
  if (plan.kind === "machine") {
    venvArgs.push("--system-site-packages");
  }
  const venvLog = (line: string) => (line.startsWith("Activate with:") ? undefined : log(line));
  await runUv(tool, [...venvArgs, target], venvLog, signal);
  let requirements = [...plan.requirements];
  while (requirements.length > 0) {
    log(`Installing ${requirements.map((r) => r.requirement).join(", ")}`);
    const result = await runProcess(
      tool.uv,
      [
        "pip",
        "install",
        "--python",
        path.join(target, "bin", "python"),
        ...plan.installerOptions,
        ...requirements.map((r) => r.requirement),
      ],
      { env: tool.env, onLine: log, signal },
    );
    if (result.exitCode === 0) {
      return;
    }
    const missing = notOnPyPI(result.stderr);
    const droppable = requirements.filter((r) => r.origin === "conda" && missing.has(r.name));
    if (droppable.length === 0 || droppable.length < missing.size) {
      throw new EnvironmentBuildError(installerMessage(result.stderr, result.stdout));
    }
    for (const r of droppable) {
      log(
        `Warning: conda package "${r.source}" has no PyPI project of that name and is skipped ` +
          "(conda channels cannot be reached from the emulator).",
      );
    }
    requirements = requirements.filter((r) => !droppable.includes(r));
  }
}

async function runUv(
  tool: UvTool,
  args: readonly string[],
  log: (line: string) => void,
  signal: AbortSignal,
): Promise<void> {
  const result = await runProcess(tool.uv, args, { env: tool.env, onLine: log, signal });
  if (result.exitCode !== 0) {
    throw new EnvironmentBuildError(installerMessage(result.stderr, result.stdout));
  }
}

/** Project names uv reports as absent from the package index. */
export function notOnPyPI(stderr: string): Set<string> {
  const names = new Set<string>();
  for (const match of stderr.matchAll(
    /\b([A-Za-z0-9][A-Za-z0-9._-]*) was not found in the package registry/g,
  )) {
    names.add(match[1].toLowerCase().replace(/[-_.]+/g, "-"));
  }
  return names;
}

/** The installer's own message: its error lines, without the progress chatter before them. */
export function installerMessage(stderr: string, stdout = ""): string {
  const text = stderr.trim() || stdout.trim();
  const lines = text.split(/\r?\n/);
  const errorAt = lines.findIndex((line) => /^\s*(error|×|x )/i.test(line));
  const relevant = errorAt >= 0 ? lines.slice(errorAt) : lines.slice(-40);
  return relevant.join("\n").trim() || "The installer failed without a message.";
}
