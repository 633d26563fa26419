/**
 * SweepJob through the real Pulumi engine, against the shared emulator (trials on the machine's
 * python3, metrics through the test metric files): preview shows the sweep's results as unknown
 * and sends no job request, up runs it and exports the best trial, an unchanged program submits
 * nothing, and destroy archives the sweep.
 */
import { expect } from "chai";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { EnvironmentVersion, searchSpace, SweepJob } from "../../index";
import { changes, UNKNOWN_VALUE, type EngineStack } from "../../tools/stack";
import { armGet } from "../support/arm";
import { getEmulator, uniqueName } from "../support/emulator";
import { emulatorStack, useEngine, workspaceArgs } from "../support/engine";
import { LOG_METRIC_PY, testMetricsDir } from "../support/sweepMetrics";

const TRIAL_PY = `
import argparse
${LOG_METRIC_PY}
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float)
p.add_argument("--boosting")
args = p.parse_args()
log_metric("loss", abs(args.lr - 0.3) + (0.1 if args.boosting == "dart" else 0))
`;

describe("SweepJob through the Pulumi engine @engine", function () {
  const engine = useEngine(this);
  let stack: EngineStack | undefined;
  let folder: string | undefined;

  after(async () => {
    await stack?.close();
    if (folder) {
      await fs.rm(folder, { recursive: true, force: true });
    }
  });

  it("previews unknown results with no job request, runs the sweep, then changes nothing and archives it on destroy @engine", async () => {
    folder = await fs.mkdtemp(path.join(os.tmpdir(), "engine-sweep-"));
    await fs.mkdir(path.join(folder, "src"));
    await fs.writeFile(path.join(folder, "src", "trial.py"), `# ${uniqueName("run")}\n${TRIAL_PY}`);
    await fs.mkdir(testMetricsDir(), { recursive: true });
    const names = { env: uniqueName("eng-env") };
    const metricsDir = testMetricsDir();
    stack = await emulatorStack(
      engine(),
      "engine-sweep",
      async () => {
        const workspace = workspaceArgs();
        const env = new EnvironmentVersion("env", {
          ...workspace,
          name: names.env,
          image: "python:3.11-slim",
        });
        const sweep = new SweepJob("tune", {
          ...workspace,
          compute: "cpu-cluster",
          objective: { primaryMetric: "loss", goal: "minimize" },
          samplingAlgorithm: { type: "random", seed: 1 },
          searchSpace: {
            lr: searchSpace.uniform(0.01, 0.9),
            boosting: searchSpace.choice("gbdt", "dart"),
          },
          trial: {
            code: "src",
            environment: env,
            command:
              "python trial.py --lr ${{search_space.lr}} --boosting ${{search_space.boosting}}",
            environmentVariables: { SWEEP_METRICS_DIR: metricsDir },
          },
          limits: { maxTotalTrials: 4, maxConcurrentTrials: 2 },
          minPollIntervalInSeconds: 0.5,
          maxPollIntervalInSeconds: 2,
        });
        return {
          name: sweep.name,
          status: sweep.status,
          best: sweep.bestHyperparameters,
          loss: sweep.bestPrimaryMetric,
          trials: sweep.trialCounts,
        };
      },
      { files: [folder] },
    );

    const previewMark = getEmulator().requests.mark();
    const planned = await stack.preview();
    expect(planned.outputs.best).to.equal(UNKNOWN_VALUE);
    expect(planned.outputs.loss).to.equal(UNKNOWN_VALUE);
    expect(
      getEmulator()
        .requests.since(previewMark)
        .filter((r) => r.path.includes("/jobs")),
    ).to.deep.equal([]);

    const deployed = (await stack.up()).outputs;
    expect(deployed.status).to.equal("Completed");
    expect(deployed.trials).to.deep.include({ total: 4, completed: 4 });
    const best = deployed.best as Record<string, unknown>;
    expect(best.lr).to.be.a("number").within(0.01, 0.9);
    expect(best.boosting).to.be.oneOf(["gbdt", "dart"]);
    expect(deployed.loss).to.be.a("number").at.least(0);
    const name = String(deployed.name);

    const mark = getEmulator().requests.mark();
    expect(changes((await stack.up()).steps)).to.deep.equal([]);
    expect(
      getEmulator()
        .requests.since(mark)
        .filter((r) => r.method === "PUT" && r.path.includes("/jobs/")),
    ).to.deep.equal([]);

    await stack.destroy();
    const sweep = await armGet(`${getEmulator().info.workspaceId}/jobs/${name}`);
    expect(sweep.properties.isArchived).to.equal(true);
  });
});
