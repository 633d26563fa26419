/**
 * A batch deployment program as a user writes it (model, code, environment, endpoint, two
 * deployments, the default), run through the program runner with the real serialized providers
 * against the emulator: the endpoint, the deployments and the default never fight in each other's
 * diffs, a preview says which deployment becomes the default, and a replaced deployment is made
 * the default again.
 */
import { expect } from "chai";
import * as azureml from "../../index";
import { armGet } from "../support/arm";
import { getEmulator, uniqueName } from "../support/emulator";
import {
  changedOperations,
  createProgramRunner,
  type ProgramRunner,
} from "../support/programRunner";
import { findRepoRoot } from "../support/userProject";

interface Knobs {
  scoringScript: string;
  withGreen: boolean;
  defaultTo: "blue" | "green";
}

describe("a batch deployment program through the program runner", function () {
  this.timeout(180_000);
  let runner: ProgramRunner;
  const names = {
    model: uniqueName("bmodel"),
    code: uniqueName("bcode"),
    env: uniqueName("benv"),
    endpoint: uniqueName("ep"),
  };

  before(() => {
    const { info } = getEmulator();
    runner = createProgramRunner({
      project: "batch",
      stack: "it",
      hostDir: findRepoRoot(),
      config: {
        "azureml:armEndpoint": info.armEndpoint,
        "azureml:subscriptionId": info.subscriptionId,
        "azureml:caCertPath": info.caCertPath,
      },
    });
  });

  const program = (knobs: Knobs) => async () => {
    const { info } = getEmulator();
    const workspace = {
      resourceGroupName: info.resourceGroupName,
      workspaceName: info.workspaceName,
    };
    const model = new azureml.ModelVersion("model", {
      ...workspace,
      name: names.model,
      path: "azureml://jobs/train-1/outputs/model",
    });
    const code = new azureml.CodeVersion("code", {
      ...workspace,
      name: names.code,
      path: "test/fixtures/assets/train-src",
    });
    const env = new azureml.EnvironmentVersion("env", {
      ...workspace,
      name: names.env,
      image: "python:3.11",
    });
    const endpoint = new azureml.BatchEndpoint("endpoint", {
      ...workspace,
      name: names.endpoint,
      description: "nightly scoring",
    });
    const deployment = (name: string) =>
      new azureml.BatchDeployment(name, {
        endpoint,
        model,
        codeConfiguration: { code, scoringScript: knobs.scoringScript },
        environment: env,
        compute: "cpu-cluster",
        miniBatchSize: 5,
      });
    const blue = deployment("blue");
    const green = knobs.withGreen ? deployment("green") : undefined;
    const chosen = knobs.defaultTo === "green" && green ? green : blue;
    const byDefault = new azureml.BatchEndpointDefaultDeployment("default", {
      endpoint,
      deployment: chosen,
    });
    return {
      scoringUri: endpoint.scoringUri,
      defaultDeployment: byDefault.deploymentName,
    };
  };

  const liveDefault = async (): Promise<string | undefined> => {
    const live = await armGet(`${getEmulator().info.workspaceId}/batchEndpoints/${names.endpoint}`);
    return live?.properties.defaults?.deploymentName;
  };

  // One scenario: each step needs the state the previous one left.
  it("deploys, changes nothing on a second up, re-defaults a replaced deployment, switches the default, and destroys @emulator", async () => {
    const first: Knobs = { scoringScript: "train.py", withGreen: false, defaultTo: "blue" };
    await runner.preview(program(first));
    expect(runner.operations.map((o) => `${o.op} ${o.name}`)).to.have.members([
      "create model",
      "create code",
      "create env",
      "create endpoint",
      "create blue",
      "create default",
    ]);
    const deployed = await runner.up(program(first));
    expect(deployed.defaultDeployment).to.equal("blue");
    expect(deployed.scoringUri).to.equal(
      `${getEmulator().info.armEndpoint}/inference/eastus/${names.endpoint}/jobs`,
    );
    expect(await liveDefault()).to.equal("blue");

    // A second up: nothing to do, nothing written.
    const mark = getEmulator().requests.mark();
    await runner.up(program(first));
    expect(changedOperations(runner.operations)).to.deep.equal([]);
    const writes = getEmulator()
      .requests.since(mark)
      .filter((r) => r.method !== "GET" && r.plane !== "identity");
    expect(writes).to.deep.equal([]);

    // A new scoring script replaces blue (deleted first, same name) and makes it the default again;
    // the endpoint is untouched.
    const rescripted: Knobs = { ...first, scoringScript: "score.py" };
    await runner.preview(program(rescripted));
    const planned = changedOperations(runner.operations);
    expect(planned.map((o) => `${o.op} ${o.name}`)).to.have.members([
      "replace blue",
      "update default",
    ]);
    const replace = planned.find((o) => o.name === "blue")!;
    expect(replace.replaces).to.deep.equal(["codeConfiguration"]);
    expect(replace.deleteBeforeReplace).to.equal(true);
    await runner.up(program(rescripted));
    expect(await liveDefault()).to.equal("blue");

    // A second deployment, made the default: the preview says so, as an update of the default alone.
    const switched: Knobs = { ...rescripted, withGreen: true, defaultTo: "green" };
    await runner.preview(program(switched));
    expect(changedOperations(runner.operations).map((o) => `${o.op} ${o.name}`)).to.have.members([
      "create green",
      "update default",
    ]);
    const outputs = await runner.up(program(switched));
    expect(outputs.defaultDeployment).to.equal("green");
    expect(await liveDefault()).to.equal("green");
    await runner.up(program(switched));
    expect(changedOperations(runner.operations)).to.deep.equal([]);

    await runner.destroy();
    expect(runner.state.size).to.equal(0);
    expect(await liveDefault()).to.equal(undefined);
  });
});
