/**
 * What the three batch lifecycles share: name rules, long-running operations through the one LRO
 * engine (provider/core/lro.ts) with progress lines, and clean-up of a create that failed after
 * Azure accepted it (a create is transactional: nothing is left behind that state does not know).
 */
import type * as pulumi from "@pulumi/pulumi";
import type { AzureMlClient } from "../core/client";
import { isAzureMlRestError, isLroFailedError } from "../core/errors";
import { isValidComputeName, isValidEndpointName } from "../core/ids";
import { beginLongRunning } from "../core/lro";
import { sleep } from "../core/abort";
import { resolveSettings } from "../core/settings";
import { parseBatchEndpointId } from "../operations/batch";
import { reportProgress } from "./progress";
import { Failures, isFullyKnown, isKnown } from "./shared";

export type Config = pulumi.dynamic.Config | undefined;

/** The endpoint/deployment name rule, as a check failure message (or undefined when fine). */
export function endpointNameFailure(
  property: string,
  kind: string,
  name: unknown,
): string | undefined {
  if (typeof name !== "string") {
    return `[${property}] is required: the ${kind} name.`;
  }
  if (!isKnown(name) || isValidEndpointName(name)) {
    return undefined;
  }
  return (
    `[${property}] "${name}" is not a valid ${kind} name: 3 to 32 letters, digits and single ` +
    "dashes, starting with a letter and not ending with a dash."
  );
}

/** Checks provider settings (stack config and environment), as every check does. */
export function checkSettings(failures: Failures, config: Config): void {
  try {
    resolveSettings(config);
  } catch (error) {
    failures.add("providerConfig", (error as Error).message);
  }
}

/** Checks an endpoint ARM id input; returns the parsed id when known and valid. */
export function checkEndpointId(
  value: unknown,
  property: string,
  failures: Failures,
): ReturnType<typeof parseBatchEndpointId> | undefined {
  if (value === undefined) {
    failures.add(property, `[${property}] is required: a BatchEndpoint or its ARM id.`);
    return undefined;
  }
  if (!isKnown(value)) {
    return undefined;
  }
  try {
    return parseBatchEndpointId(String(value));
  } catch {
    failures.add(
      property,
      `[${property}] must be a BatchEndpoint or a batch endpoint ARM id ({workspace id}/batchEndpoints/<name>), got "${String(value)}".`,
    );
    return undefined;
  }
}

/** A compute given as a name or an ARM id. */
export function computeFailure(value: unknown): string | undefined {
  if (value === undefined) {
    return "[compute] is required: the name or ARM id of the compute cluster that runs the scoring jobs.";
  }
  if (!isKnown(value)) {
    return undefined;
  }
  if (typeof value !== "string") {
    return "[compute] must be a string.";
  }
  if (value.startsWith("/")) {
    return /\/computes\/[^/]+$/i.test(value)
      ? undefined
      : `[compute] "${value}" is not a compute ARM id ({workspace id}/computes/<name>).`;
  }
  return isValidComputeName(value)
    ? undefined
    : `[compute] "${value}" is not a valid compute name: 3 to 24 letters, digits or dashes, starting with a letter.`;
}

/** Integer check of a service-owned number (ranges are Azure ML's to judge). */
export function checkInteger(value: unknown, property: string, failures: Failures): void {
  if (value === undefined || !isKnown(value)) {
    return;
  }
  if (typeof value !== "number" || !Number.isInteger(value)) {
    failures.add(property, `[${property}] must be an integer, got ${JSON.stringify(value)}.`);
  }
}

/** One of `allowed` (case-insensitive); returns the canonical spelling. */
export function checkChoice<T extends string>(
  value: unknown,
  property: string,
  allowed: readonly T[],
  failures: Failures,
): T | undefined {
  if (value === undefined || !isKnown(value)) {
    return value as T | undefined;
  }
  const match = allowed.find((a) => a.toLowerCase() === String(value).toLowerCase());
  if (match === undefined) {
    failures.add(
      property,
      `[${property}] must be one of ${allowed.join(", ")}, got "${String(value)}".`,
    );
  }
  return match ?? (value as T);
}

/** The lower-cased value of an ARM id, for case-insensitive comparison; undefined when unknown. */
export function lowerKnown(value: unknown): string | undefined {
  return typeof value === "string" && isFullyKnown(value) ? value.toLowerCase() : undefined;
}

/**
 * Error codes of a long-running operation that failed on the service's side rather than on what
 * was asked (the ARM codes of a 500, 503, 429 and 408). Sending the same request again may succeed.
 */
export const TRANSIENT_LRO_ERROR_CODES: ReadonlySet<string> = new Set([
  "InternalServerError",
  "ServiceUnavailable",
  "TooManyRequests",
  "RequestTimeout",
  "GatewayTimeout",
]);

/** True for an operation that ended Failed with one of {@link TRANSIENT_LRO_ERROR_CODES}. */
export function isTransientLroFailure(error: unknown): boolean {
  return (
    isLroFailedError(error) &&
    error.status === "failed" &&
    TRANSIENT_LRO_ERROR_CODES.has(error.code)
  );
}

/** How many times a long-running operation is run when it keeps failing transiently. */
function lroAttempts(client: AzureMlClient): number {
  return Math.max(1, (client.settings?.maxRetries ?? 3) + 1);
}

/** A 409 from ARM, as thrown or as the cause of an error that explains it. */
function isConflict(error: unknown): boolean {
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  return (
    (isAzureMlRestError(error) && error.statusCode === 409) ||
    (isAzureMlRestError(cause) && cause.statusCode === 409)
  );
}

const SETTLED_STATES = ["Succeeded", "Failed", "Canceled"];

/**
 * Sends `begin` (the first request of a long-running operation on `path`); when Azure ML answers
 * 409 while the resource is in this workspace (an earlier operation on it was still running: say,
 * the one a dropped connection started without telling us), waits until its state is Succeeded,
 * Failed or Canceled and sends it again, up to `maxRetries` times. Returns "gone" when a DELETE
 * finds the resource gone. A 409 for a resource not in this workspace (a name taken elsewhere) is
 * thrown as it came.
 */
async function beginWhenIdle<T>(
  client: AzureMlClient,
  path: string,
  method: string,
  what: string,
  begin: () => Promise<T>,
): Promise<T | "gone"> {
  const attempts = lroAttempts(client);
  for (let attempt = 1; ; attempt++) {
    try {
      return await begin();
    } catch (error) {
      if (attempt >= attempts || !isConflict(error)) {
        throw error;
      }
      let live = await client.getOrUndefined<{ properties?: { provisioningState?: string } }>(
        path,
        `${what}: read`,
      );
      if (live === undefined) {
        // Not in this workspace: a DELETE has nothing left to do; a PUT's name is taken elsewhere.
        if (method === "DELETE") {
          return "gone";
        }
        throw error;
      }
      await reportProgress(
        `${what}: Azure ML is still running an earlier operation on it (${live.properties?.provisioningState}); waiting for it to end.`,
      );
      const deadline = Date.now() + (client.settings?.lroTimeoutInMs ?? 3_600_000);
      while (
        live !== undefined &&
        !SETTLED_STATES.includes(live.properties?.provisioningState ?? "") &&
        Date.now() < deadline
      ) {
        await sleep(client.settings?.pollIntervalInMs ?? 2000);
        live = await client.getOrUndefined(path, `${what}: read`);
      }
      if (live === undefined && method === "DELETE") {
        return "gone";
      }
    }
  }
}

/**
 * Runs a long-running operation to its end, saying what happens in the `pulumi up` output. Each
 * of these requests (an update by PUT or PATCH, a DELETE) has the same effect when sent twice, so
 * an operation that ends Failed with a transient error is run again, up to `maxRetries` times.
 */
export async function runLro<T>(
  client: AzureMlClient,
  request: { method: "PUT" | "PATCH" | "DELETE"; path: string; body?: unknown; operation: string },
  what: string,
): Promise<T> {
  const attempts = lroAttempts(client);
  for (let attempt = 1; ; attempt++) {
    try {
      const operation = await beginWhenIdle(client, request.path, request.method, what, () =>
        beginLongRunning<T>(client, {
          ...request,
          // A PATCH of tags/description is idempotent, so it may be retried like a PUT.
          retryNonIdempotent: request.method === "PATCH",
        }),
      );
      if (operation === "gone") {
        return undefined as T;
      }
      if (operation.mode !== undefined) {
        await reportProgress(`${what}: waiting for Azure ML (${request.operation}).`);
      }
      return await operation.pollUntilDone();
    } catch (error) {
      if (attempt >= attempts || !isTransientLroFailure(error)) {
        throw error;
      }
      await reportProgress(
        `${what}: Azure ML's operation failed (${(error as Error).message}); sending it again.`,
      );
    }
  }
}

/**
 * Creates a resource as one transaction: `begin` sends the create and waits for its operation.
 * When the operation fails, what it left behind is deleted again; when it failed transiently
 * ({@link isTransientLroFailure}), the create is then sent again, up to `maxRetries` times. What
 * finally fails names the create's error and what happened to the resource.
 */
export async function createOrUndo<T>(
  client: AzureMlClient,
  begin: () => Promise<{ pollUntilDone(): Promise<T> }>,
  undo: { path: string; operation: string; what: string },
): Promise<T> {
  const attempts = lroAttempts(client);
  for (let attempt = 1; ; attempt++) {
    const operation = await beginWhenIdle(client, undo.path, "PUT", undo.what, begin);
    if (operation === "gone") {
      throw new Error(`${undo.what}: the resource vanished while it was being created.`);
    }
    try {
      return await operation.pollUntilDone();
    } catch (error) {
      if (attempt >= attempts || !isTransientLroFailure(error)) {
        return undoFailedCreate(client, undo.path, undo.operation, undo.what, error);
      }
      try {
        await runLro(
          client,
          { method: "DELETE", path: undo.path, operation: undo.operation },
          `${undo.what}: removing the failed create`,
        );
      } catch (cleanup) {
        throw new Error(
          `${undo.what} could not be created: ${(error as Error).message} (deleting it again failed too ` +
            `(${(cleanup as Error).message}); delete ${undo.path} by hand).`,
          { cause: error },
        );
      }
      await reportProgress(
        `${undo.what}: the create failed on Azure ML's side (${(error as Error).message}); deleted it, creating it again.`,
      );
    }
  }
}

/**
 * Deletes what a failed create left behind (best effort), then rethrows the create's error with
 * what happened to the resource.
 */
export async function undoFailedCreate(
  client: AzureMlClient,
  path: string,
  operation: string,
  what: string,
  error: unknown,
): Promise<never> {
  let outcome: string;
  try {
    await runLro(
      client,
      { method: "DELETE", path, operation },
      `${what}: removing the failed create`,
    );
    outcome = "it was deleted again, so nothing is left behind";
  } catch (cleanup) {
    outcome = `deleting it again failed too (${(cleanup as Error).message}); delete ${path} by hand`;
  }
  throw new Error(`${what} could not be created: ${(error as Error).message} (${outcome}).`, {
    cause: error,
  });
}

/**
 * The `properties` key under which `create` records a batch endpoint's or deployment's owner key
 * (see `ownerKeyFor` in resources/ownerKey.ts). Azure ML only adds endpoint properties, never
 * removes them, so every later PUT re-sends it.
 */
export const OWNER_PROPERTY = "PulumiAzureMlOwner";

/** Check: a program's own [properties] may not use {@link OWNER_PROPERTY}. */
export function checkOwnerProperty(
  properties: Record<string, string> | undefined,
  failures: Failures,
): void {
  if (properties !== undefined && isKnown(properties) && OWNER_PROPERTY in properties) {
    failures.add(
      `properties.${OWNER_PROPERTY}`,
      `[properties.${OWNER_PROPERTY}] is reserved: it marks the resources this package created.`,
    );
  }
}

/**
 * Whether `live` (an endpoint or deployment found where a create is about to go) was created by
 * this resource, in an earlier `up` that ended before it could record it.
 */
export function isOwnedBy(
  live: { properties?: { properties?: Record<string, string> | null } },
  ownerKey: string | undefined,
): boolean {
  return ownerKey !== undefined && live.properties?.properties?.[OWNER_PROPERTY] === ownerKey;
}

/** The properties a create sends: the program's, and the owner key. */
export function withOwner(
  properties: Record<string, string> | undefined,
  ownerKey: string | undefined,
): Record<string, string> | undefined {
  return ownerKey === undefined ? properties : { ...properties, [OWNER_PROPERTY]: ownerKey };
}

/** True for a 404 from ARM. */
export function isNotFound(error: unknown): boolean {
  return isAzureMlRestError(error) && error.statusCode === 404;
}
