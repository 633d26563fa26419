import { expect } from "chai";
import { AzureMlRestError, LroFailedError, PollTimeoutError } from "../../provider/core/errors";
import { computeId } from "../../provider/core/ids";
import type { LroPollEvent } from "../../provider/core/lro";
import { getEmulator, uniqueName } from "../support/emulator";
import { newClient, rejectionOf, requestsSince, workspaceScope } from "./support";

/** Compute names may not end in a dash and digits, which uniqueName() does. */
const computeName = () => uniqueName("cpu").replace(/-/g, "").slice(0, 20);

const scenario = (suffix: string) => `/_scenarios/${uniqueName("lro")}/${suffix}`;

describe("long-running operations against the emulator @emulator", () => {
  it("polls Azure-AsyncOperation to Succeeded and returns the resource from the original URI", async () => {
    const { client } = newClient();
    const path = scenario("put/201/asyncop/3/succeeded");
    const mark = getEmulator().requests.mark();
    const operation = await client.beginPut<{
      properties: { provisioningState: string; answer: number };
    }>(path, { properties: { answer: 42 } }, "Scenario_Put");
    expect(operation.mode).to.equal("OperationLocation");
    expect(operation.operationUrl).to.match(/^https:\/\/127\.0\.0\.1:\d+\/.*\?api-version=/);
    const result = await operation.pollUntilDone();
    expect(result.properties).to.deep.include({ provisioningState: "Succeeded", answer: 42 });
    const statusPath = new URL(operation.operationUrl!).pathname;
    // The contract's minimum: the PUT, 3 status polls, 1 final GET.
    expect(requestsSince(mark, path).map((r) => r.method)).to.deep.equal(["PUT", "GET"]);
    expect(requestsSince(mark, statusPath)).to.have.length(3);
  });

  it("polls the resource's provisioningState when the PUT has no LRO headers", async () => {
    const { client } = newClient();
    const path = scenario("put/200/body/2");
    const mark = getEmulator().requests.mark();
    const operation = await client.beginPut<{ properties: { provisioningState: string } }>(
      path,
      { properties: {} },
      "Scenario_Put",
    );
    expect(operation.mode).to.equal("Body");
    const result = await operation.pollUntilDone();
    expect(result.properties.provisioningState).to.equal("Succeeded");
    expect(requestsSince(mark, path).map((r) => r.method)).to.deep.equal(["PUT", "GET", "GET"]);
  });

  it("follows a DELETE's Location until 204", async () => {
    const { client } = newClient();
    const mark = getEmulator().requests.mark();
    const operation = await client.beginDelete(
      scenario("delete/202/location/2"),
      "Scenario_Delete",
    );
    expect(operation.mode).to.equal("ResourceLocation");
    expect(await operation.pollUntilDone()).to.equal(undefined);
    const locationPath = new URL(operation.operationUrl!).pathname;
    expect(requestsSince(mark, locationPath).map((r) => r.status)).to.deep.equal([202, 204]);
  });

  it("returns the body a POST's Location answers when done", async () => {
    const { client } = newClient();
    const operation = await client.beginPost<{ result: string }>(
      scenario("post/202/location/2"),
      {},
      "Scenario_Post",
    );
    expect(await operation.pollUntilDone()).to.deep.include({ result: "done" });
  });

  it("throws LroFailedError with the service's error code and message when the operation fails", async () => {
    const { client } = newClient();
    const operation = await client.beginPut(scenario("put/201/asyncop/failed"), {}, "Scenario_Put");
    const error = (await rejectionOf(operation.pollUntilDone())) as LroFailedError;
    expect(error).to.be.instanceOf(LroFailedError);
    expect(error.status).to.equal("failed");
    expect(error.code).to.equal("ScenarioFailed");
    expect(error.serviceMessage).to.equal(
      "The long-running operation failed, as the scenario asked.",
    );
    expect(error.message).to.match(
      /^Scenario_Put failed: ScenarioFailed: The long-running operation failed/,
    );
    expect(error.operationUrl).to.equal(operation.operationUrl);
  });

  it("throws LroFailedError with status canceled when the operation is canceled", async () => {
    const { client } = newClient();
    const operation = await client.beginPut(
      scenario("put/201/asyncop/canceled"),
      {},
      "Scenario_Put",
    );
    const error = (await rejectionOf(operation.pollUntilDone())) as LroFailedError;
    expect(error).to.be.instanceOf(LroFailedError);
    expect(error.status).to.equal("canceled");
    expect(error.code).to.equal("OperationCanceled");
    expect(error.message).to.match(/^Scenario_Put was canceled: OperationCanceled: /);
  });

  it("treats a status body without a status as done, as core-lro does, and reads the resource", async () => {
    const { client } = newClient();
    const path = scenario("put/201/asyncop/nostatus");
    const operation = await client.beginPut<{ properties: { provisioningState: string } }>(
      path,
      {},
      "Scenario_Put",
    );
    const result = await operation.pollUntilDone();
    expect(result.properties.provisioningState).to.equal("Succeeded");
  });

  it("turns a DELETE whose Location answers 400 into LroFailedError without retrying", async () => {
    const { client } = newClient();
    const mark = getEmulator().requests.mark();
    const operation = await client.beginDelete(
      scenario("delete/202/location/failed/400"),
      "Scenario_Delete",
    );
    const error = (await rejectionOf(operation.pollUntilDone())) as LroFailedError;
    expect(error).to.be.instanceOf(LroFailedError);
    expect(error.code).to.equal("ScenarioFailed");
    const locationPath = new URL(operation.operationUrl!).pathname;
    expect(requestsSince(mark, locationPath).map((r) => r.status)).to.deep.equal([400]);
  });

  it("retries a Location that answers 500, then reports the operation failed", async () => {
    const { client } = newClient({ maxRetries: 2 });
    const mark = getEmulator().requests.mark();
    const operation = await client.beginDelete(
      scenario("delete/202/location/failed"),
      "Scenario_Delete",
    );
    const error = (await rejectionOf(operation.pollUntilDone())) as LroFailedError;
    expect(error).to.be.instanceOf(LroFailedError);
    expect(error.code).to.equal("InternalServerError");
    const locationPath = new URL(operation.operationUrl!).pathname;
    expect(requestsSince(mark, locationPath).map((r) => r.status)).to.deep.equal([500, 500, 500]);
  });

  it("prefers the service's Retry-After over pollIntervalInMs between polls", async () => {
    // The shared emulator sends Retry-After: 0, so with a 60 s poll interval the test only
    // finishes quickly if Retry-After wins; onPoll shows the chosen delays.
    const { client } = newClient({ pollIntervalInMs: 60_000 });
    const events: LroPollEvent[] = [];
    const mark = getEmulator().requests.mark();
    const operation = await client.beginPut(
      scenario("put/201/asyncop/3/succeeded"),
      {},
      "Scenario_Put",
      {
        onPoll: (event) => events.push(event),
      },
    );
    expect(operation.initialResponse.headers["retry-after"]).to.equal("0");
    await operation.pollUntilDone();
    expect(events.map((e) => [e.status, e.nextDelayInMs, e.serverDirected])).to.deep.equal([
      ["running", 0, true],
      ["running", 0, true],
      ["succeeded", undefined, false],
    ]);
    expect(requestsSince(mark, new URL(operation.operationUrl!).pathname)).to.have.length(3);
  });

  it("waits a throttled poll's Retry-After and keeps polling", async () => {
    const { client, retries } = newClient();
    const operation = await client.beginPut(
      scenario("put/201/asyncop/2/succeeded"),
      {},
      "Scenario_Put",
    );
    const statusPath = new URL(operation.operationUrl!).pathname;
    getEmulator().faults.add({ kind: "status", status: 429, retryAfterMs: 40, path: statusPath });
    await operation.pollUntilDone();
    expect(retries.map((r) => [r.statusCode, r.delayInMs, r.operation])).to.deep.equal([
      [429, 40, "Scenario_Put (poll)"],
    ]);
  });

  it("gives up with PollTimeoutError after lroTimeoutInMs, leaving the operation running", async () => {
    const { client } = newClient({ lroTimeoutInMs: 300, pollIntervalInMs: 10 });
    const operation = await client.beginPut(
      scenario("put/201/asyncop/100000/succeeded"),
      {},
      "Scenario_Put",
    );
    const error = (await rejectionOf(operation.pollUntilDone())) as PollTimeoutError;
    expect(error).to.be.instanceOf(PollTimeoutError);
    expect(error.timeoutInMs).to.equal(300);
    expect(error.operationUrl).to.equal(operation.operationUrl);
    expect(error.message).to.include("It may still be running");
  });

  it("stops polling when the abort signal fires, without touching the operation", async () => {
    const { client } = newClient();
    const controller = new AbortController();
    const operation = await client.beginPut(
      scenario("put/201/asyncop/100000/succeeded"),
      {},
      "Scenario_Put",
      {
        abortSignal: controller.signal,
        onPoll: (event) => {
          if (event.pollCount === 3) {
            controller.abort();
          }
        },
      },
    );
    const statusPath = new URL(operation.operationUrl!).pathname;
    const error = await rejectionOf(operation.pollUntilDone());
    expect(error).to.have.property("name", "AbortError");
    expect(requestsSince(0, statusPath)).to.have.length(3);
    const mark = getEmulator().requests.mark();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(requestsSince(mark, statusPath)).to.have.length(0);
  });

  it("creates and deletes a compute as real LROs", async () => {
    const { client } = newClient();
    const path = computeId(workspaceScope(), computeName());
    const create = await client.beginPut<{ properties: { provisioningState: string } }>(
      path,
      {
        location: getEmulator().info.location,
        properties: {
          computeType: "AmlCompute",
          properties: {
            vmSize: "STANDARD_DS3_V2",
            scaleSettings: { minNodeCount: 0, maxNodeCount: 1 },
          },
        },
      },
      "Compute_CreateOrUpdate",
    );
    expect(create.mode).to.equal("OperationLocation");
    expect((await create.pollUntilDone()).properties.provisioningState).to.equal("Succeeded");
    const query = { underlyingResourceAction: "Delete" };
    const remove = await client.beginDelete(path, "Compute_Delete", { query });
    await remove.pollUntilDone();
    expect(await client.getOrUndefined(path, "Compute_Get")).to.equal(undefined);
    const again = await client.beginDelete(path, "Compute_Delete", { query });
    // Deleting again is done at once: ARM answers 204 (the emulator) or 404 for a missing resource.
    expect(again.initialResponse.statusCode).to.be.oneOf([204, 404]);
    expect(again.mode).to.equal(undefined);
    expect(await again.pollUntilDone()).to.equal(undefined);
  });

  it("reports an injected compute provisioning failure with the fault's code", async () => {
    const { client } = newClient();
    const name = computeName();
    getEmulator().faults.add({
      kind: "lroFail",
      path: `/computes/${name}`,
      error: { code: "QuotaExceeded", message: "No cores left in eastus." },
    });
    const create = await client.beginPut(
      computeId(workspaceScope(), name),
      {
        location: getEmulator().info.location,
        properties: { computeType: "AmlCompute", properties: { vmSize: "STANDARD_DS3_V2" } },
      },
      "Compute_CreateOrUpdate",
    );
    const error = (await rejectionOf(create.pollUntilDone())) as LroFailedError;
    expect(error).to.be.instanceOf(LroFailedError);
    expect(error.code).to.equal("QuotaExceeded");
    expect(error.serviceMessage).to.equal("No cores left in eastus.");
  });

  it("surfaces a status URL that cannot be read as AzureMlRestError", async () => {
    const { client } = newClient({ maxRetries: 0 });
    const operation = await client.beginPut(
      scenario("put/201/asyncop/2/succeeded"),
      {},
      "Scenario_Put",
    );
    getEmulator().faults.add({
      kind: "status",
      status: 403,
      path: new URL(operation.operationUrl!).pathname,
    });
    const error = (await rejectionOf(operation.pollUntilDone())) as AzureMlRestError;
    expect(error).to.be.instanceOf(AzureMlRestError);
    expect(error.statusCode).to.equal(403);
    expect(error.operation).to.equal("Scenario_Put (poll)");
  });
});
