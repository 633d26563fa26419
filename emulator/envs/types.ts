/**
 * The seam between the job runner and the environments room: a job asks for the environment of
 * its EnvironmentVersion and gets a Python it can put first on PATH. Implementations build real
 * virtual environments with `uv`, cached by content, as Azure caches images.
 */

/** What a job's environment version holds, as stored by the control plane. */
export interface EnvironmentRequest {
  /** The environment version's ARM id, for log lines and messages. */
  readonly id: string;
  /** The image the version names (image-only environments run on the machine's Python). */
  readonly image?: string;
  /** The conda file's YAML text, when the version has one. */
  readonly condaFile?: string;
}

/** A ready environment. */
export interface PreparedEnvironment {
  /** The folder to put first on PATH: it holds `python` and the installed packages' scripts. */
  readonly binDir: string;
  /** The interpreter itself. */
  readonly pythonPath: string;
  /** The cache key: equal content gives an equal key (and a reused environment). */
  readonly key: string;
  /** True when an environment with this content was already built, so nothing was installed. */
  readonly reused: boolean;
  /** Wall time spent preparing, in milliseconds (building when not reused). */
  readonly durationInMs: number;
}

/** Builds environments, or reuses the one built for the same content. */
export interface EnvironmentBuilder {
  /**
   * Builds or reuses the environment. Human-readable lines (installer output, warnings such as a
   * `python=` pin the machine's Python does not meet) go to `log`, which the job runner writes
   * into the job's log. Rejects with an error whose message is the installer's when the install
   * fails, or when `signal` aborts. Concurrent calls for the same content build once.
   */
  prepare(
    request: EnvironmentRequest,
    log: (line: string) => void,
    signal?: AbortSignal,
  ): Promise<PreparedEnvironment>;
}
