/**
 * Errors raised while hashing or uploading a local folder. Each has a stable `name` and `code`;
 * callers check them with the guards below, never with bare `instanceof`, because a serialized
 * provider can load a second copy of this module.
 */

/** Stable codes of {@link ContentPathError}. */
export type ContentPathErrorCode = "PathNotFound" | "UnsupportedPathType" | "FileChangedDuringRead";

/**
 * Raised when the code folder has no file left to hash or upload, either because it is empty or
 * because every entry is ignored. The Azure ML SDK raises `EmptyDirectoryError` in the same case.
 */
export class EmptyDirectoryError extends Error {
  override readonly name = "EmptyDirectoryError";
  readonly code = "EmptyDirectory";

  constructor(
    /** The folder, as the caller gave it. */
    readonly path: string,
    /** Entries excluded by the ignore file (a pruned directory counts once). */
    readonly ignoredCount: number,
    /** The ignore file in effect. */
    readonly ignoreSource: string,
  ) {
    super(
      ignoredCount > 0
        ? `The folder "${path}" has no files to upload: all ${ignoredCount} entries are excluded by ` +
            `${ignoreSource}. Azure ML cannot register an empty code folder.`
        : `The folder "${path}" has no files to upload. Azure ML cannot register an empty code folder.`,
    );
  }
}

/** Raised when a path cannot be hashed: missing, not a file or folder, or changing under us. */
export class ContentPathError extends Error {
  override readonly name = "ContentPathError";

  constructor(
    readonly code: ContentPathErrorCode,
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Raised when a blob upload fails after the storage client's own retries. */
export class BlobUploadError extends Error {
  override readonly name = "BlobUploadError";
  readonly code = "BlobUploadFailed";

  constructor(
    /** The blob name inside the container (never the SAS URL, which carries a secret). */
    readonly blobName: string,
    message: string,
    readonly details: {
      readonly statusCode?: number;
      /** The storage error code (`AuthenticationFailed`…), or Node's code for a network error. */
      readonly storageErrorCode?: string;
      readonly requestId?: string;
      readonly cause?: unknown;
    } = {},
  ) {
    super(message, { cause: details.cause });
  }

  get statusCode(): number | undefined {
    return this.details.statusCode;
  }
}

function hasName(e: unknown, name: string): boolean {
  return e instanceof Error && e.name === name;
}

export function isEmptyDirectoryError(e: unknown): e is EmptyDirectoryError {
  return hasName(e, "EmptyDirectoryError");
}

export function isContentPathError(e: unknown): e is ContentPathError {
  return hasName(e, "ContentPathError");
}

export function isBlobUploadError(e: unknown): e is BlobUploadError {
  return hasName(e, "BlobUploadError");
}
