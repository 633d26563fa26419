// Request-body validation as a client sees it: 400 with an ARM error that lists every violation
// by JSON path, the lenient wire rules (numeric strings, enum casing, read-only fields), and
// malformed JSON. The control plane runs on a plain node:http server with fake storage.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { request } from "undici";
import { createControlPlane, type ControlPlane } from "../../emulator/app";
import { mintEmulatorTokens } from "../../emulator/tokens";
import { uniqueName } from "../support/emulator";

const SUB = "00000000-0000-0000-0000-000000000000";
const WS = `/subscriptions/${SUB}/resourceGroups/rg-emulator/providers/Microsoft.MachineLearningServices/workspaces/mlw-emulator`;
const V = "api-version=2025-12-01";

describe("control plane: request validation @emulator", () => {
  const tokens = mintEmulatorTokens();
  let server: http.Server;
  let plane: ControlPlane;
  let url: string;

  before(async () => {
    server = http.createServer((req, res) => plane.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    plane = createControlPlane({
      publicUrl: url,
      subscriptionId: SUB,
      resourceGroupName: "rg-emulator",
      workspaceName: "mlw-emulator",
      location: "eastus",
      tokens,
      storage: {
        accountName: "devstoreaccount1",
        accountKey: Buffer.from("key").toString("base64"),
        blobEndpoint: "http://127.0.0.1:10000/devstoreaccount1/",
        createContainer: async () => undefined,
      },
    });
  });
  after(async () => {
    await plane.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function put(path: string, body: unknown, contentType = "application/json") {
    const response = await request(`${url}${path}?${V}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${tokens.arm}`, "content-type": contentType },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: response.statusCode, body: (await response.body.json()) as any };
  }

  it("lists every violation with its JSON path in message, target and details @emulator", async () => {
    const r = await put(`${WS}/data/${uniqueName("d")}/versions/1`, {
      properties: { dataType: "uri_file", description: 5, colour: "red" },
    });
    expect(r.status).to.equal(400);
    expect(r.body.error.code).to.equal("UserError");
    const targets = r.body.error.details.map((d: any) => d.target);
    expect(targets).to.have.members(["$.properties.dataUri", "$.properties.colour"]);
    expect(r.body.error.target).to.be.oneOf(targets);
    for (const detail of r.body.error.details) {
      expect(detail.message.startsWith(`${detail.target}: `)).to.equal(true);
      expect(r.body.error.message).to.contain(detail.message);
    }
  });

  it("rejects a missing required field @emulator", async () => {
    const r = await put(`${WS}/data/${uniqueName("d")}/versions/1`, {
      properties: { dataType: "uri_folder" },
    });
    expect(r.status).to.equal(400);
    expect(r.body.error.message).to.equal("$.properties.dataUri: is required");
  });

  it("rejects a missing properties envelope @emulator", async () => {
    const r = await put(`${WS}/codes/${uniqueName("c")}/versions/1`, {});
    expect(r.status).to.equal(400);
    expect(r.body.error.target).to.equal("$.properties");
  });

  it("rejects an enum value that is not allowed @emulator", async () => {
    const r = await put(`${WS}/environments/${uniqueName("e")}/versions/1`, {
      properties: { image: "python:3.11", osType: "Solaris" },
    });
    expect(r.status).to.equal(400);
    expect(r.body.error.message).to.equal(
      "$.properties.osType: 'Solaris' is not one of Linux, Windows",
    );
  });

  it("rejects an unknown property @emulator", async () => {
    const r = await put(`${WS}/environments/${uniqueName("e")}/versions/1`, {
      properties: { image: "python:3.11", dockerfile: "FROM x" },
    });
    expect(r.status).to.equal(400);
    expect(r.body.error.target).to.equal("$.properties.dockerfile");
  });

  it("rejects an unknown discriminator value and accepts each known one @emulator", async () => {
    const bad = await put(`${WS}/data/${uniqueName("d")}/versions/1`, {
      properties: { dataType: "UriFile", dataUri: "https://x/y.csv" },
    });
    expect(bad.status).to.equal(400);
    expect(bad.body.error.message).to.contain("'UriFile' is not a valid dataType");
    const table = await put(`${WS}/data/${uniqueName("d")}/versions/1`, {
      properties: { dataType: "mltable", dataUri: "https://x/t/", referencedUris: ["https://x/a"] },
    });
    expect(table.status).to.equal(201);
    const file = await put(`${WS}/data/${uniqueName("d")}/versions/1`, {
      properties: {
        dataType: "uri_file",
        dataUri: "https://x/y.csv",
        referencedUris: ["https://x/a"],
      },
    });
    expect(file.status).to.equal(400);
    expect(file.body.error.target).to.equal("$.properties.referencedUris");
  });

  it("accepts numeric strings and any enum casing, and answers with numbers and canonical casing @emulator", async () => {
    const r = await put(`${WS}/environments/${uniqueName("e")}/versions/1`, {
      properties: {
        image: "python:3.11",
        osType: "linux",
        autoRebuild: "onbaseimageupdate",
        inferenceConfig: { scoringRoute: { path: "/score", port: "5001" } },
      },
    });
    expect(r.status).to.equal(201);
    expect(r.body.properties.osType).to.equal("Linux");
    expect(r.body.properties.autoRebuild).to.equal("OnBaseImageUpdate");
    expect(r.body.properties.inferenceConfig.scoringRoute.port).to.equal(5001);
  });

  it("ignores read-only fields sent back from a GET @emulator", async () => {
    const name = uniqueName("c");
    const created = await put(`${WS}/codes/${name}/versions/1`, {
      properties: { codeUri: "https://x/src" },
    });
    const again = await put(`${WS}/codes/${name}/versions/1`, created.body);
    expect(again.status).to.equal(200);
    expect(again.body).to.deep.equal(created.body);
  });

  it("refuses a __proto__ key anywhere in a body with 400 naming its path @emulator", async () => {
    const version = await put(
      `${WS}/codes/${uniqueName("c")}/versions/1`,
      '{"properties": {"codeUri": "https://x/src", "__proto__": {"isArchived": true}}}',
    );
    expect(version.status).to.equal(400);
    expect(version.body.error.target).to.equal("$.properties.__proto__");
    const tags = await put(
      `${WS}/codes/${uniqueName("c")}/versions/1`,
      '{"properties": {"codeUri": "https://x/src", "tags": {"__proto__": "x"}}}',
    );
    expect(tags.status).to.equal(400);
    expect(tags.body.error.target).to.equal("$.properties.tags.__proto__");
    const fault = await request(`${url}/_emulator/faults`, {
      method: "POST",
      headers: { authorization: `Bearer ${tokens.arm}`, "content-type": "application/json" },
      body: '{"kind": "drop", "__proto__": {"times": 5}}',
    });
    expect(fault.statusCode).to.equal(400);
    await fault.body.dump();
    expect(plane.faults.list()).to.deep.equal([]);
  });

  it("treats constructor and toString as ordinary names: unknown properties, or tags kept as data @emulator", async () => {
    const unknown = await put(`${WS}/codes/${uniqueName("c")}/versions/1`, {
      properties: { codeUri: "https://x/src", constructor: "x", toString: 1 },
    });
    expect(unknown.status).to.equal(400);
    expect(unknown.body.error.details.map((d: any) => d.target)).to.have.members([
      "$.properties.constructor",
      "$.properties.toString",
    ]);
    const tagged = await put(`${WS}/codes/${uniqueName("c")}/versions/1`, {
      properties: { codeUri: "https://x/src", tags: { constructor: "c", prototype: "p" } },
    });
    expect(tagged.status).to.equal(201);
    expect(tagged.body.properties.tags).to.deep.equal({ constructor: "c", prototype: "p" });
  });

  it("answers malformed JSON with 400 InvalidRequestContent @emulator", async () => {
    const r = await put(`${WS}/codes/${uniqueName("c")}/versions/1`, '{"properties": {');
    expect(r.status).to.equal(400);
    expect(r.body.error.code).to.equal("InvalidRequestContent");
  });

  it("answers a non-JSON content type with 415 @emulator", async () => {
    const r = await put(`${WS}/codes/${uniqueName("c")}/versions/1`, "<xml/>", "application/xml");
    expect(r.status).to.equal(415);
    expect(r.body.error.code).to.equal("UnsupportedMediaType");
  });

  it("requires an image or a build on an environment version @emulator", async () => {
    const r = await put(`${WS}/environments/${uniqueName("e")}/versions/1`, {
      properties: { condaFile: "x" },
    });
    expect(r.status).to.equal(400);
    expect(r.body.error.target).to.equal("properties.image");
  });

  it("validates compute bodies through the computeType discriminator @emulator", async () => {
    const r = await put(`${WS}/computes/val${Date.now().toString(36)}`, {
      properties: { computeType: "Mainframe" },
    });
    expect(r.status).to.equal(400);
    expect(r.body.error.target).to.equal("$.properties.computeType");
  });
});
