/**
 * examples/batch-score as a user runs it, through the Pulumi engine against the shared emulator
 * (providers loaded from the packed package): up deploys the model, code, environment, endpoint,
 * deployment and default, invokes the endpoint and waits for the scoring; a second up changes
 * nothing and invokes nothing.
 */
import { expect } from "chai";
import { changes } from "../../tools/stack";
import { getEmulator, uniqueName } from "../support/emulator";
import { useExampleStacks } from "../support/exampleStack";

describe("examples/batch-score through the Pulumi engine @engine", function () {
  const examples = useExampleStacks(this);

  it("deploys the model for batch scoring, scores 60 flowers and exports the first predictions, and a second up starts no job @engine", async () => {
    const stack = await examples.stack("batch-score", {
      // Endpoint names are unique per region: one of this run's own.
      "azureml-batch-score:endpointName": uniqueName("iris"),
    });

    const deployed = (await stack.up()).outputs;
    expect(deployed.status).to.equal("Completed");
    expect(deployed.items).to.equal(3);
    const rows = deployed.firstPredictions as string[];
    expect(rows).to.have.length(5);
    for (const row of rows) {
      expect(row).to.match(/^iris-\d\.csv \d+ (setosa|versicolor|virginica) 0\.\d+$/);
    }
    expect(String(deployed.predictionsUri)).to.match(/\/predictions\.csv$/);
    process.stderr.write(`examples/batch-score: ${rows.join(" | ")}\n`);

    // A second up changes nothing and invokes nothing.
    const mark = getEmulator().requests.mark();
    expect(changes((await stack.up()).steps)).to.deep.equal([]);
    const invocations = getEmulator()
      .requests.since(mark)
      .filter((r) => r.method === "POST" && r.path.startsWith("/inference/"));
    expect(invocations).to.deep.equal([]);
  });
});
