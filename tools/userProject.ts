// A throwaway Pulumi project that has this package installed the way a user gets it: the
// `npm pack` tarball extracted into node_modules/pulumi-azureml (what `npm install <tarball>`
// lays down), with the runtime dependencies linked from this repository so nothing downloads.
// The provider host runs with such a directory as its cwd, so every `import("pulumi-azureml/…")`
// in a serialized provider resolves to the packed copy, never to the repository's sources.
import { execFile } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import * as fs from "node:fs/promises";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Packages the installed package needs at run time, linked from the repository. */
export const LINKED_DEPENDENCIES: readonly string[] = [
  "@pulumi/pulumi",
  "@azure/identity",
  "@azure/storage-blob",
  "@azure/core-lro",
  "undici",
  "ignore",
  "google-protobuf",
];

export interface UserProjectOptions {
  /** Project name written to Pulumi.yaml (and used as the config namespace). Default "harness". */
  readonly name?: string;
  /** Where to create the project; must not exist or be empty. Default: a new directory under os.tmpdir(). */
  readonly dir?: string;
}

export interface UserProject {
  readonly dir: string;
  readonly name: string;
  /** `require` as code in the project would: resolves from `<dir>/node_modules`. */
  require<T = unknown>(specifier: string): T;
  /** Removes the whole project directory. */
  cleanup(): Promise<void>;
}

/** The repository root: the nearest package.json named "pulumi-azureml" above this file. */
export function findRepoRoot(from: string = __dirname): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (
      existsSync(manifest) &&
      JSON.parse(readFileSync(manifest, "utf8")).name === "pulumi-azureml"
    ) {
      return dir;
    }
    if (path.dirname(dir) === dir) {
      throw new Error(`no pulumi-azureml package.json above ${from}`);
    }
  }
}

let packed: Promise<string> | undefined;
let packDir: string | undefined;

/**
 * Packs the repository once per process (`npm pack`, no lifecycle scripts) and returns the
 * tarball path. The tarball holds whatever dist/ contains, so build before calling this.
 */
export function packRepo(): Promise<string> {
  packed ??= (async () => {
    const root = findRepoRoot();
    if (!existsSync(path.join(root, "dist"))) {
      throw new Error("dist/ is missing: run the build before packing the package");
    }
    packDir = await fs.mkdtemp(path.join(os.tmpdir(), "pulumi-azureml-pack-"));
    process.once("exit", removePackDir);
    const { stdout } = await run(
      "npm",
      ["pack", "--json", "--ignore-scripts", "--pack-destination", packDir],
      { cwd: root, maxBuffer: 64 * 1024 * 1024 },
    );
    const [{ filename }] = JSON.parse(stdout) as { filename: string }[];
    return path.join(packDir, filename);
  })();
  packed.catch(() => (packed = undefined));
  return packed;
}

function removePackDir(): void {
  if (packDir) {
    rmSync(packDir, { recursive: true, force: true });
  }
}

/**
 * Creates a Pulumi project directory with this package installed from its packed tarball.
 * Two projects are two independent "checkouts" of the same package version.
 */
export async function createUserProject(options: UserProjectOptions = {}): Promise<UserProject> {
  const name = options.name ?? "harness";
  const tarball = await packRepo();
  const dir = options.dir
    ? path.resolve(options.dir)
    : await fs.mkdtemp(path.join(os.tmpdir(), `${name}-`));
  await fs.mkdir(dir, { recursive: true });
  if ((await fs.readdir(dir)).length > 0) {
    throw new Error(`project directory ${dir} is not empty`);
  }
  try {
    const installed = path.join(dir, "node_modules", "pulumi-azureml");
    await fs.mkdir(installed, { recursive: true });
    await run("tar", ["-xzf", tarball, "-C", installed, "--strip-components=1"]);
    await linkDependencies(findRepoRoot(), dir);
    const version = JSON.parse(
      await fs.readFile(path.join(installed, "package.json"), "utf8"),
    ).version;
    await fs.writeFile(path.join(dir, "Pulumi.yaml"), `name: ${name}\nruntime: nodejs\n`);
    await fs.writeFile(
      path.join(dir, "package.json"),
      `${JSON.stringify({ name, private: true, dependencies: { "pulumi-azureml": version } }, null, 2)}\n`,
    );
  } catch (error) {
    await fs.rm(dir, { recursive: true, force: true });
    throw error;
  }
  const projectRequire = createRequire(path.join(dir, "package.json"));
  return {
    dir,
    name,
    require: <T>(specifier: string) => projectRequire(specifier) as T,
    cleanup: () => fs.rm(dir, { recursive: true, force: true }),
  };
}

async function linkDependencies(repoRoot: string, projectDir: string): Promise<void> {
  for (const dependency of LINKED_DEPENDENCIES) {
    const target = path.join(repoRoot, "node_modules", dependency);
    const link = path.join(projectDir, "node_modules", dependency);
    await fs.mkdir(path.dirname(link), { recursive: true });
    await fs.symlink(target, link, "dir");
  }
}
