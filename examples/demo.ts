/**
 * `npm run demo`: the main job against the embedded emulator, without an Azure subscription. It
 * finds the Pulumi engine (building it from engine/go.mod on first use), starts the emulator (ARM
 * over HTTPS, Azurite blob storage, a managed-identity endpoint, the MLflow tracking server, jobs
 * run as local processes in uv-built Python environments), then runs a program through the real
 * engine, printing what the CLI prints:
 *
 * - `npm run demo` (or `npm run demo -- flow`): examples/flow, the whole flow. `pulumi up` trains,
 *   sweeps, gates, registers, deploys and scores; then the stack outputs (training accuracy, best
 *   hyperparameters, the gate's verdict, the registered model, the predictions file and its first
 *   rows); then `pulumi preview`, which must show no changes; then the wall times of both and the
 *   requests the emulator saw during each.
 * - `npm run demo -- train`: examples/train, the iris LightGBM `CommandJob` and its model:
 *   `pulumi preview`, `pulumi up`, a second `up` that must change nothing, `pulumi destroy`.
 *
 * The emulator and the throwaway stack are removed at the end.
 */
import { startEmulator, type RunningEmulator } from "../emulator";
import type { RequestRecord } from "../emulator/requestLog";
import { ensureEngine } from "../tools/engine";
import { exampleStack } from "../tools/exampleStack";
import { changes, type EngineStack } from "../tools/stack";

const print = (line: string) => console.log(line);

/** One program the demo can run: its folder under examples/ and what it does with its stack. */
interface Demo {
  readonly example: string;
  run(stack: EngineStack, emulator: RunningEmulator): Promise<void>;
}

const DEMOS: Record<string, Demo> = {
  flow: { example: "flow", run: runFlow },
  train: { example: "train", run: runTrain },
};

/** Requests of a run by plane (ARM, blob, MLflow, …), managed-identity token requests left out. */
export function describeRequests(records: readonly RequestRecord[]): string {
  const counted = records.filter((r) => r.plane !== "identity");
  const byPlane = new Map<string, number>();
  for (const record of counted) {
    byPlane.set(record.plane, (byPlane.get(record.plane) ?? 0) + 1);
  }
  const parts = [...byPlane.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([plane, count]) => `${plane} ${count}`);
  return `${counted.length} requests${parts.length > 0 ? ` (${parts.join(", ")})` : ""}`;
}

/** A wall time in seconds, with one decimal. */
function seconds(startMs: number): string {
  return `${((performance.now() - startMs) / 1000).toFixed(1)} s`;
}

async function runFlow(stack: EngineStack, emulator: RunningEmulator): Promise<void> {
  print("$ pulumi up");
  const upMark = emulator.requests.mark();
  const upStart = performance.now();
  const { outputs } = await stack.up();
  const upTime = seconds(upStart);
  const upRequests = describeRequests(emulator.requests.since(upMark));

  const rows = (outputs.firstPredictions as string[] | undefined) ?? [];
  print("");
  print("Stack outputs:");
  print(`  training accuracy (MLflow):  ${String(outputs.trainingAccuracy)}`);
  print(`  best trial's accuracy:       ${String(outputs.bestAccuracy)}`);
  print(`  best hyperparameters:        ${JSON.stringify(outputs.bestHyperparameters)}`);
  print(`  gate:                        ${String(outputs.gateOutcome)}`);
  print(`  registered model:            ${String(outputs.model)}`);
  print(
    `  batch endpoint:              ${String(outputs.endpoint)} (${String(outputs.scoringUri)})`,
  );
  print(`  scoring job:                 ${String(outputs.scoringStatus)}`);
  print(`  predictions:                 ${String(outputs.predictions)}`);
  print(`  first rows (sepal length, sepal width, petal length, petal width, predicted species):`);
  for (const row of rows) {
    print(`    ${row}`);
  }
  print("");

  print("$ pulumi preview   # nothing changed");
  const previewMark = emulator.requests.mark();
  const previewStart = performance.now();
  const preview = await stack.preview();
  const previewTime = seconds(previewStart);
  const previewRequests = describeRequests(emulator.requests.since(previewMark));
  const planned = changes(preview.steps);
  if (planned.length !== 0) {
    throw new Error(
      `the preview after up plans changes: ${planned.map((s) => `${s.op} ${s.urn}`).join(", ")}`,
    );
  }
  print("");
  print(`First up: ${upTime}, ${upRequests}.`);
  print(`Second preview (no changes): ${previewTime}, ${previewRequests}.`);
  print(`Requests the emulator saw in all: ${describeRequests(emulator.requests.all())}.`);
}

async function runTrain(stack: EngineStack, emulator: RunningEmulator): Promise<void> {
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
  const secondWrites = second.filter((r) => r.method !== "GET" && r.plane !== "identity").length;
  if (changes(again.steps).length !== 0 || secondWrites !== 0) {
    throw new Error(
      `the second up changed something: ${changes(again.steps).length} steps, ${secondWrites} writes`,
    );
  }

  print("$ pulumi destroy");
  await stack.destroy();
  print(`Requests on the first up: ${first}. Requests on the second up: ${second.length}.`);
}

async function main(argv: readonly string[]): Promise<void> {
  const which = argv[0] ?? "flow";
  const demo = DEMOS[which];
  if (demo === undefined || argv.length > 1) {
    throw new TypeError(`usage: npm run demo [-- ${Object.keys(DEMOS).join("|")}]`);
  }
  const engine = await ensureEngine({ log: print });
  print(`Pulumi engine: pulumi v${engine.version} (${engine.bin})`);
  const emulator = await startEmulator();
  const { info } = emulator;
  try {
    // What a CI job exports after `npx azureml-emulator`: DefaultAzureCredential's
    // managed-identity source picks these up, in the provider host the engine starts.
    process.env.IDENTITY_ENDPOINT = info.identityEndpoint;
    process.env.IDENTITY_HEADER = info.identityHeader;
    // The CA as an environment variable, not stack config: Pulumi copies stack config into the
    // state, and a machine path does not belong there.
    process.env.AZUREML_CA_CERT_PATH = info.caCertPath;
    print(`Azure ML emulator: ${info.armEndpoint} (workspace ${info.workspaceName}, with MLflow)`);
    print(`Program: examples/${demo.example}`);
    print("");
    const stack = await exampleStack({
      engine,
      example: demo.example,
      emulator: info,
      stackName: "demo",
      onOutput: (text) => process.stdout.write(text),
    });
    try {
      await demo.run(stack, emulator);
    } finally {
      await stack.close();
    }
  } finally {
    await emulator.close();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (error) => {
      // Without Go and without a usable `pulumi`, the message is one line saying what to install.
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
