/**
 * Long-running operations (ARM async pattern). An operation is bound to a resource and an
 * outcome; it advances on each observation (a poll of its `Azure-AsyncOperation` status URL,
 * of its `Location` URL, or a GET of the resource) per the configured progression, and when it
 * reaches a terminal state it applies its effect to the resource (set provisioningState, or
 * remove it). Operations are plain JSON in the store, so they survive persistence.
 */
import { randomUUID } from "node:crypto";
import type { FaultController } from "./faults";
import type { Store } from "./state/store";
import {
  TRANSITIONS,
  advance,
  initialState,
  isTerminal,
  type ManagedState,
  type Progression,
} from "./state/transitions";
import { ML_PROVIDER } from "./state/ids";

export const OPERATIONS_COLLECTION = "operations";

export type OperationStatus = "InProgress" | "Succeeded" | "Failed" | "Canceled";

export interface OperationError {
  code: string;
  message: string;
}

/** What happens to the bound resource when the operation ends. */
export type OperationEffect =
  | { type: "none" }
  /** Sets `resource.properties.provisioningState` on the stored record to the final status. */
  | { type: "provisioningState"; collection: string; key: string }
  /**
   * Removes the stored record on success (and every record of `cascade`, e.g. an endpoint's
   * deployments); marks it Failed otherwise.
   */
  | {
      type: "delete";
      collection: string;
      key: string;
      cascade?: { collection: string; keyPrefix: string }[];
    };

/** What the `Location` URL answers once the operation succeeded. */
export type OperationResult =
  | { statusCode: number; body?: unknown }
  /** 200 with the bound resource as it is at that moment. */
  | { statusCode: number; bodyFromResource: { collection: string; key: string } };

export interface OperationRecord {
  /** The operation id (a GUID) used in both URLs. */
  id: string;
  status: OperationStatus;
  table: "operationSucceeded" | "operationFailed" | "operationCanceled";
  managed: ManagedState;
  /** Overrides the control plane's progression (scenario routes). */
  progression?: Progression;
  error?: OperationError;
  /** Location answer when the operation failed or was canceled. */
  failureStatusCode: number;
  result: OperationResult;
  effect: OperationEffect;
  /** The resource whose GETs also advance this operation. */
  resource?: { collection: string; key: string };
  apiVersion: string;
  startTime: string;
  endTime?: string;
  /** Scenario "nostatus": the status body carries no `status` field. */
  omitStatus?: boolean;
  /** Ended by `complete()` when the real work ends (a job cancel), not by observations. */
  external?: boolean;
  /** Emulator sequence, for ordering. */
  createdAtMs: number;
}

export interface StartOperationOptions {
  /** The request that starts the operation: matched against pending "lroFail" faults. */
  request: { method: string; path: string };
  apiVersion: string;
  effect?: OperationEffect;
  result: OperationResult;
  resource?: { collection: string; key: string };
  /** The outcome when no fault intervenes. @default "Succeeded" */
  outcome?: OperationStatus;
  error?: OperationError;
  failureStatusCode?: number;
  progression?: Progression;
  omitStatus?: boolean;
  /** Observations do not advance it; `complete()` ends it (work that really runs, e.g. a job cancel). */
  external?: boolean;
}

export interface OperationsOptions {
  store: Store;
  faults: FaultController;
  publicUrl: string;
  subscriptionId: string;
  location: string;
  /** Read on every advance so that a change of options applies at once. */
  progression: () => Progression;
  retryAfterInSeconds: number;
  now?: () => number;
}

export interface OperationManager {
  start(options: StartOperationOptions): OperationRecord;
  /** The operation without advancing it. */
  get(id: string): OperationRecord | undefined;
  /** Records one observation of the operation (a poll) and returns its new state. */
  observe(id: string): OperationRecord | undefined;
  /** Records one observation of every in-progress operation bound to this resource (a GET of it). */
  observeResource(collection: string, key: string): void;
  /** Ends an `external` operation (no-op when it already ended or does not exist). */
  complete(
    id: string,
    status: Exclude<OperationStatus, "InProgress">,
    error?: OperationError,
  ): void;
  /** The in-progress operation bound to the resource, if any. */
  pendingFor(collection: string, key: string): OperationRecord | undefined;
  /** Absolute `Azure-AsyncOperation` URL. */
  statusUrl(op: OperationRecord): string;
  /** Absolute `Location` URL. */
  resultUrl(op: OperationRecord): string;
  /** The Azure-AsyncOperation status resource body. */
  statusBody(op: OperationRecord): Record<string, unknown>;
  /** Headers for an LRO response: any of Azure-AsyncOperation and Location, plus Retry-After. */
  headers(
    op: OperationRecord,
    which: { asyncOperation?: boolean; location?: boolean },
  ): Record<string, string>;
  readonly retryAfterInSeconds: number;
}

const DEFAULT_LRO_ERROR: OperationError = {
  code: "InternalServerError",
  message: "The long-running operation failed.",
};

export function createOperationManager(options: OperationsOptions): OperationManager {
  const { store } = options;
  const now = options.now ?? Date.now;
  const basePath = `/subscriptions/${options.subscriptionId}/providers/${ML_PROVIDER}/locations/${options.location}`;
  const publicUrl = options.publicUrl.replace(/\/+$/, "");

  const save = (op: OperationRecord) => store.put(OPERATIONS_COLLECTION, op.id, op);

  const applyEffect = (op: OperationRecord) => {
    const { effect } = op;
    if (effect.type === "none") {
      return;
    }
    const record = store.get<{ resource: { properties?: Record<string, unknown> } }>(
      effect.collection,
      effect.key,
    );
    if (record === undefined) {
      return;
    }
    if (effect.type === "delete" && op.status === "Succeeded") {
      store.delete(effect.collection, effect.key);
      for (const { collection, keyPrefix } of effect.cascade ?? []) {
        for (const { key } of store.list(collection, keyPrefix)) {
          store.delete(collection, key);
        }
      }
      return;
    }
    record.resource.properties = {
      ...(record.resource.properties ?? {}),
      provisioningState: op.status,
    };
    store.put(effect.collection, effect.key, record);
  };

  const step = (op: OperationRecord): OperationRecord => {
    if (op.status !== "InProgress" || op.external === true) {
      return op;
    }
    const table = TRANSITIONS[op.table];
    const managed = advance(op.managed, table, op.progression ?? options.progression(), now());
    const next: OperationRecord = { ...op, managed, status: managed.state as OperationStatus };
    if (isTerminal(table, managed.state)) {
      next.endTime = new Date(now()).toISOString();
      if (next.status !== "Succeeded") {
        next.error ??= DEFAULT_LRO_ERROR;
      }
      save(next);
      applyEffect(next);
    } else {
      save(next);
    }
    return next;
  };

  const manager: OperationManager = {
    retryAfterInSeconds: options.retryAfterInSeconds,
    start(start) {
      const fault = options.faults.takeLroFailure({ ...start.request, plane: "arm" });
      const outcome: OperationStatus =
        fault !== undefined ? "Failed" : (start.outcome ?? "Succeeded");
      const table =
        outcome === "Failed"
          ? "operationFailed"
          : outcome === "Canceled"
            ? "operationCanceled"
            : "operationSucceeded";
      const error = fault !== undefined ? (fault.error ?? DEFAULT_LRO_ERROR) : start.error;
      const createdAtMs = now();
      const op: OperationRecord = {
        id: randomUUID(),
        status: "InProgress",
        table,
        managed: initialState(TRANSITIONS[table], createdAtMs),
        progression: start.progression,
        error: outcome === "Succeeded" ? undefined : error,
        failureStatusCode: start.failureStatusCode ?? failureStatusFor(error),
        result: start.result,
        effect: start.effect ?? { type: "none" },
        resource: start.resource,
        apiVersion: start.apiVersion,
        startTime: new Date(createdAtMs).toISOString(),
        omitStatus: start.omitStatus,
        external: start.external,
        createdAtMs,
      };
      save(op);
      return op;
    },
    complete(id, status, error) {
      const op = manager.get(id);
      if (op === undefined || op.status !== "InProgress") {
        return;
      }
      // An injected lroFail fault decided the outcome at start.
      const final: OperationStatus =
        status === "Succeeded" && op.table === "operationFailed" ? "Failed" : status;
      const next: OperationRecord = {
        ...op,
        status: final,
        managed: { state: final, observations: 0, enteredAtMs: now() },
        endTime: new Date(now()).toISOString(),
        error: final === "Succeeded" ? undefined : (error ?? op.error ?? DEFAULT_LRO_ERROR),
      };
      if (final !== "Succeeded") {
        next.failureStatusCode = failureStatusFor(next.error);
      }
      save(next);
      applyEffect(next);
    },
    get: (id) => store.get<OperationRecord>(OPERATIONS_COLLECTION, id),
    observe(id) {
      const op = manager.get(id);
      return op === undefined ? undefined : step(op);
    },
    observeResource(collection, key) {
      for (const { value } of store.list<OperationRecord>(OPERATIONS_COLLECTION)) {
        if (
          value.status === "InProgress" &&
          value.resource?.collection === collection &&
          value.resource.key === key
        ) {
          step(value);
        }
      }
    },
    pendingFor(collection, key) {
      return store
        .list<OperationRecord>(OPERATIONS_COLLECTION)
        .map((e) => e.value)
        .find(
          (op) =>
            op.status === "InProgress" &&
            op.resource?.collection === collection &&
            op.resource.key === key,
        );
    },
    statusUrl: (op) =>
      `${publicUrl}${basePath}/mfeOperationsStatus/${op.id}?api-version=${encodeURIComponent(op.apiVersion)}`,
    resultUrl: (op) =>
      `${publicUrl}${basePath}/mfeOperationResults/${op.id}?api-version=${encodeURIComponent(op.apiVersion)}`,
    statusBody(op) {
      const body: Record<string, unknown> = {
        id: `${basePath}/mfeOperationsStatus/${op.id}`,
        name: op.id,
      };
      if (op.omitStatus !== true) {
        body.status = op.status;
      }
      body.startTime = op.startTime;
      if (op.endTime !== undefined) {
        body.endTime = op.endTime;
        body.percentComplete = 100;
      }
      if (op.status === "Failed" || op.status === "Canceled") {
        body.error = op.error ?? DEFAULT_LRO_ERROR;
      }
      return body;
    },
    headers(op, which) {
      const headers: Record<string, string> = {
        "Retry-After": String(options.retryAfterInSeconds),
      };
      if (which.asyncOperation === true) {
        headers["Azure-AsyncOperation"] = manager.statusUrl(op);
      }
      if (which.location === true) {
        headers.Location = manager.resultUrl(op);
      }
      return headers;
    },
  };
  return manager;
}

/** A failed operation's Location answer: 500 for server-side codes, else 400. */
export function failureStatusFor(error: OperationError | undefined): number {
  return error !== undefined && /internal|servererror|unavailable/i.test(error.code) ? 500 : 400;
}
