/**
 * Pure rules about a sweep job's specification (contract 4.7): the search-space syntax, what Azure
 * refuses at PUT, the `${{search_space.x}}` bindings of the trial command, and the command job a
 * trial becomes.
 */
import { ErrorFactory } from "../errors";
import { asObject, type Json } from "../handlers/common";
import { findBindings, parseIsoDuration } from "../jobs/spec";

/** Arguments each distribution takes (`["uniform", [min, max]]`). */
export const DISTRIBUTION_ARITY: Readonly<Record<string, number>> = {
  choice: 1,
  randint: 1,
  uniform: 2,
  loguniform: 2,
  normal: 2,
  lognormal: 2,
  quniform: 3,
  qloguniform: 3,
  qnormal: 3,
  qlognormal: 3,
};

/** Distributions Bayesian sampling supports (Azure: choice, uniform and quniform). */
export const BAYESIAN_DISTRIBUTIONS: readonly string[] = ["choice", "uniform", "quniform"];

export interface SearchParameter {
  name: string;
  kind: string;
  args: unknown[];
}

export type Goal = "Maximize" | "Minimize";

export type EarlyTermination =
  | {
      policyType: "Bandit";
      slackFactor: number;
      slackAmount: number;
      interval: number;
      delay: number;
    }
  | { policyType: "MedianStopping"; interval: number; delay: number }
  | {
      policyType: "TruncationSelection";
      truncationPercentage: number;
      interval: number;
      delay: number;
    };

/** What the sweep controller needs from a stored sweep, parsed once. */
export interface SweepPlan {
  primaryMetric: string;
  goal: Goal;
  parameters: SearchParameter[];
  samplingAlgorithm: Json;
  maxTotalTrials: number;
  maxConcurrentTrials: number;
  timeoutInMs?: number;
  trialTimeout?: string;
  earlyTermination?: EarlyTermination;
}

/** Trials a sweep runs when `limits.maxTotalTrials` is not given (azure-ai-ml's default). */
export const DEFAULT_MAX_TOTAL_TRIALS = 1000;

const SEARCH_SPACE_BINDING = "search_space";

function bad(message: string, target: string): Error {
  return ErrorFactory.badArgument(message, target);
}

function isNumber(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/** Parses `searchSpace`, refusing a bad distribution, arity or bound (the parameter is named). */
export function parseSearchSpace(raw: unknown): SearchParameter[] {
  const space = asObject(raw);
  const names = Object.keys(space);
  if (names.length === 0) {
    throw bad("searchSpace must name at least one parameter.", "properties.searchSpace");
  }
  return names.map((name) => {
    const target = `properties.searchSpace.${name}`;
    const spec = space[name];
    if (
      !Array.isArray(spec) ||
      spec.length !== 2 ||
      typeof spec[0] !== "string" ||
      !Array.isArray(spec[1])
    ) {
      throw bad(`${name} must be ["<distribution>", [<arguments>]].`, target);
    }
    const kind = spec[0].toLowerCase();
    const args = spec[1] as unknown[];
    const arity = DISTRIBUTION_ARITY[kind];
    if (arity === undefined) {
      throw bad(`${name} uses the unknown distribution '${spec[0]}'.`, target);
    }
    if (args.length !== arity) {
      throw bad(`${kind} takes ${arity} argument(s); ${name} gives ${args.length}.`, target);
    }
    if (kind === "choice") {
      if (!Array.isArray(args[0]) || args[0].length === 0) {
        throw bad(`choice takes one non-empty list of values: ["choice", [[...]]].`, target);
      }
    } else {
      if (!args.every(isNumber)) {
        throw bad(`The ${kind} arguments of ${name} must be numbers.`, target);
      }
      const n = args as number[];
      if (kind === "randint" && (!Number.isInteger(n[0]) || n[0] < 1)) {
        throw bad(`The randint upper bound of ${name} must be an integer of at least 1.`, target);
      }
      if (/uniform$/.test(kind) && n[0] > n[1]) {
        throw bad(`The minimum of ${name} (${n[0]}) is above its maximum (${n[1]}).`, target);
      }
      if (/normal$/.test(kind) && n[1] <= 0) {
        throw bad(`The sigma of ${name} must be positive.`, target);
      }
      if (kind.startsWith("q") && n[2] <= 0) {
        throw bad(`The q of ${name} must be positive.`, target);
      }
    }
    return { name, kind, args };
  });
}

function positiveInt(value: unknown, target: string): number | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  if (!Number.isInteger(value) || (value as number) < 1) {
    throw bad(`${target.split(".").pop()} must be a positive integer.`, target);
  }
  return value as number;
}

function duration(value: unknown, target: string): number | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  const ms = typeof value === "string" ? parseIsoDuration(value) : undefined;
  if (ms === undefined) {
    throw bad(`${String(value)} is not an ISO 8601 duration such as PT30M.`, target);
  }
  return ms;
}

/**
 * Validates a sweep's properties as Azure does at PUT and returns its plan. Refused: a missing
 * objective, sampling algorithm, search space or trial; grid sampling over anything but choice;
 * Bayesian sampling over other distributions or with an early termination policy; a binding
 * `${{search_space.x}}` to no parameter; both slack factor and slack amount.
 */
export function planSweep(props: Json): SweepPlan {
  const objective = asObject(props.objective);
  if (typeof objective.primaryMetric !== "string" || objective.primaryMetric === "") {
    throw bad("objective.primaryMetric is required.", "properties.objective.primaryMetric");
  }
  if (objective.goal !== "Maximize" && objective.goal !== "Minimize") {
    throw bad("objective.goal must be Maximize or Minimize.", "properties.objective.goal");
  }
  const sampling = asObject(props.samplingAlgorithm);
  const algorithm = String(sampling.samplingAlgorithmType ?? "");
  if (!["Grid", "Random", "Bayesian"].includes(algorithm)) {
    throw bad(
      `samplingAlgorithmType must be Grid, Random or Bayesian, not '${algorithm}'.`,
      "properties.samplingAlgorithm.samplingAlgorithmType",
    );
  }
  if (algorithm === "Random" && sampling.rule !== undefined && sampling.rule !== null) {
    if (sampling.rule !== "Random" && sampling.rule !== "Sobol") {
      throw bad("rule must be Random or Sobol.", "properties.samplingAlgorithm.rule");
    }
  }
  if (sampling.seed !== undefined && sampling.seed !== null && !Number.isInteger(sampling.seed)) {
    throw bad("seed must be an integer.", "properties.samplingAlgorithm.seed");
  }
  const parameters = parseSearchSpace(props.searchSpace);
  for (const p of parameters) {
    if (algorithm === "Grid" && p.kind !== "choice") {
      throw bad(
        `Grid sampling supports choice only; ${p.name} is ${p.kind}.`,
        `properties.searchSpace.${p.name}`,
      );
    }
    if (algorithm === "Bayesian" && !BAYESIAN_DISTRIBUTIONS.includes(p.kind)) {
      throw bad(
        `Bayesian sampling supports choice, uniform and quniform only; ${p.name} is ${p.kind}.`,
        `properties.searchSpace.${p.name}`,
      );
    }
  }

  const trial = asObject(props.trial);
  if (typeof trial.command !== "string" || trial.command === "") {
    throw bad("trial.command is required.", "properties.trial.command");
  }
  if (typeof trial.environmentId !== "string" || trial.environmentId === "") {
    throw bad("trial.environmentId is required.", "properties.trial.environmentId");
  }
  const known = new Set(parameters.map((p) => p.name));
  for (const b of findBindings(trial.command)) {
    if (b.namespace === SEARCH_SPACE_BINDING && !known.has(b.name)) {
      throw bad(
        `The trial command refers to ${b.text}, which the search space does not define.`,
        "properties.trial.command",
      );
    }
  }

  const limits = asObject(props.limits);
  const maxTotalTrials =
    positiveInt(limits.maxTotalTrials, "properties.limits.maxTotalTrials") ??
    DEFAULT_MAX_TOTAL_TRIALS;
  const maxConcurrentTrials =
    positiveInt(limits.maxConcurrentTrials, "properties.limits.maxConcurrentTrials") ??
    maxTotalTrials;
  const timeoutInMs = duration(limits.timeout, "properties.limits.timeout");
  duration(limits.trialTimeout, "properties.limits.trialTimeout");

  let earlyTermination: EarlyTermination | undefined;
  const et = props.earlyTermination;
  if (et !== undefined && et !== null) {
    const policy = asObject(et);
    if (algorithm === "Bayesian") {
      throw bad(
        "Bayesian sampling does not support early termination policies.",
        "properties.earlyTermination",
      );
    }
    const num = (v: unknown, target: string, fallback = 0): number => {
      if (v === undefined || v === null) {
        return fallback;
      }
      if (!isNumber(v) || v < 0) {
        throw bad(`${target.split(".").pop()} must be a non-negative number.`, target);
      }
      return v;
    };
    const base = {
      interval: Math.max(
        1,
        num(policy.evaluationInterval, "properties.earlyTermination.evaluationInterval"),
      ),
      delay: num(policy.delayEvaluation, "properties.earlyTermination.delayEvaluation"),
    };
    switch (policy.policyType) {
      case "Bandit": {
        const slackFactor = num(policy.slackFactor, "properties.earlyTermination.slackFactor");
        const slackAmount = num(policy.slackAmount, "properties.earlyTermination.slackAmount");
        if (slackFactor > 0 && slackAmount > 0) {
          throw bad(
            "A Bandit policy takes slackFactor or slackAmount, not both.",
            "properties.earlyTermination.slackFactor",
          );
        }
        earlyTermination = { policyType: "Bandit", slackFactor, slackAmount, ...base };
        break;
      }
      case "MedianStopping":
        earlyTermination = { policyType: "MedianStopping", ...base };
        break;
      case "TruncationSelection": {
        const pct = num(
          policy.truncationPercentage,
          "properties.earlyTermination.truncationPercentage",
        );
        if (pct < 1 || pct > 99 || !Number.isInteger(pct)) {
          throw bad(
            "truncationPercentage must be an integer from 1 to 99.",
            "properties.earlyTermination.truncationPercentage",
          );
        }
        earlyTermination = {
          policyType: "TruncationSelection",
          truncationPercentage: pct,
          ...base,
        };
        break;
      }
      default:
        throw bad(
          `policyType must be Bandit, MedianStopping or TruncationSelection, not '${String(policy.policyType)}'.`,
          "properties.earlyTermination.policyType",
        );
    }
  }

  return {
    primaryMetric: objective.primaryMetric,
    goal: objective.goal,
    parameters,
    samplingAlgorithm: sampling,
    maxTotalTrials,
    maxConcurrentTrials,
    timeoutInMs,
    trialTimeout: typeof limits.trialTimeout === "string" ? limits.trialTimeout : undefined,
    earlyTermination,
  };
}

/** A hyperparameter's value as it appears in a command (strings as they are, the rest as JSON). */
export function formatValue(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** Replaces `${{search_space.x}}` with the trial's values; other bindings are left for the runner. */
export function substituteSearchSpace(
  command: string,
  params: Readonly<Record<string, unknown>>,
): string {
  return command.replace(/\$\{\{([^}]*)\}\}/g, (whole) => {
    const [b] = findBindings(whole);
    return b !== undefined && b.namespace === SEARCH_SPACE_BINDING && b.name in params
      ? formatValue(params[b.name])
      : whole;
  });
}

/** The command with `${{search_space.x}}` removed, for the checks a command job gets. */
export function withoutSearchSpace(command: string): string {
  return command.replace(/\$\{\{\s*search_space\.[^}]*\}\}/g, "");
}

/** Azure names a sweep's trials `<sweep>_<n>`, counting from 0. */
export function trialName(sweepName: string, index: number): string {
  return `${sweepName}_${index}`;
}

/**
 * The command job a trial runs: the sweep's trial component with the values substituted, the
 * sweep's inputs, compute and experiment, outputs of its own, the trial timeout as its limit, and
 * its hyperparameters as a job property (`hyperparameters`, JSON).
 */
export function trialProperties(
  sweepName: string,
  sweep: Json,
  index: number,
  params: Readonly<Record<string, unknown>>,
): Json {
  const trial = asObject(sweep.trial);
  const limits = asObject(sweep.limits);
  const outputs: Json = {};
  for (const [name, raw] of Object.entries(asObject(sweep.outputs))) {
    if (name === "default") {
      continue;
    }
    // Each trial writes its own outputs (the sweep's default URIs point at the sweep).
    const { uri: _uri, ...rest } = asObject(raw);
    outputs[name] = rest;
  }
  const name = trialName(sweepName, index);
  return {
    jobType: "Command",
    displayName: name,
    experimentName: sweep.experimentName ?? "Default",
    computeId: sweep.computeId,
    command: substituteSearchSpace(String(trial.command), params),
    codeId: trial.codeId,
    environmentId: trial.environmentId,
    environmentVariables: trial.environmentVariables,
    distribution: trial.distribution,
    resources: trial.resources,
    inputs: sweep.inputs,
    outputs,
    ...(typeof limits.trialTimeout === "string"
      ? { limits: { jobLimitsType: "Command", timeout: limits.trialTimeout } }
      : {}),
    tags: {},
    properties: { hyperparameters: JSON.stringify(params) },
  };
}
