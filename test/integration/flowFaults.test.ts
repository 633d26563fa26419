/**
 * examples/flow through the Pulumi engine with about a fifth of the emulator's answers faulted:
 * 429 with Retry-After, 500 and 503, connections dropped before and after the request was served
 * (ARM, blob and the batch endpoint's data plane), and long-running operations that end Failed.
 * What a user sees must be what a clean run shows (test/integration/flow.test.ts), with no job run
 * twice and nothing in the workspace that the stack does not know about.
 *
 * The faults are drawn from PRNGs seeded from one number, printed with the counts by kind;
 * `AZUREML_FAULT_SEED=<n>` runs another seed. The order of requests varies a little between runs
 * (jobs run for real), so a seed reproduces the same draws, not always the same faulted requests.
 */
import { expect } from "chai";
import { expectCleanFlowOutputs } from "../support/flowOutputs";
import type { RunningEmulator } from "../../emulator/index";
import type { FaultRequest, FaultRule } from "../../emulator/faults";
import type { RunResult } from "../../tools/stack";
import { armList as listOn, useExampleStacks } from "../support/exampleStack";

/** The seed the rules' PRNGs derive from; each rule gets `seed + its index`. */
const SEED = Number(process.env.AZUREML_FAULT_SEED ?? 20261207);

/** Each plane's rules, about 20% of its requests together (1 - 0.955^5 on arm and data). */
function faultRules(seed: number): FaultRule[] {
  const transport = (plane: "arm" | "data", rate: number): FaultRule[] => [
    { plane, kind: "status", status: 429, retryAfter: "1", rate },
    { plane, kind: "status", status: 500, rate },
    { plane, kind: "status", status: 503, rate },
    { plane, kind: "drop", rate },
    { plane, kind: "drop", afterServing: true, rate },
  ];
  const rules: FaultRule[] = [
    // Whatever the draws, the riskiest faults happen once each: the training job's PUT and the
    // scoring invocation served but their answers lost, and the deployment's create failing.
    { kind: "drop", afterServing: true, method: "PUT", path: "/\\/jobs\\/iris-train-[^/]+$/" },
    { plane: "data", kind: "drop", afterServing: true, method: "POST" },
    { kind: "lroFail", method: "PUT", path: "/deployments/" },
    ...transport("arm", 0.045),
    ...transport("data", 0.045),
    // The storage client retries 500, 503 and network errors (not a 429).
    { plane: "blob", kind: "status", status: 500, rate: 0.07 },
    { plane: "blob", kind: "status", status: 503, rate: 0.07 },
    { plane: "blob", kind: "drop", rate: 0.07 },
    // One long-running operation in five ends Failed.
    { kind: "lroFail", rate: 0.2 },
  ];
  return rules.map((rule, index) => ({ ...rule, seed: seed + index }));
}

/** "<plane> <kind>", e.g. "arm 503", "blob drop", "data drop after serving", "lro failed". */
function faultLabel(rule: FaultRule, plane: string): string {
  if (rule.kind === "lroFail") {
    return "lro failed";
  }
  if (rule.kind === "status") {
    return `${plane} ${rule.status}`;
  }
  return `${plane} ${rule.kind}${rule.afterServing === true ? " after serving" : ""}`;
}

/** Counts every fault the controller hands out, by label. */
function countFaults(emulator: RunningEmulator): Map<string, number> {
  const counts = new Map<string, number>();
  const { faults } = emulator;
  const tally = (rule: FaultRule | undefined, request: FaultRequest) => {
    if (rule !== undefined) {
      const label = faultLabel(rule, request.plane);
      counts.set(label, (counts.get(label) ?? 0) + 1);
    }
    return rule;
  };
  const take = faults.take.bind(faults);
  const takeLroFailure = faults.takeLroFailure.bind(faults);
  faults.take = (r) => tally(take(r), r);
  faults.takeLroFailure = (r) => tally(takeLroFailure(r), r);
  return counts;
}

interface StateResource {
  type: string;
  id?: string;
  outputs?: Record<string, any>;
}

describe("examples/flow through the Pulumi engine under faults @engine", function () {
  const examples = useExampleStacks(this, { mlflow: true });
  this.timeout(1_800_000);

  /** Every item of an ARM list under the workspace, archived jobs and assets included. Faults are off. */
  async function armList(relative: string): Promise<any[]> {
    const emulator = examples.emulator();
    // Jobs and the assets that have the parameter are listed with archived ones.
    const view = /^\/(jobs|environments|data|models)\b/.test(relative) ? "?listViewType=All" : "";
    return listOn(emulator, `${emulator.info.workspaceId}${relative}${view}`);
  }

  /** Every asset version in the workspace, as lower-cased ARM ids. */
  async function assetVersionIds(): Promise<string[]> {
    const ids: string[] = [];
    for (const kind of ["codes", "environments", "data", "models"]) {
      for (const container of await armList(`/${kind}`)) {
        for (const version of await armList(`/${kind}/${container.name}/versions`)) {
          ids.push(String(version.id).toLowerCase());
        }
      }
    }
    return ids.sort();
  }

  const TERMINAL = ["Completed", "Failed", "Canceled", "NotResponding", "Paused"];

  it("under about 20% faults gives a clean run's outputs, runs each job once and leaves nothing the stack does not know; destroy leaves no endpoint and no running job @engine", async () => {
    const emulator = examples.emulator();
    const stack = await examples.stack("flow", {
      // A user on a flaky link retries more, and sooner (a Retry-After still wins).
      "azureml:maxRetries": "6",
      "azureml:retryDelayInMs": "100",
      "azureml:maxRetryDelayInMs": "2000",
    });

    const counts = countFaults(emulator);
    for (const rule of faultRules(SEED)) {
      emulator.faults.add(rule);
    }
    const mark = emulator.requests.mark();
    let up: RunResult;
    try {
      up = await stack.up();
    } finally {
      emulator.faults.clear();
      const requests = emulator.requests.since(mark).filter((r) => r.plane !== "identity");
      const faulted = [...counts.values()].reduce((a, b) => a + b, 0);
      process.stderr.write(
        `flow under faults: seed ${SEED}; ${faulted} faults in ${requests.length} requests: ` +
          `${JSON.stringify(Object.fromEntries([...counts].sort()))}\n`,
      );
    }

    // The outputs a clean run gives.
    const deployed = up.outputs;
    expectCleanFlowOutputs(deployed);

    // Each job ran once: one training job, one sweep and its two trials, one scoring invocation
    // (a pipeline job and the command job it runs), every one of them ended.
    const state = JSON.parse(await stack.exportState());
    const resources = state.deployment.resources as StateResource[];
    const ofType = (suffix: string) => resources.filter((r) => r.type.endsWith(`:${suffix}`));
    const [training] = ofType("CommandJob");
    const [sweep] = ofType("SweepJob");
    const [scoring] = ofType("BatchScoringJob");
    const trainingName = String(training.outputs!.name);
    const sweepName = String(sweep.outputs!.name);
    const scoringName = String(scoring.outputs!.jobName);
    const jobs = await armList("/jobs");
    const names = jobs.map((j) => String(j.name));
    const trials = names.filter((n) => n.startsWith(`${sweepName}_`));
    expect(trials, "the sweep's trials").to.have.length(2);
    expect(names.filter((n) => !trials.includes(n)).sort()).to.deep.equal(
      [trainingName, sweepName, scoringName, `${scoringName}-scoring`].sort(),
    );
    for (const job of jobs) {
      expect(TERMINAL, `job ${String(job.name)} ended`).to.include(job.properties.status);
    }
    expect(trainingName, "the training job's first name, not a rerun").to.not.match(/-r\d+$/);

    // Every endpoint, deployment and asset version in the workspace is in the stack's state.
    const stateIds = new Set(resources.map((r) => String(r.id ?? "").toLowerCase()));
    const endpoints = await armList("/batchEndpoints");
    expect(endpoints.map((e) => String(e.name))).to.deep.equal(["iris-scorer"]);
    for (const endpoint of endpoints) {
      expect(stateIds, `endpoint ${String(endpoint.id)} in state`).to.include(
        String(endpoint.id).toLowerCase(),
      );
      for (const deployment of await armList(
        `/batchEndpoints/${String(endpoint.name)}/deployments`,
      )) {
        expect(stateIds, `deployment ${String(deployment.id)} in state`).to.include(
          String(deployment.id).toLowerCase(),
        );
      }
    }
    const assets = await assetVersionIds();
    const assetsInState = resources
      .filter((r) => /:(Code|Environment|Data|Model)Version$/.test(r.type))
      .map((r) => String(r.id).toLowerCase())
      .sort();
    expect(assets).to.deep.equal(assetsInState);

    // Destroy (under the same faults) leaves no endpoint and no running job.
    for (const rule of faultRules(SEED + 1000)) {
      emulator.faults.add(rule);
    }
    try {
      await stack.destroy();
    } finally {
      emulator.faults.clear();
    }
    expect(await armList("/batchEndpoints")).to.deep.equal([]);
    for (const job of await armList("/jobs")) {
      expect(TERMINAL, `job ${String(job.name)} after destroy`).to.include(job.properties.status);
    }
  });
});
