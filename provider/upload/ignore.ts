/**
 * Ignore rules for code folders, compatible with the Azure ML SDK (azure-ai-ml).
 *
 * What the SDK does (`_utils/_asset_utils.py`, `get_ignore_file`): it reads `.amlignore` from the
 * root of the uploaded folder, else `.gitignore` from that root, else nothing. Only that one file
 * is read: nested and parent ignore files are not merged. We default to exactly that, because the
 * content hash must equal the SDK's for the same folder, or a version registered by the CLI or
 * the SDK is not reused. Parent ignore files are an opt-in (`includeParentIgnoreFiles`).
 *
 * Patterns are matched with the `ignore` package, which follows git: last match wins, `!`
 * re-includes, `dir/` matches directories only, a leading or middle `/` anchors, `**` spans
 * folders, `\` escapes, `#` starts a comment, unescaped trailing spaces are dropped. Matching is
 * case-sensitive, like the SDK's pathspec port (the package's default is case-insensitive).
 *
 * Known differences from the SDK (its matcher tests each file path on its own and never prunes a
 * directory):
 * - A negation cannot re-include a file inside an excluded directory, as in git. With
 *   `build/` then `!build/keep.txt`, or `*` then `!*.py` for `sub/a.py`, the SDK keeps the file and
 *   we drop it, so the two hashes differ for such ignore files.
 * - The SDK strips every trailing space (`line.rstrip()`), including an escaped one (`foo\ `).
 * - `.git` is always skipped here; the SDK hashes and uploads it unless a pattern excludes it.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import ignore from "ignore";

/** Which ignore file of the code folder's root is in effect. */
export type IgnoreSource = ".amlignore" | ".gitignore" | "none";

/** The rules that decide which entries of a code folder are hashed and uploaded. */
export interface IgnoreRules {
  /** The root ignore file in effect. */
  readonly source: IgnoreSource;
  /** Absolute path of the root ignore file, when there is one. */
  readonly ignoreFilePath?: string;
  /** Ignore files read from parent folders (only with `includeParentIgnoreFiles`), outermost first. */
  readonly parentIgnoreFiles: readonly string[];
  /**
   * Whether an entry is excluded. `relativePath` is relative to the code folder, with `/`
   * separators and no leading `./`. A path inside an excluded directory is excluded too.
   */
  isIgnored(relativePath: string, isDirectory: boolean): boolean;
}

/** Options of {@link loadIgnoreRules}. */
export interface IgnoreRulesOptions {
  /**
   * Also apply `.amlignore`/`.gitignore` files of parent folders, up to the root of the enclosing
   * git repository, as git does. Off by default: the Azure ML SDK reads only the root file, so
   * turning this on can make the content hash differ from the SDK's for the same folder (a version
   * registered by the CLI is then not reused). Outside a git repository no parent file is read.
   * In each folder `.amlignore` wins over `.gitignore`. A deeper file wins over a shallower one,
   * but cannot re-include a directory that a shallower file excludes. If a parent file excludes
   * the code folder itself, everything in it is excluded, as in git.
   * @default false
   */
  readonly includeParentIgnoreFiles?: boolean;
}

export const AML_IGNORE_FILE_NAME = ".amlignore";
export const GIT_IGNORE_FILE_NAME = ".gitignore";
/** Always skipped, whatever the ignore file says: version-control data is never code. */
export const ALWAYS_SKIPPED_NAME = ".git";

type Matcher = ReturnType<typeof ignore>;

interface Layer {
  /** Path from the layer's folder to the code folder, `""` or ending in `/`. */
  readonly prefix: string;
  readonly matcher: Matcher;
}

function createMatcher(patterns: string): Matcher {
  // A UTF-8 byte-order mark would otherwise become part of the first pattern; git drops it too.
  const text = patterns.charCodeAt(0) === 0xfeff ? patterns.slice(1) : patterns;
  return ignore({ ignorecase: false }).add(text);
}

/** A `.`, `..` or `.git` segment anywhere in a relative path. */
const SPECIAL_SEGMENT = /(?:^|\/)(?:\.\.?|\.git)(?:\/|$)/;

function assertRelative(relativePath: string, segments: readonly string[]): void {
  if (
    relativePath === "" ||
    relativePath.startsWith("/") ||
    segments.some((s) => s === "." || s === "..")
  ) {
    throw new TypeError(
      `Expected a path relative to the code folder, with no "." or ".." segments; got "${relativePath}".`,
    );
  }
}

/** Decides one path across layers: the innermost layer with a matching pattern wins. */
function decide(layers: readonly Layer[], candidate: string): boolean {
  for (let i = layers.length - 1; i >= 0; i--) {
    const result = layers[i].matcher.test(layers[i].prefix + candidate);
    if (result.ignored) {
      return true;
    }
    if (result.unignored) {
      return false;
    }
  }
  return false;
}

function rulesFromLayers(
  source: IgnoreSource,
  layers: readonly Layer[],
  ignoreFilePath: string | undefined,
  parentIgnoreFiles: readonly string[],
): IgnoreRules {
  const single = layers.length === 1 && layers[0].prefix === "" ? layers[0].matcher : undefined;
  return {
    source,
    ignoreFilePath,
    parentIgnoreFiles,
    isIgnored(relativePath: string, isDirectory: boolean): boolean {
      const trimmed = relativePath.endsWith("/") ? relativePath.slice(0, -1) : relativePath;
      // This runs for every entry of a folder being walked: one regular expression finds a `.`,
      // `..` or `.git` segment, and only then are the segments split out.
      if (trimmed === "" || trimmed.startsWith("/") || SPECIAL_SEGMENT.test(trimmed)) {
        const segments = trimmed.split("/");
        assertRelative(trimmed, segments);
        if (segments.includes(ALWAYS_SKIPPED_NAME)) {
          return true;
        }
      }
      if (layers.length === 0) {
        return false;
      }
      const candidate = isDirectory ? `${trimmed}/` : trimmed;
      if (single) {
        return single.ignores(candidate); // checks the parent directories itself
      }
      // Several files: settle each parent directory top-down, as git does, then the path.
      const parts = trimmed.split("/");
      for (let i = 1; i < parts.length; i++) {
        if (decide(layers, `${parts.slice(0, i).join("/")}/`)) {
          return true;
        }
      }
      return decide(layers, candidate);
    },
  };
}

/**
 * Builds rules from the text of one ignore file that sits in the code folder's root. Pure: used by
 * {@link loadIgnoreRules} and by tests.
 */
export function createIgnoreRules(
  source: IgnoreSource,
  patterns: string,
  options: { readonly ignoreFilePath?: string } = {},
): IgnoreRules {
  const layers = source === "none" ? [] : [{ prefix: "", matcher: createMatcher(patterns) }];
  return rulesFromLayers(source, layers, options.ignoreFilePath, []);
}

async function readIfFile(filePath: string): Promise<string | undefined> {
  try {
    return await fs.readFile(filePath, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") {
      return undefined;
    }
    throw e;
  }
}

async function exists(filePath: string): Promise<boolean> {
  try {
    await fs.lstat(filePath);
    return true;
  } catch {
    return false;
  }
}

/** Reads `.amlignore`, else `.gitignore`, from one folder. */
async function readFolderIgnoreFile(
  folder: string,
): Promise<{ source: IgnoreSource; filePath: string; text: string } | undefined> {
  for (const name of [AML_IGNORE_FILE_NAME, GIT_IGNORE_FILE_NAME] as const) {
    const filePath = path.join(folder, name);
    const text = await readIfFile(filePath);
    if (text !== undefined) {
      return { source: name, filePath, text };
    }
  }
  return undefined;
}

/** Parent-folder layers up to the enclosing git repository's root, outermost first. */
async function loadParentLayers(rootReal: string): Promise<{ layers: Layer[]; files: string[] }> {
  const found: { folder: string; filePath: string; text: string }[] = [];
  let folder = rootReal;
  let inRepository = await exists(path.join(rootReal, ALWAYS_SKIPPED_NAME));
  while (!inRepository) {
    const parent = path.dirname(folder);
    if (parent === folder) {
      return { layers: [], files: [] }; // not inside a git repository: git reads no parent file
    }
    folder = parent;
    const file = await readFolderIgnoreFile(folder);
    if (file) {
      found.push({ folder, filePath: file.filePath, text: file.text });
    }
    inRepository = await exists(path.join(folder, ALWAYS_SKIPPED_NAME));
  }
  found.reverse();
  return {
    layers: found.map((f) => ({
      prefix: `${path.relative(f.folder, rootReal).split(path.sep).join("/")}/`,
      matcher: createMatcher(f.text),
    })),
    files: found.map((f) => f.filePath),
  };
}

/**
 * Loads the ignore rules of a code folder: `.amlignore` in the root wins over `.gitignore`; a
 * single-file root has no rules, as in the SDK.
 */
export async function loadIgnoreRules(
  root: string,
  options: IgnoreRulesOptions = {},
): Promise<IgnoreRules> {
  const includeParentIgnoreFiles = options.includeParentIgnoreFiles ?? false;
  let rootReal: string;
  try {
    rootReal = await fs.realpath(path.resolve(root));
  } catch {
    return createIgnoreRules("none", ""); // the walk reports the missing path with its own error
  }
  const stat = await fs.stat(rootReal);
  if (!stat.isDirectory()) {
    return createIgnoreRules("none", "");
  }
  const own = await readFolderIgnoreFile(rootReal);
  const source: IgnoreSource = own?.source ?? "none";
  const ownLayers: Layer[] = own ? [{ prefix: "", matcher: createMatcher(own.text) }] : [];
  if (!includeParentIgnoreFiles) {
    return rulesFromLayers(source, ownLayers, own?.filePath, []);
  }
  const parents = await loadParentLayers(rootReal);
  return rulesFromLayers(source, [...parents.layers, ...ownLayers], own?.filePath, parents.files);
}
