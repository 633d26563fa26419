/**
 * Through the real Pulumi engine: what a no-change `pulumi up` of 30 asset versions (15
 * environments, 15 data sets) costs next to one of 30 trivial dynamic resources whose methods
 * return at once (goal: at most 1.5 times), measured alternately in one run, and how many requests
 * a preview of the asset stack sends to the emulator (goal: 0).
 */
import { performance } from "node:perf_hooks";
import * as pulumi from "@pulumi/pulumi";
import { DataVersion, EnvironmentVersion } from "../index";
import { ensureEngine } from "../tools/engine";
import { changes, createEngineStack, type EngineStack } from "../tools/stack";
import { getBenchEmulator, type BenchFigures } from "./index";

const RESOURCES = 30;
const ROUNDS = 3;

/** A dynamic provider that does nothing: the floor every dynamic resource pays in the engine. */
const trivialProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds, news) {
    return { inputs: news };
  },
  async diff(_id, olds, news) {
    return { changes: olds.value !== news.value };
  },
  async create(inputs) {
    return { id: String(inputs.value), outs: inputs };
  },
  async read(id, props) {
    return { id, props };
  },
  async update(_id, _olds, news) {
    return { outs: news };
  },
  async delete() {},
};

class Trivial extends pulumi.dynamic.Resource {
  constructor(name: string, value: string) {
    super(trivialProvider, name, { value }, {});
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function timedUp(stack: EngineStack): Promise<number> {
  const started = performance.now();
  const result = await stack.up();
  const elapsed = performance.now() - started;
  if (changes(result.steps).length > 0) {
    throw new Error(`a no-change up changed ${changes(result.steps).length} resources`);
  }
  return elapsed;
}

export async function run(): Promise<BenchFigures> {
  const engine = await ensureEngine();
  const emulator = await getBenchEmulator();
  const { info } = emulator;
  const workspace = {
    resourceGroupName: info.resourceGroupName,
    workspaceName: info.workspaceName,
  };
  const assets = await createEngineStack({
    engine,
    projectName: "bench-assets",
    program: async () => {
      for (let i = 0; i < RESOURCES / 2; i++) {
        new EnvironmentVersion(`bench-env-${i}`, { ...workspace, image: `python:3.${i}` });
        new DataVersion(`bench-data-${i}`, {
          ...workspace,
          dataType: "uri_file",
          path: `https://example.org/bench/${i}.csv`,
        });
      }
    },
    config: {
      "azureml:armEndpoint": info.armEndpoint,
      "azureml:subscriptionId": info.subscriptionId,
      "azureml:caCertPath": info.caCertPath,
    },
  });
  const trivial = await createEngineStack({
    engine,
    projectName: "bench-trivial",
    program: async () => {
      for (let i = 0; i < RESOURCES; i++) {
        new Trivial(`trivial-${i}`, `v${i}`);
      }
    },
  });
  try {
    await assets.up();
    await trivial.up();
    const mark = emulator.requests.mark();
    await assets.preview();
    const previewRequests = emulator.requests.since(mark).length;

    const assetTimes: number[] = [];
    const trivialTimes: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      assetTimes.push(await timedUp(assets));
      trivialTimes.push(await timedUp(trivial));
    }
    const assetMs = median(assetTimes);
    const trivialMs = median(trivialTimes);
    await assets.destroy();
    return {
      [`no-change up, ${RESOURCES} asset versions ms (median of ${ROUNDS})`]: assetMs,
      [`no-change up, ${RESOURCES} trivial dynamic resources ms (median of ${ROUNDS})`]: trivialMs,
      "no-change up ratio, assets / trivial (goal <= 1.5)": assetMs / trivialMs,
      "requests sent to the emulator by a preview of the asset stack (goal 0)": previewRequests,
      "pulumi version": engine.version,
    };
  } finally {
    await Promise.all([assets.close(), trivial.close()]);
  }
}
