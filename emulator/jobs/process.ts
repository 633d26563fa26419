/**
 * One job's command as a local process: `sh -c <command>` in its own process group (so a cancel
 * reaches every process it started), stdout and stderr appended to the job's log file, stopped
 * with SIGTERM then SIGKILL.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";

export interface CommandResult {
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why the emulator stopped it, when it did. */
  stoppedFor?: string;
}

export interface RunningCommand {
  readonly pid: number | undefined;
  /** Resolves when `sh` has exited and the rest of its process group has been killed. */
  readonly done: Promise<CommandResult>;
  /** SIGTERM to the whole group, SIGKILL after the grace period. Idempotent; the first reason wins. */
  stop(reason: string): void;
}

export function runCommand(options: {
  command: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
  killGraceInMs: number;
}): RunningCommand {
  const fd = fs.openSync(options.logFile, "a");
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn("sh", ["-c", options.command], {
      cwd: options.cwd,
      env: options.env,
      // A new process group (and session) led by sh: kill(-pid) reaches everything it starts.
      detached: true,
      stdio: ["ignore", fd, fd],
    });
  } finally {
    fs.closeSync(fd); // the child holds its own copy
  }
  const pid = child.pid;
  let stoppedFor: string | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const signalGroup = (signal: NodeJS.Signals) => {
    if (pid === undefined) {
      return;
    }
    try {
      process.kill(-pid, signal);
    } catch {
      // ESRCH: the group is gone already
    }
  };
  const done = new Promise<CommandResult>((resolve) => {
    let settled = false;
    const finish = (result: CommandResult) => {
      if (settled) {
        return;
      }
      settled = true;
      if (killTimer !== undefined) {
        clearTimeout(killTimer);
      }
      // Whatever sh left behind dies with it, as in a container that exits.
      signalGroup("SIGKILL");
      resolve(result);
    };
    child.once("error", (error) => {
      fs.appendFileSync(options.logFile, `Could not start the command: ${error.message}\n`);
      finish({ code: 127, signal: null, stoppedFor });
    });
    child.once("exit", (code, signal) => finish({ code, signal, stoppedFor }));
  });
  return {
    pid,
    done,
    stop(reason) {
      if (stoppedFor !== undefined) {
        return;
      }
      stoppedFor = reason;
      signalGroup("SIGTERM");
      killTimer = setTimeout(() => signalGroup("SIGKILL"), options.killGraceInMs);
      killTimer.unref();
    },
  };
}
