import { HealthTimeoutError } from './errors';

/**
 * Runs `fn` and settles with its result, or rejects with HealthTimeoutError after `timeoutMs`
 * (aborting the signal passed to `fn` so it can stop its work). Sync throws become rejections.
 * The timer is cleared as soon as `fn` settles. It stays ref'd on purpose: a shutdown hook that
 * holds no handle of its own must still be bounded, not cut short by the process exiting.
 */
export function withTimeout<T>(
  what: string,
  timeoutMs: number,
  fn: (signal: AbortSignal) => T | Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const err = new HealthTimeoutError(what, timeoutMs);
      controller.abort(err);
      reject(err);
    }, timeoutMs);
    let result: Promise<T>;
    try {
      result = Promise.resolve(fn(controller.signal));
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
