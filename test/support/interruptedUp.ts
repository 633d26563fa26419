/**
 * A `pulumi up` in a process of its own, for test/integration/interrupted.test.ts to kill: run as
 * `node dist/test/support/interruptedUp.js` with the stack to select in INTERRUPTED_UP (JSON, see
 * {@link InterruptedUpRequest}), it runs the Automation API's inline {@link slowJobProgram} on
 * that stack and prints the CLI's output. The test starts it in a process group of its own, so
 * one SIGKILL reaches this process, the `pulumi` CLI it starts and the plugins that CLI starts.
 */
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";
import { CommandJob, EnvironmentVersion } from "../../index";

/** What the killed process needs to run `up` on the test's stack. */
export interface InterruptedUpRequest {
  /** The engine's root folder (`Engine.root`). */
  engineRoot: string;
  projectName: string;
  stackName: string;
  /** The project folder (the stack's `dir`). */
  workDir: string;
  pulumiHome: string;
  /** The workspace's environment: the backend, the passphrase, PATH with the engine. */
  envVars: Record<string, string>;
  program: SlowJobSettings;
}

/** The program's settings: the emulator's workspace and the names to use. */
export interface SlowJobSettings {
  resourceGroupName: string;
  workspaceName: string;
  environmentName: string;
}

/**
 * An environment and a command job that runs `src/slow.py` (the test writes it: it sleeps long
 * enough to be killed while Running), polled every second so the adopting `up` sees it end soon.
 */
export function slowJobProgram(settings: SlowJobSettings) {
  return async () => {
    const workspace = {
      resourceGroupName: settings.resourceGroupName,
      workspaceName: settings.workspaceName,
    };
    const env = new EnvironmentVersion("env", {
      ...workspace,
      name: settings.environmentName,
      image: "python:3.11-slim",
    });
    const job = new CommandJob("slow", {
      ...workspace,
      code: "src",
      environment: env,
      compute: "cpu-cluster",
      command: "python slow.py",
      minPollIntervalInSeconds: 1,
      maxPollIntervalInSeconds: 1,
    });
    return { name: job.name, status: job.status };
  };
}

/** The environment variable carrying the {@link InterruptedUpRequest}. */
export const INTERRUPTED_UP_ENV = "INTERRUPTED_UP";

async function main(): Promise<void> {
  const request = JSON.parse(process.env[INTERRUPTED_UP_ENV] ?? "") as InterruptedUpRequest;
  const pulumiCommand = await PulumiCommand.get({ root: request.engineRoot });
  const stack = await LocalWorkspace.selectStack(
    {
      stackName: request.stackName,
      projectName: request.projectName,
      program: slowJobProgram(request.program),
    },
    {
      workDir: request.workDir,
      pulumiHome: request.pulumiHome,
      pulumiCommand,
      envVars: request.envVars,
    },
  );
  await stack.up({ color: "never", onOutput: (text) => process.stdout.write(text) });
  process.stdout.write("up finished\n");
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
