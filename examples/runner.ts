// Runs an example Pulumi program without the Pulumi CLI, through the in-process engine of
// test/support/programRunner.ts: preview, then up (and destroy when asked), printing the plan
// and the stack outputs the way `pulumi up` would.
//
//   node dist/examples/runner.js <example-dir-or-module> [--preview] [--destroy-after]
//        [--stack dev] [--config azureml:armEndpoint=https://…]… [--host-dir <dir>] [--show-secrets]
//
// Stack config comes from PULUMI_CONFIG (a JSON object, as the engine gives plugins) and then
// from --config flags. Providers run in this process, so AZUREML_* variables apply as well.
import { existsSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import {
  createProgramRunner,
  isDeploymentError,
  type Operation,
  type OperationKind,
  type Program,
  type ProgramOutputs,
} from "../test/support/programRunner";
import { findRepoRoot } from "../test/support/userProject";

export interface RunnerArgs {
  readonly target: string;
  readonly previewOnly: boolean;
  readonly destroyAfter: boolean;
  readonly stack: string;
  readonly config: Record<string, string>;
  readonly hostDir: string | undefined;
  readonly showSecrets: boolean;
}

export const USAGE =
  "usage: runner <example-dir-or-module> [--preview] [--destroy-after] [--stack <name>] " +
  "[--config <key>=<value>]... [--host-dir <dir>] [--show-secrets]";

/** Parses the command line (without `node` and the script). Throws TypeError on bad input. */
export function parseRunnerArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): RunnerArgs {
  const config: Record<string, string> = env.PULUMI_CONFIG
    ? parseConfigJson(env.PULUMI_CONFIG)
    : {};
  let target: string | undefined;
  let previewOnly = false;
  let destroyAfter = false;
  let stack = "dev";
  let hostDir: string | undefined;
  let showSecrets = false;
  const value = (i: number, flag: string) => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith("--")) {
      throw new TypeError(`${flag} needs a value\n${USAGE}`);
    }
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    switch (arg) {
      case "--preview":
        previewOnly = true;
        break;
      case "--destroy-after":
        destroyAfter = true;
        break;
      case "--show-secrets":
        showSecrets = true;
        break;
      case "--stack":
        stack = value(i++, arg);
        break;
      case "--host-dir":
        hostDir = value(i++, arg);
        break;
      case "--config":
      case "-c": {
        const pair = value(i++, arg);
        const eq = pair.indexOf("=");
        if (eq <= 0) {
          throw new TypeError(`--config expects <key>=<value>, got "${pair}"`);
        }
        config[pair.slice(0, eq)] = pair.slice(eq + 1);
        break;
      }
      default:
        if (arg.startsWith("-") || target !== undefined) {
          throw new TypeError(`unexpected argument "${arg}"\n${USAGE}`);
        }
        target = arg;
    }
  }
  if (target === undefined) {
    throw new TypeError(USAGE);
  }
  return { target, previewOnly, destroyAfter, stack, config, hostDir, showSecrets };
}

function parseConfigJson(text: string): Record<string, string> {
  const parsed = JSON.parse(text) as unknown;
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new TypeError("PULUMI_CONFIG must be a JSON object of config keys to values");
  }
  return Object.fromEntries(
    Object.entries(parsed).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
}

const SYMBOLS: Record<OperationKind, string> = {
  create: "+ ",
  update: "~ ",
  replace: "+-",
  delete: "- ",
  same: "  ",
};

/** One line per resource that changes, like the CLI's resource table. */
export function formatPlan(operations: readonly Operation[]): string[] {
  const shown = operations.filter((o) => o.op !== "same");
  const typeWidth = Math.max(4, ...shown.map((o) => o.type.length));
  const nameWidth = Math.max(4, ...shown.map((o) => o.name.length));
  return shown.map((o) => {
    const reason =
      o.op === "replace"
        ? `  [diff: ${(o.replaces ?? []).map((k) => `~${k}`).join(", ")}${o.deleteBeforeReplace ? "; delete before replace" : ""}]`
        : o.op === "update" && o.changedKeys?.length
          ? `  [diff: ${o.changedKeys.map((k) => `~${k}`).join(", ")}]`
          : "";
    return ` ${SYMBOLS[o.op]}  ${o.type.padEnd(typeWidth)}  ${o.name.padEnd(nameWidth)}  ${o.op}${reason}`.trimEnd();
  });
}

/** The "Resources:" summary: counts per kind, with the unchanged ones last. */
export function formatSummary(operations: readonly Operation[], preview: boolean): string[] {
  const count = (op: OperationKind) => operations.filter((o) => o.op === op).length;
  const verbs: Record<OperationKind, [string, string]> = {
    create: ["to create", "created"],
    update: ["to update", "updated"],
    replace: ["to replace", "replaced"],
    delete: ["to delete", "deleted"],
    same: ["unchanged", "unchanged"],
  };
  const lines = (["create", "update", "replace", "delete"] as const)
    .filter((op) => count(op) > 0)
    .map((op) => `    ${SYMBOLS[op].trim()} ${count(op)} ${verbs[op][preview ? 0 : 1]}`);
  if (count("same") > 0) {
    lines.push(`    ${count("same")} unchanged`);
  }
  return lines.length > 0 ? lines : ["    no resources"];
}

export function formatOutputs(outputs: ProgramOutputs): string[] {
  const keys = Object.keys(outputs).sort();
  const width = Math.max(0, ...keys.map((k) => k.length));
  return keys.map((k) => `    ${`${k}:`.padEnd(width + 1)} ${JSON.stringify(outputs[k])}`);
}

export interface ResolvedExample {
  /** The compiled module to load. */
  readonly modulePath: string;
  /** The Pulumi project directory: the program's cwd. */
  readonly projectDir: string;
  readonly project: string;
}

/**
 * Finds the compiled program and its project directory. A directory or `.ts` file from the
 * sources maps to its compiled mirror under dist/ when it has no JavaScript of its own.
 */
export function resolveExample(target: string, repoRoot: string = findRepoRoot()): ResolvedExample {
  const absolute = path.resolve(target);
  const isDir = existsSync(absolute) && statSync(absolute).isDirectory();
  const dist = path.join(repoRoot, "dist");
  const mirror = (p: string) =>
    p.startsWith(repoRoot + path.sep) && !p.startsWith(dist + path.sep)
      ? path.join(dist, path.relative(repoRoot, p))
      : undefined;
  const sourceOf = (p: string) =>
    p.startsWith(dist + path.sep) ? path.join(repoRoot, path.relative(dist, p)) : undefined;

  const candidates: string[] = [];
  if (isDir) {
    const mirrored = mirror(absolute);
    candidates.push(
      path.join(absolute, "index.js"),
      path.join(absolute, "dist", "index.js"),
      path.join(absolute, "bin", "index.js"),
      ...(mirrored ? [path.join(mirrored, "index.js")] : []),
    );
  } else if (absolute.endsWith(".ts")) {
    const mirrored = mirror(absolute.replace(/\.ts$/, ".js"));
    candidates.push(absolute.replace(/\.ts$/, ".js"), ...(mirrored ? [mirrored] : []));
  } else {
    candidates.push(absolute);
  }
  const modulePath = candidates.find((c) => existsSync(c));
  if (!modulePath) {
    throw new Error(
      `no compiled program for ${target} (looked for ${candidates.join(", ")}); build it first`,
    );
  }

  const startDir = isDir ? absolute : path.dirname(absolute);
  const projectDir =
    findUp(startDir, "Pulumi.yaml") ??
    (sourceOf(startDir) ? findUp(sourceOf(startDir)!, "Pulumi.yaml") : undefined) ??
    startDir;
  return { modulePath, projectDir, project: projectName(projectDir) };
}

function findUp(from: string, file: string): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, file))) {
      return dir;
    }
    if (path.dirname(dir) === dir) {
      return undefined;
    }
  }
}

function projectName(projectDir: string): string {
  const yaml = path.join(projectDir, "Pulumi.yaml");
  const match = existsSync(yaml)
    ? /^name:\s*["']?([^"'\s#]+)/m.exec(readFileSync(yaml, "utf8"))
    : null;
  return match?.[1] ?? path.basename(projectDir);
}

function loadProgram(modulePath: string): Program {
  const loaded = require(modulePath) as { default?: unknown; program?: unknown };
  const program = typeof loaded.default === "function" ? loaded.default : loaded.program;
  if (typeof program !== "function") {
    throw new Error(`${modulePath} exports neither a default function nor "program"`);
  }
  return program as Program;
}

export interface RunExampleResult {
  readonly outputs: ProgramOutputs;
  readonly operations: readonly Operation[];
}

/** Previews, deploys and optionally destroys one example; prints like the CLI. */
export async function runExample(
  args: RunnerArgs,
  print: (line: string) => void = (line) => console.log(line),
): Promise<RunExampleResult> {
  const repoRoot = findRepoRoot();
  const example = resolveExample(args.target, repoRoot);
  const program = loadProgram(example.modulePath);
  // Providers import "pulumi-azureml/…" from the host's cwd: the example's own install when it
  // has one, else the repository (where the package resolves to itself).
  const hostDir =
    args.hostDir ??
    (existsSync(path.join(example.projectDir, "node_modules", "pulumi-azureml"))
      ? example.projectDir
      : repoRoot);
  const runner = createProgramRunner({
    project: example.project,
    stack: args.stack,
    config: args.config,
    hostDir,
    // Pulumi runs a program in its project directory (relative asset paths).
    workDir: example.projectDir,
    maskSecrets: !args.showSecrets,
  });
  print(`Previewing update (${args.stack}):`);
  const planned = await runner.preview(program);
  printRun(print, runner.operations, planned, true);
  let outputs = planned;
  if (!args.previewOnly) {
    print(`Updating (${args.stack}):`);
    outputs = await runner.up(program);
    printRun(print, runner.operations, outputs, false);
  }
  const operations = [...runner.operations];
  if (args.destroyAfter && !args.previewOnly) {
    print(`Destroying (${args.stack}):`);
    await runner.destroy();
    printRun(print, runner.operations, {}, false);
  }
  return { outputs, operations };
}

export function printRun(
  print: (line: string) => void,
  operations: readonly Operation[],
  outputs: ProgramOutputs,
  preview: boolean,
): void {
  for (const line of formatPlan(operations)) {
    print(line);
  }
  if (Object.keys(outputs).length > 0) {
    print("");
    print("Outputs:");
    formatOutputs(outputs).forEach((line) => print(line));
  }
  print("");
  print("Resources:");
  formatSummary(operations, preview).forEach((line) => print(line));
  print("");
}

async function main(): Promise<void> {
  let args: RunnerArgs;
  try {
    args = parseRunnerArgs(process.argv.slice(2), process.env);
  } catch (error) {
    console.error((error as Error).message);
    process.exitCode = 2;
    return;
  }
  try {
    await runExample(args);
  } catch (error) {
    console.error(isDeploymentError(error) ? `error: ${error.message}` : error);
    process.exitCode = 1;
  }
}

if (require.main === module) {
  // Providers may hold keep-alive sockets open; the run is over once main settles.
  void main().finally(() => process.exit());
}
