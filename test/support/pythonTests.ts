// `npm run test:python`: the emulator's own Python code, type-checked with mypy and tested with
// pytest, in an environment built from its pinned requirements (cached outside the work tree).
import { spawn } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { packageFile } from "../../emulator/envs/python";
import { ensureToolEnvironment } from "../../emulator/envs/toolEnvironment";

const PROJECT = packageFile("emulator", "mlflow", "python");

function run(command: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: PROJECT,
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
      localPackages: [PROJECT],
    },
    { log: (line) => process.stderr.write(`${line}\n`) },
  );
  const mypy = await run(env.pythonPath, ["-m", "mypy"]);
  const pytest = await run(env.pythonPath, ["-m", "pytest", "-p", "no:cacheprovider"]);
  process.exit(mypy !== 0 ? mypy : pytest);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
