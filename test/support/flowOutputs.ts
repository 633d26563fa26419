import { expect } from "chai";

/**
 * What a user sees after a clean `up` of examples/flow (test/integration/flow.test.ts); the run
 * under faults (flowFaults.test.ts) must show the same. The deployed MLflow model scored
 * unlabelled/flowers.csv: each row is a flower's four measurements and the species predicted.
 */
export function expectCleanFlowOutputs(outputs: Record<string, unknown>): void {
  expect(outputs.trainingAccuracy).to.be.a("number").within(0.8, 1);
  expect(outputs.gatePassed).to.equal(true);
  expect(String(outputs.gateOutcome)).to.match(/^gate passed: accuracy/);
  expect(outputs.model).to.equal("azureml:iris-flow-best:1");
  expect(outputs.endpoint).to.equal("iris-scorer");
  expect(outputs.scoringStatus).to.equal("Completed");
  expect(String(outputs.predictions)).to.match(
    /^azureml:\/\/datastores\/workspaceblobstore\/paths\/batch\/iris-scorer\/[0-9a-f]{16}\/predictions\.csv$/,
  );
  const rows = outputs.firstPredictions as string[];
  expect(rows).to.have.length(5);
  for (const row of rows) {
    expect(row).to.match(/^\d\.\d \d\.\d \d\.\d \d\.\d (setosa|versicolor|virginica)$/);
  }
  expect(rows[2]).to.equal("5.0 3.5 1.3 0.3 setosa");
}
