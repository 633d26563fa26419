import * as pulumi from "@pulumi/pulumi";
import { MetricGate } from "../provider/resources/metricGate";
import { ModelVersion } from "../provider/resources/modelVersion";
import { SweepJob, type SweepJobArgs } from "../provider/resources/sweepJob";
import type { WorkspaceArgs } from "../provider/resources/workspaceArgs";
import { assetName, childName, workspaceOf } from "./derive";
import {
  describeGateOutcome,
  evaluateGate,
  gateThresholdFailures,
  type GateVerdict,
} from "../provider/operations/gate";

/**
 * The metric gate of a {@link HyperparameterSweep}: the best trial's model is registered only
 * when its metric passes. Give exactly one of [minimum] and [maximum].
 */
export interface SweepGateArgs {
  /** The metric compared. Defaults to the sweep's primary metric. */
  readonly metric?: string;
  /** The metric must be at least this (e.g. accuracy). */
  readonly minimum?: pulumi.Input<number>;
  /** The metric must be at most this (e.g. a loss). */
  readonly maximum?: pulumi.Input<number>;
}

/**
 * HyperparameterSweepArgs describe a sweep (as {@link SweepJob} takes it) and how its best trial's
 * model is registered.
 */
export interface HyperparameterSweepArgs
  extends
    WorkspaceArgs,
    Omit<
      SweepJobArgs,
      "workspaceId" | "subscriptionId" | "resourceGroupName" | "workspaceName" | "objective"
    > {
  /** The metric the trials log and whether to `maximize` or `minimize` it. */
  readonly objective: { readonly primaryMetric: string; readonly goal: "maximize" | "minimize" };
  /** The registered model's name. Defaults to `<name>-model`. */
  readonly modelName?: pulumi.Input<string>;
  /**
   * The trial output holding the model. Defaults to the best trial's first `mlflow_model` output
   * (the sweep's `bestModelUri`).
   */
  readonly modelOutput?: string;
  /**
   * Register the best model only when its metric passes this threshold; otherwise the registered
   * model stays the one that passed last (kept in a {@link MetricGate}). No gate: always register.
   */
  readonly gate?: SweepGateArgs;
}

/**
 * A hyperparameter sweep ({@link SweepJob}) whose best trial's model is registered as a
 * {@link ModelVersion}, behind an optional metric gate ({@link MetricGate}). With a gate, a best
 * metric that fails the threshold leaves the registered model as it was, and says so (a warning
 * in the preview and the update, and the `gateOutcome` output); when no model has passed yet, the
 * update fails saying why, since there is nothing to register.
 */
export class HyperparameterSweep extends pulumi.ComponentResource {
  public readonly sweep: SweepJob;
  /** The gate's record of the last approved model, when [gate] was given. */
  public readonly gate: MetricGate | undefined;
  /** The registered model: the best trial's, or the last one that passed the gate. */
  public readonly model: ModelVersion;
  /** The best trial's value of the gate's metric (the primary metric without a gate). */
  public readonly bestMetric: pulumi.Output<number | undefined>;
  /** The hyperparameters of the best trial. */
  public readonly bestHyperparameters: pulumi.Output<Record<string, string | number | boolean>>;
  /** Whether the best trial passed the gate (true without a gate). */
  public readonly gatePassed: pulumi.Output<boolean>;
  /** What the gate decided and what happened to the registered model, in one sentence. */
  public readonly gateOutcome: pulumi.Output<string>;
  /** `azureml:<name>:<version>` of the registered model. */
  public readonly modelReference: pulumi.Output<string>;

  /**
   * @param name The _unique_ name of this component.
   * @param args The arguments to use to populate this component's children.
   * @param opts A bag of options that control this component's behavior.
   */
  constructor(name: string, args: HyperparameterSweepArgs, opts?: pulumi.ComponentResourceOptions) {
    super("azureml:components:HyperparameterSweep", name, {}, opts);
    const gateArgs = args.gate;
    const metric = gateArgs?.metric ?? args.objective.primaryMetric;
    if (gateArgs) {
      const failures = gateThresholdFailures(
        { metric, minimum: gateArgs.minimum, maximum: gateArgs.maximum },
        "gate.",
        (v) => pulumi.Output.isInstance(v) || v instanceof Promise,
      );
      if (failures.length > 0) {
        throw new pulumi.ResourceError(
          failures.map((f) => `[${f.property}]: ${f.reason}`).join(" "),
          this,
        );
      }
    }
    const workspace = workspaceOf(args);
    const child = { parent: this };
    const {
      gate: _gate,
      modelName,
      modelOutput,
      workspaceId: _w,
      subscriptionId: _s,
      resourceGroupName: _r,
      workspaceName: _n,
      ...sweepArgs
    } = args;

    this.sweep = new SweepJob(childName(name, "sweep"), { ...workspace, ...sweepArgs }, child);
    const candidate: pulumi.Output<string | undefined> =
      modelOutput === undefined
        ? this.sweep.bestModelUri
        : this.sweep.bestTrialOutputUris.apply((uris) => uris[modelOutput]);
    this.bestMetric = pulumi
      .all([this.sweep.bestPrimaryMetric, this.sweep.bestTrialMetrics])
      .apply(([primary, metrics]) =>
        metric === args.objective.primaryMetric ? primary : metrics[metric],
      );
    this.bestHyperparameters = this.sweep.bestHyperparameters;

    let modelPath: pulumi.Output<string>;
    if (gateArgs) {
      const gate = new MetricGate(
        childName(name, "gate"),
        {
          metric,
          value: this.bestMetric,
          minimum: gateArgs.minimum,
          maximum: gateArgs.maximum,
          candidate: candidate.apply((c) => c ?? ""),
        },
        child,
      );
      this.gate = gate;
      const verdict: pulumi.Output<GateVerdict> = pulumi
        .all([this.bestMetric, gateArgs.minimum, gateArgs.maximum])
        .apply(([value, minimum, maximum]) => evaluateGate({ metric, minimum, maximum }, value));
      // A passing verdict registers the candidate (known in preview when the sweep is unchanged);
      // a failing one registers what the gate approved before: the gate's diff reports no change,
      // so its stored approval is known in the preview too.
      modelPath = verdict.apply((v) =>
        v.passed
          ? candidate.apply((c) => requireModel(c, "The sweep's best trial has no model output."))
          : gate.approved.apply((a) =>
              requireModel(a, `The ${describeGateOutcome(v, undefined)}.`),
            ),
      );
      this.gatePassed = verdict.apply((v) => v.passed);
      this.gateOutcome = verdict.apply((v) => {
        const outcome = v.passed
          ? pulumi.output(describeGateOutcome(v, undefined))
          : gate.approved.apply((a) => describeGateOutcome(v, a));
        return outcome.apply((text) => {
          void (v.passed ? pulumi.log.info(text, this) : pulumi.log.warn(text, this));
          return text;
        });
      });
    } else {
      this.gate = undefined;
      modelPath = candidate.apply((c) =>
        requireModel(c, "The sweep's best trial has no model output."),
      );
      this.gatePassed = pulumi.output(true);
      this.gateOutcome = pulumi.output("no gate: the best model is registered");
    }

    this.model = new ModelVersion(
      childName(name, "model"),
      {
        ...workspace,
        name: modelName ?? assetName(undefined, name, "model"),
        modelType: "mlflow_model",
        path: modelPath,
        tags: args.tags,
      },
      { parent: this, dependsOn: this.gate ? [this.gate] : [] },
    );
    this.modelReference = this.model.assetReference;
    this.registerOutputs({
      bestMetric: this.bestMetric,
      bestHyperparameters: this.bestHyperparameters,
      gatePassed: this.gatePassed,
      gateOutcome: this.gateOutcome,
      modelReference: this.modelReference,
    });
  }
}

function requireModel(uri: string | undefined, message: string): string {
  if (uri === undefined || uri === "") {
    throw new Error(message);
  }
  return uri;
}
