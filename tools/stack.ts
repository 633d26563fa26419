/**
 * One way to run a Pulumi program: through the real engine (tools/engine.ts), with the Automation
 * API's inline programs, over a throwaway project that has this package installed from its packed
 * tarball. The tests (`@engine`), the demo and the benchmarks all use it.
 *
 * Every stack is local and offline: a file backend in a temporary folder, a random passphrase, a
 * PULUMI_HOME of its own, no update check and no plugin download (`PulumiCommand.install` is never
 * called; the engine's `bin/` holds `pulumi` and the dynamic-provider shim).
 *
 *   const stack = await createEngineStack({ engine, projectName: "t", program });
 *   const plan = await stack.preview();        // plan.steps: op, name, keys (replace reasons), diffs
 *   await stack.up(); await stack.refresh(); await stack.destroy();
 *   const state = await stack.exportState();   // what `pulumi stack export` prints
 *   await stack.close();                       // removes the project, the state and PULUMI_HOME
 *
 * A stack's program runs inside this process (the SDK's runtime is process-wide), so commands on
 * stacks of one process must not overlap.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import {
  LocalWorkspace,
  PulumiCommand,
  type ConfigMap,
  type EngineEvent,
  type OpType,
  type PulumiFn,
  type Stack,
} from "@pulumi/pulumi/automation";
import { createUserProject, type UserProject } from "./userProject";
import { repoRoot, type Engine } from "./engine";

/** How the engine shows a value that is not known until Azure answers (preview). */
export const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** One step of a run, as the engine reported it (`resourcePreEvent`). */
export interface Step {
  readonly op: OpType;
  readonly urn: string;
  /** The resource's name (the last part of the URN). */
  readonly name: string;
  readonly type: string;
  /** Replace reasons: the properties that force a replacement. */
  readonly keys: readonly string[];
  /** The properties that changed, as the provider or the engine listed them. */
  readonly diffs: readonly string[];
  /** Property → kind ("update", "add", "delete", "update-replace", …), when known. */
  readonly detailedDiff: Readonly<Record<string, { kind: string; inputDiff: boolean }>>;
}

/** What one preview, up, refresh or destroy reported. */
export interface RunResult {
  /** Every step, the stack's own included, in the order the engine began them. */
  readonly steps: readonly Step[];
  /** Stack outputs; in a preview, values not known yet are {@link UNKNOWN_VALUE}. */
  readonly outputs: Readonly<Record<string, unknown>>;
  /** Error and warning diagnostics, with their resource URN when they have one. */
  readonly diagnostics: readonly Diagnostic[];
  /**
   * Info diagnostics in the order the engine reported them: what providers said while they worked
   * (`pulumi.log.info`, e.g. a job's status changes), with their resource URN.
   */
  readonly progress: readonly Diagnostic[];
  /** The CLI's own text output. */
  readonly output: string;
  /** The engine's count of resources per operation ("create", "update", "same", …). */
  readonly changeSummary: Readonly<Record<string, number>>;
  /**
   * For a refresh: the resources whose state changed behind Pulumi's back, "update" (Azure's
   * values differ from the state) or "delete" (gone from Azure).
   */
  readonly drift: readonly { readonly op: "update" | "delete"; readonly name: string }[];
}

export interface Diagnostic {
  readonly severity: string;
  readonly urn: string | undefined;
  readonly message: string;
}

/** A command the engine ended with an error; the diagnostics say why. */
export class EngineRunError extends Error {
  constructor(
    readonly command: string,
    readonly result: RunResult,
    options?: { cause?: unknown },
  ) {
    const errors = result.diagnostics.filter((d) => d.severity === "error");
    super(
      `pulumi ${command} failed:\n${errors.map((d) => `  ${d.urn ?? ""}\n    ${d.message.trim()}`).join("\n")}`,
      options,
    );
    this.name = "EngineRunError";
  }
}

/** The program's resources' steps that change something: an unchanged re-run has none. */
export function changes(steps: readonly Step[]): Step[] {
  return resourceSteps(steps).filter((s) => s.op !== "same" && s.op !== "read");
}

/** "op name" for every step of the program's resources, e.g. "create iris-env". */
export function stepSummary(steps: readonly Step[]): string[] {
  return resourceSteps(steps).map((s) => `${s.op} ${s.name}`);
}

/** Steps of the program's resources: not the stack itself, not the default provider. */
function resourceSteps(steps: readonly Step[]): Step[] {
  return steps.filter((s) => !isStackType(s.type) && !s.type.startsWith("pulumi:providers:"));
}

function isStackType(type: string): boolean {
  return type === "pulumi:pulumi:Stack";
}

export interface EngineStackOptions {
  readonly engine: Engine;
  /** Project name (the config namespace of the program's `new pulumi.Config()`). */
  readonly projectName: string;
  /** Default "dev". */
  readonly stackName?: string;
  readonly program: PulumiFn;
  /** Stack config, `<namespace>:<key>` → value (a key without namespace gets the project's). */
  readonly config?: Readonly<Record<string, string>>;
  /** Folders whose contents are copied into the project (the program's relative paths). */
  readonly files?: readonly string[];
  /** Extra environment for the CLI and the plugins it starts (the provider host). */
  readonly env?: Readonly<Record<string, string>>;
  /** The engine's parallelism; default: the engine's own default. */
  readonly parallel?: number;
  /** Receives the CLI's text output as it comes (the demo prints it). */
  readonly onOutput?: (text: string) => void;
  /**
   * A file-backend folder shared with other stacks (so one can read another's outputs through a
   * `StackReference`, as `organization/<project>/<stack>`); the caller creates and removes it.
   * Default: a folder of this stack's own, removed by `close`.
   */
  readonly backendDir?: string;
  /** The secrets passphrase; stacks sharing a backend share it. Default: a random one. */
  readonly passphrase?: string;
}

export interface EngineStack {
  /** The project folder: the provider host's working directory. */
  readonly dir: string;
  readonly project: UserProject;
  readonly stack: Stack;
  preview(program?: PulumiFn): Promise<RunResult>;
  up(program?: PulumiFn): Promise<RunResult>;
  refresh(): Promise<RunResult>;
  destroy(): Promise<RunResult>;
  /** `pulumi stack export`, as text. */
  exportState(): Promise<string>;
  /** Removes the project, the stack's state and its PULUMI_HOME. */
  close(): Promise<void>;
}

/** Creates a project from the packed package and a stack in it running `program` on `engine`. */
export async function createEngineStack(options: EngineStackOptions): Promise<EngineStack> {
  const cleanups: (() => Promise<void>)[] = [];
  const close = async () => {
    await Promise.all(cleanups.map((cleanup) => cleanup()));
  };
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), "pulumi-azureml-engine-"));
  cleanups.push(() => fs.rm(scratch, { recursive: true, force: true }));
  try {
    const home = path.join(scratch, "home");
    const backend = options.backendDir ?? path.join(scratch, "state");
    await Promise.all([fs.mkdir(home), fs.mkdir(backend, { recursive: true })]);
    // The engine stores where each resource was declared relative to the project folder. The
    // program runs from this repository's dist/, so the project sits inside the repository (where
    // tool caches go), keeping those positions relative and free of machine paths, as a user's
    // own project keeps them.
    const projects = path.join(repoRoot(), "node_modules", ".cache", "pulumi-azureml-engine");
    await fs.mkdir(projects, { recursive: true });
    const projectDir = await fs.mkdtemp(path.join(projects, `${options.projectName}-`));
    cleanups.push(() => fs.rm(projectDir, { recursive: true, force: true }));
    const project = await createUserProject({ name: options.projectName, dir: projectDir });
    for (const folder of options.files ?? []) {
      await fs.cp(folder, project.dir, {
        recursive: true,
        filter: (source) => path.basename(source) !== "node_modules",
      });
    }
    const env: Record<string, string> = {
      PULUMI_HOME: home,
      PULUMI_BACKEND_URL: `file://${backend}`,
      PULUMI_CONFIG_PASSPHRASE: options.passphrase ?? randomBytes(16).toString("hex"),
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_SKIP_CONFIRMATIONS: "true",
      // The shim runs `node`: the one running this process.
      PATH: [options.engine.bin, path.dirname(process.execPath), process.env.PATH ?? ""].join(
        path.delimiter,
      ),
      ...options.env,
    };
    const pulumiCommand = await PulumiCommand.get({ root: options.engine.root });
    const stack = await LocalWorkspace.createOrSelectStack(
      {
        stackName: options.stackName ?? "dev",
        projectName: options.projectName,
        program: options.program,
      },
      {
        workDir: project.dir,
        pulumiHome: home,
        pulumiCommand,
        envVars: env,
        projectSettings: {
          name: options.projectName,
          runtime: "nodejs",
          backend: { url: `file://${backend}` },
        },
      },
    );
    if (options.config) {
      const config: ConfigMap = {};
      for (const [key, value] of Object.entries(options.config)) {
        config[key.includes(":") ? key : `${options.projectName}:${key}`] = { value };
      }
      await stack.setAllConfig(config);
    }
    return engineStack(stack, project, close, options);
  } catch (error) {
    await close();
    throw error;
  }
}

function engineStack(
  stack: Stack,
  project: UserProject,
  close: () => Promise<void>,
  options: EngineStackOptions,
): EngineStack {
  // Plain text (what a log shows), and the engine's parallelism unless the caller sets one.
  const common = {
    color: "never" as const,
    ...(options.parallel === undefined ? {} : { parallel: options.parallel }),
  };

  async function observe(
    command: string,
    body: (handlers: {
      onEvent: (event: EngineEvent) => void;
      onOutput: (text: string) => void;
    }) => Promise<{ outputs?: Record<string, unknown> } | void>,
  ): Promise<RunResult> {
    const steps: Step[] = [];
    const diagnostics: Diagnostic[] = [];
    const progress: Diagnostic[] = [];
    const drift: { op: "update" | "delete"; name: string }[] = [];
    let changeSummary: Record<string, number> = {};
    let outputs: Record<string, unknown> = {};
    let output = "";
    const onEvent = (event: EngineEvent) => {
      const pre = event.resourcePreEvent?.metadata;
      if (pre) {
        steps.push({
          op: pre.op,
          urn: pre.urn,
          name: pre.urn.slice(pre.urn.lastIndexOf("::") + 2),
          type: pre.type,
          keys: pre.keys ?? [],
          diffs: pre.diffs ?? [],
          detailedDiff: Object.fromEntries(
            Object.entries(pre.detailedDiff ?? {}).map(([k, v]) => [
              k,
              { kind: String(v.diffKind), inputDiff: v.inputDiff },
            ]),
          ),
        });
      }
      const done = event.resOutputsEvent?.metadata;
      if (done && isStackType(done.type)) {
        outputs = (done.new?.outputs as Record<string, unknown> | undefined) ?? {};
      }
      // In a refresh, the outcome of reading each resource back: "update" when Azure's values
      // differ from the state (the provider's diff says so), "delete" when it is gone.
      if (
        done &&
        command === "refresh" &&
        (done.op === "update" || done.op === "delete") &&
        !isStackType(done.type) &&
        !done.type.startsWith("pulumi:providers:")
      ) {
        drift.push({ op: done.op, name: done.urn.slice(done.urn.lastIndexOf("::") + 2) });
      }
      if (event.summaryEvent) {
        changeSummary = { ...event.summaryEvent.resourceChanges };
      }
      const diagnostic = event.diagnosticEvent;
      if (diagnostic && (diagnostic.severity === "error" || diagnostic.severity === "warning")) {
        diagnostics.push({
          severity: diagnostic.severity,
          urn: diagnostic.urn,
          message: diagnostic.message,
        });
      }
      if (diagnostic && diagnostic.severity === "info" && !diagnostic.ephemeral) {
        progress.push({ severity: "info", urn: diagnostic.urn, message: diagnostic.message });
      }
    };
    const onOutput = (text: string) => {
      output += text;
      options.onOutput?.(text);
    };
    const result = () => ({
      steps,
      outputs,
      diagnostics,
      progress,
      output,
      changeSummary,
      drift,
    });
    try {
      const returned = await body({ onEvent, onOutput });
      if (returned && returned.outputs) {
        outputs = returned.outputs;
      }
      return result();
    } catch (error) {
      throw new EngineRunError(command, result(), { cause: error });
    }
  }

  const plain = (outputs: Record<string, { value: unknown }>) =>
    Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.value]));

  return {
    dir: project.dir,
    project,
    stack,
    preview: (program) =>
      observe("preview", async (handlers) => {
        await stack.preview({ ...handlers, ...common, diff: true, program });
      }),
    up: (program) =>
      observe("up", async (handlers) => {
        const done = await stack.up({ ...handlers, ...common, program });
        return { outputs: plain(done.outputs) };
      }),
    refresh: () =>
      observe("refresh", async (handlers) => {
        await stack.refresh({ ...handlers, ...common });
      }),
    destroy: () =>
      observe("destroy", async (handlers) => {
        await stack.destroy({ ...handlers, ...common });
      }),
    exportState: async () => JSON.stringify(await stack.exportStack(), null, 2),
    close,
  };
}
