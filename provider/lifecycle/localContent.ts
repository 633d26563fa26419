/**
 * Checks and fingerprints the `path` of a data or model version: a remote URI is content by
 * itself; a local file or folder is hashed (SDK algorithm) so a change shows in preview.
 */
import { stat } from "node:fs/promises";
import { computeContentHash, type ContentHashOptions } from "../upload/contentHash";
import { hashCacheFromEnvironment, type HashCache } from "../upload/hashCache";
import { reportWarning } from "./progress";
import { fingerprint } from "./assetVersion";
import {
  Failures,
  isFullyKnown,
  isKnown,
  isRemoteUri,
  sasFailure,
  pathFailure,
  resolveLocalPath,
  toProjectRelative,
  UNKNOWN,
} from "./shared";

let hashCache: HashCache | undefined | null = null;

/**
 * Options that make {@link computeContentHash} use the content-hash cache of this provider host
 * (opened once per process from `AZUREML_CACHE_DIR`/`AZUREML_HASH_CACHE`, at run time; its one
 * warning goes to the `pulumi up` output).
 */
export function cachedHashing(): Pick<ContentHashOptions, "cache"> {
  if (hashCache === null) {
    hashCache = hashCacheFromEnvironment((message) => {
      void reportWarning(message).catch(() => undefined);
    });
  }
  return { cache: hashCache };
}

export interface LocalContent {
  /** The path as stored in state: remote URIs unchanged, local paths project-relative. */
  path: string;
  /** Undefined for a local path whose hash is left to `create` (`hash: false`). */
  contentHash: string | undefined;
  local: boolean;
  kind?: "file" | "folder";
  fileCount?: number;
  byteCount?: number;
}

/**
 * Judges [path] (only when known). `expect` says what the asset type needs locally. With
 * `hash: false` a local path is only stat'ed: the hash of a resource being created is left to
 * `create`, which hashes while uploading (one read).
 */
export async function inspectPath(
  value: unknown,
  salt: Record<string, unknown>,
  failures: Failures,
  expect: "file" | "folder" | "any",
  property = "path",
  hash = true,
): Promise<LocalContent | undefined> {
  if (value === undefined || (typeof value === "string" && value.trim() === "")) {
    failures.add(property, `[${property}] is required.`);
    return undefined;
  }
  if (!isKnown(value) || !isFullyKnown(salt)) {
    return { path: value as string, contentHash: UNKNOWN, local: false };
  }
  if (typeof value !== "string") {
    failures.add(property, `[${property}] must be a string.`);
    return undefined;
  }
  if (isRemoteUri(value)) {
    const sas = sasFailure(value, property);
    if (sas) {
      failures.add(property, sas);
      return undefined;
    }
    return { path: value, contentHash: fingerprint({ ...salt, uri: value }), local: false };
  }
  const absolute = resolveLocalPath(value);
  let kind: "file" | "folder";
  try {
    kind = (await stat(absolute)).isDirectory() ? "folder" : "file";
  } catch {
    failures.add(
      property,
      `[${property}] "${value}" is neither a URI (azureml://, https://) nor an existing local path.`,
    );
    return undefined;
  }
  if (expect !== "any" && kind !== expect) {
    failures.add(
      property,
      `[${property}] "${value}" is a ${kind}, but a ${expect} is needed here.`,
    );
    return undefined;
  }
  if (!hash) {
    return { path: toProjectRelative(value), contentHash: undefined, local: true, kind };
  }
  let hashed;
  try {
    // The MD5 object hash names the upload folder; computed in the same read and cached, so
    // create finds it without reading the files again.
    hashed = await computeContentHash(absolute, { ...cachedHashing(), objectHash: true });
  } catch (error) {
    failures.add(property, pathFailure(value, error).replace("[path]", `[${property}]`));
    return undefined;
  }
  return {
    path: toProjectRelative(value),
    contentHash: localContentHash(salt, hashed.hash),
    local: true,
    kind,
    fileCount: hashed.fileCount,
    byteCount: hashed.byteCount,
  };
}

/** Writes what `check` learned about [path] into the checked inputs. */
export function recordContent(
  inputs: { path: string; fileCount?: number; byteCount?: number; contentHash?: string },
  content: LocalContent,
): void {
  inputs.path = content.path;
  if (content.local) {
    inputs.fileCount = content.fileCount;
    inputs.byteCount = content.byteCount;
  }
  inputs.contentHash = content.contentHash;
}

/**
 * Whether `check` runs for a resource being created (no prior inputs): its local content is then
 * hashed by `create` while it is uploaded, not by `check`, so a new folder is read once.
 */
export function isCreation(olds: object | undefined): boolean {
  return olds === undefined || Object.keys(olds).length === 0;
}

/** The content hash of a local path from its SDK hash, salted like {@link inspectPath}'s. */
export function localContentHash(salt: Record<string, unknown>, sha256: string): string {
  return fingerprint({ ...salt, sha256 });
}
