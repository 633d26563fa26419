/** Runs a tool (python, pip, uv) to completion, streaming its output lines; abortable. */
import { spawn } from "node:child_process";

export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Each line of stdout and stderr, as it comes. */
  readonly onLine?: (line: string) => void;
  /** Kills the tool and its children, then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

export interface RunResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Resolves with the exit code and output (also for a non-zero exit); rejects when it cannot start. */
export function runProcess(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(options.signal.reason);
      return;
    }
    // Its own process group, so an abort stops whatever the tool started too.
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const out: string[] = [];
    const err: string[] = [];
    const pending = { stdout: "", stderr: "" };
    const take = (stream: "stdout" | "stderr", chunk: Buffer, into: string[]) => {
      const text = chunk.toString("utf8");
      into.push(text);
      const lines = (pending[stream] + text).split(/\r?\n|\r/);
      pending[stream] = lines.pop() ?? "";
      for (const line of lines) {
        options.onLine?.(line);
      }
    };
    child.stdout.on("data", (chunk: Buffer) => take("stdout", chunk, out));
    child.stderr.on("data", (chunk: Buffer) => take("stderr", chunk, err));
    const onAbort = () => {
      try {
        process.kill(-(child.pid ?? 0), "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });
    child.once("error", (error) => {
      options.signal?.removeEventListener("abort", onAbort);
      reject(error);
    });
    child.once("close", (code, signal) => {
      options.signal?.removeEventListener("abort", onAbort);
      for (const rest of [pending.stdout, pending.stderr]) {
        if (rest !== "") {
          options.onLine?.(rest);
        }
      }
      if (options.signal?.aborted) {
        reject(options.signal.reason);
        return;
      }
      resolve({
        exitCode: code ?? (signal === null ? 1 : 128),
        stdout: out.join(""),
        stderr: err.join(""),
      });
    });
  });
}
