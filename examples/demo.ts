/**
 * `npm run demo`: the main flow against the embedded emulator, without an Azure subscription and
 * without the Pulumi CLI. It starts the emulator (ARM over HTTPS, Azurite blob storage, a
 * managed-identity endpoint), then runs examples/assets through Pulumi's own machinery — the real
 * serialized providers, as the engine would call them — the way a user runs `pulumi preview`,
 * `pulumi up`, `pulumi up` again (which must change nothing) and `pulumi destroy`.
 */
import * as path from "node:path";
import { startEmulator } from "../emulator";
import { createProgramRunner, type Operation } from "../test/support/programRunner";
import { findRepoRoot } from "../test/support/userProject";
import { printRun, resolveExample } from "./runner";

function loadProgram(modulePath: string) {
  const loaded = require(modulePath) as { default?: () => Promise<Record<string, unknown> | void> };
  if (typeof loaded.default !== "function") {
    throw new Error(`${modulePath} has no default program`);
  }
  return loaded.default;
}

function changes(operations: readonly Operation[]): number {
  return operations.filter((o) => o.op !== "same").length;
}

async function main(): Promise<void> {
  const print = (line: string) => console.log(line);
  const emulator = await startEmulator();
  const { info } = emulator;
  try {
    // What a CI job exports after `npx azureml-emulator`: DefaultAzureCredential's
    // managed-identity source picks these up.
    process.env.IDENTITY_ENDPOINT = info.identityEndpoint;
    process.env.IDENTITY_HEADER = info.identityHeader;
    print(`Azure ML emulator: ${info.armEndpoint} (workspace ${info.workspaceName})`);
    print("");

    const repoRoot = findRepoRoot();
    const example = resolveExample(path.join(repoRoot, "examples", "assets"), repoRoot);
    const program = loadProgram(example.modulePath);
    const runner = createProgramRunner({
      project: example.project,
      stack: "demo",
      hostDir: repoRoot,
      workDir: example.projectDir,
      config: {
        "azureml:armEndpoint": info.armEndpoint,
        "azureml:subscriptionId": info.subscriptionId,
        "azureml:caCertPath": info.caCertPath,
        "azureml-assets:resourceGroupName": info.resourceGroupName,
        "azureml-assets:workspaceName": info.workspaceName,
      },
    });

    print("$ pulumi preview");
    const planned = await runner.preview(program);
    printRun(print, runner.operations, planned, true);
    print("$ pulumi up");
    const deployed = await runner.up(program);
    printRun(print, runner.operations, deployed, false);
    const uploads = emulator.requests
      .all()
      .filter((r) => r.plane === "blob" && r.method === "PUT").length;

    print("$ pulumi up   # again, nothing changed");
    const mark = emulator.requests.mark();
    const again = await runner.up(program);
    printRun(print, runner.operations, again, false);
    const second = emulator.requests.since(mark);
    const secondWrites = second.filter((r) => r.method !== "GET" && r.plane !== "identity").length;
    if (changes(runner.operations) !== 0 || secondWrites !== 0) {
      throw new Error(
        `the second up changed something: ${changes(runner.operations)} steps, ${secondWrites} writes`,
      );
    }

    print("$ pulumi destroy");
    await runner.destroy();
    printRun(print, runner.operations, {}, false);
    print(`Blob writes on the first up: ${uploads}. Requests on the second up: ${second.length}.`);
  } finally {
    await emulator.close();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
