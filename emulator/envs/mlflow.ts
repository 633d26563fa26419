/**
 * An MLflow model's own environment, as Azure ML builds one for a batch deployment of an MLflow
 * model that names no environment: the model's `MLmodel` says where its dependencies are
 * (`flavors.python_function.env`: a `conda.yaml`, and/or a `python_env.yaml` with its
 * `requirements.txt`), and they become a conda file the builder takes like any environment
 * version's. Equal dependencies give an equal cache key, so they share one built environment.
 */
import { readFileSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import type { EnvironmentRequest } from "./types";

/** The dependency files of an MLflow model, as text (each absent when the model has none). */
export interface MlflowModelFiles {
  /** The `MLmodel` file. */
  readonly mlmodel: string;
  /** Reads a file of the model folder by its relative name; undefined when it does not exist. */
  readonly read: (name: string) => string | undefined;
}

/** Thrown when a model has no dependencies the emulator can build an environment from. */
export class MlflowEnvironmentError extends Error {
  readonly code = "EMULATOR_MLFLOW_ENVIRONMENT";
  constructor(message: string) {
    super(message);
    this.name = "MlflowEnvironmentError";
  }
}

/** Where `MLmodel` points for the conda and virtualenv specifications (MLflow's defaults else). */
function envFiles(mlmodel: string): { conda: string; virtualenv: string } {
  let env: unknown;
  try {
    const parsed = parseYaml(mlmodel) as { flavors?: { python_function?: { env?: unknown } } };
    env = parsed?.flavors?.python_function?.env;
  } catch (error) {
    throw new MlflowEnvironmentError(`its MLmodel is not YAML: ${(error as Error).message}`);
  }
  if (typeof env === "string") {
    return { conda: env, virtualenv: "python_env.yaml" }; // MLflow before 2.0: the conda file
  }
  const named = (env ?? {}) as { conda?: unknown; virtualenv?: unknown };
  return {
    conda: typeof named.conda === "string" ? named.conda : "conda.yaml",
    virtualenv: typeof named.virtualenv === "string" ? named.virtualenv : "python_env.yaml",
  };
}

/** A requirements file's requirement and option lines, comments and blank lines left out. */
function requirementLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/(^|\s)#.*$/, "").trim())
    .filter((line) => line !== "");
}

/**
 * The conda file of an MLflow model's environment (pure): its `conda.yaml` as written; else its
 * `python_env.yaml` (the Python pin, build dependencies and dependencies, `-r <file>` read from
 * the model folder); else its `requirements.txt`. `source` names the file used.
 */
export function mlflowCondaFile(files: MlflowModelFiles): { condaFile: string; source: string } {
  const names = envFiles(files.mlmodel);
  const conda = files.read(names.conda);
  if (conda !== undefined) {
    return { condaFile: conda, source: names.conda };
  }
  const expand = (lines: readonly unknown[], from: string): string[] =>
    lines.flatMap((raw) => {
      const line = String(raw).trim();
      const include = /^(?:-r|--requirement)\s*=?\s*(\S+)$/.exec(line);
      if (include === null) {
        return [line];
      }
      const name = path.posix.join(path.posix.dirname(from), include[1]);
      const text = files.read(name);
      if (text === undefined) {
        throw new MlflowEnvironmentError(`${from} includes ${include[1]}, which the model lacks`);
      }
      return requirementLines(text);
    });
  const virtualenv = files.read(names.virtualenv);
  if (virtualenv !== undefined) {
    let spec: { python?: unknown; build_dependencies?: unknown; dependencies?: unknown };
    try {
      spec = (parseYaml(virtualenv) ?? {}) as typeof spec;
    } catch (error) {
      throw new MlflowEnvironmentError(
        `its ${names.virtualenv} is not YAML: ${(error as Error).message}`,
      );
    }
    const list = (value: unknown) => (Array.isArray(value) ? value : []);
    const pip = [
      ...list(spec.build_dependencies)
        .map(String)
        .filter((d) => !/^pip\b/i.test(d.trim())),
      ...expand(list(spec.dependencies), names.virtualenv),
    ];
    return {
      condaFile: condaText(spec.python === undefined ? undefined : String(spec.python), pip),
      source: names.virtualenv,
    };
  }
  const requirements = files.read("requirements.txt");
  if (requirements !== undefined) {
    return {
      condaFile: condaText(undefined, expand(requirementLines(requirements), "requirements.txt")),
      source: "requirements.txt",
    };
  }
  throw new MlflowEnvironmentError(
    `it has no ${names.conda}, ${names.virtualenv} or requirements.txt to build an environment from`,
  );
}

function condaText(python: string | undefined, pip: readonly string[]): string {
  return stringifyYaml({
    name: "mlflow-env",
    dependencies: [...(python === undefined ? [] : [`python=${python}`]), "pip", { pip }],
  });
}

/** The folder holding `MLmodel`: [root] itself or the first one below it (as the scorer finds it). */
export async function mlflowModelFolder(root: string): Promise<string | undefined> {
  const queue = [root];
  while (queue.length > 0) {
    const dir = queue.shift() as string;
    let entries: import("node:fs").Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    if (entries.some((e) => e.isFile() && e.name === "MLmodel")) {
      return dir;
    }
    queue.push(
      ...entries
        .filter((e) => e.isDirectory())
        .map((e) => path.join(dir, e.name))
        .sort(),
    );
  }
  return undefined;
}

/**
 * The environment request for the MLflow model materialized at [modelDir], named [id] in log
 * lines: its conda file derived from the model's own dependency files.
 */
export async function mlflowEnvironment(
  id: string,
  modelDir: string,
): Promise<EnvironmentRequest & { source: string }> {
  const folder = await mlflowModelFolder(modelDir);
  if (folder === undefined) {
    throw new MlflowEnvironmentError("it has no MLmodel file, so it is not an MLflow model");
  }
  const root = path.resolve(folder);
  const read = (name: string): string | undefined => {
    const file = path.resolve(root, name);
    if (!file.startsWith(`${root}${path.sep}`)) {
      return undefined; // only the model's own files
    }
    try {
      return readFileSync(file, "utf8");
    } catch {
      return undefined;
    }
  };
  const derived = mlflowCondaFile({ mlmodel: read("MLmodel") ?? "", read });
  return { id, condaFile: derived.condaFile, source: derived.source };
}
