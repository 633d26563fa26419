/**
 * MetricGate lifecycle: remembers the last candidate whose metric passed the threshold. Nothing is
 * sent to Azure. Loaded by the provider host through
 * `await import("pulumi-azureml/provider/lifecycle/metricGate")`.
 *
 * - check: the threshold (exactly one of minimum and maximum, finite numbers), the metric's name.
 * - diff: a change only when the value passes and the candidate is not the one already approved
 *   (or the value is not known yet, in preview). A failing value, or a threshold change that does
 *   not approve anything new, is no change: the engine keeps the stored outputs, so `approved`
 *   stays as it was, known in the preview.
 * - create/update: `approved` is the candidate when it passes, else what was approved before.
 * - delete: nothing to do.
 */
import { randomUUID } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import { evaluateGate, formatMetric, gateThresholdFailures } from "../operations/gate";
import type { MetricGateInputs, MetricGateOutputs } from "../resources/metricGate";
import { reportProgress } from "./progress";
import { Failures, fieldChanged, isFullyKnown, isKnown, withoutProvider } from "./shared";

type Inputs = MetricGateInputs;
type Outputs = MetricGateOutputs;

export async function check(
  _olds: Inputs,
  news: Inputs,
): Promise<pulumi.dynamic.CheckResult<Inputs>> {
  const failures = new Failures();
  const inputs = withoutProvider(news);
  for (const failure of gateThresholdFailures(inputs, "", (v) => !isKnown(v))) {
    failures.add(failure.property, failure.reason);
  }
  const value: unknown = inputs.value;
  if (value !== undefined && isKnown(value) && typeof value !== "number") {
    failures.add("value", `[value] must be a number, got ${JSON.stringify(value)}.`);
  }
  if (isKnown(inputs.candidate) && typeof inputs.candidate !== "string") {
    failures.add("candidate", "[candidate] must be a string (e.g. a model URI).");
  }
  return { inputs, failures: failures.list };
}

/**
 * Whether `news` approves something new over `olds` (pure): true when the value passes and the
 * candidate differs from the approved one, or when the decision needs values not known yet.
 */
export function approvesSomethingNew(olds: Outputs, news: Inputs): boolean {
  if (!isFullyKnown([news.value, news.minimum, news.maximum, news.metric, news.candidate])) {
    return true;
  }
  const verdict = evaluateGate(news, news.value);
  return verdict.passed && news.candidate !== olds.approved;
}

export async function diff(
  _id: string,
  olds: Outputs,
  news: Inputs,
): Promise<pulumi.dynamic.DiffResult> {
  const forced = fieldChanged(
    olds as unknown as Record<string, unknown>,
    news as unknown as Record<string, unknown>,
    "providerVersion",
  );
  return { changes: approvesSomethingNew(olds, news) || forced, replaces: [] };
}

function decide(news: Inputs, previous: Outputs | undefined): Outputs {
  const verdict = evaluateGate(news, news.value);
  if (verdict.passed) {
    return { ...news, approved: news.candidate, approvedValue: news.value };
  }
  const kept =
    previous?.approved === undefined
      ? {}
      : { approved: previous.approved, approvedValue: previous.approvedValue };
  return { ...news, ...kept };
}

export async function create(news: Inputs): Promise<pulumi.dynamic.CreateResult<Outputs>> {
  const outs = decide(withoutProvider(news), undefined);
  await report(outs);
  return { id: `metric-gate-${randomUUID()}`, outs };
}

export async function update(
  _id: string,
  olds: Outputs,
  news: Inputs,
): Promise<pulumi.dynamic.UpdateResult<Outputs>> {
  const outs = decide(withoutProvider(news), olds);
  await report(outs);
  return { outs };
}

async function report(outs: Outputs): Promise<void> {
  const verdict = evaluateGate(outs, outs.value);
  const kept =
    outs.approved === undefined
      ? "nothing is approved yet"
      : `approved: ${outs.approved}${outs.approvedValue === undefined ? "" : ` (${outs.metric} ${formatMetric(outs.approvedValue)})`}`;
  await reportProgress(
    `Metric gate ${verdict.passed ? "passed" : "failed"}: ${verdict.reason}; ${kept}.`,
  );
}

export async function read(
  id: string,
  props: Outputs,
): Promise<pulumi.dynamic.ReadResult<Outputs>> {
  // The record lives only in the stack's state: what is stored is what there is.
  return { id, props };
}

async function remove(): Promise<void> {
  // Nothing outside the state to delete.
}

export { remove as delete };
