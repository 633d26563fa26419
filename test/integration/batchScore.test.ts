/**
 * examples/batch-score as a user runs it, through the Pulumi engine against the shared emulator
 * (providers loaded from the packed package): up deploys the model, code, environment, endpoint,
 * deployment and default, invokes the endpoint and waits for the scoring; a second up changes
 * nothing and invokes nothing.
 */
import { expect } from "chai";
import * as path from "node:path";
import { loadProgram, resolveExample } from "../../examples/runner";
import { changes, type EngineStack } from "../../tools/stack";
import { getEmulator, uniqueName } from "../support/emulator";
import { emulatorStack, useEngine } from "../support/engine";
import { findRepoRoot } from "../support/userProject";

describe("examples/batch-score through the Pulumi engine @engine", function () {
  const engine = useEngine(this);
  let stack: EngineStack | undefined;
  after(async () => {
    await stack?.close();
  });

  it("deploys the model for batch scoring, scores 60 flowers and exports the first predictions, and a second up starts no job @engine", async () => {
    const repoRoot = findRepoRoot();
    const example = resolveExample(path.join(repoRoot, "examples", "batch-score"), repoRoot);
    const { info } = getEmulator();
    stack = await emulatorStack(engine(), example.project, loadProgram(example.modulePath), {
      files: [example.projectDir],
      config: {
        [`${example.project}:resourceGroupName`]: info.resourceGroupName,
        [`${example.project}:workspaceName`]: info.workspaceName,
        // Endpoint names are unique per region: one of this run's own.
        [`${example.project}:endpointName`]: uniqueName("iris"),
      },
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
