/**
 * Job routes (contract section 3, Jobs_*): PUT validates the job and hands it to the runner; GET
 * and list read the stored resource the runner keeps current; cancel and delete are long-running
 * operations (202 + Location) that complete when the job has really ended. Plus the minimal Run
 * History read (`/history/v1.0/.../runs/{runId}[/details]`) through which Azure's SDK learns a
 * run's error and its log files.
 */
import {
  BlobSASPermissions,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
} from "@azure/storage-blob";
import { EmulatorError, ErrorFactory } from "../errors";
import { findQuery } from "../middleware/apiVersion";
import type { HandlerContext, RouteDefinition, Router } from "../router";
import {
  asObject,
  matchesTagFilter,
  nowIso,
  paginate,
  systemData,
  type Json,
} from "../handlers/common";
import { childId, stableGuid, storeKey, workspaceArmId } from "../state/ids";
import { ARTIFACT_DATASTORE, COLLECTIONS, workspaceResource } from "../state/seed";
import { EMULATOR_TENANT_ID } from "../tokens";
import {
  resolveCode,
  resolveCompute,
  resolveEnvironment,
  resolveUri,
  UnresolvableReference,
  type ReferenceContext,
} from "./references";
import {
  artifactFolder,
  changedJobFields,
  normalizeJobProperties,
  parseIsoDuration,
  unboundReferences,
} from "./spec";
import { JOBS_COLLECTION, type JobRunner, type StoredJob } from "./types";
import { planSweep, withoutSearchSpace } from "../sweep/spec";

const JOB_TYPE = "Microsoft.MachineLearningServices/workspaces/jobs";

/** Log files listed by the Run History details read, relative to the run's artifact folder. */
export const RUN_LOG_FILES = ["user_logs/std_log.txt"] as const;

export function registerJobHandlers(router: Router, runner: JobRunner): void {
  router.register("Jobs_CreateOrUpdate", (hc) => createOrUpdate(hc, runner));

  router.register("Jobs_Get", (hc) => ({ status: 200, body: getJob(hc).resource }));

  router.register("Jobs_List", (hc) => {
    const jobType = findQuery(hc.query, "jobType")?.toLowerCase();
    const parent = findQuery(hc.query, "parentJobName");
    const tag = findQuery(hc.query, "tag");
    const properties = findQuery(hc.query, "properties");
    const view = (findQuery(hc.query, "listViewType") ?? "ActiveOnly").toLowerCase();
    const items = hc.services.store
      .list<StoredJob>(JOBS_COLLECTION)
      .map((e) => e.value)
      .filter((job) => {
        const props = asObject(job.resource.properties);
        const archived = props.isArchived === true;
        return (
          (view === "all" || (view === "archivedonly" ? archived : !archived)) &&
          (jobType === undefined || String(props.jobType).toLowerCase() === jobType) &&
          (parent === undefined || job.run.parent === parent) &&
          matchesTagFilter(tag, props.tags) &&
          matchesTagFilter(properties, props.properties)
        );
      })
      .sort((a, b) => b.createdSeq - a.createdSeq)
      .map((job) => job.resource);
    return { status: 200, body: paginate(hc, items) };
  });

  router.register("Jobs_Cancel", (hc) => {
    const job = getJob(hc);
    const op = hc.services.operations.start({
      request: { method: hc.ctx.method, path: hc.ctx.path },
      apiVersion: hc.apiVersion,
      resource: { collection: JOBS_COLLECTION, key: jobKey(hc) },
      result: { statusCode: 200 },
      external: true,
    });
    runner.cancel(job.resource.name, op.id);
    return {
      status: 202,
      headers: hc.services.operations.headers(op, { location: true }),
    };
  });

  router.register("Jobs_Delete", (hc) => {
    const job = hc.services.store.get<StoredJob>(JOBS_COLLECTION, jobKey(hc));
    if (job === undefined) {
      return { status: 204 };
    }
    const op = hc.services.operations.start({
      request: { method: hc.ctx.method, path: hc.ctx.path },
      apiVersion: hc.apiVersion,
      resource: { collection: JOBS_COLLECTION, key: jobKey(hc) },
      result: { statusCode: 204 },
      external: true,
    });
    runner.cancel(job.resource.name, op.id, { deleteAfter: true });
    return {
      status: 202,
      headers: hc.services.operations.headers(op, { location: true }),
    };
  });

  RUN_HISTORY_ROUTES.forEach((r) => router.add({ ...r }));
  router.register("Emulator_RunHistory_Get", (hc) => ({
    status: 200,
    body: runDetails(hc, false),
  }));
  router.register("Emulator_RunHistory_GetDetails", (hc) => ({
    status: 200,
    body: runDetails(hc, true),
  }));
}

function createOrUpdate(hc: HandlerContext, runner: JobRunner) {
  const { store, settings } = hc.services;
  const name = hc.params.id;
  const key = jobKey(hc);
  const body = asObject(hc.body);
  const given = asObject(body.properties);
  if (given.jobType !== "Command" && given.jobType !== "Sweep") {
    throw ErrorFactory.badArgument(
      `The emulator runs command and sweep jobs only; jobType '${String(given.jobType)}' is not supported.`,
      "properties.jobType",
    );
  }
  if (given.jobType === "Sweep") {
    planSweep(given); // refuses what Azure refuses, before anything is stored
  }
  const properties = normalizeJobProperties(name, given);
  const existing = store.get<StoredJob>(JOBS_COLLECTION, key);
  const now = nowIso(hc);

  if (existing !== undefined) {
    const previous = asObject(existing.resource.properties);
    const changed = changedJobFields(previous, properties);
    if (changed.length > 0) {
      throw jobImmutable(changed);
    }
    // Azure: "Only description, tags, displayName, properties, and isArchived can be updated";
    // the tags given replace the stored ones.
    existing.resource.properties = {
      ...previous,
      description: properties.description,
      tags: properties.tags,
      displayName: properties.displayName,
      properties: properties.properties,
      isArchived: properties.isArchived,
      ...(properties.notificationSetting === undefined
        ? {}
        : { notificationSetting: properties.notificationSetting }),
    };
    existing.resource.systemData = systemData(now, asObject(existing.resource.systemData));
    store.put(JOBS_COLLECTION, key, existing);
    return { status: 200, body: existing.resource };
  }

  const refs: ReferenceContext = {
    store,
    scope: settings.scope,
    accountName: settings.storage.accountName,
  };
  const pool = checkRunnable(
    refs,
    properties.jobType === "Sweep" ? sweepTrialProbe(properties) : properties,
  );
  const id = childId(settings.scope, "jobs", name);
  const record: StoredJob = {
    createdSeq: hc.services.nextSequence(),
    resource: {
      id,
      name,
      type: JOB_TYPE,
      systemData: systemData(now),
      properties: {
        ...properties,
        status: "NotStarted",
        services: { ...asObject(properties.services), ...jobServices(hc, name) },
      },
    },
    run: { pool: pool.pool, nodes: pool.nodes },
  };
  store.put(JOBS_COLLECTION, key, record);
  runner.submit(name);
  return { status: 201, body: record.resource };
}

/** The command-job view of a sweep's trial, for the checks a command job gets at PUT. */
function sweepTrialProbe(props: Json): Json {
  const trial = asObject(props.trial);
  return {
    ...trial,
    command: withoutSearchSpace(String(trial.command ?? "")),
    inputs: props.inputs,
    outputs: props.outputs,
    computeId: props.computeId,
    limits: { timeout: asObject(props.limits).trialTimeout },
  };
}

/**
 * Refuses, with Azure's kind of error, a job that could never run. Returns its pool. With
 * [environmentFromModel] the job names no environment version: the runner derives its
 * environment from an MLflow model input (JobRunState.environmentFromModel).
 */
export function checkRunnable(
  refs: ReferenceContext,
  props: Json,
  options: { environmentFromModel?: boolean } = {},
): { pool: string; nodes: number } {
  try {
    const command = String(props.command ?? "");
    const inputs = asObject(props.inputs);
    const outputs = asObject(props.outputs);
    const unbound = unboundReferences(
      command,
      Object.keys(inputs),
      Object.keys(outputs).filter((o) => o !== "default"),
    );
    if (unbound.length > 0) {
      const names = unbound.map((b) => b.text).join(", ");
      throw ErrorFactory.badArgument(
        `The command refers to ${names}, which the job does not declare. Declare it under ` +
          "properties.inputs or properties.outputs, or remove it from the command.",
        "properties.command",
      );
    }
    for (const [name, raw] of Object.entries(inputs)) {
      const input = asObject(raw);
      if (input.jobInputType === "literal") {
        continue;
      }
      if (typeof input.uri !== "string" || input.uri === "") {
        throw ErrorFactory.badArgument(
          `Input ${name} has no uri.`,
          `properties.inputs.${name}.uri`,
        );
      }
      if (input.mode !== "Direct") {
        resolveUri(refs, input.uri, `properties.inputs.${name}.uri`);
      }
    }
    for (const [name, raw] of Object.entries(outputs)) {
      const output = asObject(raw);
      if (output.mode !== "Direct" && typeof output.uri === "string") {
        const resolved = resolveUri(refs, output.uri, `properties.outputs.${name}.uri`);
        if (resolved.kind !== "blob") {
          throw ErrorFactory.badArgument(
            `Output ${name} must be written to a datastore of the workspace; '${output.uri}' is not one.`,
            `properties.outputs.${name}.uri`,
          );
        }
      }
    }
    if (typeof props.codeId === "string" && props.codeId !== "") {
      resolveCode(refs, props.codeId);
    }
    if (options.environmentFromModel !== true) {
      resolveEnvironment(refs, String(props.environmentId ?? ""));
    }
    const compute = resolveCompute(
      refs,
      typeof props.computeId === "string" ? props.computeId : undefined,
    );
    const limits = asObject(props.limits);
    if (typeof limits.timeout === "string" && parseIsoDuration(limits.timeout) === undefined) {
      throw ErrorFactory.badArgument(
        `limits.timeout '${limits.timeout}' is not an ISO 8601 duration such as PT30M.`,
        "properties.limits.timeout",
      );
    }
    const instanceCount = asObject(props.resources).instanceCount;
    const nodes = typeof instanceCount === "number" && instanceCount > 0 ? instanceCount : 1;
    if (compute.maxNodes !== undefined && nodes > compute.maxNodes) {
      throw ErrorFactory.badArgument(
        `The job asks for ${nodes} instances but compute ${compute.name} has at most ` +
          `${compute.maxNodes} nodes.`,
        "properties.resources.instanceCount",
      );
    }
    return { pool: compute.pool, nodes };
  } catch (error) {
    if (error instanceof UnresolvableReference) {
      throw new EmulatorError(error.statusCode, "UserError", error.message, {
        target: error.target,
        innerErrorCode: error.statusCode === 404 ? "NotFound" : "BadArgument",
      });
    }
    throw error;
  }
}

function jobImmutable(changed: string[]): EmulatorError {
  return new EmulatorError(
    400,
    "UserError",
    "A job with this name already exists. If you are trying to create a new job, use a " +
      "different name. If you are trying to update an existing job, the existing job's " +
      `${changed.join(", ")} cannot be changed. Only description, tags, displayName, ` +
      "properties, and isArchived can be updated.",
    { target: `properties.${changed[0]}`, innerErrorCode: "Immutable" },
  );
}

/** The Studio and Tracking services Azure lists on a job. */
function jobServices(hc: HandlerContext, name: string): Json {
  const { scope } = hc.services.settings;
  const wsid =
    `/subscriptions/${scope.subscriptionId}/resourcegroups/${scope.resourceGroupName}` +
    `/workspaces/${scope.workspaceName}`;
  return {
    Tracking: {
      jobServiceType: "Tracking",
      port: null,
      // The workspace's own tracking URI, as Azure lists it.
      endpoint: `${String(asObject(workspaceResource(hc.services.settings).properties).mlFlowTrackingUri)}?`,
      status: null,
      errorMessage: null,
      properties: null,
      nodes: null,
    },
    Studio: {
      jobServiceType: "Studio",
      port: null,
      endpoint: `https://ml.azure.com/runs/${name}?wsid=${wsid}&tid=${EMULATOR_TENANT_ID}`,
      status: null,
      errorMessage: null,
      properties: null,
      nodes: null,
    },
  };
}

function jobKey(hc: HandlerContext, name = hc.params.id ?? hc.params.runId): string {
  return storeKey(childId(hc.services.settings.scope, "jobs", name));
}

function getJob(hc: HandlerContext, name = hc.params.id ?? hc.params.runId): StoredJob {
  const job = hc.services.store.get<StoredJob>(JOBS_COLLECTION, jobKey(hc, name));
  if (job === undefined) {
    throw new EmulatorError(404, "UserError", `Job ${name} not found.`, {
      innerErrorCode: "NotFound",
    });
  }
  return job;
}

const HISTORY_BASE =
  "/history/v1.0/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}" +
  "/providers/Microsoft.MachineLearningServices/workspaces/{workspaceName}/runs/{runId}";

function historyRoute(id: string, template: string): RouteDefinition {
  return {
    id,
    method: "GET",
    template,
    plane: "arm",
    apiVersions: "none",
    queryParameters: [{ name: "api-version", in: "query", type: "string" }],
    nameRules: [],
    scope: "workspace",
    resourceType: "runs",
    faultable: true,
  };
}

export const RUN_HISTORY_ROUTES: RouteDefinition[] = [
  historyRoute("Emulator_RunHistory_Get", HISTORY_BASE),
  historyRoute("Emulator_RunHistory_GetDetails", `${HISTORY_BASE}/details`),
];

/** The Run History view of a job: status, times, error and (details) read-only log URLs. */
function runDetails(hc: HandlerContext, details: boolean): Json {
  const job = getJob(hc, hc.params.runId);
  const props = asObject(job.resource.properties);
  const { settings, store } = hc.services;
  const name = job.resource.name;
  const body: Json = {
    runId: name,
    runUuid: stableGuid("azureml-emulator-run", workspaceArmId(settings.scope), name),
    parentRunId: job.run.parent ?? null,
    rootRunId: job.run.parent ?? name,
    experimentName: props.experimentName ?? "Default",
    displayName: props.displayName ?? name,
    status: props.status,
    startTimeUtc: job.run.startTimeUtc ?? null,
    endTimeUtc: job.run.endTimeUtc ?? null,
    error:
      job.run.error === undefined
        ? null
        : { error: { code: job.run.error.code, message: job.run.error.message } },
    tags: props.tags ?? {},
    properties: props.properties ?? {},
    target: typeof props.computeId === "string" ? props.computeId.split("/").pop() : null,
  };
  if (details) {
    const ds = store.get<{ resource: { properties?: Json } }>(
      COLLECTIONS.datastores,
      storeKey(childId(settings.scope, "datastores", ARTIFACT_DATASTORE)),
    );
    const container = String(asObject(ds?.resource.properties).containerName ?? "azureml");
    const credential = new StorageSharedKeyCredential(
      settings.storage.accountName,
      settings.storage.accountKey,
    );
    const endpoint = settings.storage.blobEndpoint.replace(/\/+$/, "");
    const now = hc.services.now();
    const logFiles: Record<string, string> = {};
    for (const file of RUN_LOG_FILES) {
      const blobName = `${artifactFolder(name)}/${file}`;
      const sas = generateBlobSASQueryParameters(
        {
          containerName: container,
          blobName,
          permissions: BlobSASPermissions.parse("r"),
          startsOn: new Date(now - 5 * 60 * 1000),
          expiresOn: new Date(now + 24 * 60 * 60 * 1000),
        },
        credential,
      ).toString();
      logFiles[file] = `${endpoint}/${container}/${blobName}?${sas}`;
    }
    body.logFiles = logFiles;
  }
  return body;
}
