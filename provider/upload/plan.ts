/**
 * Pure helpers that lay out a code upload the way the Azure ML SDK does (AZUREML-REST-CONTRACT.md
 * sections 8.4 and 8.5), and describe it for previews.
 */
import type { ContentHashResult } from "./contentHash";
import { compareCodePoints } from "./order";
import type { WalkedFile } from "./walk";

/** The folder of the legacy datastore flow: `LocalUpload/<md5 object hash>/`. */
export const LEGACY_UPLOAD_FOLDER = "LocalUpload";

/** Metadata the SDK sets on the indicator blob once every blob is uploaded (section 8.4). */
export const UPLOAD_COMPLETED_METADATA = { upload_status: "completed" } as const;

type RelativeFile = Pick<WalkedFile, "relativePath">;

/** Sorts blob names in plain code-point order, as Python's `sorted()` does: `Zeta` before `alpha`. */
export function sortBlobNames(names: readonly string[]): string[] {
  return [...names].sort(compareCodePoints);
}

/**
 * The blob-name prefix under which the SDK uploads a source: `<basename>/` for a folder, nothing
 * for a single file (whose relative path already is its base name).
 */
export function uploadPrefixFor(rootName: string, rootIsFile: boolean): string {
  return rootIsFile ? "" : `${rootName}/`;
}

/**
 * Blob names for the workspace flow (`startPendingUpload`): blobs land at the root of the SAS
 * container as `<folder basename>/<relative path>`, with no `LocalUpload/<hash>` prefix.
 */
export function blobNamesForPendingUpload(
  folderBasename: string,
  files: readonly RelativeFile[],
): string[] {
  return sortBlobNames(files.map((f) => `${folderBasename}/${f.relativePath}`));
}

/** Blob names for the legacy datastore flow: `LocalUpload/<md5>/<folder basename>/<relative path>`. */
export function legacyBlobNames(
  md5: string,
  folderBasename: string,
  files: readonly RelativeFile[],
): string[] {
  return sortBlobNames(
    files.map((f) => `${LEGACY_UPLOAD_FOLDER}/${md5}/${folderBasename}/${f.relativePath}`),
  );
}

/**
 * The indicator blob: the first uploaded blob in the SDK's order, which carries the
 * `upload_status=completed` metadata. The SDK sorts (local path, blob name) pairs; for files that
 * are not reached through links the local order equals the blob-name order used here.
 */
export function indicatorBlob(blobNames: readonly string[]): string {
  if (blobNames.length === 0) {
    throw new RangeError("An upload needs at least one blob to carry the indicator metadata.");
  }
  return sortBlobNames(blobNames)[0];
}

/** The indicator metadata for a code asset: `upload_status`, `name` and `version`. */
export function indicatorMetadata(name: string, version: string): Record<string, string> {
  return { ...UPLOAD_COMPLETED_METADATA, name, version };
}

/**
 * The `codeUri` of an uploaded folder: Python's `urljoin(blobUri, f"{container}/{relative}")`
 * (`ArtifactStorageInfo.full_storage_path`). Unlike `urljoin`, each path segment is
 * percent-encoded (a space becomes `%20`, so `#` or `?` in a name cannot break the URL), and any
 * SAS query on `blobUri` is dropped.
 */
export function codeUriFor(blobUri: string, container: string, relative: string): string {
  const base = new URL(blobUri);
  base.search = "";
  base.hash = "";
  const segments = [container, ...relative.split("/")].filter((s) => s !== "");
  return new URL(segments.map(encodeURIComponent).join("/"), base).toString();
}

export function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * A short line for previews, e.g. `"12 files, 3.4 MB, 2 ignored by .amlignore, sha256 5b496995c67f"`
 * (the hash part only when a hash is given).
 */
export function describeContent(
  result: Pick<ContentHashResult, "fileCount" | "byteCount" | "ignoredCount" | "ignoreSource"> &
    Partial<Pick<ContentHashResult, "hash">>,
): string {
  const parts = [
    `${result.fileCount} ${result.fileCount === 1 ? "file" : "files"}`,
    formatBytes(result.byteCount),
  ];
  if (result.ignoredCount > 0) {
    parts.push(
      result.ignoreSource === "none"
        ? `${result.ignoredCount} ignored`
        : `${result.ignoredCount} ignored by ${result.ignoreSource}`,
    );
  }
  if (result.hash !== undefined) {
    parts.push(`sha256 ${result.hash.slice(0, 12)}`);
  }
  return parts.join(", ");
}

/**
 * A progress line for an upload, e.g. `"1.2 GB of 2.0 GB (60%), 85.3 MB/s, 400.0 MB already
 * there"`. The rate counts only bytes sent, over `elapsedMs`.
 */
export function formatUploadProgress(
  progress: {
    readonly loadedBytes: number;
    readonly totalBytes: number;
    readonly skippedBytes: number;
  },
  elapsedMs: number,
): string {
  const percent =
    progress.totalBytes === 0
      ? 100
      : Math.floor((progress.loadedBytes / progress.totalBytes) * 100);
  const sent = progress.loadedBytes - progress.skippedBytes;
  const rate = elapsedMs > 0 ? `${formatBytes(Math.round((sent * 1000) / elapsedMs))}/s` : "—";
  const parts = [
    `${formatBytes(progress.loadedBytes)} of ${formatBytes(progress.totalBytes)} (${percent}%)`,
    rate,
  ];
  if (progress.skippedBytes > 0) {
    parts.push(`${formatBytes(progress.skippedBytes)} already there`);
  }
  return parts.join(", ");
}
