/**
 * The job runner: queues stored jobs on their compute's nodes and runs each as local processes in
 * a job folder — code snapshot from blob storage, inputs materialized, bindings substituted, the
 * environment from the EnvironmentBuilder, the command under `sh -c` in its own process group,
 * its log streamed to the artifact store, outputs uploaded where Azure ML puts them. The job's
 * status in the store follows the real work; nothing advances on polls.
 */
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { packageFile } from "../envs/python";
import { mlflowEnvironment } from "../envs/mlflow";
import type { EnvironmentBuilder, EnvironmentRequest, PreparedEnvironment } from "../envs/types";
import { asObject, type Json } from "../handlers/common";
import { trackingEnvironment } from "../mlflow/environment";
import type { OperationManager } from "../operations";
import type { ControlPlaneSettings } from "../router";
import { childId, storeKey } from "../state/ids";
import { ARTIFACT_DATASTORE, COLLECTIONS, workspaceGuid } from "../state/seed";
import type { Store } from "../state/store";
import { ARM_AUDIENCE, mintToken } from "../tokens";
import { runCommand, type RunningCommand } from "./process";
import {
  resolveCode,
  resolveCompute,
  resolveEnvironment,
  resolveUri,
  type ReferenceContext,
  type ResolvedUri,
} from "./references";
import { artifactFolder, lastLines, parseIsoDuration, substituteBindings } from "./spec";
import { createBlobAccess, type BlobAccess, type BlobLocation } from "./storage";
import {
  JOBS_COLLECTION,
  isTerminalJobStatus,
  recordCancelRequest,
  type JobError,
  type JobRunner,
  type JobStatus,
  type JobsOptions,
  type StoredJob,
} from "./types";

/** Lines of the log's end a failed job's error message carries. */
export const ERROR_TAIL_LINES = 20;
const LOG_PREFIX = "[azureml-emulator]";

export interface JobRunnerOptions {
  store: Store;
  settings: ControlPlaneSettings;
  operations: OperationManager;
  jobs?: JobsOptions;
  dataDir?: string;
  now?: () => number;
}

/** Ends a job early with this status and error (a user-visible failure, not an emulator bug). */
class JobEnded extends Error {
  constructor(
    readonly status: "Failed" | "Canceled",
    readonly error: JobError,
  ) {
    super(error.message);
  }
}

interface ActiveJob {
  name: string;
  pool: string;
  nodes: number;
  abort: AbortController;
  command?: RunningCommand;
  done: Promise<void>;
}

export function createJobRunner(options: JobRunnerOptions): JobRunner {
  const { store, settings, operations } = options;
  const jobsOptions = options.jobs ?? {};
  const now = options.now ?? Date.now;
  const killGraceInMs = jobsOptions.killGraceInMs ?? 5000;
  const logUploadIntervalInMs = jobsOptions.logUploadIntervalInMs ?? 2000;
  const serverlessNodes = jobsOptions.serverlessNodes ?? 2;
  const diagnostics =
    jobsOptions.log ?? ((line: string) => process.stderr.write(`azureml-emulator: ${line}\n`));
  const refs: ReferenceContext = {
    store,
    scope: settings.scope,
    accountName: settings.storage.accountName,
  };
  let blobs: BlobAccess | undefined;
  const blobAccess = () =>
    (blobs ??= createBlobAccess({
      blobEndpoint: jobsOptions.blobEndpoint ?? settings.storage.blobEndpoint,
      accountName: settings.storage.accountName,
      accountKey: settings.storage.accountKey,
    }));

  // Job folders: under the data dir when state persists, else a temporary folder removed on close.
  let root: string | undefined;
  const temporaryRoot = jobsOptions.workDir === undefined && options.dataDir === undefined;
  const workRoot = (): string => {
    if (root === undefined) {
      if (jobsOptions.workDir !== undefined) {
        root = jobsOptions.workDir;
        fs.mkdirSync(root, { recursive: true });
      } else if (options.dataDir !== undefined) {
        root = path.join(options.dataDir, "jobs");
        fs.mkdirSync(root, { recursive: true });
      } else {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "azureml-emulator-jobs-"));
      }
    }
    return root;
  };

  const queues = new Map<string, string[]>();
  const active = new Map<string, ActiveJob>();
  let closed = false;

  const keyOf = (name: string) => storeKey(childId(settings.scope, "jobs", name));
  const load = (name: string) => store.get<StoredJob>(JOBS_COLLECTION, keyOf(name));
  const update = (name: string, change: (job: StoredJob) => void): StoredJob | undefined => {
    const job = load(name);
    if (job === undefined) {
      return undefined;
    }
    change(job);
    store.put(JOBS_COLLECTION, keyOf(name), job);
    return job;
  };
  const setStatus = (name: string, status: JobStatus, change?: (job: StoredJob) => void) =>
    update(name, (job) => {
      job.resource.properties = { ...asObject(job.resource.properties), status };
      change?.(job);
    });

  /** Completes the operations waiting on an ended job, and removes it when a delete asked to. */
  const settle = (name: string) => {
    const job = load(name);
    if (job === undefined || !isTerminalJobStatus(asObject(job.resource.properties).status)) {
      return;
    }
    if (job.run.deleteRequested === true) {
      store.delete(JOBS_COLLECTION, keyOf(name));
    } else if ((job.run.waitingOperations ?? []).length > 0) {
      update(name, (j) => {
        j.run.waitingOperations = [];
      });
    }
    for (const id of job.run.waitingOperations ?? []) {
      operations.complete(id, "Succeeded");
    }
  };

  const finish = (name: string, status: "Completed" | "Failed" | "Canceled", error?: JobError) => {
    setStatus(name, status, (job) => {
      job.run.endTimeUtc = new Date(now()).toISOString();
      if (error !== undefined) {
        job.run.error = error;
      }
    });
    settle(name);
  };

  const poolCapacity = (pool: string): number | undefined => {
    if (pool === "serverless") {
      return serverlessNodes;
    }
    const compute = store.get<{ resource: { name: string } }>(COLLECTIONS.computes, pool);
    if (compute === undefined) {
      return undefined;
    }
    return resolveCompute(refs, compute.resource.name).maxNodes ?? 1;
  };

  const schedule = () => {
    if (closed) {
      return;
    }
    for (const [pool, queue] of queues) {
      const capacity = poolCapacity(pool);
      while (queue.length > 0) {
        const name = queue[0];
        const job = load(name);
        if (job === undefined || asObject(job.resource.properties).status !== "Queued") {
          queue.shift();
          continue;
        }
        if (capacity === undefined) {
          queue.shift();
          finish(name, "Failed", {
            code: "UserError",
            message: "The job's compute was deleted while the job was queued.",
          });
          continue;
        }
        const used = [...active.values()]
          .filter((a) => a.pool === pool)
          .reduce((sum, a) => sum + a.nodes, 0);
        const nodes = Math.min(job.run.nodes, capacity);
        if (used + nodes > capacity) {
          break; // first come, first served: later jobs wait behind this one
        }
        queue.shift();
        start(name, pool, nodes);
      }
    }
  };

  const start = (name: string, pool: string, nodes: number) => {
    const entry: ActiveJob = { name, pool, nodes, abort: new AbortController(), done: undefined! };
    active.set(name, entry);
    entry.done = execute(entry)
      .catch((error: unknown) => {
        diagnostics(`job ${name} ended with an emulator error: ${String(error)}`);
        finish(name, "Failed", {
          code: "SystemError",
          message: `The emulator failed while running the job: ${(error as Error)?.message ?? String(error)}`,
        });
      })
      .finally(() => {
        active.delete(name);
        schedule();
      });
  };

  const execute = async (entry: ActiveJob): Promise<void> => {
    const { name, abort } = entry;
    const initial = load(name);
    if (initial === undefined) {
      return;
    }
    const props = asObject(initial.resource.properties);
    const jobDir = path.join(workRoot(), folderName(name));
    await fs.promises.rm(jobDir, { recursive: true, force: true });
    const wd = path.join(jobDir, "wd");
    const logFile = path.join(jobDir, "user_logs", "std_log.txt");
    await fs.promises.mkdir(wd, { recursive: true });
    await fs.promises.mkdir(path.dirname(logFile), { recursive: true });
    await fs.promises.writeFile(logFile, "");
    const log = (line: string) => {
      try {
        fs.appendFileSync(logFile, `${LOG_PREFIX} ${line}\n`);
      } catch {
        // the folder went away (reset): nothing left to log to
      }
    };
    const artifacts = artifactLocation(name);
    const uploader = createLogUploader(
      blobAccess,
      logFile,
      artifacts,
      logUploadIntervalInMs,
      diagnostics,
    );
    const checkCanceled = () => {
      if (abort.signal.aborted) {
        throw abortReason(abort.signal);
      }
    };

    let ended: { status: "Completed" | "Failed" | "Canceled"; error?: JobError } = {
      status: "Completed",
    };
    const outputsToUpload: Array<{ name: string; folder: string; file?: string; uri: string }> = [];
    let trackingRun = false;
    try {
      setStatus(name, "Preparing");
      log(`Preparing job ${name} in ${jobDir}`);

      // Code snapshot.
      if (typeof props.codeId === "string" && props.codeId !== "") {
        const code = resolveCode(refs, props.codeId);
        const fetched = await materialize(blobAccess(), code, wd, "folder", abort.signal, true);
        log(`Code snapshot: ${fetched.files} file(s) from ${describe(code)}`);
      }
      checkCanceled();

      // Inputs.
      const inputValues: Record<string, string> = {};
      for (const [inputName, raw] of Object.entries(asObject(props.inputs))) {
        const input = asObject(raw);
        if (input.jobInputType === "literal") {
          inputValues[inputName] = String(input.value ?? "");
          continue;
        }
        const uri = String(input.uri ?? "");
        if (input.mode === "Direct") {
          inputValues[inputName] = uri;
          continue;
        }
        const kind = input.jobInputType === "uri_file" ? "file" : "folder";
        try {
          const resolved = resolveUri(refs, uri, `inputs.${inputName}`);
          const dest = path.join(jobDir, "inputs", inputName);
          const got = await materialize(blobAccess(), resolved, dest, kind, abort.signal, false);
          inputValues[inputName] = got.path;
          log(`Input ${inputName}: ${got.files} file(s) from ${uri} at ${got.path}`);
        } catch (error) {
          checkCanceled();
          throw new JobEnded("Failed", {
            code: "UserError",
            message: `Input ${inputName} (${uri}) could not be materialized: ${(error as Error).message}`,
          });
        }
        checkCanceled();
      }

      // Outputs: local folders, uploaded when the command has ended.
      const outputValues: Record<string, string> = {};
      for (const [outputName, raw] of Object.entries(asObject(props.outputs))) {
        if (outputName === "default") {
          continue;
        }
        const output = asObject(raw);
        const uri = String(output.uri ?? "");
        if (output.mode === "Direct") {
          outputValues[outputName] = uri;
          continue;
        }
        const folder = path.join(jobDir, "outputs", outputName);
        await fs.promises.mkdir(folder, { recursive: true });
        if (output.jobOutputType === "uri_file") {
          const base = uri.endsWith("/") ? outputName : path.posix.basename(uri) || outputName;
          const file = path.join(folder, base);
          outputValues[outputName] = file;
          outputsToUpload.push({ name: outputName, folder, file, uri });
        } else {
          outputValues[outputName] = folder;
          outputsToUpload.push({ name: outputName, folder, uri });
        }
      }

      // Environment.
      const builder = jobsOptions.environments;
      if (builder === undefined) {
        throw new JobEnded("Failed", {
          code: "SystemError",
          message:
            "This emulator was started without an environment builder, so it cannot prepare " +
            "the job's Python environment.",
        });
      }
      const fromModel = initial.run.environmentFromModel;
      const env = await prepareEnvironment(
        builder,
        fromModel === undefined
          ? resolveEnvironment(refs, String(props.environmentId))
          : await modelEnvironment(props, fromModel, inputValues[fromModel], log),
        log,
        abort.signal,
      );
      checkCanceled();

      // MLflow run, made before the command so the job logs into it.
      const tracking = jobsOptions.tracking;
      if (tracking !== undefined) {
        try {
          // The server may take tens of seconds to start: a cancel or close must not wait for it.
          await untilAborted(tracking.ready(), abort.signal);
          // A sweep's trial: its hyperparameters as MLflow parameters, the sweep as its parent run.
          const hyperparameters =
            initial.run.parent === undefined ? undefined : trialHyperparameters(props);
          await tracking.createRun({
            runId: name,
            experimentName: String(props.experimentName ?? "Default"),
            runName: typeof props.displayName === "string" ? props.displayName : undefined,
            tags: {
              ...stringMap(props.tags),
              ...(initial.run.parent === undefined
                ? {}
                : { "mlflow.parentRunId": initial.run.parent }),
            },
            ...(hyperparameters === undefined ? {} : { params: hyperparameters }),
          });
        } catch (error) {
          checkCanceled();
          throw new JobEnded("Failed", {
            code: "SystemError",
            message: `The workspace's MLflow tracking could not create the job's run: ${(error as Error)?.message ?? String(error)}`,
          });
        }
        trackingRun = true;
      }
      checkCanceled();

      const command = substituteBindings(String(props.command), {
        inputs: inputValues,
        outputs: outputValues,
      });
      const variables = jobEnvironment({
        name,
        props,
        env,
        jobDir,
        wd,
        inputValues,
        outputValues,
        pythonPath: initial.run.pythonPath,
      });

      setStatus(name, "Running", (job) => {
        job.run.startTimeUtc = new Date(now()).toISOString();
      });
      log(`Running: ${command}`);
      uploader.start();
      const running = runCommand({ command, cwd: wd, env: variables, logFile, killGraceInMs });
      entry.command = running;
      const onAbort = () => running.stop(String(abortReason(abort.signal).message));
      abort.signal.addEventListener("abort", onAbort, { once: true });
      const timeout = props.limits === undefined ? undefined : asObject(props.limits).timeout;
      const limitInMs = typeof timeout === "string" ? parseIsoDuration(timeout) : undefined;
      const timer =
        limitInMs === undefined
          ? undefined
          : setTimeout(() => running.stop(`timeout:${String(timeout)}`), limitInMs);
      const result = await running.done;
      if (timer !== undefined) {
        clearTimeout(timer);
      }
      abort.signal.removeEventListener("abort", onAbort);

      if (result.stoppedFor?.startsWith("timeout:") === true) {
        const limit = result.stoppedFor.slice("timeout:".length);
        log(`The job exceeded its time limit (limits.timeout ${limit}) and was stopped.`);
        ended = {
          status: "Failed",
          error: {
            code: "UserError",
            message:
              `The job exceeded its time limit (limits.timeout ${limit}) and was stopped. ` +
              "Please check log file 'user_logs/std_log.txt' for the output it wrote.",
          },
        };
      } else if (result.stoppedFor !== undefined) {
        throw abortReason(abort.signal);
      } else if (result.code !== 0) {
        const how =
          result.code === null
            ? `was killed by signal ${String(result.signal)}`
            : `exited with status code ${result.code}`;
        const tail = lastLines(await readTail(logFile), ERROR_TAIL_LINES).filter(
          (l) => !l.startsWith(LOG_PREFIX),
        );
        log(`User process 'sh' ${how}.`);
        ended = {
          status: "Failed",
          error: {
            code: "UserError",
            message:
              `Execution failed. User process 'sh' ${how}. Please check log file ` +
              `'user_logs/std_log.txt' for error details.` +
              (tail.length > 0 ? ` Error: ${tail.join("\n")}` : ""),
          },
        };
      } else {
        log("The command completed.");
      }
    } catch (caught) {
      // A cancel (or shutdown) wins over whatever the interrupted step threw.
      const error = abort.signal.aborted ? abortReason(abort.signal) : caught;
      ended =
        error instanceof JobEnded
          ? { status: error.status, error: error.error }
          : {
              status: "Failed",
              error: {
                code: "UserError",
                message: (error as Error)?.message ?? String(error),
              },
            };
      if (ended.status === "Failed") {
        log(`Job failed: ${ended.error?.message ?? ""}`);
      } else {
        log(`Job canceled: ${ended.error?.message ?? ""}`);
      }
    }

    // Finalizing: outputs and the log go up whatever the outcome, as mounted outputs would.
    if (load(name) === undefined) {
      uploader.stop();
      return; // deleted by a reset meanwhile
    }
    setStatus(name, "Finalizing");
    try {
      const outputsFolder = path.join(wd, "outputs");
      const count = await blobAccess().uploadFolder(
        { container: artifacts.container, prefix: `${artifacts.prefix}/outputs/` },
        outputsFolder,
      );
      if (count > 0) {
        log(`Uploaded ${count} file(s) of ./outputs to ${artifacts.prefix}/outputs/`);
      }
      for (const output of outputsToUpload) {
        const target = resolveUri(refs, output.uri, `outputs.${output.name}`);
        if (target.kind !== "blob") {
          throw new Error(`output ${output.name} (${output.uri}) is not in the workspace storage`);
        }
        const uploaded = await uploadOutput(blobAccess(), target.location, output);
        log(`Output ${output.name}: uploaded ${uploaded} file(s) to ${output.uri}`);
      }
    } catch (error) {
      const message = `Uploading the job's outputs failed: ${(error as Error)?.message ?? String(error)}`;
      log(message);
      if (ended.status === "Completed") {
        ended = { status: "Failed", error: { code: "SystemError", message } };
      }
    }
    if (trackingRun && jobsOptions.tracking !== undefined) {
      try {
        await jobsOptions.tracking.endRun(
          name,
          ended.status === "Completed"
            ? "FINISHED"
            : ended.status === "Failed"
              ? "FAILED"
              : "KILLED",
        );
      } catch (error) {
        log(`Ending the MLflow run failed: ${(error as Error)?.message ?? String(error)}`);
      }
    }
    log(`Job ${ended.status}.`);
    await uploader.stop();
    finish(name, ended.status, ended.error);
  };

  /** The job's variables: a small inherited base, the job's own, then Azure ML's. */
  const jobEnvironment = (args: {
    name: string;
    props: Json;
    env: PreparedEnvironment;
    jobDir: string;
    wd: string;
    inputValues: Record<string, string>;
    outputValues: Record<string, string>;
    /** Runner-internal PYTHONPATH folders (JobRunState.pythonPath). */
    pythonPath?: readonly string[];
  }): NodeJS.ProcessEnv => {
    const { name, props, env } = args;
    const variables: NodeJS.ProcessEnv = {};
    for (const key of INHERITED_VARIABLES) {
      if (process.env[key] !== undefined) {
        variables[key] = process.env[key];
      }
    }
    variables.PATH = [env.binDir, process.env.PATH ?? "/usr/bin:/bin"].join(path.delimiter);
    variables.PYTHONUNBUFFERED = "1";
    Object.assign(variables, stringMap(props.environmentVariables));
    // The emulator's own packages go first; the job's own PYTHONPATH, if any, after them.
    const internal = (args.pythonPath ?? []).map((folder) => packageFile(...folder.split("/")));
    if (internal.length > 0) {
      variables.PYTHONPATH = [
        ...internal,
        ...(variables.PYTHONPATH ? [variables.PYTHONPATH] : []),
      ].join(path.delimiter);
    }
    const { scope } = settings;
    const experiment = String(props.experimentName ?? "Default");
    Object.assign(variables, {
      AZUREML_RUN_ID: name,
      AZUREML_ROOT_RUN_ID: name,
      AZUREML_ARM_SUBSCRIPTION: scope.subscriptionId,
      AZUREML_ARM_RESOURCEGROUP: scope.resourceGroupName,
      AZUREML_ARM_WORKSPACE_NAME: scope.workspaceName,
      AZUREML_ARM_PROJECT_NAME: experiment,
      AZUREML_WORKSPACE_ID: workspaceGuid(scope),
      AZUREML_CR_EXECUTION_WORKING_DIR_PATH: args.wd,
      AZUREML_CR_DATA_CAPABILITY_PATH: args.jobDir,
    });
    for (const [k, v] of Object.entries(args.inputValues)) {
      variables[`AZURE_ML_INPUT_${k}`] = v;
    }
    for (const [k, v] of Object.entries(args.outputValues)) {
      variables[`AZURE_ML_OUTPUT_${k}`] = v;
    }
    const tracking = jobsOptions.tracking;
    if (tracking !== undefined) {
      Object.assign(
        variables,
        trackingEnvironment({
          armEndpoint: settings.publicUrl,
          trackingPath: tracking.trackingPath,
          token: mintToken({ audience: ARM_AUDIENCE }),
          caCertPath: jobsOptions.caCertPath,
          experimentName: experiment,
          runId: name,
        }),
      );
    }
    return variables;
  };

  const artifactLocation = (name: string): BlobLocation => {
    const ds = store.get<{ resource: { properties?: Json } }>(
      COLLECTIONS.datastores,
      storeKey(childId(settings.scope, "datastores", ARTIFACT_DATASTORE)),
    );
    const container = String(asObject(ds?.resource.properties).containerName ?? "azureml");
    return { container, prefix: artifactFolder(name) };
  };

  // Jobs a previous emulator process left unfinished (persisted state).
  const recover = () => {
    for (const { value } of store.list<StoredJob>(JOBS_COLLECTION)) {
      const name = value.resource.name;
      const jobType = asObject(value.resource.properties).jobType;
      if (jobType === "Sweep" || jobType === "Pipeline") {
        continue; // the sweep controller and the batch scoring controller recover their own
      }
      const status = asObject(value.resource.properties).status as JobStatus;
      if (isTerminalJobStatus(status)) {
        settle(name);
      } else if (value.run.cancelRequested === true) {
        finish(name, "Canceled", { code: "UserError", message: "The job was canceled." });
      } else if (status === "NotStarted" || status === "Queued") {
        setStatus(name, "NotStarted");
        runner.submit(name);
      } else {
        finish(name, "Failed", {
          code: "SystemError",
          message:
            `The emulator stopped while this job was ${status}, and its processes ended with it. ` +
            "Submit the job again under a new name.",
        });
      }
    }
  };

  const runner: JobRunner = {
    submit(name) {
      // After the PUT has answered: the job is NotStarted until then, as Azure shows it.
      setImmediate(() => {
        const current = load(name);
        if (
          closed ||
          current === undefined ||
          asObject(current.resource.properties).status !== "NotStarted"
        ) {
          return;
        }
        const job = setStatus(name, "Queued");
        if (job === undefined) {
          return;
        }
        const queue = queues.get(job.run.pool) ?? [];
        queue.push(job.resource.name);
        queues.set(job.run.pool, queue);
        schedule();
      });
    },
    cancel(name, operationId, cancelOptions = {}) {
      const job = update(name, (j) =>
        recordCancelRequest(j, operationId, cancelOptions.deleteAfter === true),
      );
      if (job === undefined) {
        if (operationId !== undefined) {
          operations.complete(operationId, "Succeeded");
        }
        return;
      }
      const jobName = job.resource.name;
      const status = asObject(job.resource.properties).status;
      if (isTerminalJobStatus(status)) {
        settle(jobName);
        return;
      }
      const running = active.get(jobName);
      if (running !== undefined) {
        setStatus(jobName, "CancelRequested");
        running.abort.abort(
          new JobEnded("Canceled", { code: "UserError", message: "The job was canceled." }),
        );
        return;
      }
      for (const queue of queues.values()) {
        const at = queue.indexOf(jobName);
        if (at >= 0) {
          queue.splice(at, 1);
        }
      }
      finish(jobName, "Canceled", { code: "UserError", message: "The job was canceled." });
      schedule();
    },
    async reset() {
      queues.clear();
      const stopping = [...active.values()];
      for (const entry of stopping) {
        entry.abort.abort(
          new JobEnded("Canceled", { code: "UserError", message: "The emulator was reset." }),
        );
      }
      await Promise.all(stopping.map((e) => e.done));
    },
    async close() {
      closed = true;
      queues.clear();
      const stopping = [...active.values()];
      for (const entry of stopping) {
        entry.abort.abort(
          new JobEnded("Failed", {
            code: "SystemError",
            message: "The emulator was stopped while the job ran.",
          }),
        );
      }
      await Promise.all(stopping.map((e) => e.done));
      if (temporaryRoot && root !== undefined) {
        await fs.promises.rm(root, { recursive: true, force: true });
        root = undefined;
      }
    },
    jobFolder(name) {
      return path.join(workRoot(), folderName(name));
    },
  };
  recover();
  return runner;
}

/** Variables a job inherits from the emulator's own environment (everything else is left out). */
const INHERITED_VARIABLES = [
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "LANG",
  "LC_ALL",
  "LC_CTYPE",
  "TZ",
  "TMPDIR",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
] as const;

/** `promise`, or a rejection as soon as `signal` aborts (the promise itself keeps going). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

function abortReason(signal: AbortSignal): JobEnded {
  const reason: unknown = signal.reason;
  return reason instanceof JobEnded
    ? reason
    : new JobEnded("Canceled", { code: "UserError", message: "The job was canceled." });
}

/**
 * The environment of an MLflow model input (materialized at [modelDir]), derived from its own
 * dependency files (envs/mlflow.ts); a model without any fails the job, naming the model.
 */
async function modelEnvironment(
  props: Json,
  input: string,
  modelDir: string | undefined,
  log: (line: string) => void,
): Promise<EnvironmentRequest> {
  const uri = String(asObject(asObject(props.inputs)[input]).uri ?? input);
  try {
    if (modelDir === undefined) {
      throw new Error(`the job has no input ${input}`);
    }
    const request = await mlflowEnvironment(`${uri} (the MLflow model's environment)`, modelDir);
    log(`Environment: built from the MLflow model's ${request.source} (${uri}).`);
    return request;
  } catch (error) {
    throw new JobEnded("Failed", {
      code: "UserError",
      message:
        `The deployment has no environment, and the MLflow model ${uri} gives none: ` +
        `${(error as Error)?.message ?? String(error)}.`,
    });
  }
}

async function prepareEnvironment(
  builder: EnvironmentBuilder,
  request: ReturnType<typeof resolveEnvironment>,
  log: (line: string) => void,
  signal: AbortSignal,
): Promise<PreparedEnvironment> {
  try {
    const env = await builder.prepare(request, log, signal);
    log(
      `Environment ${env.reused ? "reused" : "built"} (${env.key}) in ${env.durationInMs} ms: ${env.pythonPath}`,
    );
    return env;
  } catch (error) {
    if (signal.aborted) {
      throw abortReason(signal);
    }
    throw new JobEnded("Failed", {
      code: "UserError",
      message: `Preparing the environment ${request.id} failed: ${(error as Error)?.message ?? String(error)}`,
    });
  }
}

/** Downloads a resolved URI (blob or URL) into `dest`. */
async function materialize(
  blobs: BlobAccess,
  resolved: ResolvedUri,
  dest: string,
  kind: "file" | "folder",
  signal: AbortSignal,
  flatten: boolean,
): Promise<{ path: string; files: number }> {
  if (resolved.kind === "url") {
    const response = await fetch(resolved.url, { signal });
    if (!response.ok) {
      throw new Error(`GET ${resolved.url} answered ${response.status}`);
    }
    const name = path.posix.basename(new URL(resolved.url).pathname) || "download";
    await fs.promises.mkdir(dest, { recursive: true });
    const file = path.join(dest, name);
    await fs.promises.writeFile(file, Buffer.from(await response.arrayBuffer()));
    return { path: kind === "file" ? file : dest, files: 1 };
  }
  // A code snapshot or a folder input may name a single blob: fetch it as a file.
  const single = kind === "file" || (await blobs.isBlob(resolved.location));
  if (single) {
    const got = await blobs.download(resolved.location, dest, "file", signal);
    return flatten || kind === "file" ? got : { path: dest, files: got.files };
  }
  const got = await blobs.download(resolved.location, dest, "folder", signal);
  if (got.files === 0) {
    throw new Error(`nothing found at ${resolved.location.container}/${resolved.location.prefix}`);
  }
  return got;
}

async function uploadOutput(
  blobs: BlobAccess,
  location: BlobLocation,
  output: { folder: string; file?: string; uri: string },
): Promise<number> {
  if (output.file !== undefined && !output.uri.endsWith("/") && location.prefix !== "") {
    if (!fs.existsSync(output.file)) {
      return 0;
    }
    await blobs.uploadFile(location, output.file);
    return 1;
  }
  return blobs.uploadFolder(location, output.folder);
}

function describe(resolved: ResolvedUri): string {
  return resolved.kind === "url"
    ? resolved.url
    : `${resolved.location.container}/${resolved.location.prefix}`;
}

function stringMap(value: unknown): Record<string, string> {
  return Object.fromEntries(
    Object.entries(asObject(value)).map(([k, v]) => [k, typeof v === "string" ? v : String(v)]),
  );
}

/** A folder name for a job (job names are `[a-zA-Z0-9][a-zA-Z0-9_-]*`, but stay safe). */
/** A sweep trial's hyperparameters (its `hyperparameters` job property) as MLflow parameters. */
function trialHyperparameters(props: Json): Record<string, string> | undefined {
  const text = asObject(props.properties).hyperparameters;
  if (typeof text !== "string") {
    return undefined;
  }
  try {
    const values = asObject(JSON.parse(text));
    return Object.fromEntries(
      Object.entries(values).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
    );
  } catch {
    return undefined;
  }
}

function folderName(name: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(name) ? name : `job-${randomUUID()}`;
}

async function readTail(file: string, bytes = 64 * 1024): Promise<string> {
  try {
    const handle = await fs.promises.open(file, "r");
    try {
      const { size } = await handle.stat();
      const start = Math.max(0, size - bytes);
      const buffer = Buffer.alloc(size - start);
      await handle.read(buffer, 0, buffer.length, start);
      return buffer.toString("utf8");
    } finally {
      await handle.close();
    }
  } catch {
    return "";
  }
}

/** Uploads the log to the artifact store every interval while it changes, and once at the end. */
function createLogUploader(
  blobs: () => BlobAccess,
  logFile: string,
  artifacts: BlobLocation,
  intervalInMs: number,
  diagnostics: (line: string) => void,
) {
  const target: BlobLocation = {
    container: artifacts.container,
    prefix: `${artifacts.prefix}/user_logs/std_log.txt`,
  };
  let timer: NodeJS.Timeout | undefined;
  let lastSize = -1;
  let chain: Promise<void> = Promise.resolve();
  let warned = false;
  const upload = (force: boolean) => {
    chain = chain.then(async () => {
      const size = fs.existsSync(logFile) ? fs.statSync(logFile).size : -1;
      if (size < 0 || (!force && size === lastSize)) {
        return;
      }
      try {
        await blobs().uploadFile(target, logFile);
        lastSize = size;
      } catch (error) {
        if (!warned) {
          warned = true;
          diagnostics(`uploading ${target.prefix} failed: ${String(error)}`);
        }
      }
    });
    return chain;
  };
  return {
    start() {
      upload(true);
      timer = setInterval(() => upload(false), intervalInMs);
      timer.unref();
    },
    async stop() {
      if (timer !== undefined) {
        clearInterval(timer);
        timer = undefined;
      }
      await upload(true);
    },
  };
}
