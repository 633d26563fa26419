/**
 * The emulator's ARM control plane: a factory with an injected store and an ordered middleware
 * list (Azurite's request-listener shape). Mount `handle` in any node:http(s) server.
 *
 * Middleware order: context → route dispatch → auth → api-version check → fault injection →
 * scope (subscription / resource group / workspace) → body validation → handler, with the error
 * serializer wrapped around all of them.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { registerBatchHandlers } from "./batch/controlPlane";
import { registerBatchDataPlane } from "./batch/dataPlane";
import { createBatchScoringController, withBatchScoring } from "./batch/scoring";
import { ErrorFactory } from "./errors";
import { createFaultController, type FaultController } from "./faults";
import { registerAdminHandlers } from "./handlers/admin";
import { registerAssetHandlers } from "./handlers/assets";
import { registerComputeHandlers } from "./handlers/computes";
import { registerDatastoreHandlers } from "./handlers/datastores";
import { registerOperationHandlers } from "./handlers/operations";
import { registerMetadataHandlers } from "./handlers/metadata";
import { registerStorageAccountHandlers } from "./handlers/storageAccounts";
import { registerUploadHandlers } from "./handlers/uploads";
import { registerWorkspaceHandlers } from "./handlers/workspace";
import { registerJobHandlers } from "./jobs/handlers";
import { createJobRunner } from "./jobs/runner";
import type { JobsOptions } from "./jobs/types";
import { createJobsRunner } from "./sweep";
import { registerScenarioHandlers } from "./lroScenarios";
import { createApiVersionMiddleware } from "./middleware/apiVersion";
import { createAuthMiddleware } from "./middleware/auth";
import { contextMiddleware, createRequestContext, requestPlaneOf } from "./middleware/context";
import { createDispatchMiddleware } from "./middleware/dispatch";
import { errorSerializerMiddleware } from "./middleware/errors";
import { createFaultMiddleware } from "./middleware/faults";
import { createHandlerMiddleware } from "./middleware/handler";
import {
  composeMiddlewares,
  writeResponse,
  type Middleware,
  type RequestContext,
} from "./middleware/pipeline";
import { createScopeMiddleware } from "./middleware/scope";
import { createValidationMiddleware } from "./middleware/validation";
import { createOperationManager } from "./operations";
import { createRequestLog, type RequestLog } from "./requestLog";
import {
  createRouter,
  specRoutes,
  type ControlPlaneServices,
  type ControlPlaneSettings,
  type Router,
} from "./router";
import { loadSpec } from "./spec/load";
import { attachFilePersistence, type FilePersistence } from "./state/persistence";
import { COLLECTIONS, seedContainers, seedRecords } from "./state/seed";
import { createMemoryStore, type Store } from "./state/store";
import { DEFAULT_PROGRESSION, validateProgression, type Progression } from "./state/transitions";
import { NAME_RULES } from "./validate";

export type { Progression } from "./state/transitions";
export type { Store, StoreSnapshot } from "./state/store";
export type { FaultController, FaultRule, FaultKind } from "./faults";
export type { RequestLog, RequestRecord } from "./requestLog";
export type { JobsOptions } from "./jobs/types";

export interface ControlPlaneOptions {
  /** Base for absolute Azure-AsyncOperation / Location / nextLink URLs, e.g. "https://127.0.0.1:43123". */
  publicUrl: string;
  /** The emulated subscription, e.g. "00000000-0000-0000-0000-000000000000". */
  subscriptionId: string;
  resourceGroupName: string;
  workspaceName: string;
  location: string;
  /** Bearer tokens accepted for ARM (audience management.azure.com) and the Azure ML data plane (ml.azure.com). */
  tokens: { arm: string; ml: string };
  /** The workspace's storage account, served by Azurite behind the blob front door. */
  storage: {
    accountName: string;
    accountKey: string;
    /** Public blob endpoint including the account path, e.g. "https://127.0.0.1:43124/devstoreaccount1/". */
    blobEndpoint: string;
    /** Creates the container if missing. */
    createContainer(name: string): Promise<void>;
  };
  /** @default in-memory */
  store?: Store;
  /** When set, state persists as JSON under it (loaded at start, saved after each change). */
  dataDir?: string;
  /** How provisioning states advance. @default { mode: "polls", polls: 1 } */
  progression?: Progression;
  /** Retry-After on LRO responses. Azure sends 10..600; the emulator is faster. @default 1 */
  retryAfterInSeconds?: number;
  /**
   * Reject unknown api-versions, query parameters and body properties. When false, any
   * api-version is answered, unknown query parameters are ignored and unknown body properties
   * are dropped. @default true
   */
  strict?: boolean;
  /** How jobs run: the environment builder, MLflow tracking, where job folders live. */
  jobs?: JobsOptions;
}

export interface ControlPlane {
  /** Serves one request; never throws. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  faults: FaultController;
  requests: RequestLog;
  /** Drops all state except the seeded workspace/datastores/compute; clears faults and the log. */
  reset(): void;
  /** Cancels pending latency faults and flushes persistence; rejects when that last write fails. */
  close(): Promise<void>;
  /** Resolves once the seeded datastore containers exist in storage. */
  ready(): Promise<void>;
  /** The route table, to attach handlers for operations implemented elsewhere (by operationId). */
  readonly router: Router;
  readonly store: Store;
}

export function createControlPlane(options: ControlPlaneOptions): ControlPlane {
  const settings = resolveSettings(options);
  const store = options.store ?? createMemoryStore();
  const persistence: FilePersistence | undefined =
    options.dataDir === undefined ? undefined : attachFilePersistence(store, options.dataDir);
  const faults = createFaultController();
  const requests = createRequestLog();
  const now = () => Date.now();
  const operations = createOperationManager({
    store,
    faults,
    publicUrl: settings.publicUrl,
    subscriptionId: settings.scope.subscriptionId,
    location: settings.location,
    progression: () => settings.progression,
    retryAfterInSeconds: settings.retryAfterInSeconds,
    now,
  });

  const commands = createJobRunner({
    store,
    settings,
    operations,
    jobs: options.jobs,
    dataDir: options.dataDir,
    now,
  });
  const runner = withBatchScoring(
    createJobsRunner({
      store,
      settings,
      operations,
      commands,
      sweeps: options.jobs?.sweeps,
      tracking: options.jobs?.tracking,
      nextSequence: () => services.nextSequence(),
      log: options.jobs?.log,
    }),
    createBatchScoringController({ store, settings, operations, commands, log: options.jobs?.log }),
  );

  const seed = () => {
    for (const record of seedRecords(settings)) {
      store.put(record.collection, record.key, record.value);
    }
  };
  seed();

  let storageReady: Promise<void> | undefined;
  const ready = (): Promise<void> => {
    storageReady ??= Promise.all(
      seedContainers(settings.scope).map((c) => settings.storage.createContainer(c)),
    ).then(
      () => undefined,
      (e: unknown) => {
        storageReady = undefined; // retry on the next request
        throw ErrorFactory.storageUnavailable((e as Error)?.message ?? String(e));
      },
    );
    return storageReady;
  };
  // Start creating the containers now; a failure is reported to the first request that needs them.
  ready().catch(() => undefined);

  const services: ControlPlaneServices = {
    settings,
    store,
    operations,
    faults,
    requests,
    now,
    nextSequence() {
      const next = (store.get<number>(COLLECTIONS.meta, "sequence") ?? 0) + 1;
      store.put(COLLECTIONS.meta, "sequence", next);
      return next;
    },
    reset() {
      // Running jobs are killed; their records go with everything else.
      runner.reset().catch(() => undefined);
      store.clear();
      seed();
      faults.clear();
      requests.clear();
    },
    ready,
  };

  const router = createRouter(
    specRoutes(loadSpec(), { pattern: NAME_RULES.compute, description: NAME_RULES.compute.source }),
  );
  registerWorkspaceHandlers(router);
  registerStorageAccountHandlers(router);
  registerDatastoreHandlers(router);
  registerComputeHandlers(router);
  registerAssetHandlers(router);
  registerJobHandlers(router, runner);
  registerUploadHandlers(router);
  registerBatchHandlers(router);
  registerBatchDataPlane(router, runner);
  registerOperationHandlers(router);
  registerScenarioHandlers(router);
  registerAdminHandlers(router);
  registerMetadataHandlers(router);

  const middlewares: Middleware[] = [
    errorSerializerMiddleware,
    contextMiddleware,
    createDispatchMiddleware(router),
    createAuthMiddleware(
      () => settings.tokens.arm,
      now,
      () => settings.tokens.ml,
    ),
    createApiVersionMiddleware({ strict: () => settings.strict, location: settings.location }),
    createFaultMiddleware(faults),
    createScopeMiddleware(settings.scope),
    createValidationMiddleware({ strict: () => settings.strict }),
    createHandlerMiddleware(services),
  ];
  const pipeline = composeMiddlewares(middlewares);

  const record = (ctx: RequestContext) => {
    requests.record({
      plane: requestPlaneOf(ctx),
      method: ctx.method,
      path: ctx.path,
      query: ctx.rawQuery,
      // 0 when nothing was sent: a dropped connection, or a client that left first.
      status: ctx.res.headersSent ? ctx.res.statusCode : 0,
      fault: ctx.fault,
      clientRequestId: ctx.clientRequestId,
      requestId: ctx.requestId,
    });
  };

  return {
    handle(req, res) {
      // A write to a socket the client already closed must not become an uncaught error.
      res.on("error", () => undefined);
      let ctx: RequestContext;
      try {
        ctx = createRequestContext(req, res, now());
      } catch {
        res.statusCode = 400;
        res.end();
        return;
      }
      pipeline(ctx)
        .catch((e: unknown) => {
          // The serializer catches handler errors; this is the last line of defence.
          if (!res.headersSent && !res.destroyed) {
            const error = ErrorFactory.internal(
              `Unexpected emulator error: ${(e as Error)?.message ?? String(e)}`,
            );
            writeResponse(ctx, error.statusCode, error.toBody(), error.headers);
          } else {
            res.destroy();
          }
        })
        .finally(() => record(ctx))
        .catch(() => undefined);
    },
    faults,
    requests,
    reset: services.reset,
    async close() {
      // Pending latency faults would otherwise keep the process alive and then run handlers.
      faults.close();
      // Jobs end (Failed, "stopped") before the last state write.
      await runner.close();
      await persistence?.close();
    },
    ready,
    router,
    store,
  };
}

function resolveSettings(options: ControlPlaneOptions): ControlPlaneSettings {
  for (const key of [
    "publicUrl",
    "subscriptionId",
    "resourceGroupName",
    "workspaceName",
    "location",
  ] as const) {
    if (typeof options[key] !== "string" || options[key] === "") {
      throw new TypeError(`Expected \`${key}\` to be a non-empty string.`);
    }
  }
  if (typeof options.tokens?.arm !== "string" || typeof options.tokens.ml !== "string") {
    throw new TypeError("Expected `tokens` to be { arm: string, ml: string }.");
  }
  const { storage } = options;
  if (
    storage === undefined ||
    typeof storage.accountName !== "string" ||
    typeof storage.accountKey !== "string" ||
    typeof storage.blobEndpoint !== "string" ||
    typeof storage.createContainer !== "function"
  ) {
    throw new TypeError(
      "Expected `storage` to be { accountName, accountKey, blobEndpoint, createContainer }.",
    );
  }
  const retryAfterInSeconds = options.retryAfterInSeconds ?? 1;
  if (!Number.isInteger(retryAfterInSeconds) || retryAfterInSeconds < 0) {
    throw new TypeError("Expected `retryAfterInSeconds` to be a non-negative integer.");
  }
  return {
    publicUrl: options.publicUrl.replace(/\/+$/, ""),
    scope: {
      subscriptionId: options.subscriptionId,
      resourceGroupName: options.resourceGroupName,
      workspaceName: options.workspaceName,
    },
    location: options.location,
    tokens: { ...options.tokens },
    storage,
    progression: validateProgression(options.progression ?? DEFAULT_PROGRESSION),
    retryAfterInSeconds,
    strict: options.strict ?? true,
  };
}
