// A TrialMetricSource for tests until the MLflow tracking service is merged: standard-library
// trials append `{"metric": ..., "value": ...}` lines to `$SWEEP_METRICS_DIR/$AZUREML_RUN_ID.jsonl`
// and the sweep controller reads them back, as it reads a run's metric history from MLflow.
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { TrialMetricSource } from "../../emulator/sweep/controller";

/** Where the shared emulator's trials write their metrics. */
export function testMetricsDir(): string {
  return path.join(os.tmpdir(), `pulumi-azureml-test-sweep-metrics-${process.pid}`);
}

/** Python (standard library) that logs `value` under `metric` for the running trial. */
export const LOG_METRIC_PY = [
  "import json, os",
  "def log_metric(metric, value):",
  "    path = os.path.join(os.environ['SWEEP_METRICS_DIR'], os.environ['AZUREML_RUN_ID'] + '.jsonl')",
  "    with open(path, 'a') as f:",
  "        f.write(json.dumps({'metric': metric, 'value': value}) + '\\n')",
].join("\n");

export function fileMetricSource(dir: string = testMetricsDir()): TrialMetricSource {
  return {
    async history(trial, metric) {
      let text: string;
      try {
        text = await fs.readFile(path.join(dir, `${trial}.jsonl`), "utf8");
      } catch {
        return [];
      }
      return text
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => JSON.parse(line) as { metric: string; value: number })
        .filter((m) => m.metric === metric)
        .map((m) => m.value);
    },
  };
}
