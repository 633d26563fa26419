// `npm run test:python`: the emulator's own Python code, type-checked with mypy and tested with
// pytest, in an environment built from its pinned requirements (cached outside the work tree).
import { spawn } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { packageFile } from "../../emulator/envs/python";
import { ensureToolEnvironment } from "../../emulator/envs/toolEnvironment";

/**
 * The emulator's Python projects by environment: the MLflow tracking store and the batch scoring
 * driver share MLflow's; the sweep sampler has Optuna's.
 */
const ENVIRONMENTS = [
  {
    name: "python-dev",
    requirements: packageFile("emulator", "mlflow", "requirements-dev.txt"),
    projects: [
      packageFile("emulator", "mlflow", "python"),
      packageFile("emulator", "batch", "python"),
    ],
  },
  {
    name: "sweep-dev",
    requirements: packageFile("emulator", "sweep", "requirements-dev.txt"),
    projects: [packageFile("emulator", "sweep", "python")],
  },
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
  let status = 0;
  for (const environment of ENVIRONMENTS) {
    const env = await ensureToolEnvironment(
      {
        name: environment.name,
        requirementFiles: [environment.requirements],
        localPackages: environment.projects,
      },
      { log: (line) => process.stderr.write(`${line}\n`) },
    );
    for (const project of environment.projects) {
      const mypy = await run(env.pythonPath, ["-m", "mypy"], project);
      const pytest = await run(env.pythonPath, ["-m", "pytest", "-p", "no:cacheprovider"], project);
      status ||= mypy || pytest;
    }
  }
  process.exit(status);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
