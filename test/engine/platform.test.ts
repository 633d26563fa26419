/**
 * Platform team stacks through the Pulumi engine: the platform stack (examples/platform/platform)
 * exports the workspace and a shared environment; a team's stack (examples/platform/team) reads
 * them through a StackReference on the same file backend and trains there, registering no
 * environment of its own. The job runs for real, so this starts an emulator with MLflow.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { loadProgram, resolveExample } from "../../examples/runner";
import { startEmulator, type RunningEmulator } from "../../emulator/index";
import { changes, createEngineStack, stepSummary, type EngineStack } from "../../tools/stack";
import { testCertDir } from "../support/emulator";
import { useEngine } from "../support/engine";
import { findRepoRoot } from "../support/userProject";

describe("platform and team stacks through the Pulumi engine @engine", function () {
  const engine = useEngine(this);
  this.timeout(1_200_000);
  let emulator: RunningEmulator | undefined;
  let backendDir: string | undefined;
  const stacks: EngineStack[] = [];

  before(async () => {
    emulator = await startEmulator({
      certDir: testCertDir(),
      progression: { mode: "polls", polls: 1 },
      retryAfterInSeconds: 0,
    });
    backendDir = await fs.mkdtemp(path.join(os.tmpdir(), "pulumi-azureml-platform-"));
  });
  after(async () => {
    await Promise.all(stacks.map((s) => s.close()));
    await emulator?.close();
    if (backendDir) {
      await fs.rm(backendDir, { recursive: true, force: true });
    }
  });

  it("a team stack trains with the platform stack's workspace and shared environment read through a StackReference @engine", async () => {
    const repoRoot = findRepoRoot();
    const { info } = emulator!;
    const passphrase = randomBytes(16).toString("hex");
    const open = async (folder: string, config: Record<string, string>) => {
      const example = resolveExample(path.join(repoRoot, "examples", "platform", folder), repoRoot);
      const stack = await createEngineStack({
        engine: engine(),
        projectName: example.project,
        program: loadProgram(example.modulePath),
        // The iris training's code, data and conda file, beside the program's project.
        files: [path.join(repoRoot, "examples", "train"), example.projectDir],
        config: {
          "azureml:armEndpoint": info.armEndpoint,
          "azureml:subscriptionId": info.subscriptionId,
          ...config,
        },
        env: { AZUREML_CA_CERT_PATH: info.caCertPath },
        backendDir,
        passphrase,
      });
      stacks.push(stack);
      return stack;
    };

    const platform = await open("platform", {
      "azureml-platform:resourceGroupName": info.resourceGroupName,
      "azureml-platform:workspaceName": info.workspaceName,
      "azureml-platform:condaFilePath": "conda.yaml",
    });
    const shared = (await platform.up()).outputs;
    expect(shared.workspace).to.deep.equal({
      resourceGroupName: info.resourceGroupName,
      workspaceName: info.workspaceName,
    });
    const lightgbm = (shared.environments as Record<string, string>).lightgbm;
    expect(lightgbm).to.match(/^azureml:shared-lightgbm:/);

    const team = await open("team", {
      "azureml-team:platformStack": "organization/azureml-platform/dev",
      "azureml-team:codePath": "src",
      "azureml-team:dataPath": "data/iris.csv",
    });
    // The preview already knows the platform's values: the team registers code and data and
    // runs a job, and no environment.
    const preview = await team.preview();
    expect(stepSummary(preview.steps).filter((s) => !s.startsWith("read "))).to.have.members([
      "create team-iris",
      "create team-iris-code",
      "create team-iris-data",
      "create team-iris-job",
    ]);

    const trained = (await team.up()).outputs;
    expect(trained.status).to.equal("Completed");
    expect(trained.accuracy).to.be.a("number").within(0.8, 1);
    // The job ran in the platform's environment, given as its reference.
    expect(String(trained.environment)).to.contain("shared-lightgbm");

    expect(changes((await team.up()).steps)).to.deep.equal([]);
    await team.destroy();
    await platform.destroy();
  });
});
