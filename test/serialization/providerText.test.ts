/**
 * What every resource stores in `__provider`: small, free of paths, credentials and environment
 * values, and byte-identical from any process or checkout at the same package version.
 */
import { expect } from "chai";
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import {
  BatchDeployment,
  BatchEndpoint,
  BatchEndpointDefaultDeployment,
  BatchScoringJob,
  CodeVersion,
  CommandJob,
  DataVersion,
  EnvironmentVersion,
  ModelVersion,
  searchSpace,
  SweepJob,
} from "../../index";
import { captureProviderText } from "../support/loadLikeHost";
import { createUserProject, findRepoRoot, type UserProject } from "../support/userProject";

const run = promisify(execFile);

const CANARY_SECRET = "canary-client-secret-6f1d2a";

const WORKSPACE = { resourceGroupName: "rg", workspaceName: "ws" };
const ENDPOINT =
  "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/batchEndpoints/scorer";

/** Each resource type with a constructor call; the same table runs in the user projects below. */
const RESOURCES: Record<string, () => any> = {
  EnvironmentVersion: () => new EnvironmentVersion("r", { ...WORKSPACE, image: "python:3.11" }),
  DataVersion: () =>
    new DataVersion("r", { ...WORKSPACE, dataType: "uri_file", path: "https://x/y.csv" }),
  CodeVersion: () => new CodeVersion("r", { ...WORKSPACE, path: "src" }),
  ModelVersion: () =>
    new ModelVersion("r", { ...WORKSPACE, path: "azureml://jobs/j/outputs/model" }),
  BatchEndpoint: () => new BatchEndpoint("r", { ...WORKSPACE, name: "scorer" }),
  BatchDeployment: () =>
    new BatchDeployment("r", { endpoint: ENDPOINT, model: "azureml:m:1", compute: "cpu-cluster" }),
  BatchEndpointDefaultDeployment: () =>
    new BatchEndpointDefaultDeployment("r", { endpoint: ENDPOINT, deployment: "blue" }),
  BatchScoringJob: () => new BatchScoringJob("r", { endpoint: ENDPOINT, input: "azureml:d:1" }),
  CommandJob: () =>
    new CommandJob("r", { ...WORKSPACE, command: "python train.py", environment: "azureml:e:1" }),
  SweepJob: () =>
    new SweepJob("r", {
      ...WORKSPACE,
      objective: { primaryMetric: "loss", goal: "minimize" },
      samplingAlgorithm: { type: "grid" },
      searchSpace: { x: searchSpace.choice(1, 2) },
      trial: { command: "python train.py ${{search_space.x}}", environment: "azureml:e:1" },
    }),
};

/** A program a user would run, printing every resource's `__provider` as one JSON line. */
const CAPTURE_SCRIPT = `
const pulumi = require("@pulumi/pulumi");
const azureml = require("pulumi-azureml");
const W = ${JSON.stringify(WORKSPACE)};
const E = ${JSON.stringify(ENDPOINT)};
const make = {
  EnvironmentVersion: () => new azureml.EnvironmentVersion("r", { ...W, image: "python:3.11" }),
  DataVersion: () => new azureml.DataVersion("r", { ...W, dataType: "uri_file", path: "https://x/y.csv" }),
  CodeVersion: () => new azureml.CodeVersion("r", { ...W, path: "src" }),
  ModelVersion: () => new azureml.ModelVersion("r", { ...W, path: "azureml://jobs/j/outputs/model" }),
  BatchEndpoint: () => new azureml.BatchEndpoint("r", { ...W, name: "scorer" }),
  BatchDeployment: () => new azureml.BatchDeployment("r", { endpoint: E, model: "azureml:m:1", compute: "cpu-cluster" }),
  BatchEndpointDefaultDeployment: () => new azureml.BatchEndpointDefaultDeployment("r", { endpoint: E, deployment: "blue" }),
  BatchScoringJob: () => new azureml.BatchScoringJob("r", { endpoint: E, input: "azureml:d:1" }),
  CommandJob: () => new azureml.CommandJob("r", { ...W, command: "python train.py", environment: "azureml:e:1" }),
  SweepJob: () => new azureml.SweepJob("r", { ...W, objective: { primaryMetric: "loss", goal: "minimize" }, samplingAlgorithm: { type: "grid" }, searchSpace: { x: azureml.searchSpace.choice(1, 2) }, trial: { command: "python train.py \${{search_space.x}}", environment: "azureml:e:1" } }),
};
(async () => {
  const texts = {};
  for (const [type, construct] of Object.entries(make)) {
    let seen;
    await pulumi.runtime.setMocks({ newResource: (a) => { seen = a.inputs.__provider; return { id: "i", state: a.inputs }; }, call: (a) => a.inputs }, "p", "s", false);
    const r = construct();
    await r.urn.promise();
    texts[type] = seen;
  }
  console.log(JSON.stringify(texts));
})();
`;

async function captureIn(project: UserProject): Promise<Record<string, string>> {
  const script = path.join(project.dir, "capture.js");
  await writeFile(script, CAPTURE_SCRIPT);
  const { stdout } = await run(process.execPath, [script], {
    cwd: project.dir,
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout.trim().split("\n").pop()!);
}

describe("serialized providers", function () {
  this.timeout(120_000);
  const texts: Record<string, string> = {};

  before(async () => {
    // A credential in the environment while resources are constructed must not be captured.
    process.env.AZURE_CLIENT_SECRET = CANARY_SECRET;
    try {
      for (const [type, construct] of Object.entries(RESOURCES)) {
        texts[type] = await captureProviderText(construct, "r");
      }
    } finally {
      delete process.env.AZURE_CLIENT_SECRET;
    }
  });

  for (const type of Object.keys(RESOURCES)) {
    it(`${type} stores at most 4 KB naming only its lifecycle module @unit`, () => {
      const text = texts[type];
      expect(Buffer.byteLength(text)).to.be.at.most(4096);
      const lifecycle = type.charAt(0).toLowerCase() + type.slice(1);
      expect(text).to.contain(`pulumi-azureml/provider/lifecycle/${lifecycle}`);
    });

    it(`${type} stores no absolute path, credential or environment value @unit`, () => {
      const text = texts[type];
      for (const forbidden of [findRepoRoot(), os.tmpdir(), os.homedir(), process.cwd()]) {
        expect(text).not.to.contain(forbidden);
      }
      expect(text).not.to.match(/\/(work|home|tmp|Users)\//);
      expect(text).not.to.contain(CANARY_SECRET);
      // npm's own lifecycle variables (npm_package_name is this package's name) are not secrets.
      for (const [key, value] of Object.entries(process.env)) {
        if (key.startsWith("npm_")) {
          continue;
        }
        if (value && value.length >= 8 && !/^(true|false|\d+)$/.test(value)) {
          expect(text, `environment variable ${key}`).not.to.contain(value);
        }
      }
      expect(text).not.to.match(/Bearer|eyJ[A-Za-z0-9_-]{10,}/);
    });
  }

  it("is byte-identical from two processes in two checkouts of the package @host", async () => {
    const [a, b] = await Promise.all([
      createUserProject({ name: "ser-a" }),
      createUserProject({ name: "ser-b" }),
    ]);
    try {
      const [fromA, fromB] = await Promise.all([captureIn(a), captureIn(b)]);
      expect(Object.keys(fromA)).to.have.members(Object.keys(RESOURCES));
      for (const type of Object.keys(RESOURCES)) {
        expect(fromA[type], type).to.equal(fromB[type]);
        expect(fromA[type].replace(/\s+/g, ""), type).to.equal(texts[type].replace(/\s+/g, ""));
      }
    } finally {
      await Promise.all([a.cleanup(), b.cleanup()]);
    }
  });
});
