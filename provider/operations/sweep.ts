/**
 * Sweep jobs (contract 4.7), pure: typed search-space helpers and their wire syntax, the sweep's
 * own blocks (objective, sampling, limits, early termination) as Azure ML takes them, and the
 * checks that refuse, before any request, what Azure would refuse. No I/O, no Pulumi.
 */
import { commandJobBody, type CommandJobMutableFields, type CommandJobSpec } from "./jobs";

/** One hyperparameter's distribution, as the helpers below build it. */
export type SearchDistribution =
  | { readonly type: "choice"; readonly values: readonly unknown[] }
  | { readonly type: "randint"; readonly upper: number }
  | { readonly type: "uniform" | "loguniform"; readonly min: number; readonly max: number }
  | {
      readonly type: "quniform" | "qloguniform";
      readonly min: number;
      readonly max: number;
      readonly q: number;
    }
  | { readonly type: "normal" | "lognormal"; readonly mu: number; readonly sigma: number }
  | {
      readonly type: "qnormal" | "qlognormal";
      readonly mu: number;
      readonly sigma: number;
      readonly q: number;
    };

/** Search-space helpers, named after azure-ai-ml's `azure.ai.ml.sweep` classes. */
export const searchSpace = {
  /** One of `values` (any JSON values). */
  choice: (...values: unknown[]): SearchDistribution => ({ type: "choice", values }),
  /** An integer in [0, upper). */
  randint: (upper: number): SearchDistribution => ({ type: "randint", upper }),
  /** A float uniformly in [min, max]. */
  uniform: (min: number, max: number): SearchDistribution => ({ type: "uniform", min, max }),
  /** round(uniform(min, max) / q) * q. */
  quniform: (min: number, max: number, q: number): SearchDistribution => ({
    type: "quniform",
    min,
    max,
    q,
  }),
  /** exp(uniform(min, max)): min and max are the natural logarithms of the bounds. */
  loguniform: (min: number, max: number): SearchDistribution => ({ type: "loguniform", min, max }),
  /** round(exp(uniform(min, max)) / q) * q. */
  qloguniform: (min: number, max: number, q: number): SearchDistribution => ({
    type: "qloguniform",
    min,
    max,
    q,
  }),
  /** A normal with mean mu and standard deviation sigma. */
  normal: (mu: number, sigma: number): SearchDistribution => ({ type: "normal", mu, sigma }),
  /** round(normal(mu, sigma) / q) * q. */
  qnormal: (mu: number, sigma: number, q: number): SearchDistribution => ({
    type: "qnormal",
    mu,
    sigma,
    q,
  }),
  /** exp(normal(mu, sigma)). */
  lognormal: (mu: number, sigma: number): SearchDistribution => ({ type: "lognormal", mu, sigma }),
  /** round(exp(normal(mu, sigma)) / q) * q. */
  qlognormal: (mu: number, sigma: number, q: number): SearchDistribution => ({
    type: "qlognormal",
    mu,
    sigma,
    q,
  }),
} as const;

/** The wire form of one distribution: `["uniform", [0.01, 0.9]]`, `["choice", [["a", "b"]]]`. */
export type WireDistribution = [string, unknown[]];

/** Serializes a distribution to the syntax azure-ai-ml sends (note choice's double brackets). */
export function toWire(d: SearchDistribution): WireDistribution {
  switch (d.type) {
    case "choice":
      return ["choice", [[...d.values]]];
    case "randint":
      return ["randint", [d.upper]];
    case "uniform":
    case "loguniform":
      return [d.type, [d.min, d.max]];
    case "quniform":
    case "qloguniform":
      return [d.type, [d.min, d.max, d.q]];
    case "normal":
    case "lognormal":
      return [d.type, [d.mu, d.sigma]];
    case "qnormal":
    case "qlognormal":
      return [d.type, [d.mu, d.sigma, d.q]];
    default:
      throw new TypeError(`Unknown distribution ${JSON.stringify(d)}`);
  }
}

export function searchSpaceToWire(
  space: Readonly<Record<string, SearchDistribution>>,
): Record<string, WireDistribution> {
  return Object.fromEntries(Object.entries(space).map(([k, d]) => [k, toWire(d)]));
}

export type SamplingInput =
  | { readonly type: "random"; readonly rule?: "Random" | "Sobol"; readonly seed?: number }
  | { readonly type: "grid" }
  | { readonly type: "bayesian" };

export type EarlyTerminationInput =
  | {
      readonly type: "bandit";
      readonly slackFactor?: number;
      readonly slackAmount?: number;
      readonly evaluationInterval?: number;
      readonly delayEvaluation?: number;
    }
  | {
      readonly type: "medianStopping";
      readonly evaluationInterval?: number;
      readonly delayEvaluation?: number;
    }
  | {
      readonly type: "truncationSelection";
      readonly truncationPercentage: number;
      readonly evaluationInterval?: number;
      readonly delayEvaluation?: number;
    };

export interface SweepLimitsInput {
  readonly maxTotalTrials?: number;
  readonly maxConcurrentTrials?: number;
  /** ISO 8601 duration of the whole sweep, e.g. `PT2H`. */
  readonly timeout?: string;
  /** ISO 8601 duration of each trial. */
  readonly trialTimeout?: string;
}

export interface ObjectiveInput {
  readonly primaryMetric: string;
  readonly goal: "maximize" | "minimize";
}

export function samplingToWire(s: SamplingInput): Record<string, unknown> {
  switch (s.type) {
    case "random":
      return {
        samplingAlgorithmType: "Random",
        rule: s.rule ?? "Random",
        ...(s.seed === undefined ? {} : { seed: s.seed }),
      };
    case "grid":
      return { samplingAlgorithmType: "Grid" };
    case "bayesian":
      return { samplingAlgorithmType: "Bayesian" };
    default:
      throw new TypeError(`Unknown sampling ${JSON.stringify(s)}`);
  }
}

export function earlyTerminationToWire(e: EarlyTerminationInput): Record<string, unknown> {
  const base = {
    evaluationInterval: e.evaluationInterval ?? 0,
    delayEvaluation: e.delayEvaluation ?? 0,
  };
  switch (e.type) {
    case "bandit":
      return {
        policyType: "Bandit",
        ...base,
        ...(e.slackFactor === undefined ? {} : { slackFactor: e.slackFactor }),
        ...(e.slackAmount === undefined ? {} : { slackAmount: e.slackAmount }),
      };
    case "medianStopping":
      return { policyType: "MedianStopping", ...base };
    case "truncationSelection":
      return {
        policyType: "TruncationSelection",
        ...base,
        truncationPercentage: e.truncationPercentage,
      };
    default:
      throw new TypeError(`Unknown early termination ${JSON.stringify(e)}`);
  }
}

export function limitsToWire(l: SweepLimitsInput | undefined): Record<string, unknown> {
  return {
    jobLimitsType: "Sweep",
    ...(l?.maxTotalTrials === undefined ? {} : { maxTotalTrials: l.maxTotalTrials }),
    ...(l?.maxConcurrentTrials === undefined ? {} : { maxConcurrentTrials: l.maxConcurrentTrials }),
    ...(l?.timeout === undefined ? {} : { timeout: l.timeout }),
    ...(l?.trialTimeout === undefined ? {} : { trialTimeout: l.trialTimeout }),
  };
}

export function objectiveToWire(o: ObjectiveInput): Record<string, unknown> {
  return { primaryMetric: o.primaryMetric, goal: o.goal === "minimize" ? "Minimize" : "Maximize" };
}

/** A refusal naming the property to fix; `warning` ones are reported but send nothing wrong. */
export interface SweepFinding {
  property: string;
  reason: string;
  warning?: boolean;
}

const SEARCH_BINDING = /\$\{\{\s*search_space\.([A-Za-z0-9_.-]+?)\s*\}\}/g;
const DISTRIBUTIONS = [
  "choice",
  "randint",
  "uniform",
  "loguniform",
  "quniform",
  "qloguniform",
  "normal",
  "lognormal",
  "qnormal",
  "qlognormal",
];
const BAYESIAN: readonly string[] = ["choice", "uniform", "quniform"];
const ISO_DURATION =
  /^P(?:\d+(?:\.\d+)?W)?(?:\d+(?:\.\d+)?D)?(?:T(?:\d+(?:\.\d+)?H)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?S)?)?$/;

function finite(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/** The parameters a command uses through `${{search_space.<name>}}`. */
export function searchSpaceBindings(command: string): string[] {
  return [...new Set([...command.matchAll(SEARCH_BINDING)].map((m) => m[1]))];
}

/** Checks one distribution's arity and bounds; undefined when it is sound. */
export function distributionFailure(name: string, d: SearchDistribution): string | undefined {
  const at = `[searchSpace.${name}]`;
  if (
    typeof d !== "object" ||
    d === null ||
    !DISTRIBUTIONS.includes((d as { type: string }).type)
  ) {
    return `${at} must be built with a search-space helper (choice, uniform, …).`;
  }
  switch (d.type) {
    case "choice":
      return Array.isArray(d.values) && d.values.length > 0
        ? undefined
        : `${at} choice needs at least one value.`;
    case "randint":
      return Number.isInteger(d.upper) && d.upper >= 1
        ? undefined
        : `${at} randint needs an integer upper bound of at least 1.`;
    case "uniform":
    case "loguniform":
    case "quniform":
    case "qloguniform": {
      if (!finite(d.min) || !finite(d.max)) {
        return `${at} ${d.type} needs numeric min and max.`;
      }
      if (d.min > d.max) {
        return `${at} ${d.type} has its min (${d.min}) above its max (${d.max}).`;
      }
      if ((d.type === "quniform" || d.type === "qloguniform") && !(finite(d.q) && d.q > 0)) {
        return `${at} ${d.type} needs a positive q.`;
      }
      return undefined;
    }
    case "normal":
    case "lognormal":
    case "qnormal":
    case "qlognormal": {
      if (!finite(d.mu) || !finite(d.sigma) || d.sigma <= 0) {
        return `${at} ${d.type} needs a numeric mu and a positive sigma.`;
      }
      if ((d.type === "qnormal" || d.type === "qlognormal") && !(finite(d.q) && d.q > 0)) {
        return `${at} ${d.type} needs a positive q.`;
      }
      return undefined;
    }
    default:
      return `${at} is not a known distribution.`;
  }
}

/** What the sweep-specific checks look at (the trial's own checks are CommandJob's). */
export interface SweepCheckInput {
  readonly command: string;
  readonly searchSpace: Readonly<Record<string, SearchDistribution>>;
  readonly sampling: SamplingInput;
  readonly objective: ObjectiveInput;
  readonly limits?: SweepLimitsInput;
  readonly earlyTermination?: EarlyTerminationInput;
}

/**
 * Everything Azure would refuse about a sweep, found before any request: a binding to a parameter
 * the search space lacks, a parameter the command never uses (a warning), grid sampling over
 * anything but choice, Bayesian sampling over other distributions or with an early termination
 * policy, a bad arity or bound, both slack factor and slack amount, bad limits.
 */
export function sweepFindings(input: SweepCheckInput): SweepFinding[] {
  const out: SweepFinding[] = [];
  const names = Object.keys(input.searchSpace ?? {});
  if (names.length === 0) {
    out.push({
      property: "searchSpace",
      reason: "[searchSpace] must define at least one parameter.",
    });
  }
  const used = searchSpaceBindings(input.command ?? "");
  for (const name of used) {
    if (!names.includes(name)) {
      out.push({
        property: "trial.command",
        reason: `[trial.command] uses \${{search_space.${name}}}, but [searchSpace] has no ${name}.`,
      });
    }
  }
  for (const name of names) {
    const d = input.searchSpace[name];
    const failure = distributionFailure(name, d);
    if (failure !== undefined) {
      out.push({ property: `searchSpace.${name}`, reason: failure });
      continue;
    }
    if (!used.includes(name)) {
      out.push({
        property: `searchSpace.${name}`,
        reason: `[searchSpace.${name}] is never used: [trial.command] has no \${{search_space.${name}}}.`,
        warning: true,
      });
    }
    if (input.sampling?.type === "grid" && d.type !== "choice") {
      out.push({
        property: `searchSpace.${name}`,
        reason: `[searchSpace.${name}] is ${d.type}: grid sampling enumerates choice parameters only.`,
      });
    }
    if (input.sampling?.type === "bayesian" && !BAYESIAN.includes(d.type)) {
      out.push({
        property: `searchSpace.${name}`,
        reason: `[searchSpace.${name}] is ${d.type}: Bayesian sampling supports choice, uniform and quniform only.`,
      });
    }
  }
  if (!["random", "grid", "bayesian"].includes(input.sampling?.type)) {
    out.push({ property: "sampling", reason: "[sampling] must be random, grid or bayesian." });
  } else if (input.sampling.type === "random") {
    if (input.sampling.seed !== undefined && !Number.isInteger(input.sampling.seed)) {
      out.push({ property: "sampling.seed", reason: "[sampling.seed] must be an integer." });
    }
    if (input.sampling.rule !== undefined && !["Random", "Sobol"].includes(input.sampling.rule)) {
      out.push({ property: "sampling.rule", reason: "[sampling.rule] must be Random or Sobol." });
    }
  }
  if (typeof input.objective?.primaryMetric !== "string" || input.objective.primaryMetric === "") {
    out.push({
      property: "objective.primaryMetric",
      reason: "[objective.primaryMetric] is required.",
    });
  }
  if (!["maximize", "minimize"].includes(input.objective?.goal)) {
    out.push({
      property: "objective.goal",
      reason: "[objective.goal] must be maximize or minimize.",
    });
  }
  const et = input.earlyTermination;
  if (et !== undefined) {
    if (!["bandit", "medianStopping", "truncationSelection"].includes(et?.type)) {
      out.push({
        property: "earlyTermination.type",
        reason: "[earlyTermination.type] must be bandit, medianStopping or truncationSelection.",
      });
    }
    if (input.sampling?.type === "bayesian") {
      out.push({
        property: "earlyTermination",
        reason: "[earlyTermination] cannot be used with Bayesian sampling (Azure ML refuses it).",
      });
    }
    if (et.type === "bandit") {
      if ((et.slackFactor ?? 0) > 0 && (et.slackAmount ?? 0) > 0) {
        out.push({
          property: "earlyTermination.slackFactor",
          reason:
            "[earlyTermination.slackFactor] and [earlyTermination.slackAmount] are exclusive: give one.",
        });
      }
      for (const key of ["slackFactor", "slackAmount"] as const) {
        const v = et[key];
        if (v !== undefined && !(finite(v) && v >= 0)) {
          out.push({
            property: `earlyTermination.${key}`,
            reason: `[earlyTermination.${key}] must be a non-negative number.`,
          });
        }
      }
    } else if (et.type === "truncationSelection") {
      const p = et.truncationPercentage;
      if (!Number.isInteger(p) || p < 1 || p > 99) {
        out.push({
          property: "earlyTermination.truncationPercentage",
          reason: "[earlyTermination.truncationPercentage] must be an integer from 1 to 99.",
        });
      }
    }
    for (const key of ["evaluationInterval", "delayEvaluation"] as const) {
      const v = et[key];
      if (v !== undefined && !(Number.isInteger(v) && v >= 0)) {
        out.push({
          property: `earlyTermination.${key}`,
          reason: `[earlyTermination.${key}] must be a non-negative integer.`,
        });
      }
    }
  }
  const l = input.limits;
  for (const key of ["maxTotalTrials", "maxConcurrentTrials"] as const) {
    const v = l?.[key];
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) {
      out.push({
        property: `limits.${key}`,
        reason: `[limits.${key}] must be a positive integer.`,
      });
    }
  }
  for (const key of ["timeout", "trialTimeout"] as const) {
    const v = l?.[key];
    if (v !== undefined && (typeof v !== "string" || !ISO_DURATION.test(v) || /^P$|T$/.test(v))) {
      out.push({
        property: `limits.${key}`,
        reason: `[limits.${key}] must be an ISO 8601 duration such as PT30M.`,
      });
    }
  }
  return out;
}

/** The number of combinations a grid sweep enumerates (choice sizes multiplied). */
export function gridSize(space: Readonly<Record<string, SearchDistribution>>): number {
  return Object.values(space).reduce(
    (n, d) => n * (d.type === "choice" ? d.values.length : Number.POSITIVE_INFINITY),
    1,
  );
}

/**
 * The best trial's hyperparameters, typed back from the trial job's `hyperparameters` property
 * (JSON, as the emulator and the sweep controller record it).
 */
export function parseHyperparameters(text: unknown): Record<string, unknown> | undefined {
  if (typeof text !== "string") {
    return undefined;
  }
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

// --- The sweep's body and its trials --------------------------------------------------------

/** What a sweep runs: its trial (a command job's spec) and the sweep's own blocks. */
export interface SweepJobSpec {
  /** The trial's command, environment, code, inputs, outputs, … (as a command job takes them). */
  trial: CommandJobSpec;
  objective: ObjectiveInput;
  samplingAlgorithm: SamplingInput;
  searchSpace: Readonly<Record<string, SearchDistribution>>;
  limits?: SweepLimitsInput;
  earlyTermination?: EarlyTerminationInput;
}

/**
 * `PUT {ws}/jobs/{name}` body of a sweep job (`jobType: "Sweep"`, contract 4.7): the trial
 * component (command, code, environment, variables, distribution, resources) under `trial`, and
 * inputs, outputs, compute, experiment, identity and properties on the sweep, as azure-ai-ml sends
 * them. The trial's parts are built by the command job's builder, so both send the same shapes.
 */
export function sweepJobBody(spec: SweepJobSpec, fields: CommandJobMutableFields = {}) {
  const { trial } = spec;
  const command = commandJobBody({ ...trial, timeout: undefined }, fields).properties as Record<
    string,
    unknown
  >;
  const pick = (keys: readonly string[]) =>
    Object.fromEntries(keys.filter((k) => command[k] !== undefined).map((k) => [k, command[k]]));
  return {
    properties: {
      jobType: "Sweep",
      ...pick([
        "displayName",
        "description",
        "tags",
        "properties",
        "experimentName",
        "computeId",
        "inputs",
        "outputs",
        "queueSettings",
        "identity",
      ]),
      objective: objectiveToWire(spec.objective),
      samplingAlgorithm: samplingToWire(spec.samplingAlgorithm),
      searchSpace: searchSpaceToWire(spec.searchSpace),
      limits: limitsToWire(spec.limits),
      ...(spec.earlyTermination === undefined
        ? {}
        : { earlyTermination: earlyTerminationToWire(spec.earlyTermination) }),
      trial: {
        ...pick(["command", "codeId", "environmentId", "environmentVariables", "distribution"]),
        resources: (command.resources as Record<string, unknown> | undefined) ?? {},
      },
    },
  };
}

/** `GET {ws}/jobs?parentJobName=<sweep>`: a sweep's trials (the emulator's list filter). */
export function sweepTrialsQuery(sweepName: string): { parentJobName: string } {
  return { parentJobName: sweepName };
}

/** True for a trial of the sweep: Azure ML names them `<sweep>_<n>`. */
export function isTrialOf(sweepName: string, jobName: string): boolean {
  return jobName.startsWith(`${sweepName}_`) && /^\d+$/.test(jobName.slice(sweepName.length + 1));
}

/** The sweep's own record of its best trial (`best_child_run_id`, `score`), when it has one. */
export function bestTrialOf(
  properties: Readonly<Record<string, string>> | undefined,
): { name: string; score?: number } | undefined {
  const name = properties?.best_child_run_id;
  if (typeof name !== "string" || name === "") {
    return undefined;
  }
  const score = Number(properties?.score);
  return { name, ...(properties?.score !== undefined && Number.isFinite(score) ? { score } : {}) };
}

/** Trials by status, as a SweepJob's outputs count them. */
export interface TrialCounts {
  total: number;
  running: number;
  completed: number;
  failed: number;
  earlyTerminated: number;
  canceled: number;
}

/**
 * Counts trials by status. A Canceled trial of a sweep with an early termination policy counts as
 * early-terminated unless the sweep itself was canceled (then its trials were canceled with it):
 * Azure ML ends terminated trials Canceled and marks them no other way in the job.
 */
export function countTrials(
  statuses: readonly (string | undefined)[],
  options: { earlyTermination: boolean; sweepStatus?: string },
): TrialCounts {
  const counts: TrialCounts = {
    total: statuses.length,
    running: 0,
    completed: 0,
    failed: 0,
    earlyTerminated: 0,
    canceled: 0,
  };
  const sweepCanceled =
    options.sweepStatus === "Canceled" || options.sweepStatus === "CancelRequested";
  for (const status of statuses) {
    if (status === "Completed") {
      counts.completed += 1;
    } else if (status === "Failed") {
      counts.failed += 1;
    } else if (status === "Canceled") {
      if (options.earlyTermination && !sweepCanceled) {
        counts.earlyTerminated += 1;
      } else {
        counts.canceled += 1;
      }
    } else {
      counts.running += 1;
    }
  }
  return counts;
}

/** A progress line's account of the trials: `2 running, 1 completed, 0 failed, 1 early-terminated`. */
export function describeTrialCounts(counts: TrialCounts): string {
  const parts = [
    `${counts.running} running`,
    `${counts.completed} completed`,
    `${counts.failed} failed`,
    `${counts.earlyTerminated} early-terminated`,
  ];
  if (counts.canceled > 0) {
    parts.push(`${counts.canceled} canceled`);
  }
  return `${counts.total} trial${counts.total === 1 ? "" : "s"}: ${parts.join(", ")}`;
}

/** Hyperparameters typed for outputs: numbers, strings and booleans as sampled, others as JSON. */
export function typedHyperparameters(
  values: Readonly<Record<string, unknown>> | undefined,
): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(values ?? {})) {
    out[key] =
      typeof value === "string" ||
      typeof value === "boolean" ||
      (typeof value === "number" && Number.isFinite(value))
        ? value
        : JSON.stringify(value);
  }
  return out;
}

/** The first `mlflow_model` output of a trial, whose best-trial URI a ModelVersion can register. */
export function modelOutputName(
  outputs: Readonly<Record<string, { type?: string }>> | undefined,
): string | undefined {
  return Object.entries(outputs ?? {}).find(([, o]) => o?.type === "mlflow_model")?.[0];
}
