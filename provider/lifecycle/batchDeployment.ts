/**
 * BatchDeployment lifecycle (contract 4.9, 7.2). Loaded by the provider host through
 * `await import("pulumi-azureml/provider/lifecycle/batchDeployment")`.
 *
 * Field by field:
 * - endpoint and name: the deployment's identity; a change replaces it.
 * - `codeConfiguration`, `instanceCount`: annotated create-only in the spec (the emulator refuses
 *   changing them, Azure's enforcement is unconfirmed): a change replaces the deployment, deleting
 *   the old one first when the name stays (names are the caller's).
 * - `description`, `tags`: a PATCH, the only fields Azure's PATCH takes.
 * - everything else (model, environment, compute, sizes, retries, output settings, variables,
 *   properties): a PUT, read back afterwards; a field Azure did not apply fails the update.
 * - `providerVersion`, `modelType`: no request.
 * Which deployment is the endpoint's default is not this resource's: see
 * BatchEndpointDefaultDeployment.
 */
import type * as pulumi from "@pulumi/pulumi";
import { isAzureMlRestError } from "../core/errors";
import { beginLongRunning } from "../core/lro";
import { resolveSettings, type AzureMlSettings } from "../core/settings";
import {
  BATCH_OPERATION,
  assetVersionArmId,
  batchDeploymentBody,
  batchDeploymentPatchBody,
  batchDeploymentPath,
  batchEndpointPath,
  computeArmId,
  parseBatchEndpointId,
  secondsOfIsoDuration,
  type BatchDeploymentResource,
  type BatchDeploymentSpec,
  type BatchEndpointResource,
  type LoggingLevel,
  type OutputAction,
} from "../operations/batch";
import type { WorkspaceScope } from "../core/ids";
import type { BatchDeploymentInputs, BatchDeploymentOutputs } from "../resources/batchDeployment";
import {
  checkChoice,
  checkEndpointId,
  checkOwnerProperty,
  isOwnedBy,
  withOwner,
  checkInteger,
  checkSettings,
  computeFailure,
  endpointNameFailure,
  lowerKnown,
  runLro,
  createOrUndo,
  type Config,
} from "./batchCommon";
import { describeChanges } from "./batchEndpoint";
import { reportProgress } from "./progress";
import { fingerprint } from "./assetVersion";
import {
  Failures,
  UNKNOWN,
  checkStringMap,
  fieldChanged,
  isFullyKnown,
  isKnown,
  withoutProvider,
} from "./shared";
import { createAzureMlClient, type AzureMlClient } from "../core/client";

export const OUTPUT_ACTIONS: readonly OutputAction[] = ["append_row", "summary_only"];
export const LOGGING_LEVELS: readonly LoggingLevel[] = ["info", "warning", "debug"];

/** Fields whose change replaces the deployment (besides endpoint and name). */
export const DEPLOYMENT_REPLACE_FIELDS = ["codeConfiguration", "instanceCount"] as const;
/** Fields a PUT changes in place. */
export const DEPLOYMENT_PUT_FIELDS = [
  "modelId",
  "environmentId",
  "compute",
  "maxConcurrencyPerInstance",
  "miniBatchSize",
  "errorThreshold",
  "retrySettings",
  "outputAction",
  "outputFileName",
  "loggingLevel",
  "environmentVariables",
  "properties",
] as const;
/** Fields a PATCH changes in place. */
export const DEPLOYMENT_PATCH_FIELDS = ["description", "tags"] as const;

export async function check(
  _olds: BatchDeploymentInputs,
  news: BatchDeploymentInputs,
  config?: Config,
): Promise<pulumi.dynamic.CheckResult<BatchDeploymentInputs>> {
  const failures = new Failures();
  const inputs = withoutProvider(news);
  checkSettings(failures, config);
  const endpoint = checkEndpointId(inputs.endpointId, "endpoint", failures);
  const nameFailure = endpointNameFailure("name", "batch deployment", inputs.name);
  if (nameFailure) {
    failures.add("name", nameFailure);
  }
  inputs.modelId = resolveAsset(
    inputs.modelId,
    "model",
    "models",
    endpoint?.scope,
    failures,
    true,
  )!;
  if (inputs.environmentId !== undefined) {
    inputs.environmentId = resolveAsset(
      inputs.environmentId,
      "environment",
      "environments",
      endpoint?.scope,
      failures,
      false,
    );
  }
  const code = inputs.codeConfiguration;
  if (code !== undefined && isKnown(code)) {
    if (
      typeof code.scoringScript !== "string" ||
      (isKnown(code.scoringScript) && code.scoringScript.trim() === "")
    ) {
      failures.add(
        "codeConfiguration.scoringScript",
        "[codeConfiguration.scoringScript] is required: the scoring script's path inside the code folder.",
      );
    }
    const codeId = resolveAsset(
      code.codeId,
      "codeConfiguration.code",
      "codes",
      endpoint?.scope,
      failures,
      true,
    );
    inputs.codeConfiguration = { ...code, codeId: codeId! };
  }
  checkMlflowRule(inputs, failures);
  const computeProblem = computeFailure(inputs.compute);
  if (computeProblem) {
    failures.add("compute", computeProblem);
  }
  for (const key of [
    "instanceCount",
    "maxConcurrencyPerInstance",
    "miniBatchSize",
    "errorThreshold",
  ] as const) {
    checkInteger(inputs[key], key, failures);
  }
  if (inputs.retrySettings !== undefined && isKnown(inputs.retrySettings)) {
    checkInteger(inputs.retrySettings.maxRetries, "retrySettings.maxRetries", failures);
    checkInteger(inputs.retrySettings.timeoutInSeconds, "retrySettings.timeoutInSeconds", failures);
  }
  if (inputs.outputAction !== undefined) {
    inputs.outputAction = checkChoice(
      inputs.outputAction,
      "outputAction",
      OUTPUT_ACTIONS,
      failures,
    );
  }
  if (inputs.loggingLevel !== undefined) {
    inputs.loggingLevel = checkChoice(
      inputs.loggingLevel,
      "loggingLevel",
      LOGGING_LEVELS,
      failures,
    );
  }
  if (
    inputs.outputFileName !== undefined &&
    isKnown(inputs.outputFileName) &&
    (typeof inputs.outputFileName !== "string" ||
      /[\\/]/.test(inputs.outputFileName) ||
      inputs.outputFileName === "")
  ) {
    failures.add(
      "outputFileName",
      "[outputFileName] must be a file name (no folder), e.g. predictions.csv.",
    );
  }
  if (
    inputs.description !== undefined &&
    isKnown(inputs.description) &&
    typeof inputs.description !== "string"
  ) {
    failures.add("description", "[description] must be a string.");
  }
  checkStringMap(inputs.environmentVariables, "environmentVariables", failures);
  checkStringMap(inputs.properties, "properties", failures);
  checkOwnerProperty(inputs.properties, failures);
  checkStringMap(inputs.tags, "tags", failures);
  inputs.incarnation = deploymentIncarnation(inputs);
  return { inputs, failures: failures.list };
}

/**
 * Pure: a digest of what the diff replaces the deployment for (its designated id, code
 * configuration and instance count), so it changes exactly when the deployment is replaced;
 * unknown while any of them is (a preview).
 */
export function deploymentIncarnation(inputs: BatchDeploymentInputs): string {
  // The same fields the diff replaces for, so the two cannot drift apart.
  const fields = inputs as unknown as Record<string, unknown>;
  const parts = {
    deployment: designatedDeploymentId(inputs),
    ...Object.fromEntries(DEPLOYMENT_REPLACE_FIELDS.map((k) => [k, fields[k]])),
  };
  if (parts.deployment === undefined || !isFullyKnown(parts)) {
    return UNKNOWN;
  }
  return fingerprint(parts).slice(0, 32);
}

/**
 * An asset given as an ARM id or `azureml:<name>:<version>`, as the ARM id (in the endpoint's
 * workspace). Unknown values pass through.
 */
function resolveAsset(
  value: string | undefined,
  property: string,
  kind: "models" | "codes" | "environments",
  scope: WorkspaceScope | undefined,
  failures: Failures,
  required: boolean,
): string | undefined {
  if (value === undefined) {
    if (required) {
      failures.add(property, `[${property}] is required.`);
    }
    return value;
  }
  if (!isKnown(value)) {
    return value;
  }
  const kindName = { models: "model", codes: "code", environments: "environment" }[kind];
  const armPattern = new RegExp(`/${kind}/[^/]+/versions/[^/]+$`, "i");
  if (typeof value === "string" && value.startsWith("/") && armPattern.test(value)) {
    return value;
  }
  if (typeof value === "string" && /^azureml:[^:/]+:[^:/]+$/.test(value)) {
    return scope ? assetVersionArmId(scope, kind, value) : value;
  }
  failures.add(
    property,
    `[${property}] must be a ${kindName} version: the resource, its ARM id ({workspace id}/${kind}/<name>/versions/<version>) or azureml:<name>:<version>; got "${String(value)}".`,
  );
  return value;
}

/** A custom model needs a scoring script and an environment; a scoring script needs an environment. */
function checkMlflowRule(inputs: BatchDeploymentInputs, failures: Failures): void {
  const type = inputs.modelType;
  const knownType = type !== undefined && isKnown(type);
  if (knownType && type !== "mlflow_model") {
    if (inputs.codeConfiguration === undefined) {
      failures.add(
        "codeConfiguration",
        `[codeConfiguration] is required: the model is a ${type}, and only MLflow models are scored without a scoring script.`,
      );
    }
    if (inputs.environmentId === undefined) {
      failures.add(
        "environment",
        `[environment] is required: the model is a ${type}, and only MLflow models are scored without an environment.`,
      );
    }
    return;
  }
  if (inputs.codeConfiguration !== undefined && inputs.environmentId === undefined) {
    failures.add(
      "environment",
      "[environment] is required with a scoring script ([codeConfiguration]).",
    );
  }
}

/** How a change of inputs reaches Azure. */
export interface DeploymentChanges {
  replaces: string[];
  put: string[];
  patch: string[];
  other: string[];
  /** True when the replacement designates the same deployment (so the old one must go first). */
  sameDeployment: boolean;
}

/** The designated deployment: `<endpoint id>/deployments/<name>`, lower-cased; undefined when unknown. */
export function designatedDeploymentId(inputs: {
  endpointId?: string;
  name?: string;
}): string | undefined {
  const endpoint = lowerKnown(inputs.endpointId);
  const name = lowerKnown(inputs.name);
  return endpoint === undefined || name === undefined
    ? undefined
    : `${endpoint}/deployments/${name}`;
}

/** Classifies every changed input (pure; the diff's whole logic). */
export function classifyDeploymentChanges(
  olds: BatchDeploymentOutputs,
  news: BatchDeploymentInputs,
): DeploymentChanges {
  const o = olds as unknown as Record<string, unknown>;
  const n = news as unknown as Record<string, unknown>;
  const oldId = designatedDeploymentId(olds);
  const newId = designatedDeploymentId(news);
  const sameDeployment = oldId !== undefined && oldId === newId;
  const identity = ["endpointId", "name"].filter((k) => fieldChanged(o, n, k));
  const replaces = sameDeployment ? [] : identity;
  const put: string[] = sameDeployment ? [...identity] : [];
  replaces.push(...DEPLOYMENT_REPLACE_FIELDS.filter((k) => fieldChanged(o, n, k)));
  put.push(...DEPLOYMENT_PUT_FIELDS.filter((k) => fieldChanged(o, n, k)));
  const patch = DEPLOYMENT_PATCH_FIELDS.filter((k) => fieldChanged(o, n, k));
  const other = ["providerVersion", "modelType"].filter((k) => fieldChanged(o, n, k));
  return { replaces, put, patch, other, sameDeployment: sameDeployment || oldId === undefined };
}

export async function diff(
  _id: string,
  olds: BatchDeploymentOutputs,
  news: BatchDeploymentInputs,
): Promise<pulumi.dynamic.DiffResult> {
  const changes = classifyDeploymentChanges(olds, news);
  if (changes.replaces.length > 0) {
    await reportProgress(
      `BatchDeployment ${olds.name}: ${describeChanges(changes)}` +
        (changes.replaces.some((k) => DEPLOYMENT_REPLACE_FIELDS.includes(k as never))
          ? " (Azure ML cannot change the scoring script or the instance count of a deployment)."
          : "."),
    );
    return {
      changes: true,
      replaces: changes.replaces,
      deleteBeforeReplace: changes.sameDeployment,
    };
  }
  if (changes.put.length + changes.patch.length > 0) {
    await reportProgress(`BatchDeployment ${olds.name}: ${describeChanges(changes)}.`);
  }
  const changed = [...changes.put, ...changes.patch, ...changes.other];
  return { changes: changed.length > 0, replaces: [] };
}

interface DeploymentSession {
  settings: AzureMlSettings;
  client: AzureMlClient;
  scope: WorkspaceScope;
  endpointName: string;
  path: string;
}

function openDeploymentSession(inputs: BatchDeploymentInputs, config: Config): DeploymentSession {
  const settings = resolveSettings(config);
  const { scope, name: endpointName } = parseBatchEndpointId(inputs.endpointId);
  return {
    settings,
    client: createAzureMlClient({ settings }),
    scope,
    endpointName,
    path: batchDeploymentPath(scope, endpointName, inputs.name),
  };
}

/** The wire spec of the inputs, at `location`. */
export function deploymentSpec(
  inputs: BatchDeploymentInputs,
  scope: WorkspaceScope,
  location: string,
): BatchDeploymentSpec {
  return {
    location,
    modelId: inputs.modelId,
    codeId: inputs.codeConfiguration?.codeId,
    scoringScript: inputs.codeConfiguration?.scoringScript,
    environmentId: inputs.environmentId,
    computeId: computeArmId(scope, inputs.compute),
    instanceCount: inputs.instanceCount,
    maxConcurrencyPerInstance: inputs.maxConcurrencyPerInstance,
    miniBatchSize: inputs.miniBatchSize,
    errorThreshold: inputs.errorThreshold,
    retrySettings: inputs.retrySettings,
    outputAction: inputs.outputAction,
    outputFileName: inputs.outputFileName,
    loggingLevel: inputs.loggingLevel,
    environmentVariables: inputs.environmentVariables,
    properties: inputs.properties,
    description: inputs.description,
    tags: inputs.tags,
  };
}

/**
 * Fields the live deployment does not hold as the spec asked (users have seen updates silently not
 * applied, USER-NEEDS 7). Only fields the spec sets are compared; ids case-insensitively.
 */
export function unappliedFields(
  spec: BatchDeploymentSpec,
  live: BatchDeploymentResource,
): string[] {
  const p = live.properties;
  const sameId = (a: string | undefined | null, b: string | undefined) =>
    b === undefined || (a ?? "").toLowerCase() === b.toLowerCase();
  const same = (a: unknown, b: unknown) => b === undefined || a === b;
  const sameText = (a: unknown, b: string | undefined) =>
    b === undefined || String(a ?? "").toLowerCase() === b.replace(/_/g, "").toLowerCase();
  const checks: Array<[string, boolean]> = [
    ["model", sameId(p.model?.assetId, spec.modelId)],
    ["environment", sameId(p.environmentId, spec.environmentId)],
    ["compute", sameId(p.compute, spec.computeId)],
    ["miniBatchSize", same(p.miniBatchSize, spec.miniBatchSize)],
    [
      "maxConcurrencyPerInstance",
      same(p.maxConcurrencyPerInstance, spec.maxConcurrencyPerInstance),
    ],
    ["errorThreshold", same(p.errorThreshold, spec.errorThreshold)],
    ["outputFileName", same(p.outputFileName, spec.outputFileName)],
    ["outputAction", sameText(p.outputAction, spec.outputAction)],
    ["loggingLevel", sameText(p.loggingLevel, spec.loggingLevel)],
  ];
  const problems = checks.filter(([, ok]) => !ok).map(([name]) => name);
  const retry = spec.retrySettings;
  if (retry?.maxRetries !== undefined && p.retrySettings?.maxRetries !== retry.maxRetries) {
    problems.push("retrySettings.maxRetries");
  }
  if (
    retry?.timeoutInSeconds !== undefined &&
    secondsOfIsoDuration(p.retrySettings?.timeout) !== retry.timeoutInSeconds
  ) {
    problems.push("retrySettings.timeoutInSeconds");
  }
  for (const [key, value] of Object.entries(spec.environmentVariables ?? {})) {
    if (p.environmentVariables?.[key] !== value) {
      problems.push(`environmentVariables.${key}`);
    }
  }
  return problems;
}

function outputsOf(
  inputs: BatchDeploymentInputs,
  session: DeploymentSession,
  live: BatchDeploymentResource,
): BatchDeploymentOutputs {
  return {
    ...inputs,
    deploymentId: live.id,
    endpointName: session.endpointName,
    location: live.location,
    provisioningState: live.properties.provisioningState ?? "Succeeded",
    createdAt: live.systemData?.createdAt ?? "",
  };
}

export async function create(
  news: BatchDeploymentInputs,
  config?: Config,
): Promise<pulumi.dynamic.CreateResult<BatchDeploymentOutputs>> {
  const inputs = withoutProvider(news);
  const session = openDeploymentSession(inputs, config);
  const what = `BatchDeployment ${inputs.name} of endpoint ${session.endpointName}`;
  const endpoint = await session.client.getOrUndefined<BatchEndpointResource>(
    batchEndpointPath(session.scope, session.endpointName),
    BATCH_OPERATION.endpointGet,
  );
  if (endpoint === undefined) {
    throw new Error(`${what}: the endpoint ${inputs.endpointId} does not exist.`);
  }
  const existing = await session.client.getOrUndefined<BatchDeploymentResource>(
    session.path,
    BATCH_OPERATION.deploymentGet,
  );
  if (existing !== undefined) {
    if (!isOwnedBy(existing, inputs.ownerKey)) {
      throw new Error(
        `${what} already exists, and this stack did not create it: choose another [name] (import is not supported).`,
      );
    }
    // An earlier up of this resource sent the create and ended before it could record it: the
    // PUT below finishes it (waiting first for an operation still running on it).
    await reportProgress(
      `${what}: created by this stack in an earlier \`up\` that did not finish (${existing.properties.provisioningState ?? "no state"}); taking it over.`,
    );
  }
  const spec = {
    ...deploymentSpec(inputs, session.scope, endpoint.location),
    properties: withOwner(inputs.properties, inputs.ownerKey),
  };
  const live = await createOrUndo<BatchDeploymentResource>(
    session.client,
    async () => {
      const operation = await beginLongRunning<BatchDeploymentResource>(session.client, {
        method: "PUT",
        path: session.path,
        body: batchDeploymentBody(spec),
        operation: BATCH_OPERATION.deploymentPut,
      });
      await reportProgress(`${what}: waiting for Azure ML (${BATCH_OPERATION.deploymentPut}).`);
      return operation;
    },
    { path: session.path, operation: BATCH_OPERATION.deploymentDelete, what },
  );
  await reportDeploymentState(what, live);
  return { id: live.id, outs: outputsOf(inputs, session, live) };
}

/** The `pulumi up` line saying what state a created or updated deployment is in and what it serves. */
async function reportDeploymentState(what: string, live: BatchDeploymentResource): Promise<void> {
  const model = live.properties.model?.assetId ?? "";
  const at = model.toLowerCase().lastIndexOf("/models/");
  await reportProgress(
    `${what}: ${live.properties.provisioningState ?? "provisioned"}` +
      (model === "" ? "." : `, serving ${at >= 0 ? model.slice(at + 1) : model}.`),
  );
}

export async function read(
  id: string,
  props: BatchDeploymentOutputs,
  config?: Config,
): Promise<pulumi.dynamic.ReadResult<BatchDeploymentOutputs>> {
  const current = withoutProvider(props);
  const session = openDeploymentSession(current, config);
  let live: BatchDeploymentResource | undefined;
  try {
    live = await session.client.getOrUndefined<BatchDeploymentResource>(
      session.path,
      BATCH_OPERATION.deploymentGet,
    );
  } catch (error) {
    // A deployment whose endpoint is gone is gone too.
    if (isAzureMlRestError(error) && error.statusCode === 404) {
      return {};
    }
    throw error;
  }
  if (live === undefined) {
    return {};
  }
  const refreshed = outputsOf(current, session, live);
  const description = live.properties.description;
  if (description === undefined || description === null) {
    delete refreshed.description;
  } else {
    refreshed.description = description;
  }
  if (live.tags && Object.keys(live.tags).length > 0) {
    refreshed.tags = live.tags;
  } else {
    delete refreshed.tags;
  }
  return { id, props: refreshed };
}

export async function update(
  _id: string,
  olds: BatchDeploymentOutputs,
  news: BatchDeploymentInputs,
  config?: Config,
): Promise<pulumi.dynamic.UpdateResult<BatchDeploymentOutputs>> {
  const inputs = withoutProvider(news);
  const session = openDeploymentSession(inputs, config);
  const what = `BatchDeployment ${inputs.name} of endpoint ${session.endpointName}`;
  const changes = classifyDeploymentChanges(olds, inputs);
  if (changes.replaces.length > 0) {
    throw new Error(
      `${what}: ${changes.replaces.join(", ")} cannot change on an existing deployment. Run \`pulumi up\` again to replace it.`,
    );
  }
  // The owner key create recorded stays as it is (a deployment made before there was one gets
  // this resource's).
  const ownerKey = olds.ownerKey ?? inputs.ownerKey;
  let live: BatchDeploymentResource;
  if (changes.put.length > 0) {
    const spec = {
      ...deploymentSpec(inputs, session.scope, olds.location),
      properties: withOwner(inputs.properties, ownerKey),
    };
    live = await runLro<BatchDeploymentResource>(
      session.client,
      {
        method: "PUT",
        path: session.path,
        body: batchDeploymentBody(spec),
        operation: BATCH_OPERATION.deploymentPut,
      },
      what,
    );
    const unapplied = unappliedFields(spec, live);
    if (unapplied.length > 0) {
      throw new Error(
        `${what}: Azure ML accepted the update but did not apply ${unapplied.join(", ")}. ` +
          "Give the deployment a new [name] to replace it instead.",
      );
    }
  } else {
    if (changes.patch.length > 0) {
      await runLro(
        session.client,
        {
          method: "PATCH",
          path: session.path,
          body: batchDeploymentPatchBody({ description: inputs.description, tags: inputs.tags }),
          operation: BATCH_OPERATION.deploymentPatch,
        },
        what,
      );
    }
    live = await session.client.get<BatchDeploymentResource>(
      session.path,
      BATCH_OPERATION.deploymentGet,
    );
  }
  await reportDeploymentState(what, live);
  return { outs: { ...outputsOf(inputs, session, live), ownerKey } };
}

async function remove(_id: string, props: BatchDeploymentOutputs, config?: Config): Promise<void> {
  const session = openDeploymentSession(props, config);
  try {
    await runLro(
      session.client,
      { method: "DELETE", path: session.path, operation: BATCH_OPERATION.deploymentDelete },
      `BatchDeployment ${props.name}`,
    );
  } catch (error) {
    // Deleting the endpoint deleted its deployments: already gone.
    if (isAzureMlRestError(error) && error.statusCode === 404) {
      return;
    }
    throw error;
  }
}

export { remove as delete };
