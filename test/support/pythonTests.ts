// `npm run test:python`: the emulator's own Python code, type-checked with mypy and tested with
// pytest, in an environment built from its pinned requirements (cached outside the work tree).
import { spawn } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { packageFile } from "../../emulator/envs/python";
import { ensureToolEnvironment } from "../../emulator/envs/toolEnvironment";

/** Each Python project of the emulator, with its pinned development requirements. */
const PROJECTS = [
  {
    name: "python-dev",
    folder: packageFile("emulator", "mlflow", "python"),
    requirements: packageFile("emulator", "mlflow", "requirements-dev.txt"),
  },
  {
    name: "sweep-dev",
    folder: packageFile("emulator", "sweep", "python"),
    requirements: packageFile("emulator", "sweep", "requirements-dev.txt"),
  },
];

function run(cwd: string, command: string, args: string[]): Promise<number> {
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
  let failed = 0;
  for (const project of PROJECTS) {
    const env = await ensureToolEnvironment(
      {
        name: project.name,
        requirementFiles: [project.requirements],
        localPackages: [project.folder],
      },
      { log: (line) => process.stderr.write(`${line}\n`) },
    );
    const mypy = await run(project.folder, env.pythonPath, ["-m", "mypy"]);
    const pytest = await run(project.folder, env.pythonPath, [
      "-m",
      "pytest",
      "-p",
      "no:cacheprovider",
    ]);
    failed ||= mypy || pytest;
  }
  process.exit(failed);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
