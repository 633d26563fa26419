// Sweep jobs in the shared emulator: the sampler is the real Optuna (in its cached environment),
// trials are real command jobs on the machine's python3, and their metrics come back through the
// test metric source (test/support/sweepMetrics.ts) until the MLflow tracking service is merged.
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { expect } from "chai";
import { mkdirSync } from "node:fs";
import { DEV_STORE_ACCOUNT_KEY } from "../../emulator/azurite";
import { armCall, type ArmReply } from "../support/arm";
import { getEmulator, uniqueName } from "../support/emulator";
import { LOG_METRIC_PY, testMetricsDir } from "../support/sweepMetrics";

const ws = () => getEmulator().info.workspaceId;
const jobPath = (name: string) => `${ws()}/jobs/${name}`;
const TERMINAL = ["Completed", "Failed", "Canceled"];

async function codeVersion(files: Record<string, string>): Promise<string> {
  const { info } = getEmulator();
  const ds = await armCall("GET", `${ws()}/datastores/workspaceblobstore`);
  const container: string = ds.body.properties.containerName;
  const name = uniqueName("sweepcode");
  const folder = `LocalUpload/${name}/src`;
  const client = new BlobServiceClient(
    info.blobEndpoint,
    new StorageSharedKeyCredential(info.storageAccountName, DEV_STORE_ACCOUNT_KEY),
  ).getContainerClient(container);
  for (const [file, text] of Object.entries(files)) {
    await client.getBlockBlobClient(`${folder}/${file}`).upload(text, Buffer.byteLength(text));
  }
  const id = `${ws()}/codes/${name}/versions/1`;
  const r = await armCall("PUT", id, {
    properties: { codeUri: `${info.blobEndpoint}${container}/${folder}` },
  });
  expect(r.status, JSON.stringify(r.body)).to.equal(201);
  return id;
}

async function environment(): Promise<string> {
  const id = `${ws()}/environments/${uniqueName("sweepenv")}/versions/1`;
  const r = await armCall("PUT", id, {
    properties: { image: "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest" },
  });
  expect(r.status, JSON.stringify(r.body)).to.equal(201);
  return id;
}

// A trial: logs `score` for its curve, fails for --fail, sleeps when the curve says so. Curves
// log 200 values at once; `good`, `good2` and `mid` then end, `slow` sleeps a minute, so it ends
// early only when a policy terminates it (or a cancel does).
const TRIAL_PY = `
import argparse, time
${LOG_METRIC_PY}
p = argparse.ArgumentParser()
p.add_argument("--x", type=float, default=1.0)
p.add_argument("--kind", default="a")
p.add_argument("--curve", default="flat")
p.add_argument("--fail", default="")
args = p.parse_args()
print("trial", args.x, args.kind, args.curve, flush=True)
if args.fail and args.kind == args.fail:
    raise SystemExit("scripted failure for kind " + args.kind)
if args.curve in ("slow", "good", "good2", "mid"):
    for _ in range(200):
        log_metric("score", {"slow": 0.1, "mid": 0.5}.get(args.curve, 0.9))
    if args.curve == "slow":
        time.sleep(60)
elif args.curve == "sleep":
    time.sleep(60)
else:
    log_metric("score", args.x * (10 if args.kind == "b" else 1))
`;

let shared: { code: string; env: string } | undefined;
async function assets(): Promise<{ code: string; env: string }> {
  shared ??= { code: await codeVersion({ "trial.py": TRIAL_PY }), env: await environment() };
  return shared;
}

async function sweep(name: string, props: Record<string, unknown>): Promise<ArmReply> {
  const { code, env } = await assets();
  mkdirSync(testMetricsDir(), { recursive: true });
  const trial = (props.trial ?? {}) as Record<string, unknown>;
  return armCall("PUT", jobPath(name), {
    properties: {
      jobType: "Sweep",
      objective: { primaryMetric: "score", goal: "Maximize" },
      samplingAlgorithm: { samplingAlgorithmType: "Grid" },
      limits: { jobLimitsType: "Sweep", maxTotalTrials: 20, maxConcurrentTrials: 2 },
      ...props,
      trial: {
        codeId: code,
        environmentId: env,
        command: "python trial.py --x ${{search_space.x}} --kind ${{search_space.kind}}",
        environmentVariables: { SWEEP_METRICS_DIR: testMetricsDir() },
        ...trial,
      },
    },
  });
}

async function waitFor(name: string, done: (job: any) => boolean): Promise<any> {
  for (;;) {
    const r = await armCall("GET", jobPath(name));
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    if (done(r.body)) {
      return r.body;
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

const ended = (name: string) => waitFor(name, (j) => TERMINAL.includes(j.properties.status));

async function trials(name: string): Promise<any[]> {
  const r = await armCall("GET", `${ws()}/jobs?parentJobName=${name}`);
  expect(r.status, JSON.stringify(r.body)).to.equal(200);
  return (r.body.value as any[]).sort((a, b) => a.name.localeCompare(b.name));
}

/** The error Run History gives for a job, for assertion messages. */
async function runError(name: string): Promise<string> {
  const history = await armCall("GET", `/history/v1.0${ws()}/runs/${name}`);
  return JSON.stringify(history.body?.error ?? null);
}

const params = (trial: any) => JSON.parse(trial.properties.properties.hyperparameters);

describe("sweep jobs: what a PUT refuses @emulator", function () {
  this.timeout(30_000);

  const cases: Array<[string, Record<string, unknown>, string]> = [
    [
      "grid sampling over a continuous distribution",
      { searchSpace: { x: ["uniform", [0, 1]], kind: ["choice", [["a"]]] } },
      "properties.searchSpace.x",
    ],
    [
      "bayesian sampling with an early termination policy",
      {
        samplingAlgorithm: { samplingAlgorithmType: "Bayesian" },
        searchSpace: { x: ["uniform", [0, 1]], kind: ["choice", [["a"]]] },
        earlyTermination: { policyType: "MedianStopping" },
      },
      "properties.earlyTermination",
    ],
    [
      "a distribution with the wrong number of arguments",
      { searchSpace: { x: ["choice", [1, 2]], kind: ["choice", [["a"]]] } },
      "properties.searchSpace.x",
    ],
    [
      "a minimum above the maximum",
      {
        samplingAlgorithm: { samplingAlgorithmType: "Random" },
        searchSpace: { x: ["quniform", [5, 1, 1]], kind: ["choice", [["a"]]] },
      },
      "properties.searchSpace.x",
    ],
    [
      "a ${{search_space.x}} with no such parameter",
      { searchSpace: { kind: ["choice", [["a"]]] } },
      "properties.trial.command",
    ],
    [
      "both slack factor and slack amount",
      {
        searchSpace: { x: ["choice", [[1]]], kind: ["choice", [["a"]]] },
        earlyTermination: { policyType: "Bandit", slackFactor: 0.1, slackAmount: 0.2 },
      },
      "properties.earlyTermination.slackFactor",
    ],
  ];
  for (const [what, props, target] of cases) {
    it(`refuses ${what}, naming ${target}, and stores nothing @emulator`, async () => {
      const name = uniqueName("badsweep");
      const r = await sweep(name, props);
      expect(r.status, JSON.stringify(r.body)).to.equal(400);
      expect(r.body.error.target ?? r.body.error.details?.[0]?.target).to.equal(target);
      expect((await armCall("GET", jobPath(name))).status).to.equal(404);
    });
  }
});

describe("sweep jobs: running @emulator", function () {
  this.timeout(240_000);

  it("grid-searches every combination as child jobs <sweep>_<n>, listed by parent, and records the best trial (Maximize) @emulator", async () => {
    const name = uniqueName("grid");
    const put = await sweep(name, {
      searchSpace: { x: ["choice", [[1, 2, 3]]], kind: ["choice", [["a", "b"]]] },
    });
    expect(put.status, JSON.stringify(put.body)).to.equal(201);
    const done = await ended(name);
    expect(done.properties.status).to.equal("Completed");
    const children = await trials(name);
    expect(children.map((t) => t.name).sort()).to.deep.equal(
      [0, 1, 2, 3, 4, 5].map((i) => `${name}_${i}`).sort(),
    );
    expect(children.every((t) => t.properties.status === "Completed")).to.equal(true);
    const combos = children.map((t) => `${params(t).x}${params(t).kind}`).sort();
    expect(combos).to.deep.equal(["1a", "1b", "2a", "2b", "3a", "3b"]);
    const best = children.find((t) => params(t).x === 3 && params(t).kind === "b");
    expect(done.properties.properties.best_child_run_id).to.equal(best.name);
    expect(Number(done.properties.properties.score)).to.equal(30);
    // A trial is an ordinary job with the sweep as its parent in Run History.
    const history = await armCall("GET", `/history/v1.0${ws()}/runs/${best.name}`);
    expect(history.body).to.include({ parentRunId: name, rootRunId: name });
    expect(best.properties.command).to.equal("python trial.py --x 3 --kind b");
  });

  it("picks the lowest metric when the goal is Minimize, and stops at maxTotalTrials @emulator", async () => {
    const name = uniqueName("gridmin");
    await sweep(name, {
      objective: { primaryMetric: "score", goal: "Minimize" },
      searchSpace: { x: ["choice", [[4, 2, 3]]], kind: ["choice", [["a", "b"]]] },
      limits: { jobLimitsType: "Sweep", maxTotalTrials: 6, maxConcurrentTrials: 2 },
    });
    const done = await ended(name);
    const children = await trials(name);
    const lowest = children.reduce((a, b) =>
      params(a).x * (params(a).kind === "b" ? 10 : 1) <=
      params(b).x * (params(b).kind === "b" ? 10 : 1)
        ? a
        : b,
    );
    expect(done.properties.properties.best_child_run_id).to.equal(lowest.name);
    expect(Number(done.properties.properties.score)).to.equal(2);

    const limited = uniqueName("limited");
    await sweep(limited, {
      samplingAlgorithm: { samplingAlgorithmType: "Random", seed: 3 },
      searchSpace: { x: ["uniform", [0, 1]], kind: ["choice", [["a", "b"]]] },
      limits: { jobLimitsType: "Sweep", maxTotalTrials: 3, maxConcurrentTrials: 3 },
    });
    expect((await ended(limited)).properties.status).to.equal("Completed");
    expect(await trials(limited)).to.have.length(3);
  });

  it("samples the same values under the same seed, with random and with Sobol @emulator", async () => {
    for (const rule of ["Random", "Sobol"]) {
      const values: string[][] = [];
      for (let i = 0; i < 2; i++) {
        const name = uniqueName(`seed${rule.toLowerCase()}`);
        await sweep(name, {
          samplingAlgorithm: { samplingAlgorithmType: "Random", rule, seed: 42 },
          searchSpace: { x: ["uniform", [0, 10]], kind: ["choice", [["a", "b"]]] },
          limits: { jobLimitsType: "Sweep", maxTotalTrials: 3, maxConcurrentTrials: 1 },
        });
        expect((await ended(name)).properties.status).to.equal("Completed");
        values.push((await trials(name)).map((t) => t.properties.properties.hyperparameters));
      }
      expect(values[0]).to.have.length(3);
      expect(values[1], rule).to.deep.equal(values[0]);
    }
  });

  it("keeps going past a failed trial, and fails only when every trial fails @emulator", async () => {
    const some = uniqueName("somefail");
    await sweep(some, {
      searchSpace: { x: ["choice", [[1, 2]]], kind: ["choice", [["a", "b"]]] },
      trial: {
        command: "python trial.py --x ${{search_space.x}} --kind ${{search_space.kind}} --fail b",
      },
    });
    const done = await ended(some);
    expect(done.properties.status).to.equal("Completed");
    const children = await trials(some);
    expect(children.filter((t) => t.properties.status === "Failed")).to.have.length(2);
    const best = children.find((t) => params(t).x === 2 && params(t).kind === "a");
    expect(done.properties.properties.best_child_run_id).to.equal(best.name);

    const all = uniqueName("allfail");
    await sweep(all, {
      searchSpace: { x: ["choice", [[1, 2]]], kind: ["choice", [["b"]]] },
      trial: {
        command: "python trial.py --x ${{search_space.x}} --kind ${{search_space.kind}} --fail b",
      },
    });
    const failed = await ended(all);
    expect(failed.properties.status).to.equal("Failed");
    const history = await armCall("GET", `/history/v1.0${ws()}/runs/${all}`);
    expect(history.body.error.error.message).to.contain("None of the sweep's 2 trial(s) completed");
    expect(failed.properties.properties.best_child_run_id).to.equal(undefined);
  });

  // The third curve is one the policy keeps whichever trials it is compared with (two trials run
  // at a time on the serverless pool): `mid` is inside the slack of `good` and never the lowest
  // third; next to `good` alone, `mid` would be below the median, so MedianStopping gets `good2`.
  const policies: Array<[string, Record<string, unknown>, string]> = [
    ["Bandit with a slack amount", { policyType: "Bandit", slackAmount: 0.5 }, "mid"],
    [
      "Bandit with a slack factor",
      { policyType: "Bandit", slackFactor: 1, evaluationInterval: 2, delayEvaluation: 4 },
      "mid",
    ],
    [
      "MedianStopping",
      { policyType: "MedianStopping", evaluationInterval: 1, delayEvaluation: 2 },
      "good2",
    ],
    [
      "TruncationSelection",
      { policyType: "TruncationSelection", truncationPercentage: 34, evaluationInterval: 1 },
      "mid",
    ],
  ];
  for (const [what, policy, third] of policies) {
    it(`terminates the trial whose curve lags by ${what}: it ends Canceled, the others complete @emulator`, async () => {
      const name = uniqueName("early");
      await sweep(name, {
        searchSpace: { curve: ["choice", [["slow", "good", third]]] },
        trial: { command: "python trial.py --curve ${{search_space.curve}}" },
        limits: { jobLimitsType: "Sweep", maxTotalTrials: 3, maxConcurrentTrials: 3 },
        earlyTermination: policy,
      });
      const done = await ended(name);
      expect(done.properties.status, await runError(name)).to.equal("Completed");
      const children = await trials(name);
      const byCurve = Object.fromEntries(children.map((t) => [params(t).curve, t]));
      const seen = JSON.stringify(children.map((t) => [params(t).curve, t.properties.status]));
      expect(byCurve.slow.properties.status, seen).to.equal("Canceled");
      expect(byCurve.good.properties.status, seen).to.equal("Completed");
      expect(byCurve[third].properties.status, seen).to.equal("Completed");
      // good and good2 tie: either is the best.
      const bests = [byCurve.good.name, ...(third === "good2" ? [byCurve.good2.name] : [])];
      expect(bests).to.include(done.properties.properties.best_child_run_id);
    });
  }

  it("cancels a sweep while trials run: the cancel completes after every trial has ended @emulator", async () => {
    const name = uniqueName("cancelsweep");
    await sweep(name, {
      searchSpace: { curve: ["choice", [["sleep"]]], x: ["choice", [[1, 2, 3]]] },
      trial: { command: "python trial.py --curve ${{search_space.curve}} --x ${{search_space.x}}" },
    });
    await waitFor(name, (j) => j.properties.status === "Running");
    for (;;) {
      const running = (await trials(name)).filter((t) => t.properties.status === "Running");
      if (running.length > 0) {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    const cancel = await armCall("POST", `${jobPath(name)}/cancel`);
    expect(cancel.status).to.equal(202);
    for (;;) {
      const r = await armCall("GET", cancel.headers.location);
      if (r.status !== 202) {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    const done = await armCall("GET", jobPath(name));
    expect(done.body.properties.status).to.equal("Canceled");
    const children = await trials(name);
    expect(children.length).to.be.greaterThan(0);
    expect(children.map((t) => t.properties.status)).to.satisfy((s: string[]) =>
      s.every((x) => x === "Canceled"),
    );
  });

  it("deletes a sweep while trials run: no trial is left running and the sweep is gone @emulator", async () => {
    const name = uniqueName("deletesweep");
    await sweep(name, {
      searchSpace: { curve: ["choice", [["sleep"]]], x: ["choice", [[1, 2]]] },
      trial: { command: "python trial.py --curve ${{search_space.curve}} --x ${{search_space.x}}" },
    });
    for (;;) {
      const running = (await trials(name)).filter((t) => t.properties.status === "Running");
      if (running.length > 0) {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    const del = await armCall("DELETE", jobPath(name));
    expect(del.status).to.equal(202);
    for (;;) {
      const r = await armCall("GET", del.headers.location);
      if (r.status !== 202) {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    expect((await armCall("GET", jobPath(name))).status).to.equal(404);
    const children = await trials(name);
    expect(children.every((t) => t.properties.status === "Canceled")).to.equal(true);
  });

  it("cancels a sweep that outlives limits.timeout, with its running trials @emulator", async () => {
    const name = uniqueName("timeoutsweep");
    await sweep(name, {
      searchSpace: { curve: ["choice", [["sleep"]]], x: ["choice", [[1]]] },
      trial: { command: "python trial.py --curve ${{search_space.curve}} --x ${{search_space.x}}" },
      limits: { jobLimitsType: "Sweep", maxTotalTrials: 1, timeout: "PT3S" },
    });
    const done = await ended(name);
    expect(done.properties.status).to.equal("Canceled");
    const history = await armCall("GET", `/history/v1.0${ws()}/runs/${name}`);
    expect(history.body.error.error.message).to.contain("limits.timeout PT3S");
    expect((await trials(name)).map((t) => t.properties.status)).to.deep.equal(["Canceled"]);
  });

  it("fails a trial that outlives limits.trialTimeout without failing the sweep's other trials @emulator", async () => {
    const name = uniqueName("trialtimeout");
    await sweep(name, {
      searchSpace: { curve: ["choice", [["sleep", "flat"]]] },
      trial: { command: "python trial.py --curve ${{search_space.curve}}" },
      limits: { jobLimitsType: "Sweep", maxTotalTrials: 2, trialTimeout: "PT2S" },
    });
    const done = await ended(name);
    expect(done.properties.status).to.equal("Completed");
    const byCurve = Object.fromEntries((await trials(name)).map((t) => [params(t).curve, t]));
    expect(byCurve.sleep.properties.status).to.equal("Failed");
    expect(byCurve.flat.properties.status).to.equal("Completed");
    expect(done.properties.properties.best_child_run_id).to.equal(byCurve.flat.name);
  });
});
