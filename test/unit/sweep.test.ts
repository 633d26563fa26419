// Sweep rules that need no server: the search-space helpers' wire syntax, the provider's check
// findings, the emulator's PUT rules and its early termination policies on scripted curves.
import { expect } from "chai";
import {
  earlyTerminationToWire,
  gridSize,
  limitsToWire,
  objectiveToWire,
  samplingToWire,
  searchSpace as s,
  searchSpaceToWire,
  sweepFindings,
  type SweepCheckInput,
} from "../../provider/operations/sweep";
import { trialsToTerminate, type TrialCurve } from "../../emulator/sweep/policies";
import {
  planSweep,
  substituteSearchSpace,
  trialProperties,
  type EarlyTermination,
} from "../../emulator/sweep/spec";

describe("sweep search space @unit", () => {
  it("serializes every helper to the contract's syntax, choice with its double brackets @unit", () => {
    expect(
      searchSpaceToWire({
        c: s.choice("gbdt", "dart"),
        r: s.randint(5),
        u: s.uniform(0.01, 0.9),
        qu: s.quniform(1, 10, 1),
        lu: s.loguniform(-6, -1),
        qlu: s.qloguniform(0, 5, 2),
        n: s.normal(0, 1),
        qn: s.qnormal(10, 2, 3),
        ln: s.lognormal(0, 1),
        qln: s.qlognormal(0, 1, 0.5),
      }),
    ).to.deep.equal({
      c: ["choice", [["gbdt", "dart"]]],
      r: ["randint", [5]],
      u: ["uniform", [0.01, 0.9]],
      qu: ["quniform", [1, 10, 1]],
      lu: ["loguniform", [-6, -1]],
      qlu: ["qloguniform", [0, 5, 2]],
      n: ["normal", [0, 1]],
      qn: ["qnormal", [10, 2, 3]],
      ln: ["lognormal", [0, 1]],
      qln: ["qlognormal", [0, 1, 0.5]],
    });
  });

  it("serializes sampling, objective, limits and early termination as Azure takes them @unit", () => {
    expect(samplingToWire({ type: "random", rule: "Sobol", seed: 3 })).to.deep.equal({
      samplingAlgorithmType: "Random",
      rule: "Sobol",
      seed: 3,
    });
    expect(samplingToWire({ type: "grid" })).to.deep.equal({ samplingAlgorithmType: "Grid" });
    expect(objectiveToWire({ primaryMetric: "acc", goal: "minimize" })).to.deep.equal({
      primaryMetric: "acc",
      goal: "Minimize",
    });
    expect(limitsToWire({ maxTotalTrials: 8, trialTimeout: "PT5M" })).to.deep.equal({
      jobLimitsType: "Sweep",
      maxTotalTrials: 8,
      trialTimeout: "PT5M",
    });
    expect(earlyTerminationToWire({ type: "bandit", slackFactor: 0.1 })).to.deep.equal({
      policyType: "Bandit",
      evaluationInterval: 0,
      delayEvaluation: 0,
      slackFactor: 0.1,
    });
    expect(gridSize({ a: s.choice(1, 2, 3), b: s.choice("x", "y") })).to.equal(6);
  });
});

describe("sweep check findings @unit", () => {
  const base: SweepCheckInput = {
    command: "python train.py --lr ${{search_space.lr}} --boosting ${{search_space.boosting}}",
    searchSpace: { lr: s.uniform(0.01, 0.9), boosting: s.choice("gbdt", "dart") },
    sampling: { type: "random", seed: 1 },
    objective: { primaryMetric: "accuracy", goal: "maximize" },
  };
  const findings = (change: Partial<SweepCheckInput>) =>
    sweepFindings({ ...base, ...change }).map((f) => `${f.warning ? "warn " : ""}${f.property}`);

  it("accepts the seed documents' sweep @unit", () => {
    expect(sweepFindings(base)).to.deep.equal([]);
  });

  it("refuses, naming the property, everything Azure refuses @unit", () => {
    expect(findings({ command: "python t.py --x ${{search_space.x}}" })).to.include.members([
      "trial.command",
      "warn searchSpace.lr",
      "warn searchSpace.boosting",
    ]);
    expect(findings({ sampling: { type: "grid" } })).to.deep.equal(["searchSpace.lr"]);
    expect(
      findings({
        sampling: { type: "bayesian" },
        earlyTermination: { type: "medianStopping" },
      }),
    ).to.deep.equal(["earlyTermination"]);
    expect(
      findings({
        sampling: { type: "bayesian" },
        searchSpace: { lr: s.normal(0, 1), boosting: s.choice("a") },
      }),
    ).to.deep.equal(["searchSpace.lr"]);
    expect(findings({ searchSpace: { lr: s.uniform(2, 1), boosting: s.choice() } })).to.deep.equal([
      "searchSpace.lr",
      "searchSpace.boosting",
    ]);
    expect(
      findings({ searchSpace: { lr: s.quniform(0, 1, 0), boosting: s.qnormal(0, 1, -1) } }),
    ).to.deep.equal(["searchSpace.lr", "searchSpace.boosting"]);
    expect(
      findings({ earlyTermination: { type: "bandit", slackFactor: 0.1, slackAmount: 0.2 } }),
    ).to.deep.equal(["earlyTermination.slackFactor"]);
    expect(
      findings({ limits: { maxTotalTrials: 0, timeout: "30 minutes", trialTimeout: "PT" } }),
    ).to.deep.equal(["limits.maxTotalTrials", "limits.timeout", "limits.trialTimeout"]);
    expect(
      findings({ earlyTermination: { type: "truncationSelection", truncationPercentage: 100 } }),
    ).to.deep.equal(["earlyTermination.truncationPercentage"]);
  });
});

describe("emulator sweep rules @unit", () => {
  const sweep = {
    jobType: "Sweep",
    objective: { primaryMetric: "score", goal: "Maximize" },
    samplingAlgorithm: { samplingAlgorithmType: "Random" },
    searchSpace: { lr: ["uniform", [0, 1]], kind: ["choice", [["a", "b"]]] },
    trial: {
      command: "python t.py --lr ${{search_space.lr}} --k ${{search_space.kind}} --d ${{inputs.d}}",
      environmentId: "env",
    },
    inputs: { d: { jobInputType: "literal", value: "7" } },
    outputs: { model: { jobOutputType: "mlflow_model", uri: "azureml://x/sweep/model/" } },
    limits: { jobLimitsType: "Sweep", maxTotalTrials: 4, trialTimeout: "PT1M" },
  };

  it("plans a sweep: limits, defaults, concurrency bounded by the total @unit", () => {
    const plan = planSweep(sweep);
    expect(plan).to.include({ primaryMetric: "score", goal: "Maximize", maxTotalTrials: 4 });
    expect(plan.maxConcurrentTrials).to.equal(4);
    expect(plan.earlyTermination).to.equal(undefined);
  });

  it("turns a trial into a command job with its values, the sweep's inputs and its own outputs @unit", () => {
    const props = trialProperties("sw", sweep, 2, { lr: 0.5, kind: "b" });
    expect(props.command).to.equal("python t.py --lr 0.5 --k b --d ${{inputs.d}}");
    expect(props.displayName).to.equal("sw_2");
    expect(props.outputs).to.deep.equal({ model: { jobOutputType: "mlflow_model" } });
    expect(props.limits).to.deep.equal({ jobLimitsType: "Command", timeout: "PT1M" });
    expect(props.properties).to.deep.equal({ hyperparameters: '{"lr":0.5,"kind":"b"}' });
    expect(
      substituteSearchSpace("${{ search_space.kind }} ${{search_space.x}}", { kind: [1] }),
    ).to.equal("[1] ${{search_space.x}}");
  });

  it("refuses what Azure refuses, naming the property @unit", () => {
    const refused = (change: Record<string, unknown>) => {
      try {
        planSweep({ ...sweep, ...change });
      } catch (error) {
        return (error as { target?: string }).target;
      }
      return undefined;
    };
    expect(refused({ samplingAlgorithm: { samplingAlgorithmType: "Grid" } })).to.equal(
      "properties.searchSpace.lr",
    );
    expect(
      refused({
        samplingAlgorithm: { samplingAlgorithmType: "Bayesian" },
        earlyTermination: { policyType: "Bandit", slackFactor: 0.1 },
      }),
    ).to.equal("properties.earlyTermination");
    expect(
      refused({ searchSpace: { lr: ["uniform", [0, 1, 2]], kind: ["choice", [["a"]]] } }),
    ).to.equal("properties.searchSpace.lr");
    expect(
      refused({ earlyTermination: { policyType: "Bandit", slackFactor: 1, slackAmount: 1 } }),
    ).to.equal("properties.earlyTermination.slackFactor");
    expect(refused({ limits: { maxConcurrentTrials: 0 } })).to.equal(
      "properties.limits.maxConcurrentTrials",
    );
  });
});

describe("emulator early termination policies @unit", () => {
  const policy = (p: Partial<EarlyTermination> & { policyType: string }): EarlyTermination =>
    ({
      interval: 1,
      delay: 0,
      slackFactor: 0,
      slackAmount: 0,
      truncationPercentage: 0,
      ...p,
    }) as unknown as EarlyTermination;
  const run = (p: EarlyTermination, goal: "Maximize" | "Minimize", curves: TrialCurve[]) =>
    trialsToTerminate(p, goal, curves);

  const curves: TrialCurve[] = [
    { name: "best", running: false, values: [0.5, 0.7, 0.9] },
    { name: "close", running: true, values: [0.45, 0.65, 0.85] },
    { name: "far", running: true, values: [0.2, 0.3, 0.4] },
  ];

  it("Bandit by slack factor and by slack amount, for both goals @unit", () => {
    expect(
      run(policy({ policyType: "Bandit", slackFactor: 0.2 }), "Maximize", curves),
    ).to.deep.equal(["far"]);
    expect(
      run(policy({ policyType: "Bandit", slackAmount: 0.02 }), "Maximize", curves),
    ).to.deep.equal(["close", "far"]);
    const losses: TrialCurve[] = [
      { name: "best", running: false, values: [1.0, 0.5] },
      { name: "worse", running: true, values: [1.05, 0.7] },
    ];
    expect(
      run(policy({ policyType: "Bandit", slackFactor: 0.1 }), "Minimize", losses),
    ).to.deep.equal(["worse"]);
    expect(
      run(policy({ policyType: "Bandit", slackFactor: 0.5 }), "Minimize", losses),
    ).to.deep.equal([]);
  });

  it("evaluation interval and delay decide which intervals count @unit", () => {
    // "far" is outside the slack at every interval; with delay 3 it is judged at interval 3 only
    // once it has reached it, with interval 2 (and delay 3) at no interval up to 3.
    const p = policy({ policyType: "Bandit", slackFactor: 0.2, delay: 3 });
    const early = curves.map((c) => ({ ...c, values: c.values.slice(0, 2) }));
    expect(trialsToTerminate(p, "Maximize", early)).to.deep.equal([]);
    expect(trialsToTerminate({ ...p, interval: 2 }, "Maximize", curves)).to.deep.equal([]);
    expect(trialsToTerminate(p, "Maximize", curves)).to.deep.equal(["far"]);
    // Judged again when a better trial reaches the interval later.
    const alone = [curves[1], { ...curves[2], values: [0.2, 0.3, 0.8] }];
    expect(trialsToTerminate(p, "Maximize", alone)).to.deep.equal([]);
    expect(
      trialsToTerminate(p, "Maximize", [...alone, { ...curves[0], values: [0.5, 0.7, 0.9] }]),
    ).to.deep.equal([]);
    expect(
      trialsToTerminate(p, "Maximize", [...alone, { ...curves[0], values: [0.5, 0.7, 1.2] }]),
    ).to.deep.equal(["close", "far"]);
  });

  it("MedianStopping stops a trial whose best is worse than the median of running averages @unit", () => {
    const p = policy({ policyType: "MedianStopping" });
    expect(run(p, "Maximize", curves)).to.deep.equal(["far"]);
    const losses: TrialCurve[] = [
      { name: "a", running: false, values: [1, 1] },
      { name: "b", running: true, values: [0.9, 0.9] },
      { name: "c", running: true, values: [3, 2] },
    ];
    expect(run(p, "Minimize", losses)).to.deep.equal(["c"]);
    expect(run(p, "Minimize", curves)).to.deep.equal([]);
    // A constant curve equal to the median's trial is not stopped by the rounding of averages.
    const flat: TrialCurve[] = [
      { name: "low", running: false, values: Array(7).fill(0.1) },
      { name: "one", running: true, values: Array(7).fill(0.9) },
      { name: "two", running: true, values: Array(7).fill(0.9) },
    ];
    expect(run(p, "Maximize", flat)).to.deep.equal([]);
  });

  it("TruncationSelection cuts the lowest percentage at each interval, none when too few @unit", () => {
    expect(
      run(
        policy({ policyType: "TruncationSelection", truncationPercentage: 34 }),
        "Maximize",
        curves,
      ),
    ).to.deep.equal(["far"]);
    expect(
      run(
        policy({ policyType: "TruncationSelection", truncationPercentage: 30 }),
        "Maximize",
        curves,
      ),
    ).to.deep.equal([]);
    expect(
      run(
        policy({ policyType: "TruncationSelection", truncationPercentage: 67 }),
        "Maximize",
        curves,
      ),
    ).to.deep.equal(["close", "far"]);
  });
});
