// The cache: L1 memory → L2 Redis → L3 disk → factory, with single flight (local and, with
// distributedLock, across instances), stale-while-revalidate, fail-safe, factory timeouts, tags
// and distributed L1 invalidation. Tiers below L1 never throw into callers: their failures are
// counted and read as misses, so a sick Redis or disk degrades hit ratio, not availability.
import { randomUUID } from 'node:crypto';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { resolveConfig, type CacheOptions, type ResolvedConfig } from './config';
import {
  CacheAbortedError,
  CacheClosedError,
  CacheInputError,
  CacheSerializationError,
  FactoryTimeoutError,
} from './errors';
import { CacheCounters, TierCounters, type CacheStats } from './instruments';
import { MemoryTier, type L1Entry } from './memory-tier';
import { RedisTier } from './redis-tier';
import { DiskTier } from './disk-tier';
import { InvalidationBus } from './bus';
import { Codec, defaultSerializer, type EntryMeta } from './serializer';
import { argsKey } from './keys';
import type { CacheLogger } from './logger';

const tracer = trace.getTracer('@periscope/cache');

export interface SetOptions {
  ttlMs?: number;
  tags?: readonly string[];
  /** Overrides the cache's graceMs for this entry. */
  graceMs?: number;
}

export interface GetOrSetOptions extends SetOptions {
  /** With a stale value at hand, wait this long for the factory before serving stale (0 = serve stale at once). */
  softTimeoutMs?: number;
  /** Abort the factory (through its signal) and fail with FactoryTimeoutError after this long; 0 = never. */
  hardTimeoutMs?: number;
  /** Stops this caller waiting; aborts the factory when no other caller waits for it. */
  signal?: AbortSignal;
}

export interface FactoryContext {
  signal: AbortSignal;
  key: string;
}

export type Factory<T> = (signal: AbortSignal, context: FactoryContext) => T | Promise<T>;

export interface SetManyEntry<T = unknown> extends SetOptions {
  key: string;
  value: T;
}

export interface WrapOptions<A extends unknown[]> extends SetOptions {
  /** Key prefix (default: the function's name), or a function building the whole key from the arguments. */
  key?: string | ((...args: A) => string);
}

export interface L2Health {
  status: 'pass' | 'warn';
  output: string;
  observedValue?: number;
  observedUnit?: 'ms';
}

interface Flight {
  /** Settles with the fresh value (or the factory's error). */
  value: Promise<unknown>;
  /** Settles once the lower tiers were read: the stale candidate if a factory must run, or undefined. */
  staleReady: Promise<L1Entry | undefined>;
  controller: AbortController;
  waiters: number;
  /** Set by delete/clear while the flight runs: its value must not be written back. */
  invalidated: boolean;
}

export class Cache {
  readonly namespace: string;
  private readonly config: ResolvedConfig;
  private readonly l1: MemoryTier;
  private readonly l2?: RedisTier;
  private readonly l3?: DiskTier;
  private readonly bus?: InvalidationBus;
  private readonly codec: Codec;
  private readonly l1c: TierCounters;
  private readonly l2c?: TierCounters;
  private readonly l3c?: TierCounters;
  private readonly counters: CacheCounters;
  private readonly flights = new Map<string, Flight>();
  private readonly background = new Set<Promise<unknown>>();
  private readonly sweeper: NodeJS.Timeout;
  private closing?: Promise<void>;
  private closed = false;

  constructor(options: CacheOptions) {
    const config = resolveConfig(options);
    this.config = config;
    this.namespace = config.namespace;
    const ns = config.namespace;
    const logger: CacheLogger | undefined = options.logger;
    this.counters = new CacheCounters(ns, options.metrics);
    this.l1c = new TierCounters('l1', ns, options.metrics);
    this.l1 = new MemoryTier(
      { policy: config.l1.policy, maxEntries: config.l1.maxEntries, maxBytes: config.l1.maxBytes },
      this.l1c,
    );
    this.codec = new Codec(options.serializer ?? defaultSerializer, config.l2?.compressAboveBytes ?? 1024);
    if (config.l2) {
      const l2 = config.l2;
      this.l2c = new TierCounters('l2', ns, options.metrics);
      this.l2 = new RedisTier(
        {
          url: l2.url,
          client: l2.client,
          namespace: ns,
          keyPrefix: l2.keyPrefix,
          version: String(l2.version),
          timeoutMs: l2.timeoutMs,
          breaker: l2.breaker,
          reconnectMaxDelayMs: l2.reconnectMaxDelayMs,
          socketTimeoutMs: l2.socketTimeoutMs,
        },
        this.l2c,
        (s) => this.counters.breaker(s),
        logger,
      );
      if (l2.bus) {
        const tier = this.l2;
        this.bus = new InvalidationBus(
          ns,
          tier.channel,
          { url: l2.url, client: l2.client },
          l2,
          (m) => tier.publish(m),
          {
            onKeys: (keys) => {
              for (const k of keys) this.l1.delete(k);
              if (this.l3) this.track(this.l3.delete(keys));
            },
            onTags: (tags) => {
              this.l1.deleteByTags(tags);
              if (this.l3) this.track(this.l3.deleteByTags(tags));
            },
            onClear: () => {
              this.l1.clear();
              if (this.l3) this.track(this.l3.clear());
            },
            onPurge: () => this.l1.clear(),
          },
          this.counters,
        );
      }
    }
    if (config.l3) {
      this.l3c = new TierCounters('l3', ns, options.metrics);
      this.l3 = new DiskTier(
        { dir: config.l3.dir, scope: `${ns}:v${String(config.l2?.version ?? '1')}`, maxBytes: config.l3.maxBytes },
        this.l3c,
      );
    }
    this.sweeper = setInterval(() => this.sweep(), config.sweepIntervalMs);
    this.sweeper.unref();
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
      found = this.fromL2(key, bytes);
    }
    if (!found && this.l3) found = this.fromL3(key, await this.l3.get(key, now));
    return found && found.expiresAt > Date.now() ? (found.value as T) : undefined;
  }

  /** Writes through every tier and tells other instances to drop their copy. */
  async set<T>(key: string, value: T, options: SetOptions = {}): Promise<void> {
    this.check(key);
    const prepared = this.prepare(key, value, options);
    this.invalidateFlight(key);
    await this.store(prepared);
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
    this.checkSetOptions(options);
    const soft = this.nonNegative('softTimeoutMs', options.softTimeoutMs, this.config.softTimeoutMs);
    const hard = this.nonNegative('hardTimeoutMs', options.hardTimeoutMs, this.config.hardTimeoutMs);
    if (options.signal?.aborted) throw new CacheAbortedError({ cause: options.signal.reason });
    // An L1 entry past its (jittered) expiry but within grace is the first stale candidate.
    const l1Stale = e !== undefined && e.staleUntil > now ? e : undefined;
    let flight = this.flights.get(key);
    if (flight) this.counters.deduplicated('local');
    else flight = this.startFlight(key, factory as Factory<unknown>, options, hard, l1Stale);
    return (await this.awaitFlight(flight, l1Stale, soft, options.signal)) as T;
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
    await Promise.all(prepared.map((p) => this.store(p)));
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
    this.checkSetOptions(setOptions);
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
    };
    if (this.l2 && this.l2c)
      s.l2 = {
        ...this.l2c.snapshot(),
        timeouts: this.l2c.timeouts,
        breaker: this.l2.breakerState,
        connected: this.l2.connected,
      };
    if (this.l3c) s.l3 = { ...this.l3c.snapshot(), corrupt: this.l3c.corrupt };
    if (this.bus) s.bus = { ...this.counters.bus };
    return s;
  }

  /** For a non-critical health check: 'warn' (never 'fail') when L2 is down or not configured. */
  async l2Health(): Promise<L2Health> {
    if (!this.l2) return { status: 'warn', output: 'L2 (Redis) not configured: running on L1 + L3' };
    if (this.closed) return { status: 'warn', output: 'cache closed' };
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

  /** Idempotent: stops the sweeper, aborts running factories, flushes writes, closes connections. */
  close(): Promise<void> {
    if (!this.closing) {
      this.closed = true;
      this.closing = (async () => {
        clearInterval(this.sweeper);
        for (const f of this.flights.values()) f.controller.abort(new CacheClosedError());
        while (this.background.size) await Promise.allSettled([...this.background]);
        await this.l3?.flush();
        await Promise.all([this.bus?.close(), this.l2?.close()]);
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
        const found = await this.lower(key, now);
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

  private async awaitFlight(
    flight: Flight,
    l1Stale: L1Entry | undefined,
    softMs: number,
    signal?: AbortSignal,
  ): Promise<unknown> {
    flight.waiters++;
    let detach = () => {};
    const aborted = new Promise<never>((_, reject) => {
      if (!signal) return;
      const onAbort = () => {
        reject(new CacheAbortedError({ cause: signal.reason }));
        // Nobody else wants the value: stop the work.
        if (flight.waiters === 1) flight.controller.abort(new CacheAbortedError({ cause: signal.reason }));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      detach = () => signal.removeEventListener('abort', onAbort);
    });
    aborted.catch(() => undefined);
    try {
      const stale = l1Stale ?? (await Promise.race([flight.staleReady, aborted]));
      if (!stale) return await Promise.race([flight.value, aborted]);
      if (softMs <= 0) {
        this.counters.staleServed('swr');
        return stale.value;
      }
      let timer: NodeJS.Timeout | undefined;
      const soft = new Promise<'soft'>((r) => (timer = setTimeout(() => r('soft'), softMs)));
      try {
        const winner = await Promise.race([flight.value.then((v) => ({ v })), soft, aborted]);
        if (winner === 'soft') {
          this.counters.timeout('soft');
          this.counters.staleServed('softTimeout');
          return stale.value;
        }
        return winner.v;
      } catch (err) {
        if (err instanceof CacheAbortedError) throw err;
        this.counters.staleServed('failSafe');
        return stale.value;
      } finally {
        clearTimeout(timer);
      }
    } finally {
      flight.waiters--;
      detach();
    }
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
      { attributes: { 'cache.namespace': this.namespace } },
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
            const prepared = this.prepare(key, value, options);
            await this.store(prepared);
            this.track(this.bus?.publish('set', { keys: [key] }));
          }
          return value;
        } finally {
          clearTimeout(timer);
          span.end();
        }
      },
    );
  }

  /** One instance computes under a Redis lock; the others wait for its value, then compute themselves. */
  private async computeWithLock(
    key: string,
    factory: Factory<unknown>,
    options: GetOrSetOptions,
    hardMs: number,
    flight: Flight,
  ): Promise<unknown> {
    const l2 = this.l2!;
    const lock = this.config.lock!;
    const token = randomUUID();
    const deadline = Date.now() + lock.waitTimeoutMs;
    let waited = false;
    for (;;) {
      let acquired: boolean;
      try {
        acquired = await l2.lockAcquire(key, token, lock.ttlMs);
      } catch {
        return this.compute(key, factory, options, hardMs, flight); // Redis is down: no lock to take
      }
      if (acquired) {
        const renew = setInterval(
          () => this.track(l2.lockRenew(key, token, lock.ttlMs).catch(() => false)),
          Math.max(1, Math.floor(lock.ttlMs / 3)),
        );
        renew.unref();
        try {
          // The previous holder may have written the value just before releasing.
          if (waited) {
            const fresh = await this.lower(key, Date.now());
            if (fresh && fresh.expiresAt > Date.now()) return fresh.value;
          }
          return await this.compute(key, factory, options, hardMs, flight);
        } finally {
          clearInterval(renew);
          await l2.lockRelease(key, token).catch(() => false);
        }
      }
      if (!waited) {
        waited = true;
        this.counters.deduplicated('distributed');
      }
      if (Date.now() >= deadline || flight.controller.signal.aborted)
        return this.compute(key, factory, options, hardMs, flight);
      await sleep(lock.pollMs);
      const found = this.fromL2(key, await this.readL2(key));
      if (found && found.expiresAt > Date.now()) return found.value;
    }
  }

  /** L2 then L3; promotes what it finds (fresh or within grace) with its remaining TTL. */
  private async lower(key: string, now: number): Promise<L1Entry | undefined> {
    if (this.l2) {
      const hit = this.fromL2(key, await this.readL2(key));
      if (hit) return hit;
    }
    return this.l3 ? this.fromL3(key, await this.l3.get(key, now)) : undefined;
  }

  /** A failing L2 reads as a miss (the tier counted the failure). */
  private async readL2(key: string): Promise<Buffer | null> {
    try {
      return await this.l2!.get(key);
    } catch {
      return null;
    }
  }

  /** Counts and promotes an L2 read; synchronous so the hot path adds no await. */
  private fromL2(key: string, bytes: Buffer | null): L1Entry | undefined {
    return this.promote(key, bytes, this.l2c!);
  }

  private fromL3(key: string, bytes: Buffer | null): L1Entry | undefined {
    const entry = this.promote(key, bytes, this.l3c!);
    // Promote to L2 with the same bytes: same expiry, never a fresh TTL.
    if (entry && bytes && this.l2)
      this.track(this.l2.set(key, bytes, entry.staleUntil - Date.now(), entry.tags).catch(() => undefined));
    return entry;
  }

  /** A lower tier's read: counted as hit (fresh) or miss (stale or absent); usable entries go into L1. */
  private promote(key: string, bytes: Buffer | null, counters: TierCounters): L1Entry | undefined {
    const entry = bytes && this.decode(bytes, counters);
    if (entry && entry.staleUntil > Date.now()) {
      if (entry.expiresAt > Date.now()) counters.hit();
      else counters.miss();
      this.l1.set(key, entry);
      return entry;
    }
    counters.miss();
    return undefined;
  }

  private decode(bytes: Buffer, counters: TierCounters): L1Entry | undefined {
    try {
      const { meta, value } = this.codec.decode(bytes);
      return this.l1Entry(value, meta, bytes.length);
    } catch {
      counters.error('corrupt');
      return undefined;
    }
  }

  private l1Entry(value: unknown, meta: EntryMeta, size: number): L1Entry {
    const jitter = this.config.l1.jitter;
    const now = Date.now();
    const l1ExpiresAt =
      jitter > 0 && meta.expiresAt > now ? now + (meta.expiresAt - now) * (1 - Math.random() * jitter) : meta.expiresAt;
    return {
      value,
      createdAt: meta.createdAt,
      expiresAt: meta.expiresAt,
      staleUntil: meta.staleUntil,
      tags: meta.tags,
      size,
      l1ExpiresAt,
      freq: 0,
    };
  }

  /** Validates and serializes before anything changes, so bad input leaves every tier untouched. */
  private prepare(
    key: string,
    value: unknown,
    options: SetOptions,
  ): { key: string; entry: L1Entry; envelope?: Buffer } {
    this.checkSetOptions(options);
    if (value === undefined) throw new CacheSerializationError('undefined cannot be cached (get() uses it for a miss)');
    const now = Date.now();
    const ttl = options.ttlMs ?? this.config.defaultTtlMs;
    const grace = options.graceMs ?? this.config.graceMs;
    const meta: EntryMeta = {
      createdAt: now,
      expiresAt: now + ttl,
      staleUntil: now + ttl + grace,
      tags: options.tags ? [...options.tags] : [],
    };
    const payload = this.codec.payload(value);
    const envelope = this.l2 || this.l3 ? this.codec.encode(payload, meta) : undefined;
    return { key, entry: this.l1Entry(value, meta, envelope?.length ?? payload.length), envelope };
  }

  private async store(p: { key: string; entry: L1Entry; envelope?: Buffer }): Promise<void> {
    this.l1.set(p.key, p.entry);
    if (!p.envelope) return;
    const { entry } = p;
    await Promise.all([
      this.l2?.set(p.key, p.envelope, entry.staleUntil - Date.now(), entry.tags).catch(() => undefined),
      this.l3?.set(p.key, p.envelope, entry.staleUntil, entry.tags),
    ]);
  }

  private invalidateFlight(key: string): void {
    const f = this.flights.get(key);
    if (f) f.invalidated = true;
  }

  private track(p: Promise<unknown> | undefined): void {
    if (!p) return;
    this.background.add(p);
    p.catch(() => undefined).finally(() => this.background.delete(p));
  }

  private sweep(): void {
    const now = Date.now();
    this.l1.sweep(now);
    if (this.l3) this.track(this.l3.sweep(now));
  }

  private checkOpen(): void {
    if (this.closed) throw new CacheClosedError();
  }

  private check(key: unknown, name = 'key'): asserts key is string {
    if (typeof key !== 'string' || key.length === 0) throw new CacheInputError(name, 'must be a non-empty string');
    if (this.closed) throw new CacheClosedError();
  }

  private checkSetOptions(o: SetOptions): void {
    if (o.ttlMs !== undefined && !(typeof o.ttlMs === 'number' && Number.isFinite(o.ttlMs) && o.ttlMs > 0)) {
      throw new CacheInputError('ttlMs', `must be a positive finite number of milliseconds, got ${String(o.ttlMs)}`);
    }
    if (o.graceMs !== undefined && !(typeof o.graceMs === 'number' && Number.isFinite(o.graceMs) && o.graceMs >= 0)) {
      throw new CacheInputError(
        'graceMs',
        `must be a non-negative finite number of milliseconds, got ${String(o.graceMs)}`,
      );
    }
    if (o.tags !== undefined && (!Array.isArray(o.tags) || o.tags.some((t) => typeof t !== 'string' || t === ''))) {
      throw new CacheInputError('tags', 'must be an array of non-empty strings');
    }
  }

  private nonNegative(name: string, v: number | undefined, def: number): number {
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw new CacheInputError(name, `must be a non-negative finite number of milliseconds, got ${String(v)}`);
    return v;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Creates a cache; never blocks or throws because Redis is down (only on invalid options). */
export function createCache(options: CacheOptions): Cache {
  return new Cache(options);
}
