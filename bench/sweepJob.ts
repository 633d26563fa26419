/**
 * SweepJob: how soon `create()` returns after the sweep ends in the emulator, against the poll
 * interval in force (goal: at most 1), and what following a sweep costs in requests: each poll is
 * one GET of the sweep and one list of its trials (goal: at most 2 requests per poll, plus the
 * fixed ones of submission and the best trial).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { lazyProvider } from "../provider/resources/lazyProvider";
import { pollDelayInMs, runHistoryPath } from "../provider/operations/jobs";
import { searchSpace } from "../provider/operations/sweep";
import { createAzureMlClient } from "../provider/core/client";
import { resolveSettings } from "../provider/core/settings";
import { getBenchEmulator, type BenchFigures } from "./index";

const { Config } = require("@pulumi/pulumi/cmd/dynamic-provider/config") as {
  Config: new (raw: Record<string, string>, project: string) => pulumi.dynamic.Config;
};

export async function run(): Promise<BenchFigures> {
  const emulator = await getBenchEmulator();
  const { info } = emulator;
  const config = {
    "azureml:armEndpoint": info.armEndpoint,
    "azureml:caCertPath": info.caCertPath,
    "azureml:subscriptionId": info.subscriptionId,
  };
  const provider = (kind: string) => {
    const p = lazyProvider<any, any>(`pulumi-azureml/provider/lifecycle/${kind}`);
    return p.configure!({ config: new Config(config, "bench") }).then(() => p);
  };
  const workspace = {
    resourceGroupName: info.resourceGroupName,
    workspaceName: info.workspaceName,
  };
  const scope = { ...workspace, subscriptionId: info.subscriptionId };
  const client = createAzureMlClient({
    settings: { ...resolveSettings(undefined, {}), ...config, armEndpoint: info.armEndpoint },
  });
  const dir = mkdtempSync(path.join(os.tmpdir(), "bench-sweepjob-"));
  try {
    const envs = await provider("environmentVersion");
    const env = await envs.create(
      (await envs.check!({}, { ...workspace, name: "bench-sweep-env", image: "python:3.11" }))
        .inputs,
    );
    writeFileSync(path.join(dir, "trial.py"), "import sys, time\ntime.sleep(1)\nprint(sys.argv)\n");
    writeFileSync(path.join(dir, "nonce.txt"), `${process.pid}-${Date.now()}\n`);
    const sweeps = await provider("sweepJob");
    const checked = (
      await sweeps.check!(
        {},
        {
          ...workspace,
          resourceName: `bench-sweep-${process.pid}`,
          objective: { primaryMetric: "score", goal: "maximize" },
          samplingAlgorithm: { type: "grid" },
          searchSpace: { x: searchSpace.choice(1, 2, 3, 4) },
          trial: {
            code: dir,
            environment: env.id,
            command: "python trial.py ${{search_space.x}}",
          },
          compute: "cpu-cluster",
          limits: { maxTotalTrials: 4, maxConcurrentTrials: 2 },
        },
      )
    ).inputs;
    const mark = emulator.requests.mark();
    const submittedAt = Date.now();
    const created = await sweeps.create(checked);
    const returnedAt = Date.now();
    const sent = emulator.requests.since(mark).filter((r) => r.plane === "arm");
    const name = created.outs.name as string;
    const history = await client.request<{ endTimeUtc?: string }>({
      method: "GET",
      url: `${info.armEndpoint}${runHistoryPath(scope, name)}`,
      operation: "RunHistory_Get",
    });
    const endedAt = Date.parse(String(history.body.endTimeUtc));
    const interval = pollDelayInMs(endedAt - submittedAt, { minInMs: 2000, maxInMs: 60000 });
    const polls = sent.filter(
      (r) => r.method === "GET" && r.path.endsWith(`/jobs/${name}`) && r.status === 200,
    ).length;
    const lists = sent.filter((r) => r.method === "GET" && /\/jobs$/.test(r.path)).length;
    return {
      "sweep of 4 trials, 2 concurrent: status": String(created.outs.status),
      "sweep end → create() returned, ms": returnedAt - endedAt,
      "poll interval in force at the end, ms": interval,
      "end-to-return / poll interval (goal ≤ 1)": Number(
        ((returnedAt - endedAt) / interval).toFixed(3),
      ),
      "sweep GETs (polls)": polls,
      "trial lists": lists,
      "ARM requests per poll (goal ≤ 2 + fixed ones / polls)": Number(
        (sent.length / Math.max(1, polls)).toFixed(2),
      ),
      "ARM requests in all": sent.length,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
