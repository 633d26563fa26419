// Mocha root hooks (loaded through .mocharc.json `require`). One emulator serves the whole run, and
// only when the selected tests need it, so `--grep @unit` stays fast.
import type { Runner } from "mocha";
import { needsEmulator, startSharedEmulator, stopSharedEmulator } from "./emulator";
import { recordShardStats, SHARD_STATS_ENV } from "./shardStats";

// Mocha calls global setup with the runner as `this`, after `--grep`/`--invert` are applied.
interface GreppedRunner extends Runner {
  _grep?: RegExp;
  _invert?: boolean;
}

/** The full titles of the tests this run selected (ignoring `.only`, which can only narrow it). */
export function selectedTestTitles(runner: GreppedRunner): string[] {
  const titles: string[] = [];
  runner.suite.eachTest((test) => {
    const title = test.fullTitle();
    const matches = runner._grep === undefined || runner._grep.test(title);
    if (matches !== Boolean(runner._invert)) {
      titles.push(title);
    }
  });
  return titles;
}

export async function mochaGlobalSetup(this: GreppedRunner): Promise<void> {
  // A shard of a sharded `npm test` (runMocha.ts) reports its counts and file times.
  const statsFile = process.env[SHARD_STATS_ENV];
  if (statsFile !== undefined && statsFile !== "") {
    recordShardStats(this, statsFile);
  }
  if (selectedTestTitles(this).some(needsEmulator)) {
    await startSharedEmulator();
  }
}

export const mochaHooks = {
  async afterAll(): Promise<void> {
    await stopSharedEmulator();
  },
};

// A safety net for runs whose root afterAll hook did not get to run; stopping twice is harmless.
export async function mochaGlobalTeardown(): Promise<void> {
  await stopSharedEmulator();
}
