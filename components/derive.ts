/**
 * Pure derivations for the components: child names and which optional children exist. Unit-tested
 * without Pulumi.
 */

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
