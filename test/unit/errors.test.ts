import { expect } from "chai";
import {
  AzureMlRestError,
  LroFailedError,
  NetworkError,
  PollTimeoutError,
  isAzureMlRestError,
  isLroFailedError,
  isNetworkError,
  isPollTimeoutError,
  restErrorFromResponse,
} from "../../provider/core/errors";
import { redactText, redactUrl } from "../../provider/core/redact";

/** Loads a second, independent copy of errors.js, as a serialized provider may. */
function loadSecondCopy(): typeof import("../../provider/core/errors") {
  const path = require.resolve("../../provider/core/errors");
  const cached = require.cache[path];
  delete require.cache[path];
  try {
    return require(path);
  } finally {
    require.cache[path] = cached;
  }
}

describe("AzureMlRestError", () => {
  const failed = {
    statusCode: 409,
    headers: { "x-ms-request-id": "req-1" },
    body: {
      error: {
        code: "UserError",
        message: "Asset paths cannot be updated.",
        target: "codeUri",
        details: [{ code: "Immutable", message: "codeUri" }],
      },
    },
  };

  it("reads code, message, target and details from the ARM error body @unit", () => {
    const error = restErrorFromResponse(failed, {
      method: "PUT",
      url: "https://management.azure.com/x?api-version=2025-12-01",
      operation: "CodeVersions_CreateOrUpdate",
      clientRequestId: "client-1",
    });
    expect(error.name).to.equal("AzureMlRestError");
    expect(error.code).to.equal("UserError");
    expect(error.statusCode).to.equal(409);
    expect(error.requestId).to.equal("req-1");
    expect(error.clientRequestId).to.equal("client-1");
    expect(error.target).to.equal("codeUri");
    expect(error.details).to.deep.equal([{ code: "Immutable", message: "codeUri" }]);
    expect(error.method).to.equal("PUT");
    expect(error.operation).to.equal("CodeVersions_CreateOrUpdate");
  });

  it("reads well inside a Pulumi error message @unit", () => {
    const error = restErrorFromResponse(failed, {
      method: "PUT",
      url: "https://management.azure.com/x",
      operation: "CodeVersions_CreateOrUpdate",
    });
    expect(error.message).to.equal(
      "CodeVersions_CreateOrUpdate failed: UserError: Asset paths cannot be updated. (HTTP 409, request id req-1)",
    );
  });

  it("mentions retries in the message when there were several attempts @unit", () => {
    const error = restErrorFromResponse(
      {
        statusCode: 503,
        headers: {},
        body: { error: { code: "ServiceUnavailable", message: "busy" } },
      },
      { method: "GET", url: "https://h/x", operation: "Jobs_Get", attempts: 4 },
    );
    expect(error.message).to.equal(
      "Jobs_Get failed: ServiceUnavailable: busy (HTTP 503, after 4 attempts)",
    );
  });

  it("falls back to HttpError<status> and the raw text when the body is not an ARM error @unit", () => {
    const error = restErrorFromResponse(
      { statusCode: 502, headers: {}, body: "<html>Bad Gateway</html>" },
      { method: "GET", url: "https://h/x", operation: "GET codes" },
    );
    expect(error.code).to.equal("HttpError502");
    expect(error.message).to.equal(
      "GET codes failed: HttpError502: <html>Bad Gateway</html> (HTTP 502)",
    );
    const empty = restErrorFromResponse(
      { statusCode: 500, headers: {}, body: undefined },
      { method: "GET", url: "https://h/x", operation: "GET codes" },
    );
    expect(empty.message).to.include("HttpError500").and.include("no error message");
  });

  it("explains a 401 as a credential problem @unit", () => {
    const error = restErrorFromResponse(
      {
        statusCode: 401,
        headers: {},
        body: {
          error: { code: "InvalidAuthenticationToken", message: "The access token is invalid." },
        },
      },
      { method: "GET", url: "https://h/x", operation: "Workspaces_Get" },
    );
    expect(error.message).to.match(
      /^Workspaces_Get failed: InvalidAuthenticationToken: .*credential/,
    );
  });

  it("never keeps a SAS signature or a bearer token in its url or message @unit", () => {
    const error = restErrorFromResponse(
      {
        statusCode: 403,
        headers: {},
        body: {
          error: {
            code: "AuthorizationFailure",
            message:
              "Denied https://acct.blob.core.windows.net/c/b?sv=2021-08-06&sig=abc%2Bdef&se=2026 with Bearer eyJ0eXAi.eyJhdWQi.sig",
          },
        },
      },
      {
        method: "PUT",
        url: "https://acct.blob.core.windows.net/c/b?sv=2021-08-06&sp=racwl&sig=SECRET123&se=2026-01-01",
        operation: "Blob upload",
      },
    );
    expect(error.url).to.equal(
      "https://acct.blob.core.windows.net/c/b?sv=2021-08-06&sp=racwl&sig=REDACTED&se=2026-01-01",
    );
    expect(error.message).to.not.include("abc%2Bdef").and.not.include("eyJ0eXAi");
    expect(error.message).to.include("sig=REDACTED").and.include("Bearer REDACTED");
  });
});

describe("LroFailedError, PollTimeoutError and NetworkError", () => {
  it("carries the operation's code and message and says failed or canceled @unit", () => {
    const failed = new LroFailedError({
      code: "InternalServerError",
      serviceMessage: "Compute provisioning failed.",
      status: "failed",
      operation: "Compute_CreateOrUpdate",
      operationUrl: "https://h/op?api-version=1&code=xyz",
      resourceId: "/subscriptions/s/x",
    });
    expect(failed.message).to.equal(
      "Compute_CreateOrUpdate failed: InternalServerError: Compute provisioning failed. (resource /subscriptions/s/x)",
    );
    expect(failed.operationUrl).to.equal("https://h/op?api-version=1&code=REDACTED");
    const canceled = new LroFailedError({
      code: "Canceled",
      serviceMessage: "stopped",
      status: "canceled",
      operation: "Deploy",
    });
    expect(canceled.message).to.equal("Deploy was canceled: Canceled: stopped");
    expect(canceled.status).to.equal("canceled");
  });

  it("tells the user the operation may still be running after a poll timeout @unit", () => {
    const error = new PollTimeoutError({
      operation: "BatchDeployments_CreateOrUpdate",
      timeoutInMs: 1000,
      operationUrl: "https://h/status/1",
      lastStatus: "running",
    });
    expect(error.code).to.equal("PollTimeout");
    expect(error.message).to.equal(
      "BatchDeployments_CreateOrUpdate did not finish within 1000 ms (last status: running). It may still be running; its status is at https://h/status/1. Raise azureml:lroTimeoutInSeconds to wait longer.",
    );
  });

  it("names the network error code, host and attempts @unit", () => {
    const cause = Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" });
    const error = new NetworkError({
      operation: "Jobs_Get",
      method: "GET",
      url: "https://127.0.0.1:8443/x?sig=s",
      attempts: 4,
      cause,
    });
    expect(error.code).to.equal("UND_ERR_SOCKET");
    expect(error.url).to.equal("https://127.0.0.1:8443/x?sig=REDACTED");
    expect(error.message).to.equal(
      "Jobs_Get failed: UND_ERR_SOCKET: could not get a response from 127.0.0.1:8443: other side closed (GET, 4 attempts)",
    );
    expect(error.cause).to.equal(cause);
  });
});

describe("error guards", () => {
  const rest = new AzureMlRestError({
    code: "X",
    serviceMessage: "m",
    statusCode: 500,
    operation: "op",
    method: "GET",
    url: "https://h",
  });
  const lro = new LroFailedError({
    code: "X",
    serviceMessage: "m",
    status: "failed",
    operation: "op",
  });
  const timeout = new PollTimeoutError({ operation: "op", timeoutInMs: 1 });
  const network = new NetworkError({
    operation: "op",
    method: "GET",
    url: "https://h",
    attempts: 1,
    cause: new Error("x"),
  });

  it("recognize each class and reject the others @unit", () => {
    expect([rest, lro, timeout, network].map(isAzureMlRestError)).to.deep.equal([
      true,
      false,
      false,
      false,
    ]);
    expect([rest, lro, timeout, network].map(isLroFailedError)).to.deep.equal([
      false,
      true,
      false,
      false,
    ]);
    expect([rest, lro, timeout, network].map(isPollTimeoutError)).to.deep.equal([
      false,
      false,
      true,
      false,
    ]);
    expect([rest, lro, timeout, network].map(isNetworkError)).to.deep.equal([
      false,
      false,
      false,
      true,
    ]);
    for (const value of [undefined, null, "AzureMlRestError", new Error("plain"), {}]) {
      expect(isAzureMlRestError(value)).to.equal(false);
    }
  });

  it("recognize errors thrown by a second copy of the module, where instanceof fails @unit", () => {
    const copy = loadSecondCopy();
    expect(copy.AzureMlRestError).to.not.equal(AzureMlRestError);
    const foreign = new copy.AzureMlRestError({
      code: "X",
      serviceMessage: "m",
      statusCode: 500,
      operation: "op",
      method: "GET",
      url: "https://h",
    });
    expect(foreign instanceof AzureMlRestError).to.equal(false);
    expect(isAzureMlRestError(foreign)).to.equal(true);
    expect(copy.isLroFailedError(lro)).to.equal(true);
    expect(copy.isPollTimeoutError(timeout)).to.equal(true);
  });

  it("recognize a plain object with the right name, as after structured cloning @unit", () => {
    expect(isAzureMlRestError({ name: "AzureMlRestError", message: "x" })).to.equal(true);
    expect(isLroFailedError({ name: "LroFailedError" })).to.equal(true);
    expect(isPollTimeoutError({ name: "PollTimeoutError" })).to.equal(true);
  });
});

describe("redaction", () => {
  it("redacts secret query values and keeps the rest of the URL @unit", () => {
    expect(
      redactUrl("https://a.blob.core.windows.net/c?sv=2021&ss=b&sig=abc&se=2026&spr=https#frag"),
    ).to.equal(
      "https://a.blob.core.windows.net/c?sv=2021&ss=b&sig=REDACTED&se=2026&spr=https#frag",
    );
    expect(redactUrl("https://h/cb?code=123&state=s&access_token=t&client_secret=c")).to.equal(
      "https://h/cb?code=REDACTED&state=s&access_token=REDACTED&client_secret=REDACTED",
    );
    expect(redactUrl("https://h/x?api-version=2025-12-01&%24skip=abc")).to.equal(
      "https://h/x?api-version=2025-12-01&%24skip=abc",
    );
    expect(redactUrl("https://h/x")).to.equal("https://h/x");
  });

  it("redacts tokens and signatures inside free text @unit", () => {
    expect(redactText("GET https://h/p?a=1&sig=xyz%3D failed")).to.equal(
      "GET https://h/p?a=1&sig=REDACTED failed",
    );
    expect(redactText("authorization: Bearer abc.def.ghi")).to.equal(
      "authorization: Bearer REDACTED",
    );
    expect(redactText("no secrets here")).to.equal("no secrets here");
  });
});
