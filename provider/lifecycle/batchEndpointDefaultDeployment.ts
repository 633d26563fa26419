/**
 * BatchEndpointDefaultDeployment lifecycle: sets an endpoint's `defaults.deploymentName` by
 * re-applying the live endpoint with only that field changed (a PUT, long-running). Loaded by the
 * provider host through `await import("pulumi-azureml/provider/lifecycle/batchEndpointDefaultDeployment")`.
 *
 * - endpoint: a change replaces this resource (the new endpoint gets its default at create).
 * - deployment name, or a new `incarnation` of the same deployment (it was replaced; the creation
 *   time for state written before deployments had one): an update.
 * - delete: nothing is sent; the endpoint keeps its default (Azure ML has an endpoint keep a
 *   default while it has deployments, and deleting the deployment clears it).
 */
import type * as pulumi from "@pulumi/pulumi";
import { createAzureMlClient } from "../core/client";
import { resolveSettings } from "../core/settings";
import {
  BATCH_OPERATION,
  batchDeploymentPath,
  batchEndpointPath,
  endpointBodyWithDefault,
  parseBatchEndpointId,
  type BatchDeploymentResource,
  type BatchEndpointResource,
} from "../operations/batch";
import type {
  BatchEndpointDefaultDeploymentInputs,
  BatchEndpointDefaultDeploymentOutputs,
} from "../resources/batchEndpointDefaultDeployment";
import {
  checkEndpointId,
  checkSettings,
  endpointNameFailure,
  lowerKnown,
  runLro,
  type Config,
} from "./batchCommon";
import { reportProgress } from "./progress";
import { Failures, fieldChanged, isKnown, withoutProvider } from "./shared";

type Inputs = BatchEndpointDefaultDeploymentInputs;
type Outputs = BatchEndpointDefaultDeploymentOutputs;

export async function check(
  _olds: Inputs,
  news: Inputs,
  config?: Config,
): Promise<pulumi.dynamic.CheckResult<Inputs>> {
  const failures = new Failures();
  const inputs = withoutProvider(news);
  checkSettings(failures, config);
  checkEndpointId(inputs.endpointId, "endpoint", failures);
  const nameFailure = endpointNameFailure("deployment", "batch deployment", inputs.deploymentName);
  if (nameFailure) {
    failures.add("deployment", nameFailure);
  }
  return { inputs, failures: failures.list };
}

/** Classifies the changed inputs (pure). */
export function classifyDefaultChanges(
  olds: Outputs,
  news: Inputs,
): { replaces: string[]; updates: string[] } {
  const o = olds as unknown as Record<string, unknown>;
  const n = news as unknown as Record<string, unknown>;
  const oldEndpoint = lowerKnown(olds.endpointId);
  const newEndpoint = lowerKnown(news.endpointId);
  // Another casing of the same endpoint id is the same endpoint.
  const sameEndpoint = oldEndpoint !== undefined && oldEndpoint === newEndpoint;
  const replaces = fieldChanged(o, n, "endpointId") && !sameEndpoint ? ["endpointId"] : [];
  // A replaced deployment is told by its incarnation, known in a preview; by its creation time
  // (unknown in the preview of any update of the deployment) only for state written before
  // deployments had one.
  const replacedBy =
    olds.deploymentIncarnation !== undefined && news.deploymentIncarnation !== undefined
      ? "deploymentIncarnation"
      : "deploymentCreatedAt";
  const updates = ["deploymentName", replacedBy, "providerVersion"].filter((k) =>
    fieldChanged(o, n, k),
  );
  return { replaces, updates };
}

export async function diff(
  _id: string,
  olds: Outputs,
  news: Inputs,
): Promise<pulumi.dynamic.DiffResult> {
  const { replaces, updates } = classifyDefaultChanges(olds, news);
  const endpoint = olds.endpointName;
  const next = isKnown(news.deploymentName)
    ? `"${news.deploymentName}"`
    : "a deployment known after the update";
  if (replaces.length > 0) {
    await reportProgress(`The default deployment of the new endpoint will be ${next}.`);
    return { changes: true, replaces };
  }
  if (updates.includes("deploymentName")) {
    await reportProgress(
      `BatchEndpoint ${endpoint}: the default deployment becomes ${next} (was "${olds.deploymentName}").`,
    );
  } else if (updates.includes("deploymentIncarnation") || updates.includes("deploymentCreatedAt")) {
    await reportProgress(
      `BatchEndpoint ${endpoint}: deployment "${olds.deploymentName}" is created again and made the default again.`,
    );
  }
  return { changes: updates.length > 0, replaces: [] };
}

function session(inputs: Inputs, config: Config) {
  const settings = resolveSettings(config);
  const { scope, name } = parseBatchEndpointId(inputs.endpointId);
  return {
    client: createAzureMlClient({ settings }),
    scope,
    endpointName: name,
    path: batchEndpointPath(scope, name),
  };
}

/** Makes `deploymentName` the endpoint's default; returns the default it replaced. */
async function setDefault(inputs: Inputs, config: Config): Promise<Outputs> {
  const s = session(inputs, config);
  const what = `BatchEndpoint ${s.endpointName}`;
  const live = await s.client.getOrUndefined<BatchEndpointResource>(
    s.path,
    BATCH_OPERATION.endpointGet,
  );
  if (live === undefined) {
    throw new Error(`${what} does not exist, so it cannot get a default deployment.`);
  }
  const deployment = await s.client.getOrUndefined<BatchDeploymentResource>(
    batchDeploymentPath(s.scope, s.endpointName, inputs.deploymentName),
    BATCH_OPERATION.deploymentGet,
  );
  if (deployment === undefined) {
    throw new Error(
      `${what} has no deployment "${inputs.deploymentName}" to make its default; create the BatchDeployment first (give the resource as [deployment]).`,
    );
  }
  const previous = live.properties.defaults?.deploymentName ?? undefined;
  if (previous !== inputs.deploymentName) {
    const updated = await runLro<BatchEndpointResource>(
      s.client,
      {
        method: "PUT",
        path: s.path,
        body: endpointBodyWithDefault(live, inputs.deploymentName),
        operation: BATCH_OPERATION.endpointPut,
      },
      `${what}: making "${inputs.deploymentName}" the default deployment`,
    );
    const now = updated.properties.defaults?.deploymentName;
    if (now !== inputs.deploymentName) {
      throw new Error(
        `${what}: Azure ML accepted the new default deployment "${inputs.deploymentName}" but reports "${String(now)}".`,
      );
    }
  }
  return {
    ...inputs,
    endpointName: s.endpointName,
    ...(previous !== undefined && previous !== null ? { previousDeploymentName: previous } : {}),
  };
}

export async function create(
  news: Inputs,
  config?: Config,
): Promise<pulumi.dynamic.CreateResult<Outputs>> {
  const inputs = withoutProvider(news);
  const outs = await setDefault(inputs, config);
  return { id: `${parseEndpointPath(inputs)}/defaults`, outs };
}

function parseEndpointPath(inputs: Inputs): string {
  const { scope, name } = parseBatchEndpointId(inputs.endpointId);
  return batchEndpointPath(scope, name);
}

export async function update(
  _id: string,
  _olds: Outputs,
  news: Inputs,
  config?: Config,
): Promise<pulumi.dynamic.UpdateResult<Outputs>> {
  return { outs: await setDefault(withoutProvider(news), config) };
}

export async function read(
  id: string,
  props: Outputs,
  config?: Config,
): Promise<pulumi.dynamic.ReadResult<Outputs>> {
  const current = withoutProvider(props);
  const s = session(current, config);
  const live = await s.client.getOrUndefined<BatchEndpointResource>(
    s.path,
    BATCH_OPERATION.endpointGet,
  );
  const name = live?.properties.defaults?.deploymentName;
  if (live === undefined || typeof name !== "string" || name === "") {
    return {};
  }
  // A default changed outside this stack shows as drift on refresh.
  return { id, props: { ...current, deploymentName: name } };
}

async function remove(): Promise<void> {
  // The endpoint keeps its default: see the module comment.
}

export { remove as delete };
