// The emulator's reading of batch invocation bodies (contract section 5): the current PascalCase
// shape, the SDK's camelCase one with overrides, and the 2021/2022 samples' shape, plus the
// choice of deployment.
import { expect } from "chai";
import { parseInvocationBody, selectDeployment } from "../../emulator/batch/invocation";
import { isEmulatorError } from "../../emulator/errors";

function failure(call: () => unknown): { status: number; target?: string; message: string } {
  try {
    call();
  } catch (error) {
    if (isEmulatorError(error)) {
      return { status: error.statusCode, target: error.target, message: error.message };
    }
    throw error;
  }
  throw new Error("expected a failure");
}

describe("emulator batch invocation bodies", function () {
  it("reads the documented PascalCase body @unit", () => {
    const invocation = parseInvocationBody({
      properties: {
        InputData: { heart: { JobInputType: "UriFolder", Uri: "https://x/data" } },
        OutputData: {
          score: {
            JobOutputType: "UriFile",
            Uri: "azureml://datastores/workspaceblobstore/paths/out/p.csv",
          },
        },
        properties: { experimentName: "nightly" },
      },
    });
    expect(invocation).to.deep.equal({
      inputs: [{ name: "heart", type: "uri_folder", uri: "https://x/data" }],
      output: {
        name: "score",
        type: "uri_file",
        uri: "azureml://datastores/workspaceblobstore/paths/out/p.csv",
      },
      outputFileName: undefined,
      overrides: {},
      properties: { experimentName: "nightly" },
    });
  });

  it("reads the SDK's camelCase body with its setting overrides, numbers given as strings @unit", () => {
    const invocation = parseInvocationBody({
      properties: {
        inputData: {
          data: { jobInputType: "uri_file", uri: "azureml:iris:2" },
          mode: { jobInputType: "Literal", value: "fast" },
        },
        outputFileName: "scores.csv",
        miniBatchSize: "4",
        errorThreshold: 2,
        retrySettings: { maxRetries: 1, timeout: "PT60S" },
        compute: { instanceCount: 2 },
      },
    });
    expect(invocation.inputs).to.deep.equal([
      { name: "data", type: "uri_file", uri: "azureml:iris:2" },
      { name: "mode", type: "literal", value: "fast" },
    ]);
    expect(invocation.outputFileName).to.equal("scores.csv");
    expect(invocation.overrides).to.deep.equal({
      miniBatchSize: 4,
      errorThreshold: 2,
      maxRetries: 1,
      timeout: "PT60S",
      instanceCount: 2,
    });
  });

  it("reads the seed document's dataset, outputDataset and outputFileName @unit", () => {
    const byUrl = parseInvocationBody({
      properties: { dataset: { dataInputType: "DataUrl", Path: "https://x/mnist" } },
    });
    expect(byUrl.inputs).to.deep.equal([
      { name: "dataset", type: "uri_folder", uri: "https://x/mnist" },
    ]);
    const byVersion = parseInvocationBody({
      properties: {
        dataset: { dataInputType: "DatasetVersion", datasetName: "mnist", datasetVersion: "1" },
        outputDataset: {
          datastoreId: "/subscriptions/s/.../datastores/workspaceblobstore",
          path: "/scorer",
        },
        outputFileName: "out.csv",
      },
    });
    expect(byVersion.inputs[0]!.uri).to.equal("azureml:mnist:1");
    expect(byVersion.output).to.deep.equal({
      name: "outputDataset",
      type: "uri_folder",
      uri: "azureml://datastores/workspaceblobstore/paths/scorer",
    });
    expect(byVersion.outputFileName).to.equal("out.csv");
  });

  it("refuses a body without exactly one data input, or with an unknown input type, naming the path @unit", () => {
    expect(failure(() => parseInvocationBody({ properties: {} }))).to.deep.include({
      status: 400,
      target: "properties.InputData",
    });
    expect(
      failure(() =>
        parseInvocationBody({
          properties: { InputData: { a: { JobInputType: "Folder", Uri: "https://x" } } },
        }),
      ),
    ).to.deep.include({ status: 400, target: "properties.InputData.a.JobInputType" });
    expect(
      failure(() =>
        parseInvocationBody({ properties: { InputData: { a: { JobInputType: "UriFolder" } } } }),
      ),
    ).to.deep.include({ target: "properties.InputData.a.Uri" });
    expect(failure(() => parseInvocationBody("nope"))).to.deep.include({ target: "properties" });
  });

  it("goes to the header's deployment, else the default, and says when there is neither @unit", () => {
    expect(selectDeployment("scorer", "GREEN", "blue", ["blue", "green"])).to.equal("green");
    expect(selectDeployment("scorer", undefined, "blue", ["blue", "green"])).to.equal("blue");
    expect(
      failure(() => selectDeployment("scorer", "purple", "blue", ["blue"])).message,
    ).to.contain("no deployment 'purple'");
    expect(failure(() => selectDeployment("scorer", undefined, undefined, [])).message).to.contain(
      "has no default deployment",
    );
  });
});
