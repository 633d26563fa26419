/**
 * Batch endpoints through the real Pulumi engine: the endpoint, its deployments and the default
 * never fight in each other's diffs; a deployment replaced under its name is deleted first and
 * made the default again; switching the default previews as an update of the default alone.
 */
import { expect } from "chai";
import * as path from "node:path";
import {
  BatchDeployment,
  BatchEndpoint,
  BatchEndpointDefaultDeployment,
  CodeVersion,
  EnvironmentVersion,
  ModelVersion,
} from "../../index";
import { changes, stepSummary, type EngineStack } from "../../tools/stack";
import { armGet } from "../support/arm";
import { getEmulator, uniqueName } from "../support/emulator";
import { emulatorStack, useEngine, workspaceArgs } from "../support/engine";
import { findRepoRoot } from "../support/userProject";

const FIXTURES = path.join(findRepoRoot(), "test", "fixtures", "assets");

describe("batch endpoints through the Pulumi engine @engine", function () {
  const engine = useEngine(this);
  let stack: EngineStack | undefined;
  after(async () => {
    await stack?.close();
  });

  it("deploys, re-defaults a replaced deployment, switches the default as an update of the default alone, then changes nothing @engine", async () => {
    const names = {
      model: uniqueName("eng-model"),
      code: uniqueName("eng-code"),
      env: uniqueName("eng-env"),
      endpoint: uniqueName("eng-ep"),
    };
    const knobs = { scoringScript: "train.py", withGreen: false, defaultTo: "blue" };
    stack = await emulatorStack(
      engine(),
      "engine-batch",
      async () => {
        const workspace = workspaceArgs();
        const model = new ModelVersion("model", {
          ...workspace,
          name: names.model,
          path: "azureml://jobs/train-1/outputs/model",
        });
        const code = new CodeVersion("code", { ...workspace, name: names.code, path: "train-src" });
        const env = new EnvironmentVersion("env", {
          ...workspace,
          name: names.env,
          image: "python:3.11-slim",
        });
        const endpoint = new BatchEndpoint("endpoint", { ...workspace, name: names.endpoint });
        const deployment = (name: string) =>
          new BatchDeployment(name, {
            endpoint,
            model,
            codeConfiguration: { code, scoringScript: knobs.scoringScript },
            environment: env,
            compute: "cpu-cluster",
          });
        const blue = deployment("blue");
        const green = knobs.withGreen ? deployment("green") : undefined;
        const byDefault = new BatchEndpointDefaultDeployment("default", {
          endpoint,
          deployment: knobs.defaultTo === "green" && green ? green : blue,
        });
        return { defaultDeployment: byDefault.deploymentName, scoringUri: endpoint.scoringUri };
      },
      { files: [FIXTURES] },
    );
    const endpointId = `${getEmulator().info.workspaceId}/batchEndpoints/${names.endpoint}`;

    const first = await stack.up();
    expect(first.outputs.defaultDeployment).to.equal("blue");
    expect((await armGet(endpointId)).properties.defaults.deploymentName).to.equal("blue");

    // A new scoring script replaces blue, deleting it first (same name), and makes it the default
    // again; the endpoint is untouched.
    knobs.scoringScript = "score.py";
    const rescript = await stack.preview();
    const planned = changes(rescript.steps).map((s) => `${s.op} ${s.name}`);
    expect(planned).to.have.members([
      "delete-replaced blue",
      "replace blue",
      "create-replacement blue",
      "update default",
    ]);
    expect(planned.indexOf("delete-replaced blue")).to.be.lessThan(
      planned.indexOf("create-replacement blue"),
    );
    expect(changes(rescript.steps).find((s) => s.op === "replace")!.keys).to.deep.equal([
      "codeConfiguration",
    ]);
    await stack.up();
    expect((await armGet(endpointId)).properties.defaults.deploymentName).to.equal("blue");
    expect(
      (await armGet(`${endpointId}/deployments/blue`)).properties.codeConfiguration.scoringScript,
    ).to.equal("score.py");

    knobs.withGreen = true;
    knobs.defaultTo = "green";
    const plan = await stack.preview();
    expect(changes(plan.steps).map((s) => `${s.op} ${s.name}`)).to.have.members([
      "create green",
      "update default",
    ]);
    const switched = await stack.up();
    expect(switched.outputs.defaultDeployment).to.equal("green");
    expect((await armGet(endpointId)).properties.defaults.deploymentName).to.equal("green");

    const again = await stack.preview();
    expect(changes(again.steps)).to.deep.equal([]);
    expect(stepSummary(again.steps)).to.include("same endpoint");

    await stack.destroy();
    expect(await armGet(endpointId)).to.equal(undefined);
  });
});
