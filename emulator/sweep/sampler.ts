/**
 * The sweep's sampler: a Python process per sweep (emulator/sweep/python, Optuna pinned in
 * requirements.txt) in a tool environment built once and cached by content, driven in ask/tell
 * style over JSON lines. The controller (controller.ts) stays in TypeScript beside the job runner
 * it drives; only the sampling is Python, where the library is.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { packageFile } from "../envs/python";
import { ensureToolEnvironment } from "../envs/toolEnvironment";
import type { Json } from "../handlers/common";

/** What the sampler is started with. */
export interface SamplerConfig {
  searchSpace: Json;
  samplingAlgorithm: Json;
  goal: "Maximize" | "Minimize";
  /** Seed for algorithms with none of their own (Grid order, Bayesian), so a sweep replays. */
  seed: number;
}

export interface SampledTrial {
  /** Optuna's trial number (0, 1, ...). */
  number: number;
  params: Record<string, unknown>;
}

export type TrialOutcome = "complete" | "fail" | "pruned";

export interface SweepSampler {
  /** Combinations in the grid (Grid sampling), else undefined. */
  readonly gridSize: number | undefined;
  /** The next trial's values, or undefined when a grid has been enumerated. */
  ask(): Promise<SampledTrial | undefined>;
  /** Reports a trial's outcome (its final primary metric when complete). */
  tell(number: number, outcome: TrialOutcome, value?: number): Promise<void>;
  close(): void;
}

export interface SamplerFactory {
  start(config: SamplerConfig, signal?: AbortSignal): Promise<SweepSampler>;
}

/** The sampler refused the sweep (a search space it cannot sample) or failed. */
export class SamplerError extends Error {
  constructor(
    message: string,
    readonly target?: string,
  ) {
    super(message);
  }
}

export interface OptunaSamplerOptions {
  /** The machine's Python. @default `$AZUREML_EMULATOR_PYTHON`, else `python3` */
  readonly python?: string;
  readonly cacheDir?: string;
  readonly log?: (line: string) => void;
}

export const SAMPLER_ENVIRONMENT = {
  name: "sweep-sampler",
  requirementFiles: [packageFile("emulator", "sweep", "requirements.txt")],
  localPackages: [packageFile("emulator", "sweep", "python")],
};

export function createOptunaSamplerFactory(options: OptunaSamplerOptions = {}): SamplerFactory {
  return {
    async start(config, signal) {
      const env = await ensureToolEnvironment(SAMPLER_ENVIRONMENT, {
        python: options.python,
        cacheDir: options.cacheDir,
        log: options.log,
        signal,
      });
      const child = spawn(env.pythonPath, ["-m", "azureml_emulator_sweep.sampler"], {
        stdio: ["pipe", "pipe", "pipe"],
        env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1", PYTHONUNBUFFERED: "1" },
      });
      const sampler = new ProcessSampler(child);
      const first = await sampler.request(config);
      if (first.error !== undefined) {
        sampler.close();
        const error = first.error as { message?: string; target?: string };
        throw new SamplerError(String(error.message), error.target);
      }
      sampler.gridSize = typeof first.gridSize === "number" ? first.gridSize : undefined;
      return sampler;
    },
  };
}

class ProcessSampler implements SweepSampler {
  gridSize: number | undefined;
  private readonly replies: Array<(reply: Json) => void> = [];
  private chain: Promise<unknown> = Promise.resolve();
  private stderr = "";
  private ended = false;

  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      const waiter = this.replies.shift();
      waiter?.(JSON.parse(line) as Json);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString("utf8")).slice(-4000);
    });
    const fail = () => {
      this.ended = true;
      for (const waiter of this.replies.splice(0)) {
        waiter({ error: { message: `The sampler process ended: ${this.stderr.trim()}` } });
      }
    };
    child.once("close", fail);
    child.once("error", fail);
  }

  /** One request, one reply, in order. */
  request(message: unknown): Promise<Json> {
    const next = this.chain.then(
      () =>
        new Promise<Json>((resolve) => {
          if (this.ended) {
            resolve({ error: { message: `The sampler process ended: ${this.stderr.trim()}` } });
            return;
          }
          this.replies.push(resolve);
          this.child.stdin.write(`${JSON.stringify(message)}\n`);
        }),
    );
    this.chain = next;
    return next;
  }

  async ask(): Promise<SampledTrial | undefined> {
    const reply = await this.request({ op: "ask" });
    if (reply.error !== undefined) {
      throw new SamplerError(String((reply.error as Json).message));
    }
    if (reply.exhausted === true) {
      return undefined;
    }
    return { number: reply.number as number, params: reply.params as Record<string, unknown> };
  }

  async tell(number: number, outcome: TrialOutcome, value?: number): Promise<void> {
    const reply = await this.request({ op: "tell", number, state: outcome, value: value ?? null });
    if (reply.error !== undefined) {
      throw new SamplerError(String((reply.error as Json).message));
    }
  }

  close(): void {
    if (!this.ended) {
      this.child.stdin.end();
      this.child.kill("SIGTERM");
    }
  }
}
