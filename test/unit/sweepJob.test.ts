/**
 * SweepJob without a service: what `check` refuses before any request (naming the property the
 * user must fix), how the sweep's name follows its spec, what `diff` plans, the REST body, and how
 * trials are counted and the failure reads.
 */
import { expect } from "chai";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as lifecycle from "../../provider/lifecycle/sweepJob";
import {
  countTrials,
  isTrialOf,
  searchSpace,
  sweepJobBody,
  typedHyperparameters,
} from "../../provider/operations/sweep";
import type { SweepJobInputs, SweepJobOutputs } from "../../provider/resources/sweepJob";

const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const WS =
  "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws";

/** The seed's sweep: learning rate uniform, boosting a choice, minimizing the test log loss. */
function sweep(overrides: Partial<SweepJobInputs> = {}): SweepJobInputs {
  return {
    workspaceId: WS,
    resourceName: "tune",
    objective: { primaryMetric: "test-multi_logloss", goal: "minimize" },
    samplingAlgorithm: { type: "random", seed: 7 },
    searchSpace: {
      learning_rate: searchSpace.uniform(0.01, 0.9),
      boosting: searchSpace.choice("gbdt", "dart"),
    },
    trial: {
      command:
        "python train.py --iris-csv ${{inputs.iris}} --learning-rate ${{search_space.learning_rate}} " +
        "--boosting ${{search_space.boosting}} --model-output ${{outputs.model}}",
      environment: "azureml:lightgbm:1",
      code: "azureml:train-src:1",
      inputs: { iris: { type: "uri_file", path: "azureml:iris:1" } },
      outputs: { model: { type: "mlflow_model" } },
    },
    compute: "cpu-cluster",
    limits: { maxTotalTrials: 4, maxConcurrentTrials: 2 },
    ...overrides,
  };
}

async function checked(inputs: SweepJobInputs) {
  const result = await lifecycle.check({} as SweepJobInputs, inputs);
  return { inputs: result.inputs as SweepJobInputs, failures: result.failures ?? [] };
}

async function propertiesRefused(inputs: SweepJobInputs): Promise<string[]> {
  return (await checked(inputs)).failures.map((f) => f.property);
}

describe("SweepJob check", function () {
  it("accepts the seed's sweep and derives its name from the resource name and the spec hash @unit", async () => {
    const result = await checked(sweep());
    expect(result.failures).to.deep.equal([]);
    expect(result.inputs.specHash).to.match(/^[0-9a-f]{64}$/);
    expect(result.inputs.baseName).to.equal(`tune-${result.inputs.specHash!.slice(0, 16)}`);
    // Another search space is another sweep.
    const other = await checked(
      sweep({
        searchSpace: {
          learning_rate: searchSpace.uniform(0.01, 0.5),
          boosting: searchSpace.choice("gbdt", "dart"),
        },
      }),
    );
    expect(other.inputs.baseName).not.to.equal(result.inputs.baseName);
  });

  it("refuses ${{search_space.x}} when the search space has no x, naming [trial.command] @unit", async () => {
    const failures = (
      await checked(
        sweep({
          trial: {
            ...sweep().trial,
            command:
              "python train.py --lr ${{search_space.learning_rate}} --boosting ${{search_space.boosting}} --depth ${{search_space.depth}}",
          },
        }),
      )
    ).failures;
    expect(failures.map((f) => f.property)).to.deep.equal(["trial.command"]);
    expect(failures[0].reason).to.contain("search_space.depth");
  });

  it("accepts a parameter the command never uses (a warning, not a refusal) @unit", async () => {
    const failures = await propertiesRefused(
      sweep({
        searchSpace: {
          ...sweep().searchSpace,
          num_leaves: searchSpace.randint(64),
        },
      }),
    );
    expect(failures).to.deep.equal([]);
  });

  it("refuses grid sampling over a continuous distribution, naming the parameter @unit", async () => {
    expect(await propertiesRefused(sweep({ samplingAlgorithm: { type: "grid" } }))).to.deep.equal([
      "searchSpace.learning_rate",
    ]);
  });

  it("refuses Bayesian sampling with an early termination policy, naming [earlyTermination] @unit", async () => {
    expect(
      await propertiesRefused(
        sweep({
          samplingAlgorithm: { type: "bayesian" },
          earlyTermination: { type: "bandit", slackFactor: 0.1 },
        }),
      ),
    ).to.deep.equal(["earlyTermination"]);
  });

  it("refuses a bound or arity Azure would refuse: min above max, a non-positive q, no choice @unit", async () => {
    const failures = (
      await checked(
        sweep({
          searchSpace: {
            learning_rate: searchSpace.uniform(0.9, 0.01),
            boosting: searchSpace.choice(),
            rounds: searchSpace.quniform(10, 100, 0),
          },
          trial: {
            ...sweep().trial,
            command:
              "python train.py ${{search_space.learning_rate}} ${{search_space.boosting}} ${{search_space.rounds}}",
          },
        }),
      )
    ).failures;
    expect(failures.map((f) => f.property)).to.have.members([
      "searchSpace.learning_rate",
      "searchSpace.boosting",
      "searchSpace.rounds",
    ]);
    expect(failures.find((f) => f.property === "searchSpace.learning_rate")!.reason).to.contain(
      "min (0.9) above its max (0.01)",
    );
    expect(failures.find((f) => f.property === "searchSpace.rounds")!.reason).to.contain(
      "positive q",
    );
  });

  it("refuses both a slack factor and a slack amount on a bandit policy @unit", async () => {
    expect(
      await propertiesRefused(
        sweep({ earlyTermination: { type: "bandit", slackFactor: 0.1, slackAmount: 0.2 } }),
      ),
    ).to.deep.equal(["earlyTermination.slackFactor"]);
  });

  it("refuses a bad sampling rule, goal, limit and policy type, each by name @unit", async () => {
    const refused = await propertiesRefused(
      sweep({
        samplingAlgorithm: { type: "random", rule: "Halton" as "Sobol" },
        objective: { primaryMetric: "loss", goal: "lower" as "minimize" },
        limits: { maxTotalTrials: 0, timeout: "1 hour" },
        earlyTermination: { type: "hyperband" } as never,
      }),
    );
    expect(refused).to.have.members([
      "samplingAlgorithm.rule",
      "objective.goal",
      "limits.maxTotalTrials",
      "limits.timeout",
      "earlyTermination.type",
    ]);
  });

  it("checks the trial as a CommandJob's spec, naming trial.* properties @unit", async () => {
    const refused = await propertiesRefused(
      sweep({
        trial: {
          command:
            "python train.py ${{search_space.learning_rate}} ${{search_space.boosting}} ${{inputs.data}}",
          environment: "lightgbm",
          inputs: { iris: { type: "uri_file", path: "data/iris.csv" } },
          distribution: { type: "Horovod" },
          timeout: "PT1H",
        } as never,
      }),
    );
    expect(refused).to.have.members([
      "trial.timeout",
      "trial.environment",
      "trial.inputs.iris.path",
      "trial.command",
      "trial.distribution.type",
    ]);
  });

  it("requires the objective, the sampling algorithm, the search space and the trial @unit", async () => {
    const refused = await propertiesRefused({
      workspaceId: WS,
      resourceName: "empty",
    } as SweepJobInputs);
    expect(refused).to.include.members(["objective", "samplingAlgorithm", "searchSpace", "trial"]);
  });

  it("leaves what preview does not know yet for the update, refusing nothing @unit", async () => {
    const result = await checked(
      sweep({ trial: { ...sweep().trial, environment: UNKNOWN, code: UNKNOWN } }),
    );
    expect(result.failures).to.deep.equal([]);
    expect(result.inputs.specHash).to.equal(UNKNOWN);
  });
});

describe("SweepJob diff", function () {
  it("replaces the sweep when its search space changes, and updates tags in place @unit", async () => {
    const old = (await checked(sweep())).inputs;
    const olds = { ...old, name: old.baseName } as unknown as SweepJobOutputs;
    const changedSpace = (
      await checked(
        sweep({
          searchSpace: {
            learning_rate: searchSpace.uniform(0.05, 0.9),
            boosting: searchSpace.choice("gbdt", "dart"),
          },
        }),
      )
    ).inputs;
    const replaced = await lifecycle.diff("id", olds, changedSpace);
    expect(replaced.replaces).to.deep.equal(["searchSpace"]);
    const retagged = (await checked(sweep({ tags: { stage: "dev" } }))).inputs;
    expect(await lifecycle.diff("id", olds, retagged)).to.deep.equal({
      changes: true,
      replaces: [],
    });
    expect(await lifecycle.diff("id", olds, old)).to.deep.equal({ changes: false, replaces: [] });
  });
});

describe("SweepJob diff and update, shared with CommandJob", function () {
  async function olds(inputs: SweepJobInputs): Promise<SweepJobOutputs> {
    const old = (await checked(inputs)).inputs;
    return { ...old, name: old.baseName } as unknown as SweepJobOutputs;
  }

  it("wait and delete options and the provider's own code change no sweep; an explicit new name replaces it @unit", async () => {
    const before = await olds(sweep());
    for (const change of [
      { waitForCompletion: false },
      { waitTimeoutInSeconds: 600 },
      { maxPollIntervalInSeconds: 10 },
      { failOnJobFailure: false },
      { onDelete: "retain" as const },
    ]) {
      const news = (await checked(sweep(change))).inputs;
      expect(await lifecycle.diff("id", before, news), JSON.stringify(change)).to.deep.equal({
        changes: true,
        replaces: [],
      });
    }
    const same = (await checked(sweep())).inputs;
    expect(
      await lifecycle.diff(
        "id",
        { ...before, __provider: "old code" } as never,
        {
          ...same,
          __provider: "new code",
        } as never,
      ),
    ).to.deep.equal({ changes: false, replaces: [] });
    const renamed = (await checked(sweep({ name: "tune-again" }))).inputs;
    expect((await lifecycle.diff("id", before, renamed)).replaces).to.deep.equal(["name"]);
  });

  it("a trial's local code compares by content: a moved copy keeps the sweep, an edit replaces it @unit", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "sweep-code-"));
    try {
      const a = path.join(dir, "a");
      cpSync("test/fixtures/code-hash-vectors/src", a, { recursive: true });
      const b = path.join(dir, "b");
      cpSync(a, b, { recursive: true });
      const withCode = (code: string) => sweep({ trial: { ...sweep().trial, code } });
      const before = await olds(withCode(a));
      const moved = (await checked(withCode(b))).inputs;
      expect(moved.specHash).to.equal(before.specHash);
      expect(await lifecycle.diff("id", before, moved)).to.deep.equal({
        changes: true,
        replaces: [],
      });
      writeFileSync(path.join(b, "extra.py"), "print(1)\n");
      const edited = (await checked(withCode(b))).inputs;
      expect(await lifecycle.diff("id", before, edited)).to.deep.equal({
        changes: true,
        replaces: ["trial"],
        deleteBeforeReplace: false,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("an update of wait options alone sends nothing and keeps the sweep's results @unit", async () => {
    const before = {
      ...(await olds(sweep())),
      jobId: `${WS}/jobs/tune-1`,
      status: "Completed",
      bestTrialName: "tune-1_0",
      bestPrimaryMetric: 0.12,
      bestHyperparameters: { learning_rate: 0.3, boosting: "gbdt" },
    } as SweepJobOutputs;
    const news = (await checked(sweep({ waitForCompletion: false }))).inputs;
    // No session is opened: the workspace id names no reachable service.
    const outs = (await lifecycle.update("id", before, news)).outs!;
    expect(outs.waitForCompletion).to.equal(false);
    expect(outs.status).to.equal("Completed");
    expect(outs.bestTrialName).to.equal("tune-1_0");
    expect(outs.bestHyperparameters).to.deep.equal({ learning_rate: 0.3, boosting: "gbdt" });
    expect(outs.name).to.equal(before.name);
  });
});

describe("SweepJob body and trials", function () {
  it("sends the trial component under trial and inputs, outputs and compute on the sweep @unit", () => {
    const body = sweepJobBody({
      trial: {
        command: "python train.py --lr ${{search_space.lr}} --data ${{inputs.iris}}",
        environmentId: `${WS}/environments/lgbm/versions/1`,
        codeId: `${WS}/codes/src/versions/1`,
        computeId: `${WS}/computes/cpu-cluster`,
        inputs: { iris: { type: "uri_file", path: "azureml:iris:1" } },
        outputs: { model: { type: "mlflow_model" } },
        properties: { a: "b" },
      },
      objective: { primaryMetric: "accuracy", goal: "maximize" },
      samplingAlgorithm: { type: "random", rule: "Sobol", seed: 3 },
      searchSpace: { lr: searchSpace.uniform(0.01, 0.9), boosting: searchSpace.choice("gbdt") },
      limits: { maxTotalTrials: 4, maxConcurrentTrials: 2, trialTimeout: "PT10M" },
      earlyTermination: { type: "bandit", slackFactor: 0.2, evaluationInterval: 1 },
    });
    expect(body.properties).to.deep.equal({
      jobType: "Sweep",
      properties: { a: "b" },
      computeId: `${WS}/computes/cpu-cluster`,
      inputs: { iris: { jobInputType: "uri_file", uri: "azureml:iris:1" } },
      outputs: { model: { jobOutputType: "mlflow_model" } },
      objective: { primaryMetric: "accuracy", goal: "Maximize" },
      samplingAlgorithm: { samplingAlgorithmType: "Random", rule: "Sobol", seed: 3 },
      searchSpace: { lr: ["uniform", [0.01, 0.9]], boosting: ["choice", [["gbdt"]]] },
      limits: {
        jobLimitsType: "Sweep",
        maxTotalTrials: 4,
        maxConcurrentTrials: 2,
        trialTimeout: "PT10M",
      },
      earlyTermination: {
        policyType: "Bandit",
        evaluationInterval: 1,
        delayEvaluation: 0,
        slackFactor: 0.2,
      },
      trial: {
        command: "python train.py --lr ${{search_space.lr}} --data ${{inputs.iris}}",
        codeId: `${WS}/codes/src/versions/1`,
        environmentId: `${WS}/environments/lgbm/versions/1`,
        resources: {},
      },
    });
  });

  it("counts a canceled trial as early-terminated only when a policy ran and the sweep was not canceled @unit", () => {
    const statuses = ["Completed", "Failed", "Canceled", "Running", "Queued"];
    expect(countTrials(statuses, { earlyTermination: true, sweepStatus: "Running" })).to.deep.equal(
      { total: 5, running: 2, completed: 1, failed: 1, earlyTerminated: 1, canceled: 0 },
    );
    expect(
      countTrials(statuses, { earlyTermination: true, sweepStatus: "Canceled" }).canceled,
    ).to.equal(1);
    expect(countTrials(statuses, { earlyTermination: false }).earlyTerminated).to.equal(0);
  });

  it("takes only <sweep>_<n> jobs for trials, whatever else a list returns @unit", () => {
    expect(isTrialOf("tune-1", "tune-1_0")).to.equal(true);
    expect(isTrialOf("tune-1", "tune-1_12")).to.equal(true);
    expect(isTrialOf("tune-1", "tune-1_x")).to.equal(false);
    expect(isTrialOf("tune-1", "tune-12_0")).to.equal(false);
    expect(isTrialOf("tune-1", "train-abc")).to.equal(false);
  });

  it("keeps sampled numbers as numbers and strings as strings in the best hyperparameters @unit", () => {
    expect(
      typedHyperparameters({ learning_rate: 0.25, boosting: "dart", nested: [1] }),
    ).to.deep.equal({ learning_rate: 0.25, boosting: "dart", nested: "[1]" });
  });

  it("a failed sweep's error names its trials and shows the failed trial's log @unit", () => {
    const message = lifecycle.sweepFailureMessage(
      "tune-1",
      "Failed",
      "UserError: None of the sweep's 2 trial(s) completed.",
      "https://ml.azure.com/runs/tune-1",
      { total: 2, running: 0, completed: 0, failed: 2, earlyTerminated: 0, canceled: 0 },
      {
        name: "tune-1_1",
        error: "UserError: exit code 1",
        log: ["loading", "KeyError: 'species'"],
      },
    );
    expect(message).to.contain("SweepJob tune-1 ended Failed: UserError: None of the sweep's 2");
    expect(message).to.contain("2 trials: 0 running, 0 completed, 2 failed");
    expect(message).to.contain("tune-1_1: UserError: exit code 1");
    expect(message).to.contain("  | KeyError: 'species'");
  });
});
