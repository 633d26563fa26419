/**
 * examples/flow through the Pulumi engine: train, sweep (two trials), register the best model
 * behind the accuracy gate, deploy it to a batch endpoint, score the example's unlabelled flowers
 * with it. Jobs and scoring run for real, so this starts an emulator with MLflow.
 */
import { expect } from "chai";
import * as path from "node:path";
import { loadProgram, resolveExample } from "../../examples/runner";
import { startEmulator, type RunningEmulator } from "../../emulator/index";
import { changes, createEngineStack, UNKNOWN_VALUE, type EngineStack } from "../../tools/stack";
import { testCertDir } from "../support/emulator";
import { useEngine } from "../support/engine";
import { findRepoRoot } from "../support/userProject";

describe("examples/flow through the Pulumi engine @engine", function () {
  const engine = useEngine(this);
  this.timeout(1_800_000);
  let emulator: RunningEmulator | undefined;
  let stack: EngineStack | undefined;

  before(async () => {
    emulator = await startEmulator({
      certDir: testCertDir(),
      progression: { mode: "polls", polls: 1 },
      retryAfterInSeconds: 0,
    });
  });
  after(async () => {
    await stack?.close();
    await emulator?.close();
  });

  it("previews unknowns sending nothing, trains, sweeps, gates, deploys, scores the flowers into species; a second up and a failing threshold change nothing and score nothing again; destroy leaves no endpoint @engine", async () => {
    const repoRoot = findRepoRoot();
    const example = resolveExample(path.join(repoRoot, "examples", "flow"), repoRoot);
    const { info } = emulator!;
    stack = await createEngineStack({
      engine: engine(),
      projectName: example.project,
      program: loadProgram(example.modulePath),
      files: [example.projectDir],
      config: {
        "azureml:armEndpoint": info.armEndpoint,
        "azureml:subscriptionId": info.subscriptionId,
        "azureml-flow:resourceGroupName": info.resourceGroupName,
        "azureml-flow:workspaceName": info.workspaceName,
      },
      env: { AZUREML_CA_CERT_PATH: info.caCertPath },
    });

    // A preview of the empty stack: every resource a create, Azure's values unknown, no request.
    const mark = emulator!.requests.mark();
    const preview = await stack.preview();
    const armRequests = emulator!.requests.since(mark).filter((r) => r.plane !== "identity");
    expect(armRequests).to.deep.equal([]);
    expect(changes(preview.steps).every((s) => s.op === "create")).to.equal(true);
    expect(preview.outputs.gateOutcome).to.equal(UNKNOWN_VALUE);
    expect(preview.outputs.firstPredictions).to.equal(UNKNOWN_VALUE);

    const deployed = (await stack.up()).outputs;
    expect(deployed.trainingAccuracy).to.be.a("number").within(0.8, 1);
    expect(deployed.gatePassed).to.equal(true);
    expect(String(deployed.gateOutcome)).to.match(/^gate passed: accuracy/);
    expect(deployed.model).to.equal("azureml:iris-flow-best:1");
    expect(deployed.endpoint).to.equal("iris-scorer");
    // The deployed MLflow model scored unlabelled/flowers.csv: each row is a flower's four
    // measurements and the species predicted for it.
    expect(deployed.scoringStatus).to.equal("Completed");
    expect(String(deployed.predictions)).to.match(
      /^azureml:\/\/datastores\/workspaceblobstore\/paths\/batch\/iris-scorer\/[0-9a-f]{16}\/predictions\.csv$/,
    );
    const rows = deployed.firstPredictions as string[];
    expect(rows).to.have.length(5);
    for (const row of rows) {
      expect(row).to.match(/^\d\.\d \d\.\d \d\.\d \d\.\d (setosa|versicolor|virginica)$/);
    }
    expect(rows[2]).to.equal("5.0 3.5 1.3 0.3 setosa");
    process.stderr.write(`examples/flow: ${JSON.stringify(deployed)}\n`);

    const beforeSecondUp = emulator!.requests.mark();
    expect(changes((await stack.up()).steps)).to.deep.equal([]);
    const invocations = emulator!.requests
      .since(beforeSecondUp)
      .filter((r) => r.method === "POST" && /\/jobs$/.test(r.path.split("?")[0]));
    expect(invocations, "a scoring invocation on the second up").to.deep.equal([]);

    // A threshold the best model cannot pass: nothing changes, and the outputs say why.
    await stack.stack.setConfig("azureml-flow:minimumAccuracy", { value: "1.01" });
    const raised = await stack.preview();
    expect(changes(raised.steps)).to.deep.equal([]);
    expect(raised.outputs.gatePassed).to.equal(false);
    expect(String(raised.outputs.gateOutcome)).to.contain("stay as they were");

    const beforeDestroy = emulator!.requests.mark();
    await stack.destroy();
    const deletes = emulator!.requests
      .since(beforeDestroy)
      .filter(
        (r) =>
          r.method === "DELETE" && /\/batchEndpoints\/iris-scorer$/i.test(r.path.split("?")[0]),
      );
    expect(deletes.length, "a DELETE of the endpoint").to.be.greaterThan(0);
  });
});
