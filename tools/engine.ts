/**
 * The Pulumi engine the tests, the demo and the benchmarks run: `pulumi` plus the dynamic-provider
 * shim `pulumi-resource-pulumi-nodejs` in one `bin/` folder, which `PulumiCommand.get({ root })`
 * runs. No registry serves the CLI binary, so it is built from Pulumi's Go modules, pinned in
 * engine/go.mod and engine/go.sum, and cached outside the work tree, keyed by version:
 *
 *   ${XDG_CACHE_HOME:-~/.cache}/pulumi-azureml/engine/<version>/bin/
 *
 * A `pulumi` on PATH at least as new as the `@pulumi/pulumi` the project uses is taken as it is.
 * The Go module and build caches stay where Go keeps them (outside the work tree), so a second
 * build on the same machine compiles nothing.
 *
 *   node dist/tools/engine.js          (`npm run engine`) finds or builds the engine, prints its bin/
 *   node dist/tools/engine.js --check  prints what would be used; exit code 1 when nothing is there
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The Go package whose main is the `pulumi` command. */
export const PULUMI_MAIN_PACKAGE = "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi";
/** Where the CLI reads its own version; empty unless injected at link time. */
const VERSION_VARIABLE = "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version";
/** The dynamic-provider shim, shipped as a script inside `@pulumi/pulumi`. */
export const DYNAMIC_PROVIDER_SHIM = "pulumi-resource-pulumi-nodejs";

/** A `pulumi` the Automation API can run: `<root>/bin/pulumi`, the shim beside it. */
export interface Engine {
  /** For `PulumiCommand.get({ root })`. */
  readonly root: string;
  /** `<root>/bin`: put it first on PATH so the engine finds the shim. */
  readonly bin: string;
  /** Without the leading "v", e.g. "3.277.0". */
  readonly version: string;
  /** "cache": built from engine/go.mod earlier; "built": just now; "path": the user's own. */
  readonly source: "cache" | "built" | "path";
}

/** Neither a cached engine, nor a new enough `pulumi` on PATH, nor Go to build one. */
export class EngineUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EngineUnavailableError";
  }
}

/** The repository root: the folder holding engine/go.mod. */
export function repoRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "engine", "go.mod"))) {
      return dir;
    }
    if (path.dirname(dir) === dir) {
      throw new Error(`no engine/go.mod above ${__dirname}`);
    }
  }
}

/** The Pulumi version engine/go.mod pins, e.g. "3.277.0". */
export function pinnedVersion(goMod: string = readFileSync(goModPath(), "utf8")): string {
  const match =
    /^\s*(?:require\s+)?github\.com\/pulumi\/pulumi\/pkg\/v3\s+v(\d+\.\d+\.\d+)\s*$/m.exec(goMod);
  if (!match) {
    throw new Error("engine/go.mod does not require github.com/pulumi/pulumi/pkg/v3");
  }
  return match[1];
}

function goModPath(): string {
  return path.join(repoRoot(), "engine", "go.mod");
}

/** The oldest `pulumi` on PATH that is used: the `@pulumi/pulumi` version the project installs. */
export function minimumVersion(): string {
  const manifest = require.resolve("@pulumi/pulumi/package.json", { paths: [repoRoot()] });
  return (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
}

/** `${XDG_CACHE_HOME:-~/.cache}/pulumi-azureml/engine` */
export function engineCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.join(base, "pulumi-azureml", "engine");
}

/** Compares "x.y.z" versions (a leading "v" and any pre-release suffix are ignored). */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) =>
    v
      .replace(/^v/, "")
      .split(/[-+]/)[0]
      .split(".")
      .map((n) => Number.parseInt(n, 10) || 0);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) {
    if ((x[i] ?? 0) !== (y[i] ?? 0)) {
      return (x[i] ?? 0) - (y[i] ?? 0);
    }
  }
  return 0;
}

/** What `<binary> version` prints, without the "v"; undefined when it does not run. */
async function versionOf(binary: string): Promise<string | undefined> {
  try {
    const { stdout } = await run(binary, ["version"], {
      timeout: 30_000,
      env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" },
    });
    const match = /v?(\d+\.\d+\.\d+\S*)/.exec(stdout.trim());
    return match?.[1];
  } catch {
    return undefined;
  }
}

/** The first `name` on PATH, or undefined. */
export function onPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (dir === "") {
      continue;
    }
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) {
      return candidate;
    }
  }
  return undefined;
}

/** Copies the shim from the installed `@pulumi/pulumi` into `bin` (it holds no path). */
async function placeShim(bin: string): Promise<void> {
  const source = require.resolve(`@pulumi/pulumi/${DYNAMIC_PROVIDER_SHIM}`, {
    paths: [repoRoot()],
  });
  const target = path.join(bin, DYNAMIC_PROVIDER_SHIM);
  const text = await fs.readFile(source);
  const existing = await fs.readFile(target).catch(() => undefined);
  if (existing === undefined || !existing.equals(text)) {
    const temporary = `${target}.${process.pid}`;
    await fs.writeFile(temporary, text, { mode: 0o755 });
    await fs.rename(temporary, target);
  }
}

/** Written beside a verified build: the binary it describes runs and reports `version`. */
interface BuildStamp {
  readonly version: string;
  readonly size: number;
  readonly mtimeMs: number;
}

async function stampOf(pulumi: string, version: string): Promise<BuildStamp | undefined> {
  const stat = await fs.stat(pulumi).catch(() => undefined);
  return stat && { version, size: stat.size, mtimeMs: stat.mtimeMs };
}

/**
 * The engine built from engine/go.mod earlier. Its stamp saves running the 120 MB binary on every
 * call; without a matching stamp the binary must run and report the pinned version.
 */
async function cachedEngine(version: string): Promise<Engine | undefined> {
  const root = path.join(engineCacheDir(), `v${version}`);
  const bin = path.join(root, "bin");
  const pulumi = path.join(bin, "pulumi");
  const stampFile = path.join(root, "stamp.json");
  const current = await stampOf(pulumi, version);
  if (current === undefined) {
    return undefined;
  }
  const stamp = await fs
    .readFile(stampFile, "utf8")
    .then((text) => JSON.parse(text) as BuildStamp)
    .catch(() => undefined);
  if (JSON.stringify(stamp) !== JSON.stringify(current)) {
    if ((await versionOf(pulumi)) !== version) {
      return undefined;
    }
    await fs.writeFile(stampFile, `${JSON.stringify(current)}\n`);
  }
  await placeShim(bin);
  return { root, bin, version, source: "cache" };
}

/**
 * A `pulumi` on PATH that is new enough, behind a `bin/` folder of its own in the cache (a link to
 * it and the shim), since the Automation API runs `<root>/bin/pulumi`.
 */
async function pathEngine(): Promise<Engine | undefined> {
  const found = onPath("pulumi");
  if (found === undefined) {
    return undefined;
  }
  const version = await versionOf(found);
  if (version === undefined || compareVersions(version, minimumVersion()) < 0) {
    return undefined;
  }
  const real = await fs.realpath(found);
  const root = path.join(engineCacheDir(), `path-v${version}`);
  const bin = path.join(root, "bin");
  await fs.mkdir(bin, { recursive: true });
  const link = path.join(bin, "pulumi");
  if ((await fs.readlink(link).catch(() => undefined)) !== real) {
    const temporary = `${link}.${process.pid}`;
    await fs.symlink(real, temporary);
    await fs.rename(temporary, link);
  }
  await placeShim(bin);
  return { root, bin, version, source: "path" };
}

/** An engine that is there already (cached build, else a new enough `pulumi` on PATH); never builds. */
export async function locateEngine(): Promise<Engine | undefined> {
  return (await cachedEngine(pinnedVersion())) ?? (await pathEngine());
}

export interface EnsureEngineOptions {
  /** Progress lines; default: stderr. */
  readonly log?: (line: string) => void;
}

/** {@link locateEngine}, else builds the pinned version with Go. */
export async function ensureEngine(options: EnsureEngineOptions = {}): Promise<Engine> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  return (await locateEngine()) ?? buildEngine(pinnedVersion(), log);
}

/** The one line saying what to install, for a machine with neither Go nor a usable `pulumi`. */
export function unavailableMessage(version: string = pinnedVersion()): string {
  return (
    `the Pulumi engine is not available: install Go 1.26 or later (then \`npm run engine\` builds ` +
    `pulumi v${version}), or put pulumi v${minimumVersion()} or later on PATH`
  );
}

async function goVersion(): Promise<string | undefined> {
  try {
    const { stdout } = await run("go", ["env", "GOVERSION"], { timeout: 30_000 });
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

const LOCK_STALE_MS = 60 * 60 * 1000;

/**
 * One build per machine at a time: a lock folder beside the result. A second process waits for
 * the first and then finds the binary in the cache.
 */
async function withBuildLock<T>(
  root: string,
  log: (line: string) => void,
  body: () => Promise<T>,
): Promise<T> {
  const lock = path.join(root, ".building");
  await fs.mkdir(root, { recursive: true });
  for (let announced = false; ;) {
    try {
      await fs.mkdir(lock);
      await fs.writeFile(path.join(lock, "pid"), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw error;
      }
      if (!(await lockIsLive(lock))) {
        await fs.rm(lock, { recursive: true, force: true });
        continue;
      }
      if (!announced) {
        log(`engine: another process is building it (${lock}); waiting`);
        announced = true;
      }
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
  try {
    return await body();
  } finally {
    await fs.rm(lock, { recursive: true, force: true });
  }
}

async function lockIsLive(lock: string): Promise<boolean> {
  try {
    const [pidText, stat] = await Promise.all([
      fs.readFile(path.join(lock, "pid"), "utf8"),
      fs.stat(lock),
    ]);
    if (Date.now() - stat.mtimeMs > LOCK_STALE_MS) {
      return false;
    }
    process.kill(Number(pidText), 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else. A missing pid file: just created.
    const code = (error as NodeJS.ErrnoException).code;
    return code === "EPERM" || code === "ENOENT";
  }
}

async function buildEngine(version: string, log: (line: string) => void): Promise<Engine> {
  const go = await goVersion();
  if (go === undefined) {
    throw new EngineUnavailableError(unavailableMessage(version));
  }
  const root = path.join(engineCacheDir(), `v${version}`);
  const bin = path.join(root, "bin");
  return withBuildLock(root, log, async () => {
    const ready = await cachedEngine(version);
    if (ready) {
      return ready;
    }
    await fs.mkdir(bin, { recursive: true });
    const output = path.join(bin, `pulumi.${process.pid}.tmp`);
    const moduleDir = path.dirname(goModPath());
    log(
      `engine: building pulumi v${version} with ${go} from engine/go.mod into ${bin} ` +
        `(about 9 minutes on two cores when Go's caches are empty, seconds when they are warm)`,
    );
    const started = Date.now();
    const ticker = setInterval(
      () => log(`engine: still building (${Math.round((Date.now() - started) / 60_000)} min)`),
      60_000,
    );
    try {
      await spawnChecked(
        "go",
        [
          "build",
          "-mod=readonly",
          "-trimpath",
          "-ldflags",
          `-s -w -X ${VERSION_VARIABLE}=v${version}`,
          "-o",
          output,
          PULUMI_MAIN_PACKAGE,
        ],
        { cwd: moduleDir, env: { ...process.env, CGO_ENABLED: "0" } },
      );
    } catch (error) {
      await fs.rm(output, { force: true });
      throw error;
    } finally {
      clearInterval(ticker);
    }
    const built = await versionOf(output);
    if (built !== version) {
      await fs.rm(output, { force: true });
      throw new Error(`the built pulumi reports version ${built ?? "nothing"}, not ${version}`);
    }
    await fs.rename(output, path.join(bin, "pulumi"));
    const stamp = await stampOf(path.join(bin, "pulumi"), version);
    await fs.writeFile(path.join(root, "stamp.json"), `${JSON.stringify(stamp)}\n`);
    await placeShim(bin);
    const { size } = await fs.stat(path.join(bin, "pulumi"));
    log(
      `engine: built pulumi v${version} in ${((Date.now() - started) / 1000).toFixed(0)} s ` +
        `(${(size / 1024 / 1024).toFixed(0)} MB)`,
    );
    return { root, bin, version, source: "built" };
  });
}

function spawnChecked(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ["ignore", "inherit", "inherit"] });
    child.on("error", reject);
    child.on("exit", (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error(`${command} ${args[0]} failed (${signal ?? `exit code ${code}`})`)),
    );
  });
}

async function main(argv: readonly string[]): Promise<number> {
  const started = Date.now();
  const describe = (engine: Engine) =>
    `engine: pulumi v${engine.version} (${engine.source === "path" ? "from PATH" : `pinned in engine/go.mod, ${engine.source}`}) in ${engine.bin}`;
  if (argv.includes("--check")) {
    const engine = await locateEngine();
    process.stdout.write(`${engine ? describe(engine) : unavailableMessage()}\n`);
    return engine ? 0 : 1;
  }
  try {
    const engine = await ensureEngine();
    process.stdout.write(`${describe(engine)} (${Date.now() - started} ms)\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
