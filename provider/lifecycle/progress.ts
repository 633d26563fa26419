import { formatUploadProgress } from "../upload/plan";
import type { UploadProgress } from "../upload/blobUpload";

/**
 * Progress lines for `pulumi preview` and `pulumi up`: what a resource is about to do and why
 * (uploading, reusing, replacing on a content change). They go through `pulumi.log.info`, which
 * the provider host prints as `info: [runtime] …` and the engine shows as diagnostics.
 * `AZUREML_PROGRESS=off` silences them (the test suite does, to keep its own output readable).
 */
export async function reportProgress(message: string): Promise<void> {
  if (process.env.AZUREML_PROGRESS === "off") {
    return;
  }
  const pulumi = await import("@pulumi/pulumi");
  await pulumi.log.info(message);
}

/** A warning in the `pulumi up` output (never silenced): something was skipped, nothing failed. */
export async function reportWarning(message: string): Promise<void> {
  const pulumi = await import("@pulumi/pulumi");
  await pulumi.log.warn(message);
}

/**
 * An upload's `onProgress` that prints a line (bytes done, rate, bytes already there) at most every
 * `everyMs` and once at the end.
 */
export function uploadProgressLines(
  label: string,
  everyMs = 5000,
): (progress: UploadProgress) => void {
  const started = Date.now();
  let last = started;
  let finished = false;
  return (progress) => {
    const now = Date.now();
    const done = progress.completedBlobCount === progress.blobCount;
    if (finished || (!done && now - last < everyMs)) {
      return;
    }
    finished = done;
    last = now;
    void reportProgress(`${label}: ${formatUploadProgress(progress, now - started)}.`).catch(
      () => undefined,
    );
  };
}
