import * as pulumi from "@pulumi/pulumi";
import { armIdOf } from "./batchDeployment";
import { lazyProvider } from "./lazyProvider";

/** Arguments of a {@link BatchEndpointDefaultDeployment}. */
export interface BatchEndpointDefaultDeploymentArgs {
  /** The endpoint: a {@link BatchEndpoint} or its ARM id. */
  readonly endpoint: pulumi.Input<string> | pulumi.CustomResource;
  /**
   * The deployment invocations go to when they name none: a {@link BatchDeployment} of the
   * endpoint, or its name. Give the resource, so that a deployment that is replaced (deleted and
   * created again under its name) is made the default again.
   */
  readonly deployment: pulumi.Input<string> | pulumi.CustomResource;
  /**
   * Bump this to force an update after upgrading this package (a change in provider code alone is
   * never a change).
   */
  readonly providerVersion?: pulumi.Input<string>;
}

/** Plain inputs the provider receives. */
export interface BatchEndpointDefaultDeploymentInputs {
  endpointId: string;
  deploymentName: string;
  /** When the deployment was created, when a BatchDeployment was given: a replacement changes it. */
  deploymentCreatedAt?: string;
  /**
   * The deployment's `incarnation`, when a BatchDeployment was given: a replacement changes it,
   * and it is known in a preview. Compared instead of `deploymentCreatedAt` when both the state
   * and the new inputs have it.
   */
  deploymentIncarnation?: string;
  providerVersion?: string;
}

/** Outputs of a {@link BatchEndpointDefaultDeployment}. */
export interface BatchEndpointDefaultDeploymentOutputs extends BatchEndpointDefaultDeploymentInputs {
  /** The endpoint's name. */
  endpointName: string;
  /** The default deployment before this resource set it, if any. */
  previousDeploymentName?: string;
}

const defaultDeploymentProvider = lazyProvider<
  BatchEndpointDefaultDeploymentInputs,
  BatchEndpointDefaultDeploymentOutputs
>("pulumi-azureml/provider/lifecycle/batchEndpointDefaultDeployment");

/**
 * Which deployment of a batch endpoint serves invocations that name none (the endpoint's
 * `defaults.deploymentName`). It is a resource of its own so that the endpoint, its deployments
 * and the default never fight in each other's diffs: the endpoint never sends a default of its
 * own, deployments carry no default flag, and a preview of this resource shows the deployment
 * that becomes the default. Destroying it leaves the endpoint's default as it is.
 */
export class BatchEndpointDefaultDeployment extends pulumi.dynamic.Resource {
  declare readonly endpointId: pulumi.Output<string>;
  declare readonly endpointName: pulumi.Output<string>;
  declare readonly deploymentName: pulumi.Output<string>;
  declare readonly previousDeploymentName: pulumi.Output<string | undefined>;
  /**
   * The {@link BatchDeployment} resource given as [deployment] (undefined for a name): what a
   * {@link BatchScoringJob} naming no deployment reads the served model from.
   */
  public readonly deploymentResource: pulumi.CustomResource | undefined;

  /**
   * @param name The _unique_ name of the resource.
   * @param args The arguments to use to populate this resource's properties.
   * @param opts A bag of options that control this resource's behavior.
   */
  constructor(
    name: string,
    args: BatchEndpointDefaultDeploymentArgs,
    opts?: pulumi.CustomResourceOptions,
  ) {
    const deployment = args.deployment;
    const isResource = pulumi.CustomResource.isInstance(deployment);
    const fields = deployment as unknown as {
      name?: pulumi.Output<string>;
      createdAt?: pulumi.Output<string>;
      incarnation?: pulumi.Output<string>;
    };
    super(
      defaultDeploymentProvider,
      name,
      {
        endpointName: undefined,
        previousDeploymentName: undefined,
        providerVersion: args.providerVersion,
        endpointId: armIdOf(args.endpoint),
        deploymentName: isResource ? fields.name : (deployment as pulumi.Input<string>),
        deploymentCreatedAt: isResource ? fields.createdAt : undefined,
        deploymentIncarnation: isResource ? fields.incarnation : undefined,
      },
      opts,
      "azureml",
      "BatchEndpointDefaultDeployment",
    );
    this.deploymentResource = isResource ? (deployment as pulumi.CustomResource) : undefined;
  }
}
