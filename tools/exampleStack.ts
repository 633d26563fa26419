/**
 * An example program (`examples/<name>`) as an engine stack pointed at a running emulator, the way
 * a user points `pulumi up` at one: `azureml:armEndpoint` and `azureml:subscriptionId` in stack
 * config, the example's `<project>:resourceGroupName` and `<project>:workspaceName` set to the
 * emulator's workspace, and the CA in `AZUREML_CA_CERT_PATH` (Pulumi copies stack config into the
 * state, and a machine path does not belong there). The example's folder is copied into the
 * throwaway project, so its relative paths work as in `pulumi up`. The demo and the `@engine`
 * example tests use it.
 *
 *   const stack = await exampleStack({ engine, example: "flow", emulator: running.info });
 *   await stack.up();
 */
import * as path from "node:path";
import type { EmulatorInfo } from "../emulator/index";
import { loadProgram, resolveExample, type ResolvedExample } from "../examples/runner";
import type { Engine } from "./engine";
import { createEngineStack, type EngineStack, type EngineStackOptions } from "./stack";
import { findRepoRoot } from "./userProject";

export interface ExampleStackOptions extends Omit<
  EngineStackOptions,
  "projectName" | "program" | "files" | "engine"
> {
  readonly engine: Engine;
  /** The example's folder under `examples/`, e.g. `flow` or `platform/team`. */
  readonly example: string;
  /** The emulator the stack targets. */
  readonly emulator: Pick<
    EmulatorInfo,
    "armEndpoint" | "subscriptionId" | "resourceGroupName" | "workspaceName" | "caCertPath"
  >;
}

/** An example's stack, with what was resolved of the example. */
export interface ExampleStack extends EngineStack {
  readonly example: ResolvedExample;
}

/** The stack of `examples/<example>` against `emulator`; `config` and `env` add to the defaults. */
export async function exampleStack(options: ExampleStackOptions): Promise<ExampleStack> {
  const { engine, example: name, emulator, config, env, ...rest } = options;
  const repoRoot = findRepoRoot();
  const example = resolveExample(path.join(repoRoot, "examples", name), repoRoot);
  const stack = await createEngineStack({
    ...rest,
    engine,
    projectName: example.project,
    program: loadProgram(example.modulePath),
    files: [example.projectDir],
    config: {
      "azureml:armEndpoint": emulator.armEndpoint,
      "azureml:subscriptionId": emulator.subscriptionId,
      [`${example.project}:resourceGroupName`]: emulator.resourceGroupName,
      [`${example.project}:workspaceName`]: emulator.workspaceName,
      ...config,
    },
    env: { AZUREML_CA_CERT_PATH: emulator.caCertPath, ...env },
  });
  return { ...stack, example };
}
