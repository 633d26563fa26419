/**
 * Early termination, with Azure's documented semantics. Each time a trial logs the primary metric
 * is one interval (1-based). Intervals k >= delayEvaluation that are multiples of
 * evaluationInterval (0 counts as 1) are evaluation points; a running trial is judged at the
 * latest one it has reached, against every trial (running or ended) that has reached it too:
 *
 * - Bandit: terminated when its value at k is outside the slack of the best value at k
 *   (maximize: below best / (1 + slackFactor), or below best - slackAmount; minimize: above
 *   best * (1 + slackFactor), or above best + slackAmount).
 * - MedianStopping: terminated when its best value up to k is worse than the median of the
 *   trials' running averages up to k.
 * - TruncationSelection: terminated when it is among the lowest truncationPercentage percent of
 *   the trials by value at k (rounded down: with too few trials, none is cut).
 */
import type { EarlyTermination, Goal } from "./spec";

export interface TrialCurve {
  name: string;
  /** Still running: only running trials can be terminated. */
  running: boolean;
  /** The primary metric, in the order the trial logged it. */
  values: readonly number[];
}

/** True when `a` is better than `b` for the goal. */
export function better(goal: Goal, a: number, b: number): boolean {
  return goal === "Maximize" ? a > b : a < b;
}

export function isEvaluationPoint(policy: EarlyTermination, k: number): boolean {
  return k >= 1 && k >= policy.delay && k % Math.max(1, policy.interval) === 0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Whether the policy terminates `trial` at interval k (1-based, reached by the trial). */
export function terminatesAt(
  policy: EarlyTermination,
  goal: Goal,
  trial: TrialCurve,
  all: readonly TrialCurve[],
  k: number,
): boolean {
  const peers = all.filter((t) => t.values.length >= k);
  const at = (t: TrialCurve) => t.values[k - 1];
  const mine = at(trial);
  switch (policy.policyType) {
    case "Bandit": {
      const best = peers.map(at).reduce((b, v) => (better(goal, v, b) ? v : b));
      if (policy.slackAmount > 0) {
        return goal === "Maximize"
          ? mine < best - policy.slackAmount
          : mine > best + policy.slackAmount;
      }
      return goal === "Maximize"
        ? mine < best / (1 + policy.slackFactor)
        : mine > best * (1 + policy.slackFactor);
    }
    case "MedianStopping": {
      const averages = peers.map((t) => {
        const head = t.values.slice(0, k);
        return head.reduce((s, v) => s + v, 0) / head.length;
      });
      const head = trial.values.slice(0, k);
      const bestSoFar = head.reduce((b, v) => (better(goal, v, b) ? v : b));
      // Averages carry rounding (a constant curve's average can differ from it in the last bit):
      // only a median better by more than that stops the trial.
      const m = median(averages);
      return (
        better(goal, m, bestSoFar) && Math.abs(m - bestSoFar) > 1e-9 * Math.max(1, Math.abs(m))
      );
    }
    case "TruncationSelection": {
      const cut = Math.floor((peers.length * policy.truncationPercentage) / 100);
      if (cut === 0) {
        return false;
      }
      // Worst first; ties keep the order the trials were listed (earlier trials first).
      const ranked = [...peers].sort((a, b) =>
        better(goal, at(a), at(b)) ? 1 : better(goal, at(b), at(a)) ? -1 : 0,
      );
      return ranked.slice(0, cut).some((t) => t.name === trial.name);
    }
    default:
      return false;
  }
}

/** The last interval up to `reached` at which the policy is evaluated, or 0 when none is. */
export function latestEvaluationPoint(policy: EarlyTermination, reached: number): number {
  for (let k = reached; k >= 1; k--) {
    if (isEvaluationPoint(policy, k)) {
      return k;
    }
  }
  return 0;
}

/**
 * The running trials the policy terminates now: each is judged at the latest evaluation point
 * it has reached, against every trial that has reached it too. A trial is judged again on each
 * look, so trials that reach that interval later still count (as Azure applies the policy
 * periodically, not once per interval).
 */
export function trialsToTerminate(
  policy: EarlyTermination,
  goal: Goal,
  trials: readonly TrialCurve[],
): string[] {
  return trials
    .filter((trial) => {
      if (!trial.running) {
        return false;
      }
      const k = latestEvaluationPoint(policy, trial.values.length);
      return k >= 1 && terminatesAt(policy, goal, trial, trials, k);
    })
    .map((t) => t.name);
}
