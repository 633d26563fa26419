// What one mocha process of a sharded `npm test` reports back to runMocha.ts, whatever reporter it
// prints with: its counts and the wall time of each spec file (hooks included), written as JSON to
// the file named by AZUREML_TEST_SHARD_STATS when the run ends.
import { writeFileSync } from "node:fs";
import type { Runner, Suite } from "mocha";

/** Set by runMocha.ts on each shard: where the shard writes its ShardStats. */
export const SHARD_STATS_ENV = "AZUREML_TEST_SHARD_STATS";

export interface ShardStats {
  readonly passes: number;
  readonly failures: number;
  readonly pending: number;
  /** Milliseconds per spec file (absolute path), from its first top-level suite's start to its last's end. */
  readonly files: Record<string, number>;
}

/** Counts the runner's events and writes them to `file` when the run ends. */
export function recordShardStats(runner: Runner, file: string): void {
  let passes = 0;
  let failures = 0;
  let pending = 0;
  const files: Record<string, number> = {};
  const started = new Map<Suite, number>();
  const topLevel = (suite: Suite): boolean =>
    suite.file !== undefined && suite.parent !== undefined && suite.parent.root;
  runner.on("suite", (suite) => {
    if (topLevel(suite)) {
      started.set(suite, Date.now());
    }
  });
  runner.on("suite end", (suite) => {
    const start = started.get(suite);
    if (start !== undefined && suite.file !== undefined) {
      files[suite.file] = (files[suite.file] ?? 0) + (Date.now() - start);
    }
  });
  runner.on("pass", () => (passes += 1));
  runner.on("fail", () => (failures += 1));
  runner.on("pending", () => (pending += 1));
  runner.once("end", () => {
    const stats: ShardStats = { passes, failures, pending, files };
    writeFileSync(file, JSON.stringify(stats));
  });
}
