/**
 * examples/assets as a user runs it: preview, up, an up that must change nothing, then an edit that
 * must plan exactly the expected step, and destroy — through the real Pulumi engine, with the
 * providers loaded from the packed package, against the emulator.
 */
import { expect } from "chai";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { changes, stepSummary, UNKNOWN_VALUE } from "../../tools/stack";
import { getEmulator } from "../support/emulator";
import { useExampleStacks } from "../support/exampleStack";
import { findRepoRoot } from "../support/userProject";

describe("examples/assets through the Pulumi engine @engine", function () {
  const examples = useExampleStacks(this);

  // One scenario, like a multi-step integration test: each step needs the state the previous left,
  // so the steps stay together (a --grep can never run one alone on the wrong state).
  it("previews, deploys, changes nothing on a second up, replaces only edited code, and destroys @engine", async () => {
    const repoRoot = findRepoRoot();
    const { info } = getEmulator();
    const stack = await examples.stack("assets");
    // Code versions are reused by content hash: make this run's code its own.
    await fs.writeFile(
      path.join(stack.dir, "src", "run-id.txt"),
      `${Date.now()}-${Math.random()}\n`,
    );

    // preview: four creates, with the code's content facts already known
    const planned = await stack.preview();
    expect(stepSummary(planned.steps)).to.have.members([
      "create iris-env",
      "create iris-data",
      "create iris-train-src",
      "create iris-baseline",
    ]);
    expect(planned.outputs.codeFiles).to.equal(3);
    expect(planned.outputs.code).to.equal(UNKNOWN_VALUE);

    // up
    const deployed = await stack.up();
    expect(deployed.outputs.code).to.match(/^azureml:iris-train-src:[0-9a-f]{16}$/);
    expect(deployed.outputs.model).to.match(/^azureml:iris-baseline:\d+$/);
    // Stack state holds no machine path, token or identity secret.
    const state = await stack.exportState();
    for (const forbidden of [stack.dir, repoRoot, os.tmpdir(), info.token, info.identityHeader]) {
      expect(state).not.to.contain(forbidden);
    }

    // a second up: no step, no write
    const mark = getEmulator().requests.mark();
    const again = await stack.up();
    expect(changes(again.steps)).to.deep.equal([]);
    const writes = getEmulator()
      .requests.since(mark)
      .filter((r) => r.method !== "GET" && r.plane !== "identity");
    expect(writes).to.deep.equal([]);

    // an edited training script replaces only the code version, with a new version
    await fs.appendFile(path.join(stack.dir, "src", "train.py"), "print('v2')\n");
    const edits = changes((await stack.preview()).steps);
    // Create the new version, then delete the old one (versions are immutable).
    expect(edits.map((s) => `${s.op} ${s.name}`)).to.deep.equal([
      "create-replacement iris-train-src",
      "replace iris-train-src",
      "delete-replaced iris-train-src",
    ]);
    expect(edits[1].keys).to.include("contentHash");
    const edited = await stack.up();
    expect(edited.outputs.code).not.to.equal(deployed.outputs.code);
    expect(edited.outputs.environment).to.equal(deployed.outputs.environment);

    // destroy
    const destroyed = await stack.destroy();
    expect(stepSummary(destroyed.steps)).to.have.members([
      "delete iris-env",
      "delete iris-data",
      "delete iris-train-src",
      "delete iris-baseline",
    ]);
    expect(JSON.parse(await stack.exportState()).deployment.resources ?? []).to.deep.equal([]);
  });
});
