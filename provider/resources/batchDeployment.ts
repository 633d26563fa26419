import * as pulumi from "@pulumi/pulumi";
import { lazyProvider } from "./lazyProvider";
import { ownerKeyFor } from "./ownerKey";
import type { LoggingLevel, OutputAction } from "../operations/batch";

/** A resource whose Pulumi id is its ARM id (BatchEndpoint, ModelVersion, CodeVersion, EnvironmentVersion). */
type ArmResource = pulumi.CustomResource;

/** The scoring script of a deployment and the code folder it lives in. */
export interface BatchCodeConfigurationArgs {
  /** The code: a {@link CodeVersion}, its ARM id, or `azureml:<name>:<version>`. */
  readonly code: pulumi.Input<string> | ArmResource;
  /** The script's path inside the code folder, e.g. `batch_driver.py`; it defines `init()` and `run(mini_batch)`. */
  readonly scoringScript: pulumi.Input<string>;
}

/** How a failed mini-batch is retried. */
export interface BatchRetrySettingsArgs {
  /** @default 3 */
  readonly maxRetries?: pulumi.Input<number>;
  /** How long one mini-batch may run. @default 30 */
  readonly timeoutInSeconds?: pulumi.Input<number>;
}

/** Arguments of a {@link BatchDeployment}. */
export interface BatchDeploymentArgs {
  /** The endpoint: a {@link BatchEndpoint} or its ARM id. */
  readonly endpoint: pulumi.Input<string> | ArmResource;
  /**
   * The deployment's name (3 to 32 letters, digits and single dashes, starting with a letter),
   * what invocations name in the `azureml-model-deployment` header. Defaults to the Pulumi
   * resource name.
   */
  readonly name?: pulumi.Input<string>;
  /** The model: a {@link ModelVersion}, its ARM id, or `azureml:<name>:<version>`. */
  readonly model: pulumi.Input<string> | ArmResource;
  /**
   * The scoring script. Optional for an MLflow model, which Azure ML scores itself; required
   * otherwise. Changing it replaces the deployment (Azure ML cannot change it in place).
   */
  readonly codeConfiguration?: pulumi.Input<BatchCodeConfigurationArgs>;
  /**
   * The environment the scoring script runs in: an {@link EnvironmentVersion}, its ARM id, or
   * `azureml:<name>:<version>`. Optional for an MLflow model; required with a scoring script.
   */
  readonly environment?: pulumi.Input<string> | ArmResource;
  /** The compute cluster that runs scoring jobs: its name or ARM id. */
  readonly compute: pulumi.Input<string>;
  /** Nodes per scoring job. Changing it replaces the deployment. @default 1 */
  readonly instanceCount?: pulumi.Input<number>;
  /** Parallel scoring processes per node. @default 1 */
  readonly maxConcurrencyPerInstance?: pulumi.Input<number>;
  /** Files per `run()` call. @default 10 */
  readonly miniBatchSize?: pulumi.Input<number>;
  /** How many failed files a job tolerates before it fails; -1 tolerates all. @default -1 */
  readonly errorThreshold?: pulumi.Input<number>;
  readonly retrySettings?: pulumi.Input<BatchRetrySettingsArgs>;
  /** `append_row` collects what `run()` returns into the output file; `summary_only` writes none. @default "append_row" */
  readonly outputAction?: pulumi.Input<OutputAction>;
  /** @default "predictions.csv" */
  readonly outputFileName?: pulumi.Input<string>;
  /** @default "info" */
  readonly loggingLevel?: pulumi.Input<LoggingLevel>;
  readonly environmentVariables?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  readonly properties?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** A description; updated in place (PATCH). */
  readonly description?: pulumi.Input<string>;
  /** Tags; updated in place (PATCH). */
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * Bump this to force an update after upgrading this package (a change in provider code alone is
   * never a change).
   */
  readonly providerVersion?: pulumi.Input<string>;
}

/** Plain inputs the provider receives: every reference is an id. */
export interface BatchDeploymentInputs {
  endpointId: string;
  name: string;
  modelId: string;
  /** The model's type when a ModelVersion was given (so check knows an MLflow model). */
  modelType?: string;
  codeConfiguration?: { codeId: string; scoringScript: string };
  environmentId?: string;
  compute: string;
  instanceCount?: number;
  maxConcurrencyPerInstance?: number;
  miniBatchSize?: number;
  errorThreshold?: number;
  retrySettings?: { maxRetries?: number; timeoutInSeconds?: number };
  outputAction?: OutputAction;
  outputFileName?: string;
  loggingLevel?: LoggingLevel;
  environmentVariables?: Record<string, string>;
  properties?: Record<string, string>;
  description?: string;
  tags?: Record<string, string>;
  providerVersion?: string;
  /** Set by `check`: see {@link BatchDeployment.incarnation}. */
  incarnation?: string;
  /** See `ownerKeyFor`: marks the deployment this resource created. */
  ownerKey?: string;
}

/** Outputs of a {@link BatchDeployment}. */
export interface BatchDeploymentOutputs extends BatchDeploymentInputs {
  /** The deployment's ARM id (also this resource's id). */
  deploymentId: string;
  /** The endpoint's name. */
  endpointName: string;
  location: string;
  provisioningState: string;
  /** When Azure ML created this deployment: a replacement gets a new one. */
  createdAt: string;
}

const batchDeploymentProvider = lazyProvider<BatchDeploymentInputs, BatchDeploymentOutputs>(
  "pulumi-azureml/provider/lifecycle/batchDeployment",
);

/** The ARM id of a resource (its Pulumi id), or the string given. */
export function armIdOf(value: pulumi.Input<string> | ArmResource): pulumi.Input<string> {
  return pulumi.CustomResource.isInstance(value) ? (value as ArmResource).id : value;
}

/** The code configuration with its code as an id; a plain object keeps its parts as they are. */
function codeConfigurationInput(
  value: BatchDeploymentArgs["codeConfiguration"],
): pulumi.Input<{ codeId: pulumi.Input<string>; scoringScript: pulumi.Input<string> }> | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (!pulumi.Output.isInstance(value) && !(value instanceof Promise)) {
    const plain = value as BatchCodeConfigurationArgs;
    return { codeId: armIdOf(plain.code), scoringScript: plain.scoringScript };
  }
  return pulumi.output(value).apply((c) =>
    pulumi.output({
      codeId: armIdOf(c.code as string | ArmResource),
      scoringScript: c.scoringScript,
    }),
  );
}

/**
 * A batch deployment: a model, its scoring script and environment, and the compute and settings
 * its scoring jobs run with. Which deployment an endpoint uses by default is a
 * {@link BatchEndpointDefaultDeployment}.
 */
export class BatchDeployment extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  declare readonly deploymentId: pulumi.Output<string>;
  declare readonly endpointId: pulumi.Output<string>;
  declare readonly endpointName: pulumi.Output<string>;
  declare readonly location: pulumi.Output<string>;
  declare readonly provisioningState: pulumi.Output<string>;
  declare readonly createdAt: pulumi.Output<string>;
  /**
   * A digest of what names this deployment and what cannot change without creating it again (its
   * endpoint and name, code configuration and instance count). It changes exactly when the
   * deployment is replaced, and, unlike `createdAt`, is known in a preview of an update, so what
   * follows a replacement (the endpoint's default) previews no change when the deployment only
   * updates in place.
   */
  declare readonly incarnation: pulumi.Output<string>;

  /**
   * @param name The _unique_ name of the resource; also the deployment name unless [name] is given.
   * @param args The arguments to use to populate this resource's properties.
   * @param opts A bag of options that control this resource's behavior.
   */
  constructor(name: string, args: BatchDeploymentArgs, opts?: pulumi.CustomResourceOptions) {
    const { endpoint, model, environment, codeConfiguration, ...rest } = args;
    const modelType = pulumi.CustomResource.isInstance(model)
      ? ((model as unknown as { modelType?: pulumi.Output<string> }).modelType ?? undefined)
      : undefined;
    super(
      batchDeploymentProvider,
      name,
      {
        deploymentId: undefined,
        endpointName: undefined,
        location: undefined,
        provisioningState: undefined,
        createdAt: undefined,
        incarnation: undefined,
        ...rest,
        name: args.name ?? name,
        endpointId: armIdOf(endpoint),
        modelId: armIdOf(model),
        modelType,
        environmentId: environment === undefined ? undefined : armIdOf(environment),
        codeConfiguration: codeConfigurationInput(codeConfiguration),
        ownerKey: ownerKeyFor("BatchDeployment", name),
      },
      opts,
      "azureml",
      "BatchDeployment",
    );
  }
}
