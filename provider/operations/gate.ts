/**
 * The metric gate, as pure functions: does a metric pass a threshold, and what the flow does about
 * it. Used by the `MetricGate` resource's provider (validation, which candidate it records) and by
 * the components (the verdict shown in preview and in the stack outputs). No Pulumi imports:
 * unit-tested as plain functions.
 */

/** A threshold on one metric: give exactly one of [minimum] and [maximum]. */
export interface GateThreshold {
  /** The metric's name, as the runs log it (e.g. `accuracy`). */
  readonly metric: string;
  /** The metric passes when it is at least this (for metrics to maximize, such as accuracy). */
  readonly minimum?: number;
  /** The metric passes when it is at most this (for metrics to minimize, such as a loss). */
  readonly maximum?: number;
}

/** What the gate decided about one value. */
export interface GateVerdict {
  readonly passed: boolean;
  /** One sentence naming the metric, its value and the threshold, e.g. "accuracy 0.97 ≥ minimum 0.9". */
  readonly reason: string;
}

/** A check finding: the property to fix and why. */
export interface GateFailure {
  readonly property: string;
  readonly reason: string;
}

/**
 * What is wrong with a threshold, naming the property (`[prefix]metric`, `minimum`, `maximum`).
 * Values that are not known yet (`unknown` is the caller's test) are not judged.
 */
export function gateThresholdFailures(
  threshold: { metric?: unknown; minimum?: unknown; maximum?: unknown },
  prefix = "",
  isUnknown: (value: unknown) => boolean = () => false,
): GateFailure[] {
  const failures: GateFailure[] = [];
  const { metric, minimum, maximum } = threshold;
  if (!isUnknown(metric) && (typeof metric !== "string" || metric.trim() === "")) {
    failures.push({
      property: `${prefix}metric`,
      reason: "[metric] must name the metric the gate compares (e.g. accuracy).",
    });
  }
  if ((minimum === undefined) === (maximum === undefined)) {
    failures.push({
      property: `${prefix}minimum`,
      reason:
        "Give exactly one of [minimum] (the metric must be at least) and [maximum] (at most).",
    });
  }
  for (const [key, value] of [
    ["minimum", minimum],
    ["maximum", maximum],
  ] as const) {
    if (value !== undefined && !isUnknown(value)) {
      if (typeof value !== "number" || !Number.isFinite(value)) {
        failures.push({
          property: `${prefix}${key}`,
          reason: `[${key}] must be a finite number, got ${JSON.stringify(value)}.`,
        });
      }
    }
  }
  return failures;
}

/** Compact rendering of a metric value: up to four decimals, no trailing zeros. */
export function formatMetric(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(4)));
}

/**
 * Does `value` pass `threshold`? A missing or non-finite value fails. The threshold itself is
 * assumed valid ({@link gateThresholdFailures}).
 */
export function evaluateGate(threshold: GateThreshold, value: number | undefined): GateVerdict {
  const { metric, minimum, maximum } = threshold;
  if (value === undefined || value === null || !Number.isFinite(value)) {
    return {
      passed: false,
      reason: `no ${metric} was logged by the best run, so it cannot pass the gate`,
    };
  }
  const shown = `${metric} ${formatMetric(value)}`;
  if (minimum !== undefined) {
    return value >= minimum
      ? { passed: true, reason: `${shown} ≥ minimum ${formatMetric(minimum)}` }
      : { passed: false, reason: `${shown} is below the minimum ${formatMetric(minimum)}` };
  }
  if (maximum !== undefined) {
    return value <= maximum
      ? { passed: true, reason: `${shown} ≤ maximum ${formatMetric(maximum)}` }
      : { passed: false, reason: `${shown} is above the maximum ${formatMetric(maximum)}` };
  }
  throw new TypeError("A gate threshold needs [minimum] or [maximum].");
}

/**
 * The candidate the flow registers and deploys: the new one when the gate passed, else the one
 * the gate approved last (undefined when none ever passed).
 */
export function approvedCandidate(
  verdict: GateVerdict,
  candidate: string,
  previouslyApproved: string | undefined,
): string | undefined {
  return verdict.passed ? candidate : previouslyApproved;
}

/**
 * The sentence the flow prints and exports about the gate: what it decided and what happens to the
 * registered and deployed model.
 */
export function describeGateOutcome(
  verdict: GateVerdict,
  previouslyApproved: string | undefined,
): string {
  if (verdict.passed) {
    return `gate passed: ${verdict.reason}; the best model is registered and deployed`;
  }
  return previouslyApproved === undefined
    ? `gate failed: ${verdict.reason}; no model has passed the gate yet, so nothing is registered or deployed`
    : `gate failed: ${verdict.reason}; the registered and deployed model stay as they were (${previouslyApproved})`;
}
