/**
 * The batch endpoints' data plane (contract section 5): `POST {scoringUri}` invokes an endpoint,
 * with a token for `https://ml.azure.com` (not the ARM one), in any of the body shapes Azure
 * accepts (invocation.ts), at the deployment the `azureml-model-deployment` header names or else
 * the endpoint's default. It stores a batch scoring job (`jobType: Pipeline`, also served by the
 * ARM jobs API) with the child command job that scores (scoring.ts), and answers with the job.
 * `GET {scoringUri}/{name}` reads it back, as the older REST samples poll it.
 */
import { randomUUID } from "node:crypto";
import * as path from "node:path";
import { EmulatorError, ErrorFactory } from "../errors";
import { asObject, nowIso, systemData, type Json, type StoredResource } from "../handlers/common";
import { versionCollection } from "../handlers/assets";
import { checkRunnable } from "../jobs/handlers";
import { defaultOutputUri, normalizeJobProperties, parseIsoDuration } from "../jobs/spec";
import { JOBS_COLLECTION, type JobRunner, type StoredJob } from "../jobs/types";
import type { HandlerContext, RouteDefinition, Router } from "../router";
import { childId, storeKey } from "../state/ids";
import { BATCH_COLLECTIONS } from "./controlPlane";
import { DEPLOYMENT_HEADER, parseInvocationBody, selectDeployment } from "./invocation";
import {
  BATCH_JOB_PROPERTIES,
  driverCommand,
  DRIVER_PACKAGE,
  type ScoringSettings,
} from "./scoring";

const JOB_TYPE = "Microsoft.MachineLearningServices/workspaces/jobs";
const BASE = "/inference/{location}/{endpointName}/jobs";

function dataPlaneRoute(id: string, method: "GET" | "POST", template: string): RouteDefinition {
  return {
    id,
    method,
    template,
    plane: "arm",
    apiVersions: "none",
    queryParameters: [],
    acceptsAnyQuery: true,
    nameRules: [],
    scope: "none",
    resourceType: "batchEndpoints/jobs",
    faultable: true,
    audience: "ml",
  };
}

export const DATA_PLANE_ROUTES: RouteDefinition[] = [
  dataPlaneRoute("Emulator_BatchEndpoint_Invoke", "POST", BASE),
  dataPlaneRoute("Emulator_BatchEndpoint_GetJob", "GET", `${BASE}/{jobName}`),
];

export function registerBatchDataPlane(router: Router, runner: JobRunner): void {
  DATA_PLANE_ROUTES.forEach((r) => router.add({ ...r }));
  router.register("Emulator_BatchEndpoint_Invoke", (hc) => invoke(hc, runner));
  router.register("Emulator_BatchEndpoint_GetJob", (hc) => {
    requireEndpoint(hc);
    const job = hc.services.store.get<StoredJob>(JOBS_COLLECTION, jobKey(hc, hc.params.jobName));
    const props = asObject(job?.resource.properties);
    const endpoint = asObject(props.properties)[BATCH_JOB_PROPERTIES.endpoint];
    if (job === undefined || endpoint?.toString().toLowerCase() !== endpointName(hc)) {
      throw ErrorFactory.mlNotFound(`batch job ${hc.params.jobName}`);
    }
    return { status: 200, body: job.resource };
  });
}

function endpointName(hc: HandlerContext): string {
  return hc.params.endpointName.toLowerCase();
}

function jobKey(hc: HandlerContext, name: string): string {
  return storeKey(childId(hc.services.settings.scope, "jobs", name));
}

function requireEndpoint(hc: HandlerContext): StoredResource {
  const { settings, store, operations } = hc.services;
  const key = storeKey(childId(settings.scope, "batchEndpoints", hc.params.endpointName));
  operations.observeResource(BATCH_COLLECTIONS.endpoints, key);
  const endpoint = store.get<StoredResource>(BATCH_COLLECTIONS.endpoints, key);
  if (
    endpoint === undefined ||
    hc.params.location.toLowerCase() !== settings.location.toLowerCase()
  ) {
    throw ErrorFactory.mlNotFound(`batch endpoint ${hc.params.endpointName}`);
  }
  return endpoint;
}

function invoke(hc: HandlerContext, runner: JobRunner) {
  const { store, settings, operations } = hc.services;
  const endpoint = requireEndpoint(hc);
  const invocation = parseInvocationBody(hc.body);
  const endpointKey = storeKey(childId(settings.scope, "batchEndpoints", hc.params.endpointName));
  const prefix = `${endpointKey}/deployments/`;
  for (const { key } of store.list(BATCH_COLLECTIONS.deployments, prefix)) {
    operations.observeResource(BATCH_COLLECTIONS.deployments, key);
  }
  const deployments = store
    .list<StoredResource>(BATCH_COLLECTIONS.deployments, prefix)
    .map((e) => e.value);
  const header = hc.ctx.req.headers[DEPLOYMENT_HEADER];
  const chosen = selectDeployment(
    endpoint.resource.name,
    Array.isArray(header) ? header[0] : header,
    asObject(asObject(endpoint.resource.properties).defaults).deploymentName as string | undefined,
    deployments.map((d) => d.resource.name),
  );
  const deployment = deployments.find((d) => d.resource.name === chosen) as StoredResource;
  const dprops = asObject(deployment.resource.properties);
  if (dprops.provisioningState !== "Succeeded") {
    throw ErrorFactory.conflict(
      `Batch deployment ${chosen} is ${String(dprops.provisioningState)}; invoke it once it has Succeeded.`,
      DEPLOYMENT_HEADER,
    );
  }
  const modelId = asObject(dprops.model).assetId;
  if (typeof modelId !== "string" || modelId === "") {
    throw ErrorFactory.badArgument(`Batch deployment ${chosen} has no model.`, "model");
  }
  // Without an environment (allowed for an MLflow model only), the scoring job's environment is
  // built from the model's own dependency files, as Azure builds one.
  const environmentFromModel =
    typeof dprops.environmentId !== "string" || dprops.environmentId === "";
  if (environmentFromModel && !isMlflowModel(hc, modelId)) {
    throw new EmulatorError(
      400,
      "UserError",
      `Batch deployment ${chosen} has no environment, and its model ${modelId} is not an MLflow ` +
        "model to build one from: give the deployment an environment.",
      { target: "environmentId", innerErrorCode: "BadArgument" },
    );
  }

  const name = `batchjob-${randomUUID()}`;
  const childName = `${name}-scoring`;
  const data = invocation.inputs.find((i) => i.type !== "literal") as { name: string; uri: string };
  const dataType =
    invocation.inputs.find((i) => i === data)?.type === "uri_file" ? "uri_file" : "uri_folder";
  const code = asObject(dprops.codeConfiguration);
  const retry = asObject(dprops.retrySettings);
  const resources = asObject(dprops.resources);
  const instanceCount = Number(invocation.overrides.instanceCount ?? resources.instanceCount ?? 1);
  let outputFileName =
    invocation.outputFileName ?? String(dprops.outputFileName ?? "predictions.csv");
  let outputUri = invocation.output?.uri ?? defaultOutputUri(name, "score");
  if (invocation.output?.type === "uri_file") {
    // A file output: its folder gets the file, under the name the URI ends with.
    outputFileName = path.posix.basename(outputUri);
    outputUri = `${outputUri.slice(0, outputUri.length - outputFileName.length)}`;
  }
  const timeout = invocation.overrides.timeout ?? String(retry.timeout ?? "PT30S");
  const timeoutInMs = parseIsoDuration(timeout);
  if (timeoutInMs === undefined) {
    throw ErrorFactory.badArgument(
      `retrySettings.timeout '${timeout}' is not an ISO 8601 duration.`,
      "properties.retrySettings.timeout",
    );
  }
  const scoring: ScoringSettings = {
    scoringScript:
      typeof code.scoringScript === "string" && code.scoringScript !== ""
        ? code.scoringScript
        : undefined,
    miniBatchSize: Number(invocation.overrides.miniBatchSize ?? dprops.miniBatchSize ?? 10),
    maxConcurrency: Number(dprops.maxConcurrencyPerInstance ?? 1) * instanceCount,
    maxRetries: Number(invocation.overrides.maxRetries ?? retry.maxRetries ?? 3),
    timeoutInSeconds: timeoutInMs / 1000,
    errorThreshold: Number(invocation.overrides.errorThreshold ?? dprops.errorThreshold ?? -1),
    outputAction:
      String(dprops.outputAction).toLowerCase() === "summaryonly" ? "summary_only" : "append_row",
    outputFileName,
  };
  const experimentName = invocation.properties.experimentName ?? endpoint.resource.name;
  const childProps = normalizeJobProperties(childName, {
    jobType: "Command",
    displayName: `${name} scoring`,
    experimentName,
    command: driverCommand(scoring),
    ...(typeof code.codeId === "string" && code.codeId !== "" ? { codeId: code.codeId } : {}),
    ...(environmentFromModel ? {} : { environmentId: dprops.environmentId }),
    ...(typeof dprops.compute === "string" && dprops.compute !== ""
      ? { computeId: dprops.compute }
      : {}),
    inputs: {
      data: { jobInputType: dataType, uri: data.uri },
      model: { jobInputType: "custom_model", uri: modelId },
    },
    outputs: { score: { jobOutputType: "uri_folder", uri: outputUri } },
    environmentVariables: stringMap(dprops.environmentVariables),
    resources: { instanceCount },
    properties: { "azureml.batch.parentJobName": name },
  });
  let pool: { pool: string; nodes: number };
  try {
    pool = checkRunnable(
      { store, scope: settings.scope, accountName: settings.storage.accountName },
      childProps,
      { environmentFromModel },
    );
  } catch (error) {
    if (error instanceof EmulatorError) {
      // Name the invocation's own fields rather than the child job's.
      const message = error.message
        .replace(/properties\.inputs\.data/g, `properties.InputData.${data.name}`)
        .replace(/properties\.outputs\.score/g, "properties.OutputData");
      throw new EmulatorError(error.statusCode, "UserError", message, {
        innerErrorCode: "BadArgument",
      });
    }
    throw error;
  }
  const now = nowIso(hc);
  const literalInputs = Object.fromEntries(
    invocation.inputs
      .filter((i) => i.type === "literal")
      .map((i) => [i.name, { jobInputType: "literal", value: i.value }]),
  );
  const parentProps: Json = normalizeJobProperties(name, {
    jobType: "Pipeline",
    displayName: name,
    experimentName,
    ...(typeof dprops.compute === "string" ? { computeId: dprops.compute } : {}),
    inputs: { ...literalInputs, [data.name]: { jobInputType: dataType, uri: data.uri } },
    outputs: {
      [invocation.output?.name ?? "score"]: {
        jobOutputType: invocation.output?.type ?? "uri_folder",
        uri: invocation.output?.uri ?? outputUri,
      },
    },
    settings: {
      miniBatchSize: scoring.miniBatchSize,
      maxConcurrencyPerInstance: Number(dprops.maxConcurrencyPerInstance ?? 1),
      instanceCount,
      errorThreshold: scoring.errorThreshold,
      retrySettings: { maxRetries: scoring.maxRetries, timeout },
      outputAction: dprops.outputAction ?? "AppendRow",
      outputFileName: scoring.outputFileName,
    },
    properties: {
      ...invocation.properties,
      [BATCH_JOB_PROPERTIES.batchRun]: "true",
      [BATCH_JOB_PROPERTIES.endpoint]: endpoint.resource.name,
      [BATCH_JOB_PROPERTIES.deployment]: chosen,
      [BATCH_JOB_PROPERTIES.childJob]: childName,
    },
  });
  delete (parentProps.outputs as Json).default;
  const child: StoredJob = {
    createdSeq: hc.services.nextSequence(),
    resource: {
      id: childId(settings.scope, "jobs", childName),
      name: childName,
      type: JOB_TYPE,
      systemData: systemData(now),
      properties: { ...childProps, status: "NotStarted" },
    },
    run: {
      pool: pool.pool,
      nodes: pool.nodes,
      parent: name,
      pythonPath: [DRIVER_PACKAGE],
      ...(environmentFromModel ? { environmentFromModel: "model" } : {}),
    },
  };
  const parent: StoredJob = {
    createdSeq: hc.services.nextSequence(),
    resource: {
      id: childId(settings.scope, "jobs", name),
      name,
      type: JOB_TYPE,
      systemData: systemData(now),
      properties: { ...parentProps, status: "NotStarted" },
    },
    run: { pool: pool.pool, nodes: 0 },
  };
  store.put(JOBS_COLLECTION, storeKey(child.resource.id), child);
  store.put(JOBS_COLLECTION, storeKey(parent.resource.id), parent);
  runner.submit(name);
  return { status: 200, body: parent.resource };
}

/** True when [modelId] is a model version of this workspace registered as `mlflow_model`. */
function isMlflowModel(hc: HandlerContext, modelId: string): boolean {
  const record = hc.services.store.get<StoredResource>(
    versionCollection("models"),
    storeKey(modelId),
  );
  return (
    String(asObject(record?.resource.properties).modelType ?? "").toLowerCase() === "mlflow_model"
  );
}

function stringMap(value: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(asObject(value)).map(([k, v]) => [k, String(v)]));
}
