/**
 * examples/sweep for real, through the Pulumi engine: the seed's sweep over the iris LightGBM
 * training runs in the emulator (Optuna samples, each trial a command job in the uv-built LightGBM
 * environment logging to the real MLflow server), with the providers loaded from the packed
 * package. It needs an emulator with MLflow, so it starts its own.
 */
import { expect } from "chai";
import { changes, UNKNOWN_VALUE } from "../../tools/stack";
import { useExampleStacks } from "../support/exampleStack";

describe("examples/sweep through the Pulumi engine @engine", function () {
  const examples = useExampleStacks(this, { mlflow: true });
  // Cold: the MLflow server starts and the LightGBM environment is built.
  this.timeout(1_800_000);

  it("previews unknown results sending no job request, sweeps 4 trials, exports the best hyperparameters and metric, registers the best model, and a second up runs nothing @engine", async () => {
    const stack = await examples.stack("sweep");
    const emulator = examples.emulator();

    // preview: the sweep's results are unknown, and no job is touched.
    const previewMark = emulator.requests.mark();
    const planned = await stack.preview();
    expect(planned.outputs.bestHyperparameters).to.equal(UNKNOWN_VALUE);
    expect(planned.outputs.bestLogLoss).to.equal(UNKNOWN_VALUE);
    expect(
      emulator.requests.since(previewMark).filter((r) => r.path.includes("/jobs")),
    ).to.deep.equal([]);

    const started = Date.now();
    const deployed = (await stack.up()).outputs;
    const seconds = Math.round((Date.now() - started) / 1000);
    expect(deployed.sweepStatus).to.equal("Completed");
    expect(deployed.trialCounts).to.deep.include({ total: 4, running: 0 });
    const best = deployed.bestHyperparameters as Record<string, unknown>;
    expect(best.learning_rate).to.be.a("number").within(0.01, 0.9);
    expect(best.boosting).to.be.oneOf(["gbdt", "dart"]);
    expect(deployed.bestLogLoss).to.be.a("number").above(0);
    expect(String(deployed.bestTrial)).to.match(new RegExp(`^${String(deployed.sweepName)}_\\d$`));
    expect(deployed.model).to.equal("azureml:lightgbm-iris-best:1");
    process.stderr.write(
      `examples/sweep: ${String(deployed.sweepName)} in ${seconds} s, trials ${JSON.stringify(deployed.trialCounts)}; ` +
        `best ${String(deployed.bestTrial)}: test-multi_logloss ${String(deployed.bestLogLoss)}, ` +
        `accuracy ${String(deployed.bestAccuracy)}, hyperparameters ${JSON.stringify(best)}\n`,
    );

    // The model registered from the best trial's mlflow_model output points at that trial.
    const state = JSON.parse(await stack.exportState());
    const model = (state.deployment.resources as any[]).find((r) =>
      r.type.endsWith("ModelVersion"),
    );
    expect(model?.outputs.modelUri).to.equal(
      `azureml://jobs/${String(deployed.bestTrial)}/outputs/model`,
    );

    // A second up changes nothing and submits no job.
    const mark = emulator.requests.mark();
    expect(changes((await stack.up()).steps)).to.deep.equal([]);
    const puts = emulator.requests
      .since(mark)
      .filter((r) => r.method === "PUT" && r.path.includes("/jobs/"));
    expect(puts).to.deep.equal([]);

    await stack.destroy();
    expect(JSON.parse(await stack.exportState()).deployment.resources ?? []).to.deep.equal([]);
  });
});
