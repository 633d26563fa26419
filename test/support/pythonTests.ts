// `npm run test:python`: the emulator's own Python code, type-checked with mypy and tested with
// pytest, in an environment built from its pinned requirements (cached outside the work tree).
import { spawn } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { startEmulator, type RunningEmulator } from "../../emulator";
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
  // azure-ai-ml against a running emulator, connected as a user connects it (issue 12).
  {
    name: "sdk-tests",
    requirements: packageFile("test", "python", "sdk", "requirements.txt"),
    projects: [packageFile("test", "python", "sdk")],
    installProjects: false,
    needsEmulator: true,
  },
];

/** What a user exports to point azure-ai-ml at the emulator (a custom cloud). */
function sdkEnvironment(emulator: RunningEmulator): Record<string, string> {
  const { info } = emulator;
  return {
    ARM_CLOUD_METADATA_URL: `${info.armEndpoint}/metadata/endpoints?api-version=2019-05-01`,
    REQUESTS_CA_BUNDLE: info.caCertPath,
    IDENTITY_ENDPOINT: info.identityEndpoint,
    IDENTITY_HEADER: info.identityHeader,
    AZURE_SUBSCRIPTION_ID: info.subscriptionId,
    AZURE_RESOURCE_GROUP: info.resourceGroupName,
    AZUREML_WORKSPACE_NAME: info.workspaceName,
    // Local uploads: the SDK builds https://<account>.blob.core.windows.net URLs.
    HTTPS_PROXY: info.proxyUrl,
    NO_PROXY: "127.0.0.1,localhost",
  };
}

function run(
  command: string,
  args: string[],
  cwd: string,
  extraEnv: Record<string, string> = {},
): Promise<number> {
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
        ...extraEnv,
      },
    });
    child.once("error", reject);
    child.once("close", (code) => resolve(code ?? 1));
  });
}

async function main(): Promise<void> {
  let status = 0;
  let emulator: RunningEmulator | undefined;
  try {
    // `node dist/test/support/pythonTests.js sdk-tests` runs the named environments only.
    const only = process.argv.slice(2);
    for (const environment of ENVIRONMENTS.filter(
      (e) => only.length === 0 || only.includes(e.name),
    )) {
      const env = await ensureToolEnvironment(
        {
          name: environment.name,
          requirementFiles: [environment.requirements],
          localPackages: "installProjects" in environment ? [] : environment.projects,
        },
        { log: (line) => process.stderr.write(`${line}\n`) },
      );
      let extraEnv: Record<string, string> = {};
      if ("needsEmulator" in environment) {
        emulator ??= await startEmulator();
        extraEnv = sdkEnvironment(emulator);
      }
      for (const project of environment.projects) {
        const mypy = await run(env.pythonPath, ["-m", "mypy"], project, extraEnv);
        const pytest = await run(
          env.pythonPath,
          ["-m", "pytest", "-p", "no:cacheprovider"],
          project,
          extraEnv,
        );
        status ||= mypy || pytest;
      }
    }
  } finally {
    await emulator?.close();
  }
  process.exit(status);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
