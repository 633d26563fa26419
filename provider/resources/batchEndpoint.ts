import * as pulumi from "@pulumi/pulumi";
import { lazyProvider } from "./lazyProvider";
import { ownerKeyFor } from "./ownerKey";
import type { WorkspaceArgs } from "./workspaceArgs";
import type { EndpointAuthMode, IdentityType } from "../operations/batch";

/** A managed identity for an endpoint. */
export interface BatchEndpointIdentityArgs {
  /** `None`, `SystemAssigned`, `UserAssigned` or `SystemAssigned,UserAssigned`. */
  readonly type: pulumi.Input<IdentityType>;
  /** ARM ids of the user-assigned identities (required with `UserAssigned`). */
  readonly userAssignedIdentityIds?: pulumi.Input<pulumi.Input<string>[]>;
}

/** Arguments of a {@link BatchEndpoint}. */
export interface BatchEndpointArgs extends WorkspaceArgs {
  /**
   * The endpoint's name: 3 to 32 letters, digits and single dashes, starting with a letter. Azure
   * requires it to be unique in the workspace's region. Defaults to the Pulumi resource name.
   */
  readonly name?: pulumi.Input<string>;
  /**
   * How callers authenticate when invoking the endpoint. Batch endpoints support Entra ID tokens.
   * @default "AADToken"
   */
  readonly authMode?: pulumi.Input<EndpointAuthMode>;
  /** A description; updated in place. */
  readonly description?: pulumi.Input<string>;
  /** Tags; updated in place. */
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * Endpoint properties (a string map). Azure lets properties be added, never removed or altered,
   * so removing or changing one replaces the endpoint.
   */
  readonly properties?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** The endpoint's managed identity; updated in place. */
  readonly identity?: pulumi.Input<BatchEndpointIdentityArgs>;
  /**
   * Bump this to force an update after upgrading this package (a change in provider code alone is
   * never a change).
   */
  readonly providerVersion?: pulumi.Input<string>;
}

/** Plain inputs the provider receives. */
export interface BatchEndpointInputs {
  workspaceId?: string;
  subscriptionId?: string;
  resourceGroupName?: string;
  workspaceName?: string;
  name: string;
  authMode?: EndpointAuthMode;
  description?: string;
  tags?: Record<string, string>;
  properties?: Record<string, string>;
  identity?: { type: IdentityType; userAssignedIdentityIds?: string[] };
  providerVersion?: string;
  /** See `ownerKeyFor`: marks the endpoint this resource created. */
  ownerKey?: string;
}

/** Outputs of a {@link BatchEndpoint}. */
export interface BatchEndpointOutputs extends BatchEndpointInputs {
  authMode: EndpointAuthMode;
  /** The endpoint's ARM id (also this resource's id). */
  endpointId: string;
  /** The workspace's region, where the endpoint lives. */
  location: string;
  /** Where scoring jobs are started: `POST` with a token for `https://ml.azure.com`. */
  scoringUri: string;
  swaggerUri: string;
  provisioningState: string;
  /**
   * The deployment invocations go to when they name none, as Azure ML holds it now (set it with a
   * {@link BatchEndpointDefaultDeployment}; `pulumi refresh` updates it).
   */
  defaultDeploymentName?: string;
  /** The principal id of a system-assigned identity. */
  principalId?: string;
}

const batchEndpointProvider = lazyProvider<BatchEndpointInputs, BatchEndpointOutputs>(
  "pulumi-azureml/provider/lifecycle/batchEndpoint",
);

/**
 * A batch endpoint: the stable URI scoring jobs are started at. Its deployments are
 * {@link BatchDeployment}s, and which one serves invocations by default is a
 * {@link BatchEndpointDefaultDeployment}, so the three never fight in each other's diffs.
 */
export class BatchEndpoint extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  declare readonly authMode: pulumi.Output<EndpointAuthMode>;
  declare readonly endpointId: pulumi.Output<string>;
  declare readonly location: pulumi.Output<string>;
  declare readonly scoringUri: pulumi.Output<string>;
  declare readonly swaggerUri: pulumi.Output<string>;
  declare readonly provisioningState: pulumi.Output<string>;
  declare readonly defaultDeploymentName: pulumi.Output<string | undefined>;
  declare readonly principalId: pulumi.Output<string | undefined>;

  /**
   * @param name The _unique_ name of the resource; also the endpoint name unless [name] is given.
   * @param args The arguments to use to populate this resource's properties.
   * @param opts A bag of options that control this resource's behavior.
   */
  constructor(name: string, args: BatchEndpointArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      batchEndpointProvider,
      name,
      {
        authMode: undefined,
        endpointId: undefined,
        location: undefined,
        scoringUri: undefined,
        swaggerUri: undefined,
        provisioningState: undefined,
        defaultDeploymentName: undefined,
        principalId: undefined,
        ...args,
        name: args.name ?? name,
        ownerKey: ownerKeyFor("BatchEndpoint", name),
      },
      opts,
      "azureml",
      "BatchEndpoint",
    );
  }
}
