/**
 * The emulator's batch scoring driver (emulator/batch/python): 10,000 rows in 20 CSV files scored
 * with max concurrency 2 against a single worker (goal: a ratio of at most 0.6). The scoring script
 * reads every row and waits 0.2 s per file, standing in for a model's per-file latency, so the
 * figure measures the driver's parallelism rather than how busy the shared machine's cores are.
 * Runs the driver with the `python3` on PATH (it needs only the standard library). Two figures
 * each: the whole process, and the scoring itself as the driver reports it (`elapsed_seconds`,
 * workers started to output written), which leaves out the interpreter's start-up, a constant
 * that on a busy shared machine takes about a second.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { packageFile } from "../emulator/envs/python";
import type { BenchFigures } from "./index";

const FILES = 20;
const ROWS_PER_FILE = 500;

const SCRIPT = `
import time

def init():
    pass

def run(mini_batch):
    rows = []
    for path in mini_batch:
        with open(path) as f:
            next(f)
            for line in f:
                a, b = line.strip().split(",")
                rows.append(f"{path.rsplit('/', 1)[-1]} {int(a) * int(b)}")
        time.sleep(0.2)
    return rows
`;

/** Runs the driver; resolves with its summary (the JSON last line of its stdout). */
function runDriver(args: string[]): Promise<{ elapsed_seconds: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn("python3", ["-m", "azureml_emulator_batch.driver", ...args], {
      cwd: packageFile("emulator", "batch", "python"),
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) =>
      code === 0
        ? resolve(JSON.parse(stdout.trim().split("\n").pop() as string))
        : reject(new Error(`driver exited ${code}: ${stderr.trim()}`)),
    );
  });
}

export async function run(): Promise<BenchFigures> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "bench-batch-"));
  try {
    mkdirSync(path.join(dir, "input"));
    mkdirSync(path.join(dir, "code"));
    writeFileSync(path.join(dir, "code", "score.py"), SCRIPT);
    for (let f = 0; f < FILES; f++) {
      const lines = ["a,b"];
      for (let r = 0; r < ROWS_PER_FILE; r++) {
        lines.push(`${r},${f}`);
      }
      writeFileSync(
        path.join(dir, "input", `part-${String(f).padStart(2, "0")}.csv`),
        `${lines.join("\n")}\n`,
      );
    }
    const timed = async (concurrency: number) => {
      const output = path.join(dir, `out-${concurrency}`);
      const started = performance.now();
      const summary = await runDriver([
        "--input",
        path.join(dir, "input"),
        "--output",
        output,
        "--code-dir",
        path.join(dir, "code"),
        "--scoring-script",
        "score.py",
        "--mini-batch-size",
        "2",
        "--max-concurrency",
        String(concurrency),
      ]);
      const elapsed = performance.now() - started;
      const rows = readFileSync(path.join(output, "predictions.csv"), "utf8").trim().split("\n");
      if (rows.length !== FILES * ROWS_PER_FILE) {
        throw new Error(`expected ${FILES * ROWS_PER_FILE} rows, got ${rows.length}`);
      }
      return { processMs: elapsed, scoringMs: summary.elapsed_seconds * 1000 };
    };
    const single = await timed(1);
    const double = await timed(2);
    return {
      "10,000 rows in 20 files, 1 worker: scoring ms": single.scoringMs,
      "10,000 rows in 20 files, max concurrency 2: scoring ms": double.scoringMs,
      "scoring, max concurrency 2 / 1 worker (goal at most 0.6)":
        double.scoringMs / single.scoringMs,
      "10,000 rows in 20 files, 1 worker: whole process ms": single.processMs,
      "10,000 rows in 20 files, max concurrency 2: whole process ms": double.processMs,
      "whole process, max concurrency 2 / 1 worker": double.processMs / single.processMs,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
