// A tiny EnvironmentBuilder for tests until the real one (uv virtual environments, emulator/envs)
// is merged: every environment runs on the machine's python3, found on PATH, through a bin folder
// holding `python` and `python3`. It installs nothing, so an environment whose conda file lists
// dependencies is refused, with a message naming them, as a failed install would be.
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { accessSync, constants } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { EnvironmentBuilder, PreparedEnvironment } from "../../emulator/envs/types";

export interface MachinePythonBuilder extends EnvironmentBuilder {
  /** How many prepare() calls it answered (failed ones included). */
  readonly calls: number;
}

/** The first `python3` on PATH. */
export function findMachinePython(): string {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, "python3");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  throw new Error("python3 was not found on PATH; the job tests need it.");
}

export function machinePythonBuilder(): MachinePythonBuilder {
  let binDir: string | undefined;
  let calls = 0;
  const python = findMachinePython();
  const ensureBin = (): string => {
    if (binDir === undefined) {
      const dir = mkdtempSync(path.join(os.tmpdir(), "azureml-test-python-"));
      symlinkSync(python, path.join(dir, "python"));
      symlinkSync(python, path.join(dir, "python3"));
      process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
      binDir = dir;
    }
    return binDir;
  };
  return {
    get calls() {
      return calls;
    },
    async prepare(request, log, signal): Promise<PreparedEnvironment> {
      calls++;
      signal?.throwIfAborted();
      const started = Date.now();
      const dependencies = listedDependencies(request.condaFile);
      if (dependencies.length > 0) {
        throw new Error(
          `the test environment builder installs nothing, and the conda file lists ${dependencies.join(", ")}`,
        );
      }
      const reused = binDir !== undefined;
      log(`Using the machine's Python (${python}) for ${request.id} (test environment builder).`);
      return {
        binDir: ensureBin(),
        pythonPath: path.join(ensureBin(), "python"),
        key: "machine-python",
        reused,
        durationInMs: Date.now() - started,
      };
    },
  };
}

/** Dependency lines of a conda file other than `python` and `pip` themselves. */
function listedDependencies(condaFile: string | undefined): string[] {
  if (condaFile === undefined) {
    return [];
  }
  return condaFile
    .split(/\r?\n/)
    .map((line) => /^\s*-\s*([A-Za-z0-9_.\-=<>!~]+)\s*$/.exec(line)?.[1])
    .filter((d): d is string => d !== undefined && !/^(python|pip)([=<>!~].*)?$/.test(d));
}
