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
