/**
 * CommandJob: how soon `create()` returns after the job ends in the emulator, against the poll
 * interval in force (goal: at most 1), and the requests one job lifecycle sends, submit to
 * outputs, against the contract's minimum (goal: at most the minimum + 2).
 *
 * The contract's minimum for a job that is over by the first look: PUT the job, GET it once
 * (terminal), GET the workspace (its MLflow tracking URI) and MLflow's runs/get (the metrics): 4.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { lazyProvider } from "../provider/resources/lazyProvider";
import { pollDelayInMs, runHistoryPath } from "../provider/operations/jobs";
import { createAzureMlClient } from "../provider/core/client";
import { resolveSettings } from "../provider/core/settings";
import { getBenchEmulator, type BenchFigures } from "./index";

const { Config } = require("@pulumi/pulumi/cmd/dynamic-provider/config") as {
  Config: new (raw: Record<string, string>, project: string) => pulumi.dynamic.Config;
};

const CONTRACT_MINIMUM = 4;
const JOBS = 3;

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
  const dir = mkdtempSync(path.join(os.tmpdir(), "bench-job-"));
  try {
    // A registered environment and code version, so each lifecycle counts the job's own requests.
    const envs = await provider("environmentVersion");
    const env = await envs.create(
      (await envs.check!({}, { ...workspace, name: "bench-env", image: "python:3.11" })).inputs,
    );
    writeFileSync(path.join(dir, "train.py"), "import sys\nprint('bench', sys.argv[1:])\n");
    const codes = await provider("codeVersion");
    const code = await codes.create(
      (await codes.check!({}, { ...workspace, name: "bench-code", path: dir })).inputs,
    );
    const jobs = await provider("commandJob");
    const jobInputs = (i: number) => ({
      ...workspace,
      resourceName: `bench-${process.pid}`,
      code: code.id,
      environment: env.id,
      compute: "cpu-cluster",
      command: `python train.py ${i} ${Date.now()}`,
    });
    // Warm-up (not measured): the MLflow server starts on the first job's run.
    await jobs.create((await jobs.check!({}, jobInputs(-1))).inputs);

    const ratios: number[] = [];
    const lags: number[] = [];
    const intervals: number[] = [];
    const requests: number[] = [];
    const polls: number[] = [];
    for (let i = 0; i < JOBS; i++) {
      const checked = (await jobs.check!({}, jobInputs(i))).inputs;
      const mark = emulator.requests.mark();
      const submittedAt = Date.now();
      const created = await jobs.create(checked);
      const returnedAt = Date.now();
      const sent = emulator.requests.since(mark).filter((r) => r.plane === "arm");
      const history = await client.request<{ endTimeUtc?: string }>({
        method: "GET",
        url: `${info.armEndpoint}${runHistoryPath(scope, created.outs.name)}`,
        operation: "RunHistory_Get",
      });
      const endedAt = Date.parse(String(history.body.endTimeUtc));
      const interval = pollDelayInMs(endedAt - submittedAt, { minInMs: 2000, maxInMs: 60000 });
      lags.push(returnedAt - endedAt);
      intervals.push(interval);
      ratios.push((returnedAt - endedAt) / interval);
      requests.push(sent.length);
      polls.push(sent.filter((r) => r.method === "GET" && /\/jobs\/[^/]+$/.test(r.path)).length);
    }
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    return {
      "jobs measured": JOBS,
      "job end → create() returned, mean ms": mean(lags),
      "poll interval in force at the end, ms": mean(intervals),
      "end-to-return / poll interval, worst (goal ≤ 1)": Math.max(...ratios),
      "requests per job lifecycle, mean": mean(requests),
      "of which job GETs (the first finds no job: GET before PUT)": mean(polls),
      "contract minimum (PUT, GET, workspace, runs/get)": CONTRACT_MINIMUM,
      "requests over the minimum, worst (goal ≤ 2)": Math.max(...requests) - CONTRACT_MINIMUM,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
