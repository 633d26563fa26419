// Shared helpers for the transport tests: a client on the shared emulator with small delays, and
// request counting through the emulator's log (by client request id or by path).
import type { RequestRecord } from "../../emulator/index";
import {
  createAzureMlClient,
  type AzureMlClient,
  type AzureMlClientOptions,
} from "../../provider/core/client";
import type { WorkspaceScope } from "../../provider/core/ids";
import type { RetryEvent } from "../../provider/core/pipeline";
import { resolveSettings, type AzureMlSettings } from "../../provider/core/settings";
import { getEmulator } from "../support/emulator";

/** Settings for the shared emulator with test-sized delays (never the 800 ms / 2 s defaults). */
export function transportSettings(overrides: Partial<AzureMlSettings> = {}): AzureMlSettings {
  const { info } = getEmulator();
  return {
    ...resolveSettings(undefined, {}),
    armEndpoint: info.armEndpoint,
    subscriptionId: info.subscriptionId,
    caCertPath: info.caCertPath,
    requestTimeoutInMs: 10_000,
    maxRetries: 3,
    retryDelayInMs: 10,
    maxRetryDelayInMs: 2_000,
    pollIntervalInMs: 10,
    lroTimeoutInMs: 20_000,
    ...overrides,
  };
}

/** A client plus the retries it made. */
export function newClient(
  overrides: Partial<AzureMlSettings> = {},
  options: Omit<AzureMlClientOptions, "settings"> = {},
): { client: AzureMlClient; retries: RetryEvent[] } {
  const retries: RetryEvent[] = [];
  const client = createAzureMlClient({
    settings: transportSettings(overrides),
    ...options,
    onRetry: (event) => {
      retries.push(event);
      options.onRetry?.(event);
    },
  });
  return { client, retries };
}

/** The shared emulator's workspace. */
export function workspaceScope(): WorkspaceScope {
  const { info } = getEmulator();
  return {
    subscriptionId: info.subscriptionId,
    resourceGroupName: info.resourceGroupName,
    workspaceName: info.workspaceName,
  };
}

/** Every request the emulator saw with this client request id, in order. */
export function attemptsOf(clientRequestId: string | undefined): RequestRecord[] {
  if (!clientRequestId) {
    throw new Error("The call carried no client request id.");
  }
  return getEmulator()
    .requests.all()
    .filter((r) => r.clientRequestId === clientRequestId);
}

/** ARM requests since `mark` whose path contains `fragment`. */
export function requestsSince(mark: number, fragment: string): RequestRecord[] {
  return getEmulator()
    .requests.since(mark)
    .filter((r) => r.plane === "arm" && r.path.toLowerCase().includes(fragment.toLowerCase()));
}

/**
 * Waits until `condition` holds. Used only where the emulator logs a request after the client has
 * moved on (a delayed response that the client already timed out).
 */
export async function eventually(condition: () => boolean, timeoutInMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutInMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error("The condition did not become true in time.");
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Awaits a promise that must reject, and returns its error. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("Expected the call to fail, but it succeeded.");
}

/** A valid environment version body. */
export function environmentBody(description = "transport test"): unknown {
  return {
    properties: {
      description,
      image: "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest",
    },
  };
}
