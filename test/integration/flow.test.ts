/**
 * examples/flow through the Pulumi engine: train, sweep (two trials), register the best model
 * behind the accuracy gate, deploy it to a batch endpoint, score the example's unlabelled flowers
 * with it. Jobs and scoring run for real, so this starts an emulator with MLflow.
 *
 * One scenario, each step on the state the previous one left: preview, up (with its progress
 * lines), a second up, the documented preview of one changed input at a time (README, "How
 * preview diffs behave"), a new model that scores again, a failing threshold, destroy.
 */
import { expect } from "chai";
import { expectCleanFlowOutputs } from "../support/flowOutputs";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { isTerminalJobStatus } from "../../provider/operations/jobs";
import { changes, UNKNOWN_VALUE, type RunResult, type Step } from "../../tools/stack";
import { armList, useExampleStacks } from "../support/exampleStack";

/** What a preview plans for one resource: `op name [properties]`. */
function planned(result: RunResult): string[] {
  return changes(result.steps)
    .filter((s) => s.op !== "create-replacement" && s.op !== "delete-replaced")
    .map((s) => `${s.op} ${s.name} [${propertiesOf(s, result.output).join(",")}]`)
    .sort();
}

/**
 * The steps `planned` as documented: the same operations on the same resources, each naming at
 * least the documented properties (a preview may name more of what it does not know yet).
 */
function expectPlanned(change: string, actual: readonly string[], documented: readonly string[]) {
  const parse = (line: string) => {
    const [, step, names] = /^(\S+ \S+) \[(.*)\]$/.exec(line)!;
    return { step, names: names === "" ? [] : names.split(",") };
  };
  const got = actual.map(parse);
  const want = documented.map(parse);
  expect(got.map((g) => g.step).sort(), change).to.deep.equal(want.map((w) => w.step).sort());
  for (const { step, names } of want) {
    expect(got.find((g) => g.step === step)!.names, `${change}: ${step}`).to.include.members(names);
  }
}

/**
 * The properties a step changes, as a user reads them: a replacement's reasons (the engine's
 * `keys`), else the properties the CLI's `--diff` text marks under the resource (the Node.js
 * dynamic-provider host forwards no `diffs` of its own, see docs/ARCHITECTURE.md).
 */
function propertiesOf(step: Step, output: string): string[] {
  if (step.keys.length > 0) {
    return [...step.keys].sort();
  }
  if (step.diffs.length > 0) {
    return [...step.diffs].sort();
  }
  const lines = output.split("\n");
  const at = lines.findIndex((line) => line.includes(`[urn=${step.urn}]`));
  if (at < 0) {
    return [];
  }
  // The block's top-level properties: `~ name: …`, `+ name : {` (keys are padded to align),
  // at the block's smallest indentation (nested keys sit deeper).
  const found: { indent: number; name: string }[] = [];
  for (const line of lines.slice(at + 1)) {
    // The next resource's header (`~ type: (update)`, `+-type: (replace)`, …) ends the block.
    if (/: \([a-z-]+\)\s*$/.test(line) || line.trim() === "") {
      break;
    }
    const match = /^(\s+)[~+-]{1,2}\s+([A-Za-z_][\w.]*)\s*:/.exec(line);
    if (match && match[2] !== "__provider") {
      found.push({ indent: match[1].length, name: match[2] });
    }
  }
  const top = Math.min(...found.map((f) => f.indent));
  return [...new Set(found.filter((f) => f.indent === top).map((f) => f.name))].sort();
}

describe("examples/flow through the Pulumi engine @engine", function () {
  const examples = useExampleStacks(this, { mlflow: true });
  this.timeout(1_800_000);

  it("previews unknowns sending nothing, trains, sweeps, gates, deploys, scores the flowers into species with progress shown as it happens; a second up changes nothing; one changed input at a time previews as documented; a new model scores again; a failing threshold changes nothing; destroy leaves no endpoint and no running job @engine", async () => {
    const started = Date.now();
    // The test runner silences progress lines (test/support/runMocha.ts): this test reads them.
    const stack = await examples.stack("flow", {}, { env: { AZUREML_PROGRESS: "on" } });
    const emulator = examples.emulator();
    const { info } = emulator;

    // A preview of the empty stack: every resource a create, Azure's values unknown, no request.
    const mark = emulator.requests.mark();
    const preview = await stack.preview();
    const armRequests = emulator.requests.since(mark).filter((r) => r.plane !== "identity");
    expect(armRequests).to.deep.equal([]);
    expect(changes(preview.steps).every((s) => s.op === "create")).to.equal(true);
    expect(preview.outputs.gateOutcome).to.equal(UNKNOWN_VALUE);
    expect(preview.outputs.firstPredictions).to.equal(UNKNOWN_VALUE);

    const first = await stack.up();
    const deployed = first.outputs;
    expectCleanFlowOutputs(deployed);
    process.stderr.write(`examples/flow: ${JSON.stringify(deployed)}\n`);

    // Progress of the long steps, in the order the engine reported it while the up ran: the
    // training job's status changes, the sweep's trials, the deployment's state, the mini-batches.
    // The engine prefixes what the provider host logs with its severity and `[runtime]`.
    const said = first.progress.map((d) => d.message.trim().replace(/^(info: )?\[runtime\] /, ""));
    const index = (pattern: RegExp) => said.findIndex((line) => pattern.test(line));
    const lastIndex = (pattern: RegExp) =>
      said.reduce((last, line, i) => (pattern.test(line) ? i : last), -1);
    const at = {
      trainingRunning: index(
        /^CommandJob iris-train-job-\w+: (Queued|Starting|Preparing|Running) /,
      ),
      trainingCompleted: index(/^CommandJob iris-train-job-\w+: Completed /),
      trialsRunning: index(/^SweepJob iris-sweep-[\w-]+: 2 trials: [12] running/),
      trialsCompleted: index(/^SweepJob iris-sweep-[\w-]+: 2 trials: 0 running, 2 completed/),
      deploymentState: index(
        /^BatchDeployment blue of endpoint iris-scorer: Succeeded, serving models\/iris-flow-best\/versions\/1\./,
      ),
      miniBatchesScored: lastIndex(/^BatchScoringJob \S+: Completed, mini-batches 1\/1 scored;/),
    };
    const transcript = said.join("\n");
    const missing = Object.entries(at).filter(([, i]) => i < 0);
    expect(
      missing.map(([what]) => what),
      transcript,
    ).to.deep.equal([]);
    expect(at.trainingRunning, transcript).to.be.below(at.trainingCompleted);
    expect(at.trialsRunning, transcript).to.be.below(at.trialsCompleted);
    expect(at.trialsCompleted, transcript).to.be.below(at.deploymentState);
    expect(at.deploymentState, transcript).to.be.below(at.miniBatchesScored);

    const beforeSecondUp = emulator.requests.mark();
    expect(changes((await stack.up()).steps)).to.deep.equal([]);
    const invocations = emulator.requests
      .since(beforeSecondUp)
      .filter((r) => r.method === "POST" && /\/jobs$/.test(r.path.split("?")[0]));
    expect(invocations, "a scoring invocation on the second up").to.deep.equal([]);

    // One changed input at a time, previewed and reverted: what README's table says each plans.
    const previews: Record<string, string[]> = {};
    const previewed = async (change: string) => {
      const mark = emulator.requests.mark();
      const result = await stack.preview();
      const writes = emulator.requests
        .since(mark)
        .filter((r) => r.method !== "GET" && r.plane !== "identity");
      expect(writes, `requests that change something in the preview of ${change}`).to.deep.equal(
        [],
      );
      previews[change] = planned(result);
    };
    const config = stack.stack;
    await config.setConfig("azureml-flow:tags", { value: '{"team":"ml"}' });
    await previewed("a tag");
    await config.removeConfig("azureml-flow:tags");

    const script = path.join(stack.dir, "src", "train.py");
    const original = await fs.readFile(script, "utf8");
    await fs.writeFile(script, `${original}# the same training, another content hash\n`);
    await previewed("the code folder's content");
    await fs.writeFile(script, original);

    await config.setConfig("azureml-flow:miniBatchSize", { value: "20" });
    await previewed("a batch deployment setting");
    await config.removeConfig("azureml-flow:miniBatchSize");

    await config.setConfig("azureml-flow:maxTotalTrials", { value: "3" });
    await previewed("a sweep limit");
    await config.removeConfig("azureml-flow:maxTotalTrials");

    await config.setConfig("azureml-flow:minimumAccuracy", { value: "0.85" });
    await previewed("the gate's threshold");
    await config.removeConfig("azureml-flow:minimumAccuracy");

    process.stderr.write(`examples/flow previews: ${JSON.stringify(previews, null, 2)}\n`);
    expect(changes((await stack.preview()).steps), "every change reverted").to.deep.equal([]);

    // A new model scores again: another training input makes a new sweep whose best model is
    // registered as version 2, the deployment serves it (updated in place), and the flowers are
    // scored again by a new job into a new folder.
    // The best trial's accuracy sits near the default gate (0.9): a lower threshold, which alone
    // changes nothing (above), lets the new candidate through whatever its accuracy.
    await config.setConfig("azureml-flow:minimumAccuracy", { value: "0.5" });
    await config.setConfig("azureml-flow:numBoostRound", { value: "40" });
    const retrained = await stack.up();
    const ops = changes(retrained.steps).map((s) => `${s.op} ${s.name}`);
    process.stderr.write(`examples/flow, a new model: ${planned(retrained).join("; ")}\n`);
    expect(ops).to.include.members([
      "replace iris-sweep-model",
      "update iris-scorer-deployment",
      "replace iris-scoring-job",
    ]);
    expect(retrained.outputs.model).to.equal("azureml:iris-flow-best:2");
    expect(retrained.outputs.scoringStatus).to.equal("Completed");
    expect(retrained.outputs.predictions).to.not.equal(deployed.predictions);
    expect(retrained.outputs.firstPredictions as string[]).to.have.length(5);
    const scoringJobs = (await armList(emulator, `${info.workspaceId}/jobs?listViewType=All`))
      .filter((j) => j.properties?.jobType === "Pipeline")
      .map((j) => j.name as string);
    expect(scoringJobs, "scoring jobs after the new model").to.have.length(2);
    const again = emulator.requests.mark();
    expect(changes((await stack.up()).steps), "an up after the new model").to.deep.equal([]);
    expect(
      emulator.requests
        .since(again)
        .filter((r) => r.method === "POST" && /\/jobs$/.test(r.path.split("?")[0])),
    ).to.deep.equal([]);

    // A threshold the best model cannot pass: nothing changes, and the outputs say why.
    await config.setConfig("azureml-flow:minimumAccuracy", { value: "1.01" });
    const raised = await stack.preview();
    expect(changes(raised.steps)).to.deep.equal([]);
    expect(raised.outputs.gatePassed).to.equal(false);
    expect(String(raised.outputs.gateOutcome)).to.contain("stay as they were");

    // destroy: the emulator holds no batch endpoint and no job that has not ended.
    await stack.destroy();
    const endpoints = await armList(emulator, `${info.workspaceId}/batchEndpoints`);
    expect(endpoints.map((e) => e.name)).to.deep.equal([]);
    const running = (await armList(emulator, `${info.workspaceId}/jobs?listViewType=All`))
      .filter((j) => !isTerminalJobStatus(j.properties?.status))
      .map((j) => `${j.name} ${j.properties?.status}`);
    expect(running, "jobs still running after destroy").to.deep.equal([]);
    // What each preview planned, asserted last so that one run reports every step. A deployment
    // that updates in place keeps its incarnation, known in the preview, so the default
    // deployment shows no change.
    const newModel = [
      "update iris-sweep-gate [candidate,value]",
      "replace iris-sweep-model [contentHash,path]",
      "update iris-scorer-deployment [modelId]",
      "replace iris-scoring-job [outputPath,servedModelId]",
    ];
    const documented: Record<string, string[]> = {
      "a tag": ["update iris-scorer-endpoint [tags]", "update iris-scorer-deployment [tags]"],
      "the code folder's content": [
        "replace iris-train-code [contentHash,version]",
        "replace iris-train-job [code]",
        "replace iris-sweep-sweep [trial]",
        ...newModel,
      ],
      "a batch deployment setting": ["update iris-scorer-deployment [miniBatchSize]"],
      "a sweep limit": ["replace iris-sweep-sweep [limits]", ...newModel],
      "the gate's threshold": [],
    };
    for (const [change, steps] of Object.entries(documented)) {
      expectPlanned(change, previews[change], steps);
    }
    process.stderr.write(
      `examples/flow: the whole scenario took ${Math.round((Date.now() - started) / 1000)} s\n`,
    );
  });
});
