/**
 * SweepJob against the emulator, which really sweeps (Optuna in its cached environment) and runs
 * each trial as a command job on the machine's python3; trials log their metric to the test metric
 * files the shared emulator reads (test/support/sweepMetrics.ts). What a user sees on `up`, when
 * trials fail, on an interrupted `up`, and on destroy, and what reaches the service.
 */
import { expect } from "chai";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import * as os from "node:os";
import * as path from "node:path";
import { armGet } from "../support/arm";
import { getEmulator, uniqueName } from "../support/emulator";
import { checkAndCreate, configuredProvider, workspaceInputs } from "../support/providers";
import { LOG_METRIC_PY, testMetricsDir } from "../support/sweepMetrics";
import { searchSpace } from "../../provider/operations/sweep";

const folders: string[] = [];
after(() => {
  for (const folder of folders.splice(0)) {
    rmSync(folder, { recursive: true, force: true });
  }
});

// A trial: logs `score` (x, ten times x for kind "b"), writes a model file, fails for the kind
// given as --fail, sleeps --sleep seconds first.
const TRIAL_PY = `
import argparse, pathlib, time
${LOG_METRIC_PY}
p = argparse.ArgumentParser()
p.add_argument("--x", type=float)
p.add_argument("--kind")
p.add_argument("--fail", default="")
p.add_argument("--sleep", type=float, default=0)
p.add_argument("--model")
args = p.parse_args()
print("trial", args.x, args.kind, flush=True)
time.sleep(args.sleep)
if args.kind == args.fail:
    raise SystemExit("scripted failure for kind " + args.kind)
log_metric("score", args.x * (10 if args.kind == "b" else 1))
pathlib.Path(args.model).mkdir(parents=True, exist_ok=True)
pathlib.Path(args.model, "MLmodel").write_text("flavors: {}\\n")
`;

// A trial whose `score` curve is flat at 0.1 (slow, which then sleeps until terminated), 0.5
// (mid) or 0.9 (good).
const CURVE_PY = `
import argparse, pathlib, time
${LOG_METRIC_PY}
p = argparse.ArgumentParser()
p.add_argument("--curve")
p.add_argument("--model")
args = p.parse_args()
for _ in range(200):
    log_metric("score", {"slow": 0.1, "mid": 0.5}.get(args.curve, 0.9))
if args.curve == "slow":
    time.sleep(60)
pathlib.Path(args.model).mkdir(parents=True, exist_ok=True)
`;

function codeFolder(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "sweep-src-"));
  folders.push(dir);
  writeFileSync(path.join(dir, "trial.py"), TRIAL_PY);
  writeFileSync(path.join(dir, "curve.py"), CURVE_PY);
  writeFileSync(path.join(dir, "nonce.txt"), `${randomUUID()}\n`);
  return dir;
}

async function environmentId(): Promise<string> {
  const { outs } = await checkAndCreate(await configuredProvider("environmentVersion"), {
    ...workspaceInputs(),
    name: uniqueName("env"),
    image: "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest",
  });
  return (outs as { assetId: string }).assetId;
}

/** A grid sweep over x × kind (4 trials, 2 at a time) maximizing `score`. */
async function sweepInputs(
  overrides: { fail?: string; sleep?: number; [key: string]: unknown } = {},
): Promise<Record<string, unknown>> {
  const { fail = "", sleep = 0, ...rest } = overrides;
  mkdirSync(testMetricsDir(), { recursive: true });
  return {
    ...workspaceInputs(),
    resourceName: uniqueName("sweep"),
    objective: { primaryMetric: "score", goal: "maximize" },
    samplingAlgorithm: { type: "grid" },
    searchSpace: { x: searchSpace.choice(1, 2), kind: searchSpace.choice("a", "b") },
    trial: {
      code: codeFolder(),
      environment: await environmentId(),
      command:
        "python trial.py --x ${{search_space.x}} --kind ${{search_space.kind}} " +
        `--fail '${fail}' --sleep ${sleep} --model \${{outputs.model}}`,
      outputs: { model: { type: "mlflow_model" } },
      environmentVariables: { SWEEP_METRICS_DIR: testMetricsDir() },
    },
    compute: "cpu-cluster",
    limits: { maxTotalTrials: 4, maxConcurrentTrials: 2 },
    minPollIntervalInSeconds: 0.2,
    maxPollIntervalInSeconds: 1,
    ...rest,
  };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("Expected the call to fail, but it succeeded.");
}

const ws = () => getEmulator().info.workspaceId;

async function trialsOf(name: string): Promise<any[]> {
  const list = await armGet(`${ws()}/jobs?parentJobName=${name}`);
  return list.value as any[];
}

function jobWrites(since: number): string[] {
  return getEmulator()
    .requests.since(since)
    .filter((r) => r.plane === "arm" && r.method !== "GET" && /\/jobs\//.test(r.path))
    .map((r) => `${r.method} ${r.path.split("/jobs/")[1]}`);
}

describe("SweepJob provider @emulator", function () {
  this.timeout(180_000);

  it("runs the sweep to its end and hands over the best trial, its hyperparameters and its model @emulator", async () => {
    const provider = await configuredProvider("sweepJob");
    const mark = getEmulator().requests.mark();
    const { id, outs, inputs } = await checkAndCreate(provider, await sweepInputs());
    expect(outs.status).to.equal("Completed");
    expect(outs.name).to.equal(inputs.baseName);
    expect(id).to.equal(`${ws()}/jobs/${outs.name}`);
    expect(outs.trialCounts).to.deep.equal({
      total: 4,
      running: 0,
      completed: 4,
      failed: 0,
      earlyTerminated: 0,
      canceled: 0,
    });
    // x=2, kind b scores 20: the best of the grid.
    expect(outs.bestHyperparameters).to.deep.equal({ x: 2, kind: "b" });
    expect(outs.bestPrimaryMetric).to.equal(20);
    expect(outs.bestTrialName).to.match(new RegExp(`^${outs.name}_\\d$`));
    expect(outs.bestTrialOutputUris).to.deep.equal({
      model: `azureml://jobs/${outs.bestTrialName}/outputs/model`,
    });
    expect(outs.bestModelUri).to.equal(`azureml://jobs/${outs.bestTrialName}/outputs/model`);
    // One submission of the sweep; the trials are the service's.
    expect(jobWrites(mark).filter((w) => w.startsWith("PUT"))).to.deep.equal([`PUT ${outs.name}`]);
    const live = await armGet(`${ws()}/jobs/${outs.name}`);
    expect(live.properties.searchSpace).to.deep.equal({
      x: ["choice", [[1, 2]]],
      kind: ["choice", [["a", "b"]]],
    });

    const model = await checkAndCreate(await configuredProvider("modelVersion"), {
      ...workspaceInputs(),
      name: uniqueName("best"),
      modelType: "mlflow_model",
      path: outs.bestModelUri,
    });
    expect(model.outs.jobName).to.equal(outs.bestTrialName);

    // The same spec again adopts the sweep that ran: nothing is submitted.
    const again = getEmulator().requests.mark();
    const second = await provider.create(inputs);
    expect(second.outs!.name).to.equal(outs.name);
    expect(jobWrites(again)).to.deep.equal([]);
  });

  it("a failed trial does not fail the sweep; the best is chosen among the others @emulator", async () => {
    const provider = await configuredProvider("sweepJob");
    const { outs } = await checkAndCreate(provider, await sweepInputs({ fail: "b" }));
    expect(outs.status).to.equal("Completed");
    expect(outs.trialCounts).to.deep.include({ total: 4, completed: 2, failed: 2 });
    expect(outs.bestHyperparameters).to.deep.equal({ x: 2, kind: "a" });
    expect(outs.bestPrimaryMetric).to.equal(2);
  });

  it("fails when every trial fails, with the sweep's error and the failed trial's log @emulator", async () => {
    const provider = await configuredProvider("sweepJob");
    const inputs = await sweepInputs({
      searchSpace: { x: searchSpace.choice(1, 2), kind: searchSpace.choice("b") },
      fail: "b",
    });
    const checked = (await provider.check({}, inputs)).inputs as any;
    const error = await rejection(provider.create(checked));
    expect(error.message).to.contain(`SweepJob ${checked.baseName} ended Failed`);
    expect(error.message).to.contain("None of the sweep's 2 trial(s) completed");
    expect(error.message).to.contain("2 trials: 0 running, 0 completed, 2 failed");
    expect(error.message).to.contain("scripted failure for kind b");
  });

  it("counts the trial a bandit policy stopped as early-terminated, and the sweep completes @emulator", async () => {
    const provider = await configuredProvider("sweepJob");
    const inputs = await sweepInputs();
    const trial = inputs.trial as Record<string, unknown>;
    const { outs } = await checkAndCreate(provider, {
      ...inputs,
      searchSpace: { curve: searchSpace.choice("slow", "good", "mid") },
      trial: {
        ...trial,
        command: "python curve.py --curve ${{search_space.curve}} --model ${{outputs.model}}",
      },
      limits: { maxTotalTrials: 3, maxConcurrentTrials: 3 },
      earlyTermination: { type: "bandit", slackAmount: 0.5 },
      // Serverless: all three run at once (cpu-cluster's nodes would queue one of them).
      compute: undefined,
    });
    expect(outs.status).to.equal("Completed");
    expect(outs.trialCounts).to.deep.equal({
      total: 3,
      running: 0,
      completed: 2,
      failed: 0,
      earlyTerminated: 1,
      canceled: 0,
    });
    expect(outs.bestHyperparameters).to.deep.equal({ curve: "good" });
    expect(outs.bestPrimaryMetric).to.equal(0.9);
  });

  it("adopts the sweep an interrupted up left running and submits nothing new @emulator", async () => {
    const provider = await configuredProvider("sweepJob");
    const checked = (await provider.check({}, await sweepInputs({ sleep: 3 }))).inputs as any;
    const interrupted = await rejection(provider.create({ ...checked, waitTimeoutInSeconds: 1 }));
    expect(interrupted.message).to.contain("keeps running");
    const mark = getEmulator().requests.mark();
    const adopted = await provider.create(checked);
    expect(adopted.outs!.name).to.equal(checked.baseName);
    expect(adopted.outs!.status).to.equal("Completed");
    expect(adopted.outs!.trialCounts.completed).to.equal(4);
    expect(jobWrites(mark)).to.deep.equal([]);
  });

  it("delete while trials run cancels the sweep and leaves no trial running @emulator", async () => {
    const provider = await configuredProvider("sweepJob");
    const { id, outs } = await checkAndCreate(
      provider,
      await sweepInputs({ sleep: 120, waitForCompletion: false }),
    );
    expect(outs.status).not.to.be.oneOf(["Completed", "Failed", "Canceled"]);
    // Wait until trials run, so the delete has something to stop.
    for (let i = 0; i < 100 && (await trialsOf(outs.name)).length === 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
    }
    await provider.delete(id, outs);
    const sweep = await armGet(`${ws()}/jobs/${outs.name}`);
    expect(sweep.properties.status).to.equal("Canceled");
    expect(sweep.properties.isArchived).to.equal(true);
    const trials = await trialsOf(outs.name);
    expect(trials.length).to.be.greaterThan(0);
    expect(trials.map((t) => t.properties.status)).to.satisfy((s: string[]) =>
      s.every((x) => ["Completed", "Failed", "Canceled"].includes(x)),
    );
  });

  it("refuses a bad sweep at check time, naming the property, with zero requests @emulator", async () => {
    const provider = await configuredProvider("sweepJob");
    const inputs = await sweepInputs();
    const mark = getEmulator().requests.mark();
    const result = await provider.check(
      {},
      {
        ...inputs,
        samplingAlgorithm: { type: "bayesian" },
        earlyTermination: { type: "medianStopping" },
      },
    );
    expect(result.failures!.map((f) => f.property)).to.deep.equal(["earlyTermination"]);
    expect(getEmulator().requests.since(mark)).to.deep.equal([]);
  });
});
