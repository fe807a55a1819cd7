// The cache: L1 memory → L2 Redis → L3 disk → factory, with single flight (local and, with
// distributedLock, across instances), stale-while-revalidate, fail-safe, factory timeouts, tags
// and distributed L1 invalidation. Tiers below L1 never throw into callers: their failures are
// counted and read as misses, so a sick Redis or disk degrades hit ratio, not availability.
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { NOOP_LOGGER, type Logger } from '@periscope/core';
import { resolveConfig, type CacheOptions, type ResolvedConfig } from './config';
import {
  CacheAbortedError,
  CacheClosedError,
  CacheInputError,
  CacheSerializationError,
  FactoryTimeoutError,
} from './errors';
import { CacheCounters, type CacheStats } from './instrumentation';
import type { L1Entry } from './memory-tier';
import { InvalidationBus } from './bus';
import { defaultSerializer } from './serializer';
import { argsKey } from './keys';
import { Tiers, type PreparedEntry } from './tiers';
import { awaitFlight, computeWithLock, type Flight } from './flight';
import { checkKey, checkSetOptions, nonNegativeMs } from './validate';
import type { Factory, GetOrSetOptions, L2Health, SetManyEntry, SetOptions, WrapOptions } from './types';

export type {
  Factory,
  FactoryContext,
  GetOrSetOptions,
  L2Health,
  SetManyEntry,
  SetOptions,
  WrapOptions,
} from './types';

const tracer = trace.getTracer('@periscope/cache');

export class Cache {
  readonly namespace: string;
  private readonly config: ResolvedConfig;
  private readonly t: Tiers;
  // Aliases of the tiers, so the hot paths do one property lookup.
  private readonly l1: Tiers['l1'];
  private readonly l2?: Tiers['l2'];
  private readonly l3?: Tiers['l3'];
  private readonly l1c: Tiers['l1c'];
  private readonly bus?: InvalidationBus;
  private readonly counters: CacheCounters;
  private readonly logger: Logger;
  private readonly flights = new Map<string, Flight>();
  private readonly sweeper: NodeJS.Timeout;
  private closing?: Promise<void>;
  private closed = false;
  private warnedUnserializable = false;

  constructor(options: CacheOptions) {
    const config = resolveConfig(options);
    this.config = config;
    this.namespace = config.namespace;
    this.logger = options.logger ?? NOOP_LOGGER;
    this.counters = new CacheCounters(config.namespace, options.metrics);
    this.t = new Tiers(config, {
      metrics: options.metrics,
      serializer: options.serializer ?? defaultSerializer,
      logger: this.logger,
      counters: this.counters,
    });
    this.l1 = this.t.l1;
    this.l2 = this.t.l2;
    this.l3 = this.t.l3;
    this.l1c = this.t.l1c;
    if (config.l2?.bus && this.l2) this.bus = this.createBus(this.l2, config.l2);
    this.sweeper = setInterval(() => this.t.sweep(Date.now()), config.sweepIntervalMs);
    this.sweeper.unref();
  }

  private createBus(tier: NonNullable<Tiers['l2']>, l2: NonNullable<ResolvedConfig['l2']>): InvalidationBus {
    const l3 = this.l3;
    return new InvalidationBus({
      namespace: this.namespace,
      channel: tier.channel,
      source: { target: l2.target, client: l2.client },
      reconnect: l2,
      publishRaw: (m) => tier.publish(m),
      handlers: {
        onKeys: (keys) => {
          for (const k of keys) this.l1.delete(k);
          if (l3) this.t.track(l3.delete(keys));
        },
        onTags: (tags) => {
          this.l1.deleteByTags(tags);
          if (l3) this.t.track(l3.deleteByTags(tags));
        },
        onClear: () => {
          this.l1.clear();
          if (l3) this.t.track(l3.clear());
        },
        onPurge: () => this.l1.clear(),
      },
      counters: this.counters,
    });
  }

  /** The fresh value, or undefined. Looks in L1, then L2, then L3, promoting what it finds. */
  async get<T = unknown>(key: string): Promise<T | undefined> {
    this.check(key);
    const now = Date.now();
    const e = this.l1.get(key, now);
    if (e !== undefined && e.l1ExpiresAt > now) {
      this.l1c.hit();
      return e.value as T;
    }
    this.l1c.miss();
    // lower(), inlined: no extra async layer on the common L2-hit path.
    let found: L1Entry | undefined;
    if (this.l2) {
      let bytes: Buffer | null;
      try {
        bytes = await this.l2.get(key);
      } catch {
        bytes = null; // counted by the tier; reads as a miss
      }
      const f = this.t.fromL2(key, bytes);
      found = f instanceof Promise ? await f : f;
    }
    if (!found && this.l3) found = await this.t.fromL3(key, await this.l3.get(key, now));
    return found && found.expiresAt > Date.now() ? (found.value as T) : undefined;
  }

  /** Writes through every tier and tells other instances to drop their copy. */
  async set<T>(key: string, value: T, options: SetOptions = {}): Promise<void> {
    this.check(key);
    const prepared = this.prepare(key, value, options);
    this.invalidateFlight(key);
    await this.t.store(prepared);
    await this.bus?.publish('set', { keys: [key] });
  }

  /**
   * The cached value, or the factory's: runs the factory once per key however many callers
   * (per process; across processes with distributedLock), serves stale within graceMs.
   */
  async getOrSet<T>(key: string, factory: Factory<T>, options: GetOrSetOptions = {}): Promise<T> {
    this.check(key);
    const now = Date.now();
    const e = this.l1.get(key, now);
    if (e !== undefined && e.l1ExpiresAt > now) {
      this.l1c.hit();
      return e.value as T;
    }
    this.l1c.miss();
    if (typeof factory !== 'function') throw new CacheInputError('factory', 'must be a function');
    checkSetOptions(options);
    const soft = nonNegativeMs('softTimeoutMs', options.softTimeoutMs, this.config.softTimeoutMs);
    const hard = nonNegativeMs('hardTimeoutMs', options.hardTimeoutMs, this.config.hardTimeoutMs);
    if (options.signal?.aborted) throw new CacheAbortedError({ cause: options.signal.reason });
    // An L1 entry past its (jittered) expiry but within grace is the first stale candidate.
    const l1Stale = e !== undefined && e.staleUntil > now ? e : undefined;
    let flight = this.flights.get(key);
    if (flight) this.counters.deduplicated('local');
    else flight = this.startFlight(key, factory as Factory<unknown>, options, hard, l1Stale);
    return (await awaitFlight(flight, l1Stale, soft, this.counters, options.signal)) as T;
  }

  async delete(key: string): Promise<void> {
    this.check(key);
    this.invalidateFlight(key);
    this.l1.delete(key);
    await Promise.all([this.l2?.delete([key]).catch(() => undefined), this.l3?.delete([key])]);
    await this.bus?.publish('delete', { keys: [key] });
  }

  /** Deletes every entry carrying the tag, in every tier and (through the bus) every instance. */
  async deleteByTag(tag: string): Promise<void> {
    this.checkOpen();
    if (typeof tag !== 'string' || tag === '') throw new CacheInputError('tag', 'must be a non-empty string');
    const keys = this.l1.deleteByTags([tag]);
    const [l2Keys] = await Promise.all([
      this.l2?.deleteByTags([tag]).catch(() => [] as string[]),
      this.l3?.deleteByTags([tag]),
    ]);
    for (const k of [...keys, ...(l2Keys ?? [])]) this.invalidateFlight(k);
    await this.bus?.publish('deleteByTag', { tags: [tag] });
  }

  /** Empties this namespace in every tier and every instance's L1. */
  async clear(): Promise<void> {
    this.checkOpen();
    for (const f of this.flights.values()) f.invalidated = true;
    this.l1.clear();
    await Promise.all([this.l2?.clear().catch(() => undefined), this.l3?.clear()]);
    await this.bus?.publish('clear');
  }

  /** Values in key order (undefined where missing); lower-tier reads go out together. */
  async getMany<T = unknown>(keys: readonly string[]): Promise<(T | undefined)[]> {
    this.checkOpen();
    if (!Array.isArray(keys)) throw new CacheInputError('keys', 'must be an array of strings');
    for (const k of keys) this.check(k);
    return Promise.all(keys.map((k) => this.get<T>(k)));
  }

  /** Validates and serializes every entry first (all or nothing), then writes them; one bus message. */
  async setMany<T = unknown>(entries: readonly SetManyEntry<T>[]): Promise<void> {
    this.checkOpen();
    if (!Array.isArray(entries)) throw new CacheInputError('entries', 'must be an array of { key, value }');
    const prepared = entries.map((e, i) => {
      if (!e || typeof e !== 'object')
        throw new CacheInputError(`entries[${i}]`, 'must be { key, value, ttlMs?, tags? }');
      this.check(e.key, `entries[${i}].key`);
      return this.prepare(e.key, e.value, e);
    });
    for (const p of prepared) this.invalidateFlight(p.key);
    await Promise.all(prepared.map((p) => this.t.store(p)));
    if (prepared.length) await this.bus?.publish('set', { keys: prepared.map((p) => p.key) });
  }

  /** Memoizes `fn`: the key is the prefix plus the SHA-256 of the canonical JSON of the arguments. */
  wrap<A extends unknown[], R>(
    fn: (...args: A) => R | Promise<R>,
    options: WrapOptions<A> = {},
  ): (...args: A) => Promise<Awaited<R>> {
    if (typeof fn !== 'function') throw new CacheInputError('fn', 'must be a function');
    const keyOpt = options.key;
    const prefix = typeof keyOpt === 'string' ? keyOpt : fn.name;
    if (typeof keyOpt !== 'function' && !prefix)
      throw new CacheInputError(
        'wrap options.key',
        'is required for anonymous functions (two of them would share keys)',
      );
    const { key: _key, ...setOptions } = options;
    checkSetOptions(setOptions);
    return (...args: A) => {
      const key = typeof keyOpt === 'function' ? keyOpt(...args) : argsKey(prefix, args);
      return this.getOrSet<Awaited<R>>(key, async (): Promise<Awaited<R>> => await fn(...args), setOptions);
    };
  }

  stats(): CacheStats {
    const s: CacheStats = {
      namespace: this.namespace,
      l1: this.l1c.snapshot(),
      staleServed: { ...this.counters.stale },
      factory: { ...this.counters.factory, timeouts: { ...this.counters.factory.timeouts } },
      unserializable: this.counters.unserializable,
    };
    const { l2c, l3c } = this.t;
    if (this.l2 && l2c)
      s.l2 = {
        ...l2c.snapshot(),
        timeouts: l2c.timeouts,
        writeFailures: l2c.writeFailures,
        writesRetried: l2c.writesRetried,
        writesPending: this.l2.pendingWrites,
        misconfigured: this.l2.misconfiguration !== undefined,
        breaker: this.l2.breakerState,
        connected: this.l2.connected,
      };
    if (l3c) s.l3 = { ...l3c.snapshot(), corrupt: l3c.corrupt };
    if (this.bus) s.bus = { ...this.counters.bus };
    return s;
  }

  /**
   * For a non-critical health check: 'warn' when L2 is down or not configured; 'fail' only when
   * the configuration is wrong (l2.url names one node of a Redis Cluster).
   */
  async l2Health(): Promise<L2Health> {
    if (!this.l2) return { status: 'warn', output: 'L2 (Redis) not configured: running on L1 + L3' };
    if (this.closed) return { status: 'warn', output: 'cache closed' };
    const wrong = this.l2.misconfiguration;
    if (wrong) return { status: 'fail', output: wrong.message };
    try {
      const ms = await this.l2.ping();
      return {
        status: 'pass',
        output: `L2 reachable, breaker ${this.l2.breakerState}`,
        observedValue: Math.round(ms * 100) / 100,
        observedUnit: 'ms',
      };
    } catch (err) {
      return {
        status: 'warn',
        output: `L2 unreachable (${(err as Error).message}); breaker ${this.l2.breakerState}; serving from L1${this.l3 ? ' + L3' : ''}`,
      };
    }
  }

  /**
   * Idempotent: stops the sweeper, aborts running factories, waits up to closeTimeoutMs for
   * pending writes, then drops its connections (waiting at most 250 ms for each to end). Settles
   * within closeTimeoutMs + ~250 ms, and leaves no socket or timer behind.
   */
  close(): Promise<void> {
    if (!this.closing) {
      this.closed = true;
      this.closing = (async () => {
        clearInterval(this.sweeper);
        for (const f of this.flights.values()) f.controller.abort(new CacheClosedError());
        await Promise.all([this.t.close(this.config.closeTimeoutMs), this.bus?.close()]);
      })();
    }
    return this.closing;
  }

  // ---- internals -------------------------------------------------------------------------

  private startFlight(
    key: string,
    factory: Factory<unknown>,
    options: GetOrSetOptions,
    hardMs: number,
    l1Stale: L1Entry | undefined,
  ): Flight {
    let staleReady!: (e: L1Entry | undefined) => void;
    const flight: Flight = {
      value: undefined as unknown as Promise<unknown>,
      staleReady: new Promise((r) => (staleReady = r)),
      controller: new AbortController(),
      waiters: 0,
      invalidated: false,
    };
    this.flights.set(key, flight);
    const run = async (): Promise<unknown> => {
      try {
        const now = Date.now();
        const found = await this.t.lower(key, now);
        if (found && found.expiresAt > now) {
          staleReady(undefined);
          return found.value;
        }
        staleReady(found ?? l1Stale);
        if (this.config.lock && this.l2) return await this.computeWithLock(key, factory, options, hardMs, flight);
        return await this.compute(key, factory, options, hardMs, flight);
      } finally {
        staleReady(undefined); // no-op if already settled
        if (this.flights.get(key) === flight) this.flights.delete(key);
      }
    };
    flight.value = run();
    // Background refreshes may have no waiter left; their errors are counted, not unhandled.
    flight.value.catch(() => undefined);
    return flight;
  }

  /** Runs the factory under the hard timeout and writes its value through every tier. */
  private async compute(
    key: string,
    factory: Factory<unknown>,
    options: GetOrSetOptions,
    hardMs: number,
    flight: Flight,
  ): Promise<unknown> {
    const { controller } = flight;
    return tracer.startActiveSpan(
      'cache.factory',
      { attributes: { 'periscope.cache.namespace': this.namespace } },
      async (span) => {
        const start = performance.now();
        let timer: NodeJS.Timeout | undefined;
        try {
          const work = Promise.resolve().then(() => factory(controller.signal, { signal: controller.signal, key }));
          const guards: Promise<never>[] = [
            new Promise<never>((_, reject) => {
              const onAbort = () => reject(controller.signal.reason);
              if (controller.signal.aborted) onAbort();
              else controller.signal.addEventListener('abort', onAbort, { once: true });
            }),
          ];
          if (hardMs > 0) {
            guards.push(
              new Promise<never>((_, reject) => {
                timer = setTimeout(() => {
                  const err = new FactoryTimeoutError(hardMs);
                  this.counters.timeout('hard');
                  controller.abort(err);
                  reject(err);
                }, hardMs);
              }),
            );
          }
          work.catch(() => undefined);
          let value: unknown;
          try {
            value = await Promise.race([work, ...guards]);
          } catch (err) {
            this.counters.factoryDone(
              err instanceof FactoryTimeoutError ? 'timeout' : 'error',
              performance.now() - start,
            );
            span.recordException(err as Error);
            span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
            throw err;
          }
          this.counters.factoryDone('ok', performance.now() - start);
          // undefined means "nothing" to get(): hand it back, but there is nothing to cache.
          if (!flight.invalidated && value !== undefined) {
            await this.t.store(this.prepareResult(key, value, options));
            this.t.track(this.bus?.publish('set', { keys: [key] }));
          }
          return value;
        } finally {
          clearTimeout(timer);
          span.end();
        }
      },
    );
  }

  private computeWithLock(
    key: string,
    factory: Factory<unknown>,
    options: GetOrSetOptions,
    hardMs: number,
    flight: Flight,
  ): Promise<unknown> {
    return computeWithLock(key, flight, {
      l2: this.l2!,
      lock: this.config.lock!,
      tiers: this.t,
      counters: this.counters,
      compute: () => this.compute(key, factory, options, hardMs, flight),
    });
  }

  /** Validates options and serializes; bad input throws before any tier changes. */
  private prepare(key: string, value: unknown, options: SetOptions): PreparedEntry {
    checkSetOptions(options);
    if (value === undefined) throw new CacheSerializationError('undefined cannot be cached (get() uses it for a miss)');
    return this.t.prepare(key, value, options);
  }

  /**
   * A factory's value: a value the serializer refuses still lives in L1 (which needs no bytes), so
   * the factory does not run again on every call; the L2/L3 refusal is counted and logged once.
   */
  private prepareResult(key: string, value: unknown, options: SetOptions): PreparedEntry {
    try {
      return this.t.prepare(key, value, options);
    } catch (err) {
      if (!(err instanceof CacheSerializationError)) throw err;
      this.counters.unserializableResult();
      if (!this.warnedUnserializable) {
        this.warnedUnserializable = true;
        this.logger.warn(
          `cache ${this.namespace}: a factory result cannot be serialized; it is kept in L1 only (not in L2/L3). Further refusals are counted (periscope_cache_unserializable_total), not logged`,
          { cache: this.namespace },
        );
      }
      return this.t.prepare(key, value, options, true);
    }
  }

  private invalidateFlight(key: string): void {
    const f = this.flights.get(key);
    if (f) f.invalidated = true;
  }

  private checkOpen(): void {
    if (this.closed) throw new CacheClosedError();
  }

  private check(key: unknown, name = 'key'): asserts key is string {
    checkKey(key, this.closed, name);
  }
}

/** Creates a cache; never blocks or throws because Redis is down (only on invalid options). */
export function createCache(options: CacheOptions): Cache {
  return new Cache(options);
}
