/**
 * Transport settings, resolved at run time inside the provider host (never captured into `__provider`).
 *
 * Precedence: Pulumi stack config `azureml:<key>` > environment `AZUREML_<KEY>` > defaults. The table
 * lives in docs/ARCHITECTURE.md; keys named `…InSeconds` in config/env become `…InMs` here.
 */

/** The api-version sent when neither config nor environment names one. */
export const DEFAULT_API_VERSION = "2025-12-01";
/** Public-cloud Azure Resource Manager endpoint. */
export const DEFAULT_ARM_ENDPOINT = "https://management.azure.com";
/** Token scope for ARM (control-plane) calls. */
export const ARM_SCOPE = "https://management.azure.com/.default";
/** Token scope for Azure ML data-plane calls such as batch endpoint invocation. */
export const AZURE_ML_SCOPE = "https://ml.azure.com/.default";

/** Everything the transport needs to talk to Azure ML; all durations are in milliseconds. */
export interface AzureMlSettings {
  /** ARM base URL without a trailing slash; always https. */
  armEndpoint: string;
  /** The `api-version` query parameter appended to ARM paths. */
  apiVersion: string;
  /** Default subscription for resources that do not name one. */
  subscriptionId?: string;
  /** PEM file of an extra CA to trust for TLS (for example the emulator's). */
  caCertPath?: string;
  /**
   * Time allowed for response headers, and between body chunks, per attempt (undici's
   * `headersTimeout`/`bodyTimeout`, checked on a timer wheel of about 1 s resolution).
   */
  requestTimeoutInMs: number;
  /** Retries after the first attempt; 0 disables retries. */
  maxRetries: number;
  /** First backoff delay; doubles per retry. */
  retryDelayInMs: number;
  /** Upper bound for a backoff delay and for a server's Retry-After. */
  maxRetryDelayInMs: number;
  /** LRO poll interval, used only when the service sends no Retry-After. */
  pollIntervalInMs: number;
  /** How long to poll a long-running operation before giving up with PollTimeoutError. */
  lroTimeoutInMs: number;
  /** Token scope for ARM calls; another cloud's (e.g. `https://management.usgovcloudapi.net/.default`). */
  armScope: string;
  /** Token scope for Azure ML data-plane calls (batch endpoint invocation). */
  mlScope: string;
}

/** Pulumi's dynamic-provider `Config` (from `configure`) satisfies this. */
export interface ConfigSource {
  get(key: string): string | undefined;
}

/** The defaults from docs/ARCHITECTURE.md, in milliseconds. */
export const DEFAULT_SETTINGS: Readonly<AzureMlSettings> = Object.freeze({
  armEndpoint: DEFAULT_ARM_ENDPOINT,
  apiVersion: DEFAULT_API_VERSION,
  requestTimeoutInMs: 60_000,
  maxRetries: 3,
  retryDelayInMs: 800,
  maxRetryDelayInMs: 60_000,
  pollIntervalInMs: 2_000,
  lroTimeoutInMs: 3_600_000,
  armScope: ARM_SCOPE,
  mlScope: AZURE_ML_SCOPE,
});

interface Source {
  value: string;
  /** How the user wrote it, for error messages: `azureml:maxRetries` or `AZUREML_MAX_RETRIES`. */
  origin: string;
}

/**
 * Resolves settings from stack config, then environment, then defaults.
 * Throws `TypeError` for malformed values and `RangeError` for out-of-range ones, naming both the
 * config key and the environment variable so either can be fixed.
 */
export function resolveSettings(
  config?: ConfigSource,
  env: NodeJS.ProcessEnv = process.env,
): AzureMlSettings {
  const lookup = (key: string, ...envNames: string[]): Source | undefined => {
    const fromConfig = nonEmpty(config?.get(`azureml:${key}`));
    if (fromConfig !== undefined) {
      return { value: fromConfig, origin: `azureml:${key}` };
    }
    for (const name of envNames) {
      const fromEnv = nonEmpty(env[name]);
      if (fromEnv !== undefined) {
        return { value: fromEnv, origin: name };
      }
    }
    return undefined;
  };
  const hint = (key: string, envName: string) => `(stack config azureml:${key}, env ${envName})`;

  const armEndpointSource = lookup("armEndpoint", "AZUREML_ARM_ENDPOINT");
  const armEndpoint = armEndpointSource
    ? parseHttpsUrl(armEndpointSource, hint("armEndpoint", "AZUREML_ARM_ENDPOINT"))
    : DEFAULT_SETTINGS.armEndpoint;

  const apiVersionSource = lookup("apiVersion", "AZUREML_API_VERSION");
  const apiVersion = apiVersionSource?.value ?? DEFAULT_SETTINGS.apiVersion;
  if (!/^\d{4}-\d{2}-\d{2}(-preview)?$/.test(apiVersion)) {
    throw new TypeError(
      `Invalid api-version "${apiVersion}" from ${apiVersionSource?.origin} ${hint("apiVersion", "AZUREML_API_VERSION")}: expected YYYY-MM-DD or YYYY-MM-DD-preview.`,
    );
  }

  const number = (
    key: string,
    envName: string,
    fallback: number,
    rule: { integer?: boolean; positive?: boolean; scale?: number },
  ): number => {
    const source = lookup(key, envName);
    if (!source) {
      return fallback;
    }
    const where = `${source.origin} ${hint(key, envName)}`;
    if (!/^\s*-?\d+(\.\d+)?\s*$/.test(source.value)) {
      throw new TypeError(`Invalid ${key} "${source.value}" from ${where}: expected a number.`);
    }
    const parsed = Number(source.value);
    if (rule.integer && !Number.isInteger(parsed)) {
      throw new TypeError(`Invalid ${key} "${source.value}" from ${where}: expected an integer.`);
    }
    if (parsed < 0 || (rule.positive && parsed === 0)) {
      throw new RangeError(
        `Invalid ${key} "${source.value}" from ${where}: must be ${rule.positive ? "greater than 0" : "0 or more"}.`,
      );
    }
    return Math.round(parsed * (rule.scale ?? 1));
  };

  const subscriptionId = lookup(
    "subscriptionId",
    "AZUREML_SUBSCRIPTION_ID",
    "AZURE_SUBSCRIPTION_ID",
  )?.value;
  const caCertPath = lookup("caCertPath", "AZUREML_CA_CERT_PATH")?.value;

  const scope = (key: string, envName: string, fallback: string): string => {
    const source = lookup(key, envName);
    if (!source) {
      return fallback;
    }
    // A token scope is a resource URI with /.default, as Entra ID expects for app permissions.
    if (!/^https:\/\/[^/\s]+\/?\.default$/.test(source.value)) {
      throw new TypeError(
        `Invalid ${key} "${source.value}" from ${source.origin} ${hint(key, envName)}: expected https://<resource>/.default.`,
      );
    }
    return source.value;
  };

  const settings: AzureMlSettings = {
    armEndpoint,
    apiVersion,
    armScope: scope("armScope", "AZUREML_ARM_SCOPE", DEFAULT_SETTINGS.armScope),
    mlScope: scope("mlScope", "AZUREML_ML_SCOPE", DEFAULT_SETTINGS.mlScope),
    requestTimeoutInMs: number(
      "requestTimeoutInSeconds",
      "AZUREML_REQUEST_TIMEOUT_IN_SECONDS",
      DEFAULT_SETTINGS.requestTimeoutInMs,
      { positive: true, scale: 1000 },
    ),
    maxRetries: number("maxRetries", "AZUREML_MAX_RETRIES", DEFAULT_SETTINGS.maxRetries, {
      integer: true,
    }),
    retryDelayInMs: number(
      "retryDelayInMs",
      "AZUREML_RETRY_DELAY_IN_MS",
      DEFAULT_SETTINGS.retryDelayInMs,
      {},
    ),
    maxRetryDelayInMs: number(
      "maxRetryDelayInMs",
      "AZUREML_MAX_RETRY_DELAY_IN_MS",
      DEFAULT_SETTINGS.maxRetryDelayInMs,
      {},
    ),
    pollIntervalInMs: number(
      "pollIntervalInMs",
      "AZUREML_POLL_INTERVAL_IN_MS",
      DEFAULT_SETTINGS.pollIntervalInMs,
      {},
    ),
    lroTimeoutInMs: number(
      "lroTimeoutInSeconds",
      "AZUREML_LRO_TIMEOUT_IN_SECONDS",
      DEFAULT_SETTINGS.lroTimeoutInMs,
      { positive: true, scale: 1000 },
    ),
  };
  if (subscriptionId !== undefined) {
    settings.subscriptionId = subscriptionId;
  }
  if (caCertPath !== undefined) {
    settings.caCertPath = caCertPath;
  }
  return settings;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function parseHttpsUrl(source: Source, hint: string): string {
  let url: URL;
  try {
    url = new URL(source.value);
  } catch {
    throw new TypeError(`Invalid armEndpoint "${source.value}" from ${source.origin} ${hint}.`);
  }
  // Bearer tokens travel to this endpoint, so plain http is refused outright (emulator included).
  if (url.protocol !== "https:") {
    throw new TypeError(
      `Invalid armEndpoint "${source.value}" from ${source.origin} ${hint}: https is required.`,
    );
  }
  if (url.search || url.hash) {
    throw new TypeError(
      `Invalid armEndpoint "${source.value}" from ${source.origin} ${hint}: no query or fragment allowed.`,
    );
  }
  return url.toString().replace(/\/+$/, "");
}
