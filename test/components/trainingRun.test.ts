import { expect } from "chai";
import { recordResources, settled, urnOf, valueOf } from "../support/mocks";

const WORKSPACE = { resourceGroupName: "rg", workspaceName: "ws" };

describe("TrainingRun component", function () {
  it("registers code, environment, data and the job under the component, the data bound as an input @unit", async () => {
    const seen = await recordResources("training", (type, _name, inputs) =>
      type.endsWith(":CommandJob")
        ? { metrics: { accuracy: 0.96 }, outputUris: { model: "azureml://jobs/j/outputs/model" } }
        : {
            assetReference: `azureml:${String(inputs.name)}:1`,
            assetId: `/assets/${String(inputs.name)}`,
          },
    );
    const m = await import("../../components/index.js");
    const run = new m.TrainingRun("iris", {
      ...WORKSPACE,
      codePath: "src",
      image: "python:3.11",
      condaFilePath: "conda.yaml",
      dataPath: "data/iris.csv",
      dataType: "uri_file",
      command: "python train.py --data ${{inputs.data}} --lr ${{inputs.lr}}",
      inputs: { lr: 0.1 },
      outputs: { model: { type: "mlflow_model" } },
      compute: "cpu-cluster",
      tags: { team: "ml" },
    });
    await settled(run, run.code, run.environment, run.data, run.job);
    const byName = Object.fromEntries(seen.map((r) => [r.name, r]));
    expect(Object.keys(byName)).to.have.members([
      "iris",
      "iris-code",
      "iris-env",
      "iris-data",
      "iris-job",
    ]);
    expect(byName.iris.type).to.equal("azureml:components:TrainingRun");
    expect(await urnOf(run.job)).to.contain(
      "azureml:components:TrainingRun$pulumi-nodejs:dynamic/azureml:CommandJob::iris-job",
    );
    const job = byName["iris-job"].inputs;
    expect(job.inputs).to.deep.equal({
      lr: 0.1,
      data: { type: "uri_file", path: "azureml:iris-data:1" },
    });
    expect(job.code).to.equal("/assets/iris-code");
    expect(job.environment).to.equal("/assets/iris-env");
    expect(job).to.include({
      compute: "cpu-cluster",
      resourceGroupName: "rg",
      workspaceName: "ws",
    });
    expect(byName["iris-env"].inputs).to.include({
      image: "python:3.11",
      condaFilePath: "conda.yaml",
    });
    expect(await valueOf(run.metrics)).to.deep.equal({ accuracy: 0.96 });
  });

  it("uses an environment registered elsewhere (a platform stack's) without registering one @unit", async () => {
    const seen = await recordResources("training-shared-env", (type, _name, inputs) =>
      type.endsWith(":CodeVersion") ? { assetId: `/assets/${String(inputs.name)}` } : {},
    );
    const m = await import("../../components/index.js");
    const run = new m.TrainingRun("team", {
      workspaceId:
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws",
      codePath: "src",
      environment: "azureml:shared-lightgbm:3",
      command: "python train.py",
    });
    await settled(run, run.job);
    expect(seen.map((r) => r.name)).to.have.members(["team", "team-code", "team-job"]);
    expect(run.environment).to.equal(undefined);
    expect(seen.find((r) => r.name === "team-job")!.inputs.environment).to.equal(
      "azureml:shared-lightgbm:3",
    );
  });

  it("refuses none or several environment sources, naming them @unit", async () => {
    await recordResources("training-bad");
    const m = await import("../../components/index.js");
    for (const sources of [{}, { image: "python:3.11", environment: "azureml:e:1" }]) {
      expect(
        () =>
          new m.TrainingRun("bad", { ...WORKSPACE, codePath: "src", command: "true", ...sources }),
      ).to.throw(/\[environment\].*\[image\].*\[buildPath\]/);
    }
  });
});
