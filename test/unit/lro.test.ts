import { expect } from "chai";
import type { AzureMlRequest, AzureMlResponse } from "../../provider/core/client";
import { isLroFailedError, isPollTimeoutError } from "../../provider/core/errors";
import {
  beginLongRunning,
  inferLroMode,
  normalizeStatus,
  operationErrorOf,
  pollUntil,
  type LroClient,
  type LroPollEvent,
} from "../../provider/core/lro";
import { DEFAULT_SETTINGS } from "../../provider/core/settings";

const URL_PUT = "https://arm.example/subscriptions/s/x?api-version=2025-12-01";

describe("inferLroMode", () => {
  const response = (headers: Record<string, string>) => ({ headers, request: { url: URL_PUT } });

  it("picks OperationLocation from Azure-AsyncOperation and GETs the original URI after a PUT @unit", () => {
    expect(
      inferLroMode("PUT", response({ "azure-asyncoperation": "https://h/op/1" })),
    ).to.deep.equal({
      mode: "OperationLocation",
      pollUrl: "https://h/op/1",
      finalUrl: URL_PUT,
    });
  });

  it("prefers Operation-Location over Azure-AsyncOperation @unit", () => {
    expect(
      inferLroMode(
        "PUT",
        response({ "azure-asyncoperation": "https://h/a", "operation-location": "https://h/o" }),
      )?.pollUrl,
    ).to.equal("https://h/o");
  });

  it("has no final GET for a DELETE and uses Location for a POST's result @unit", () => {
    expect(
      inferLroMode(
        "DELETE",
        response({ "azure-asyncoperation": "https://h/a", location: "https://h/l" }),
      ),
    ).to.deep.equal({ mode: "OperationLocation", pollUrl: "https://h/a" });
    expect(
      inferLroMode(
        "POST",
        response({ "azure-asyncoperation": "https://h/a", location: "https://h/l" }),
      )?.finalUrl,
    ).to.equal("https://h/l");
    expect(
      inferLroMode("POST", response({ "azure-asyncoperation": "https://h/a" }), "original-uri")
        ?.finalUrl,
    ).to.equal(URL_PUT);
  });

  it("picks ResourceLocation from a Location header alone @unit", () => {
    expect(inferLroMode("DELETE", response({ location: "https://h/l" }))).to.deep.equal({
      mode: "ResourceLocation",
      pollUrl: "https://h/l",
    });
  });

  it("polls the resource body for a PUT without headers, and nothing else @unit", () => {
    expect(inferLroMode("put", response({}))).to.deep.equal({ mode: "Body", pollUrl: URL_PUT });
    expect(inferLroMode("POST", response({}))).to.equal(undefined);
    expect(inferLroMode("DELETE", response({}))).to.equal(undefined);
  });
});

describe("normalizeStatus", () => {
  it("maps service statuses case-insensitively like core-lro @unit", () => {
    const cases: [string, string][] = [
      ["Succeeded", "succeeded"],
      ["SUCCEEDED", "succeeded"],
      ["Failed", "failed"],
      ["ProvisioningFailed", "failed"],
      ["Canceled", "canceled"],
      ["Cancelled", "canceled"],
      ["NotStarted", "notStarted"],
      ["InProgress", "running"],
      ["Creating", "running"],
      ["Deleting", "running"],
      ["Updating", "running"],
    ];
    for (const [value, expected] of cases) {
      expect(normalizeStatus(value), value).to.equal(expected);
    }
  });

  it("derives a missing status from the HTTP code @unit", () => {
    expect(normalizeStatus(undefined, 202)).to.equal("running");
    expect(normalizeStatus(undefined, 200)).to.equal("succeeded");
    expect(normalizeStatus("", 204)).to.equal("succeeded");
    expect(normalizeStatus(undefined, 500)).to.equal("failed");
    expect(normalizeStatus(undefined)).to.equal("running");
  });
});

describe("operationErrorOf", () => {
  it("finds the error in a status body, a resource body or compute provisioningErrors @unit", () => {
    expect(
      operationErrorOf({ status: "Failed", error: { code: "A", message: "a" } }),
    ).to.deep.equal({
      code: "A",
      message: "a",
    });
    expect(operationErrorOf({ properties: { error: { code: "B", message: "b" } } })?.code).to.equal(
      "B",
    );
    expect(
      operationErrorOf({
        properties: { provisioningErrors: [{ error: { code: "C", message: "c" } }] },
      })?.code,
    ).to.equal("C");
    expect(operationErrorOf({ status: "Failed" })).to.equal(undefined);
  });
});

/** A scripted fake of the client: each GET of a URL answers the next scripted response. */
function fakeClient(
  initial: Partial<AzureMlResponse<unknown>>,
  script: Record<string, Partial<AzureMlResponse<unknown>>[]>,
) {
  const calls: AzureMlRequest[] = [];
  const client: LroClient = {
    settings: { ...DEFAULT_SETTINGS, pollIntervalInMs: 1, maxRetryDelayInMs: 50 },
    async request<T>(request: AzureMlRequest): Promise<AzureMlResponse<T>> {
      calls.push(request);
      const url = request.url ?? `https://arm.example${request.path}?api-version=2025-12-01`;
      const next = calls.length === 1 ? initial : script[url]?.shift();
      if (!next) {
        throw new Error(`unexpected request ${request.method} ${url}`);
      }
      return {
        statusCode: 200,
        headers: {},
        body: undefined,
        url,
        attempts: 1,
        ...next,
      } as AzureMlResponse<T>;
    },
  };
  return { client, calls };
}

describe("beginLongRunning on fake responses", () => {
  const put = { method: "PUT", path: "/subscriptions/s/x", body: {}, operation: "Thing_Create" };

  it("polls Azure-AsyncOperation until Succeeded, then GETs the resource once @unit", async () => {
    const { client, calls } = fakeClient(
      {
        statusCode: 201,
        headers: { "azure-asyncoperation": "https://h/op", "retry-after-ms": "2" },
      },
      {
        "https://h/op": [
          { body: { status: "InProgress" }, headers: { "retry-after-ms": "3" } },
          { body: { status: "Succeeded" } },
        ],
        [URL_PUT]: [{ body: { name: "x", properties: { provisioningState: "Succeeded" } } }],
      },
    );
    const events: LroPollEvent[] = [];
    const operation = await beginLongRunning<{ name: string }>(client, put, {
      onPoll: (event) => events.push(event),
    });
    expect(operation.mode).to.equal("OperationLocation");
    expect(operation.operationUrl).to.equal("https://h/op");
    const result = await operation.pollUntilDone();
    expect(result.name).to.equal("x");
    expect(calls.map((c) => c.url ?? c.path)).to.deep.equal([
      "/subscriptions/s/x",
      "https://h/op",
      "https://h/op",
      URL_PUT,
    ]);
    expect(events.map((e) => [e.status, e.nextDelayInMs, e.serverDirected])).to.deep.equal([
      ["running", 3, true],
      ["succeeded", undefined, false],
    ]);
  });

  it("throws LroFailedError with the status body's error code and message @unit", async () => {
    const { client } = fakeClient(
      { statusCode: 201, headers: { "azure-asyncoperation": "https://h/op" } },
      {
        "https://h/op": [
          {
            body: { status: "Failed", error: { code: "QuotaExceeded", message: "No cores left." } },
          },
        ],
      },
    );
    const operation = await beginLongRunning(client, put);
    const error = await operation.pollUntilDone().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isLroFailedError(error), String(error)).to.equal(true);
    expect(error).to.include({
      code: "QuotaExceeded",
      status: "failed",
      operationUrl: "https://h/op",
    });
    expect((error as Error).message).to.equal(
      "Thing_Create failed: QuotaExceeded: No cores left. (resource /subscriptions/s/x)",
    );
  });

  it("reports a canceled operation as LroFailedError with status canceled @unit", async () => {
    const { client } = fakeClient(
      { statusCode: 201, headers: { "azure-asyncoperation": "https://h/op" } },
      { "https://h/op": [{ body: { status: "Canceled" } }] },
    );
    const error = await (
      await beginLongRunning(client, put)
    )
      .pollUntilDone()
      .catch((e: unknown) => e);
    expect(error).to.include({ name: "LroFailedError", status: "canceled", code: "Canceled" });
  });

  it("follows Location until it stops answering 202 @unit", async () => {
    const { client, calls } = fakeClient(
      { statusCode: 202, headers: { location: "https://h/result" } },
      { "https://h/result": [{ statusCode: 202 }, { statusCode: 202 }, { statusCode: 204 }] },
    );
    const operation = await beginLongRunning(client, {
      method: "DELETE",
      path: "/x",
      operation: "Del",
    });
    expect(operation.mode).to.equal("ResourceLocation");
    expect(await operation.pollUntilDone()).to.equal(undefined);
    expect(calls).to.have.length(4);
  });

  it("turns an error answer from the Location URL into LroFailedError @unit", async () => {
    const { client } = fakeClient(
      { statusCode: 202, headers: { location: "https://h/result" } },
      {
        "https://h/result": [
          { statusCode: 400, body: { error: { code: "Conflict", message: "Still in use." } } },
        ],
      },
    );
    const error = await (
      await beginLongRunning(client, { method: "DELETE", path: "/x", operation: "Del" })
    )
      .pollUntilDone()
      .catch((e: unknown) => e);
    expect(error).to.include({
      name: "LroFailedError",
      code: "Conflict",
      serviceMessage: "Still in use.",
    });
  });

  it("polls provisioningState of a PUT without LRO headers and fails on Failed @unit", async () => {
    const { client } = fakeClient(
      { statusCode: 201, body: { properties: { provisioningState: "Creating" } } },
      {
        [URL_PUT]: [
          { body: { properties: { provisioningState: "Creating" } } },
          {
            body: {
              properties: {
                provisioningState: "Failed",
                provisioningErrors: [{ error: { code: "VmSizeUnavailable", message: "No VMs." } }],
              },
            },
          },
        ],
      },
    );
    const operation = await beginLongRunning(client, put);
    expect(operation.mode).to.equal("Body");
    const error = await operation.pollUntilDone().catch((e: unknown) => e);
    expect(error).to.include({ name: "LroFailedError", code: "VmSizeUnavailable" });
  });

  it("finishes at once when a PUT answers a terminal body, and when a DELETE answers 404 @unit", async () => {
    const sync = fakeClient({ statusCode: 200, body: { name: "asset" } }, {});
    expect(await (await beginLongRunning(sync.client, put)).pollUntilDone()).to.deep.equal({
      name: "asset",
    });
    expect(sync.calls).to.have.length(1);
    const gone = fakeClient({ statusCode: 404, body: undefined }, {});
    const operation = await beginLongRunning(gone.client, {
      method: "DELETE",
      path: "/x",
      operation: "Del",
    });
    expect(operation.mode).to.equal(undefined);
    expect(await operation.pollUntilDone()).to.equal(undefined);
    expect(gone.calls).to.have.length(1);
  });

  it("fails a PUT whose final GET shows provisioningState Failed @unit", async () => {
    const { client } = fakeClient(
      { statusCode: 201, headers: { "azure-asyncoperation": "https://h/op" } },
      {
        "https://h/op": [{ body: { status: "Succeeded" } }],
        [URL_PUT]: [{ body: { properties: { provisioningState: "Failed" } } }],
      },
    );
    const error = await (
      await beginLongRunning(client, put)
    )
      .pollUntilDone()
      .catch((e: unknown) => e);
    expect(error).to.include({ name: "LroFailedError", status: "failed" });
  });

  it("gives up with PollTimeoutError after lroTimeoutInMs @unit", async () => {
    const running = Array.from({ length: 1000 }, () => ({ body: { status: "InProgress" } }));
    const { client } = fakeClient(
      { statusCode: 201, headers: { "azure-asyncoperation": "https://h/op" } },
      { "https://h/op": running },
    );
    const operation = await beginLongRunning(client, put, {
      lroTimeoutInMs: 30,
      pollIntervalInMs: 5,
    });
    const error = await operation.pollUntilDone().catch((e: unknown) => e);
    expect(isPollTimeoutError(error), String(error)).to.equal(true);
    expect(error).to.include({
      timeoutInMs: 30,
      operationUrl: "https://h/op",
      lastStatus: "running",
    });
  });

  it("stops polling with an AbortError when the signal aborts, without canceling @unit", async () => {
    const running = Array.from({ length: 1000 }, () => ({ body: { status: "InProgress" } }));
    const { client, calls } = fakeClient(
      { statusCode: 201, headers: { "azure-asyncoperation": "https://h/op" } },
      { "https://h/op": running },
    );
    const controller = new AbortController();
    const operation = await beginLongRunning(client, put, {
      abortSignal: controller.signal,
      pollIntervalInMs: 5,
      onPoll: (event) => {
        if (event.pollCount === 2) {
          controller.abort();
        }
      },
    });
    const error = await operation.pollUntilDone().catch((e: unknown) => e);
    expect(error).to.have.property("name", "AbortError");
    expect((error as Error).message).to.include("was not canceled");
    expect(calls.filter((c) => c.method !== "GET")).to.have.length(1);
    expect(calls).to.have.length(3);
  });
});

describe("pollUntil", () => {
  it("fetches until done, reporting each value @unit", async () => {
    let n = 0;
    const seen: number[] = [];
    const result = await pollUntil(
      async () => ++n,
      (value) => value >= 3,
      { intervalInMs: 1, timeoutInMs: 5000, onProgress: (value) => seen.push(value) },
    );
    expect(result).to.equal(3);
    expect(seen).to.deep.equal([1, 2, 3]);
  });

  it("asks a function for each interval @unit", async () => {
    const asked: [number, string][] = [];
    let n = 0;
    await pollUntil(
      async () => (++n < 3 ? "Running" : "Completed"),
      (status) => status === "Completed",
      {
        intervalInMs: (count, last) => {
          asked.push([count, last]);
          return 1;
        },
        timeoutInMs: 5000,
      },
    );
    expect(asked).to.deep.equal([
      [1, "Running"],
      [2, "Running"],
    ]);
  });

  it("throws PollTimeoutError with the last status described @unit", async () => {
    const error = await pollUntil(
      async () => "Queued",
      () => false,
      { intervalInMs: 5, timeoutInMs: 20, operation: "Jobs_Get j1", describe: (s) => s },
    ).catch((e: unknown) => e);
    expect(error).to.include({
      name: "PollTimeoutError",
      lastStatus: "Queued",
      operation: "Jobs_Get j1",
    });
  });

  it("stops with an AbortError when aborted @unit", async () => {
    const controller = new AbortController();
    const error = await pollUntil(
      async () => {
        controller.abort();
        return 1;
      },
      () => false,
      { intervalInMs: 1000, timeoutInMs: 5000, abortSignal: controller.signal },
    ).catch((e: unknown) => e);
    expect(error).to.have.property("name", "AbortError");
  });
});
