// Pool metrics, registered on the caller's Metrics (optional). Handles are bound to this pool's
// label once so the hot path does no label lookups; without Metrics every call is a no-op.
import { Buckets, type Metrics } from '@periscope/metrics';

export type DestroyReason = 'broken' | 'max_lifetime' | 'idle' | 'query_timeout' | 'aborted' | 'closed';

interface Counts {
  total: number;
  idle: number;
  active: number;
  pending: number;
}

export interface PoolInstruments {
  gauges(counts: Counts): void;
  acquired(waitSeconds: number): void;
  acquireTimeout(): void;
  created(): void;
  destroyed(reason: DestroyReason): void;
  validated(ok: boolean): void;
  error(errorClass: string): void;
  leak(): void;
  query(operation: string, seconds: number): void;
}

const NOOP: PoolInstruments = {
  gauges() {},
  acquired() {},
  acquireTimeout() {},
  created() {},
  destroyed() {},
  validated() {},
  error() {},
  leak() {},
  query() {},
};

/** The pool's metric families, with this pool's label bound where the label set is fixed. */
function register(metrics: Metrics, pool: string) {
  const connections = metrics.gauge({
    name: 'periscope_db_pool_connections',
    help: 'Connections by state (total, idle, active) and callers waiting (pending)',
    labelNames: ['pool', 'state'] as const,
  });
  const total = connections.labels({ pool, state: 'total' });
  const idle = connections.labels({ pool, state: 'idle' });
  const active = connections.labels({ pool, state: 'active' });
  const pending = connections.labels({ pool, state: 'pending' });
  const wait = metrics
    .histogram({
      name: 'periscope_db_pool_acquire_wait_seconds',
      help: 'Time callers waited for a connection',
      labelNames: ['pool'] as const,
      buckets: Buckets.latency,
    })
    .labels({ pool });
  const timeouts = metrics
    .counter({
      name: 'periscope_db_pool_acquire_timeouts_total',
      help: 'Acquires that failed at acquireTimeoutMs',
      labelNames: ['pool'] as const,
    })
    .labels({ pool });
  const created = metrics
    .counter({
      name: 'periscope_db_pool_connections_created_total',
      help: 'Connections opened',
      labelNames: ['pool'] as const,
    })
    .labels({ pool });
  const destroyed = metrics.counter({
    name: 'periscope_db_pool_connections_destroyed_total',
    help: 'Connections closed, by reason',
    labelNames: ['pool', 'reason'] as const,
  });
  const recycled = metrics.counter({
    name: 'periscope_db_pool_connections_recycled_total',
    help: 'Healthy connections retired (max lifetime, idle overflow)',
    labelNames: ['pool', 'reason'] as const,
  });
  const validated = metrics.counter({
    name: 'periscope_db_pool_validations_total',
    help: 'Validation round trips on borrow and keepalive pings, by result',
    labelNames: ['pool', 'result'] as const,
  });
  const errors = metrics.counter({
    name: 'periscope_db_pool_errors_total',
    help: 'Errors by class (SQLSTATE class, or connect, connection_lost, idle_connection, query_timeout, aborted, acquire_timeout, destroy, cancel_unanswered, client)',
    labelNames: ['pool', 'class'] as const,
  });
  const leaks = metrics
    .counter({
      name: 'periscope_db_pool_leaks_total',
      help: 'Connections held longer than leakDetectionMs',
      labelNames: ['pool'] as const,
    })
    .labels({ pool });
  return {
    total,
    idle,
    active,
    pending,
    wait,
    timeouts,
    created,
    destroyed,
    recycled,
    validated,
    errors,
    leaks,
  };
}

export function createInstruments(metrics: Metrics | undefined, pool: string): PoolInstruments {
  if (!metrics) return NOOP;
  const { total, idle, active, pending, wait, timeouts, created, destroyed, recycled, validated, errors, leaks } =
    register(metrics, pool);
  const duration = metrics.histogram({
    name: 'periscope_db_pool_query_duration_seconds',
    help: 'Query duration by operation, including the wait for a connection',
    labelNames: ['pool', 'operation'] as const,
    buckets: Buckets.latency,
  });
  const byOperation = new Map<string, { observe(v: number): void }>();
  return {
    gauges(c) {
      total.set(c.total);
      idle.set(c.idle);
      active.set(c.active);
      pending.set(c.pending);
    },
    acquired(s) {
      wait.observe(s);
    },
    acquireTimeout() {
      timeouts.inc();
      errors.inc({ pool, class: 'acquire_timeout' });
    },
    created() {
      created.inc();
    },
    destroyed(reason) {
      destroyed.inc({ pool, reason });
      if (reason === 'max_lifetime' || reason === 'idle') recycled.inc({ pool, reason });
    },
    validated(ok) {
      validated.inc({ pool, result: ok ? 'ok' : 'failed' });
    },
    error(errorClass) {
      errors.inc({ pool, class: errorClass });
    },
    leak() {
      leaks.inc();
    },
    query(operation, seconds) {
      let h = byOperation.get(operation);
      if (!h) {
        h = duration.labels({ pool, operation });
        byOperation.set(operation, h);
      }
      h.observe(seconds);
    },
  };
}
