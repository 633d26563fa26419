import * as pulumi from "@pulumi/pulumi";
import { lazyProvider } from "./lazyProvider";

/** Arguments of a {@link MetricGate}. */
export interface MetricGateArgs {
  /** The metric's name, as the runs log it (e.g. `accuracy`). */
  readonly metric: pulumi.Input<string>;
  /** The candidate's value of [metric], e.g. a sweep's `bestPrimaryMetric`. */
  readonly value: pulumi.Input<number | undefined>;
  /** The metric passes when it is at least this. Give [minimum] or [maximum]. */
  readonly minimum?: pulumi.Input<number>;
  /** The metric passes when it is at most this. Give [minimum] or [maximum]. */
  readonly maximum?: pulumi.Input<number>;
  /** What is approved when the value passes, e.g. the best trial's model URI. */
  readonly candidate: pulumi.Input<string>;
  /** Bump this to force an update after upgrading this package. */
  readonly providerVersion?: pulumi.Input<string>;
}

/** Plain inputs the provider receives. */
export interface MetricGateInputs {
  metric: string;
  value?: number;
  minimum?: number;
  maximum?: number;
  candidate: string;
  providerVersion?: string;
}

/** Outputs of a {@link MetricGate}. */
export interface MetricGateOutputs extends MetricGateInputs {
  /** The last candidate whose value passed; undefined while none has. */
  approved?: string;
  /** Its value of [metric] when it passed. */
  approvedValue?: number;
}

const metricGateProvider = lazyProvider<MetricGateInputs, MetricGateOutputs>(
  "pulumi-azureml/provider/lifecycle/metricGate",
);

/**
 * The metric gate's memory: the last candidate whose metric passed the threshold, kept in the
 * stack's state. It sends nothing to Azure. When the value passes and the candidate is new, the
 * update records it; when the value fails (or the candidate is the one already approved), its diff
 * reports no change, so the recorded approval, and everything that uses it, stays as it was, in
 * the preview as in the update. The flow components register and deploy `approved`.
 */
export class MetricGate extends pulumi.dynamic.Resource {
  /** The last candidate that passed, or undefined while none has. */
  declare readonly approved: pulumi.Output<string | undefined>;
  /** Its metric value when it passed. */
  declare readonly approvedValue: pulumi.Output<number | undefined>;

  /**
   * @param name The _unique_ name of the resource.
   * @param args The arguments to use to populate this resource's properties.
   * @param opts A bag of options that control this resource's behavior.
   */
  constructor(name: string, args: MetricGateArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      metricGateProvider,
      name,
      { approved: undefined, approvedValue: undefined, ...args },
      opts,
      "azureml",
      "MetricGate",
    );
  }
}
