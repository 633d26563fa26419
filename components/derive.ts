/**
 * Pure derivations for the components: child names and which optional children exist. Unit-tested
 * without Pulumi.
 */
import { createHash } from "node:crypto";

/** Child resource names of a component: `<component>-<role>`, as Pulumi component packages do. */
export function childName(component: string, role: string): string {
  return `${component}-${role}`;
}

/**
 * The Azure ML asset name a child registers under: the given one, else the child's own name.
 * Names must match `^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$`, which `<component>-<role>` does whenever
 * the component name does.
 */
export function assetName(given: string | undefined, component: string, role: string): string {
  return given ?? childName(component, role);
}

/** The workspace part of a component's args, to spread into each child. */
export function workspaceOf<
  T extends {
    readonly workspaceId?: unknown;
    readonly subscriptionId?: unknown;
    readonly resourceGroupName?: unknown;
    readonly workspaceName?: unknown;
  },
>(args: T): Pick<T, "workspaceId" | "subscriptionId" | "resourceGroupName" | "workspaceName"> {
  return {
    workspaceId: args.workspaceId,
    subscriptionId: args.subscriptionId,
    resourceGroupName: args.resourceGroupName,
    workspaceName: args.workspaceName,
  };
}

/**
 * Why a component's environment sources are wrong (exactly one of [environment], [image] and
 * [buildPath]), or undefined when they are right.
 */
export function environmentSourceFailure(args: {
  readonly environment?: unknown;
  readonly image?: unknown;
  readonly buildPath?: unknown;
}): string | undefined {
  const given = [args.environment, args.image, args.buildPath].filter((v) => v !== undefined);
  return given.length === 1
    ? undefined
    : "Give exactly one of [environment] (registered elsewhere), [image] and [buildPath].";
}

/**
 * Why a scoring script and its code are wrong (both or neither of [scoringScript] and [code]), or
 * undefined when they are right.
 */
export function scoringCodeFailure(args: {
  readonly scoringScript?: unknown;
  readonly code?: unknown;
}): string | undefined {
  return (args.scoringScript === undefined) === (args.code === undefined)
    ? undefined
    : "Give both [code] and [scoringScript] (a scoring script and the folder it lives in), or neither (an MLflow model, which Azure ML scores itself).";
}

/**
 * Why a scoring run's data is wrong (exactly one of [input] and [dataPath]), or undefined when it
 * is right.
 */
export function scoringDataFailure(args: {
  readonly input?: unknown;
  readonly dataPath?: unknown;
}): string | undefined {
  return (args.input === undefined) === (args.dataPath === undefined)
    ? "Give exactly one of [input] (data already in Azure ML or storage) and [dataPath] (local data, registered as a data asset)."
    : undefined;
}

/** What a scoring run scores, with what and how: the parts its results folder is derived from. */
export interface ScoringRunSpec {
  readonly endpointName: string;
  readonly deploymentName: string;
  /** The deployed model's ARM id (or reference). */
  readonly modelId: string;
  readonly input: string;
  readonly inputType: string;
  readonly outputFileName?: string;
  readonly miniBatchSize?: number;
  readonly errorThreshold?: number;
}

/**
 * The results folder of a scoring run:
 * `azureml://datastores/workspaceblobstore/paths/batch/<endpoint>/<16 hex digits>/`, the digits
 * a sha256 of the whole spec. The deployed model is part of it, so a new model (an update in
 * place of the deployment, which the scoring job alone cannot see) scores the data again into a
 * new folder, while an unchanged run keeps its folder and is never repeated.
 */
export function scoringOutputPath(spec: ScoringRunSpec): string {
  const ordered = Object.fromEntries(
    Object.entries(spec)
      .filter(([, value]) => value !== undefined)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  const digest = createHash("sha256").update(JSON.stringify(ordered)).digest("hex").slice(0, 16);
  return `azureml://datastores/workspaceblobstore/paths/batch/${spec.endpointName}/${digest}/`;
}
