// The public shapes of the pool: call options, the borrowed connection, stats and results.
import type { QueryResult, QueryResultRow } from 'pg';

export type IsolationLevel = 'read uncommitted' | 'read committed' | 'repeatable read' | 'serializable';

export interface QueryOptions {
  /** Client-side timeout for this query (overrides queryTimeoutMs); the connection is discarded when it fires. */
  timeoutMs?: number;
  /** Aborts the wait for a connection or the running query (its connection is discarded). */
  signal?: AbortSignal;
  /** Waiter priority, 0 (highest) … priorityLevels - 1. */
  priority?: number;
}

export interface AcquireOptions {
  signal?: AbortSignal;
  priority?: number;
}

export interface TransactionOptions extends AcquireOptions {
  isolationLevel?: IsolationLevel;
  readOnly?: boolean;
  /** Retries on serialization failure (40001) and deadlock (40P01). Default 0. */
  retries?: number;
}

/** A borrowed connection, valid inside withConnection/transaction callbacks only. */
export interface PoolConnection {
  readonly id: number;
  query<R extends QueryResultRow = QueryResultRow>(
    text: string,
    params?: readonly unknown[],
    options?: Omit<QueryOptions, 'priority'>,
  ): Promise<QueryResult<R>>;
}

export type PoolState = 'open' | 'draining' | 'closed';

export interface PoolStats {
  name: string;
  state: PoolState;
  /** host:port/database — never credentials. */
  server: string;
  poolSize: number;
  maxOverflow: number;
  max: number;
  /** Open connections (idle + active). */
  total: number;
  idle: number;
  active: number;
  /** Callers waiting for a connection. */
  pending: number;
  /** Connection attempts in flight (0 or 1) and queued. */
  creating: number;
  created: number;
  destroyed: number;
  recycled: number;
  validations: number;
  validationFailures: number;
  acquireTimeouts: number;
  idleErrors: number;
  leaks: number;
  /** Session resets run (resetQuery) on connections that came back with changed state. */
  resets: number;
  connectAttempts: number;
  /** The last connection error while the database is unreachable (message only). */
  lastConnectError?: string;
}

export interface ConnectionInfo {
  id: number;
  inUse: boolean;
  ageMs: number;
  idleMs: number;
  /** Time left before max lifetime retires it (undefined: maxLifetimeMs = 0). */
  retiresInMs?: number;
  /** This connection's lifetime: maxLifetimeMs minus its jitter. */
  lifetimeMs?: number;
  broken: boolean;
}

export interface HealthResult {
  healthy: boolean;
  status: 'pass' | 'fail';
  latencyMs: number;
  message?: string;
  stats: PoolStats;
}

export interface DrainOptions {
  /** How long to wait for borrowed connections to come back; then they are closed. Default 30000. */
  timeoutMs?: number;
}

export interface DrainResult {
  /** True when every borrowed connection came back in time. */
  drained: boolean;
  /** Connections closed while still borrowed. */
  forced: number;
}
