/**
 * `npm run demo`: the main job against the embedded emulator, without an Azure subscription. It
 * finds the Pulumi engine (building it from engine/go.mod on first use), starts the emulator (ARM
 * over HTTPS, Azurite blob storage, a managed-identity endpoint, the MLflow tracking server, jobs
 * run as local processes in uv-built Python environments), then runs examples/train — the iris
 * LightGBM training of the Azure ML REST articles — through the real engine the way a user runs
 * `pulumi preview`, `pulumi up`, `pulumi up` again (which must change nothing and submit no job)
 * and `pulumi destroy`, printing what the CLI prints and the job's results.
 */
import * as path from "node:path";
import { startEmulator } from "../emulator";
import { ensureEngine } from "../tools/engine";
import { changes, createEngineStack } from "../tools/stack";
import { findRepoRoot } from "../tools/userProject";
import { loadProgram, resolveExample } from "./runner";

async function main(): Promise<void> {
  const print = (line: string) => console.log(line);
  const engine = await ensureEngine({ log: print });
  print(`Pulumi engine: pulumi v${engine.version} (${engine.bin})`);
  const emulator = await startEmulator();
  const { info } = emulator;
  const repoRoot = findRepoRoot();
  const example = resolveExample(path.join(repoRoot, "examples", "train"), repoRoot);
  try {
    // What a CI job exports after `npx azureml-emulator`: DefaultAzureCredential's
    // managed-identity source picks these up, in the provider host the engine starts.
    process.env.IDENTITY_ENDPOINT = info.identityEndpoint;
    process.env.IDENTITY_HEADER = info.identityHeader;
    // The CA as an environment variable, not stack config: Pulumi copies stack config into the
    // state, and a machine path does not belong there.
    process.env.AZUREML_CA_CERT_PATH = info.caCertPath;
    print(`Azure ML emulator: ${info.armEndpoint} (workspace ${info.workspaceName})`);
    print("");
    const stack = await createEngineStack({
      engine,
      projectName: example.project,
      stackName: "demo",
      program: loadProgram(example.modulePath),
      files: [example.projectDir],
      config: {
        "azureml:armEndpoint": info.armEndpoint,
        "azureml:subscriptionId": info.subscriptionId,
        "azureml-train:resourceGroupName": info.resourceGroupName,
        "azureml-train:workspaceName": info.workspaceName,
      },
      onOutput: (text) => process.stdout.write(text),
    });
    try {
      print("$ pulumi preview");
      await stack.preview();
      print("$ pulumi up");
      const { outputs } = await stack.up();
      const first = emulator.requests.all().filter((r) => r.plane !== "identity").length;
      print("");
      print(`Job ${String(outputs.jobName)}: ${String(outputs.jobStatus)}`);
      print(`  accuracy logged to MLflow: ${String(outputs.accuracy)}`);
      print(`  learning rate: ${String(outputs.learningRate)}`);
      print(`  registered model: ${String(outputs.model)}`);
      print(`  Studio URL: ${String(outputs.studioUrl)}`);
      print("");

      print("$ pulumi up   # again, nothing changed");
      const mark = emulator.requests.mark();
      const again = await stack.up();
      const second = emulator.requests.since(mark);
      const secondWrites = second.filter(
        (r) => r.method !== "GET" && r.plane !== "identity",
      ).length;
      if (changes(again.steps).length !== 0 || secondWrites !== 0) {
        throw new Error(
          `the second up changed something: ${changes(again.steps).length} steps, ${secondWrites} writes`,
        );
      }

      print("$ pulumi destroy");
      await stack.destroy();
      print(`Requests on the first up: ${first}. Requests on the second up: ${second.length}.`);
    } finally {
      await stack.close();
    }
  } finally {
    await emulator.close();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    // Without Go and without a usable `pulumi`, the message is one line saying what to install.
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
