/**
 * A batch deployment program as a user writes it (model, code, environment, endpoint, two
 * deployments, the default) against the emulator: the endpoint, the deployments and the default never fight in each other's
 * diffs, a preview says which deployment becomes the default, and a replaced deployment is made
 * the default again. Through the real Pulumi engine, the providers loaded from the packed package.
 */
import { expect } from "chai";
import * as path from "node:path";
import * as azureml from "../../index";
import { armGet } from "../support/arm";
import { getEmulator, uniqueName } from "../support/emulator";
import { emulatorStack, useEngine } from "../support/engine";
import { findRepoRoot } from "../support/userProject";
import { changes, stepSummary, type EngineStack } from "../../tools/stack";

interface Knobs {
  scoringScript: string;
  withGreen: boolean;
  defaultTo: "blue" | "green";
}

describe("a batch deployment program through the Pulumi engine @engine", function () {
  const engine = useEngine(this);
  let stack: EngineStack | undefined;
  let knobs: Knobs;
  const names = {
    model: uniqueName("bmodel"),
    code: uniqueName("bcode"),
    env: uniqueName("benv"),
    endpoint: uniqueName("ep"),
  };

  after(async () => {
    await stack?.close();
  });

  // The engine runs one program per stack; each step sets the knobs it runs with.
  const program = async () => {
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
      path: "train-src",
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
  it("deploys, changes nothing on a second up, re-defaults a replaced deployment, switches the default, and destroys @engine", async () => {
    stack = await emulatorStack(engine(), "batch", program, {
      files: [path.join(findRepoRoot(), "test", "fixtures", "assets")],
    });
    knobs = { scoringScript: "train.py", withGreen: false, defaultTo: "blue" };
    const planned = await stack.preview();
    expect(stepSummary(planned.steps)).to.have.members([
      "create model",
      "create code",
      "create env",
      "create endpoint",
      "create blue",
      "create default",
    ]);
    const deployed = await stack.up();
    expect(deployed.outputs.defaultDeployment).to.equal("blue");
    expect(deployed.outputs.scoringUri).to.equal(
      `${getEmulator().info.armEndpoint}/inference/eastus/${names.endpoint}/jobs`,
    );
    expect(await liveDefault()).to.equal("blue");

    // A second up: nothing to do, nothing written.
    const mark = getEmulator().requests.mark();
    expect(changes((await stack.up()).steps)).to.deep.equal([]);
    const writes = getEmulator()
      .requests.since(mark)
      .filter((r) => r.method !== "GET" && r.plane !== "identity");
    expect(writes).to.deep.equal([]);

    // A new scoring script replaces blue (deleted first, same name) and makes it the default again;
    // the endpoint is untouched.
    knobs = { ...knobs, scoringScript: "score.py" };
    const rescripted = changes((await stack.preview()).steps);
    expect(stepSummary(rescripted)).to.have.members([
      "delete-replaced blue",
      "replace blue",
      "create-replacement blue",
      "update default",
    ]);
    const ops = rescripted.filter((s) => s.name === "blue").map((s) => s.op);
    expect(ops.indexOf("delete-replaced")).to.be.lessThan(ops.indexOf("create-replacement"));
    expect(rescripted.find((s) => s.op === "replace")?.keys).to.deep.equal(["codeConfiguration"]);
    await stack.up();
    expect(await liveDefault()).to.equal("blue");

    // A second deployment, made the default: the preview says so, as an update of the default alone.
    knobs = { ...knobs, withGreen: true, defaultTo: "green" };
    expect(stepSummary(changes((await stack.preview()).steps))).to.have.members([
      "create green",
      "update default",
    ]);
    const switched = await stack.up();
    expect(switched.outputs.defaultDeployment).to.equal("green");
    expect(await liveDefault()).to.equal("green");
    expect(changes((await stack.up()).steps)).to.deep.equal([]);

    await stack.destroy();
    expect(JSON.parse(await stack.exportState()).deployment.resources ?? []).to.deep.equal([]);
    expect(await liveDefault()).to.equal(undefined);
  });
});
