/**
 * Provider objects for tests, built and configured exactly as the provider host would: a fresh
 * `lazyProvider` per call (never the module singleton a resource serializes), `configure`d with
 * the stack config a program would set for the emulator.
 */
import type * as pulumi from "@pulumi/pulumi";
import { lazyProvider } from "../../provider/resources/lazyProvider";
import { emulatorConfig } from "./emulator";

const { Config } = require("@pulumi/pulumi/cmd/dynamic-provider/config") as {
  Config: new (raw: Record<string, string>, project: string) => pulumi.dynamic.Config;
};

export type ResourceKind =
  | "environmentVersion"
  | "dataVersion"
  | "codeVersion"
  | "modelVersion"
  | "batchEndpoint"
  | "batchDeployment"
  | "batchEndpointDefaultDeployment"
  | "commandJob"
  | "sweepJob"
  | "batchScoringJob";

export async function configuredProvider<I = any, O = any>(
  kind: ResourceKind,
  extraConfig: Record<string, string> = {},
): Promise<Required<pulumi.dynamic.ResourceProvider<I, O>>> {
  const provider = lazyProvider<I, O>(`pulumi-azureml/provider/lifecycle/${kind}`);
  await provider.configure!({
    config: new Config({ ...emulatorConfig(), ...extraConfig }, "test"),
  });
  return provider as Required<pulumi.dynamic.ResourceProvider<I, O>>;
}

/** The workspace inputs of the emulator's seeded workspace. */
export function workspaceInputs(): { resourceGroupName: string; workspaceName: string } {
  const { getEmulator } = require("./emulator") as typeof import("./emulator");
  const { info } = getEmulator();
  return { resourceGroupName: info.resourceGroupName, workspaceName: info.workspaceName };
}

/** check, then create with the checked inputs, as the engine does on `pulumi up`. */
export async function checkAndCreate<I, O>(
  provider: Required<pulumi.dynamic.ResourceProvider<I, O>>,
  news: I,
): Promise<{ id: string; outs: O; inputs: I }> {
  const checked = await provider.check({} as I, news);
  if (checked.failures && checked.failures.length > 0) {
    throw new Error(`check failed: ${JSON.stringify(checked.failures)}`);
  }
  const inputs = checked.inputs as I;
  const created = await provider.create(inputs);
  return { id: created.id, outs: created.outs as O, inputs };
}

export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
