// Runs an example Pulumi program through the real engine (tools/engine.ts, tools/stack.ts): preview,
// then up (and destroy when asked), printing what the CLI prints. The program runs as an inline
// program over a throwaway project that has this package installed from its packed tarball; its
// project folder's files are copied there, so relative paths work as in `pulumi up`.
//
//   node dist/examples/runner.js <example-dir-or-module> [--preview] [--destroy-after]
//        [--stack dev] [--config azureml:armEndpoint=https://…]…
//
// Stack config comes from PULUMI_CONFIG (a JSON object, as the engine gives plugins) and then
// from --config flags. The provider host inherits this process's environment (AZUREML_*,
// IDENTITY_ENDPOINT, …).
import { existsSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import type { PulumiFn } from "@pulumi/pulumi/automation";
import { ensureEngine } from "../tools/engine";
import { createEngineStack, type RunResult } from "../tools/stack";
import { findRepoRoot } from "../tools/userProject";

export interface RunnerArgs {
  readonly target: string;
  readonly previewOnly: boolean;
  readonly destroyAfter: boolean;
  readonly stack: string;
  readonly config: Record<string, string>;
}

export const USAGE =
  "usage: runner <example-dir-or-module> [--preview] [--destroy-after] [--stack <name>] " +
  "[--config <key>=<value>]...";

/** Parses the command line (without `node` and the script). Throws TypeError on bad input. */
export function parseRunnerArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): RunnerArgs {
  const config: Record<string, string> = env.PULUMI_CONFIG
    ? parseConfigJson(env.PULUMI_CONFIG)
    : {};
  let target: string | undefined;
  let previewOnly = false;
  let destroyAfter = false;
  let stack = "dev";
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
      case "--stack":
        stack = value(i++, arg);
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
  return { target, previewOnly, destroyAfter, stack, config };
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

/** The program a compiled example module exports (default, or `program`). */
export function loadProgram(modulePath: string): PulumiFn {
  const loaded = require(modulePath) as { default?: unknown; program?: unknown };
  const program = typeof loaded.default === "function" ? loaded.default : loaded.program;
  if (typeof program !== "function") {
    throw new Error(`${modulePath} exports neither a default function nor "program"`);
  }
  return program as PulumiFn;
}

export interface RunExampleResult {
  readonly preview: RunResult;
  readonly up: RunResult | undefined;
}

/** Previews, deploys and optionally destroys one example through the engine; prints what the CLI prints. */
export async function runExample(
  args: RunnerArgs,
  print: (text: string) => void = (text) => process.stdout.write(text),
): Promise<RunExampleResult> {
  const example = resolveExample(args.target, findRepoRoot());
  const engine = await ensureEngine({ log: (line) => print(`${line}\n`) });
  const stack = await createEngineStack({
    engine,
    projectName: example.project,
    stackName: args.stack,
    program: loadProgram(example.modulePath),
    files: [example.projectDir],
    config: args.config,
    onOutput: print,
  });
  try {
    const preview = await stack.preview();
    const up = args.previewOnly ? undefined : await stack.up();
    if (up && args.destroyAfter) {
      await stack.destroy();
    }
    return { preview, up };
  } finally {
    await stack.close();
  }
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
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  }
}

if (require.main === module) {
  // Providers may hold keep-alive sockets open; the run is over once main settles.
  void main().finally(() => process.exit());
}
