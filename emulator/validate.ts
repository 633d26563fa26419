/**
 * Request-body validation against the generated spec subset, and the path-name rules.
 *
 * The walk covers `required`, `type`, `enum`, `minLength`/`maxLength`, `pattern`,
 * `minimum`/`maximum`, `additionalProperties: false`, discriminators (`x-ms-discriminator-value`,
 * `allOf` inheritance) and ignores `readOnly` fields. It is as lenient as the service's JSON
 * deserializer on the wire: numeric strings are accepted for integer/number fields, numbers and
 * booleans for string fields, "true"/"false" for booleans, any casing of enum values, and null
 * for any optional field. It returns every violation plus a normalized copy of the value (coerced
 * scalars, canonical enum casing, read-only fields dropped) for the handlers to store.
 */
import { loadSpec, type SchemaNode, type SpecSubset } from "./spec/load";

export interface Violation {
  /** JSON path of the offending value, e.g. `$.properties.dataUri`. */
  path: string;
  message: string;
}

export interface ValidationResult {
  ok: boolean;
  /** The normalized value (meaningful when `ok`). */
  value: unknown;
  violations: Violation[];
}

export interface Validator {
  /** Validates `value` against a schema node or a `#/definitions/<Name>` reference. */
  validate(schema: SchemaNode | string, value: unknown, rootPath?: string): ValidationResult;
}

/** Options for createValidator. */
export interface ValidatorOptions {
  /**
   * What a property unknown to a closed schema (`additionalProperties: false`) gets: a violation
   * (strict mode), or left out of the normalized value (loose mode).
   * @default "reject"
   */
  readonly unknownProperties?: "reject" | "drop";
}

/** Builds a validator over a spec subset (defaults to the generated one). */
export function createValidator(
  spec: Pick<SpecSubset, "definitions"> = loadSpec(),
  options: ValidatorOptions = {},
): Validator {
  const definitions = spec.definitions;
  const dropUnknown = options.unknownProperties === "drop";
  const parentsOf = new Map<string, string[]>();
  for (const [name, def] of Object.entries(definitions)) {
    parentsOf.set(
      name,
      (def.allOf ?? []).flatMap((s) => (s.$ref === undefined ? [] : [refName(s.$ref)])),
    );
  }
  const ancestorsCache = new Map<string, Set<string>>();
  const ancestors = (name: string): Set<string> => {
    let set = ancestorsCache.get(name);
    if (set === undefined) {
      set = new Set();
      for (const parent of parentsOf.get(name) ?? []) {
        set.add(parent);
        for (const a of ancestors(parent)) {
          set.add(a);
        }
      }
      ancestorsCache.set(name, set);
    }
    return set;
  };
  const subtypesCache = new Map<string, Map<string, string>>();
  /** Discriminator value (lower-cased) → definition name, for every subtype of `base`. */
  const subtypesOf = (base: string): Map<string, string> => {
    let map = subtypesCache.get(base);
    if (map === undefined) {
      map = new Map();
      for (const [name, def] of Object.entries(definitions)) {
        if (name !== base && ancestors(name).has(base)) {
          const value = def["x-ms-discriminator-value"] ?? name;
          map.set(value.toLowerCase(), name);
        }
      }
      subtypesCache.set(base, map);
    }
    return map;
  };

  const deref = (node: SchemaNode): { node: SchemaNode; name?: string } => {
    if (node.$ref === undefined) {
      return { node };
    }
    const name = refName(node.$ref);
    const target = definitions[name];
    if (target === undefined) {
      throw new Error(`Unknown schema reference ${node.$ref}`);
    }
    return { node: target, name };
  };

  /** Flattens a definition and its `allOf` ancestors into one property set. */
  interface Flat {
    properties: Record<string, SchemaNode>;
    required: Set<string>;
    closed: boolean;
    discriminator?: { property: string; base: string };
    additional?: SchemaNode;
    typed: boolean;
  }
  const flatten = (node: SchemaNode, name: string | undefined, seen = new Set<string>()): Flat => {
    const flat: Flat = {
      // No prototype: a body key such as "constructor" must not find an inherited "schema".
      properties: Object.create(null) as Record<string, SchemaNode>,
      required: new Set(),
      closed: node.additionalProperties === false,
      typed: node.type === "object" || node.properties !== undefined,
    };
    for (const parent of node.allOf ?? []) {
      const { node: p, name: pName } = deref(parent);
      if (pName !== undefined && seen.has(pName)) {
        continue;
      }
      const pf = flatten(p, pName, new Set([...seen, ...(pName === undefined ? [] : [pName])]));
      Object.assign(flat.properties, pf.properties);
      pf.required.forEach((r) => flat.required.add(r));
      flat.closed ||= pf.closed;
      flat.typed ||= pf.typed;
      flat.discriminator ??= pf.discriminator;
      flat.additional ??= pf.additional;
    }
    Object.assign(flat.properties, node.properties ?? {});
    (node.required ?? []).forEach((r) => flat.required.add(r));
    if (typeof node.additionalProperties === "object") {
      flat.additional = node.additionalProperties;
    }
    if (node.discriminator !== undefined && name !== undefined) {
      flat.discriminator = { property: node.discriminator, base: name };
    }
    return flat;
  };

  const walk = (schemaIn: SchemaNode, value: unknown, path: string, out: Violation[]): unknown => {
    const { node, name } = deref(schemaIn);
    if (value === null) {
      // Optional fields may be null on the wire; required ones are checked by the parent.
      return null;
    }
    const isObjectSchema =
      node.type === "object" ||
      node.properties !== undefined ||
      node.allOf !== undefined ||
      node.discriminator !== undefined;
    if (node.type === "array") {
      if (!Array.isArray(value)) {
        out.push({ path, message: `expected an array, got ${jsonType(value)}` });
        return value;
      }
      if (node.minItems !== undefined && value.length < node.minItems) {
        out.push({ path, message: `must have at least ${node.minItems} items` });
      }
      if (node.maxItems !== undefined && value.length > node.maxItems) {
        out.push({ path, message: `must have at most ${node.maxItems} items` });
      }
      return value.map((item, i) =>
        node.items === undefined ? item : walk(node.items, item, `${path}[${i}]`, out),
      );
    }
    if (isObjectSchema) {
      return walkObject(node, name, value, path, out);
    }
    return walkScalar(node, value, path, out);
  };

  const walkObject = (
    node: SchemaNode,
    name: string | undefined,
    value: unknown,
    path: string,
    out: Violation[],
  ): unknown => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      out.push({ path, message: `expected an object, got ${jsonType(value)}` });
      return value;
    }
    const input = value as Record<string, unknown>;
    let flat = flatten(node, name);
    let discriminatorValue: string | undefined;
    if (flat.discriminator !== undefined) {
      const { property, base } = flat.discriminator;
      const given = input[property];
      if (given === undefined || given === null) {
        out.push({ path: childPath(path, property), message: "is required" });
        return value;
      }
      const subtypes = subtypesOf(base);
      const key = String(given).toLowerCase();
      const subtype = subtypes.get(key);
      const ownValue = (definitions[base]?.["x-ms-discriminator-value"] ?? base).toLowerCase();
      if (subtype !== undefined && subtype !== name) {
        const sub = definitions[subtype];
        flat = flatten(sub, subtype);
        discriminatorValue = sub["x-ms-discriminator-value"] ?? subtype;
      } else if (subtype === name && name !== undefined) {
        discriminatorValue = definitions[name]["x-ms-discriminator-value"] ?? name;
      } else if (key !== ownValue) {
        const allowed = [...subtypes.keys()].map((k) => {
          const def = definitions[subtypes.get(k) as string];
          return def["x-ms-discriminator-value"] ?? subtypes.get(k);
        });
        out.push({
          path: childPath(path, property),
          message: `'${String(given)}' is not a valid ${property}; expected one of ${allowed.join(", ")}`,
        });
        return value;
      }
    }
    const result: Record<string, unknown> = {};
    for (const required of flat.required) {
      if (input[required] === undefined || input[required] === null) {
        out.push({ path: childPath(path, required), message: "is required" });
      }
    }
    for (const [key, child] of Object.entries(input)) {
      const propSchema = flat.properties[key];
      const childP = childPath(path, key);
      if (key === FORBIDDEN_KEY) {
        out.push({ path: childP, message: FORBIDDEN_KEY_MESSAGE });
        continue;
      }
      if (propSchema === undefined) {
        if (flat.additional !== undefined) {
          result[key] = walk(flat.additional, child, childP, out);
        } else if (flat.closed) {
          if (!dropUnknown) {
            out.push({ path: childP, message: "is not a known property" });
          }
        } else {
          result[key] = child;
        }
        continue;
      }
      if (propSchema.readOnly === true || deref(propSchema).node.readOnly === true) {
        continue; // read-only fields are ignored on input
      }
      if (
        flat.discriminator !== undefined &&
        key === flat.discriminator.property &&
        discriminatorValue !== undefined
      ) {
        result[key] = discriminatorValue;
        continue;
      }
      result[key] = walk(propSchema, child, childP, out);
    }
    return result;
  };

  const walkScalar = (
    node: SchemaNode,
    value: unknown,
    path: string,
    out: Violation[],
  ): unknown => {
    let coerced: unknown = value;
    switch (node.type) {
      case "string":
        if (typeof value === "number" || typeof value === "boolean") {
          coerced = String(value);
        } else if (typeof value !== "string") {
          out.push({ path, message: `expected a string, got ${jsonType(value)}` });
          return value;
        }
        break;
      case "integer":
      case "number": {
        const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
        if (
          typeof n !== "number" ||
          !Number.isFinite(n) ||
          (node.type === "integer" && !Number.isInteger(n))
        ) {
          out.push({
            path,
            message: `expected ${node.type === "integer" ? "an integer" : "a number"}, got ${describe(value)}`,
          });
          return value;
        }
        coerced = n;
        if (node.minimum !== undefined && n < node.minimum) {
          out.push({ path, message: `must be at least ${node.minimum}` });
        }
        if (node.maximum !== undefined && n > node.maximum) {
          out.push({ path, message: `must be at most ${node.maximum}` });
        }
        break;
      }
      case "boolean":
        if (typeof value === "string" && /^(true|false)$/i.test(value)) {
          coerced = value.toLowerCase() === "true";
        } else if (typeof value !== "boolean") {
          out.push({ path, message: `expected a boolean, got ${describe(value)}` });
          return value;
        }
        break;
      default:
        return value; // untyped: anything goes
    }
    if (node.enum !== undefined) {
      const match = node.enum.find(
        (e) => String(e).toLowerCase() === String(coerced).toLowerCase(),
      );
      if (match === undefined) {
        out.push({ path, message: `'${String(coerced)}' is not one of ${node.enum.join(", ")}` });
        return value;
      }
      coerced = match;
    }
    if (typeof coerced === "string") {
      if (node.minLength !== undefined && coerced.length < node.minLength) {
        out.push({ path, message: `must be at least ${node.minLength} characters long` });
      }
      if (node.maxLength !== undefined && coerced.length > node.maxLength) {
        out.push({ path, message: `must be at most ${node.maxLength} characters long` });
      }
      if (node.pattern !== undefined && !new RegExp(node.pattern).test(coerced)) {
        out.push({ path, message: `does not match the pattern ${node.pattern}` });
      }
    }
    return coerced;
  };

  return {
    validate(schema, value, rootPath = "$") {
      const node: SchemaNode = typeof schema === "string" ? { $ref: schema } : schema;
      const violations: Violation[] = [];
      const normalized = walk(node, value, rootPath, violations);
      return { ok: violations.length === 0, value: normalized, violations };
    },
  };
}

/**
 * The one object key a JavaScript object cannot hold as plain data (`obj["__proto__"] = v` sets
 * the prototype), so a body carrying it anywhere is refused rather than half-understood.
 */
export const FORBIDDEN_KEY = "__proto__";
const FORBIDDEN_KEY_MESSAGE = "is not an allowed property name";

/** The JSON path of the first `__proto__` key anywhere in a parsed JSON value, if any. */
export function findForbiddenKey(value: unknown, path = "$"): string | undefined {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findForbiddenKey(value[i], `${path}[${i}]`);
      if (found !== undefined) {
        return found;
      }
    }
    return undefined;
  }
  if (typeof value !== "object" || value === null) {
    return undefined;
  }
  for (const [key, child] of Object.entries(value)) {
    const childP = childPath(path, key);
    if (key === FORBIDDEN_KEY) {
      return childP;
    }
    const found = findForbiddenKey(child, childP);
    if (found !== undefined) {
      return found;
    }
  }
  return undefined;
}

/** The violation for a body that carries `__proto__` somewhere, for any route. */
export function forbiddenKeyViolations(body: unknown): Violation[] {
  const path = findForbiddenKey(body);
  return path === undefined ? [] : [{ path, message: FORBIDDEN_KEY_MESSAGE }];
}

// One validator per (newer fields?, strict?) pair, built on first use.
const validators = new Map<string, Validator>();

/**
 * The only wire differences, for the resources in scope, between 2024-04-01 and the newer stable
 * api-versions (contract section 1.2, from the bicep type dumps): three optional fields. Which
 * version first had them is not known, so every version after 2024-04-01 accepts them.
 */
export function withNewerFields(definitions: SpecSubset["definitions"]): SpecSubset["definitions"] {
  const copy = JSON.parse(JSON.stringify(definitions)) as SpecSubset["definitions"];
  const addProperty = (name: string, property: string, schema: SchemaNode) => {
    const definition = copy[name];
    if (definition !== undefined) {
      definition.properties = { ...(definition.properties ?? {}), [property]: schema };
    }
  };
  addProperty("ModelVersion", "datasets", {
    type: "array",
    items: {
      type: "object",
      additionalProperties: false,
      properties: { id: { type: "string" }, name: { type: "string" } },
    },
  } as SchemaNode);
  addProperty("JobResourceConfiguration", "dockerArgsList", {
    type: "array",
    items: { type: "string" },
  } as SchemaNode);
  addProperty("AssetJobOutput", "assetName", { type: "string" } as SchemaNode);
  return copy;
}

/** True for api-versions after the bundled 2024-04-01 swagger. */
export function isNewerApiVersion(apiVersion: string | undefined): boolean {
  return apiVersion !== undefined && apiVersion.slice(0, 10) > "2024-04-01";
}

/** Options for validateRequestBody. */
export interface RequestBodyOptions {
  /** Strict mode rejects properties the schema does not know; loose mode drops them. @default true */
  readonly strict?: boolean;
}

/**
 * Validates an operation's request body against the generated spec (the operation's `body`
 * parameter), with the fields newer api-versions added when `apiVersion` is one of them.
 */
export function validateRequestBody(
  operationId: string,
  body: unknown,
  apiVersion?: string,
  options: RequestBodyOptions = {},
): ValidationResult {
  const spec = loadSpec();
  const operation = spec.operations[operationId];
  const bodyParam = operation?.parameters.find((p) => p.in === "body");
  if (bodyParam?.schema === undefined) {
    return { ok: true, value: body, violations: [] };
  }
  if (body === undefined || body === null) {
    return bodyParam.required === true
      ? {
          ok: false,
          value: body,
          violations: [{ path: "$", message: "a request body is required" }],
        }
      : { ok: true, value: body, violations: [] };
  }
  const newer = isNewerApiVersion(apiVersion);
  const strict = options.strict ?? true;
  const cacheKey = `${newer}:${strict}`;
  let validator = validators.get(cacheKey);
  if (validator === undefined) {
    validator = createValidator(newer ? { definitions: withNewerFields(spec.definitions) } : spec, {
      unknownProperties: strict ? "reject" : "drop",
    });
    validators.set(cacheKey, validator);
  }
  return validator.validate(bodyParam.schema, body);
}

/** Path-name rules (contract section 2.4 and 7.1). */
export const NAME_RULES = {
  /** Asset containers, job ids, endpoint and deployment names on PUT/PATCH (2024-04-01). */
  resource: /^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$/,
  workspace: /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$/,
  /** Compute names (bicep types 2025-12-01+): letter first, 3-24 chars, not ending in `-<digits>`. */
  compute: /^[a-zA-Z](?![a-zA-Z0-9-]*-\d+$)[a-zA-Z0-9-]{2,23}$/,
  /** Model versions must be positive integers (Azure/azureml-examples#2725). */
  modelVersion: /^[1-9]\d*$/,
} as const;

export type NameRule = keyof typeof NAME_RULES;

export function isValidName(rule: NameRule, value: string): boolean {
  return NAME_RULES[rule].test(value);
}

function refName(ref: string): string {
  return ref.replace(/^#\/definitions\//, "");
}

function childPath(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function jsonType(value: unknown): string {
  if (value === null) {
    return "null";
  }
  return Array.isArray(value) ? "an array" : `a ${typeof value}`;
}

function describe(value: unknown): string {
  return typeof value === "string" ? `'${value}'` : jsonType(value);
}
