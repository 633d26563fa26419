// startEmulator: one local Azure ML over HTTPS on 127.0.0.1. It wires the TLS material, Azurite,
// the blob front door, the managed-identity endpoint and the ARM control plane together.
import * as https from "node:https";
import * as path from "node:path";
import { createControlPlane, type ControlPlane, type ControlPlaneOptions } from "./app";
import { startAzurite, trustFrontDoorForCopySources } from "./azurite";
import { startBlobFrontDoor } from "./blobFrontDoor";
import { createEnvironmentBuilder } from "./envs/builder";
import type { EnvironmentBuilder } from "./envs/types";
import type { FaultController, FaultRule } from "./faults";
import type { SweepOptions } from "./sweep/controller";
import { serveTracking } from "./mlflow/frontDoor";
import { createTrackingService } from "./mlflow/service";
import type { TrackingService } from "./mlflow/types";
import { startForwardProxy } from "./proxy";
import { startIdentityEndpoint, TOKEN_RESOURCES } from "./identity";
import { ARTIFACT_CONTAINER } from "./state/seed";
import { closeHttpServer, KEEP_ALIVE_TIMEOUT_IN_MS, listen } from "./net";
import type { RequestLog } from "./requestLog";
import { prepareTls, type TlsMaterial } from "./tls";
import { mintEmulatorTokens, mintToken } from "./tokens";

export type { FaultController, FaultKind, FaultPlane, FaultRule } from "./faults";
export type { EnvironmentBuilder, EnvironmentRequest, PreparedEnvironment } from "./envs/types";
export type { TrackingService } from "./mlflow/types";
export type { RequestLog, RequestPlane, RequestRecord } from "./requestLog";
export type { PreparedTls, TlsMaterial, TlsOptions } from "./tls";
// prepareTls lets a test runner create the CA before Node starts (NODE_EXTRA_CA_CERTS), then pass certDir.
export { MissingPeerDependencyError } from "./net";
export { prepareTls } from "./tls";
// The rooms jobs use, for callers that configure them or run clients against them.
export { createEnvironmentBuilder, type EnvironmentBuilderOptions } from "./envs/builder";
export {
  createTrackingService,
  trackingEnvironment,
  type LocalTrackingService,
  type TrackingEnvironmentOptions,
  type TrackingServiceOptions,
} from "./mlflow";

/** How long-running resources advance: at once, after N polls, or after a time. */
export type Progression = NonNullable<ControlPlaneOptions["progression"]>;

/** Options for startEmulator. Every field is optional. */
export interface EmulatorOptions {
  /** ARM endpoint port; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** Blob endpoint port; 0 picks a free one. @default 0 */
  readonly blobPort?: number;
  /** The only address the emulator binds. @default "127.0.0.1" */
  readonly host?: "127.0.0.1";
  /** Keep state (control plane and blobs) in this folder across restarts; in memory when absent. */
  readonly dataDir?: string;
  /** Reuse (or create and keep) the CA and server certificate in this folder. */
  readonly certDir?: string;
  /** Serve this certificate instead of making one; it must cover 127.0.0.1, ::1 and localhost. */
  readonly tls?: TlsMaterial;
  /** @default "00000000-0000-0000-0000-000000000000" */
  readonly subscriptionId?: string;
  /** @default "rg-emulator" */
  readonly resourceGroupName?: string;
  /** @default "mlw-emulator" */
  readonly workspaceName?: string;
  /** @default "eastus" */
  readonly location?: string;
  /** How jobs and provisioning states advance. The control plane's default applies when absent. */
  readonly progression?: Progression;
  /** Retry-After sent with long-running operation responses. The control plane's default applies when absent. */
  readonly retryAfterInSeconds?: number;
  /** Fault rules active from the start. */
  readonly faults?: readonly FaultRule[];
  /**
   * Reject unknown api-versions, query parameters and body properties (the default). When false,
   * they are answered, ignored and dropped respectively.
   */
  readonly strict?: boolean;
  /**
   * Prepares jobs' Python environments. @default the uv builder of `emulator/envs`
   * (`createEnvironmentBuilder()`: conda files become virtual environments cached by content)
   */
  readonly environments?: EnvironmentBuilder;
  /** The workspace's MLflow tracking service; jobs get no MLflow run or variables without it. */
  readonly tracking?: TrackingService;
  /** How sweep jobs sample (Optuna by default) and where they read trials' metrics. */
  readonly sweeps?: SweepOptions;
  /**
   * When no `tracking` is given, serve the workspace's MLflow tracking with the real MLflow server
   * (from PyPI, in a cached environment), started on first use: a job's run or a request to the
   * tracking path. `false` serves none. @default true
   */
  readonly mlflow?: boolean;
}

/** Everything a client needs to talk to a running emulator (the CLI prints exactly this as JSON). */
export interface EmulatorInfo {
  /** `https://127.0.0.1:<port>`: use in place of `https://management.azure.com`. */
  readonly armEndpoint: string;
  /** A bearer token for the ARM audience. */
  readonly token: string;
  /** A bearer token for the Azure ML audience (batch endpoint invocation). */
  readonly mlToken: string;
  readonly subscriptionId: string;
  readonly resourceGroupName: string;
  readonly workspaceName: string;
  /** The workspace's ARM id. */
  readonly workspaceId: string;
  readonly location: string;
  /** The CA to trust: NODE_EXTRA_CA_CERTS=<caCertPath>, or the `ca` option of a TLS client. */
  readonly caCertPath: string;
  /** `https://127.0.0.1:<port>/devstoreaccount1/` (trailing slash included). */
  readonly blobEndpoint: string;
  readonly storageAccountName: string;
  /** Export as IDENTITY_ENDPOINT so DefaultAzureCredential gets tokens from the emulator. */
  readonly identityEndpoint: string;
  /** Export as IDENTITY_HEADER. */
  readonly identityHeader: string;
  /**
   * `http://127.0.0.1:<port>`: export as HTTPS_PROXY (with NO_PROXY=127.0.0.1,localhost) so SDKs
   * that build `https://<account>.blob.core.windows.net` URLs reach the emulator's blobs.
   */
  readonly proxyUrl: string;
}

/** A running emulator. */
export interface RunningEmulator {
  readonly info: EmulatorInfo;
  /** Add or clear fault rules while running. */
  readonly faults: FaultController;
  /** Every request that reached any plane, in order. */
  readonly requests: RequestLog;
  /** Azurite's own plain-HTTP URL (`http://127.0.0.1:<port>`): bypasses the front door, its faults and its log. */
  readonly azuriteUrl: string;
  /** The workspace's MLflow tracking (undefined with `mlflow: false`); its server starts on first use. */
  readonly tracking: TrackingService | undefined;
  /** Forgets the control plane's resources, faults and request log (blobs are kept). */
  reset(): void;
  /**
   * Stops every listener and Azurite; resolves when their ports are free. Safe to call twice.
   * With `dataDir`, rejects (after stopping everything) when the last state write fails.
   */
  close(): Promise<void>;
}

/** The names used when EmulatorOptions leaves them out. */
export const EMULATOR_DEFAULTS = {
  subscriptionId: "00000000-0000-0000-0000-000000000000",
  resourceGroupName: "rg-emulator",
  workspaceName: "mlw-emulator",
  location: "eastus",
} as const;

const LOOPBACK = "127.0.0.1";

/** Starts the emulator. On failure, whatever was already started is stopped again. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  if (options.host !== undefined && options.host !== LOOPBACK) {
    throw new TypeError(`Expected [host] to be "${LOOPBACK}": the emulator binds loopback only.`);
  }
  const subscriptionId = options.subscriptionId ?? EMULATOR_DEFAULTS.subscriptionId;
  const resourceGroupName = options.resourceGroupName ?? EMULATOR_DEFAULTS.resourceGroupName;
  const workspaceName = options.workspaceName ?? EMULATOR_DEFAULTS.workspaceName;
  const location = options.location ?? EMULATOR_DEFAULTS.location;

  // Undone in reverse order by close(), or right away when a later step fails.
  const stops: Array<() => Promise<void>> = [];
  // Every step runs even when one fails (e.g. the final state write), so no port stays bound.
  const stopAll = async (): Promise<void> => {
    let firstError: unknown;
    for (const stop of stops.splice(0).reverse()) {
      try {
        await stop();
      } catch (error) {
        firstError ??= error;
      }
    }
    if (firstError !== undefined) {
      throw firstError;
    }
  };
  try {
    const tls = await prepareTls({ certDir: options.certDir, tls: options.tls });
    stops.push(() => tls.dispose());

    const azurite = await startAzurite({
      host: LOOPBACK,
      dataDir: options.dataDir === undefined ? undefined : path.join(options.dataDir, "azurite"),
    });
    stops.push(() => azurite.close());

    const frontDoor = await startBlobFrontDoor({
      tls,
      upstream: { host: azurite.host, port: azurite.port },
      accountName: azurite.accountName,
      host: LOOPBACK,
      port: options.blobPort ?? 0,
    });
    stops.push(() => frontDoor.close());
    const untrust = trustFrontDoorForCopySources(frontDoor.url, tls.caPem);
    stops.push(async () => untrust());
    // HTTPS_PROXY for SDKs that build `https://<account>.blob.core.windows.net` URLs.
    const proxy = await startForwardProxy({
      blobPort: Number(new URL(frontDoor.blobEndpoint).port),
      host: LOOPBACK,
    });
    stops.push(() => proxy.close());

    const tokens = mintEmulatorTokens();
    // Nothing runs until first use; artifacts go to the workspace's artifact store in Azurite.
    const tracking =
      options.tracking ??
      (options.mlflow === false
        ? undefined
        : createTrackingService({
            subscriptionId,
            resourceGroupName,
            workspaceName,
            dataDir: options.dataDir,
            storage: {
              blobEndpoint: `${azurite.url}/${azurite.accountName}`,
              accountName: azurite.accountName,
              accountKey: azurite.accountKey,
              container: ARTIFACT_CONTAINER,
            },
          }));
    if (tracking !== undefined && options.tracking === undefined) {
      stops.push(() => tracking.close());
    }

    // The control plane needs its public URL, known only once the listener is bound.
    const mounted: { plane?: ControlPlane } = {};
    const armServer = https.createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
      if (mounted.plane === undefined) {
        res.writeHead(503, { "retry-after": "1" }).end();
        return;
      }
      if (tracking?.owns((req.url ?? "/").split("?")[0])) {
        serveTracking(
          { tracking, tokens: () => tokens, requests: mounted.plane.requests },
          req,
          res,
        );
        return;
      }
      try {
        mounted.plane.handle(req, res);
      } catch (error) {
        // handle() never throws by contract; one bad request must still not stop the emulator.
        process.stderr.write(`azureml-emulator: ARM request failed: ${String(error)}\n`);
        res.destroy();
      }
    });
    armServer.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_IN_MS;
    const armPort = await listen(armServer, LOOPBACK, options.port ?? 0);
    stops.push(() => closeHttpServer(armServer));
    const armEndpoint = `https://${LOOPBACK}:${armPort}`;

    const plane = createControlPlane({
      publicUrl: armEndpoint,
      subscriptionId,
      resourceGroupName,
      workspaceName,
      location,
      tokens,
      storage: {
        accountName: azurite.accountName,
        accountKey: azurite.accountKey,
        blobEndpoint: frontDoor.blobEndpoint,
        createContainer: (name) => azurite.createContainer(name),
      },
      dataDir: options.dataDir,
      progression: options.progression,
      retryAfterInSeconds: options.retryAfterInSeconds,
      strict: options.strict,
      jobs: {
        environments: options.environments ?? createEnvironmentBuilder(),
        tracking,
        sweeps: options.sweeps,
        // The runner talks to Azurite directly, as Azure ML's services reach storage directly.
        blobEndpoint: `${azurite.url}/${azurite.accountName}`,
        caCertPath: tls.caCertPath,
      },
    });
    mounted.plane = plane;
    // Placed before the ARM listener's stop (stops run in reverse), so no request meets a closed plane.
    stops.splice(stops.length - 1, 0, () => plane.close());
    frontDoor.attach(plane);
    // The seeded datastores' containers must exist before a client is told where to upload.
    await plane.ready();
    for (const rule of options.faults ?? []) {
      plane.faults.add(rule);
    }

    const identity = await startIdentityEndpoint({
      host: LOOPBACK,
      issueToken: (audience) => mintToken({ audience: TOKEN_RESOURCES[audience] }),
      // What a client that found the emulator through /metadata/endpoints asks for.
      audienceAliases: { arm: [armEndpoint] },
      onRequest: (request) => plane.requests.record({ plane: "identity", ...request }),
    });
    stops.push(() => identity.close());

    const info: EmulatorInfo = {
      armEndpoint,
      token: tokens.arm,
      mlToken: tokens.ml,
      subscriptionId,
      resourceGroupName,
      workspaceName,
      workspaceId:
        `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroupName}` +
        `/providers/Microsoft.MachineLearningServices/workspaces/${workspaceName}`,
      location,
      caCertPath: tls.caCertPath,
      blobEndpoint: frontDoor.blobEndpoint,
      storageAccountName: azurite.accountName,
      identityEndpoint: identity.endpoint,
      identityHeader: identity.secret,
      proxyUrl: proxy.url,
    };
    let closing: Promise<void> | undefined;
    return {
      info,
      faults: plane.faults,
      requests: plane.requests,
      azuriteUrl: azurite.url,
      tracking,
      reset: () => plane.reset(),
      close: () => (closing ??= stopAll()),
    };
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}
