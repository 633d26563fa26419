// `npm run test:python`: the emulator's own Python code, type-checked with mypy and tested with
// pytest, in an environment built from its pinned requirements (cached outside the work tree).
import { spawn } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { packageFile } from "../../emulator/envs/python";
import { ensureToolEnvironment } from "../../emulator/envs/toolEnvironment";

/** The emulator's Python projects: the MLflow tracking store and the batch scoring driver. */
const PROJECTS = [
  packageFile("emulator", "mlflow", "python"),
  packageFile("emulator", "batch", "python"),
];

function run(command: string, args: string[], cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      stdio: "inherit",
      env: {
        ...process.env,
        // Nothing written into the work tree.
        PYTHONDONTWRITEBYTECODE: "1",
        MYPY_CACHE_DIR: path.join(os.tmpdir(), "pulumi-azureml-mypy-cache"),
        MLFLOW_DISABLE_TELEMETRY: "true",
      },
    });
    child.once("error", reject);
    child.once("close", (code) => resolve(code ?? 1));
  });
}

async function main(): Promise<void> {
  const env = await ensureToolEnvironment(
    {
      name: "python-dev",
      requirementFiles: [packageFile("emulator", "mlflow", "requirements-dev.txt")],
      localPackages: PROJECTS,
    },
    { log: (line) => process.stderr.write(`${line}\n`) },
  );
  let status = 0;
  for (const project of PROJECTS) {
    const mypy = await run(env.pythonPath, ["-m", "mypy"], project);
    const pytest = await run(env.pythonPath, ["-m", "pytest", "-p", "no:cacheprovider"], project);
    status ||= mypy || pytest;
  }
  process.exit(status);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
