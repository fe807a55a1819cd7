// Single flight: one factory run per key, however many callers wait for it (and, with the
// distributed lock, one run across instances). Each caller waits in its own way: stale at once
// (SWR), stale after its soft timeout, stale when the factory fails (fail-safe), or the value.
import { randomUUID } from 'node:crypto';
import type { DistributedLockOptions } from './config';
import { CacheAbortedError } from './errors';
import type { CacheCounters } from './instrumentation';
import type { L1Entry } from './memory-tier';
import type { RedisTier } from './redis-tier';
import type { Tiers } from './tiers';

export interface Flight {
  /** Settles with the fresh value (or the factory's error). */
  value: Promise<unknown>;
  /** Settles once the lower tiers were read: the stale candidate if a factory must run, or undefined. */
  staleReady: Promise<L1Entry | undefined>;
  controller: AbortController;
  waiters: number;
  /** Set by delete/clear while the flight runs: its value must not be written back. */
  invalidated: boolean;
}

/** Waits for a flight as one caller: stale at once (SWR), stale after softMs, stale on failure (fail-safe), or the value. */
export async function awaitFlight(
  flight: Flight,
  l1Stale: L1Entry | undefined,
  softMs: number,
  counters: CacheCounters,
  signal?: AbortSignal,
): Promise<unknown> {
  flight.waiters++;
  let detach = () => {};
  // Without a signal nothing can abort: no promise to race against (two fewer promises per call).
  let aborted: Promise<never> | undefined;
  if (signal) {
    aborted = new Promise<never>((_, reject) => {
      const onAbort = () => {
        reject(new CacheAbortedError({ cause: signal.reason }));
        // Nobody else wants the value: stop the work.
        if (flight.waiters === 1) flight.controller.abort(new CacheAbortedError({ cause: signal.reason }));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      detach = () => signal.removeEventListener('abort', onAbort);
    });
    aborted.catch(() => undefined);
  }
  const orAbort = <T>(p: Promise<T>): Promise<T> => (aborted ? Promise.race([p, aborted]) : p);
  try {
    const stale = l1Stale ?? (await orAbort(flight.staleReady));
    if (!stale) return await orAbort(flight.value);
    if (softMs <= 0) {
      counters.staleServed('swr');
      return stale.value;
    }
    let timer: NodeJS.Timeout | undefined;
    const soft = new Promise<'soft'>((r) => (timer = setTimeout(() => r('soft'), softMs)));
    try {
      const winner = await Promise.race([flight.value.then((v) => ({ v })), soft, ...(aborted ? [aborted] : [])]);
      if (winner === 'soft') {
        counters.timeout('soft');
        counters.staleServed('softTimeout');
        return stale.value;
      }
      return winner.v;
    } catch (err) {
      if (err instanceof CacheAbortedError) throw err;
      counters.staleServed('failSafe');
      return stale.value;
    } finally {
      clearTimeout(timer);
    }
  } finally {
    flight.waiters--;
    detach();
  }
}

export interface LockContext {
  l2: RedisTier;
  lock: Required<DistributedLockOptions>;
  tiers: Tiers;
  counters: CacheCounters;
  /** Runs the factory and stores its value. */
  compute: () => Promise<unknown>;
}

/** One instance computes under a Redis lock; the others wait for its value, then compute themselves. */
export async function computeWithLock(key: string, flight: Flight, ctx: LockContext): Promise<unknown> {
  const { l2, lock, tiers, counters } = ctx;
  const token = randomUUID();
  const deadline = Date.now() + lock.waitTimeoutMs;
  let waited = false;
  for (;;) {
    let acquired: boolean;
    try {
      acquired = await l2.lockAcquire(key, token, lock.ttlMs);
    } catch {
      return ctx.compute(); // Redis is down: no lock to take
    }
    if (acquired) {
      const renew = setInterval(
        () => tiers.track(l2.lockRenew(key, token, lock.ttlMs).catch(() => false)),
        Math.max(1, Math.floor(lock.ttlMs / 3)),
      );
      renew.unref();
      try {
        // The previous holder may have written the value just before releasing.
        if (waited) {
          const fresh = await tiers.lower(key, Date.now());
          if (fresh && fresh.expiresAt > Date.now()) return fresh.value;
        }
        return await ctx.compute();
      } finally {
        clearInterval(renew);
        await l2.lockRelease(key, token).catch(() => false);
      }
    }
    if (!waited) {
      waited = true;
      counters.deduplicated('distributed');
    }
    if (Date.now() >= deadline || flight.controller.signal.aborted) return ctx.compute();
    await sleep(lock.pollMs);
    const found = await tiers.fromL2(key, await tiers.readL2(key));
    if (found && found.expiresAt > Date.now()) return found.value;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
