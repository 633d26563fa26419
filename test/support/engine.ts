/**
 * What an `@engine` test needs: the engine (found, built when Go is there, else the suite skips
 * with one line; in CI a missing engine fails), and stacks over a throwaway project that target the
 * shared emulator. A resource's engine test reads:
 *
 *   describe("MyThing through the Pulumi engine @engine", function () {
 *     const engine = useEngine(this);
 *     it("… @engine", async () => {
 *       const stack = await emulatorStack(engine(), "my-thing", async () => {
 *         new MyThing("t", { ...workspaceArgs() });  // its provider runs from the packed copy
 *       });
 *       const plan = await stack.preview();  // plan.steps, plan.outputs
 *       await stack.up(); await stack.destroy(); await stack.close();
 *     });
 *   });
 *
 * Requests the engine made are in `getEmulator().requests` (mark before, `since(mark)` after).
 */
import type { PulumiFn } from "@pulumi/pulumi/automation";
import type { Suite } from "mocha";
import {
  ensureEngine,
  EngineUnavailableError,
  locateEngine,
  onPath,
  unavailableMessage,
  type Engine,
} from "../../tools/engine";
import { createEngineStack, type EngineStack, type EngineStackOptions } from "../../tools/stack";
import { getEmulator } from "./emulator";

/** Engine commands start processes and a provider host each: minutes, not the default minute. */
export const ENGINE_TEST_TIMEOUT_MS = 10 * 60 * 1000;
/** A cold build of the CLI, when the first engine test finds Go but no engine. */
const ENGINE_BUILD_TIMEOUT_MS = 45 * 60 * 1000;

let engine: Promise<Engine | undefined> | undefined;
let announced = false;

/**
 * The engine for this test run: a cached or PATH one; else built when Go is installed; else none.
 * In CI (`CI=true`) a missing engine is an error, never a skip.
 */
export function engineForTests(): Promise<Engine | undefined> {
  engine ??= (async () => {
    const found = await locateEngine();
    if (found) {
      return found;
    }
    if (isCi()) {
      throw new Error(`${unavailableMessage()} (in CI the engine layer never skips)`);
    }
    if (onPath("go") === undefined) {
      return undefined;
    }
    try {
      return await ensureEngine();
    } catch (error) {
      if (error instanceof EngineUnavailableError) {
        return undefined;
      }
      throw error;
    }
  })();
  return engine;
}

function isCi(): boolean {
  return process.env.CI === "true" || process.env.CI === "1";
}

/**
 * Resolves the engine before the suite's tests and gives them a getter; without an engine the
 * suite is skipped after one line on stderr saying what to install.
 */
export function useEngine(suite: Suite): () => Engine {
  let current: Engine | undefined;
  suite.timeout(ENGINE_TEST_TIMEOUT_MS);
  suite.beforeAll(async function () {
    this.timeout(ENGINE_BUILD_TIMEOUT_MS);
    current = await engineForTests();
    if (current === undefined) {
      if (!announced) {
        process.stderr.write(`skipping @engine tests: ${unavailableMessage()}\n`);
        announced = true;
      }
      this.skip();
    }
  });
  return () => {
    if (current === undefined) {
      throw new Error("useEngine: the engine is read before the suite's beforeAll ran");
    }
    return current;
  };
}

/** The workspace arguments of the shared emulator's workspace. */
export function workspaceArgs(): { resourceGroupName: string; workspaceName: string } {
  const { info } = getEmulator();
  return { resourceGroupName: info.resourceGroupName, workspaceName: info.workspaceName };
}

/**
 * A stack of `projectName` running `program` on `engine`, configured for the shared emulator the
 * way a user would: `azureml:armEndpoint` and `azureml:subscriptionId` in stack config, the CA in
 * AZUREML_CA_CERT_PATH (Pulumi copies stack config into the state, and a path does not belong
 * there); the managed-identity variables the emulator's hooks exported reach the provider host.
 */
export function emulatorStack(
  engine: Engine,
  projectName: string,
  program: PulumiFn,
  options: Partial<Omit<EngineStackOptions, "engine" | "projectName" | "program">> = {},
): Promise<EngineStack> {
  const { info } = getEmulator();
  return createEngineStack({
    engine,
    projectName,
    program,
    ...options,
    config: {
      "azureml:armEndpoint": info.armEndpoint,
      "azureml:subscriptionId": info.subscriptionId,
      ...options.config,
    },
    env: { AZUREML_CA_CERT_PATH: info.caCertPath, ...options.env },
  });
}
