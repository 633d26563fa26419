// 2021-03-01-preview datastores, jobs and batch endpoints/deployments, translated to the stored
// (2024-04-01) shapes and back (emulator/legacyJobShapes.ts through versionShapes.ts).
import { expect } from "chai";
import { apiVersionProfile } from "../../emulator/spec/apiVersions";
import { toStoredShape, toVersionShape } from "../../emulator/versionShapes";

const LEGACY = apiVersionProfile("2021-03-01-preview");
const CURRENT = apiVersionProfile("2024-04-01");
const WS =
  "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w";

const stored = (type: string, properties: unknown): any =>
  toStoredShape(LEGACY, type, { properties });
const legacy = (type: string, resource: unknown): any => toVersionShape(LEGACY, type, resource);

describe("2021-03-01-preview shapes of datastores, jobs and batch endpoints @unit", () => {
  it("flattens a datastore's contents and gives its secrets their type; answers with contents", () => {
    const body = stored("workspaces/datastores", {
      contents: {
        contentsType: "AzureBlob",
        accountName: "acct",
        containerName: "c",
        endpoint: "core.windows.net",
        protocol: "https",
        credentials: { credentialsType: "AccountKey", secrets: { key: "k" } },
      },
      description: "d",
      isDefault: true,
    });
    expect(body.properties).to.deep.equal({
      datastoreType: "AzureBlob",
      accountName: "acct",
      containerName: "c",
      endpoint: "core.windows.net",
      protocol: "https",
      credentials: {
        credentialsType: "AccountKey",
        secrets: { key: "k", secretsType: "AccountKey" },
      },
      description: "d",
    });
    const answer = legacy("workspaces/datastores", {
      id: `${WS}/datastores/x`,
      properties: { ...body.properties, credentials: { credentialsType: "None" }, isDefault: true },
    });
    expect(answer.properties).to.deep.equal({
      contents: {
        contentsType: "AzureBlob",
        accountName: "acct",
        containerName: "c",
        endpoint: "core.windows.net",
        protocol: "https",
        credentials: { credentialsType: "None" },
      },
      hasBeenValidated: false,
      description: "d",
      isDefault: true,
    });
  });

  it("refuses a 2021-03-01-preview datastore without contents, naming it", () => {
    expect(() => stored("workspaces/datastores", { description: "x" }))
      .to.throw()
      .with.property("message")
      .that.contains("properties.contents");
  });

  it("turns a command job's compute, data bindings and timeout into the current fields and back", () => {
    const body = stored("workspaces/jobs", {
      jobType: "Command",
      command: "python main.py --iris-csv $AZURE_ML_INPUT_iris",
      environmentId: `${WS}/environments/e/versions/1`,
      compute: { target: `${WS}/computes/cpu-cluster`, instanceCount: 2 },
      inputDataBindings: { iris: { dataId: `${WS}/data/iris/versions/3`, mode: "Mount" } },
      outputDataBindings: {
        model: { datastoreId: `${WS}/datastores/workspaceblobstore`, pathOnDatastore: "out/m" },
      },
      timeout: "PT1H",
      status: "Running",
    });
    expect(body.properties).to.deep.equal({
      jobType: "Command",
      command: "python main.py --iris-csv $AZURE_ML_INPUT_iris",
      environmentId: `${WS}/environments/e/versions/1`,
      computeId: `${WS}/computes/cpu-cluster`,
      resources: { instanceCount: 2 },
      inputs: {
        iris: {
          jobInputType: "uri_folder",
          uri: `${WS}/data/iris/versions/3`,
          mode: "ReadOnlyMount",
        },
      },
      outputs: {
        model: {
          jobOutputType: "uri_folder",
          uri: "azureml://datastores/workspaceblobstore/paths/out/m",
        },
      },
      limits: { jobLimitsType: "Command", timeout: "PT1H" },
    });
    const answer = legacy("workspaces/jobs", {
      id: `${WS}/jobs/j`,
      properties: { ...body.properties, status: "Completed", services: { Studio: {} } },
    });
    expect(answer.properties).to.deep.equal({
      jobType: "Command",
      status: "Completed",
      provisioningState: "Succeeded",
      interactionEndpoints: { Studio: {} },
      command: "python main.py --iris-csv $AZURE_ML_INPUT_iris",
      environmentId: `${WS}/environments/e/versions/1`,
      compute: { instanceCount: 2, target: `${WS}/computes/cpu-cluster` },
      inputDataBindings: { iris: { dataId: `${WS}/data/iris/versions/3`, mode: "ReadOnlyMount" } },
      outputDataBindings: {
        model: { datastoreId: `${WS}/datastores/workspaceblobstore`, pathOnDatastore: "out/m" },
      },
      timeout: "PT1H",
    });
  });

  it("appends the old search space's arguments to the trial command and takes them off again", () => {
    const sent = {
      jobType: "Sweep",
      algorithm: "Random",
      trial: { command: "python main.py", environmentId: "env" },
      compute: { target: "cpu", instanceCount: 1 },
      objective: { primaryMetric: "loss", goal: "minimize" },
      searchSpace: {
        "--learning_rate": ["uniform", [0.01, 0.9]],
        boosting: ["choice", [["gbdt", "dart"]]],
      },
      maxTotalTrials: 20,
      maxConcurrentTrials: 10,
      timeout: "PT120M",
    };
    const body = stored("workspaces/jobs", structuredClone(sent));
    expect(body.properties.samplingAlgorithm).to.deep.equal({ samplingAlgorithmType: "Random" });
    expect(body.properties.limits).to.deep.equal({
      jobLimitsType: "Sweep",
      maxTotalTrials: 20,
      maxConcurrentTrials: 10,
      timeout: "PT120M",
    });
    expect(body.properties.computeId).to.equal("cpu");
    expect(body.properties.trial).to.deep.equal({
      command:
        "python main.py --learning_rate ${{search_space.learning_rate}} --boosting ${{search_space.boosting}}",
      environmentId: "env",
      resources: { instanceCount: 1 },
    });
    expect(Object.keys(body.properties.searchSpace)).to.deep.equal(["learning_rate", "boosting"]);

    const answer = legacy("workspaces/jobs", { id: `${WS}/jobs/s`, properties: body.properties });
    expect(answer.properties).to.deep.include({
      algorithm: "Random",
      maxTotalTrials: 20,
      maxConcurrentTrials: 10,
      timeout: "PT120M",
      compute: { instanceCount: 1, target: "cpu" },
      trial: { command: "python main.py", environmentId: "env" },
    });
    // A key sent without dashes comes back as the argument it became.
    expect(answer.properties.searchSpace).to.deep.equal({
      "--learning_rate": ["uniform", [0.01, 0.9]],
      "--boosting": ["choice", [["gbdt", "dart"]]],
    });
  });

  it("refuses a search space key that cannot be a script argument, naming it", () => {
    expect(() =>
      stored("workspaces/jobs", {
        jobType: "Sweep",
        trial: { command: "x", environmentId: "e" },
        searchSpace: { "--": ["choice", [[1]]] },
      }),
    )
      .to.throw()
      .with.property("message")
      .that.contains("searchSpace['--']");
  });

  it("routes a batch endpoint's traffic to its default deployment and reads it back as traffic", () => {
    const body = stored("workspaces/batchEndpoints", {
      authMode: "AADToken",
      traffic: { blue: 0, green: 100 },
    });
    expect(body.properties).to.deep.equal({
      authMode: "AADToken",
      defaults: { deploymentName: "green" },
    });
    const answer = legacy("workspaces/batchEndpoints", {
      properties: {
        ...body.properties,
        scoringUri: "https://x/jobs",
        provisioningState: "Succeeded",
      },
    });
    expect(answer.properties).to.deep.equal({
      authMode: "AADToken",
      scoringUri: "https://x/jobs",
      traffic: { green: 100 },
    });
  });

  it("turns a batch deployment's compute and output configuration into the current fields and back", () => {
    const body = stored("workspaces/batchEndpoints/deployments", {
      compute: { target: `${WS}/computes/c`, instanceCount: 2 },
      outputConfiguration: { outputAction: "AppendRow", appendRowFileName: "p.csv" },
      partitionKeys: ["a"],
      miniBatchSize: 5,
    });
    expect(body.properties).to.deep.equal({
      compute: `${WS}/computes/c`,
      resources: { instanceCount: 2 },
      outputAction: "AppendRow",
      outputFileName: "p.csv",
      miniBatchSize: 5,
    });
    const answer = legacy("workspaces/batchEndpoints/deployments", { properties: body.properties });
    expect(answer.properties).to.deep.equal({
      miniBatchSize: 5,
      compute: { instanceCount: 2, target: `${WS}/computes/c` },
      outputConfiguration: { outputAction: "AppendRow", appendRowFileName: "p.csv" },
    });
  });

  it("types 2021-10-01 job inputs Dataset, Uri and Literal and outputs Uri, both ways", () => {
    const v2021 = apiVersionProfile("2021-10-01");
    const body: any = toStoredShape(v2021, "workspaces/jobs", {
      properties: {
        jobType: "Command",
        inputs: {
          iris: {
            jobInputType: "Dataset",
            datasetId: `${WS}/data/iris/versions/1`,
            mode: "Download",
          },
          file: { jobInputType: "Uri", uri: { file: "https://x/a.csv" } },
          folder: { jobInputType: "Uri", uri: { folder: "https://x/d/" } },
          rate: { jobInputType: "Literal", value: "0.1" },
        },
        outputs: {
          model: { jobOutputType: "Uri" },
          data: { jobOutputType: "Dataset", mode: "Upload" },
        },
      },
    });
    expect(body.properties.inputs).to.deep.equal({
      iris: { mode: "Download", jobInputType: "uri_folder", uri: `${WS}/data/iris/versions/1` },
      file: { jobInputType: "uri_file", uri: "https://x/a.csv" },
      folder: { jobInputType: "uri_folder", uri: "https://x/d/" },
      rate: { value: "0.1", jobInputType: "literal" },
    });
    expect(body.properties.outputs).to.deep.equal({
      model: { jobOutputType: "uri_folder" },
      data: { mode: "Upload", jobOutputType: "uri_folder" },
    });
    const answer: any = toVersionShape(v2021, "workspaces/jobs", {
      properties: {
        ...body.properties,
        outputs: { model: { jobOutputType: "uri_folder", uri: "azureml://datastores/d/paths/m" } },
      },
    });
    expect(answer.properties.inputs).to.deep.equal({
      iris: { mode: "Download", jobInputType: "Dataset", datasetId: `${WS}/data/iris/versions/1` },
      file: { jobInputType: "Uri", uri: { file: "https://x/a.csv" } },
      folder: { jobInputType: "Uri", uri: { folder: "https://x/d/" } },
      rate: { value: "0.1", jobInputType: "Literal" },
    });
    expect(answer.properties.outputs).to.deep.equal({
      model: { jobOutputType: "Uri", uri: { folder: "azureml://datastores/d/paths/m" } },
    });
  });

  it("leaves other api-versions' bodies and other types alone", () => {
    const job = { properties: { jobType: "Command", computeId: "c" } };
    expect(toStoredShape(CURRENT, "workspaces/jobs", job)).to.deep.equal(job);
    expect(toVersionShape(CURRENT, "workspaces/jobs", job)).to.deep.equal(job);
    const compute = { properties: { computeType: "AmlCompute" } };
    expect(toStoredShape(LEGACY, "workspaces/computes", compute)).to.deep.equal(compute);
  });
});
