/**
 * Generates `emulator/spec/schemas.2024-04-01.json`: the operations the emulator serves and only
 * the schema definitions reachable from their request bodies (plus every discriminated subtype),
 * with all `$ref`s rewritten to local `#/definitions/...`. Descriptions and examples are dropped.
 *
 * Usage (after `npx tsc`):
 *   node dist/emulator/spec/generate.js <spec-dir> [--common-types <dir>] [--out <file>]
 * where <spec-dir> holds `mfe.json` and `machineLearningServices.json` of api-version 2024-04-01
 * (Azure/azure-rest-api-specs, `specification/machinelearningservices/resource-manager/
 * Microsoft.MachineLearningServices/stable/2024-04-01/`), and the common types default to
 * `<spec-dir>/../common-types` (holding `v3/types.json`, `v3/managedidentity.json`).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { SPEC_API_VERSION, SPEC_FILE_NAME, resolveSpecDir } from "./load";

/** Operations the emulator serves now, or whose handlers are planned (jobs, batch endpoints). */
export const SERVED_OPERATIONS: readonly string[] = [
  "Workspaces_Get",
  "Workspaces_ListByResourceGroup",
  "Compute_List",
  "Compute_Get",
  "Compute_CreateOrUpdate",
  "Compute_Delete",
  "Datastores_List",
  "Datastores_Get",
  "Datastores_CreateOrUpdate",
  "Datastores_Delete",
  "Datastores_ListSecrets",
  ...["Environment", "Data", "Code", "Model"].flatMap((kind) => [
    `${kind}Containers_List`,
    `${kind}Containers_Get`,
    `${kind}Containers_CreateOrUpdate`,
    `${kind}Containers_Delete`,
    `${kind}Versions_List`,
    `${kind}Versions_Get`,
    `${kind}Versions_CreateOrUpdate`,
    `${kind}Versions_Delete`,
  ]),
  "CodeVersions_CreateOrGetStartPendingUpload",
  "Jobs_List",
  "Jobs_Get",
  "Jobs_CreateOrUpdate",
  "Jobs_Delete",
  "Jobs_Cancel",
  "BatchEndpoints_List",
  "BatchEndpoints_Get",
  "BatchEndpoints_CreateOrUpdate",
  "BatchEndpoints_Update",
  "BatchEndpoints_Delete",
  "BatchEndpoints_ListKeys",
  "BatchDeployments_List",
  "BatchDeployments_Get",
  "BatchDeployments_CreateOrUpdate",
  "BatchDeployments_Update",
  "BatchDeployments_Delete",
];

const UPSTREAM_DIR =
  "specification/machinelearningservices/resource-manager/Microsoft.MachineLearningServices/stable/2024-04-01";
const UPSTREAM_COMMON = "specification/common-types/resource-management";

/** Schema keywords kept in the output; everything else (descriptions, examples, client names) is dropped. */
const KEPT_KEYWORDS = new Set([
  "$ref",
  "type",
  "format",
  "enum",
  "required",
  "properties",
  "additionalProperties",
  "items",
  "allOf",
  "discriminator",
  "x-ms-discriminator-value",
  "x-nullable",
  "x-ms-mutability",
  "readOnly",
  "minLength",
  "maxLength",
  "pattern",
  "minimum",
  "maximum",
  "minItems",
  "maxItems",
  "default",
]);

type Json = Record<string, any>;

interface SourceFile {
  /** Absolute path on this machine (never written to the output). */
  absPath: string;
  /** Path as the upstream repository names it. */
  upstream: string;
  json: Json;
}

export interface GenerateOptions {
  specDir: string;
  commonTypesDir?: string;
  /** @default SERVED_OPERATIONS */
  operations?: readonly string[];
}

/** Builds the subset document (pure apart from reading the input files). */
export function generateSpecSubset(options: GenerateOptions): Json {
  const commonDir = options.commonTypesDir ?? path.resolve(options.specDir, "../common-types");
  const files = new Map<string, SourceFile>();
  const load = (absPath: string, upstream: string): SourceFile => {
    let file = files.get(absPath);
    if (file === undefined) {
      file = { absPath, upstream, json: JSON.parse(fs.readFileSync(absPath, "utf8")) };
      files.set(absPath, file);
    }
    return file;
  };
  const mfe = load(path.join(options.specDir, "mfe.json"), `${UPSTREAM_DIR}/mfe.json`);
  const mls = load(
    path.join(options.specDir, "machineLearningServices.json"),
    `${UPSTREAM_DIR}/machineLearningServices.json`,
  );

  /** Resolves a `$ref` seen in `from` to the file it points at and the JSON pointer inside it. */
  const resolveRef = (from: SourceFile, ref: string): { file: SourceFile; pointer: string } => {
    const [filePart, pointer] = ref.split("#");
    if (filePart === "") {
      return { file: from, pointer };
    }
    const common = /common-types\/resource-management\/(v\d+)\/([\w.]+)$/.exec(filePart);
    if (common !== null) {
      return {
        file: load(
          path.join(commonDir, common[1], common[2]),
          `${UPSTREAM_COMMON}/${common[1]}/${common[2]}`,
        ),
        pointer,
      };
    }
    const sibling = path.join(path.dirname(from.absPath), filePart);
    return { file: load(sibling, `${path.posix.dirname(from.upstream)}/${filePart}`), pointer };
  };
  const at = (file: SourceFile, pointer: string): Json => {
    let node: any = file.json;
    for (const part of pointer.split("/").filter((p) => p !== "")) {
      node = node?.[part.replace(/~1/g, "/").replace(/~0/g, "~")];
    }
    if (node === undefined) {
      throw new Error(`Unresolvable reference ${file.upstream}#${pointer}`);
    }
    return node;
  };

  // Definition identity is (file, name); output names are the bare names unless two files collide.
  const outName = new Map<string, string>();
  const takenBy = new Map<string, string>();
  const nameFor = (file: SourceFile, defName: string): string => {
    const identity = `${file.upstream}#${defName}`;
    let name = outName.get(identity);
    if (name === undefined) {
      name = defName;
      if (takenBy.has(name) && takenBy.get(name) !== identity) {
        const prefix = path.posix.basename(file.upstream, ".json");
        name = `${prefix}.${defName}`;
      }
      takenBy.set(name, identity);
      outName.set(identity, name);
    }
    return name;
  };

  const definitions: Json = {};
  const queue: Array<{ file: SourceFile; defName: string }> = [];
  const enqueue = (file: SourceFile, defName: string): string => {
    const name = nameFor(file, defName);
    if (!(name in definitions)) {
      definitions[name] = null; // reserve, filled below
      queue.push({ file, defName });
    }
    return name;
  };

  /** Copies a schema node, keeping only validation keywords and rewriting refs. */
  const copySchema = (file: SourceFile, node: any): any => {
    if (Array.isArray(node)) {
      return node.map((n) => copySchema(file, n));
    }
    if (typeof node !== "object" || node === null) {
      return node;
    }
    const out: Json = {};
    for (const [key, value] of Object.entries(node)) {
      if (!KEPT_KEYWORDS.has(key)) {
        continue;
      }
      if (key === "$ref") {
        const target = resolveRef(file, value as string);
        const match = /^\/definitions\/([^/]+)$/.exec(target.pointer);
        if (match === null) {
          throw new Error(`Unsupported schema reference ${value as string} in ${file.upstream}`);
        }
        out.$ref = `#/definitions/${enqueue(target.file, match[1])}`;
      } else if (key === "properties") {
        out.properties = Object.fromEntries(
          Object.entries(value as Json).map(([p, s]) => [p, copySchema(file, s)]),
        );
      } else if (
        key === "enum" ||
        key === "required" ||
        key === "x-ms-mutability" ||
        key === "default"
      ) {
        out[key] = value;
      } else {
        out[key] = copySchema(file, value);
      }
    }
    return out;
  };

  const resolveParameter = (file: SourceFile, param: Json): { file: SourceFile; param: Json } => {
    if (typeof param.$ref === "string") {
      const target = resolveRef(file, param.$ref);
      return resolveParameter(target.file, at(target.file, target.pointer));
    }
    return { file, param };
  };

  // Operations first: their body schemas seed the definition walk.
  const operations: Json = {};
  const wanted = new Set(options.operations ?? SERVED_OPERATIONS);
  for (const file of [mfe, mls]) {
    for (const [template, item] of Object.entries(file.json.paths as Json)) {
      for (const [method, op] of Object.entries(item as Json)) {
        if (method === "parameters" || !wanted.has(op.operationId)) {
          continue;
        }
        const parameters = [...((item as Json).parameters ?? []), ...(op.parameters ?? [])].map(
          (raw: Json) => {
            const { file: pf, param } = resolveParameter(file, raw);
            const out: Json = { name: param.name, in: param.in };
            for (const key of [
              "required",
              "type",
              "format",
              "enum",
              "pattern",
              "minLength",
              "maxLength",
              "default",
            ]) {
              if (param[key] !== undefined) {
                out[key] = param[key];
              }
            }
            if (param.in === "body") {
              out.schema = copySchema(pf, param.schema);
            }
            return out;
          },
        );
        const lroOptions = op["x-ms-long-running-operation-options"] as Json | undefined;
        operations[op.operationId] = {
          method: method.toUpperCase(),
          path: template,
          parameters,
          responses: Object.keys(op.responses ?? {}),
          ...(op["x-ms-long-running-operation"] === true ? { longRunning: true } : {}),
          ...(lroOptions?.["final-state-via"] !== undefined
            ? { finalStateVia: lroOptions["final-state-via"] }
            : {}),
        };
        wanted.delete(op.operationId);
      }
    }
  }
  if (wanted.size > 0) {
    throw new Error(`Operations not found in the spec: ${[...wanted].join(", ")}`);
  }

  // Walk definitions to a fixpoint, pulling in subtypes of every discriminated base reached.
  const filled = new Set<string>();
  for (;;) {
    while (queue.length > 0) {
      const { file, defName } = queue.shift() as { file: SourceFile; defName: string };
      const name = nameFor(file, defName);
      definitions[name] = copySchema(file, at(file, `/definitions/${defName}`));
      filled.add(name);
    }
    const before = Object.keys(definitions).length;
    for (const file of files.values()) {
      for (const [defName, def] of Object.entries((file.json.definitions ?? {}) as Json)) {
        const parents: string[] = ((def as Json).allOf ?? [])
          .filter((s: Json) => typeof s.$ref === "string")
          .map((s: Json) => {
            const target = resolveRef(file, s.$ref);
            return nameFor(target.file, target.pointer.replace("/definitions/", ""));
          });
        const extendsReachedBase = parents.some(
          (p) => filled.has(p) && definitions[p]?.discriminator !== undefined,
        );
        const extendsReachedSubtype = parents.some(
          (p) => filled.has(p) && isSubtype(definitions[p]),
        );
        if (
          extendsReachedBase ||
          (extendsReachedSubtype && (def as Json)["x-ms-discriminator-value"] !== undefined)
        ) {
          enqueue(file, defName);
        }
      }
    }
    if (queue.length === 0 && Object.keys(definitions).length === before) {
      break;
    }
  }

  const sources = [...files.values()].map((f) => f.upstream).sort();
  return sortKeys({
    source: {
      description:
        "Generated subset of the Azure Machine Learning REST API specification: the operations the " +
        "emulator serves and the definitions reachable from their request bodies. Do not edit by hand; " +
        "regenerate with emulator/spec/generate.ts.",
      repository: "https://github.com/Azure/azure-rest-api-specs",
      files: sources,
      apiVersion: SPEC_API_VERSION,
      license: "MIT",
      copyright: "Copyright (c) Microsoft Corporation. All rights reserved.",
      generator: "emulator/spec/generate.ts",
    },
    operations,
    definitions,
  });
}

function isSubtype(def: Json | undefined): boolean {
  return def !== undefined && def !== null && def["x-ms-discriminator-value"] !== undefined;
}

function sortKeys(value: any): any {
  if (Array.isArray(value)) {
    return value.map(sortKeys);
  }
  if (typeof value !== "object" || value === null) {
    return value;
  }
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys(value[k])]),
  );
}

function main(argv: string[]): void {
  const args = [...argv];
  let commonTypesDir: string | undefined;
  let out: string | undefined;
  const positional: string[] = [];
  while (args.length > 0) {
    const arg = args.shift() as string;
    if (arg === "--common-types") {
      commonTypesDir = args.shift();
    } else if (arg === "--out") {
      out = args.shift();
    } else {
      positional.push(arg);
    }
  }
  if (positional.length !== 1) {
    process.stderr.write(
      "usage: node dist/emulator/spec/generate.js <spec-dir> [--common-types <dir>] [--out <file>]\n",
    );
    process.exitCode = 2;
    return;
  }
  const subset = generateSpecSubset({ specDir: positional[0], commonTypesDir });
  const target =
    out ??
    path.join(
      resolveSpecDir() ?? path.resolve(__dirname, "../../../emulator/spec"),
      SPEC_FILE_NAME,
    );
  fs.writeFileSync(target, `${JSON.stringify(subset, null, 1)}\n`);
  process.stdout.write(
    `wrote ${Object.keys(subset.operations).length} operations and ` +
      `${Object.keys(subset.definitions).length} definitions to ${target}\n`,
  );
}

if (require.main === module) {
  main(process.argv.slice(2));
}
