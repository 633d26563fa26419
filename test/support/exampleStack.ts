/**
 * What the `@engine` tests of examples/* share: the engine, an emulator (the shared one, or one of
 * the suite's own with MLflow for the examples whose jobs log to it), and the example's stack
 * against it (tools/exampleStack.ts), closed after the suite.
 *
 *   describe("examples/train through the Pulumi engine @engine", function () {
 *     const examples = useExampleStacks(this, { mlflow: true });
 *     it("… @engine", async () => {
 *       const stack = await examples.stack("train", { "azureml-train:learningRate": "0.1" });
 *       await stack.up();
 *       examples.emulator().requests.mark();
 *     });
 *   });
 */
import { readFileSync } from "node:fs";
import type { Suite } from "mocha";
import { Agent, request } from "undici";
import { startEmulator, type RunningEmulator } from "../../emulator/index";
import {
  exampleStack,
  type ExampleStack,
  type ExampleStackOptions,
} from "../../tools/exampleStack";
import type { Engine } from "../../tools/engine";
import { getEmulator, testCertDir } from "./emulator";
import { useEngine } from "./engine";

export interface ExampleStacks {
  readonly engine: () => Engine;
  /** The emulator the stacks target. */
  readonly emulator: () => RunningEmulator;
  /** A stack of `examples/<example>` against that emulator, closed after the suite. */
  stack(
    example: string,
    config?: Readonly<Record<string, string>>,
    options?: Partial<Omit<ExampleStackOptions, "engine" | "example" | "emulator" | "config">>,
  ): Promise<ExampleStack>;
}

/**
 * The engine and an emulator for a suite of example programs. With `mlflow`, the suite starts an
 * emulator of its own with the MLflow tracking server (the shared one serves none; its start takes
 * tens of seconds), with the shared emulator's fast progression; without, the stacks target the
 * shared emulator.
 */
export function useExampleStacks(suite: Suite, options: { mlflow?: boolean } = {}): ExampleStacks {
  const engine = useEngine(suite);
  let own: RunningEmulator | undefined;
  const stacks: ExampleStack[] = [];
  if (options.mlflow) {
    suite.beforeAll(async () => {
      own = await startEmulator({
        certDir: testCertDir(),
        progression: { mode: "polls", polls: 1 },
        retryAfterInSeconds: 0,
      });
    });
  }
  suite.afterAll(async () => {
    for (const stack of stacks.splice(0)) {
      await stack.close();
    }
    await own?.close();
    own = undefined;
  });
  const emulator = () => {
    if (options.mlflow && own === undefined) {
      throw new Error("useExampleStacks: the suite's emulator is read before its beforeAll ran");
    }
    return own ?? getEmulator();
  };
  return {
    engine,
    emulator,
    stack: async (example, config, rest) => {
      const stack = await exampleStack({
        ...rest,
        engine: engine(),
        example,
        emulator: emulator().info,
        config,
      });
      stacks.push(stack);
      return stack;
    },
  };
}

const agents = new Map<string, Agent>();

/**
 * Everything an ARM list answers on `emulator` (the `value` of every page), read with its own
 * token, independent of the code under test; e.g. `armList(e, `${workspaceId}/batchEndpoints`)`.
 */
export async function armList(emulator: RunningEmulator, path: string): Promise<any[]> {
  const { info } = emulator;
  let agent = agents.get(info.caCertPath);
  if (agent === undefined) {
    agent = new Agent({ connect: { ca: readFileSync(info.caCertPath) } });
    agents.set(info.caCertPath, agent);
  }
  const items: any[] = [];
  let url: string | undefined =
    `${info.armEndpoint}${path}${path.includes("?") ? "&" : "?"}api-version=2024-04-01`;
  while (url !== undefined) {
    const response = await request(url, {
      headers: { authorization: `Bearer ${info.token}` },
      dispatcher: agent,
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) {
      throw new Error(`GET ${path}: ${response.statusCode} ${text}`);
    }
    const body = JSON.parse(text) as { value?: any[]; nextLink?: string };
    items.push(...(body.value ?? []));
    url = body.nextLink;
  }
  return items;
}
