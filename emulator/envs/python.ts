/**
 * The machine's Python and the `uv` tool: uv is a PyPI package that ships its binary, pinned in
 * `emulator/envs/requirements.txt` and installed once, with the machine's `python3 -m venv` and
 * pip, into a tool environment cached by content. Everything else is built with uv.
 */
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { buildOnce, cacheRoot } from "./cache";
import { runProcess } from "./process";

/** Names the machine's Python (default `python3` on PATH). */
export const PYTHON_ENV = "AZUREML_EMULATOR_PYTHON";

/** The package's own files (requirements, Python sources), from `dist/emulator/envs`. */
export function packageFile(...segments: string[]): string {
  return path.resolve(__dirname, "..", "..", "..", ...segments);
}

/** A Python interpreter the machine has. */
export interface MachinePython {
  /** The real interpreter (`sys.executable`, shims resolved). */
  readonly executable: string;
  /** `major.minor.micro`, e.g. `3.11.7`. */
  readonly version: string;
}

const interpreters = new Map<string, Promise<MachinePython>>();

/** The machine's Python: `command`, else `$AZUREML_EMULATOR_PYTHON`, else `python3`. */
export function machinePython(command?: string): Promise<MachinePython> {
  const name = command ?? (process.env[PYTHON_ENV] || "python3");
  let found = interpreters.get(name);
  if (found === undefined) {
    found = (async () => {
      const probe = "import sys; print(sys.executable); print('%d.%d.%d' % sys.version_info[:3])";
      let result;
      try {
        result = await runProcess(name, ["-c", probe]);
      } catch (error) {
        throw new Error(
          `The emulator runs jobs with the machine's Python, but "${name}" could not be started ` +
            `(${(error as Error).message}). Install Python 3 or set ${PYTHON_ENV}.`,
        );
      }
      const [executable, version] = result.stdout.trim().split(/\r?\n/);
      if (result.exitCode !== 0 || !executable || !/^\d+\.\d+\.\d+$/.test(version ?? "")) {
        throw new Error(`"${name}" is not a working Python: ${result.stderr.trim()}`);
      }
      return { executable, version };
    })();
    found.catch(() => interpreters.delete(name));
    interpreters.set(name, found);
  }
  return found;
}

/** The first 16 hex digits of the sha256 of a JSON value: cache folder names. */
export function contentKey(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 16);
}

/** The folder of Python environments under the cache root. */
export function pythonCacheDir(root: string = cacheRoot()): string {
  return path.join(root, "python");
}

export interface UvTool {
  /** The uv binary. */
  readonly uv: string;
  /** Variables every uv call gets: never download an interpreter, no progress bars. */
  readonly env: NodeJS.ProcessEnv;
}

const uvTools = new Map<string, Promise<UvTool>>();

/** Installs (once per content) and returns the pinned uv. */
export function ensureUv(
  python: MachinePython,
  root: string = cacheRoot(),
  log: (line: string) => void = () => undefined,
): Promise<UvTool> {
  const id = `${root}\0${python.executable}`;
  let tool = uvTools.get(id);
  if (tool === undefined) {
    tool = (async () => {
      const requirementsFile = packageFile("emulator", "envs", "requirements.txt");
      const requirements = await fs.readFile(requirementsFile, "utf8");
      const dir = path.join(
        pythonCacheDir(root),
        `uv-${contentKey({ requirements, python: python.executable, version: python.version })}`,
      );
      await buildOnce(
        dir,
        async (staging) => {
          log(`Installing the environment builder (uv) with ${python.executable} -m venv and pip`);
          await check(runProcess(python.executable, ["-m", "venv", staging]), "python -m venv");
          await check(
            runProcess(path.join(staging, "bin", "python"), [
              "-m",
              "pip",
              "install",
              "--disable-pip-version-check",
              "--no-input",
              "--requirement",
              requirementsFile,
            ]),
            "pip install uv",
          );
        },
        { onWait: (holder) => log(`Waiting for ${holder}, which is installing uv`) },
      );
      return {
        uv: path.join(dir, "bin", "uv"),
        env: {
          ...process.env,
          UV_PYTHON_DOWNLOADS: "never",
          UV_NO_PROGRESS: "1",
          VIRTUAL_ENV: undefined,
        },
      };
    })();
    tool.catch(() => uvTools.delete(id));
    uvTools.set(id, tool);
  }
  return tool;
}

/** Rejects with the tool's own output when it exits with a non-zero code. */
export async function check(
  running: Promise<{ exitCode: number; stdout: string; stderr: string }>,
  what: string,
): Promise<void> {
  const result = await running;
  if (result.exitCode !== 0) {
    const output = (result.stderr.trim() || result.stdout.trim()).split(/\r?\n/).slice(-40);
    throw new Error(`${what} failed (exit code ${result.exitCode}): ${output.join("\n")}`);
  }
}
