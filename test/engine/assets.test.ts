/**
 * The asset resources through the real Pulumi engine: inline programs run by the Automation API on
 * the CLI built from engine/go.mod, the providers loaded from the packed package in a throwaway
 * project, against the shared emulator. Where these tests and the host-level tests disagree, the
 * engine is right.
 */
import { expect } from "chai";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import {
  CodeVersion,
  DataVersion,
  EnvironmentVersion,
  ModelVersion,
  TrainingAssets,
} from "../../index";
import {
  changes,
  EngineRunError,
  stepSummary,
  UNKNOWN_VALUE,
  type EngineStack,
  type Step,
} from "../../tools/stack";
import { armDelete, armGet, armPut } from "../support/arm";
import { getEmulator, uniqueName } from "../support/emulator";
import { emulatorStack, useEngine, workspaceArgs } from "../support/engine";
import { findRepoRoot } from "../support/userProject";

const FIXTURES = path.join(findRepoRoot(), "test", "fixtures", "assets");

/** Requests that change something in the emulator (token fetches excluded). */
function writes(since: number) {
  return getEmulator()
    .requests.since(since)
    .filter((r) => r.method !== "GET" && r.method !== "HEAD" && r.plane !== "identity");
}

function step(steps: readonly Step[], op: string, name: string): Step {
  const found = steps.find((s) => s.op === op && s.name === name);
  expect(found, `a ${op} step for ${name}`).to.not.equal(undefined);
  return found as Step;
}

describe("asset versions through the Pulumi engine @engine", function () {
  const engine = useEngine(this);
  const stacks: EngineStack[] = [];
  const open = async (
    projectName: string,
    program: () => Promise<Record<string, unknown> | void>,
    options: Parameters<typeof emulatorStack>[3] = {},
  ) => {
    const stack = await emulatorStack(engine(), projectName, program, {
      files: [FIXTURES],
      ...options,
    });
    stacks.push(stack);
    return stack;
  };

  after(async () => {
    await Promise.all(stacks.map((s) => s.close()));
  });

  it("previews a new stack as creates with Azure's values unknown and no request sent, then a second preview and up change nothing @engine", async () => {
    const names = {
      env: uniqueName("eng-env"),
      data: uniqueName("eng-data"),
      code: uniqueName("eng-code"),
      model: uniqueName("eng-model"),
      training: uniqueName("eng-train"),
    };
    const stack = await open("engine-first", async () => {
      const workspace = workspaceArgs();
      const env = new EnvironmentVersion("env", {
        ...workspace,
        name: names.env,
        image: "python:3.11-slim",
        condaFilePath: "conda.yaml",
      });
      const data = new DataVersion("data", {
        ...workspace,
        name: names.data,
        dataType: "uri_file",
        path: "iris/iris.csv",
      });
      const code = new CodeVersion("code", { ...workspace, name: names.code, path: "train-src" });
      const model = new ModelVersion("model", {
        ...workspace,
        name: names.model,
        path: "model-mlflow",
        modelType: "mlflow_model",
      });
      const training = new TrainingAssets(names.training, {
        ...workspace,
        codePath: "train-src",
        image: "python:3.11-slim",
      });
      return {
        env: env.assetReference,
        data: data.dataUri,
        dataVersion: data.version,
        code: code.assetReference,
        codeFiles: code.fileCount,
        model: model.assetReference,
        training: training.codeReference,
      };
    });

    const mark = getEmulator().requests.mark();
    const plan = await stack.preview();
    expect(getEmulator().requests.since(mark)).to.deep.equal([]);
    expect(stepSummary(plan.steps)).to.have.members([
      "create env",
      "create data",
      "create code",
      "create model",
      `create ${names.training}`,
      `create ${names.training}-code`,
      `create ${names.training}-env`,
    ]);
    // Hashed locally during preview: known. Registered by Azure ML: unknown until up.
    expect(plan.outputs.codeFiles).to.equal(3);
    expect(plan.outputs.code).to.equal(UNKNOWN_VALUE);
    expect(plan.outputs.model).to.equal(UNKNOWN_VALUE);
    // A new local asset is hashed by create while it is uploaded (one read), so the version
    // derived from its content is unknown in the preview of its creation.
    expect(plan.outputs.dataVersion).to.equal(UNKNOWN_VALUE);

    const deployed = await stack.up();
    expect(deployed.outputs.env).to.match(new RegExp(`^azureml:${names.env}:[0-9a-f]{16}$`));
    expect(deployed.outputs.model).to.equal(`azureml:${names.model}:1`);
    expect(deployed.outputs.training).to.match(/^azureml:.+:[0-9a-f]{16}$/);

    const second = getEmulator().requests.mark();
    const again = await stack.preview();
    expect(changes(again.steps)).to.deep.equal([]);
    const reUp = await stack.up();
    expect(changes(reUp.steps)).to.deep.equal([]);
    expect(reUp.outputs).to.deep.equal(deployed.outputs);
    expect(writes(second)).to.deep.equal([]);
    await stack.destroy();
  });

  it("updates tags and a description in place and replaces changed content, naming the property in the preview @engine", async () => {
    const names = { env: uniqueName("eng-env"), data: uniqueName("eng-data") };
    const inputs = { envTags: { team: "a" }, dataDescription: "first" };
    const stack = await open("engine-diff", async () => {
      const workspace = workspaceArgs();
      const env = new EnvironmentVersion("env", {
        ...workspace,
        name: names.env,
        image: "python:3.11-slim",
        condaFilePath: "conda.yaml",
        tags: inputs.envTags,
      });
      const data = new DataVersion("data", {
        ...workspace,
        name: names.data,
        dataType: "uri_file",
        path: "iris/iris.csv",
        description: inputs.dataDescription,
      });
      return { env: env.assetReference, data: data.assetReference };
    });
    const first = await stack.up();

    inputs.envTags = { team: "b" };
    let plan = await stack.preview();
    expect(changes(plan.steps).map((s) => `${s.op} ${s.name}`)).to.deep.equal(["update env"]);
    // The dynamic-provider host passes no detailedDiff on: the CLI's --diff names the input.
    expect(plan.output).to.match(/~ tags\s*: \{\s*~ team: "a" => "b"/);
    await stack.up();
    const envId = `/subscriptions/${getEmulator().info.subscriptionId}/resourceGroups/${workspaceArgs().resourceGroupName}/providers/Microsoft.MachineLearningServices/workspaces/${workspaceArgs().workspaceName}/environments/${names.env}/versions/${String(first.outputs.env).split(":")[2]}`;
    expect((await armGet(envId)).properties.tags).to.deep.equal({ team: "b" });

    inputs.dataDescription = "second";
    plan = await stack.preview();
    expect(changes(plan.steps).map((s) => `${s.op} ${s.name}`)).to.deep.equal(["update data"]);
    expect(plan.output).to.match(/~ description\s*: "first" => "second"/);
    await stack.up();

    await fs.appendFile(path.join(stack.dir, "conda.yaml"), "      - pandas==2.2.2\n");
    plan = await stack.preview();
    expect(changes(plan.steps).map((s) => `${s.op} ${s.name}`)).to.deep.equal([
      "create-replacement env",
      "replace env",
      "delete-replaced env",
    ]);
    expect(step(plan.steps, "replace", "env").keys).to.include("contentHash");
    const edited = await stack.up();
    expect(edited.outputs.env).to.not.equal(first.outputs.env);
    expect(edited.outputs.data).to.equal(first.outputs.data);
    await stack.destroy();
  });

  it("shows on refresh a version deleted and a tag changed behind Pulumi's back, and the next up repairs both @engine", async () => {
    const names = { env: uniqueName("eng-env"), data: uniqueName("eng-data") };
    const stack = await open("engine-drift", async () => {
      const workspace = workspaceArgs();
      const env = new EnvironmentVersion("env", {
        ...workspace,
        name: names.env,
        image: "python:3.11-slim",
        tags: { team: "a" },
      });
      const data = new DataVersion("data", {
        ...workspace,
        name: names.data,
        dataType: "uri_file",
        path: "iris/iris.csv",
      });
      return { envId: env.assetId, dataId: data.assetId };
    });
    const deployed = await stack.up();
    const envId = String(deployed.outputs.envId);
    const dataId = String(deployed.outputs.dataId);
    const env = await armGet(envId);
    await armPut(envId, { ...env, properties: { ...env.properties, tags: { team: "drifted" } } });
    await armDelete(dataId);

    const refreshed = await stack.refresh();
    expect(refreshed.drift.map((d) => `${d.op} ${d.name}`)).to.have.members([
      "update env",
      "delete data",
    ]);
    const repaired = await stack.up();
    expect(changes(repaired.steps).map((s) => `${s.op} ${s.name}`)).to.have.members([
      "update env",
      "create data",
    ]);
    expect((await armGet(envId)).properties.tags).to.deep.equal({ team: "a" });
    expect(await armGet(dataId)).to.not.equal(undefined);
    await stack.destroy();
  });

  it("fails a preview with bad input naming the property, before any request is sent @engine", async () => {
    const stack = await open("engine-check", async () => {
      new DataVersion("bad", {
        ...workspaceArgs(),
        name: uniqueName("eng-bad"),
        dataType: "uri_tabular" as "uri_file",
        path: "iris/iris.csv",
      });
    });
    const mark = getEmulator().requests.mark();
    let failure: unknown;
    try {
      await stack.preview();
    } catch (error) {
      failure = error;
    }
    expect(failure).to.be.instanceOf(EngineRunError);
    expect((failure as EngineRunError).message).to.contain(
      '[dataType] must be "uri_file", "uri_folder" or "mltable", got "uri_tabular".',
    );
    expect((failure as EngineRunError).message).to.match(/property dataType/);
    expect(getEmulator().requests.since(mark)).to.deep.equal([]);
  });

  it("prints the service's message when a create fails, keeps the state consistent, and the next up succeeds @engine", async () => {
    const names = { env: uniqueName("eng-env"), data: uniqueName("eng-data") };
    const stack = await open("engine-failure", async () => {
      const workspace = workspaceArgs();
      new EnvironmentVersion("env", { ...workspace, name: names.env, image: "python:3.11-slim" });
      new DataVersion("data", {
        ...workspace,
        name: names.data,
        dataType: "uri_file",
        path: "https://example.org/iris.csv",
      });
    });
    const fault = getEmulator().faults.add({
      kind: "status",
      status: 400,
      method: "PUT",
      path: `/environments/${names.env}/versions/`,
      times: 1,
      error: { code: "UserError", message: "The image python:3.11-slim is not allowed here" },
    });
    let failure: unknown;
    try {
      await stack.up();
    } catch (error) {
      failure = error;
    } finally {
      getEmulator().faults.remove(fault);
    }
    expect(failure).to.be.instanceOf(EngineRunError);
    const failed = failure as EngineRunError;
    expect(failed.message).to.contain("The image python:3.11-slim is not allowed here");
    expect(failed.result.output).to.contain("The image python:3.11-slim is not allowed here");
    const state = JSON.parse(await stack.exportState());
    const inState = (state.deployment.resources ?? []).map((r: { urn: string }) => r.urn);
    expect(inState.some((urn: string) => urn.endsWith("::env"))).to.equal(false);
    expect(state.deployment.pending_operations ?? []).to.deep.equal([]);

    const retried = await stack.up();
    expect(changes(retried.steps).map((s) => `${s.op} ${s.name}`)).to.deep.equal(["create env"]);
    await stack.destroy();
  });

  it("destroy archives, deletes or keeps each version as onDelete says, and the exported state holds no token, key or machine path @engine", async () => {
    const names = {
      archived: uniqueName("eng-arch"),
      deleted: uniqueName("eng-del"),
      retained: uniqueName("eng-keep"),
    };
    const stack = await open("engine-destroy", async () => {
      const workspace = workspaceArgs();
      const version = (name: string, onDelete: "archive" | "delete" | "retain") =>
        new DataVersion(name, {
          ...workspace,
          dataType: "uri_file",
          path: "iris/iris.csv",
          onDelete,
        }).assetId;
      return {
        archived: version(names.archived, "archive"),
        deleted: version(names.deleted, "delete"),
        retained: version(names.retained, "retain"),
      };
    });
    const deployed = await stack.up();
    const exported = await stack.exportState();
    const { info } = getEmulator();
    for (const forbidden of [
      info.token,
      info.mlToken,
      info.identityHeader,
      info.caCertPath,
      stack.dir,
      findRepoRoot(),
      os.tmpdir(),
      os.homedir(),
      "AccountKey",
      "devstoreaccount1:",
    ]) {
      expect(exported).to.not.contain(forbidden);
    }

    await stack.destroy();
    const archived = await armGet(String(deployed.outputs.archived));
    expect(archived.properties.isArchived).to.equal(true);
    expect(await armGet(String(deployed.outputs.deleted))).to.equal(undefined);
    const retained = await armGet(String(deployed.outputs.retained));
    expect(retained.properties.isArchived).to.not.equal(true);
    const after = JSON.parse(await stack.exportState());
    expect(after.deployment.resources ?? []).to.deep.equal([]);
  });

  it("deploys 30 versions at the engine's default parallelism with no error and no duplicate @engine", async () => {
    const prefix = uniqueName("eng-many");
    const stack = await open("engine-many", async () => {
      const workspace = workspaceArgs();
      const ids: pulumi.Output<string>[] = [];
      for (let i = 0; i < 15; i++) {
        ids.push(
          new EnvironmentVersion(`${prefix}-env-${i}`, {
            ...workspace,
            image: `python:3.${i % 5}`,
            description: `environment ${i}`,
          }).assetId,
        );
        ids.push(
          new DataVersion(`${prefix}-data-${i}`, {
            ...workspace,
            dataType: "uri_file",
            path: `https://example.org/data/${i}.csv`,
          }).assetId,
        );
      }
      return { ids: pulumi.all(ids) };
    });
    const mark = getEmulator().requests.mark();
    const deployed = await stack.up();
    expect(deployed.diagnostics.filter((d) => d.severity === "error")).to.deep.equal([]);
    const ids = deployed.outputs.ids as string[];
    expect(ids).to.have.length(30);
    expect(new Set(ids).size).to.equal(30);
    const creates = getEmulator()
      .requests.since(mark)
      .filter((r) => r.method === "PUT" && r.plane === "arm" && r.path.includes(prefix));
    const puts = creates.filter((r) => /\/versions\/[^/]+$/.test(r.path)).map((r) => r.path);
    expect(new Set(puts).size).to.equal(30);
    expect(puts).to.have.length(30);
    await stack.destroy();
  });
});
