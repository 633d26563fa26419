// An in-process stand-in for the Pulumi engine, so whole programs can be previewed, deployed,
// re-deployed and destroyed in a test without the CLI. Pulumi's own mock monitor
// (`pulumi.runtime.setMocks`) receives the registrations; dynamic resources are dispatched to
// their REAL providers, deserialized from `__provider` and configured exactly like the host
// does (loadLikeHost), and every value crosses a google.protobuf.Struct round trip as on the wire.
//
// Process-wide runtime state: `@pulumi/pulumi` keeps its settings, monitor and config in one
// global store. setMocks() resets all of it (settings.resetOptions), so each run calls it again
// and keeps its own state map outside; runs must not overlap. What setMocks cannot give us
// (parent, dependencies, resource options) is read from the RegisterResourceRequest by
// replacing the mock monitor's registerResource with one that sees the whole request.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { loadLikeHost, UNKNOWN, viaStruct } from "./loadLikeHost";
import { namespacedConfig, setProgramConfig } from "./mockConfig";

const { Struct } = require("google-protobuf/google/protobuf/struct_pb");
const resproto = require("@pulumi/pulumi/proto/resource_pb");

const SECRET_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
const DYNAMIC_TYPE_PREFIX = "pulumi-nodejs:dynamic";

/** How a program output that is not known yet is returned. */
export const UNKNOWN_OUTPUT = "<unknown>";
/** How a secret program output is returned when `maskSecrets` is on. */
export const SECRET_OUTPUT = "[secret]";

export type Program = () => Promise<Record<string, unknown> | void>;
export type ProgramOutputs = Record<string, unknown>;

export type OperationKind = "create" | "update" | "replace" | "same" | "delete";

/** One step of a run, as `pulumi preview`/`up` would list it. */
export interface Operation {
  readonly urn: string;
  readonly name: string;
  readonly type: string;
  readonly op: OperationKind;
  /** Properties that force the replacement (op "replace"). */
  readonly replaces?: string[];
  /** The provider's diff verdict; "unknown" means the engine compared the inputs itself. */
  readonly diffChanges?: "unknown" | "none" | "some";
  /** Top-level inputs that differ from the last deployment (op "update"/"replace"). */
  readonly changedKeys?: string[];
  /** The replacement deletes the old resource first. */
  readonly deleteBeforeReplace?: boolean;
}

/** What the runner remembers about one deployed resource, like a state snapshot entry. */
export interface StateEntry {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  readonly id: string | undefined;
  /** Checked inputs, as the engine stores them (plain values, secrets unwrapped). */
  readonly inputs: Record<string, unknown>;
  /** Outputs; for dynamic resources these include `__provider`. */
  readonly outputs: Record<string, unknown>;
  readonly secretOutputs: readonly string[];
  readonly parent: string | undefined;
  readonly dependencies: readonly string[];
  readonly options: ResourceOptionsSeen;
}

/** The resource options the engine acts on, read from the registration request. */
export interface ResourceOptionsSeen {
  readonly deleteBeforeReplace: boolean;
  readonly ignoreChanges: readonly string[];
  readonly replaceOnChanges: readonly string[];
  readonly additionalSecretOutputs: readonly string[];
  readonly retainOnDelete: boolean;
  readonly protect: boolean;
}

export interface ProgramRunnerOptions {
  readonly project: string;
  readonly stack: string;
  /** Stack config. Keys without a namespace get `<project>:`, like `pulumi config set`. */
  readonly config?: Record<string, string>;
  /**
   * The provider host's cwd: where `import("pulumi-azureml/…")` in a serialized provider
   * resolves, normally a project with the package installed. Default: process.cwd().
   */
  readonly hostDir?: string;
  /**
   * The working directory during a run, for the program and the providers alike (relative
   * paths such as a CodeVersion's `path`). Default: hostDir.
   */
  readonly workDir?: string;
  /** Config keys the program should see as secrets (`Config.requireSecret`). */
  readonly secretConfigKeys?: readonly string[];
  /** Return secret program outputs as "[secret]" instead of their plaintext. */
  readonly maskSecrets?: boolean;
}

export interface ProgramRunner {
  /** Runs the program as `pulumi preview`: check and diff only, nothing is written. */
  preview(program: Program): Promise<ProgramOutputs>;
  /** Runs the program as `pulumi up --yes`. */
  up(program: Program): Promise<ProgramOutputs>;
  /** Deletes every resource in state, dependents first. */
  destroy(): Promise<void>;
  /** The current state, in deployment order. */
  readonly state: ReadonlyMap<string, StateEntry>;
  /** The steps of the last run. */
  readonly operations: readonly Operation[];
}

/** One resource's failure inside a run. */
export interface ResourceDiagnostic {
  readonly urn: string;
  readonly message: string;
}

/** A preview, up or destroy that failed, like the CLI's "error: update failed". */
export class DeploymentError extends Error {
  readonly code = "DEPLOYMENT_FAILED";
  constructor(
    readonly command: "preview" | "up" | "destroy",
    readonly diagnostics: readonly ResourceDiagnostic[],
    options?: { cause?: unknown },
  ) {
    super(
      `${command} failed:\n${diagnostics.map((d) => `  ${d.urn}\n    error: ${d.message}`).join("\n")}`,
      options,
    );
    this.name = "DeploymentError";
  }
}

export function isDeploymentError(error: unknown): error is DeploymentError {
  return error instanceof Error && error.name === "DeploymentError";
}

/** The operations that change something; an unchanged re-run has none (ExpectNoChanges). */
export function changedOperations(operations: readonly Operation[]): Operation[] {
  return operations.filter((o) => o.op !== "same");
}

/**
 * Converts a value the way the engine marshals it for the Node dynamic-provider host: unknowns
 * become the string sentinel, secrets are unwrapped (the host does not accept secrets),
 * resource references become their id (custom) or URN, and `undefined` properties disappear.
 */
export function asEngineSends(value: unknown): unknown {
  if (pulumi.isUnknown(value)) {
    return UNKNOWN;
  }
  if (Array.isArray(value)) {
    return value.map(asEngineSends);
  }
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (record[SECRET_KEY] === SECRET_SIG) {
      return asEngineSends(record.value);
    }
    if (record[SECRET_KEY] === RESOURCE_SIG) {
      return record.id === undefined || record.id === "" ? record.urn : asEngineSends(record.id);
    }
    return Object.fromEntries(
      Object.entries(record)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, asEngineSends(v)]),
    );
  }
  return value;
}

/** Whether a value holds a secret anywhere (the engine's ContainsSecrets). */
export function containsSecret(value: unknown): boolean {
  if (Array.isArray(value)) {
    return value.some(containsSecret);
  }
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    return record[SECRET_KEY] === SECRET_SIG || Object.values(record).some(containsSecret);
  }
  return false;
}

/** Top-level keys whose values differ (deep, order-sensitive for arrays). */
export function changedKeys(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): string[] {
  const keys = new Set([...Object.keys(olds), ...Object.keys(news)]);
  return [...keys].filter((k) => !deepEqual(olds[k], news[k])).sort();
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) {
    return true;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  if (
    a &&
    b &&
    typeof a === "object" &&
    typeof b === "object" &&
    !Array.isArray(a) &&
    !Array.isArray(b)
  ) {
    return changedKeys(a as Record<string, unknown>, b as Record<string, unknown>).length === 0;
  }
  return false;
}

/**
 * Orders resources for deletion: every resource comes before its parent and before anything
 * it depends on; otherwise reverse deployment order, as the engine does.
 */
export function deletionOrder<
  T extends { urn: string; parent?: string; dependencies: readonly string[] },
>(entries: readonly T[]): T[] {
  const remaining = [...entries];
  const ordered: T[] = [];
  while (remaining.length > 0) {
    const isNeeded = (candidate: T) =>
      remaining.some(
        (other) =>
          other !== candidate &&
          (other.parent === candidate.urn || other.dependencies.includes(candidate.urn)),
      );
    let index = remaining.length - 1;
    while (index > 0 && isNeeded(remaining[index])) {
      index--;
    }
    ordered.push(...remaining.splice(index, 1));
  }
  return ordered;
}

/** The engine's message for a check failure (diag.GetResourcePropertyInvalidValueError). */
export function checkFailureMessage(
  type: string,
  name: string,
  failure: pulumi.dynamic.CheckFailure,
  inputs: Record<string, unknown>,
): string {
  if (!failure.property) {
    return `${type} resource '${name}' has a problem: ${failure.reason}`;
  }
  const value = inputs[failure.property];
  const shown = typeof value === "string" ? value : JSON.stringify(value);
  return `${type} resource '${name}': property ${failure.property} value {${shown}} has a problem: ${failure.reason}`;
}

/**
 * Reads an Output (or promise, or a structure of them) to a plain value. `apply` never runs on
 * unknown values during preview, so the Output's own `isKnown` decides: unknown → "<unknown>".
 */
export async function settle(
  value: unknown,
  options: { maskSecrets?: boolean } = {},
): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    const output = value as unknown as {
      isKnown: Promise<boolean>;
      isSecret: Promise<boolean>;
      promise(): Promise<unknown>;
    };
    if (!(await output.isKnown)) {
      return UNKNOWN_OUTPUT;
    }
    if (options.maskSecrets && (await output.isSecret)) {
      return SECRET_OUTPUT;
    }
    return settle(await output.promise(), options);
  }
  if (value instanceof Promise) {
    return settle(await value, options);
  }
  if (pulumi.Resource.isInstance(value)) {
    return settle(value.urn, options);
  }
  if (Array.isArray(value)) {
    return Promise.all(value.map((v) => settle(v, options)));
  }
  if (
    value !== null &&
    typeof value === "object" &&
    Object.getPrototypeOf(value) === Object.prototype
  ) {
    const entries = await Promise.all(
      Object.entries(value).map(async ([k, v]) => [k, await settle(v, options)] as const),
    );
    return Object.fromEntries(entries);
  }
  return value;
}

interface Registration {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  readonly parent: string | undefined;
  readonly dependencies: string[];
  /** As the SDK serialized them: secrets wrapped, unknowns as Unknown objects (preview). */
  readonly rawInputs: Record<string, unknown>;
  readonly options: ResourceOptionsSeen;
}

type DispatchResult = { id: string | undefined; state: Record<string, unknown> };

interface Run {
  readonly command: "preview" | "up" | "destroy";
  readonly preview: boolean;
  readonly registered: Set<string>;
  readonly operations: Operation[];
  readonly diagnostics: ResourceDiagnostic[];
  /** Old resources a create-before-delete replacement still has to delete. */
  readonly replacedEntries: StateEntry[];
  readonly providers: Map<string, Promise<pulumi.dynamic.ResourceProvider>>;
  readonly inflight: Set<Promise<unknown>>;
  restoreConfig?: () => void;
}

export function createProgramRunner(options: ProgramRunnerOptions): ProgramRunner {
  const { project, stack } = options;
  const config = namespacedConfig(options.config ?? {}, project);
  const state = new Map<string, StateEntry>();
  const stackUrn = `urn:pulumi:${stack}::${project}::pulumi:pulumi:Stack::${project}-${stack}`;
  let operations: Operation[] = [];
  let running = false;
  const hostDir = path.resolve(options.hostDir ?? process.cwd());
  const workDir = path.resolve(options.workDir ?? hostDir);

  // Like the engine starting a fresh host per command: each run deserializes and configures
  // every provider text once.
  const provider = (run: Run, text: unknown): Promise<pulumi.dynamic.ResourceProvider> => {
    if (typeof text !== "string" || text === UNKNOWN) {
      return Promise.reject(new Error("the resource has no known __provider text"));
    }
    let loaded = run.providers.get(text);
    if (!loaded) {
      loaded = loadLikeHost(text, config, project, { cwd: hostDir });
      run.providers.set(text, loaded);
    }
    return loaded;
  };

  const record = (
    run: Run,
    entry: { urn: string; name: string; type: string },
    op: Omit<Operation, "urn" | "name" | "type">,
  ) => {
    run.operations.push({ urn: entry.urn, name: entry.name, type: entry.type, ...op });
  };

  const returnedState = (entry: StateEntry): DispatchResult => ({
    id: entry.id,
    state: withSecrets(entry.outputs, entry.secretOutputs),
  });

  async function dispatch(run: Run, reg: Registration): Promise<DispatchResult> {
    if (run.registered.has(reg.urn)) {
      throw new Error(`Duplicate resource URN '${reg.urn}'; try giving it a unique name`);
    }
    run.registered.add(reg.urn);
    const old = state.get(reg.urn);
    if (reg.custom && reg.type.startsWith(DYNAMIC_TYPE_PREFIX)) {
      return dispatchDynamic(run, reg, old);
    }
    return dispatchPlain(run, reg, old);
  }

  // Components and non-dynamic custom resources behave like the default mocks: state = inputs.
  function dispatchPlain(run: Run, reg: Registration, old: StateEntry | undefined): DispatchResult {
    const inputs = asEngineSends(reg.rawInputs) as Record<string, unknown>;
    const secretOutputs = secretKeysOf(reg);
    const next: StateEntry = {
      ...entryBase(reg),
      id: reg.custom ? (old?.id ?? `${reg.name}_id`) : undefined,
      inputs,
      outputs: inputs,
      secretOutputs,
    };
    const changed = old ? changedKeys(old.inputs, inputs) : [];
    if (!old) {
      record(run, reg, { op: "create" });
    } else {
      record(
        run,
        reg,
        changed.length > 0 ? { op: "update", changedKeys: changed } : { op: "same" },
      );
    }
    if (run.preview) {
      return {
        id: old && reg.custom ? old.id : undefined,
        state: withSecrets(inputs, secretOutputs),
      };
    }
    commit(next);
    return returnedState(next);
  }

  async function dispatchDynamic(
    run: Run,
    reg: Registration,
    old: StateEntry | undefined,
  ): Promise<DispatchResult> {
    const news = viaStruct(asEngineSends(reg.rawInputs) as Record<string, unknown>);
    if (old) {
      for (const key of reg.options.ignoreChanges) {
        if (key in old.inputs) {
          news[key] = old.inputs[key];
        } else {
          delete news[key];
        }
      }
    }
    // As the host does: a provider text that is itself unknown is taken from the old state.
    const text = news.__provider === UNKNOWN && old ? old.outputs.__provider : news.__provider;
    const impl = await provider(run, text);

    const checked = impl.check ? await impl.check(old?.inputs ?? {}, news) : { inputs: news };
    const inputs = viaStruct({ ...(checked.inputs ?? news), __provider: news.__provider });
    const failures = checked.failures ?? [];
    if (failures.length > 0) {
      throw new Error(
        failures.map((f) => checkFailureMessage(reg.type, reg.name, f, inputs)).join("\n"),
      );
    }
    const secretOutputs = secretKeysOf(reg);

    if (!old) {
      record(run, reg, { op: "create" });
      if (run.preview) {
        return { id: undefined, state: withSecrets(inputs, secretOutputs) };
      }
      return create(reg, impl, inputs, secretOutputs);
    }

    const verdict = impl.diff ? await impl.diff(old.id ?? "", old.outputs, inputs) : {};
    const changed = changedKeys(old.inputs, inputs);
    const diffChanges =
      verdict.changes === true ? "some" : verdict.changes === false ? "none" : "unknown";
    const hasChanges = diffChanges === "unknown" ? changed.length > 0 : diffChanges === "some";
    const replaces = [
      ...new Set([
        ...(verdict.replaces ?? []),
        ...changed.filter((k) => reg.options.replaceOnChanges.some((r) => r === k || r === "*")),
      ]),
    ];
    if (!hasChanges) {
      record(run, reg, { op: "same", diffChanges });
      const same: StateEntry = {
        ...old,
        ...entryBase(reg),
        inputs,
        secretOutputs: union(old.secretOutputs, secretOutputs),
      };
      if (!run.preview) {
        commit(same);
      }
      return returnedState(same);
    }
    if (replaces.length === 0) {
      record(run, reg, { op: "update", diffChanges, changedKeys: changed });
      if (run.preview) {
        // The host does not support preview, so the engine returns the inputs as the state.
        return { id: old.id, state: withSecrets(inputs, secretOutputs) };
      }
      const updated = impl.update ? await impl.update(old.id ?? "", old.outputs, inputs) : {};
      const outputs = viaStruct({ ...(updated?.outs ?? {}), __provider: inputs.__provider });
      const next: StateEntry = {
        ...entryBase(reg),
        id: old.id,
        inputs,
        outputs,
        secretOutputs,
      };
      commit(next);
      return returnedState(next);
    }
    const deleteBeforeReplace =
      verdict.deleteBeforeReplace === true || reg.options.deleteBeforeReplace;
    record(run, reg, {
      op: "replace",
      diffChanges,
      replaces,
      changedKeys: changed,
      deleteBeforeReplace,
    });
    if (run.preview) {
      return { id: undefined, state: withSecrets(inputs, secretOutputs) };
    }
    if (deleteBeforeReplace) {
      await deleteEntry(run, old);
      state.delete(old.urn);
    } else {
      run.replacedEntries.push(old);
    }
    return create(reg, impl, inputs, secretOutputs);
  }

  async function create(
    reg: Registration,
    impl: pulumi.dynamic.ResourceProvider,
    inputs: Record<string, unknown>,
    secretOutputs: string[],
  ): Promise<DispatchResult> {
    const created = await impl.create(inputs);
    const outputs = viaStruct({ ...(created.outs ?? {}), __provider: inputs.__provider });
    const next: StateEntry = {
      ...entryBase(reg),
      id: created.id,
      inputs,
      outputs,
      secretOutputs,
    };
    commit(next);
    return returnedState(next);
  }

  async function deleteEntry(run: Run, entry: StateEntry): Promise<void> {
    if (entry.options.protect) {
      throw new Error(`resource ${entry.urn} is protected; it cannot be deleted`);
    }
    if (
      entry.options.retainOnDelete ||
      !entry.custom ||
      !entry.type.startsWith(DYNAMIC_TYPE_PREFIX)
    ) {
      return;
    }
    // Delete runs the provider text stored with the resource, not the program's current one.
    const impl = await provider(run, entry.outputs.__provider);
    await impl.delete?.(entry.id ?? "", entry.outputs);
  }

  function commit(entry: StateEntry): void {
    state.delete(entry.urn);
    state.set(entry.urn, entry);
  }

  function entryBase(reg: Registration) {
    return {
      urn: reg.urn,
      type: reg.type,
      name: reg.name,
      custom: reg.custom,
      parent: reg.parent,
      dependencies: reg.dependencies,
      options: reg.options,
    };
  }

  function newRun(command: Run["command"]): Run {
    const run: Run = {
      command,
      preview: command === "preview",
      registered: new Set(),
      operations: [],
      diagnostics: [],
      replacedEntries: [],
      providers: new Map(),
      inflight: new Set(),
    };
    operations = run.operations;
    return run;
  }

  // One run at a time (the Pulumi runtime is process-wide), inside the working directory: the
  // CLI runs the program, and the engine the provider host, in the project directory.
  async function exclusive<T>(body: () => Promise<T>): Promise<T> {
    if (running) {
      throw new Error("a run is already in progress; runs share the process-wide Pulumi runtime");
    }
    running = true;
    const previousCwd = process.cwd();
    process.chdir(workDir);
    try {
      return await body();
    } finally {
      process.chdir(previousCwd);
      running = false;
    }
  }

  async function execute(command: "preview" | "up", program: Program): Promise<ProgramOutputs> {
    const run = newRun(command);
    // The SDK rejects every output of a failed resource, and a program is free to leave them
    // unobserved; the language host would turn any unhandled rejection into a program failure.
    // Collect them for the duration of the run (under mocha this also keeps its handler quiet).
    const strays = new Set<unknown>();
    const onUnhandled = (reason: unknown) => strays.add(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      await installEngine(run);
      let outputs: ProgramOutputs = {};
      const failures: unknown[] = [];
      try {
        outputs = (await settle((await program()) ?? {}, {
          maskSecrets: options.maskSecrets,
        })) as ProgramOutputs;
      } catch (error) {
        failures.push(error);
      }
      await drain(run);
      failures.push(...strays);
      const diagnostics = [
        ...run.diagnostics,
        // Registration failures are already reported under their resource.
        ...failures
          .filter((f) => !isRegistrationFailure(f))
          .map((f) => ({ urn: stackUrn, message: messageOf(f) })),
      ];
      if (failures.length > 0 || diagnostics.length > 0) {
        throw new DeploymentError(command, dedupe(diagnostics), { cause: failures[0] });
      }
      await deleteUnregistered(run);
      return outputs;
    } finally {
      process.off("unhandledRejection", onUnhandled);
      run.restoreConfig?.();
    }
  }

  async function deleteUnregistered(run: Run): Promise<void> {
    const condemned = deletionOrder([
      ...run.replacedEntries,
      ...[...state.values()].filter((e) => !run.registered.has(e.urn)),
    ]);
    for (const entry of condemned) {
      const replaced = run.replacedEntries.includes(entry);
      if (!replaced) {
        record(run, entry, { op: "delete" }); // a replacement's delete is part of its "replace"
      }
      if (run.preview) {
        continue;
      }
      try {
        await deleteEntry(run, entry);
      } catch (error) {
        throw new DeploymentError(
          run.command,
          [{ urn: entry.urn, message: (error as Error).message }],
          { cause: error },
        );
      }
      if (!replaced) {
        state.delete(entry.urn);
      }
    }
  }

  async function installEngine(run: Run): Promise<void> {
    await pulumi.runtime.setMocks(
      {
        // Reads (`Resource.get`) still come through the plain mock path.
        newResource: (args) => ({ id: args.id ?? `${args.name}_id`, state: args.inputs }),
        call: (args) => args.inputs,
      },
      project,
      stack,
      run.preview,
    );
    run.restoreConfig = setProgramConfig(config, project, options.secretConfigKeys);
    const monitor = pulumi.runtime.getMonitor() as any;
    monitor.registerResource = (req: any, callback: (err: unknown, res?: unknown) => void) => {
      const reg = describe(req, monitor);
      const done = dispatch(run, reg).then(
        async (result) => {
          const serialized = await pulumi.runtime.serializeProperties("", result.state);
          monitor.resources.set(reg.urn, {
            urn: reg.urn,
            id: result.id ?? null,
            state: serialized,
          });
          const response = new resproto.RegisterResourceResponse();
          response.setUrn(reg.urn);
          response.setId(result.id ?? "");
          response.setObject(Struct.fromJavaScript(serialized));
          callback(null, response);
        },
        (error: unknown) => {
          run.diagnostics.push({
            urn: reg.urn,
            message: (error as Error)?.message ?? String(error),
          });
          // A failed step is reported as a result, not an RPC error: the SDK then rejects the
          // resource's outputs instead of raising an unhandled rejection of its own.
          const response = new resproto.RegisterResourceResponse();
          response.setUrn(reg.urn);
          response.setResult(resproto.Result.FAIL);
          callback(null, response);
        },
      );
      track(run, done);
    };
  }

  function describe(req: any, monitor: any): Registration {
    const parent: string = req.getParent();
    return {
      urn: monitor.newUrn(parent, req.getType(), req.getName()),
      type: req.getType(),
      name: req.getName(),
      custom: req.getCustom(),
      parent: parent || undefined,
      dependencies: [...new Set<string>(req.getDependenciesList())],
      rawInputs: pulumi.runtime.deserializeProperties(req.getObject(), true),
      options: {
        deleteBeforeReplace: req.getDeletebeforereplace(),
        ignoreChanges: req.getIgnorechangesList(),
        replaceOnChanges: req.getReplaceonchangesList(),
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        retainOnDelete: req.getRetainondelete() === true,
        protect: req.getProtect() === true,
      },
    };
  }

  return {
    preview: (program) => exclusive(() => execute("preview", program)),
    up: (program) => exclusive(() => execute("up", program)),
    destroy: () =>
      exclusive(async () => {
        const run = newRun("destroy");
        for (const entry of deletionOrder([...state.values()])) {
          record(run, entry, { op: "delete" });
          try {
            await deleteEntry(run, entry);
          } catch (error) {
            throw new DeploymentError("destroy", [{ urn: entry.urn, message: messageOf(error) }], {
              cause: error,
            });
          }
          state.delete(entry.urn);
        }
      }),
    get state() {
      return state;
    },
    get operations() {
      return operations;
    },
  };
}

function track(run: Run, promise: Promise<unknown>): void {
  run.inflight.add(promise);
  void promise.finally(() => run.inflight.delete(promise));
}

// Registrations can start further registrations (children, dependents), and the SDK counts its
// own outstanding RPCs: wait until both are quiet.
async function drain(run: Run): Promise<void> {
  const waitForRPCs: () => Promise<void> = (pulumi.runtime as any).waitForRPCs;
  for (let quietRounds = 0; quietRounds < 3;) {
    await new Promise((resolve) => setImmediate(resolve));
    if (run.inflight.size > 0) {
      await Promise.allSettled([...run.inflight]);
      quietRounds = 0;
      continue;
    }
    await waitForRPCs();
    quietRounds++;
  }
}

// The SDK's error for a resource whose registration reported a failed result.
function isRegistrationFailure(error: unknown): boolean {
  return error instanceof Error && / failed to register$/.test(error.message);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function dedupe(diagnostics: ResourceDiagnostic[]): ResourceDiagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.urn}\n${d.message}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

// The engine's annotateSecrets (an output is secret when its same-named input was) plus
// additionalSecretOutputs; withSecrets() applies them to whichever keys the outputs have.
function secretKeysOf(reg: Registration): string[] {
  const keys = Object.keys(reg.rawInputs).filter((k) => containsSecret(reg.rawInputs[k]));
  return union(keys, [...reg.options.additionalSecretOutputs]);
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])];
}

function withSecrets(
  values: Record<string, unknown>,
  secretKeys: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...values };
  for (const key of secretKeys) {
    if (key in out && !containsSecret(out[key])) {
      out[key] = { [SECRET_KEY]: SECRET_SIG, value: out[key] };
    }
  }
  return out;
}
