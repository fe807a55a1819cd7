// Counters kept twice on purpose: plain numbers for stats() (always on, nearly free) and, when a
// Metrics instance is given, bound Prometheus series. Hot paths call one method per event.
import { Buckets, type Metrics, type BoundCounter, type BoundGauge, type BoundHistogram } from '@periscope/metrics';

export type TierName = 'l1' | 'l2' | 'l3';
export type EvictionReason = 'capacity' | 'bytes' | 'expired';
export type BreakerState = 'closed' | 'open' | 'half_open';

export interface LatencyStats {
  count: number;
  meanMs: number;
  maxMs: number;
}

export interface TierStats {
  hits: number;
  misses: number;
  /** hits / (hits + misses); 0 before the first lookup. */
  hitRatio: number;
  sets: number;
  deletes: number;
  evictions: Record<EvictionReason, number>;
  entries: number;
  bytes: number;
  errors: number;
  /** Operation latency (L2 and L3 only; L1 hits are not timed so they stay cheap). */
  latency: LatencyStats;
}

export interface L2Stats extends TierStats {
  timeouts: number;
  /** Writes (set, promotion) that failed: the value is not in L2. */
  writeFailures: number;
  /** Failed writes written later, when L2 returned (l2.retryWrites). */
  writesRetried: number;
  /** Failed writes still waiting for L2 (l2.retryWrites). */
  writesPending: number;
  /** Replies that showed l2.url points at one node of a Redis Cluster (MOVED/ASK). */
  misconfigured: boolean;
  breaker: BreakerState;
  connected: boolean;
}

export interface L3Stats extends TierStats {
  /** Corrupt or truncated files found (each was deleted and counted as a miss). */
  corrupt: number;
}

export interface CacheStats {
  namespace: string;
  l1: TierStats;
  l2?: L2Stats;
  l3?: L3Stats;
  staleServed: { swr: number; failSafe: number; softTimeout: number };
  factory: {
    calls: number;
    errors: number;
    deduplicated: number;
    distributedWaits: number;
    timeouts: { soft: number; hard: number };
  };
  bus?: {
    published: number;
    /** Publishes that failed (L2 down); peers purge on the resulting gap. */
    publishFailed: number;
    received: number;
    ignoredOwn: number;
    purges: number;
    /** Messages that were not well-formed bus messages of this namespace (ignored). */
    malformed: number;
    /** A handler failed on a well-formed message (ignored). */
    handlerErrors: number;
  };
  /** Factory results kept in L1 only because the serializer refused them (not written to L2/L3). */
  unserializable: number;
}

export type BusEvent =
  'published' | 'publish_failed' | 'received' | 'ignored_own' | 'purge' | 'malformed' | 'handler_error';

const BUS_FIELD: Record<BusEvent, keyof CacheCounters['bus']> = {
  published: 'published',
  publish_failed: 'publishFailed',
  received: 'received',
  ignored_own: 'ignoredOwn',
  purge: 'purges',
  malformed: 'malformed',
  handler_error: 'handlerErrors',
};

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

export class TierCounters {
  hits = 0;
  misses = 0;
  sets = 0;
  deletes = 0;
  errors = 0;
  timeouts = 0;
  corrupt = 0;
  writeFailures = 0;
  writesRetried = 0;
  entries = 0;
  bytes = 0;
  readonly evictions: Record<EvictionReason, number> = { capacity: 0, bytes: 0, expired: 0 };
  private latCount = 0;
  private latSum = 0;
  private latMax = 0;
  private readonly mHit?: BoundCounter;
  private readonly mMiss?: BoundCounter;
  private readonly mSet?: BoundCounter;
  private readonly mDelete?: BoundCounter;
  private readonly mEvict?: Record<EvictionReason, BoundCounter>;
  private readonly mError?: (kind: string) => void;
  private readonly mEntries?: BoundGauge;
  private readonly mBytes?: BoundGauge;
  private readonly mDuration?: (op: string) => BoundHistogram;
  private readonly mRetried?: BoundCounter;

  constructor(
    readonly tier: TierName,
    cache: string,
    metrics?: Metrics,
  ) {
    if (!metrics) return;
    const base = { cache, tier };
    const labelNames = ['cache', 'tier'] as const;
    this.mHit = metrics
      .counter({ name: 'periscope_cache_hits_total', help: 'Cache lookups that found a value, per tier', labelNames })
      .labels(base);
    this.mMiss = metrics
      .counter({ name: 'periscope_cache_misses_total', help: 'Cache lookups that found nothing, per tier', labelNames })
      .labels(base);
    this.mSet = metrics
      .counter({ name: 'periscope_cache_sets_total', help: 'Values written, per tier', labelNames })
      .labels(base);
    this.mDelete = metrics
      .counter({ name: 'periscope_cache_deletes_total', help: 'Values deleted or invalidated, per tier', labelNames })
      .labels(base);
    const evict = metrics.counter({
      name: 'periscope_cache_evictions_total',
      help: 'Values evicted, per tier and reason (capacity, bytes, expired)',
      labelNames: ['cache', 'tier', 'reason'] as const,
    });
    this.mEvict = {
      capacity: evict.labels({ ...base, reason: 'capacity' }),
      bytes: evict.labels({ ...base, reason: 'bytes' }),
      expired: evict.labels({ ...base, reason: 'expired' }),
    };
    const errors = metrics.counter({
      name: 'periscope_cache_errors_total',
      help: 'Tier errors (timeouts, connection failures, corrupt entries, I/O), per kind',
      labelNames: ['cache', 'tier', 'kind'] as const,
    });
    this.mError = (kind: string) => errors.inc({ ...base, kind });
    this.mEntries = metrics
      .gauge({
        name: 'periscope_cache_entries',
        help: 'Entries held, per tier (L2: unknown, not reported)',
        labelNames,
      })
      .labels(base);
    this.mBytes = metrics
      .gauge({ name: 'periscope_cache_size_bytes', help: 'Bytes held, per tier (L1 estimated)', labelNames })
      .labels(base);
    const duration = metrics.histogram({
      name: 'periscope_cache_operation_duration_seconds',
      help: 'Duration of L2/L3 operations',
      labelNames: ['cache', 'tier', 'operation'] as const,
      buckets: Buckets.latency,
    });
    if (tier === 'l2')
      this.mRetried = metrics
        .counter({
          name: 'periscope_cache_l2_writes_retried_total',
          help: 'L2 writes that failed during an outage and were written when L2 returned (l2.retryWrites)',
          labelNames: ['cache'] as const,
        })
        .labels({ cache });
    const bound = new Map<string, BoundHistogram>();
    this.mDuration = (op: string) => {
      let h = bound.get(op);
      if (!h) bound.set(op, (h = duration.labels({ ...base, operation: op })));
      return h;
    };
  }

  hit(): void {
    this.hits++;
    this.mHit?.inc();
  }
  miss(): void {
    this.misses++;
    this.mMiss?.inc();
  }
  set(): void {
    this.sets++;
    this.mSet?.inc();
  }
  deleted(n = 1): void {
    if (n <= 0) return;
    this.deletes += n;
    this.mDelete?.inc(n);
  }
  evicted(reason: EvictionReason): void {
    this.evictions[reason]++;
    this.mEvict?.[reason].inc();
  }
  error(kind: string): void {
    this.errors++;
    if (kind === 'timeout') this.timeouts++;
    if (kind === 'corrupt') this.corrupt++;
    this.mError?.(kind);
  }
  writeFailed(): void {
    this.writeFailures++;
    this.mError?.('write_failed');
  }
  writeRetried(): void {
    this.writesRetried++;
    this.mRetried?.inc();
  }
  size(entries: number, bytes: number): void {
    this.entries = entries;
    this.bytes = bytes;
    this.mEntries?.set(entries);
    this.mBytes?.set(bytes);
  }
  latency(op: string, ms: number): void {
    this.latCount++;
    this.latSum += ms;
    if (ms > this.latMax) this.latMax = ms;
    this.mDuration?.(op).observe(ms / 1000);
  }

  snapshot(): TierStats {
    const lookups = this.hits + this.misses;
    return {
      hits: this.hits,
      misses: this.misses,
      hitRatio: lookups ? this.hits / lookups : 0,
      sets: this.sets,
      deletes: this.deletes,
      evictions: { ...this.evictions },
      entries: this.entries,
      bytes: this.bytes,
      errors: this.errors,
      latency: { count: this.latCount, meanMs: this.latCount ? this.latSum / this.latCount : 0, maxMs: this.latMax },
    };
  }
}

export type StaleReason = 'swr' | 'failSafe' | 'softTimeout';

/** Cache-level counters: stale serving, factories, single flight, bus. */
export class CacheCounters {
  readonly stale = { swr: 0, failSafe: 0, softTimeout: 0 };
  readonly factory = { calls: 0, errors: 0, deduplicated: 0, distributedWaits: 0, timeouts: { soft: 0, hard: 0 } };
  readonly bus = {
    published: 0,
    publishFailed: 0,
    received: 0,
    ignoredOwn: 0,
    purges: 0,
    malformed: 0,
    handlerErrors: 0,
  };
  unserializable = 0;
  private readonly m?: {
    stale: (r: StaleReason) => void;
    factory: (result: 'ok' | 'error' | 'timeout') => void;
    dedup: (scope: 'local' | 'distributed') => void;
    timeout: (kind: 'soft' | 'hard') => void;
    breaker: (s: BreakerState) => void;
    bus: (event: BusEvent) => void;
    unserializable: () => void;
    factoryDuration: BoundHistogram;
  };

  constructor(cache: string, metrics?: Metrics) {
    if (!metrics) return;
    const stale = metrics.counter({
      name: 'periscope_cache_stale_served_total',
      help: 'Stale values served, by reason (swr, fail_safe, soft_timeout)',
      labelNames: ['cache', 'reason'] as const,
    });
    const factory = metrics.counter({
      name: 'periscope_cache_factory_calls_total',
      help: 'Factory runs, by result',
      labelNames: ['cache', 'result'] as const,
    });
    const dedup = metrics.counter({
      name: 'periscope_cache_deduplicated_calls_total',
      help: 'getOrSet calls served by another call’s factory (local single flight or distributed lock)',
      labelNames: ['cache', 'scope'] as const,
    });
    const timeouts = metrics.counter({
      name: 'periscope_cache_factory_timeouts_total',
      help: 'Factory soft and hard timeouts',
      labelNames: ['cache', 'kind'] as const,
    });
    const breaker = metrics.gauge({
      name: 'periscope_cache_breaker_state',
      help: 'L2 circuit breaker: 0 closed, 1 half-open, 2 open',
      labelNames: ['cache'] as const,
    });
    const bus = metrics.counter({
      name: 'periscope_cache_bus_messages_total',
      help: 'Invalidation bus events (published, publish_failed, received, ignored_own, purge, malformed, handler_error)',
      labelNames: ['cache', 'event'] as const,
    });
    const fd = metrics.histogram({
      name: 'periscope_cache_factory_duration_seconds',
      help: 'Factory duration',
      labelNames: ['cache'] as const,
      buckets: Buckets.llmLatency,
    });
    const unserializable = metrics
      .counter({
        name: 'periscope_cache_unserializable_total',
        help: 'Factory results the serializer refused: kept in L1 only, not written to L2/L3',
        labelNames: ['cache'] as const,
      })
      .labels({ cache });
    const snake: Record<StaleReason, string> = { swr: 'swr', failSafe: 'fail_safe', softTimeout: 'soft_timeout' };
    this.m = {
      stale: (r) => stale.inc({ cache, reason: snake[r] }),
      factory: (result) => factory.inc({ cache, result }),
      dedup: (scope) => dedup.inc({ cache, scope }),
      timeout: (kind) => timeouts.inc({ cache, kind }),
      breaker: (s) => breaker.set({ cache }, BREAKER_VALUE[s]),
      bus: (event) => bus.inc({ cache, event }),
      factoryDuration: fd.labels({ cache }),
      unserializable: () => unserializable.inc(),
    };
    this.m.breaker('closed');
  }

  staleServed(reason: StaleReason): void {
    this.stale[reason]++;
    this.m?.stale(reason);
  }
  factoryDone(result: 'ok' | 'error' | 'timeout', ms: number): void {
    this.factory.calls++;
    if (result !== 'ok') this.factory.errors++;
    this.m?.factory(result);
    this.m?.factoryDuration.observe(ms / 1000);
  }
  deduplicated(scope: 'local' | 'distributed'): void {
    if (scope === 'local') this.factory.deduplicated++;
    else this.factory.distributedWaits++;
    this.m?.dedup(scope);
  }
  timeout(kind: 'soft' | 'hard'): void {
    this.factory.timeouts[kind]++;
    this.m?.timeout(kind);
  }
  breaker(state: BreakerState): void {
    this.m?.breaker(state);
  }
  busEvent(event: BusEvent): void {
    this.bus[BUS_FIELD[event]]++;
    this.m?.bus(event);
  }
  unserializableResult(): void {
    this.unserializable++;
    this.m?.unserializable();
  }
}
