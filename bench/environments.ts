/**
 * Setup time of a second job's environment against the first, in one run (goal: at most 0.1).
 *
 * Both jobs ask for the same environment (the MLflow client a small job uses) from an empty
 * environment cache in the OS temp folder: the first builds it with uv (uv's own download cache
 * may already hold the wheels, as on any machine that built one before), the second, with a new
 * builder as after an emulator restart, finds it by content.
 */
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { createEnvironmentBuilder } from "../emulator/envs/builder";
import type { EnvironmentRequest } from "../emulator/envs/types";
import type { BenchFigures } from "./index";

const TARGET_RATIO = 0.1;

const CLIENT_ENVIRONMENT: EnvironmentRequest = {
  id: "bench/environments/mlflow-client/versions/1",
  condaFile: "dependencies:\n  - python=3\n  - pip:\n      - mlflow-skinny==3.17.2\n",
};

/** Prepares `request` twice from an empty cache; the two wall times in milliseconds. */
export async function measureEnvironmentSetup(
  request: EnvironmentRequest = CLIENT_ENVIRONMENT,
): Promise<{ firstInMs: number; secondInMs: number; reused: boolean }> {
  const cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), "azureml-bench-envs-"));
  try {
    const quiet = () => undefined;
    const first = await createEnvironmentBuilder({ cacheDir }).prepare(request, quiet);
    const second = await createEnvironmentBuilder({ cacheDir }).prepare(request, quiet);
    return {
      firstInMs: first.durationInMs,
      secondInMs: second.durationInMs,
      reused: second.reused && !first.reused,
    };
  } finally {
    await fs.rm(cacheDir, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchFigures> {
  const { firstInMs, secondInMs, reused } = await measureEnvironmentSetup();
  const ratio = secondInMs / Math.max(firstInMs, 1);
  return {
    "first job's environment (ms)": firstInMs,
    "second job's environment (ms)": secondInMs,
    "second reused the first": reused ? "yes" : "no",
    [`second / first (goal ≤ ${TARGET_RATIO})`]: Number(ratio.toFixed(4)),
  };
}
