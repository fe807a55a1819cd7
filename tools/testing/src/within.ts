// A promise's outcome, or `late` if it has not settled within `ms` — for tests that assert a call
// ends (rather than hangs) without a bare `sleep()` in a race, whose timer outlives the test and
// keeps Jest from exiting.

/** The value (or the rejection, as a value) of `promise`, or `late` after `ms`; the timer is always cleared. */
export function outcomeWithin<T, L>(promise: Promise<T>, ms: number, late: L): Promise<T | unknown | L> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<L>((resolve) => {
    timer = setTimeout(() => resolve(late), ms);
  });
  return Promise.race([promise.catch((err: unknown) => err), deadline]).finally(() => clearTimeout(timer));
}
