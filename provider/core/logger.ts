/**
 * A small leveled logger writing to stderr, controlled by `AZUREML_LOG_LEVEL`
 * (`verbose` | `info` | `warning` | `error`; default `warning`). Inside the Pulumi provider host,
 * stderr shows up with `pulumi up --logtostderr -v=…`, and never mixes with the engine protocol.
 * Callers pass already-redacted text: URLs through `redactUrl`, never headers.
 */

export type LogLevel = "error" | "warning" | "info" | "verbose";

const RANK: Record<LogLevel, number> = { error: 0, warning: 1, info: 2, verbose: 3 };

/** Where log lines go; tests and library users may supply their own. */
export interface AzureMlLogger {
  error(message: string): void;
  warning(message: string): void;
  info(message: string): void;
  verbose(message: string): void;
  /** Whether `level` is written; lets callers skip building messages nobody reads. Default: true. */
  isEnabled?(level: LogLevel): boolean;
}

/** Reads `AZUREML_LOG_LEVEL`; unknown values fall back to `warning`. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const value = env.AZUREML_LOG_LEVEL?.trim().toLowerCase();
  return value !== undefined && value in RANK ? (value as LogLevel) : "warning";
}

/**
 * A logger that writes `azureml:<level> <message>` lines to `write` (stderr by default) for
 * levels at or above `level` (read from the environment when not given).
 */
export function createLogger(
  level: LogLevel = logLevelFromEnv(),
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): AzureMlLogger {
  const at = (wanted: LogLevel) => (message: string) => {
    if (RANK[wanted] <= RANK[level]) {
      write(`azureml:${wanted} ${message}`);
    }
  };
  return {
    error: at("error"),
    warning: at("warning"),
    info: at("info"),
    verbose: at("verbose"),
    isEnabled: (wanted) => RANK[wanted] <= RANK[level],
  };
}
