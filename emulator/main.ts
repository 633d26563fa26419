#!/usr/bin/env node
// The azureml-emulator CLI: starts the emulator, prints ONE JSON line with its EmulatorInfo on stdout
// (logs go to stderr), and stops cleanly on SIGINT/SIGTERM.
import { validateFaultRule, type FaultRule } from "./faults";
import {
  startEmulator,
  type EmulatorOptions,
  type Progression,
  type RunningEmulator,
} from "./index";
import { validateProgression } from "./state/transitions";

export const USAGE = `Usage: azureml-emulator [options]

Starts a local Azure ML (ARM over HTTPS, blob storage, managed identity) on 127.0.0.1 and prints
one JSON line with its endpoints, tokens and CA path on stdout. Stop it with Ctrl+C or SIGTERM.

Options:
  --port <n>                 ARM endpoint port (0 = any free port)             [default: 0]
  --blob-port <n>            blob endpoint port (0 = any free port)            [default: 0]
  --data-dir <dir>           keep resources and blobs in <dir> across restarts [default: memory]
  --cert-dir <dir>           reuse or create the CA and certificate in <dir>   [default: temporary]
  --progression <mode>       immediate | polls:<n> | timed:<ms>
  --retry-after <seconds>    Retry-After sent with long-running operations
  --fault <json>             a fault rule, e.g. '{"kind":"status","status":503,"plane":"blob"}' (repeatable)
  --loose                    accept unknown api-versions and query parameters, drop unknown
                             body properties
  --strict                   reject unknown api-versions, query parameters and body properties
                             [default]
  --subscription-id <id>     [default: 00000000-0000-0000-0000-000000000000]
  --resource-group <name>    [default: rg-emulator]
  --workspace <name>         [default: mlw-emulator]
  --location <name>          [default: eastus]
  -h, --help                 show this help
`;

/** Thrown for a bad command line; the CLI prints it with the usage and exits with code 2. */
export class CliUsageError extends Error {
  readonly code = "EMULATOR_CLI_USAGE";
  constructor(message: string) {
    super(message);
    this.name = "CliUsageError";
  }
}

/** What the command line asks for. */
export type CliCommand = { kind: "help" } | { kind: "start"; options: EmulatorOptions };

/** Parses `immediate`, `polls:<n>` or `timed:<ms>`. */
export function parseProgression(text: string): Progression {
  if (text === "immediate") {
    return { mode: "immediate" };
  }
  const match = /^(polls|timed):(\d+)$/.exec(text);
  if (match === null) {
    throw new CliUsageError(
      `--progression must be immediate, polls:<n> or timed:<ms>; got "${text}".`,
    );
  }
  const value = Number(match[2]);
  try {
    return validateProgression(
      match[1] === "polls" ? { mode: "polls", polls: value } : { mode: "timed", ms: value },
    );
  } catch (error) {
    throw new CliUsageError(`--progression ${text}: ${(error as Error).message}`);
  }
}

/** Parses the CLI arguments (without `node` and the script). Pure; throws CliUsageError. */
export function parseCliArgs(argv: readonly string[]): CliCommand {
  const options: {
    -readonly [K in keyof EmulatorOptions]: EmulatorOptions[K];
  } = {};
  const faults: FaultRule[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const value = (): string => {
      if (eq !== -1) {
        return arg.slice(eq + 1);
      }
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith("--") && next.length > 2)) {
        throw new CliUsageError(`${flag} needs a value.`);
      }
      i += 1;
      return next;
    };
    switch (flag) {
      case "-h":
      case "--help":
        return { kind: "help" };
      case "--port":
        options.port = parsePort(flag, value());
        break;
      case "--blob-port":
        options.blobPort = parsePort(flag, value());
        break;
      case "--data-dir":
        options.dataDir = value();
        break;
      case "--cert-dir":
        options.certDir = value();
        break;
      case "--progression":
        options.progression = parseProgression(value());
        break;
      case "--retry-after":
        options.retryAfterInSeconds = parseNonNegativeInteger(flag, value());
        break;
      case "--fault":
        faults.push(parseFault(value()));
        break;
      case "--loose":
        options.strict = false;
        break;
      case "--strict":
        options.strict = true;
        break;
      case "--subscription-id":
        options.subscriptionId = value();
        break;
      case "--resource-group":
        options.resourceGroupName = value();
        break;
      case "--workspace":
        options.workspaceName = value();
        break;
      case "--location":
        options.location = value();
        break;
      default:
        throw new CliUsageError(`Unknown option ${arg}.`);
    }
  }
  if (faults.length > 0) {
    options.faults = faults;
  }
  return { kind: "start", options };
}

function parsePort(flag: string, text: string): number {
  const port = parseNonNegativeInteger(flag, text);
  if (port > 65535) {
    throw new CliUsageError(`${flag} must be a port between 0 and 65535; got ${text}.`);
  }
  return port;
}

function parseNonNegativeInteger(flag: string, text: string): number {
  if (!/^\d+$/.test(text)) {
    throw new CliUsageError(`${flag} must be a non-negative integer; got "${text}".`);
  }
  return Number(text);
}

function parseFault(text: string): FaultRule {
  let rule: unknown;
  try {
    rule = JSON.parse(text);
  } catch (error) {
    throw new CliUsageError(`--fault must be a JSON object: ${(error as Error).message}`);
  }
  if (typeof rule !== "object" || rule === null || Array.isArray(rule)) {
    throw new CliUsageError(`--fault must be a JSON object; got ${text}.`);
  }
  try {
    return validateFaultRule(rule);
  } catch (error) {
    throw new CliUsageError(`--fault ${text}: ${(error as Error).message}`);
  }
}

/** How long a clean stop may take before the process exits anyway. */
const SHUTDOWN_TIMEOUT_IN_MS = 15_000;

async function main(): Promise<void> {
  let command: CliCommand;
  try {
    command = parseCliArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`azureml-emulator: ${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (command.kind === "help") {
    process.stderr.write(USAGE);
    return;
  }
  // stdout carries exactly one JSON line; anything a library logs goes to stderr instead.
  console.log = console.error;
  console.info = console.error;
  console.debug = console.error;

  // Handlers go in before anything is printed: a caller may signal as soon as it reads the line.
  let stopping = false;
  let started: Promise<RunningEmulator | undefined> = Promise.resolve(undefined);
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.stderr.write(`azureml-emulator: ${signal} again, exiting without a clean stop\n`);
      process.exit(130);
    }
    stopping = true;
    process.stderr.write(`azureml-emulator: ${signal}, stopping\n`);
    setTimeout(() => {
      process.stderr.write("azureml-emulator: stop timed out\n");
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_IN_MS).unref();
    // A signal during start-up stops the emulator once it is up (or exits if start-up fails).
    started
      .then((emulator) => emulator?.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`azureml-emulator: stop failed: ${String(error)}\n`);
          process.exit(1);
        },
      );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);

  const starting = startEmulator(command.options);
  started = starting;
  const emulator = await starting;
  if (stopping) {
    return;
  }
  process.stdout.write(`${JSON.stringify(emulator.info)}\n`);
  process.stderr.write(
    `azureml-emulator: ARM ${emulator.info.armEndpoint}, blobs ${emulator.info.blobEndpoint}, ` +
      `identity ${emulator.info.identityEndpoint}, CA ${emulator.info.caCertPath}, ` +
      `Azurite ${emulator.azuriteUrl}\n`,
  );
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `azureml-emulator: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  });
}
