/**
 * The package's public surface, written down: adding, removing or renaming an export is a
 * deliberate change that updates this list and CHANGELOG.md together.
 */
import { expect } from "chai";
import * as emulator from "../../emulator/index";
import * as root from "../../index";

describe("public API", function () {
  it("the package root exports the resources (CommandJob, SweepJob and BatchScoringJob included), the search-space helpers, the component and the error guards @unit", () => {
    expect(Object.keys(root).sort()).to.deep.equal([
      "AzureMlRestError",
      "BatchDeployment",
      "BatchEndpoint",
      "BatchEndpointDefaultDeployment",
      "BatchScoringJob",
      "BatchScoringService",
      "CodeVersion",
      "CommandJob",
      "DataVersion",
      "EnvironmentVersion",
      "HyperparameterSweep",
      "LroFailedError",
      "MetricGate",
      "ModelVersion",
      "PollTimeoutError",
      "ScoringRun",
      "SweepJob",
      "TrainingAssets",
      "TrainingRun",
      "approvedCandidate",
      "describeGateOutcome",
      "evaluateGate",
      "gateThresholdFailures",
      "isAzureMlRestError",
      "isLroFailedError",
      "isPollTimeoutError",
      "searchSpace",
    ]);
  });

  it("pulumi-azureml/emulator exports startEmulator and its helpers @unit", () => {
    expect(Object.keys(emulator).sort()).to.deep.equal([
      "EMULATOR_DEFAULTS",
      "MissingPeerDependencyError",
      "createEnvironmentBuilder",
      "createTrackingService",
      "prepareTls",
      "startEmulator",
      "trackingEnvironment",
    ]);
  });
});
