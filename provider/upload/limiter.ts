/**
 * A tiny semaphore, shared by the walker (file-system calls) and the uploader (requests): at most
 * `limit` tasks run at once, and a freed slot goes straight to the next waiter. No p-limit
 * dependency for twenty lines.
 */
export function createLimiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active < limit) {
      active++;
    } else {
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) {
        next();
      } else {
        active--;
      }
    }
  };
}
