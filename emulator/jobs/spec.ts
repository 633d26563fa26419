/**
 * Pure rules about a command job's specification: `${{inputs.x}}` / `${{outputs.y}}` bindings,
 * ISO 8601 time limits, where Azure puts outputs and artifacts, the fields a re-PUT may change.
 */
import { jsonEqual, type Json } from "../handlers/common";
import { ARTIFACT_DATASTORE, DEFAULT_DATASTORE } from "../state/seed";

/** Fields of a job's properties a PUT of an existing job may change (Azure's list). */
export const MUTABLE_JOB_FIELDS: readonly string[] = [
  "description",
  "tags",
  "displayName",
  "properties",
  "isArchived",
  "notificationSetting",
];

/** Fields the service fills in; a client echoing them back changes nothing. */
export const SERVER_JOB_FIELDS: readonly string[] = ["status", "services", "parameters"];

/** One `${{namespace.name}}` reference found in a command. */
export interface Binding {
  /** The whole expression as written, e.g. `${{ inputs.data }}`. */
  text: string;
  namespace: string;
  name: string;
}

const BINDING = /\$\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z0-9_.-]+?)\s*\}\}/g;
const ANY_BINDING = /\$\{\{([^}]*)\}\}/g;
const OPTIONAL_BLOCK = /\$\[\[([\s\S]*?)\]\]/g;

/** Every `${{...}}` expression in the command; malformed ones have an empty namespace. */
export function findBindings(command: string): Binding[] {
  const found: Binding[] = [];
  for (const match of command.matchAll(ANY_BINDING)) {
    const inner = new RegExp(BINDING.source).exec(match[0]);
    found.push(
      inner === null
        ? { text: match[0], namespace: "", name: match[1].trim() }
        : { text: match[0], namespace: inner[1], name: inner[2] },
    );
  }
  return found;
}

/**
 * Bindings that point at nothing: not `inputs.<declared>` or `outputs.<declared>`. References
 * inside an optional block `$[[...]]` may name an undeclared input (the block is then dropped).
 */
export function unboundReferences(
  command: string,
  inputs: readonly string[],
  outputs: readonly string[],
): Binding[] {
  const required = command.replace(OPTIONAL_BLOCK, "");
  const bad: Binding[] = [];
  for (const b of findBindings(required)) {
    if (!isDeclared(b, inputs, outputs)) {
      bad.push(b);
    }
  }
  for (const block of command.matchAll(OPTIONAL_BLOCK)) {
    for (const b of findBindings(block[1])) {
      if (b.namespace !== "inputs" && !isDeclared(b, inputs, outputs)) {
        bad.push(b);
      }
    }
  }
  return bad;
}

function isDeclared(b: Binding, inputs: readonly string[], outputs: readonly string[]): boolean {
  return (
    (b.namespace === "inputs" && inputs.includes(b.name)) ||
    (b.namespace === "outputs" && outputs.includes(b.name))
  );
}

/**
 * Replaces bindings with values. Optional blocks `$[[...]]` are kept (without the brackets) when
 * every input they name has a value, and dropped otherwise, as Azure ML does.
 */
export function substituteBindings(
  command: string,
  values: { inputs: Readonly<Record<string, string>>; outputs: Readonly<Record<string, string>> },
): string {
  const lookup = (b: Binding): string | undefined =>
    b.namespace === "inputs"
      ? values.inputs[b.name]
      : b.namespace === "outputs"
        ? values.outputs[b.name]
        : undefined;
  const replaceAll = (text: string) =>
    text.replace(ANY_BINDING, (whole) => {
      const [b] = findBindings(whole);
      const value = b === undefined ? undefined : lookup(b);
      return value ?? whole;
    });
  const withBlocks = command.replace(OPTIONAL_BLOCK, (_whole, body: string) =>
    findBindings(body).every((b) => lookup(b) !== undefined) ? body : "",
  );
  return replaceAll(withBlocks);
}

/**
 * An ISO 8601 duration (`PT5M`, `P1DT2H`, `PT0.5S`) in milliseconds, or undefined when malformed.
 * Years and months are refused: their length is not fixed.
 */
export function parseIsoDuration(text: string): number | undefined {
  const m =
    /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(
      text,
    );
  if (m === null || text === "P" || text.endsWith("T")) {
    return undefined;
  }
  const [weeks, days, hours, minutes, seconds] = m.slice(1).map((v) => Number(v ?? 0));
  return ((((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000;
}

/** `azureml://datastores/workspaceblobstore/paths/azureml/<job>/<output>/`: a named output's default URI. */
export function defaultOutputUri(jobName: string, outputName: string): string {
  return `azureml://datastores/${DEFAULT_DATASTORE}/paths/azureml/${jobName}/${outputName}/`;
}

/** The run's artifact folder in the `azureml` container: `ExperimentRun/dcid.<job>`. */
export function artifactFolder(jobName: string): string {
  return `ExperimentRun/dcid.${jobName}`;
}

/** The `default` output Azure adds to every job: the run's artifacts (logs, `./outputs`). */
export function defaultArtifactOutput(jobName: string): Json {
  return {
    jobOutputType: "uri_folder",
    mode: "ReadWriteMount",
    uri: `azureml://datastores/${ARTIFACT_DATASTORE}/${artifactFolder(jobName)}`,
    description: null,
  };
}

/**
 * The job's properties as stored: outputs get their default URI and mode, the `default` artifact
 * output is added, and `experimentName` defaults to `Default`. Deterministic, so a re-PUT of the
 * same body normalizes to the same value.
 */
export function normalizeJobProperties(jobName: string, given: Json): Json {
  const properties: Json = {
    description: null,
    tags: {},
    properties: {},
    displayName: jobName,
    experimentName: "Default",
    isArchived: false,
    ...stripNulls(given),
  };
  const outputs: Json = {};
  for (const [name, raw] of Object.entries(asJson(given.outputs))) {
    const output = asJson(raw);
    outputs[name] = {
      mode: "ReadWriteMount",
      ...stripNulls(output),
      uri:
        typeof output.uri === "string" && output.uri !== ""
          ? output.uri
          : defaultOutputUri(jobName, name),
    };
  }
  if (outputs.default === undefined) {
    outputs.default = defaultArtifactOutput(jobName);
  }
  properties.outputs = outputs;
  const inputs: Json = {};
  for (const [name, raw] of Object.entries(asJson(given.inputs))) {
    const input = asJson(raw);
    inputs[name] =
      input.jobInputType === "literal"
        ? stripNulls(input)
        : { mode: "ReadOnlyMount", ...stripNulls(input) };
  }
  properties.inputs = inputs;
  return properties;
}

/** Content fields whose values differ between a stored job and a re-PUT (both normalized). */
export function changedJobFields(previous: Json, next: Json): string[] {
  const keys = new Set([...Object.keys(previous), ...Object.keys(next)]);
  return [...keys]
    .filter(
      (k) =>
        !MUTABLE_JOB_FIELDS.includes(k) &&
        !SERVER_JOB_FIELDS.includes(k) &&
        !jsonEqual(withoutNulls(previous[k]) ?? null, withoutNulls(next[k]) ?? null),
    )
    .sort();
}

/**
 * A value with null members dropped at every depth: Azure treats null as absent, and a client
 * echoing back a GET (as azure-ai-ml's archive does) drops the nulls the GET carried, such as the
 * `default` output's `description: null`.
 */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(withoutNulls);
  }
  if (typeof value !== "object" || value === null) {
    return value;
  }
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => [k, withoutNulls(v)]),
  );
}

/** The last `count` non-empty lines of a log. */
export function lastLines(text: string, count: number): string[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  return lines.slice(Math.max(0, lines.length - count));
}

function stripNulls(value: Json): Json {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined));
}

function asJson(value: unknown): Json {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Json)
    : {};
}
