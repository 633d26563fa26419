// Pure parts of batch scoring: the run's hash and output folder, the invocation body, the child
// job's command, reading the driver's log, and the fault rule that drops after serving.
import { expect } from "chai";
import { driverCommand, parseScoringLog } from "../../emulator/batch/scoring";
import { parseInvocationBody } from "../../emulator/batch/invocation";
import { validateFaultRule } from "../../emulator/faults";
import { check, derivedOutputUri, invocationHash } from "../../provider/lifecycle/batchScoringJob";
import { batchInvocationBody } from "../../provider/operations/batch";

const EP =
  "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/batchEndpoints/ep";

describe("batch scoring derivations", function () {
  it("hashes what a run scores: a changed setting or input is another run, the endpoint id's case is not @unit", () => {
    const base = { endpointId: EP, input: "azureml:data:1" };
    const hash = invocationHash(base);
    expect(invocationHash({ ...base, endpointId: EP.toUpperCase() })).to.equal(hash);
    expect(invocationHash({ ...base, inputType: "uri_folder" })).to.equal(hash);
    expect(invocationHash({ ...base, miniBatchSize: 5 })).to.not.equal(hash);
    expect(invocationHash({ ...base, deploymentName: "blue" })).to.not.equal(hash);
    expect(invocationHash({ ...base, waitTimeoutInSeconds: 60 })).to.equal(hash);
  });

  it("hashes what the scoring deployment serves: a new model on the same deployment, or another default deployment, is another run; runs that name neither keep their hash @unit", () => {
    const MODEL =
      "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/models/iris/versions/1";
    const base = { endpointId: EP, input: "azureml:data:1", deploymentName: "blue" };
    const served = invocationHash({ ...base, servedModelId: MODEL });
    // Before these fields existed a run hashed to this: a run naming neither keeps it.
    expect(invocationHash({ ...base, servedModelId: undefined })).to.equal(invocationHash(base));
    expect(served).to.not.equal(invocationHash(base));
    expect(invocationHash({ ...base, servedModelId: MODEL.toUpperCase() })).to.equal(served);
    expect(invocationHash({ ...base, servedModelId: MODEL.replace(/1$/, "2") })).to.not.equal(
      served,
    );
    expect(invocationHash({ ...base, servedModelId: "azureml:iris:2" })).to.not.equal(served);

    const byDefault = { endpointId: EP, input: "azureml:data:1", servedModelId: MODEL };
    const blue = invocationHash({ ...byDefault, defaultDeploymentName: "blue" });
    expect(invocationHash({ ...byDefault, defaultDeploymentName: "green" })).to.not.equal(blue);
    expect(invocationHash(byDefault)).to.not.equal(blue);
  });

  it("refuses a default deployment next to a named one, and a bad default deployment name, at check time naming the property @unit", async () => {
    const base = { endpointId: EP, input: "azureml:data:1" };
    const both = await check(base, {
      ...base,
      deploymentName: "blue",
      defaultDeploymentName: "green",
    });
    expect(both.failures?.map((f) => f.property)).to.deep.equal(["defaultDeployment"]);
    expect(both.failures?.[0].reason).to.match(/\[deployment\] and \[defaultDeployment\]/);
    const bad = await check(base, { ...base, defaultDeploymentName: "9-bad" });
    expect(bad.failures?.map((f) => f.property)).to.deep.equal(["defaultDeployment"]);
    const good = await check(base, {
      ...base,
      defaultDeploymentName: "blue",
      servedModelId: "azureml:iris:2",
    });
    expect(good.failures ?? []).to.deep.equal([]);
    expect(good.inputs?.invocationHash).to.equal(
      invocationHash({ ...base, defaultDeploymentName: "blue", servedModelId: "azureml:iris:2" }),
    );
  });

  it("derives a folder per run, another one per retry after a failure, and keeps a given one @unit", () => {
    const hash = "0123456789abcdef0123";
    expect(derivedOutputUri("ep", hash, undefined)).to.equal(
      "azureml://datastores/workspaceblobstore/paths/batch/ep/0123456789abcdef/",
    );
    expect(derivedOutputUri("ep", hash, undefined, 2)).to.match(/0123456789abcdef-r2\/$/);
    expect(derivedOutputUri("ep", hash, "azureml://datastores/x/paths/out")).to.equal(
      "azureml://datastores/x/paths/out/",
    );
  });

  it("sends a body the emulator reads back with the same input, output and overrides @unit", () => {
    const body = batchInvocationBody({
      inputType: "uri_file",
      inputUri: "https://example.test/data.csv",
      outputUri: "azureml://datastores/workspaceblobstore/paths/out/",
      outputFileName: "scores.csv",
      miniBatchSize: 4,
      errorThreshold: 2,
      maxRetries: 1,
      timeoutInSeconds: 90,
      instanceCount: 2,
      properties: { "pulumi-azureml.invocationHash": "h" },
    });
    const parsed = parseInvocationBody(body);
    expect(parsed.inputs).to.deep.equal([
      { name: "input", type: "uri_file", uri: "https://example.test/data.csv" },
    ]);
    expect(parsed.output?.uri).to.equal("azureml://datastores/workspaceblobstore/paths/out/");
    expect(parsed.outputFileName).to.equal("scores.csv");
    expect(parsed.overrides).to.deep.equal({
      miniBatchSize: 4,
      errorThreshold: 2,
      maxRetries: 1,
      timeout: "PT90S",
      instanceCount: 2,
    });
    expect(parsed.properties).to.deep.equal({ "pulumi-azureml.invocationHash": "h" });
  });

  it("runs the driver with the deployment's settings, quoting what the shell would split @unit", () => {
    const command = driverCommand({
      scoringScript: "my score.py",
      miniBatchSize: 3,
      maxConcurrency: 2,
      maxRetries: 1,
      timeoutInSeconds: 30,
      errorThreshold: -1,
      outputAction: "append_row",
      outputFileName: "predictions.csv",
    });
    expect(command).to.include("--scoring-script 'my score.py'");
    expect(command).to.include("--input ${{inputs.data}} --output ${{outputs.score}}");
    expect(command).to.include("--max-concurrency 2");
    expect(driverCommand({ ...baseSettings(), scoringScript: undefined })).to.not.include(
      "--scoring-script",
    );
  });

  it("reads progress, then the final summary, from the driver's log @unit", () => {
    const running = parseScoringLog(
      "scoring 5 files in 3 mini-batches of up to 2, 1 at a time\n" +
        "mini-batches 1/3 done (2/5 files, 0 failed)\n",
    );
    expect(running).to.deep.include({ miniBatches: 3, miniBatchesCompleted: 1, items: 5 });
    const ended = parseScoringLog(
      '{"status": "Failed", "mini_batches": 3, "mini_batches_completed": 1, "mini_batches_failed": 2, "items": 5, "failed_items": 3, "rows": 0, "error": "3 files failed", "failures": []}\n',
    );
    expect(ended).to.deep.include({ status: "Failed", failedItems: 3, error: "3 files failed" });
  });

  it("accepts afterServing only on drop faults @unit", () => {
    expect(validateFaultRule({ kind: "drop", afterServing: true }).afterServing).to.equal(true);
    expect(() => validateFaultRule({ kind: "status", status: 500, afterServing: true })).to.throw(
      TypeError,
      /afterServing/,
    );
  });
});

function baseSettings() {
  return {
    miniBatchSize: 1,
    maxConcurrency: 1,
    maxRetries: 0,
    timeoutInSeconds: 1,
    errorThreshold: -1,
    outputAction: "append_row" as const,
    outputFileName: "p.csv",
  };
}
