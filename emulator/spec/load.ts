/**
 * Finds and loads the generated spec subset (`emulator/spec/schemas.<version>.json`). The JSON is
 * not compiled into dist/, so it is looked up next to this file (running from source) and at
 * `../../../emulator/spec/` (running from dist/emulator/spec/, in the repo or an installed package).
 */
import * as fs from "node:fs";
import * as path from "node:path";

export const SPEC_API_VERSION = "2024-04-01";
export const SPEC_FILE_NAME = `schemas.${SPEC_API_VERSION}.json`;

/** A JSON-schema-ish node as Swagger 2.0 writes it (only the keywords the emulator reads). */
export interface SchemaNode {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  items?: SchemaNode;
  allOf?: SchemaNode[];
  discriminator?: string;
  "x-ms-discriminator-value"?: string;
  "x-nullable"?: boolean;
  "x-ms-mutability"?: string[];
  readOnly?: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  default?: unknown;
}

/** One operation parameter (path, query or body), with `$ref`s already resolved. */
export interface SpecParameter {
  name: string;
  in: "path" | "query" | "body" | "header";
  required?: boolean;
  type?: string;
  format?: string;
  enum?: string[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  default?: unknown;
  /** For `in: "body"`: `#/definitions/<Name>`. */
  schema?: SchemaNode;
}

export interface SpecOperation {
  method: "GET" | "PUT" | "PATCH" | "DELETE" | "POST";
  /** Path template as in the swagger, e.g. `/subscriptions/{subscriptionId}/...`. */
  path: string;
  parameters: SpecParameter[];
  responses: string[];
  longRunning?: boolean;
  finalStateVia?: string;
}

export interface SpecSubset {
  source: Record<string, unknown>;
  operations: Record<string, SpecOperation>;
  definitions: Record<string, SchemaNode>;
}

/** The folder that holds the generated spec JSON, or undefined when none of the candidates exists. */
export function resolveSpecDir(fromDir: string = __dirname): string | undefined {
  const candidates = [fromDir, path.resolve(fromDir, "../../../emulator/spec")];
  return candidates.find((dir) => fs.existsSync(path.join(dir, SPEC_FILE_NAME)));
}

let cached: SpecSubset | undefined;

/** Loads (once) the generated spec subset. Throws with a clear message when it cannot be found. */
export function loadSpec(): SpecSubset {
  if (cached !== undefined) {
    return cached;
  }
  const dir = resolveSpecDir();
  if (dir === undefined) {
    throw new Error(
      `The emulator's spec file ${SPEC_FILE_NAME} was not found next to ${__dirname} or in ` +
        `../../../emulator/spec. Reinstall the package, or regenerate it with emulator/spec/generate.ts.`,
    );
  }
  cached = JSON.parse(fs.readFileSync(path.join(dir, SPEC_FILE_NAME), "utf8")) as SpecSubset;
  return cached;
}
