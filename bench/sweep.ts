/**
 * Sweeps in the emulator: (1) a sweep of 8 equal trials with 2 concurrent against 4 times one
 * trial run alone (goal at most 1.3), and (2) the trial time each early termination policy saves
 * on a scripted set of curves, against the same sweep with none. Uses an emulator of its own whose
 * trials log their metric to files (no MLflow server to wait for).
 */
import { promises as fs, readFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Agent, request } from "undici";
import type { RunningEmulator } from "../emulator/index";
import { benchCertDir, type BenchFigures } from "./index";

const TRIAL_SECONDS = 2;
const TERMINAL = ["Completed", "Failed", "Canceled"];

/** Logs `score` = i/8 every 0.1 s for TRIAL_SECONDS: trial i's curve is flat at i/8. */
const CURVE_TRIAL =
  "python -c 'import json, os, time\n" +
  'p = os.path.join(os.environ["SWEEP_METRICS_DIR"], os.environ["AZUREML_RUN_ID"] + ".jsonl")\n' +
  `for _ in range(${TRIAL_SECONDS * 10}):\n` +
  '    open(p, "a").write(json.dumps({"value": ${{search_space.i}} / 8}) + "\\n")\n' +
  "    time.sleep(0.1)\n'";

export async function run(): Promise<BenchFigures> {
  const metricsDir = await fs.mkdtemp(path.join(os.tmpdir(), "azureml-bench-sweep-"));
  const { startEmulator } = require("../emulator/index") as typeof import("../emulator/index");
  const emulator: RunningEmulator = await startEmulator({
    certDir: benchCertDir(),
    mlflow: false,
    sweeps: {
      tickInMs: 100,
      metrics: {
        async history(trial) {
          const text = await fs
            .readFile(path.join(metricsDir, `${trial}.jsonl`), "utf8")
            .catch(() => "");
          return text
            .split("\n")
            .filter((l) => l.trim() !== "")
            .map((l) => (JSON.parse(l) as { value: number }).value);
        },
      },
    },
  });
  const agent = new Agent({ connect: { ca: readFileSync(emulator.info.caCertPath) } });
  const ws = emulator.info.workspaceId;
  const arm = async (method: string, p: string, body?: unknown): Promise<any> => {
    const response = await request(
      `${emulator.info.armEndpoint}${p}${p.includes("?") ? "&" : "?"}api-version=2024-04-01`,
      {
        method: method as "GET",
        headers: {
          authorization: `Bearer ${emulator.info.token}`,
          "content-type": "application/json",
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        dispatcher: agent,
      },
    );
    const text = await response.body.text();
    if (response.statusCode >= 300) {
      throw new Error(`${method} ${p}: ${response.statusCode} ${text}`);
    }
    return text === "" ? undefined : JSON.parse(text);
  };
  const ended = async (name: string): Promise<any> => {
    for (;;) {
      const job = await arm("GET", `${ws}/jobs/${name}`);
      if (TERMINAL.includes(job.properties.status)) {
        return job;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  try {
    const env = `${ws}/environments/bench-sweep/versions/1`;
    await arm("PUT", env, {
      properties: { image: "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest" },
    });
    const sleep = `python -c 'import time; time.sleep(${TRIAL_SECONDS})'`;

    // (1) One trial alone, then 8 of them 2 at a time.
    let started = performance.now();
    await arm("PUT", `${ws}/jobs/bench-single`, {
      properties: { jobType: "Command", environmentId: env, command: sleep },
    });
    await ended("bench-single");
    const single = performance.now() - started;
    const sweep = (name: string, extra: Record<string, unknown>, command: string) =>
      arm("PUT", `${ws}/jobs/${name}`, {
        properties: {
          jobType: "Sweep",
          objective: { primaryMetric: "score", goal: "Maximize" },
          samplingAlgorithm: { samplingAlgorithmType: "Grid" },
          searchSpace: { i: ["choice", [[0, 1, 2, 3, 4, 5, 6, 7]]] },
          limits: { jobLimitsType: "Sweep", maxTotalTrials: 8, maxConcurrentTrials: 2 },
          trial: {
            environmentId: env,
            command,
            environmentVariables: { SWEEP_METRICS_DIR: metricsDir },
          },
          ...extra,
        },
      });
    started = performance.now();
    await sweep("bench-sweep-8x2", {}, `${sleep} # \${{search_space.i}}`);
    await ended("bench-sweep-8x2");
    const eight = performance.now() - started;

    // (2) Trial time with each policy against none, on the same flat curves.
    const trialSeconds = async (name: string) => {
      const listed = await arm("GET", `${ws}/jobs?parentJobName=${name}`);
      let seconds = 0;
      let canceled = 0;
      for (const t of listed.value as any[]) {
        const h = await arm("GET", `/history/v1.0${ws}/runs/${t.name}`);
        seconds += (Date.parse(h.endTimeUtc) - Date.parse(h.startTimeUtc)) / 1000;
        canceled += t.properties.status === "Canceled" ? 1 : 0;
      }
      return { seconds, canceled };
    };
    const policies: Record<string, Record<string, unknown> | undefined> = {
      none: undefined,
      bandit: { policyType: "Bandit", slackFactor: 0.2, evaluationInterval: 1, delayEvaluation: 5 },
      median: { policyType: "MedianStopping", evaluationInterval: 1, delayEvaluation: 5 },
      truncation: {
        policyType: "TruncationSelection",
        truncationPercentage: 25,
        evaluationInterval: 1,
        delayEvaluation: 5,
      },
    };
    const figures: BenchFigures = {
      "single trial (s)": Number((single / 1000).toFixed(2)),
      "sweep 8 trials, 2 concurrent (s)": Number((eight / 1000).toFixed(2)),
      "sweep 8x2 / 4 x single (goal <= 1.3)": Number((eight / (4 * single)).toFixed(3)),
    };
    let baseline = 0;
    for (const [policy, earlyTermination] of Object.entries(policies)) {
      const name = `bench-sweep-${policy}`;
      await sweep(name, earlyTermination === undefined ? {} : { earlyTermination }, CURVE_TRIAL);
      const done = await ended(name);
      const { seconds, canceled } = await trialSeconds(name);
      if (policy === "none") {
        baseline = seconds;
        figures["trial time without early termination (s)"] = Number(seconds.toFixed(1));
      } else {
        figures[`${policy}: trials terminated early`] = canceled;
        figures[`${policy}: trial time / none`] = Number((seconds / baseline).toFixed(3));
      }
      figures[`${policy}: best trial`] = String(done.properties.properties.best_child_run_id);
    }
    return figures;
  } finally {
    await agent.close();
    await emulator.close();
    await fs.rm(metricsDir, { recursive: true, force: true });
  }
}
