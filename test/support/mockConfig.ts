// Stack config for code that runs without the CLI. The engine keeps config keyed
// `<namespace>:<key>`, gives the program the whole map (PULUMI_CONFIG, read by `pulumi.Config`)
// and gives dynamic-provider hosts the same map in the Configure request and in their environment.
import * as pulumi from "@pulumi/pulumi";

/** Config keyed as the engine keeps it; bare keys get `<project>:`, like `pulumi config set`. */
export function namespacedConfig(
  config: Record<string, string>,
  project: string,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(config).map(([k, v]) => [k.includes(":") ? k : `${project}:${k}`, v]),
  );
}

/** The environment the engine adds for a provider host (startHost's `env`). */
export function stackConfigEnv(
  project: string,
  config: Record<string, string>,
): Record<"PULUMI_NODEJS_PROJECT" | "PULUMI_PROJECT" | "PULUMI_CONFIG", string> {
  return {
    PULUMI_NODEJS_PROJECT: project,
    PULUMI_PROJECT: project,
    PULUMI_CONFIG: JSON.stringify(namespacedConfig(config, project)),
  };
}

/**
 * Makes `new pulumi.Config(...)` in program code read this stack config, with `secretKeys`
 * marked secret (so `requireSecret` behaves). Returns a function that restores the previous
 * config; the config store is process-wide, so scope it to one test or one run.
 */
export function setProgramConfig(
  config: Record<string, string>,
  project: string,
  secretKeys: readonly string[] = [],
): () => void {
  // The raw store entries, so the previous secret keys come back too.
  const store = require("@pulumi/pulumi/runtime/state").getStore().config as Record<string, string>;
  const previous = { ...store };
  const full = namespacedConfig(config, project);
  pulumi.runtime.setAllConfig(
    full,
    secretKeys.map((k) => (k.includes(":") ? k : `${project}:${k}`)),
  );
  return () => {
    Object.assign(store, previous);
  };
}
