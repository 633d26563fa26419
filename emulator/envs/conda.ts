/**
 * Conda files → what `uv pip install` can install. Conda channels cannot be reached, so conda
 * dependencies become PyPI requirements of the same name (a few well-known names are mapped, and
 * packages that exist only on conda — compilers, system libraries, CUDA — are skipped with a note).
 * `python=` is a pin on the interpreter, never a package; `pip` itself is never installed.
 */
import { parse as parseYaml } from "yaml";

/** One requirement handed to the installer. */
export interface InstallRequirement {
  /** A PEP 508 requirement, e.g. `numpy==1.26.*`. */
  readonly requirement: string;
  /** The normalized project name (lower case, `-` separated), e.g. `numpy`. */
  readonly name: string;
  /**
   * `pip`: listed under `pip:` (must install). `conda`: a conda dependency installed from PyPI
   * under the same (or a mapped) name; skipped with a warning when PyPI has no such project.
   */
  readonly origin: "pip" | "conda";
  /** The line as written in the conda file. */
  readonly source: string;
}

/** What a conda file asks for. */
export interface CondaEnvironmentSpec {
  /** The `python` dependency's version constraint (conda syntax, e.g. `=3.10`), when it has one. */
  readonly pythonPin?: string;
  readonly requirements: readonly InstallRequirement[];
  /** Installer options from the `pip:` list (`--extra-index-url …`, `--pre`, …), in order. */
  readonly installerOptions: readonly string[];
  /** Human-readable notes: skipped conda-only packages, mapped names. */
  readonly notes: readonly string[];
}

/** Thrown for a conda file the emulator cannot turn into an environment. */
export class CondaFileError extends Error {
  readonly code = "EMULATOR_CONDA_FILE_INVALID";
  constructor(message: string) {
    super(message);
    this.name = "CondaFileError";
  }
}

/** Conda package names whose PyPI project has another name. */
export const CONDA_TO_PYPI: Readonly<Record<string, string>> = {
  pytorch: "torch",
  "pytorch-cpu": "torch",
  "pytorch-gpu": "torch",
  torchvision: "torchvision",
  "py-xgboost": "xgboost",
  "py-xgboost-cpu": "xgboost",
  "py-lightgbm": "lightgbm",
  "py-opencv": "opencv-python",
  opencv: "opencv-python",
  "python-graphviz": "graphviz",
  "matplotlib-base": "matplotlib",
  "msgpack-python": "msgpack",
  pytables: "tables",
  "tensorflow-cpu": "tensorflow",
  "libblas-mkl": "mkl",
  "ruamel-yaml": "ruamel.yaml",
};

/**
 * Conda packages with no PyPI counterpart worth installing: the interpreter's toolchain, system
 * and math libraries, CUDA. A pip wheel carries what it needs of these itself.
 */
export const CONDA_ONLY = new Set([
  "pip",
  "_libgcc_mutex",
  "_openmp_mutex",
  "blas",
  "bzip2",
  "ca-certificates",
  "certifi-conda",
  "cudatoolkit",
  "cuda-toolkit",
  "cuda-version",
  "cudnn",
  "gcc",
  "gxx",
  "graphviz",
  "intel-openmp",
  "ld_impl_linux-64",
  "libblas",
  "libcblas",
  "libffi",
  "libgcc",
  "libgcc-ng",
  "libgfortran-ng",
  "libgomp",
  "liblapack",
  "libstdcxx-ng",
  "libuuid",
  "llvm-openmp",
  "mkl-service",
  "ncurses",
  "nomkl",
  "openblas",
  "openssl",
  "readline",
  "sqlite",
  "tk",
  "tzdata",
  "xz",
  "zlib",
]);

const PIP_OPTIONS_WITH_VALUE = new Set([
  "--index-url",
  "-i",
  "--extra-index-url",
  "--find-links",
  "-f",
]);
const PIP_FLAG_OPTIONS = new Set(["--pre", "--no-binary", "--only-binary"]);

/** Parses a conda environment file (YAML text). Throws CondaFileError naming what is wrong. */
export function parseCondaFile(text: string): CondaEnvironmentSpec {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new CondaFileError(`The conda file is not valid YAML: ${(error as Error).message}`);
  }
  if (document === null || document === undefined) {
    return { requirements: [], installerOptions: [], notes: [] };
  }
  if (typeof document !== "object" || Array.isArray(document)) {
    throw new CondaFileError("The conda file must be a YAML mapping with a `dependencies` list.");
  }
  const dependencies = (document as Record<string, unknown>).dependencies ?? [];
  if (!Array.isArray(dependencies)) {
    throw new CondaFileError("The conda file's `dependencies` must be a list.");
  }
  let pythonPin: string | undefined;
  const requirements: InstallRequirement[] = [];
  const installerOptions: string[] = [];
  const notes: string[] = [];
  for (const entry of dependencies) {
    if (typeof entry === "string" || typeof entry === "number") {
      const conda = parseCondaMatchSpec(String(entry));
      if (conda.name === "python") {
        pythonPin = conda.constraint;
        continue;
      }
      if (CONDA_ONLY.has(conda.name)) {
        if (conda.name !== "pip") {
          notes.push(`Skipping conda-only package "${conda.source}" (no PyPI counterpart).`);
        }
        continue;
      }
      const mapped = CONDA_TO_PYPI[conda.name] ?? conda.name;
      if (mapped !== conda.name) {
        notes.push(`Installing conda package "${conda.name}" as PyPI project "${mapped}".`);
      }
      requirements.push({
        requirement: `${mapped}${toPep440(conda.constraint)}`,
        name: normalizeName(mapped),
        origin: "conda",
        source: conda.source,
      });
    } else if (entry !== null && typeof entry === "object" && !Array.isArray(entry)) {
      for (const [key, value] of Object.entries(entry as Record<string, unknown>)) {
        if (key !== "pip") {
          throw new CondaFileError(
            `Unsupported entry "${key}" in the conda file's dependencies (only "pip" may hold a list).`,
          );
        }
        if (!Array.isArray(value)) {
          throw new CondaFileError("The conda file's `pip` dependencies must be a list.");
        }
        for (const line of value) {
          parsePipLine(String(line), requirements, installerOptions);
        }
      }
    } else {
      throw new CondaFileError(
        `Unsupported dependency in the conda file: ${JSON.stringify(entry)}`,
      );
    }
  }
  return { pythonPin, requirements, installerOptions, notes };
}

function parsePipLine(raw: string, requirements: InstallRequirement[], options: string[]): void {
  const line = raw.replace(/\s+#.*$/, "").trim();
  if (line === "" || line.startsWith("#")) {
    return;
  }
  if (line.startsWith("-")) {
    const [flag, ...rest] = line.split(/[\s=]+/);
    if (PIP_OPTIONS_WITH_VALUE.has(flag) && rest.length === 1) {
      options.push(flag, rest[0]);
      return;
    }
    if (PIP_FLAG_OPTIONS.has(flag)) {
      options.push(...line.split(/\s+/));
      return;
    }
    throw new CondaFileError(
      `Unsupported pip option "${line}" in the conda file: the emulator builds from the conda ` +
        "file alone, so files it refers to (-r, -c, -e) are not available.",
    );
  }
  const name = /^([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(line)?.[1];
  if (name === undefined) {
    throw new CondaFileError(`Unsupported pip requirement "${line}" in the conda file.`);
  }
  requirements.push({ requirement: line, name: normalizeName(name), origin: "pip", source: raw });
}

/** A conda match spec, reduced to what PyPI can use: name and version constraint. */
export interface CondaMatchSpec {
  /** Normalized (lower case, `-` separated; `_` kept for names that are conda-only). */
  readonly name: string;
  /** The version constraint in conda syntax (`=1.2`, `>=1,<2`, `1.2.*`), if any. */
  readonly constraint?: string;
  readonly source: string;
}

/**
 * Parses `[channel::]name[ version[ build]]`, `name=version[=build]`, `name==version`,
 * `name>=a,<b`. Build strings are dropped: PyPI has none.
 */
export function parseCondaMatchSpec(spec: string): CondaMatchSpec {
  const source = spec.trim();
  const withoutChannel = source.includes("::") ? source.slice(source.indexOf("::") + 2) : source;
  const match = /^([A-Za-z0-9_][A-Za-z0-9._-]*)\s*(.*)$/.exec(withoutChannel);
  if (match === null) {
    throw new CondaFileError(`Unsupported conda dependency "${source}".`);
  }
  const name = match[1].toLowerCase();
  let rest = match[2].trim();
  if (rest.startsWith("[")) {
    throw new CondaFileError(
      `Unsupported conda dependency "${source}": bracketed match specs are not supported.`,
    );
  }
  let constraint: string | undefined;
  if (rest !== "") {
    if (/^\d/.test(rest)) {
      // Space-separated form: "numpy 1.26 py39_0" → version "1.26", build dropped.
      constraint = `=${rest.split(/\s+/)[0]}`;
    } else {
      rest = rest.replace(/\s+/g, "");
      // "=1.26=py39_0": an exact-ish version followed by a build string.
      const pinned = /^(==?)([^=<>!,|]+)(=[^=].*)?$/.exec(rest);
      constraint = pinned !== null ? `${pinned[1]}${pinned[2]}` : rest;
    }
  }
  return { name: CONDA_ONLY.has(name) ? name : name.replace(/_/g, "-"), constraint, source };
}

/** Conda version constraint → PEP 440 specifier (`=1.2` → `==1.2.*`). */
export function toPep440(constraint: string | undefined): string {
  if (constraint === undefined || constraint === "" || constraint === "*") {
    return "";
  }
  if (constraint.includes("|")) {
    throw new CondaFileError(
      `Unsupported conda version constraint "${constraint}": PyPI requirements have no "|".`,
    );
  }
  return constraint
    .split(",")
    .map((part) => {
      if (part.startsWith("==") || /^(>=|<=|!=|~=|>|<)/.test(part)) {
        return part;
      }
      if (part.startsWith("=")) {
        const version = part.slice(1);
        return version.endsWith("*") ? `==${version}` : `==${version}.*`;
      }
      return isVersionLike(part) ? `==${part}` : part;
    })
    .join(",");
}

function isVersionLike(text: string): boolean {
  return /^\d[\w.*+!-]*$/.test(text);
}

/** PEP 503 name normalization. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/**
 * Whether `version` (e.g. `3.11.7`) satisfies a conda python constraint (`=3.10`, `>=3.8,<3.12`,
 * `3.11.*`, `3.11|3.12`). Unparseable constraints count as satisfied (they are warned about
 * elsewhere only when clearly unmet).
 */
export function pythonPinSatisfied(pin: string, version: string): boolean {
  const have = version.split(".").map((part) => Number.parseInt(part, 10));
  return pin
    .replace(/\s+/g, "")
    .split("|")
    .some((alternative) =>
      alternative
        .split(",")
        .filter((part) => part !== "")
        .every((part) => clauseSatisfied(part, have)),
    );
}

function clauseSatisfied(clause: string, have: number[]): boolean {
  const match = /^(>=|<=|==|!=|~=|>|<|=)?(.+)$/.exec(clause);
  if (match === null) {
    return true;
  }
  const operator = match[1] ?? "=";
  const text = match[2];
  const prefix = text.endsWith("*") || operator === "=";
  const want = text
    .replace(/\.?\*$/, "")
    .split(".")
    .map((part) => Number.parseInt(part, 10));
  if (want.some(Number.isNaN)) {
    return true;
  }
  const compare = compareVersions(have.slice(0, prefix ? want.length : have.length), want);
  switch (operator) {
    case "=":
    case "==":
      return compare === 0;
    case "!=":
      return compare !== 0;
    case ">=":
      return compare >= 0;
    case "<=":
      return compare <= 0;
    case ">":
      return compare > 0;
    case "<":
      return compare < 0;
    case "~=":
      return (
        compareVersions(have, want) >= 0 &&
        compareVersions(have.slice(0, want.length - 1), want.slice(0, -1)) === 0
      );
    default:
      return true;
  }
}

function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) {
      return Math.sign(difference);
    }
  }
  return 0;
}
