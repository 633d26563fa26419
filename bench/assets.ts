/**
 * Asset resources: what each resource's serialized provider weighs and costs to produce, and what
 * creating an unchanged code folder a second time sends (target: one list call, no blob write).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import type * as pulumi from "@pulumi/pulumi";
import { CodeVersion, DataVersion, EnvironmentVersion, ModelVersion } from "../index";
import { lazyProvider } from "../provider/resources/lazyProvider";
import { captureRegistration } from "../test/support/loadLikeHost";
import { getBenchEmulator, type BenchFigures } from "./index";

const { Config } = require("@pulumi/pulumi/cmd/dynamic-provider/config") as {
  Config: new (raw: Record<string, string>, project: string) => pulumi.dynamic.Config;
};

const W = { resourceGroupName: "rg", workspaceName: "ws" };

const CONSTRUCTORS: Record<string, () => pulumi.Resource> = {
  EnvironmentVersion: () => new EnvironmentVersion("r", { ...W, image: "python:3.11" }),
  DataVersion: () => new DataVersion("r", { ...W, dataType: "uri_file", path: "https://x/y.csv" }),
  CodeVersion: () => new CodeVersion("r", { ...W, path: "src" }),
  ModelVersion: () => new ModelVersion("r", { ...W, path: "azureml://jobs/j/outputs/model" }),
};

async function providerFigures(figures: BenchFigures): Promise<void> {
  // The first serialization in a process loads the closure serializer (hundreds of ms); measure
  // it apart so the per-type figures show what each provider itself costs.
  let started = performance.now();
  await captureRegistration(CONSTRUCTORS.EnvironmentVersion, "r");
  figures["serializer warm-up (first resource in a process) ms"] = performance.now() - started;
  for (const [type, construct] of Object.entries(CONSTRUCTORS)) {
    started = performance.now();
    const { inputs } = await captureRegistration(construct, "r");
    const elapsed = performance.now() - started;
    figures[`${type} __provider bytes`] = Buffer.byteLength(inputs.__provider as string);
    figures[`${type} register + serialize ms`] = elapsed;
  }
}

async function unchangedCodeFigures(figures: BenchFigures): Promise<void> {
  const emulator = await getBenchEmulator();
  const { info } = emulator;
  const dir = mkdtempSync(path.join(os.tmpdir(), "bench-code-"));
  try {
    const root = path.join(dir, "src");
    for (let i = 0; i < 200; i++) {
      mkdirSync(path.join(root, `pkg${i % 10}`), { recursive: true });
      writeFileSync(path.join(root, `pkg${i % 10}`, `module${i}.py`), `VALUE = ${i}\n# ${dir}\n`);
    }
    const provider = lazyProvider<any, any>("pulumi-azureml/provider/lifecycle/codeVersion");
    await provider.configure!({
      config: new Config(
        {
          "azureml:armEndpoint": info.armEndpoint,
          "azureml:caCertPath": info.caCertPath,
          "azureml:subscriptionId": info.subscriptionId,
        },
        "bench",
      ),
    });
    const news = {
      resourceGroupName: info.resourceGroupName,
      workspaceName: info.workspaceName,
      name: "bench-src",
      path: root,
    };
    const checked = (await provider.check!({}, news)).inputs;
    const count = (since: number) => {
      const requests = emulator.requests.since(since);
      return {
        arm: requests.filter((r) => r.plane === "arm").length,
        lists: requests.filter((r) => r.plane === "arm" && r.query.includes("hash=")).length,
        blobWrites: requests.filter((r) => r.plane === "blob" && r.method === "PUT").length,
      };
    };
    let mark = emulator.requests.mark();
    let started = performance.now();
    await provider.create(checked);
    const first = count(mark);
    figures["code folder (200 files) first create ms"] = performance.now() - started;
    figures["code folder first create: ARM requests"] = first.arm;
    figures["code folder first create: blob writes"] = first.blobWrites;
    mark = emulator.requests.mark();
    started = performance.now();
    await provider.create(checked);
    const second = count(mark);
    figures["code folder unchanged second create ms"] = performance.now() - started;
    figures["code folder second create: list calls (target 1)"] = second.lists;
    figures["code folder second create: other ARM requests (target 0)"] = second.arm - second.lists;
    figures["code folder second create: blob writes (target 0)"] = second.blobWrites;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchFigures> {
  const figures: BenchFigures = {};
  await providerFigures(figures);
  await unchangedCodeFigures(figures);
  return figures;
}
