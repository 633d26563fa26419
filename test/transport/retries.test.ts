import { expect } from "chai";
import { AzureMlRestError, NetworkError } from "../../provider/core/errors";
import { assetVersionId, datastoreId, workspaceId } from "../../provider/core/ids";
import { getEmulator, uniqueName } from "../support/emulator";
import {
  attemptsOf,
  environmentBody,
  eventually,
  newClient,
  rejectionOf,
  workspaceScope,
} from "./support";

describe("transport retries against the emulator @emulator", () => {
  const putEnvironment = async (client: ReturnType<typeof newClient>["client"], name: string) =>
    client.request<{ name: string }>({
      method: "PUT",
      path: assetVersionId(workspaceScope(), "environments", name, "1"),
      body: environmentBody(),
      operation: "EnvironmentVersions_CreateOrUpdate",
    });

  it("waits the Retry-After seconds of a 429, then succeeds on the next attempt", async () => {
    const name = uniqueName("env");
    getEmulator().faults.add({
      kind: "status",
      status: 429,
      retryAfter: "1",
      path: `/environments/${name}/`,
    });
    const { client, retries } = newClient();
    const response = await putEnvironment(client, name);
    expect(response.statusCode).to.equal(201);
    expect(attemptsOf(response.clientRequestId).map((r) => r.status)).to.deep.equal([429, 201]);
    expect(retries.map((r) => [r.statusCode, r.delayInMs, r.serverDirected])).to.deep.equal([
      [429, 1000, true],
    ]);
  });

  it("honours retry-after-ms on 429s, retrying twice with the server's delay", async () => {
    const name = uniqueName("env");
    getEmulator().faults.add({
      kind: "status",
      status: 429,
      retryAfterMs: 30,
      path: `/environments/${name}/`,
      times: 2,
    });
    const { client, retries } = newClient();
    const response = await putEnvironment(client, name);
    expect(response.statusCode).to.equal(201);
    expect(response.attempts).to.equal(3);
    expect(attemptsOf(response.clientRequestId).map((r) => r.status)).to.deep.equal([
      429, 429, 201,
    ]);
    expect(retries.map((r) => r.delayInMs)).to.deep.equal([30, 30]);
  });

  it("retries a 503 twice with backoff and returns the third answer", async () => {
    const { client, retries } = newClient();
    getEmulator().faults.add({
      kind: "status",
      status: 503,
      method: "GET",
      path: "/workspaces/",
      times: 2,
    });
    const response = await client.request({
      method: "GET",
      path: workspaceId(workspaceScope()),
      operation: "Workspaces_Get",
    });
    expect(response.statusCode).to.equal(200);
    expect(attemptsOf(response.clientRequestId).map((r) => r.status)).to.deep.equal([
      503, 503, 200,
    ]);
    expect(retries.map((r) => r.serverDirected)).to.deep.equal([false, false]);
    // Backoff with retryDelayInMs 10: attempt 1 waits 5..10 ms, attempt 2 waits 10..20 ms.
    expect(retries[0]!.delayInMs).to.be.within(5, 10);
    expect(retries[1]!.delayInMs).to.be.within(10, 20);
  });

  it("gives up after maxRetries on a persistent 500 with the ARM code, status and request id", async () => {
    const name = uniqueName("env");
    getEmulator().faults.add({
      kind: "status",
      status: 500,
      path: `/environments/${name}/`,
      times: 10,
    });
    const { client } = newClient({ maxRetries: 3 });
    const error = await rejectionOf(putEnvironment(client, name));
    expect(error).to.be.instanceOf(AzureMlRestError);
    const rest = error as AzureMlRestError;
    expect(rest.statusCode).to.equal(500);
    expect(rest.code).to.equal("InternalServerError");
    expect(rest.attempts).to.equal(4);
    const attempts = attemptsOf(rest.clientRequestId);
    expect(attempts.map((r) => r.status)).to.deep.equal([500, 500, 500, 500]);
    expect(rest.requestId).to.equal(attempts[3]!.requestId);
    expect(rest.message).to.match(
      /^EnvironmentVersions_CreateOrUpdate failed: InternalServerError: .* \(HTTP 500, request id [\w-]+, after 4 attempts\)$/,
    );
  });

  it("never retries a 400", async () => {
    const name = uniqueName("env");
    getEmulator().faults.add({ kind: "status", status: 400, path: `/environments/${name}/` });
    const { client, retries } = newClient();
    const error = (await rejectionOf(putEnvironment(client, name))) as AzureMlRestError;
    expect(error.statusCode).to.equal(400);
    expect(attemptsOf(error.clientRequestId)).to.have.length(1);
    expect(retries).to.have.length(0);
  });

  it("never retries a validation error from the service itself", async () => {
    const { client } = newClient();
    const error = (await rejectionOf(
      client.request({
        method: "PUT",
        path: assetVersionId(workspaceScope(), "environments", uniqueName("env"), "1"),
        body: { properties: { image: "x", unknownField: true } },
        operation: "EnvironmentVersions_CreateOrUpdate",
      }),
    )) as AzureMlRestError;
    expect(error.statusCode).to.equal(400);
    expect(error.code)
      .to.be.a("string")
      .and.not.match(/^HttpError/);
    expect(attemptsOf(error.clientRequestId)).to.have.length(1);
  });

  it("retries a GET and a PUT after a dropped connection", async () => {
    const { client } = newClient();
    getEmulator().faults.add({ kind: "drop", method: "GET", path: "/workspaces/" });
    const get = await client.request({
      method: "GET",
      path: workspaceId(workspaceScope()),
      operation: "Workspaces_Get",
    });
    expect(get.statusCode).to.equal(200);
    expect(attemptsOf(get.clientRequestId).map((r) => [r.status, r.fault])).to.deep.equal([
      [0, "drop"],
      [200, undefined],
    ]);

    const name = uniqueName("env");
    getEmulator().faults.add({ kind: "drop", path: `/environments/${name}/` });
    const put = await putEnvironment(client, name);
    expect(put.statusCode).to.equal(201);
    expect(attemptsOf(put.clientRequestId).map((r) => r.status)).to.deep.equal([0, 201]);
  });

  it("does not retry a POST after a dropped connection unless the caller opts in", async () => {
    const scope = workspaceScope();
    const path = `${datastoreId(scope, "workspaceblobstore")}/listSecrets`;
    const { client } = newClient();
    getEmulator().faults.add({ kind: "drop", method: "POST", path: "/listSecrets" });
    const error = await rejectionOf(
      client.request({ method: "POST", path, operation: "Datastores_ListSecrets" }),
    );
    expect(error).to.be.instanceOf(NetworkError);
    const network = error as NetworkError;
    expect(network.code).to.equal("UND_ERR_SOCKET");
    expect(network.attempts).to.equal(1);
    expect(attemptsOf(network.clientRequestId)).to.have.length(1);

    getEmulator().faults.add({ kind: "drop", method: "POST", path: "/listSecrets" });
    const retried = await client.request({
      method: "POST",
      path,
      operation: "Datastores_ListSecrets",
      retryNonIdempotent: true,
    });
    expect(retried.statusCode).to.equal(200);
    expect(attemptsOf(retried.clientRequestId).map((r) => r.status)).to.deep.equal([0, 200]);
  });

  // undici checks headersTimeout on a timer wheel with about 1 s resolution, so the injected
  // latency is well beyond requestTimeoutInMs + 1 s.
  it("retries a request whose response is slower than requestTimeoutInMs", async () => {
    const { client, retries } = newClient({ requestTimeoutInMs: 300 });
    getEmulator().faults.add({
      kind: "latency",
      latencyInMs: 2500,
      method: "GET",
      path: "/workspaces/",
    });
    const response = await client.request({
      method: "GET",
      path: workspaceId(workspaceScope()),
      operation: "Workspaces_Get",
    });
    expect(response.statusCode).to.equal(200);
    expect(response.attempts).to.equal(2);
    expect(retries.map((r) => r.errorCode)).to.deep.equal(["UND_ERR_HEADERS_TIMEOUT"]);
    // The abandoned slow attempt is logged (status 0) when the client gives up on it.
    await eventually(() => attemptsOf(response.clientRequestId).length === 2);
    expect(attemptsOf(response.clientRequestId).map((r) => r.fault)).to.include("latency");
  });

  it("surfaces a timeout as NetworkError once retries run out", async () => {
    const { client } = newClient({ requestTimeoutInMs: 300, maxRetries: 1 });
    getEmulator().faults.add({
      kind: "latency",
      latencyInMs: 2500,
      method: "GET",
      path: "/workspaces/",
      times: 2,
    });
    const error = (await rejectionOf(
      client.request({
        method: "GET",
        path: workspaceId(workspaceScope()),
        operation: "Workspaces_Get",
      }),
    )) as NetworkError;
    expect(error).to.be.instanceOf(NetworkError);
    expect(error.code).to.equal("UND_ERR_HEADERS_TIMEOUT");
    expect(error.attempts).to.equal(2);
    expect(error.message).to.match(
      /^Workspaces_Get failed: UND_ERR_HEADERS_TIMEOUT: .*\(GET, 2 attempts\)$/,
    );
    await eventually(() => attemptsOf(error.clientRequestId).length === 2);
  });

  it("keeps one client request id across the retries of a call, and a new one per call", async () => {
    const { client } = newClient();
    getEmulator().faults.add({
      kind: "status",
      status: 503,
      method: "GET",
      path: "/workspaces/",
      times: 2,
    });
    const first = await client.request({
      method: "GET",
      path: workspaceId(workspaceScope()),
      operation: "Workspaces_Get",
    });
    const second = await client.request({
      method: "GET",
      path: workspaceId(workspaceScope()),
      operation: "Workspaces_Get",
    });
    const attempts = attemptsOf(first.clientRequestId);
    expect(attempts).to.have.length(3);
    expect(new Set(attempts.map((r) => r.requestId)).size).to.equal(3);
    expect(second.clientRequestId).to.match(/^[0-9a-f-]{36}$/);
    expect(second.clientRequestId).to.not.equal(first.clientRequestId);
    expect(attemptsOf(second.clientRequestId)).to.have.length(1);
  });

  it("uses a caller-supplied client request id as is", async () => {
    const { client } = newClient();
    const id = `caller-${uniqueName("id")}`;
    const response = await client.request({
      method: "GET",
      path: workspaceId(workspaceScope()),
      operation: "Workspaces_Get",
      headers: { "x-ms-client-request-id": id },
    });
    expect(response.clientRequestId).to.equal(id);
    expect(attemptsOf(id)).to.have.length(1);
  });
});
