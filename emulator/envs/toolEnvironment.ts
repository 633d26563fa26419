/**
 * Environments for the emulator's own Python (the MLflow tracking server, the Python tests): pinned
 * requirements files plus local packages of this repository, cached by their content like job
 * environments, and built the same way (uv, a lock file, an atomic rename).
 */
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { EnvironmentBuildError, installerMessage } from "./builder";
import { buildOnce, cacheRoot } from "./cache";
import { runProcess } from "./process";
import { contentKey, ensureUv, machinePython, pythonCacheDir } from "./python";
import type { PreparedEnvironment } from "./types";

/** What goes into a tool environment. */
export interface ToolEnvironmentSpec {
  /** Folder-name prefix, e.g. `mlflow-server`. */
  readonly name: string;
  /** Pinned requirements files (`uv pip install -r`). */
  readonly requirementFiles: readonly string[];
  /** Folders of Python projects (with a pyproject.toml) installed as packages. */
  readonly localPackages?: readonly string[];
}

export interface ToolEnvironmentOptions {
  /** The machine's Python. @default `$AZUREML_EMULATOR_PYTHON`, else `python3` */
  readonly python?: string;
  /** @default the cache root's `python` folder */
  readonly cacheDir?: string;
  readonly log?: (line: string) => void;
  readonly signal?: AbortSignal;
}

/** Builds (once per content) or reuses a tool environment. */
export async function ensureToolEnvironment(
  spec: ToolEnvironmentSpec,
  options: ToolEnvironmentOptions = {},
): Promise<PreparedEnvironment> {
  const started = performance.now();
  const log = options.log ?? (() => undefined);
  const python = await machinePython(options.python);
  const requirements = await Promise.all(
    spec.requirementFiles.map((file) => fs.readFile(file, "utf8")),
  );
  const packages = await Promise.all((spec.localPackages ?? []).map((dir) => treeHash(dir)));
  const key = contentKey({
    format: 1,
    python: [python.executable, python.version],
    requirements,
    packages,
  });
  const dir = path.join(options.cacheDir ?? pythonCacheDir(cacheRoot()), `${spec.name}-${key}`);
  const uv = await ensureUv(python, cacheRoot(), log);
  const outcome = await buildOnce(
    dir,
    async (staging) => {
      log(`Building the ${spec.name} environment (${key})`);
      const venv = await runProcess(
        uv.uv,
        ["venv", "--relocatable", "--python", python.executable, staging],
        { env: uv.env, signal: options.signal },
      );
      if (venv.exitCode !== 0) {
        throw new EnvironmentBuildError(installerMessage(venv.stderr, venv.stdout));
      }
      // Local packages are built from copies, so their builds write nothing into the package.
      const sources = path.join(staging, ".sources");
      const copies: string[] = [];
      for (const [index, source] of (spec.localPackages ?? []).entries()) {
        const copy = path.join(sources, String(index));
        await fs.cp(source, copy, { recursive: true, filter: (from) => !isScratch(from) });
        copies.push(copy);
      }
      const install = await runProcess(
        uv.uv,
        [
          "pip",
          "install",
          "--python",
          path.join(staging, "bin", "python"),
          ...spec.requirementFiles.flatMap((file) => ["--requirement", file]),
          ...copies,
        ],
        { env: uv.env, onLine: log, signal: options.signal },
      );
      await fs.rm(sources, { recursive: true, force: true });
      if (install.exitCode !== 0) {
        throw new EnvironmentBuildError(installerMessage(install.stderr, install.stdout));
      }
    },
    {
      signal: options.signal,
      onWait: (holder) =>
        log(`Waiting for ${holder}, which is building the ${spec.name} environment`),
    },
  );
  return {
    binDir: path.join(dir, "bin"),
    pythonPath: path.join(dir, "bin", "python"),
    key,
    reused: !outcome.built && !outcome.waited,
    durationInMs: Math.round(performance.now() - started),
  };
}

/** Caches and build output a Python project leaves in its folder. */
function isScratch(file: string): boolean {
  const name = path.basename(file);
  return (
    name === "__pycache__" ||
    name === ".mypy_cache" ||
    name === ".pytest_cache" ||
    name === "build" ||
    name.endsWith(".egg-info")
  );
}

/** sha256 over the relative paths and contents of a folder's files (scratch left out). */
async function treeHash(root: string): Promise<string> {
  const hash = createHash("sha256");
  const walk = async (dir: string): Promise<void> => {
    const entries = (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (isScratch(full)) {
        continue;
      }
      if (entry.isDirectory()) {
        await walk(full);
      } else if (entry.isFile()) {
        hash
          .update(path.relative(root, full))
          .update("\0")
          .update(await fs.readFile(full));
        hash.update("\0");
      }
    }
  };
  await walk(root);
  return hash.digest("hex");
}
