// The ARM control plane on a plain node:http server, driven over HTTP with undici. Storage is a
// fake that records the containers it was asked to create (the SAS is checked against Azurite at
// the end, through the shared emulator).
import { randomUUID } from "node:crypto";
import { promises as fs } from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { ContainerClient } from "@azure/storage-blob";
import { expect } from "chai";
import { request } from "undici";
import {
  createControlPlane,
  type ControlPlane,
  type ControlPlaneOptions,
} from "../../emulator/app";
import { mintEmulatorTokens } from "../../emulator/tokens";
import { getEmulator, uniqueName } from "../support/emulator";

const SUB = "00000000-0000-0000-0000-000000000000";
const RG = "rg-emulator";
const WS_NAME = "mlw-emulator";
const WS = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.MachineLearningServices/workspaces/${WS_NAME}`;
const V = "api-version=2024-04-01";
const ACCOUNT_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: any;
}

interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Omit the Authorization header. */
  anonymous?: boolean;
  signal?: AbortSignal;
}

interface Harness {
  url: string;
  plane: ControlPlane;
  tokens: { arm: string; ml: string };
  containers: string[];
  call(method: string, pathOrUrl: string, options?: CallOptions): Promise<Reply>;
  close(): Promise<void>;
}

async function startPlane(overrides: Partial<ControlPlaneOptions> = {}): Promise<Harness> {
  const tokens = mintEmulatorTokens();
  const containers: string[] = [];
  // The public URL is known only once the server listens, so the handler looks the plane up late.
  const mounted: { plane?: ControlPlane } = {};
  const server = http.createServer((req, res) => mounted.plane?.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const plane = createControlPlane({
    publicUrl: url,
    subscriptionId: SUB,
    resourceGroupName: RG,
    workspaceName: WS_NAME,
    location: "eastus",
    tokens,
    storage: {
      accountName: "devstoreaccount1",
      accountKey: ACCOUNT_KEY,
      blobEndpoint: "http://127.0.0.1:10000/devstoreaccount1/",
      createContainer: async (name) => {
        containers.push(name);
      },
    },
    retryAfterInSeconds: 0,
    ...overrides,
  });
  mounted.plane = plane;
  const current = plane;
  return {
    url,
    plane: current,
    tokens,
    containers,
    async call(method, pathOrUrl, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.anonymous !== true && headers.authorization === undefined) {
        headers.authorization = `Bearer ${tokens.arm}`;
      }
      if (options.body !== undefined) {
        headers["content-type"] ??= "application/json";
      }
      const response = await request(
        pathOrUrl.startsWith("http") ? pathOrUrl : `${url}${pathOrUrl}`,
        {
          method: method as "GET",
          headers,
          signal: options.signal,
          body:
            options.body === undefined
              ? undefined
              : typeof options.body === "string"
                ? options.body
                : JSON.stringify(options.body),
        },
      );
      const text = await response.body.text();
      const flat: Record<string, string> = {};
      for (const [k, v] of Object.entries(response.headers)) {
        flat[k] = Array.isArray(v) ? v.join(", ") : String(v);
      }
      return {
        status: response.statusCode,
        headers: flat,
        body: text === "" ? undefined : JSON.parse(text),
      };
    },
    async close() {
      await current.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const q = (p: string, extra = "") => `${p}?${V}${extra}`;

describe("control plane: protocol @emulator", () => {
  let h: Harness;
  before(async () => {
    h = await startPlane();
  });
  after(() => h.close());

  it("answers 400 MissingApiVersionParameter without api-version @emulator", async () => {
    const r = await h.call("GET", `${WS}/codes`);
    expect(r.status).to.equal(400);
    expect(r.body.error).to.deep.equal({
      code: "MissingApiVersionParameter",
      message: "The api-version query parameter (?api-version=) is required for all requests.",
    });
  });

  it("reads api-version under any casing of its name, as ARM does @emulator", async () => {
    for (const name of ["Api-Version", "API-VERSION"]) {
      const r = await h.call("GET", `${WS}/codes?${name}=2024-04-01`);
      expect(r.status, name).to.equal(200);
    }
    const unknown = await h.call("GET", `${WS}?Api-Version=2019-05-02`);
    expect(unknown.body.error.code).to.equal("NoRegisteredProviderFound");
    const typo = await h.call("GET", `${WS}/codes?Api-Version=2024-04-01&$filtre=x`);
    expect(typo.body.error).to.include({ code: "InvalidQueryParameter", target: "$filtre" });
  });

  it("answers 400 NoRegisteredProviderFound for an unknown api-version and lists the supported ones @emulator", async () => {
    const r = await h.call("GET", `${WS}/codes?api-version=2019-05-01`);
    expect(r.status).to.equal(400);
    expect(r.body.error.code).to.equal("NoRegisteredProviderFound");
    expect(r.body.error.message)
      .to.contain("'2019-05-01'")
      .and.contain("2021-03-01-preview, 2021-10-01, 2022-02-01-preview")
      .and.contain("2026-07-01")
      .and.not.contain("2021-07-01");
  });

  it("accepts every supported api-version, including 2022-10-01 used by @azure/arm-machinelearning 2.1.1 @emulator", async () => {
    for (const version of ["2022-10-01", "2025-12-01", "2026-07-01"]) {
      expect((await h.call("GET", `${WS}?api-version=${version}`)).status).to.equal(200);
    }
  });

  it("answers 401 AuthenticationFailed with WWW-Authenticate when the Authorization header is missing @emulator", async () => {
    const r = await h.call("GET", q(WS), { anonymous: true });
    expect(r.status).to.equal(401);
    expect(r.body.error).to.deep.equal({
      code: "AuthenticationFailed",
      message: "Authentication failed. The 'Authorization' header is missing.",
    });
    expect(r.headers["www-authenticate"]).to.equal(
      'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token"',
    );
  });

  it("answers 401 InvalidAuthenticationToken for a wrong token and names the audience for an ML token @emulator", async () => {
    const wrong = await h.call("GET", q(WS), { headers: { authorization: "Bearer nonsense" } });
    expect(wrong.status).to.equal(401);
    expect(wrong.body.error.code).to.equal("InvalidAuthenticationToken");
    const ml = await h.call("GET", q(WS), { headers: { authorization: `Bearer ${h.tokens.ml}` } });
    expect(ml.status).to.equal(401);
    expect(ml.body.error.code).to.equal("InvalidAuthenticationToken");
    expect(ml.body.error.message).to.contain("wrong audience or resource 'https://ml.azure.com'");
  });

  it("answers 401, not 413, to a body over 8 MB without a token, and 413 with one @emulator", async () => {
    const big = JSON.stringify({ properties: { description: "x".repeat(9 * 1024 * 1024) } });
    const path = q(`${WS}/codes/${uniqueName("code")}`);
    const anonymous = await h.call("PUT", path, { body: big, anonymous: true });
    expect(anonymous.status).to.equal(401);
    expect(anonymous.body.error.code).to.equal("AuthenticationFailed");
    const signed = await h.call("PUT", path, { body: big });
    expect(signed.status).to.equal(413);
    expect(signed.body.error.code).to.equal("RequestEntityTooLarge");
  });

  it("checks authentication before the route: an unknown path without a token is 401 @emulator", async () => {
    expect((await h.call("GET", q(`${WS}/widgets`), { anonymous: true })).status).to.equal(401);
  });

  it("rejects unknown query parameters in strict mode with InvalidQueryParameter @emulator", async () => {
    const r = await h.call("GET", q(`${WS}/codes`, "&$filter=x"));
    expect(r.status).to.equal(400);
    expect(r.body.error).to.include({ code: "InvalidQueryParameter", target: "$filter" });
  });

  it("drops unknown body properties when strict is false, and rejects them when strict @emulator", async () => {
    const body = {
      properties: { image: "mcr.microsoft.com/azureml/minimal:1", colour: "red" },
      flavour: "vanilla",
    };
    const strict = await h.call("PUT", q(`${WS}/environments/${uniqueName("env")}/versions/1`), {
      body,
    });
    expect(strict.status).to.equal(400);
    expect(strict.body.error.details.map((d: any) => d.target)).to.have.members([
      "$.properties.colour",
      "$.flavour",
    ]);
    const loose = await startPlane({ strict: false });
    try {
      const name = uniqueName("env");
      const created = await loose.call("PUT", q(`${WS}/environments/${name}/versions/1`), {
        body,
      });
      expect(created.status).to.equal(201);
      expect(created.body.properties).to.not.have.property("colour");
      expect(created.body).to.not.have.property("flavour");
      const got = await loose.call("GET", q(`${WS}/environments/${name}/versions/1`));
      expect(got.body.properties.image).to.equal(body.properties.image);
      expect(got.body.properties).to.not.have.property("colour");
    } finally {
      await loose.close();
    }
  });

  it("ignores unknown query parameters and api-versions when strict is false @emulator", async () => {
    const loose = await startPlane({ strict: false });
    try {
      expect((await loose.call("GET", q(`${WS}/codes`, "&$filter=x"))).status).to.equal(200);
      expect(
        (await loose.call("GET", `${WS}/codes?api-version=2027-01-01-preview`)).status,
      ).to.equal(200);
      expect((await loose.call("GET", `${WS}/codes`)).status).to.equal(400);
    } finally {
      await loose.close();
    }
  });

  it("stamps request, correlation and rate-limit headers and echoes the client request id @emulator", async () => {
    const read = await h.call("GET", q(WS), {
      headers: { "x-ms-client-request-id": "client-1", "x-ms-correlation-request-id": "corr-1" },
    });
    expect(read.headers["x-ms-request-id"]).to.match(GUID);
    expect(read.headers["x-ms-client-request-id"]).to.equal("client-1");
    expect(read.headers["x-ms-correlation-request-id"]).to.equal("corr-1");
    expect(read.headers["x-ms-ratelimit-remaining-subscription-reads"]).to.match(/^\d+$/);
    expect(read.headers["content-type"]).to.equal("application/json; charset=utf-8");
    const write = await h.call("PUT", q(`${WS}/codes/${uniqueName("c")}`), {
      body: { properties: {} },
    });
    expect(write.headers["x-ms-ratelimit-remaining-subscription-writes"]).to.match(/^\d+$/);
    expect(write.headers["x-ms-correlation-request-id"]).to.match(GUID);
  });

  it("answers ARM's 404s for an unknown resource group, workspace and resource type @emulator", async () => {
    const rg = await h.call("GET", q(WS.replace(RG, "rg-missing")));
    expect(rg.status).to.equal(404);
    expect(rg.body.error).to.deep.equal({
      code: "ResourceGroupNotFound",
      message: "Resource group 'rg-missing' could not be found.",
    });
    const ws = await h.call("GET", q(`${WS.replace(WS_NAME, "mlw-missing")}/codes`));
    expect(ws.status).to.equal(404);
    expect(ws.body.error.code).to.equal("ResourceNotFound");
    expect(ws.body.error.message).to.contain(
      "The Resource 'Microsoft.MachineLearningServices/workspaces/mlw-missing' under resource group 'rg-emulator' was not found.",
    );
    const type = await h.call("GET", q(`${WS}/widgets`));
    expect(type.status).to.equal(404);
    expect(type.body.error.code).to.equal("InvalidResourceType");
  });

  it("answers an unknown asset with Azure ML's 404 (UserError, innerError NotFound) @emulator", async () => {
    const r = await h.call("GET", q(`${WS}/codes/${uniqueName("nope")}/versions/1`));
    expect(r.status).to.equal(404);
    expect(r.body.error.code).to.equal("UserError");
    expect(r.body.error.innerError).to.deep.equal({ code: "NotFound" });
  });

  it("answers 405 for a method the path does not support @emulator", async () => {
    const r = await h.call("PATCH", q(`${WS}/codes/x`), { body: {} });
    expect(r.status).to.equal(405);
    expect(r.headers.allow).to.contain("PUT");
  });

  it("answers 501 for a route the emulator does not implement yet @emulator", async () => {
    // Every operation of the spec subset has a handler now: a route added without one stands for
    // the next operation the subset gains.
    h.plane.router.add({
      id: "Test_NotImplementedYet",
      method: "GET",
      template:
        "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/" +
        "Microsoft.MachineLearningServices/workspaces/{workspaceName}/futureThings/{name}",
      plane: "arm",
      apiVersions: "ml",
      queryParameters: [],
      nameRules: [],
      scope: "workspace",
      resourceType: "workspaces/futureThings",
      faultable: true,
    });
    const r = await h.call("GET", q(`${WS}/futureThings/${uniqueName("thing")}`));
    expect(r.status, JSON.stringify(r.body)).to.equal(501);
    expect(r.body.error.code).to.equal("NotImplemented");
    expect(r.body.error.message).to.contain("Test_NotImplementedYet");
  });

  it("serves every operation of its spec subset @emulator", () => {
    const missing = h.plane.router.routes.filter(
      (r) => r.handler === undefined && !r.id.startsWith("Test_"),
    );
    expect(missing.map((r) => r.id)).to.deep.equal([]);
  });
});

describe("control plane: seeded workspace @emulator", () => {
  let h: Harness;
  before(async () => {
    h = await startPlane();
  });
  after(() => h.close());

  it("serves the workspace with its storage account, MLflow URI and workspace id @emulator", async () => {
    const r = await h.call("GET", q(WS));
    expect(r.status).to.equal(200);
    expect(r.body).to.include({
      id: WS,
      name: WS_NAME,
      location: "eastus",
      type: "Microsoft.MachineLearningServices/workspaces",
    });
    const p = r.body.properties;
    expect(p.storageAccount).to.equal(
      `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Storage/storageAccounts/devstoreaccount1`,
    );
    expect(p.mlFlowTrackingUri).to.equal(`azureml://${new URL(h.url).host}/mlflow/v1.0${WS}`);
    expect(p.workspaceId).to.match(GUID);
    expect(p.provisioningState).to.equal("Succeeded");
    expect(p.discoveryUrl).to.be.a("string");
  });

  it("serves the storage account so clients find the blob endpoint through ARM @emulator", async () => {
    const account = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Storage/storageAccounts/devstoreaccount1`;
    const r = await h.call("GET", `${account}?api-version=2023-01-01`);
    expect(r.status).to.equal(200);
    expect(r.body.properties.primaryEndpoints.blob).to.equal(
      "http://127.0.0.1:10000/devstoreaccount1/",
    );
    expect(
      (
        await h.call(
          "GET",
          `${account.replace("devstoreaccount1", "other")}?api-version=2023-01-01`,
        )
      ).status,
    ).to.equal(404);
  });

  it("lists the default datastore first-class: AzureBlob, isDefault, container named after the workspace id @emulator", async () => {
    const ws = (await h.call("GET", q(WS))).body;
    const r = await h.call("GET", q(`${WS}/datastores`, "&isDefault=true"));
    expect(r.body.value).to.have.length(1);
    const store = r.body.value[0];
    expect(store.name).to.equal("workspaceblobstore");
    expect(store.properties).to.include({
      datastoreType: "AzureBlob",
      isDefault: true,
      accountName: "devstoreaccount1",
      containerName: `azureml-blobstore-${ws.properties.workspaceId}`,
      endpoint: "core.windows.net",
      protocol: "https",
    });
    expect(store.properties.credentials).to.deep.equal({ credentialsType: "AccountKey" });
    const artifact = await h.call("GET", q(`${WS}/datastores/workspaceartifactstore`));
    expect(artifact.body.properties.isDefault).to.equal(false);
  });

  it("created the seeded datastores' containers through storage.createContainer @emulator", async () => {
    await h.plane.ready();
    const ws = (await h.call("GET", q(WS))).body;
    expect(h.containers).to.include.members([
      `azureml-blobstore-${ws.properties.workspaceId}`,
      "azureml",
    ]);
  });

  it("returns the account key from listSecrets @emulator", async () => {
    const r = await h.call("POST", q(`${WS}/datastores/workspaceblobstore/listSecrets`));
    expect(r.status).to.equal(200);
    expect(r.body).to.deep.equal({ secretsType: "AccountKey", key: ACCOUNT_KEY });
  });

  it("serves the local compute cpu-cluster as a Succeeded AmlCompute @emulator", async () => {
    const r = await h.call("GET", q(`${WS}/computes/cpu-cluster`));
    expect(r.body.properties).to.include({
      computeType: "AmlCompute",
      provisioningState: "Succeeded",
    });
    const list = await h.call("GET", q(`${WS}/computes`));
    expect(list.body.value.map((c: any) => c.name)).to.include("cpu-cluster");
  });
});

describe("control plane: asset versions @emulator", () => {
  let h: Harness;
  before(async () => {
    h = await startPlane();
  });
  after(() => h.close());

  const codeBody = (codeUri: string, extra: Record<string, unknown> = {}) => ({
    properties: {
      codeUri,
      isAnonymous: false,
      properties: { hash_sha256: "h-1", hash_version: "202208" },
      ...extra,
    },
  });

  it("creates a version with 201 and the full resource with server defaults @emulator", async () => {
    const name = uniqueName("env");
    const r = await h.call("PUT", q(`${WS}/environments/${name}/versions/1`), {
      body: { properties: { image: "python:3.11" } },
    });
    expect(r.status).to.equal(201);
    expect(r.body).to.include({
      id: `${WS}/environments/${name}/versions/1`,
      name: "1",
      type: "Microsoft.MachineLearningServices/workspaces/environments/versions",
    });
    expect(r.body.systemData.createdAt).to.be.a("string");
    expect(r.body.properties).to.include({
      image: "python:3.11",
      osType: "Linux",
      autoRebuild: "Disabled",
      environmentType: "UserCreated",
      provisioningState: "Succeeded",
      isAnonymous: false,
      isArchived: false,
    });
  });

  it("answers an identical re-PUT with 200 and the existing resource unchanged @emulator", async () => {
    const path = q(`${WS}/codes/${uniqueName("code")}/versions/1`);
    const first = await h.call("PUT", path, { body: codeBody("https://a/b/src") });
    const again = await h.call("PUT", path, { body: codeBody("https://a/b/src") });
    expect(again.status).to.equal(200);
    expect(again.body).to.deep.equal(first.body);
  });

  it("updates tags and description in place with 200 @emulator", async () => {
    const path = q(`${WS}/codes/${uniqueName("code")}/versions/1`);
    await h.call("PUT", path, { body: codeBody("https://a/b/src") });
    const r = await h.call("PUT", path, {
      body: codeBody("https://a/b/src", { tags: { team: "ml" }, description: "d" }),
    });
    expect(r.status).to.equal(200);
    expect(r.body.properties.tags).to.deep.equal({ team: "ml" });
    expect(r.body.properties.description).to.equal("d");
    expect((await h.call("GET", path)).body.properties.tags).to.deep.equal({ team: "ml" });
  });

  it("rejects a changed codeUri with 400 UserError 'Asset paths cannot be updated.' @emulator", async () => {
    const path = q(`${WS}/codes/${uniqueName("code")}/versions/1`);
    await h.call("PUT", path, { body: codeBody("https://a/b/src") });
    const r = await h.call("PUT", path, { body: codeBody("https://a/b/other") });
    expect(r.status).to.equal(400);
    expect(r.body.error).to.include({
      code: "UserError",
      message: "Asset paths cannot be updated.",
    });
  });

  it("rejects a changed data path and a changed model path the same way @emulator", async () => {
    const data = q(`${WS}/data/${uniqueName("data")}/versions/1`);
    await h.call("PUT", data, {
      body: { properties: { dataType: "uri_file", dataUri: "https://a/x.csv" } },
    });
    const d = await h.call("PUT", data, {
      body: { properties: { dataType: "uri_file", dataUri: "https://a/y.csv" } },
    });
    expect([d.status, d.body.error.message]).to.deep.equal([400, "Asset paths cannot be updated."]);
    const model = q(`${WS}/models/${uniqueName("model")}/versions/1`);
    await h.call("PUT", model, {
      body: { properties: { modelUri: "azureml://a", modelType: "custom_model" } },
    });
    const m = await h.call("PUT", model, {
      body: { properties: { modelUri: "azureml://a", modelType: "mlflow_model" } },
    });
    expect([m.status, m.body.error.message]).to.deep.equal([400, "Asset paths cannot be updated."]);
  });

  it("rejects changed environment content with 409 naming the version @emulator", async () => {
    const name = uniqueName("env");
    const path = q(`${WS}/environments/${name}/versions/3`);
    await h.call("PUT", path, { body: { properties: { image: "python:3.11" } } });
    const r = await h.call("PUT", path, { body: { properties: { image: "python:3.12" } } });
    expect(r.status).to.equal(409);
    expect(r.body.error.message).to.contain(
      `${name} version 3 is already registered and cannot be changed`,
    );
  });

  it("creates the container implicitly and tracks latestVersion and nextVersion @emulator", async () => {
    const name = uniqueName("env");
    await h.call("PUT", q(`${WS}/environments/${name}/versions/1`), {
      body: { properties: { image: "i" } },
    });
    await h.call("PUT", q(`${WS}/environments/${name}/versions/7`), {
      body: { properties: { image: "i" } },
    });
    const c = await h.call("GET", q(`${WS}/environments/${name}`));
    expect(c.status).to.equal(200);
    expect(c.body.type).to.equal("Microsoft.MachineLearningServices/workspaces/environments");
    expect(c.body.properties).to.include({ latestVersion: "7", nextVersion: "8" });
  });

  it("finds code versions by content hash across all names, with hash_version as a number or a string @emulator", async () => {
    const hash = randomUUID().replace(/-/g, "");
    const a = uniqueName("code-a");
    const b = uniqueName("code-b");
    await h.call("PUT", q(`${WS}/codes/${a}/versions/1`), {
      body: {
        properties: {
          codeUri: "https://x/a",
          properties: { hash_sha256: hash, hash_version: 202208 },
        },
      },
    });
    await h.call("PUT", q(`${WS}/codes/${b}/versions/2`), {
      body: {
        properties: {
          codeUri: "https://x/b",
          properties: { hash_sha256: hash, hash_version: "202208" },
        },
      },
    });
    const r = await h.call(
      "GET",
      q(`${WS}/codes/${uniqueName("unrelated")}/versions`, `&hash=${hash}&hashVersion=202208`),
    );
    expect(r.status).to.equal(200);
    expect(r.body.value.map((v: any) => v.id).sort()).to.deep.equal(
      [`${WS}/codes/${a}/versions/1`, `${WS}/codes/${b}/versions/2`].sort(),
    );
    expect(r.body.value[0].properties.properties.hash_version).to.equal("202208");
    const none = await h.call("GET", q(`${WS}/codes/${a}/versions`, `&hash=${hash}&hashVersion=1`));
    expect(none.body.value).to.deep.equal([]);
  });

  it("hides archived versions by default and shows them with listViewType ArchivedOnly or All @emulator", async () => {
    const name = uniqueName("data");
    const put = (v: string, isArchived: boolean) =>
      h.call("PUT", q(`${WS}/data/${name}/versions/${v}`), {
        body: { properties: { dataType: "uri_folder", dataUri: `https://x/${v}/`, isArchived } },
      });
    await put("1", false);
    await put("2", true);
    const names = async (extra: string) =>
      (await h.call("GET", q(`${WS}/data/${name}/versions`, extra))).body.value
        .map((v: any) => v.name)
        .sort();
    expect(await names("")).to.deep.equal(["1"]);
    expect(await names("&listViewType=ArchivedOnly")).to.deep.equal(["2"]);
    expect(await names("&listViewType=All")).to.deep.equal(["1", "2"]);
  });

  it("archives a version in place (isArchived is updatable) @emulator", async () => {
    const name = uniqueName("data");
    const body = (isArchived: boolean) => ({
      properties: { dataType: "uri_file", dataUri: "https://x/f.csv", isArchived },
    });
    await h.call("PUT", q(`${WS}/data/${name}/versions/1`), { body: body(false) });
    const r = await h.call("PUT", q(`${WS}/data/${name}/versions/1`), { body: body(true) });
    expect([r.status, r.body.properties.isArchived]).to.deep.equal([200, true]);
  });

  it("pages 20 at a time by default and follows nextLink verbatim, newest first @emulator", async () => {
    const name = uniqueName("env");
    for (let i = 1; i <= 25; i++) {
      await h.call("PUT", q(`${WS}/environments/${name}/versions/${i}`), {
        body: { properties: { image: "i" } },
      });
    }
    const first = await h.call("GET", q(`${WS}/environments/${name}/versions`));
    expect(first.body.value).to.have.length(20);
    expect(first.body.value[0].name).to.equal("25");
    expect(first.body.nextLink).to.match(new RegExp(`^${h.url}/subscriptions/`));
    const second = await h.call("GET", first.body.nextLink);
    expect(second.body.value.map((v: any) => v.name)).to.deep.equal(["5", "4", "3", "2", "1"]);
    expect(second.body.nextLink).to.equal(undefined);
  });

  it("uses $top as the page size and honours $orderBy createdtime asc @emulator", async () => {
    const name = uniqueName("env");
    for (let i = 1; i <= 5; i++) {
      await h.call("PUT", q(`${WS}/environments/${name}/versions/${i}`), {
        body: { properties: { image: "i" } },
      });
    }
    const seen: string[] = [];
    let next: string | undefined = q(
      `${WS}/environments/${name}/versions`,
      "&$top=2&$orderBy=createdtime%20asc",
    );
    let pages = 0;
    while (next !== undefined) {
      const page: Reply = await h.call("GET", next);
      seen.push(...page.body.value.map((v: any) => v.name));
      next = page.body.nextLink;
      pages += 1;
    }
    expect(seen).to.deep.equal(["1", "2", "3", "4", "5"]);
    expect(pages).to.equal(3);
  });

  it("rejects a $skip token it did not issue @emulator", async () => {
    const r = await h.call("GET", q(`${WS}/environments/x/versions`, "&$skip=garbage"));
    expect(r.status).to.equal(400);
    expect(r.body.error.target).to.equal("$skip");
  });

  it("rejects a model version that is not a positive integer and names it @emulator", async () => {
    for (const version of ["abc", "0", "1.5"]) {
      const r = await h.call("PUT", q(`${WS}/models/${uniqueName("m")}/versions/${version}`), {
        body: { properties: { modelUri: "azureml://x" } },
      });
      expect(r.status).to.equal(400);
      expect(r.body.error.code).to.equal("UserError");
      expect(r.body.error.message).to.contain(`'${version}'`);
    }
  });

  it("sets a model container's nextVersion to the highest integer version plus one @emulator", async () => {
    const name = uniqueName("model");
    for (const v of ["1", "5", "3"]) {
      await h.call("PUT", q(`${WS}/models/${name}/versions/${v}`), {
        body: { properties: { modelUri: `azureml://m/${v}` } },
      });
    }
    const c = await h.call("GET", q(`${WS}/models/${name}`));
    expect(c.body.properties).to.include({ latestVersion: "3", nextVersion: "6" });
    await h.call("DELETE", q(`${WS}/models/${name}/versions/5`));
    expect((await h.call("GET", q(`${WS}/models/${name}`))).body.properties.nextVersion).to.equal(
      "4",
    );
  });

  it("sends a 204 without Content-Length or body, and other empty answers with Content-Length 0 @emulator", async () => {
    const path = q(`${WS}/codes/${uniqueName("code")}/versions/1`);
    const gone = await h.call("DELETE", path);
    expect(gone.status).to.equal(204);
    expect(gone.headers).to.not.have.property("content-length");
    expect(gone.headers).to.not.have.property("transfer-encoding");
    expect(gone.body).to.equal(undefined);
    await h.call("PUT", path, { body: codeBody("https://a/b") });
    const deleted = await h.call("DELETE", path);
    expect([deleted.status, deleted.headers["content-length"]]).to.deep.equal([200, "0"]);
  });

  it("deletes versions with 200, then 204 when already gone @emulator", async () => {
    const path = q(`${WS}/codes/${uniqueName("code")}/versions/1`);
    await h.call("PUT", path, { body: codeBody("https://a/b") });
    expect((await h.call("DELETE", path)).status).to.equal(200);
    expect((await h.call("DELETE", path)).status).to.equal(204);
    expect((await h.call("GET", path)).status).to.equal(404);
  });

  it("creates and updates containers with 201 then 200, and deleting one removes its versions @emulator", async () => {
    const name = uniqueName("code");
    const created = await h.call("PUT", q(`${WS}/codes/${name}`), {
      body: { properties: { description: "one" } },
    });
    expect(created.status).to.equal(201);
    const updated = await h.call("PUT", q(`${WS}/codes/${name}`), {
      body: { properties: { description: "two" } },
    });
    expect([updated.status, updated.body.properties.description]).to.deep.equal([200, "two"]);
    await h.call("PUT", q(`${WS}/codes/${name}/versions/1`), { body: codeBody("https://a/b") });
    expect((await h.call("DELETE", q(`${WS}/codes/${name}`))).status).to.equal(200);
    expect((await h.call("GET", q(`${WS}/codes/${name}/versions/1`))).status).to.equal(404);
  });

  it("refuses to change a data container's dataType with 409 saying so @emulator", async () => {
    const name = uniqueName("data");
    await h.call("PUT", q(`${WS}/data/${name}/versions/1`), {
      body: { properties: { dataType: "uri_file", dataUri: "https://a/x.csv" } },
    });
    const same = await h.call("PUT", q(`${WS}/data/${name}`), {
      body: { properties: { dataType: "uri_file", description: "csv files" } },
    });
    expect([same.status, same.body.properties.dataType]).to.deep.equal([200, "uri_file"]);
    const changed = await h.call("PUT", q(`${WS}/data/${name}`), {
      body: { properties: { dataType: "uri_folder" } },
    });
    expect(changed.status).to.equal(409);
    expect(changed.body.error).to.deep.equal({
      code: "UserError",
      message:
        `Data container ${name} holds uri_file data; its dataType cannot change to uri_folder. ` +
        "Register the uri_folder data under another name.",
      target: "properties.dataType",
      innerError: { code: "Conflict" },
    });
  });

  it("validates asset names on PUT and points the error at the parameter @emulator", async () => {
    const r = await h.call("PUT", q(`${WS}/codes/${encodeURIComponent("bad name!")}/versions/1`), {
      body: codeBody("https://a"),
    });
    expect(r.status).to.equal(400);
    expect(r.body.error.target).to.equal("name");
  });

  it("starts a pending upload: a fresh container and a container SAS for it @emulator", async () => {
    const r = await h.call(
      "POST",
      q(`${WS}/codes/${uniqueName("code")}/versions/1/startPendingUpload`),
      {
        body: { pendingUploadType: "TemporaryBlobReference" },
      },
    );
    expect(r.status).to.equal(200);
    const ref = r.body.blobReferenceForConsumption;
    const container = ref.blobUri.replace("http://127.0.0.1:10000/devstoreaccount1/", "");
    expect(container).to.match(/^code-[0-9a-f-]{36}$/);
    expect(h.containers).to.include(container);
    expect(ref.credential.credentialType).to.equal("SAS");
    const sas = new URL(ref.credential.sasUri);
    expect(`${sas.origin}${sas.pathname}`).to.equal(ref.blobUri);
    expect(sas.searchParams.get("sr")).to.equal("c");
    expect(sas.searchParams.get("sp")).to.equal("racwl");
    expect(ref.storageAccountArmId).to.match(
      /\/providers\/Microsoft\.Storage\/storageAccounts\/devstoreaccount1$/,
    );
    expect(r.body.pendingUploadType).to.equal("TemporaryBlobReference");
    expect(r.body.pendingUploadId).to.be.a("string");
  });

  it("returns the same container for the same pendingUploadId @emulator", async () => {
    const path = q(`${WS}/codes/${uniqueName("code")}/versions/1/startPendingUpload`);
    const id = randomUUID();
    const a = await h.call("POST", path, { body: { pendingUploadId: id } });
    const b = await h.call("POST", path, { body: { pendingUploadId: id } });
    expect(b.body.blobReferenceForConsumption.blobUri).to.equal(
      a.body.blobReferenceForConsumption.blobUri,
    );
  });
});

describe("control plane: computes as long-running operations @emulator", () => {
  let h: Harness;
  before(async () => {
    h = await startPlane({ progression: { mode: "polls", polls: 2 } });
  });
  after(() => h.close());

  const amlCompute = {
    location: "eastus",
    properties: {
      computeType: "AmlCompute",
      properties: { vmSize: "STANDARD_D2_V2", scaleSettings: { maxNodeCount: 2, minNodeCount: 0 } },
    },
  };

  it("creates with 201 + Azure-AsyncOperation, reports InProgress then Succeeded, and the GET shows Succeeded @emulator", async () => {
    const name = `gpu${randomUUID().slice(0, 8)}`;
    const put = await h.call("PUT", q(`${WS}/computes/${name}`), { body: amlCompute });
    expect(put.status).to.equal(201);
    expect(put.body.properties.provisioningState).to.equal("Creating");
    const statusUrl = put.headers["azure-asyncoperation"];
    expect(statusUrl).to.match(
      new RegExp(
        `^${h.url}/subscriptions/${SUB}/providers/Microsoft.MachineLearningServices/locations/eastus/mfeOperationsStatus/`,
      ),
    );
    expect(statusUrl).to.contain("api-version=2024-04-01");
    expect(put.headers["retry-after"]).to.equal("0");
    expect(put.body.properties.properties.AzureAsyncOperationUri).to.equal(statusUrl);

    const first = await h.call("GET", statusUrl);
    expect(first.status).to.equal(200);
    expect(first.body.status).to.equal("InProgress");
    const second = await h.call("GET", statusUrl);
    expect(second.body.status).to.equal("Succeeded");
    expect(second.body.endTime).to.be.a("string");
    const got = await h.call("GET", q(`${WS}/computes/${name}`));
    expect(got.body.properties.provisioningState).to.equal("Succeeded");
    expect(got.body.properties.properties.AzureAsyncOperationUri).to.equal(undefined);
  });

  it("deletes with 202 + Location + Azure-AsyncOperation; Location answers 202 until done, then 204, and the compute is gone @emulator", async () => {
    const name = `del${randomUUID().slice(0, 8)}`;
    await h.call("PUT", q(`${WS}/computes/${name}`), { body: amlCompute });
    // Each GET is an observation: two of them finish the create (progression polls:2).
    expect(
      (await h.call("GET", q(`${WS}/computes/${name}`))).body.properties.provisioningState,
    ).to.equal("Creating");
    expect(
      (await h.call("GET", q(`${WS}/computes/${name}`))).body.properties.provisioningState,
    ).to.equal("Succeeded");
    const del = await h.call(
      "DELETE",
      q(`${WS}/computes/${name}`, "&underlyingResourceAction=Delete"),
    );
    expect(del.status).to.equal(202);
    expect(del.headers["azure-asyncoperation"]).to.contain("/mfeOperationsStatus/");
    const location = del.headers.location;
    expect(location).to.contain("/mfeOperationResults/");
    const first = await h.call("GET", location);
    expect(first.status).to.equal(202);
    expect(first.headers["retry-after"]).to.equal("0");
    const done = await h.call("GET", location);
    expect(done.status).to.equal(204);
    expect((await h.call("GET", q(`${WS}/computes/${name}`))).status).to.equal(404);
  });

  it("shows provisioningState Deleting while a delete runs @emulator", async () => {
    const name = `dls${randomUUID().slice(0, 8)}`;
    await h.call("PUT", q(`${WS}/computes/${name}`), { body: amlCompute });
    const status = (await h.call("PUT", q(`${WS}/computes/${name}`), { body: amlCompute })).status;
    expect(status).to.equal(409); // the create is still running
    await h.call("GET", q(`${WS}/computes/${name}`));
    await h.call("GET", q(`${WS}/computes/${name}`));
    const del = await h.call(
      "DELETE",
      q(`${WS}/computes/${name}`, "&underlyingResourceAction=Delete"),
    );
    expect(
      (await h.call("GET", q(`${WS}/computes/${name}`))).body.properties.provisioningState,
    ).to.equal("Deleting");
    expect((await h.call("GET", del.headers.location)).status).to.equal(204);
  });

  it("answers 409 to a DELETE while the create runs, and the compute stays deletable and creatable @emulator", async () => {
    const name = `race${randomUUID().slice(0, 8)}`;
    const path = q(`${WS}/computes/${name}`);
    const del = q(`${WS}/computes/${name}`, "&underlyingResourceAction=Delete");
    expect((await h.call("PUT", path, { body: amlCompute })).status).to.equal(201);
    const refused = await h.call("DELETE", del);
    expect(refused.status).to.equal(409);
    expect(refused.body.error).to.include({ code: "Conflict", target: "computeName" });
    expect(refused.body.error.message).to.contain("operation in progress");
    await h.call("GET", path);
    expect((await h.call("GET", path)).body.properties.provisioningState).to.equal("Succeeded");

    const deleting = await h.call("DELETE", del);
    expect(deleting.status).to.equal(202);
    expect((await h.call("DELETE", del)).status).to.equal(409);
    expect((await h.call("PUT", path, { body: amlCompute })).status).to.equal(409);
    await h.call("GET", deleting.headers.location);
    expect((await h.call("GET", deleting.headers.location)).status).to.equal(204);

    const again = await h.call("PUT", path, { body: amlCompute });
    expect(again.status).to.equal(201);
    expect((await h.call("GET", again.headers["azure-asyncoperation"])).body.status).to.equal(
      "InProgress",
    );
    expect((await h.call("GET", again.headers["azure-asyncoperation"])).body.status).to.equal(
      "Succeeded",
    );
  });

  it("deletes a compute that does not exist with 204 @emulator", async () => {
    expect(
      (
        await h.call(
          "DELETE",
          q(`${WS}/computes/ghost${randomUUID().slice(0, 6)}`, "&underlyingResourceAction=Delete"),
        )
      ).status,
    ).to.equal(204);
  });

  it("validates compute names with the compute rule @emulator", async () => {
    for (const bad of ["cluster-1", "ab", "under_score"]) {
      const r = await h.call("PUT", q(`${WS}/computes/${bad}`), { body: amlCompute });
      expect(r.status).to.equal(400);
      expect(r.body.error.target).to.equal("computeName");
    }
  });
});

describe("control plane: names match case-insensitively, as ARM's @emulator", () => {
  let h: Harness;
  before(async () => {
    h = await startPlane({ progression: { mode: "immediate" } });
  });
  after(() => h.close());

  const blobDatastore = {
    properties: {
      datastoreType: "AzureBlob",
      accountName: "devstoreaccount1",
      containerName: "data",
      credentials: { credentialsType: "None" },
    },
  };

  it("finds a compute under any casing, and a PUT with other casing updates it and returns that casing @emulator", async () => {
    const name = `Case${randomUUID().slice(0, 8)}x`;
    const body = { properties: { computeType: "AmlCompute", properties: {} } };
    expect((await h.call("PUT", q(`${WS}/computes/${name}`), { body })).status).to.equal(201);
    const got = await h.call("GET", q(`${WS}/computes/${name.toLowerCase()}`));
    expect(got.status).to.equal(200);
    expect(got.body.name).to.equal(name);

    const upper = name.toUpperCase();
    const updated = await h.call("PUT", q(`${WS}/computes/${upper}`), { body });
    expect(updated.status).to.equal(200);
    expect(updated.body.name).to.equal(upper);
    expect(updated.body.id).to.equal(`${WS}/computes/${upper}`);
    const listed = (await h.call("GET", q(`${WS}/computes`))).body.value.filter(
      (c: any) => c.name.toLowerCase() === name.toLowerCase(),
    );
    expect(listed.map((c: any) => c.name)).to.deep.equal([upper]);
    const del = await h.call(
      "DELETE",
      q(`${WS}/computes/${name.toLowerCase()}`, "&underlyingResourceAction=Delete"),
    );
    expect(del.status).to.equal(202);
    await h.call("GET", del.headers.location);
    expect((await h.call("GET", q(`${WS}/computes/${name}`))).status).to.equal(404);
  });

  it("finds asset containers and versions under any casing; the latest PUT's casing is returned @emulator", async () => {
    const name = `MyEnv-${randomUUID().slice(0, 8)}`;
    const body = { properties: { image: "mcr.microsoft.com/azureml/minimal:1" } };
    expect(
      (await h.call("PUT", q(`${WS}/environments/${name}/versions/1`), { body })).status,
    ).to.equal(201);
    const lower = await h.call("GET", q(`${WS}/environments/${name.toLowerCase()}/versions/1`));
    expect([lower.status, lower.body.id]).to.deep.equal([
      200,
      `${WS}/environments/${name}/versions/1`,
    ]);

    const upper = name.toUpperCase();
    const again = await h.call("PUT", q(`${WS}/environments/${upper}/versions/1`), { body });
    expect(again.status).to.equal(200);
    expect(again.body.id).to.equal(`${WS}/environments/${upper}/versions/1`);
    const versions = await h.call("GET", q(`${WS}/environments/${name.toLowerCase()}/versions`));
    expect(versions.body.value.map((v: any) => v.id)).to.deep.equal([
      `${WS}/environments/${upper}/versions/1`,
    ]);
    const container = await h.call("GET", q(`${WS}/environments/${upper}`));
    expect([container.status, container.body.name]).to.deep.equal([200, name]);
    expect(container.body.properties.latestVersion).to.equal("1");

    const renamed = await h.call("PUT", q(`${WS}/environments/${upper}`), {
      body: { properties: { description: "renamed" } },
    });
    expect([renamed.status, renamed.body.name]).to.deep.equal([200, upper]);
    expect((await h.call("DELETE", q(`${WS}/environments/${name}`))).status).to.equal(200);
    expect((await h.call("GET", q(`${WS}/environments/${upper}/versions/1`))).status).to.equal(404);
  });

  it("finds a datastore under any casing; a PUT with other casing updates the same one @emulator", async () => {
    const name = `Store${randomUUID().slice(0, 8)}`;
    expect(
      (await h.call("PUT", q(`${WS}/datastores/${name}`), { body: blobDatastore })).status,
    ).to.equal(201);
    const got = await h.call("GET", q(`${WS}/datastores/${name.toUpperCase()}`));
    expect([got.status, got.body.name]).to.deep.equal([200, name]);
    const updated = await h.call("PUT", q(`${WS}/datastores/${name.toLowerCase()}`), {
      body: blobDatastore,
    });
    expect([updated.status, updated.body.name]).to.deep.equal([200, name.toLowerCase()]);
    const named = await h.call("GET", q(`${WS}/datastores`, `&names=${name.toUpperCase()}`));
    expect(named.body.value.map((d: any) => d.name)).to.deep.equal([name.toLowerCase()]);
    expect((await h.call("DELETE", q(`${WS}/datastores/${name}`))).status).to.equal(200);
    expect((await h.call("GET", q(`${WS}/datastores/${name}`))).status).to.equal(404);
  });
});

describe("control plane: LRO scenario routes @emulator", () => {
  let h: Harness;
  before(async () => {
    h = await startPlane();
  });
  after(() => h.close());

  const name = () => uniqueName("scenario");

  it("put/201/asyncop/{n}/succeeded succeeds at the n-th status poll and the original URI returns the resource @emulator", async () => {
    const path = `/_scenarios/${name()}/put/201/asyncop/3/succeeded`;
    const put = await h.call("PUT", q(path), { body: { properties: { a: 1 } } });
    expect(put.status).to.equal(201);
    expect(put.body.properties.provisioningState).to.equal("Creating");
    const url = put.headers["azure-asyncoperation"];
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await h.call("GET", url)).body.status);
    }
    expect(statuses).to.deep.equal(["InProgress", "InProgress", "Succeeded"]);
    const final = await h.call("GET", q(path));
    expect(final.body.properties).to.deep.equal({ a: 1, provisioningState: "Succeeded" });
  });

  it("put/200/body/{n} has no LRO headers and reaches Succeeded at the n-th GET @emulator", async () => {
    const path = `/_scenarios/${name()}/put/200/body/2`;
    const put = await h.call("PUT", q(path), { body: {} });
    expect(put.status).to.equal(200);
    expect(put.headers["azure-asyncoperation"]).to.equal(undefined);
    expect(put.headers.location).to.equal(undefined);
    expect(put.body.properties.provisioningState).to.equal("Creating");
    expect((await h.call("GET", q(path))).body.properties.provisioningState).to.equal("Creating");
    expect((await h.call("GET", q(path))).body.properties.provisioningState).to.equal("Succeeded");
  });

  it("delete/202/location/{n} answers 202 on the Location URL until the n-th poll, then 204 @emulator", async () => {
    const del = await h.call("DELETE", q(`/_scenarios/${name()}/delete/202/location/2`));
    expect(del.status).to.equal(202);
    expect(del.headers["retry-after"]).to.equal("0");
    const location = del.headers.location;
    expect((await h.call("GET", location)).status).to.equal(202);
    expect((await h.call("GET", location)).status).to.equal(204);
  });

  it("post/202/location/{n} ends with 200 and a body on the Location URL @emulator", async () => {
    const scenario = name();
    const post = await h.call("POST", q(`/_scenarios/${scenario}/post/202/location/1`));
    expect(post.status).to.equal(202);
    const done = await h.call("GET", post.headers.location);
    expect(done.status).to.equal(200);
    expect(done.body).to.deep.equal({ name: scenario, status: "Succeeded", result: "done" });
  });

  it("put/201/asyncop/failed reports Failed with an error, and the resource shows Failed @emulator", async () => {
    const path = `/_scenarios/${name()}/put/201/asyncop/failed`;
    const put = await h.call("PUT", q(path), { body: {} });
    const status = await h.call("GET", put.headers["azure-asyncoperation"]);
    expect(status.body.status).to.equal("Failed");
    expect(status.body.error).to.have.keys("code", "message");
    expect((await h.call("GET", q(path))).body.properties.provisioningState).to.equal("Failed");
  });

  it("put/201/asyncop/canceled reports Canceled with an error @emulator", async () => {
    const put = await h.call("PUT", q(`/_scenarios/${name()}/put/201/asyncop/canceled`), {
      body: {},
    });
    const status = await h.call("GET", put.headers["azure-asyncoperation"]);
    expect(status.body.status).to.equal("Canceled");
    expect(status.body.error.code).to.equal("OperationCanceled");
  });

  it("put/201/asyncop/nostatus answers a status body without a status field @emulator", async () => {
    const path = `/_scenarios/${name()}/put/201/asyncop/nostatus`;
    const put = await h.call("PUT", q(path), { body: {} });
    const status = await h.call("GET", put.headers["azure-asyncoperation"]);
    expect(status.status).to.equal(200);
    expect(status.body).to.have.property("name");
    expect(status.body).to.not.have.property("status");
    expect((await h.call("GET", q(path))).status).to.equal(200);
  });

  it("delete/202/location/failed answers the Location poll with 500 and an ARM error (or the status asked for) @emulator", async () => {
    const del = await h.call("DELETE", q(`/_scenarios/${name()}/delete/202/location/failed`));
    const failed = await h.call("GET", del.headers.location);
    expect(failed.status).to.equal(500);
    expect(failed.body.error).to.have.keys("code", "message");
    const del400 = await h.call(
      "DELETE",
      q(`/_scenarios/${name()}/delete/202/location/failed/400`),
    );
    const failed400 = await h.call("GET", del400.headers.location);
    expect(failed400.status).to.equal(400);
    expect(failed400.body.error.code).to.equal("ScenarioFailed");
  });

  it("requires auth and an api-version on scenario routes too @emulator", async () => {
    expect(
      (
        await h.call("PUT", q(`/_scenarios/${name()}/put/200/body/1`), {
          anonymous: true,
          body: {},
        })
      ).status,
    ).to.equal(401);
    expect(
      (await h.call("PUT", `/_scenarios/${name()}/put/200/body/1`, { body: {} })).status,
    ).to.equal(400);
  });
});

describe("control plane: faults @emulator", () => {
  let h: Harness;
  before(async () => {
    h = await startPlane();
  });
  after(() => h.close());
  beforeEach(() => h.plane.faults.clear());

  it("answers a 429 fault with Retry-After and an ARM TooManyRequests body, then serves normally @emulator", async () => {
    h.plane.faults.add({ kind: "status", status: 429, path: "/datastores" });
    const throttled = await h.call("GET", q(`${WS}/datastores`));
    expect(throttled.status).to.equal(429);
    expect(throttled.headers["retry-after"]).to.equal("1");
    expect(throttled.body.error.code).to.equal("TooManyRequests");
    expect(throttled.headers["x-ms-request-id"]).to.match(GUID);
    expect((await h.call("GET", q(`${WS}/datastores`))).status).to.equal(200);
  });

  it("answers a 503 fault with the retry-after-ms headers when asked and an InternalServerError body @emulator", async () => {
    h.plane.faults.add({
      kind: "status",
      status: 503,
      retryAfterMs: 10,
      method: "GET",
      path: "/computes",
    });
    const r = await h.call("GET", q(`${WS}/computes`));
    expect(r.status).to.equal(503);
    expect(r.headers["retry-after-ms"]).to.equal("10");
    expect(r.headers["x-ms-retry-after-ms"]).to.equal("10");
    expect(r.body.error.code).to.equal("InternalServerError");
  });

  it("drops the connection without a response for a drop fault and logs status 0 @emulator", async () => {
    h.plane.faults.add({ kind: "drop", path: "/computes/cpu-cluster" });
    const mark = h.plane.requests.mark();
    let failure: unknown;
    try {
      await h.call("GET", q(`${WS}/computes/cpu-cluster`));
    } catch (e) {
      failure = e;
    }
    expect(failure).to.be.instanceOf(Error);
    const records = h.plane.requests.since(mark);
    expect(records.map((r) => [r.status, r.fault])).to.deep.equal([[0, "drop"]]);
  });

  it("serves normally after a latency fault and logs it @emulator", async () => {
    h.plane.faults.add({ kind: "latency", latencyInMs: 20, path: "/workspaces/" });
    const mark = h.plane.requests.mark();
    expect((await h.call("GET", q(WS))).status).to.equal(200);
    expect(h.plane.requests.since(mark).map((r) => [r.status, r.fault])).to.deep.equal([
      [200, "latency"],
    ]);
  });

  it("logs status 0 for a request the client abandoned during a latency fault, and does not serve it @emulator", async () => {
    h.plane.faults.add({ kind: "latency", latencyInMs: 600_000, method: "PUT" });
    const name = uniqueName("env");
    const mark = h.plane.requests.mark();
    const aborted = new AbortController();
    const call = h
      .call("PUT", q(`${WS}/environments/${name}/versions/1`), {
        body: { properties: { image: "img" } },
        signal: aborted.signal,
      })
      .catch((e: unknown) => e);
    // The request waits in the latency fault once its rule was taken.
    while (h.plane.faults.list().length > 0) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    aborted.abort();
    expect(await call).to.be.instanceOf(Error);
    while (h.plane.requests.since(mark).length === 0) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(h.plane.requests.since(mark).map((r) => [r.method, r.status, r.fault])).to.deep.equal([
      ["PUT", 0, "latency"],
    ]);
    expect(h.plane.faults.pendingDelays()).to.equal(0);
    expect((await h.call("GET", q(`${WS}/environments/${name}/versions/1`))).status).to.equal(404);
  });

  it("ends the next matching operation Failed for an lroFail fault and leaves the compute Failed @emulator", async () => {
    h.plane.faults.add({
      kind: "lroFail",
      path: "/computes/",
      error: { code: "QuotaExceeded", message: "No quota left." },
    });
    const name = `lro${randomUUID().slice(0, 8)}`;
    const put = await h.call("PUT", q(`${WS}/computes/${name}`), {
      body: { properties: { computeType: "AmlCompute", properties: {} } },
    });
    expect(put.status).to.equal(201);
    const status = await h.call("GET", put.headers["azure-asyncoperation"]);
    expect(status.body.status).to.equal("Failed");
    expect(status.body.error).to.deep.equal({ code: "QuotaExceeded", message: "No quota left." });
    expect(
      (await h.call("GET", q(`${WS}/computes/${name}`))).body.properties.provisioningState,
    ).to.equal("Failed");
  });

  it("records every request with plane, status, query and client request id @emulator", async () => {
    const mark = h.plane.requests.mark();
    await h.call("GET", q(`${WS}/codes`), { headers: { "x-ms-client-request-id": "rec-1" } });
    await h.call("GET", `${WS}/codes`);
    const records = h.plane.requests.since(mark);
    expect(records.map((r) => [r.plane, r.method, r.path, r.status])).to.deep.equal([
      ["arm", "GET", `${WS}/codes`, 200],
      ["arm", "GET", `${WS}/codes`, 400],
    ]);
    expect(records[0].query).to.equal(V);
    expect(records[0].clientRequestId).to.equal("rec-1");
    expect(records[0].requestId).to.match(GUID);
  });
});

describe("control plane: admin API @emulator", () => {
  let h: Harness;
  before(async () => {
    h = await startPlane();
  });
  after(() => h.close());
  // A failed test must not leave rules behind for the next one.
  beforeEach(() => h.plane.faults.clear());
  afterEach(() => h.plane.faults.clear());

  it("adds a fault over HTTP, which then applies to the next ARM request @emulator", async () => {
    const added = await h.call("POST", "/_emulator/faults", {
      body: { kind: "status", status: 500, path: "/codes" },
    });
    expect(added.status).to.equal(201);
    expect(added.body.id).to.be.a("string");
    const listed = await h.call("GET", "/_emulator/faults");
    expect(listed.body.value).to.have.length(1);
    expect((await h.call("GET", q(`${WS}/codes`))).status).to.equal(500);
    expect((await h.call("GET", q(`${WS}/codes`))).status).to.equal(200);
  });

  it("rejects an invalid fault rule with 400 @emulator", async () => {
    const r = await h.call("POST", "/_emulator/faults", { body: { kind: "explode" } });
    expect(r.status).to.equal(400);
  });

  it("rejects a badly typed fault rule with 400 naming the field, and keeps serving @emulator", async () => {
    for (const [body, field] of [
      [{ kind: "drop", method: 5 }, "method"],
      [{ kind: "drop", path: ["/codes"] }, "path"],
      [{ kind: "status", status: 503, retryAfter: 1 }, "retryAfter"],
      [{ kind: "latency", latencyInMs: 1e12 }, "latencyInMs"],
      [{ kind: "status", status: 204 }, "status"],
    ] as const) {
      const r = await h.call("POST", "/_emulator/faults", { body });
      expect(r.status, JSON.stringify(body)).to.equal(400);
      expect(r.body.error.message).to.contain(field);
    }
    expect((await h.call("GET", "/_emulator/faults")).body.value).to.deep.equal([]);
    expect((await h.call("GET", q(WS))).status).to.equal(200);
    expect((await h.call("GET", q(`${WS}/codes`))).status).to.equal(200);
  });

  it("is never faulted itself and clears faults with DELETE @emulator", async () => {
    await h.call("POST", "/_emulator/faults", { body: { kind: "status", status: 503, times: 5 } });
    expect((await h.call("GET", "/_emulator/faults")).status).to.equal(200);
    expect((await h.call("DELETE", "/_emulator/faults")).status).to.equal(204);
    expect((await h.call("GET", q(WS))).status).to.equal(200);
  });

  it("lists requests since a sequence number and clears them @emulator", async () => {
    const before = (await h.call("GET", "/_emulator/requests")).body.mark as number;
    await h.call("GET", q(WS), { headers: { "x-ms-client-request-id": "admin-check" } });
    const listed = await h.call("GET", `/_emulator/requests?since=${before}`);
    const arm = listed.body.value.filter((r: any) => r.plane === "arm");
    expect(arm).to.have.length(1);
    expect(arm[0]).to.include({
      method: "GET",
      path: WS,
      status: 200,
      clientRequestId: "admin-check",
    });
    expect(listed.body.value.every((r: any) => r.seq > before)).to.equal(true);
    expect((await h.call("DELETE", "/_emulator/requests")).status).to.equal(204);
    // The DELETE itself is recorded once its response is known, after the clear.
    const after = await h.call("GET", "/_emulator/requests");
    expect(after.body.value.map((r: any) => `${r.method} ${r.path}`)).to.deep.equal([
      "DELETE /_emulator/requests",
    ]);
  });

  it("resets to the seeded state: assets gone, seeded compute and datastores back @emulator", async () => {
    const code = `${WS}/codes/${uniqueName("code")}/versions/1`;
    await h.call("PUT", q(code), { body: { properties: { codeUri: "https://a" } } });
    await h.call("DELETE", q(`${WS}/computes/cpu-cluster`, "&underlyingResourceAction=Delete"));
    expect((await h.call("POST", "/_emulator/reset")).status).to.equal(204);
    expect((await h.call("GET", q(code))).status).to.equal(404);
    expect(
      (await h.call("GET", q(`${WS}/computes/cpu-cluster`))).body.properties.provisioningState,
    ).to.equal("Succeeded");
    expect((await h.call("GET", q(`${WS}/datastores/workspaceblobstore`))).status).to.equal(200);
  });

  it("requires the ARM token @emulator", async () => {
    expect((await h.call("GET", "/_emulator/requests", { anonymous: true })).status).to.equal(401);
    expect(
      (
        await h.call("POST", "/_emulator/reset", {
          headers: { authorization: `Bearer ${h.tokens.ml}` },
        })
      ).status,
    ).to.equal(401);
  });
});

describe("control plane: persistence @emulator", () => {
  it("keeps assets across a restart when dataDir is set @emulator", async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "azureml-cp-"));
    try {
      const name = uniqueName("env");
      const first = await startPlane({ dataDir });
      await first.call("PUT", q(`${WS}/environments/${name}/versions/1`), {
        body: { properties: { image: "img" } },
      });
      await first.close();
      const second = await startPlane({ dataDir });
      try {
        const r = await second.call("GET", q(`${WS}/environments/${name}/versions/1`));
        expect(r.status).to.equal(200);
        expect(r.body.properties.image).to.equal("img");
        expect(
          (await second.call("GET", q(`${WS}/environments/${name}`))).body.properties.latestVersion,
        ).to.equal("1");
      } finally {
        await second.close();
      }
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe("control plane: pending-upload SAS against Azurite @emulator", () => {
  it("uploads and lists a blob through the SAS from startPendingUpload @emulator", async () => {
    const { info } = getEmulator();
    const ws = info.workspaceId;
    const response = await request(
      `${info.armEndpoint}${ws}/codes/${uniqueName("code")}/versions/1/startPendingUpload?${V}`,
      {
        method: "POST",
        headers: { authorization: `Bearer ${info.token}`, "content-type": "application/json" },
        body: JSON.stringify({ pendingUploadType: "TemporaryBlobReference" }),
      },
    );
    expect(response.statusCode).to.equal(200);
    const body = (await response.body.json()) as any;
    const container = new ContainerClient(body.blobReferenceForConsumption.credential.sasUri);
    await container.uploadBlockBlob("src/train.py", "print('hi')\n", 12);
    const names: string[] = [];
    for await (const blob of container.listBlobsFlat()) {
      names.push(blob.name);
    }
    expect(names).to.deep.equal(["src/train.py"]);
    const downloaded = await container.getBlobClient("src/train.py").downloadToBuffer();
    expect(downloaded.toString()).to.equal("print('hi')\n");
  });
});
