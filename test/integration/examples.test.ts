/**
 * examples/assets as a user runs it: preview, up, an up that must change nothing, then edits that
 * must plan exactly the expected steps, and destroy — through the program runner with the real
 * serialized providers against the emulator.
 */
import { expect } from "chai";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { resolveExample } from "../../examples/runner";
import { getEmulator } from "../support/emulator";
import {
  createProgramRunner,
  changedOperations,
  type ProgramRunner,
} from "../support/programRunner";
import { findRepoRoot } from "../support/userProject";

type Program = () => Promise<Record<string, unknown> | void>;

describe("examples/assets through the program runner", function () {
  this.timeout(120_000);
  let projectDir: string;
  let runner: ProgramRunner;
  let program: Program;

  before(() => {
    const repoRoot = findRepoRoot();
    const example = resolveExample(path.join(repoRoot, "examples", "assets"), repoRoot);
    program = (require(example.modulePath) as { default: Program }).default;
    // A private copy of the project, so edits never touch the repository.
    projectDir = path.join(mkdtempSync(path.join(os.tmpdir(), "assets-")), "assets");
    cpSync(example.projectDir, projectDir, { recursive: true });
    writeFileSync(path.join(projectDir, "src", "run-id.txt"), `${Date.now()}-${Math.random()}\n`);
    const { info } = getEmulator();
    runner = createProgramRunner({
      project: example.project,
      stack: "it",
      hostDir: repoRoot,
      workDir: projectDir,
      config: {
        "azureml:armEndpoint": info.armEndpoint,
        "azureml:subscriptionId": info.subscriptionId,
        "azureml:caCertPath": info.caCertPath,
        "azureml-assets:resourceGroupName": info.resourceGroupName,
        "azureml-assets:workspaceName": info.workspaceName,
      },
    });
  });

  after(() => rmSync(path.dirname(projectDir), { recursive: true, force: true }));

  // One scenario, like a multi-step integration test: each step needs the state the previous left,
  // so the steps stay together (a --grep can never run one alone on the wrong state).
  it("previews, deploys, changes nothing on a second up, replaces only edited code, and destroys @emulator", async () => {
    // preview: four creates, with the code's content facts already known
    const planned = await runner.preview(program);
    expect(runner.operations.map((o) => `${o.op} ${o.name}`)).to.have.members([
      "create iris-env",
      "create iris-data",
      "create iris-train-src",
      "create iris-baseline",
    ]);
    expect(planned.codeFiles).to.equal(3);
    expect(planned.code).to.equal("<unknown>");

    // up
    const deployed = await runner.up(program);
    expect(deployed.code).to.match(/^azureml:iris-train-src:[0-9a-f]{16}$/);
    expect(deployed.model).to.equal("azureml:iris-baseline:1");
    // Stack state holds no machine path, token or identity secret.
    const state = JSON.stringify([...runner.state.values()].map((e) => [e.inputs, e.outputs]));
    const { info } = getEmulator();
    for (const forbidden of [
      projectDir,
      findRepoRoot(),
      os.tmpdir(),
      info.token,
      info.identityHeader,
    ]) {
      expect(state).not.to.contain(forbidden);
    }

    // a second up: no step, no write
    const mark = getEmulator().requests.mark();
    await runner.up(program);
    expect(changedOperations(runner.operations)).to.deep.equal([]);
    const writes = getEmulator()
      .requests.since(mark)
      .filter((r) => r.method !== "GET" && r.plane !== "identity");
    expect(writes).to.deep.equal([]);

    // an edited training script replaces only the code version, with a new version
    writeFileSync(path.join(projectDir, "src", "train.py"), "print('v2')\n", { flag: "a" });
    await runner.preview(program);
    const edits = changedOperations(runner.operations);
    expect(edits.map((o) => `${o.op} ${o.name}`)).to.deep.equal(["replace iris-train-src"]);
    expect(edits[0].replaces).to.include("contentHash");
    const edited = await runner.up(program);
    expect(edited.code).not.to.equal(deployed.code);
    expect(edited.environment).to.equal(deployed.environment);

    // destroy
    await runner.destroy();
    expect(runner.operations.filter((o) => o.op === "delete")).to.have.length(4);
    expect(runner.state.size).to.equal(0);
  });
});
