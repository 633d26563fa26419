import { expect } from "chai";
import { matchesTagFilter } from "../../emulator/handlers/common";
import type { SchemaNode } from "../../emulator/spec/load";
import {
  createValidator,
  findForbiddenKey,
  isValidName,
  validateRequestBody,
} from "../../emulator/validate";

// A small spec in the swagger shape the generator writes: a closed envelope, a polymorphic base
// with two subtypes, enums, patterns and read-only fields.
const definitions: Record<string, SchemaNode> = {
  Envelope: {
    type: "object",
    additionalProperties: false,
    required: ["properties"],
    properties: {
      id: { type: "string", readOnly: true },
      properties: { $ref: "#/definitions/Shape" },
    },
  },
  Base: {
    type: "object",
    additionalProperties: false,
    properties: { tags: { type: "object", additionalProperties: { type: "string" } } },
  },
  Shape: {
    type: "object",
    allOf: [{ $ref: "#/definitions/Base" }],
    discriminator: "kind",
    required: ["kind", "uri"],
    properties: {
      kind: { type: "string", enum: ["circle", "square"] },
      uri: { type: "string", minLength: 1, pattern: "[a-zA-Z0-9_]" },
      state: { type: "string", readOnly: true },
    },
  },
  Circle: {
    type: "object",
    additionalProperties: false,
    allOf: [{ $ref: "#/definitions/Shape" }],
    "x-ms-discriminator-value": "circle",
    properties: {
      radius: { type: "integer" },
      unit: { type: "string", enum: ["Meters", "Feet"] },
    },
  },
  Square: {
    type: "object",
    additionalProperties: false,
    allOf: [{ $ref: "#/definitions/Shape" }],
    "x-ms-discriminator-value": "square",
    required: ["side"],
    properties: { side: { type: "number", minimum: 0 } },
  },
};

const validator = createValidator({ definitions });
const validate = (value: unknown) => validator.validate("#/definitions/Envelope", value);

describe("emulator request-body validation", () => {
  it("accepts a valid body and returns it normalized @unit", () => {
    const result = validate({ properties: { kind: "circle", uri: "https://x/y", radius: 3 } });
    expect(result.violations).to.deep.equal([]);
    expect(result.ok).to.equal(true);
    expect(result.value).to.deep.equal({
      properties: { kind: "circle", uri: "https://x/y", radius: 3 },
    });
  });

  it("reports a missing required field with its JSON path @unit", () => {
    const result = validate({ properties: { kind: "square", side: 1 } });
    expect(result.ok).to.equal(false);
    expect(result.violations).to.deep.equal([{ path: "$.properties.uri", message: "is required" }]);
  });

  it("reports a missing required field of the chosen subtype @unit", () => {
    const result = validate({ properties: { kind: "square", uri: "u" } });
    expect(result.violations).to.deep.equal([
      { path: "$.properties.side", message: "is required" },
    ]);
  });

  it("reports an enum value that is not allowed and lists the allowed ones @unit", () => {
    const result = validate({ properties: { kind: "circle", uri: "u", unit: "Inches" } });
    expect(result.violations).to.deep.equal([
      { path: "$.properties.unit", message: "'Inches' is not one of Meters, Feet" },
    ]);
  });

  it("accepts any casing of an enum value and returns the canonical one @unit", () => {
    const result = validate({ properties: { kind: "CIRCLE", uri: "u", unit: "feet" } });
    expect(result.ok).to.equal(true);
    expect(result.value).to.deep.equal({ properties: { kind: "circle", uri: "u", unit: "Feet" } });
  });

  it("rejects an unknown property where the schema is closed, through allOf inheritance @unit", () => {
    const result = validate({ properties: { kind: "circle", uri: "u", colour: "red" }, extra: 1 });
    expect(result.violations.map((v) => v.path)).to.have.members([
      "$.properties.colour",
      "$.extra",
    ]);
    expect(result.violations[0].message).to.equal("is not a known property");
  });

  it("accepts base-class properties on a subtype (tags from Base) @unit", () => {
    const result = validate({ properties: { kind: "circle", uri: "u", tags: { a: "b" } } });
    expect(result.ok).to.equal(true);
  });

  it("rejects a subtype's property on the other subtype (discriminator picks the schema) @unit", () => {
    const result = validate({ properties: { kind: "square", uri: "u", side: 2, radius: 1 } });
    expect(result.violations).to.deep.equal([
      { path: "$.properties.radius", message: "is not a known property" },
    ]);
  });

  it("rejects an unknown discriminator value and names the valid ones @unit", () => {
    const result = validate({ properties: { kind: "triangle", uri: "u" } });
    expect(result.violations).to.deep.equal([
      {
        path: "$.properties.kind",
        message: "'triangle' is not a valid kind; expected one of circle, square",
      },
    ]);
  });

  it("accepts numeric strings for integer and number fields and returns numbers @unit", () => {
    const circle = validate({ properties: { kind: "circle", uri: "u", radius: "7" } });
    expect(circle.value).to.deep.equal({ properties: { kind: "circle", uri: "u", radius: 7 } });
    const square = validate({ properties: { kind: "square", uri: "u", side: "2.5" } });
    expect((square.value as any).properties.side).to.equal(2.5);
  });

  it("rejects a non-numeric string for an integer and a fraction for an integer @unit", () => {
    expect(
      validate({ properties: { kind: "circle", uri: "u", radius: "seven" } }).violations,
    ).to.deep.equal([{ path: "$.properties.radius", message: "expected an integer, got 'seven'" }]);
    expect(validate({ properties: { kind: "circle", uri: "u", radius: 1.5 } }).ok).to.equal(false);
  });

  it("accepts a number for a string map value (hash_version 202208) and returns a string @unit", () => {
    const result = validate({
      properties: { kind: "circle", uri: "u", tags: { hash_version: 202208 } },
    });
    expect((result.value as any).properties.tags.hash_version).to.equal("202208");
  });

  it("checks minLength, pattern and minimum @unit", () => {
    expect(validate({ properties: { kind: "circle", uri: "" } }).violations[0]).to.deep.equal({
      path: "$.properties.uri",
      message: "must be at least 1 characters long",
    });
    expect(validate({ properties: { kind: "circle", uri: "---" } }).violations[0].message).to.equal(
      "does not match the pattern [a-zA-Z0-9_]",
    );
    expect(
      validate({ properties: { kind: "square", uri: "u", side: -1 } }).violations[0].message,
    ).to.equal("must be at least 0");
  });

  it("ignores read-only fields on input and drops them from the normalized value @unit", () => {
    const result = validate({
      id: "/whatever",
      properties: { kind: "circle", uri: "u", state: 42 },
    });
    expect(result.ok).to.equal(true);
    expect(result.value).to.deep.equal({ properties: { kind: "circle", uri: "u" } });
  });

  it("lists every violation at once @unit", () => {
    const result = validate({
      properties: { kind: "circle", unit: "x", radius: "y", bogus: true },
    });
    expect(result.violations.map((v) => v.path)).to.have.members([
      "$.properties.uri",
      "$.properties.unit",
      "$.properties.radius",
      "$.properties.bogus",
    ]);
  });

  it("treats null like an absent optional field but not for a required one @unit", () => {
    expect(validate({ properties: { kind: "circle", uri: "u", unit: null } }).ok).to.equal(true);
    expect(validate({ properties: { kind: "circle", uri: null } }).violations).to.deep.equal([
      { path: "$.properties.uri", message: "is required" },
    ]);
  });

  it("quotes property names that are not identifiers in the path @unit", () => {
    const result = validate({
      properties: { kind: "circle", uri: "u", tags: { "a b": 5 } },
      "x y": 1,
    });
    expect(result.violations.map((v) => v.path)).to.deep.equal(['$["x y"]']);
  });
});

describe("emulator validation of object keys", () => {
  it("refuses __proto__ as a property name, even where any property is allowed @unit", () => {
    const result = validate(
      JSON.parse(
        '{"properties": {"kind": "circle", "uri": "u", "__proto__": {"radius": 1}, "tags": {"__proto__": "x"}}}',
      ),
    );
    expect(result.violations).to.deep.equal([
      { path: "$.properties.__proto__", message: "is not an allowed property name" },
      { path: "$.properties.tags.__proto__", message: "is not an allowed property name" },
    ]);
  });

  it("finds __proto__ at any depth, inside arrays too @unit", () => {
    expect(findForbiddenKey(JSON.parse('{"a": [1, {"b": {"__proto__": 1}}]}'))).to.equal(
      "$.a[1].b.__proto__",
    );
    expect(findForbiddenKey({ a: [{ constructor: 1 }], prototype: 2 })).to.equal(undefined);
  });

  it("does not take inherited names such as constructor or toString for known properties @unit", () => {
    const result = validate({
      properties: { kind: "circle", uri: "u", constructor: "x", toString: "y" },
    });
    expect(result.violations.map((v) => v.path)).to.deep.equal([
      "$.properties.constructor",
      "$.properties.toString",
    ]);
  });

  it("matches tag filters on a map's own keys only @unit", () => {
    expect(matchesTagFilter("constructor", {})).to.equal(false);
    expect(matchesTagFilter("toString=x", { a: "1" })).to.equal(false);
    expect(matchesTagFilter("constructor=c,a", { constructor: "c", a: "1" })).to.equal(true);
  });

  it("keeps constructor and prototype as plain keys of an open map @unit", () => {
    const result = validate({
      properties: { kind: "circle", uri: "u", tags: { constructor: "c", prototype: "p" } },
    });
    expect(result.ok).to.equal(true);
    const tags = (result.value as any).properties.tags;
    expect(Object.keys(tags)).to.deep.equal(["constructor", "prototype"]);
    expect(JSON.parse(JSON.stringify(tags))).to.deep.equal({ constructor: "c", prototype: "p" });
  });
});

describe("emulator validation in loose mode", () => {
  const loose = createValidator({ definitions }, { unknownProperties: "drop" });

  it("drops properties a closed schema does not know instead of rejecting them @unit", () => {
    const result = loose.validate("#/definitions/Envelope", {
      properties: { kind: "circle", uri: "u", radius: 2, colour: "red" },
      extra: { nested: true },
    });
    expect(result.violations).to.deep.equal([]);
    expect(result.value).to.deep.equal({ properties: { kind: "circle", uri: "u", radius: 2 } });
  });

  it("still reports every other violation @unit", () => {
    const result = loose.validate("#/definitions/Envelope", {
      properties: { kind: "circle", radius: "big", colour: "red" },
    });
    expect(result.violations.map((v) => v.path)).to.deep.equal([
      "$.properties.uri",
      "$.properties.radius",
    ]);
  });

  it("drops the newer api-versions' fields at 2024-04-01 when strict is false @unit", () => {
    const result = validateRequestBody(
      "ModelVersions_CreateOrUpdate",
      { properties: { modelUri: "azureml://jobs/j/outputs/m", datasets: [{ name: "iris" }] } },
      "2024-04-01",
      { strict: false },
    );
    expect(result.violations).to.deep.equal([]);
    expect((result.value as any).properties).to.not.have.property("datasets");
  });
});

describe("emulator validation against the generated Azure ML spec", () => {
  it("accepts the body azure-ai-ml sends for a code version @unit", () => {
    const result = validateRequestBody("CodeVersions_CreateOrUpdate", {
      properties: {
        codeUri: "https://acct.blob.core.windows.net/c/src",
        isAnonymous: false,
        properties: { hash_sha256: "ab", hash_version: 202208 },
      },
    });
    expect(result.violations).to.deep.equal([]);
  });

  it("requires dataType and dataUri on a data version @unit", () => {
    const result = validateRequestBody("DataVersions_CreateOrUpdate", {
      properties: { dataType: "uri_file" },
    });
    expect(result.violations).to.deep.equal([
      { path: "$.properties.dataUri", message: "is required" },
    ]);
  });

  it("walks the compute discriminator down to AmlCompute's properties @unit", () => {
    const result = validateRequestBody("Compute_CreateOrUpdate", {
      location: "eastus",
      properties: {
        computeType: "amlcompute",
        properties: {
          vmSize: "STANDARD_D2_V2",
          scaleSettings: { maxNodeCount: "5", minNodeCount: 0 },
        },
      },
    });
    expect(result.violations).to.deep.equal([]);
    const props = (result.value as any).properties;
    expect(props.computeType).to.equal("AmlCompute");
    expect(props.properties.scaleSettings.maxNodeCount).to.equal(5);
  });

  it("requires a body where the operation declares one @unit", () => {
    expect(validateRequestBody("ModelVersions_CreateOrUpdate", undefined).violations).to.deep.equal(
      [{ path: "$", message: "a request body is required" }],
    );
  });
});

describe("emulator validation across api-versions", () => {
  const model = {
    properties: { modelUri: "azureml://jobs/j/outputs/model", datasets: [{ name: "iris" }] },
  };
  const job = {
    properties: {
      jobType: "Command",
      command: "python train.py",
      environmentId: "azureml:env:1",
      resources: { instanceCount: 1, dockerArgsList: ["--shm-size=1g"] },
      outputs: { model: { jobOutputType: "uri_folder", assetName: "trained-model" } },
    },
  };

  it("accepts datasets, dockerArgsList and assetName from api-versions after 2024-04-01 @unit", () => {
    expect(
      validateRequestBody("ModelVersions_CreateOrUpdate", model, "2025-12-01").violations,
    ).to.deep.equal([]);
    expect(validateRequestBody("Jobs_CreateOrUpdate", job, "2026-07-01").violations).to.deep.equal(
      [],
    );
  });

  it("rejects them as unknown properties at 2024-04-01, as that swagger has none of them @unit", () => {
    expect(
      validateRequestBody("ModelVersions_CreateOrUpdate", model, "2024-04-01").violations.map(
        (v) => v.path,
      ),
    ).to.deep.equal(["$.properties.datasets"]);
    expect(
      validateRequestBody("Jobs_CreateOrUpdate", job, "2024-04-01").violations.map((v) => v.path),
    ).to.have.members([
      "$.properties.resources.dockerArgsList",
      "$.properties.outputs.model.assetName",
    ]);
  });
});

describe("emulator name rules", () => {
  it("accepts asset names that start with a letter or digit and contain - and _ @unit", () => {
    expect(isValidName("resource", "my-env_2")).to.equal(true);
    expect(isValidName("resource", "1abc")).to.equal(true);
    expect(isValidName("resource", "-abc")).to.equal(false);
    expect(isValidName("resource", "a.b")).to.equal(false);
    expect(isValidName("resource", "a".repeat(256))).to.equal(false);
  });

  it("applies the compute rule: letter first, 3-24 chars, no trailing -<digits> @unit", () => {
    expect(isValidName("compute", "cpu-cluster")).to.equal(true);
    expect(isValidName("compute", "gpu2")).to.equal(true);
    expect(isValidName("compute", "cluster-1")).to.equal(false);
    expect(isValidName("compute", "2cluster")).to.equal(false);
    expect(isValidName("compute", "ab")).to.equal(false);
    expect(isValidName("compute", "a".repeat(25))).to.equal(false);
    expect(isValidName("compute", "under_score")).to.equal(false);
  });

  it("accepts only positive integers as model versions @unit", () => {
    expect(isValidName("modelVersion", "1")).to.equal(true);
    expect(isValidName("modelVersion", "42")).to.equal(true);
    expect(isValidName("modelVersion", "0")).to.equal(false);
    expect(isValidName("modelVersion", "01")).to.equal(false);
    expect(isValidName("modelVersion", "1.0")).to.equal(false);
    expect(isValidName("modelVersion", "v1")).to.equal(false);
  });

  it("applies the workspace rule: 3-33 chars @unit", () => {
    expect(isValidName("workspace", "mlw-emulator")).to.equal(true);
    expect(isValidName("workspace", "ab")).to.equal(false);
  });
});
