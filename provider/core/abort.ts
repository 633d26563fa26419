/**
 * Abortable waiting, shared by the retry policy and the pollers.
 */

/** An `Error` named `AbortError`, as Node and the Azure SDK raise for cancellations. */
export function createAbortError(message = "The operation was aborted."): Error {
  const error = new Error(message);
  error.name = "AbortError";
  return error;
}

/**
 * Resolves after `ms`, or rejects with an AbortError as soon as `abortSignal` aborts. A timer never
 * keeps the process alive on its own once the signal is gone; the timer is cleared on abort.
 */
export function sleep(ms: number, abortSignal?: AbortSignal, abortMessage?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (abortSignal?.aborted) {
      reject(createAbortError(abortMessage));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(createAbortError(abortMessage));
    };
    const timer = setTimeout(
      () => {
        abortSignal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    abortSignal?.addEventListener("abort", onAbort, { once: true });
  });
}
