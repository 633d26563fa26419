/**
 * An interrupted `pulumi up`: the process running it (with the `pulumi` CLI and the provider host
 * it started) is killed while the command job runs; the next `up` adopts that job and waits for
 * it instead of submitting it again. The killed `up` runs in a process of its own
 * (test/support/interruptedUp.ts) against the same stack and the shared emulator.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import type { LocalWorkspace } from "@pulumi/pulumi/automation";
import { changes, type EngineStack } from "../../tools/stack";
import { armGet } from "../support/arm";
import { getEmulator, uniqueName } from "../support/emulator";
import { emulatorStack, useEngine, workspaceArgs } from "../support/engine";
import {
  INTERRUPTED_UP_ENV,
  slowJobProgram,
  type InterruptedUpRequest,
  type SlowJobSettings,
} from "../support/interruptedUp";
import { findRepoRoot } from "../support/userProject";

/** How long the job sleeps: long enough to outlive the kill and the next `up`'s start. */
const JOB_SECONDS = 40;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The processes below `pid`, read from /proc. The `pulumi` CLI starts its plugins (the dynamic
 * provider host among them) in process groups of their own, so killing the group of the process
 * that ran `up` leaves them running: a machine that dies takes them all.
 */
async function descendants(pid: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of await fs.readdir("/proc")) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    try {
      const stat = await fs.readFile(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid …; comm may contain spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // The process ended meanwhile.
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [child, ppid] of parents) {
      if (ppid === parent && !found.includes(child)) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

/** The types of the state's pending operations ("creating", …). */
function pendingTypes(deployment: { pending_operations?: { type: string }[] }): string[] {
  return (deployment.pending_operations ?? []).map((p) => p.type);
}

/** Polls `probe` every 250 ms until it returns a value, for at most `ms`. */
async function waitFor<T>(
  what: string,
  ms: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await sleep(250);
  }
}

describe("an interrupted pulumi up through the Pulumi engine @engine", function () {
  const engine = useEngine(this);
  before(function () {
    if (process.platform !== "linux") {
      this.skip(); // the process tree is read from /proc
    }
  });
  let stack: EngineStack | undefined;
  let folder: string | undefined;
  let child: ChildProcess | undefined;

  after(async () => {
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      process.kill(-child.pid, "SIGKILL");
    }
    await stack?.close();
    if (folder) {
      await fs.rm(folder, { recursive: true, force: true });
    }
  });

  it("killed while its job runs: after `pulumi cancel` the next up adopts the running job and submits nothing again; a refresh clearing pending creates leaves none @engine", async () => {
    const emulator = getEmulator();
    folder = await fs.mkdtemp(path.join(os.tmpdir(), "interrupted-up-"));
    await fs.mkdir(path.join(folder, "src"));
    await fs.writeFile(
      path.join(folder, "src", "slow.py"),
      `# ${uniqueName("run")}\nimport time\nprint("working", flush=True)\ntime.sleep(${JOB_SECONDS})\nprint("done")\n`,
    );
    const settings: SlowJobSettings = {
      ...workspaceArgs(),
      environmentName: uniqueName("slow-env"),
    };
    stack = await emulatorStack(engine(), "interrupted-up", slowJobProgram(settings), {
      files: [folder],
      // The progress lines say what the next up does with the job.
      env: { AZUREML_PROGRESS: "on" },
    });
    const workspace = stack.stack.workspace as LocalWorkspace;
    const upRequest: InterruptedUpRequest = {
      engineRoot: engine().root,
      projectName: "interrupted-up",
      stackName: stack.stack.name,
      workDir: workspace.workDir,
      pulumiHome: workspace.pulumiHome!,
      envVars: workspace.envVars,
      program: settings,
    };

    // The first up, in a process group of its own.
    const mark = emulator.requests.mark();
    let output = "";
    child = spawn(
      process.execPath,
      [path.join(findRepoRoot(), "dist", "test", "support", "interruptedUp.js")],
      {
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, [INTERRUPTED_UP_ENV]: JSON.stringify(upRequest) },
      },
    );
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => child!.once("exit", () => resolve()));

    // Its job PUT, then the job Running in the emulator: kill its process group and every
    // process below it, as a machine that dies would.
    const jobPuts = () =>
      emulator.requests
        .since(mark)
        .filter((r) => r.method === "PUT" && /\/jobs\/[^/]+$/.test(r.path.split("?")[0]));
    const jobPath = await waitFor("the job's PUT", 300_000, async () => {
      if (child!.exitCode !== null) {
        throw new Error(`the first up ended before its job ran:\n${output}`);
      }
      const put = jobPuts().find((r) => r.status >= 200 && r.status < 300);
      return put?.path.split("?")[0];
    });
    const jobName = jobPath.slice(jobPath.lastIndexOf("/") + 1);
    await waitFor("the job Running", 120_000, async () => {
      const job = await armGet(jobPath);
      return job?.properties.status === "Running" ? true : undefined;
    });
    const tree = await descendants(child.pid!);
    process.kill(-child.pid!, "SIGKILL");
    for (const pid of tree) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone with the group.
      }
    }
    await exited;
    expect(output).to.not.contain("up finished");

    // Nothing of the killed up is left talking to the emulator, and its job still runs.
    await sleep(3_000);
    const afterKill = emulator.requests.mark();
    await sleep(3_000);
    expect(
      emulator.requests.since(afterKill).filter((r) => r.plane === "arm"),
      "requests after the kill",
    ).to.deep.equal([]);
    expect((await armGet(jobPath)).properties.status).to.equal("Running");
    expect(
      pendingTypes(JSON.parse(await stack.exportState()).deployment),
      "the kill left the job's create pending",
    ).to.deep.equal(["creating"]);

    // What a user sees next: the file backend still holds the killed update's lock, so `up`
    // refuses to start until `pulumi cancel` removes it; the job has not been touched.
    const mark2 = emulator.requests.mark();
    const locked = await stack.up().then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    expect(String((locked?.cause as Error | undefined)?.message)).to.contain(
      "the stack is currently locked",
    );
    expect(emulator.requests.since(mark2).filter((r) => r.plane === "arm")).to.deep.equal([]);
    await stack.stack.cancel();

    // The next up drops the pending create, then adopts the running job and waits for it.
    const second = await stack.up();
    expect(second.output).to.match(/pending operation/i);
    expect(second.outputs.name).to.equal(jobName);
    expect(second.outputs.status).to.equal("Completed");
    expect(second.output).to.contain(`already submitted by an earlier update (Running)`);
    expect(
      jobPuts().map((r) => r.path.split("?")[0]),
      "job PUTs across both ups",
    ).to.deep.equal([jobPath]);
    const state = JSON.parse(await stack.exportState()).deployment;
    const jobs = (state.resources as { type: string; outputs?: { name?: string } }[]).filter((r) =>
      r.type.endsWith(":CommandJob"),
    );
    expect(jobs.map((r) => r.outputs?.name)).to.deep.equal([jobName]);
    // The engine keeps the killed run's pending create (it cannot know what that create made)
    // until a refresh clears it: `pulumi refresh --clear-pending-creates`.
    expect(pendingTypes(state)).to.deep.equal(["creating"]);
    const refresh = await stack.stack.refresh({ clearPendingCreates: true, color: "never" });
    expect(refresh.summary.result).to.equal("succeeded");
    const refreshed = JSON.parse(await stack.exportState()).deployment;
    expect(pendingTypes(refreshed)).to.deep.equal([]);
    expect(
      (refreshed.resources as { type: string; outputs?: { name?: string } }[])
        .filter((r) => r.type.endsWith(":CommandJob"))
        .map((r) => r.outputs?.name),
    ).to.deep.equal([jobName]);
    process.stderr.write(`interrupted up: the next up said:\n${second.output}\n`);

    // A third up changes nothing.
    expect(changes((await stack.up()).steps)).to.deep.equal([]);
    await stack.destroy();
  });
});
