import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { SERVED_OPERATIONS, generateSpecSubset } from "../../emulator/spec/generate";
import { loadSpec, resolveSpecDir } from "../../emulator/spec/load";

const COMMON = "../../../../../common-types/resource-management/v3/types.json";

// A miniature of the upstream layout: mfe.json and machineLearningServices.json side by side,
// common types in ../common-types/v3, with cross-file $refs like the real files.
const MFE = {
  swagger: "2.0",
  paths: {
    "/subscriptions/{subscriptionId}/things/{name}": {
      put: {
        operationId: "Things_CreateOrUpdate",
        parameters: [
          { $ref: `${COMMON}#/parameters/ApiVersionParameter` },
          { $ref: "machineLearningServices.json#/parameters/NameParameter" },
          { in: "query", name: "$top", type: "integer", description: "dropped" },
          {
            in: "body",
            name: "body",
            required: true,
            schema: { $ref: "#/definitions/ThingResource" },
          },
        ],
        responses: { "200": {}, "201": {} },
        "x-ms-long-running-operation": true,
        "x-ms-long-running-operation-options": { "final-state-via": "original-uri" },
      },
      get: { operationId: "Things_Get", parameters: [], responses: { "200": {} } },
    },
  },
  definitions: {
    ThingResource: {
      description: "dropped",
      allOf: [{ $ref: `${COMMON}#/definitions/ProxyResource` }],
      properties: { properties: { $ref: "#/definitions/Shape" } },
      additionalProperties: false,
    },
    Shape: { discriminator: "kind", properties: { kind: { type: "string" } }, required: ["kind"] },
    Circle: {
      allOf: [{ $ref: "#/definitions/Shape" }],
      "x-ms-discriminator-value": "circle",
      properties: { radius: { type: "integer", example: 3, "x-ms-client-name": "Radius" } },
    },
    Unreached: { type: "object" },
  },
};
const MLS = {
  swagger: "2.0",
  paths: {},
  parameters: {
    NameParameter: {
      in: "path",
      name: "name",
      required: true,
      type: "string",
      pattern: "^[a-z]+$",
    },
  },
  definitions: {},
};
const TYPES = {
  parameters: {
    ApiVersionParameter: {
      name: "api-version",
      in: "query",
      required: true,
      type: "string",
      minLength: 1,
    },
  },
  definitions: {
    Resource: { type: "object", properties: { id: { type: "string", readOnly: true } } },
    ProxyResource: { type: "object", allOf: [{ $ref: "#/definitions/Resource" }] },
  },
};

describe("emulator spec generator", () => {
  let root: string;
  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), "azureml-spec-"));
    await fs.mkdir(path.join(root, "spec"));
    await fs.mkdir(path.join(root, "common-types", "v3"), { recursive: true });
    await fs.writeFile(path.join(root, "spec", "mfe.json"), JSON.stringify(MFE));
    await fs.writeFile(
      path.join(root, "spec", "machineLearningServices.json"),
      JSON.stringify(MLS),
    );
    await fs.writeFile(path.join(root, "common-types", "v3", "types.json"), JSON.stringify(TYPES));
  });
  after(() => fs.rm(root, { recursive: true, force: true }));

  const generate = () =>
    generateSpecSubset({ specDir: path.join(root, "spec"), operations: ["Things_CreateOrUpdate"] });

  it("keeps only the requested operations, with every parameter resolved across files @unit", () => {
    const subset = generate();
    expect(Object.keys(subset.operations)).to.deep.equal(["Things_CreateOrUpdate"]);
    const op = subset.operations.Things_CreateOrUpdate;
    expect(op).to.include({
      method: "PUT",
      path: "/subscriptions/{subscriptionId}/things/{name}",
      longRunning: true,
      finalStateVia: "original-uri",
    });
    expect(op.parameters).to.deep.equal([
      { in: "query", minLength: 1, name: "api-version", required: true, type: "string" },
      { in: "path", name: "name", pattern: "^[a-z]+$", required: true, type: "string" },
      { in: "query", name: "$top", type: "integer" },
      { in: "body", name: "body", required: true, schema: { $ref: "#/definitions/ThingResource" } },
    ]);
  });

  it("keeps the definitions reachable from request bodies plus discriminated subtypes, with local refs @unit", () => {
    const { definitions } = generate();
    expect(Object.keys(definitions).sort()).to.deep.equal([
      "Circle",
      "ProxyResource",
      "Resource",
      "Shape",
      "ThingResource",
    ]);
    expect(definitions.ThingResource.allOf).to.deep.equal([
      { $ref: "#/definitions/ProxyResource" },
    ]);
    expect(definitions.Circle).to.deep.equal({
      allOf: [{ $ref: "#/definitions/Shape" }],
      properties: { radius: { type: "integer" } },
      "x-ms-discriminator-value": "circle",
    });
  });

  it("names the upstream source and license and no path of this machine @unit", () => {
    const subset = generate();
    expect(subset.source).to.include({
      license: "MIT",
      repository: "https://github.com/Azure/azure-rest-api-specs",
    });
    expect(subset.source.files).to.include(
      "specification/machinelearningservices/resource-manager/Microsoft.MachineLearningServices/stable/2024-04-01/mfe.json",
    );
    expect(JSON.stringify(subset)).to.not.contain(root);
  });

  it("fails loudly when a requested operation is missing from the spec @unit", () => {
    expect(() =>
      generateSpecSubset({ specDir: path.join(root, "spec"), operations: ["Nope_Get"] }),
    ).to.throw(/Nope_Get/);
  });
});

describe("emulator generated spec file", () => {
  it("is found from the compiled code and holds every served operation @unit", () => {
    expect(resolveSpecDir()).to.be.a("string");
    const spec = loadSpec();
    expect(spec.source.license).to.equal("MIT");
    expect(Object.keys(spec.operations).sort()).to.deep.equal([...SERVED_OPERATIONS].sort());
    expect(spec.operations.CodeVersions_List.parameters.map((p) => p.name)).to.include.members([
      "hash",
      "hashVersion",
      "$top",
      "$skip",
    ]);
  });

  it("has no dangling references @unit", () => {
    const spec = loadSpec();
    const refs = JSON.stringify(spec).match(/"#\/definitions\/[^"]+"/g) ?? [];
    const missing = refs
      .map((r) => r.slice(15, -1))
      .filter((name) => spec.definitions[name] === undefined);
    expect(missing).to.deep.equal([]);
  });
});
