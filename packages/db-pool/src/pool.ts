// The pool: generic-pool keeps the books (waiter queue with priorities, acquire timeout,
// validation on borrow, idle eviction runs, drain); this file supplies HikariCP's discipline on
// top: one-at-a-time connection creation with backoff (creator.ts), validation only after an
// idle window, max lifetime with jitter, broken connections replaced before callers see them,
// leak detection, client-side query timeouts, spans and metrics.
import { performance } from 'node:perf_hooks';
import { inspect } from 'node:util';
import type { Socket } from 'node:net';
import pg from 'pg';
import type { QueryResult, QueryResultRow } from 'pg';
import genericPool from 'generic-pool';
import type { Factory, Options as GenericPoolOptions, Pool as GenericPool } from 'generic-pool';
import { SpanKind, SpanStatusCode, trace, type Span, type SpanOptions } from '@opentelemetry/api';
import { describeServer, resolveOptions, type PoolLogger, type PoolOptions, type ResolvedPoolOptions } from './config';
import {
  ConnectError,
  ConnectionLostError,
  DbPoolError,
  InvalidArgumentError,
  PoolClosedError,
  PoolExhaustedError,
  PoolTimeoutError,
  QueryAbortedError,
  QueryError,
  QueryTimeoutError,
} from './errors';
import { ConnectionCreator } from './creator';
import { createInstruments, type DestroyReason, type PoolInstruments } from './instrumentation';
import { statementInfo } from './sql';
import { sendCancel } from './cancel';

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

// generic-pool 3.9 internals we rely on (it has had no release since 2022; package.json pins ~3.9):
// the constructor with an injectable evictor, the waiter queue (to see the request of an acquire,
// so its timeout is set only when it waits, to hand a released connection straight to the next
// waiter, and to fail waiters at close), the eviction timer (to
// stop it when drain is cut short) and the minimum top-up after an outage.
interface WaitingRequest {
  readonly state: string;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}
interface GenericPoolInternals<T> extends GenericPool<T> {
  _waitingClientsQueue: {
    readonly length: number;
    enqueue(request: WaitingRequest, priority?: number): void;
    dequeue(): WaitingRequest | undefined;
  };
  _descheduleEvictorRun(): void;
  _ensureMinimum(): void;
}
interface Evictor {
  evict(config: unknown, resource: { obj: Conn }, available: number): boolean;
}
type GenericPoolCtor = new <T>(
  evictor: new () => Evictor,
  deque: unknown,
  priorityQueue: unknown,
  factory: Factory<T>,
  options: GenericPoolOptions,
) => GenericPoolInternals<T>;
const gpModule = genericPool as unknown as { Pool: GenericPoolCtor; Deque: unknown; PriorityQueue: unknown };

// What a borrowed connection needs before the caller gets it.
const enum Check {
  Ok,
  Ping,
  Replace,
}
const SPAN_OPTIONS: SpanOptions = { kind: SpanKind.CLIENT };
const RETRYABLE = new Set(['40001', '40P01']);
// pg's callback signature needs a values array; never mutated (pg only maps non-empty ones).
const NO_PARAMS: unknown[] = [];
// SQLSTATEs after which the server closes the session: the connection is gone.
const FATAL_STATES = new Set(['57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004']);
const tracer = trace.getTracer('@periscope/db-pool');

interface StackHolder {
  stack?: string;
}

/** One caller's acquire in progress. */
class Borrow {
  replaced = 0;
  constructor(
    readonly signal: AbortSignal | undefined,
    readonly priority: number | undefined,
    readonly holder: Holder | undefined,
    readonly started: number,
  ) {}
}

/** The acquire time ran out (the name is what generic-pool's queue and acquireError() look for). */
class DeadlineError extends Error {
  override readonly name = 'TimeoutError';
}

/**
 * The acquire timeout of waiting callers: one timer, armed for the oldest waiter, rather than a
 * timer per waiter (all wait the same acquireTimeoutMs, so deadlines come in arrival order).
 * Served requests are dropped from the front as new ones come, and the list is compacted when
 * they pile up behind a long waiter (a low priority one, say).
 */
class WaitDeadlines {
  private requests: WaitingRequest[] = [];
  private deadlines: number[] = [];
  private head = 0;
  /** Waiting requests after the last compaction; the next one comes after as many more + 1024. */
  private live = 0;
  private timer: NodeJS.Timeout | undefined = undefined;
  constructor(private readonly timeoutMs: number) {}

  add(request: WaitingRequest): void {
    const requests = this.requests;
    while (this.head < requests.length && requests[this.head].state !== 'PENDING') this.head++;
    if (this.head === requests.length) this.reset();
    else if (requests.length - this.head > 2 * this.live + 1024) this.compact();
    requests.push(request);
    this.deadlines.push(performance.now() + this.timeoutMs);
    // No timer means no one else is waiting: this request has the earliest deadline.
    if (this.timer === undefined) this.arm(this.timeoutMs);
  }

  /** Stops the timer and forgets every request (close() rejects the waiters itself). */
  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.reset();
  }

  private arm(ms: number): void {
    this.timer = setTimeout(WaitDeadlines.fired, Math.max(1, Math.ceil(ms)), this);
  }

  private static fired(self: WaitDeadlines): void {
    self.timer = undefined;
    const { requests, deadlines } = self;
    const now = performance.now();
    let i = self.head;
    for (; i < requests.length; i++) {
      const request = requests[i];
      if (request.state !== 'PENDING') continue;
      // Timers fire on the loop's cached clock, so up to a millisecond before the deadline.
      if (deadlines[i] - now > 1) break;
      request.reject(new DeadlineError('no connection within the acquire timeout'));
    }
    self.head = i;
    if (i < requests.length) self.arm(deadlines[i] - now);
    else self.reset();
  }

  private reset(): void {
    this.requests.length = 0;
    this.deadlines.length = 0;
    this.head = 0;
    this.live = 0;
  }

  private compact(): void {
    const requests: WaitingRequest[] = [];
    const deadlines: number[] = [];
    for (let i = this.head; i < this.requests.length; i++) {
      if (this.requests[i].state !== 'PENDING') continue;
      requests.push(this.requests[i]);
      deadlines.push(this.deadlines[i]);
    }
    this.requests = requests;
    this.deadlines = deadlines;
    this.head = 0;
    this.live = requests.length;
  }
}
/** Who holds a borrowed connection, for leak reports: the acquiring stack, or the statement of query(). */
type Holder = StackHolder | string;

class Conn {
  inUse = false;
  pinging = false;
  broken: unknown = undefined;
  destroyed = false;
  lastUsedAt: number;
  lastValidatedAt: number;
  /** Leak detection: who borrowed it, when (performance.now()), and whether it was reported. */
  holder: Holder | undefined = undefined;
  borrowedAt = 0;
  leakReported = false;
  /** Client-side query timeout: deadline of the running query (0 = none) and the one timer per connection. */
  queryDeadline = 0;
  queryTimeoutMs = 0;
  queryTimer: NodeJS.Timeout | undefined = undefined;
  queryTimerDue = 0;
  constructor(
    readonly id: number,
    readonly client: pg.Client,
    readonly createdAt: number,
    readonly retireAt: number,
  ) {
    this.lastUsedAt = createdAt;
    this.lastValidatedAt = createdAt;
  }
  forceClose(): void {
    this.client.connection.stream.destroy();
  }
}

class BorrowedConnection implements PoolConnection {
  released = false;
  constructor(
    private readonly pool: DbPool,
    readonly conn: Conn,
  ) {}
  get id(): number {
    return this.conn.id;
  }
  query<R extends QueryResultRow = QueryResultRow>(
    text: string,
    params?: readonly unknown[],
    options?: Omit<QueryOptions, 'priority'>,
  ): Promise<QueryResult<R>> {
    if (this.released)
      return Promise.reject(
        new InvalidArgumentError(
          'connection',
          'this connection was already given back to the pool; use it only inside its callback',
        ),
      );
    return this.pool.runOn<R>(this.conn, text, params, options);
  }
}

function captureStack(from: (...args: never[]) => unknown): StackHolder {
  const holder: StackHolder = {};
  Error.captureStackTrace(holder, from);
  return holder;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class DbPool {
  readonly name: string;
  private readonly opts: ResolvedPoolOptions;
  private readonly gp: GenericPoolInternals<Conn>;
  private readonly creator: ConnectionCreator<Conn>;
  private readonly instruments: PoolInstruments;
  private readonly logger: PoolLogger;
  private readonly server: { host: string; port: number; database: string };
  private readonly serverLabel: string;
  private readonly secrets: string[];
  private readonly conns = new Set<Conn>();
  private readonly connecting = new Set<pg.Client>();
  private readonly cancels = new Set<Socket>();
  private readonly housekeeper: NodeJS.Timeout;
  private leakSweeper: NodeJS.Timeout | undefined;
  private readonly spanAttributes: Record<string, string | number>;
  private readonly metered: boolean;
  /** The request generic-pool enqueued in the acquire() running now (see waitFor()). */
  private lastRequest: WaitingRequest | undefined;
  private readonly waitDeadlines: WaitDeadlines;
  private nextId = 1;
  private state: PoolState = 'open';
  private drainPromise: Promise<DrainResult> | undefined;
  /** Set when a connection breaks: older connections are validated at their next checkout. */
  private lastDisconnectAt = 0;
  private readonly counts = {
    created: 0,
    destroyed: 0,
    recycled: 0,
    validations: 0,
    validationFailures: 0,
    acquireTimeouts: 0,
    idleErrors: 0,
    leaks: 0,
  };

  constructor(options: PoolOptions) {
    this.opts = resolveOptions(options);
    this.name = this.opts.name;
    this.logger = options.logger ?? processWarningLogger;
    this.server = describeServer(this.opts.connectionString, this.opts.config);
    this.serverLabel = `${this.server.host}:${this.server.port}/${this.server.database}`;
    this.secrets = collectSecrets(this.opts);
    this.instruments = createInstruments(options.metrics, this.name);
    this.metered = options.metrics !== undefined;
    this.spanAttributes = {
      'db.system.name': 'postgresql',
      'db.namespace': this.server.database,
      'server.address': this.server.host,
      'server.port': this.server.port,
    };

    this.waitDeadlines = new WaitDeadlines(this.opts.acquireTimeoutMs);
    this.creator = new ConnectionCreator<Conn>({
      open: () => this.openConnection(),
      needed: () =>
        this.state !== 'closed' &&
        ((this.state === 'open' && this.conns.size < this.opts.poolSize) || this.gp.pending > this.gp.available),
      backoffMs: this.opts.connectBackoffMs,
      backoffMaxMs: this.opts.connectBackoffMaxMs,
      onAttemptFailed: (err, failures, delayMs) => {
        if (this.state === 'closed') return; // attempts cut short by close() are not outages
        this.instruments.error('connect');
        // Log the first failure of an outage and then every tenth, not every attempt.
        if (failures === 1 || failures % 10 === 0) {
          this.logger.warn(
            `db-pool ${this.name}: cannot connect to ${this.serverLabel} (${failures} attempt(s)); retrying in ${delayMs} ms: ${this.scrub(messageOf(err))}`,
            { pool: this.name, failures },
          );
        }
      },
      onRecovered: (failures) => {
        this.logger.info?.(
          `db-pool ${this.name}: connected to ${this.serverLabel} again after ${failures} failed attempt(s)`,
          { pool: this.name },
        );
      },
      onOrphan: (conn) => {
        void this.destroyConnection(conn);
      },
    });

    const self = this;
    class PoolEvictor implements Evictor {
      evict(_config: unknown, resource: { obj: Conn }): boolean {
        return self.shouldEvict(resource.obj);
      }
    }
    const max = this.opts.poolSize + this.opts.maxOverflow;
    const factory: Factory<Conn> = {
      create: () => this.creator.create(),
      destroy: (conn) => this.destroyConnection(conn),
    };
    this.gp = new gpModule.Pool<Conn>(PoolEvictor, gpModule.Deque, gpModule.PriorityQueue, factory, {
      min: this.opts.poolSize,
      max,
      // No acquireTimeoutMillis: generic-pool would start a timer for every acquire; waitFor()
      // gives a caller that really has to wait a deadline on the pool's one wait timer.
      // Validation on borrow is done in acquire(): generic-pool's testOnBorrow costs a promise
      // round per borrow even when (as almost always) no round trip is needed.
      testOnBorrow: false,
      // LIFO: hot connections are reused, so overflow ones go idle and close.
      fifo: false,
      priorityRange: this.opts.priorityLevels,
      evictionRunIntervalMillis: this.housekeepingIntervalMs(),
      numTestsPerEvictionRun: max,
      autostart: true,
    });
    // Creation requests only end in NotNeeded or PoolClosedError here: the creator keeps retrying
    // failed attempts itself (and counts them), so generic-pool never loops on them.
    this.gp.on('factoryCreateError', () => undefined);
    this.gp.on('factoryDestroyError', () => this.instruments.error('destroy'));
    const waiting = this.gp._waitingClientsQueue;
    const enqueue = waiting.enqueue.bind(waiting);
    waiting.enqueue = (request, priority) => {
      this.lastRequest = request;
      enqueue(request, priority);
    };
    // Tops the pool back up to poolSize after an outage (generic-pool only does so at start and
    // after a destroy); background work, so unref'd, and cleared by close().
    this.housekeeper = setInterval(() => {
      if (this.state === 'open' && this.conns.size + this.creator.queued < this.opts.poolSize) this.gp._ensureMinimum();
    }, this.housekeepingIntervalMs());
    this.housekeeper.unref();
    if (this.opts.leakDetectionMs > 0) {
      this.leakSweeper = setInterval(
        () => this.sweepLeaks(),
        Math.max(5, Math.min(1000, Math.floor(this.opts.leakDetectionMs / 4))),
      );
      this.leakSweeper.unref();
    }
  }

  // --- public API -------------------------------------------------------------------------------

  /** Runs one statement on a pooled connection. */
  query<R extends QueryResultRow = QueryResultRow>(
    text: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<R>> {
    return this.run<R>(undefined, text, params, options);
  }

  /** Borrows a connection for `fn` and gives it back afterwards (rolling back a transaction left open). */
  async withConnection<T>(
    fn: (connection: PoolConnection) => Promise<T> | T,
    options: AcquireOptions = {},
  ): Promise<T> {
    if (typeof fn !== 'function') throw new InvalidArgumentError('fn', 'withConnection(fn) needs a function');
    const stack = this.opts.leakDetectionMs > 0 ? captureStack(this.withConnection) : undefined;
    const conn = await this.acquire(options.signal, options.priority, stack);
    const borrowed = new BorrowedConnection(this, conn);
    try {
      return await fn(borrowed);
    } finally {
      borrowed.released = true;
      const rollingBack = this.giveBack(conn);
      if (rollingBack) await rollingBack;
    }
  }

  /** BEGIN … COMMIT around `fn`; ROLLBACK when it throws; retried on 40001/40P01 when `retries` > 0. */
  async transaction<T>(
    fn: (connection: PoolConnection) => Promise<T> | T,
    options: TransactionOptions = {},
  ): Promise<T> {
    if (typeof fn !== 'function') throw new InvalidArgumentError('fn', 'transaction(fn) needs a function');
    const retries = options.retries ?? 0;
    if (!Number.isInteger(retries) || retries < 0)
      throw new InvalidArgumentError('retries', `retries must be an integer >= 0, got ${String(retries)}`);
    const begin = beginStatement(options);
    const stack = this.opts.leakDetectionMs > 0 ? captureStack(this.transaction) : undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        const conn = await this.acquire(options.signal, options.priority, stack);
        const borrowed = new BorrowedConnection(this, conn);
        try {
          await this.runOn(conn, begin);
          let result: T;
          try {
            result = await fn(borrowed);
          } catch (err) {
            if (!conn.broken)
              await this.runOn(conn, 'ROLLBACK').catch(() => {
                conn.broken = conn.broken ?? new Error('rollback failed');
              });
            throw err;
          }
          await this.runOn(conn, 'COMMIT');
          return result;
        } finally {
          borrowed.released = true;
          const rollingBack = this.giveBack(conn);
          if (rollingBack) await rollingBack;
        }
      } catch (err) {
        if (
          attempt < retries &&
          err instanceof QueryError &&
          err.sqlState !== undefined &&
          RETRYABLE.has(err.sqlState)
        ) {
          // Short jittered pause so the conflicting transactions do not collide again at once.
          await new Promise((r) => setTimeout(r, Math.round((5 + Math.random() * 20) * (attempt + 1))));
          continue;
        }
        throw err;
      }
    }
  }

  stats(): PoolStats {
    const lastError = this.creator.failing ? this.scrub(messageOf(this.creator.lastError)) : undefined;
    return {
      name: this.name,
      state: this.state,
      server: this.serverLabel,
      poolSize: this.opts.poolSize,
      maxOverflow: this.opts.maxOverflow,
      max: this.opts.poolSize + this.opts.maxOverflow,
      total: this.conns.size,
      idle: this.gp.available,
      active: this.gp.borrowed,
      pending: this.gp.pending,
      creating: this.creator.creating + this.creator.queued,
      ...this.counts,
      connectAttempts: this.creator.attempts,
      ...(lastError === undefined ? {} : { lastConnectError: lastError }),
    };
  }

  /** Per-connection detail (ages, idle times, when each retires), e.g. for a debug endpoint. */
  connections(): ConnectionInfo[] {
    const now = Date.now();
    return [...this.conns].map((c) => ({
      id: c.id,
      inUse: c.inUse,
      ageMs: now - c.createdAt,
      idleMs: c.inUse ? 0 : now - c.lastUsedAt,
      retiresInMs: Number.isFinite(c.retireAt) ? Math.max(0, c.retireAt - now) : undefined,
      lifetimeMs: Number.isFinite(c.retireAt) ? c.retireAt - c.createdAt : undefined,
      broken: c.broken !== undefined,
    }));
  }

  /** One round trip through the pool, bounded by `timeoutMs` (default 2000). */
  async healthCheck(timeoutMs = 2000): Promise<HealthResult> {
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1)
      throw new InvalidArgumentError(
        'timeoutMs',
        `healthCheck timeoutMs must be an integer >= 1, got ${String(timeoutMs)}`,
      );
    const started = performance.now();
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), timeoutMs);
    try {
      await this.query('SELECT 1', undefined, { signal: ac.signal, timeoutMs });
      return { healthy: true, status: 'pass', latencyMs: performance.now() - started, stats: this.stats() };
    } catch (err) {
      const message =
        err instanceof QueryAbortedError ? `no answer within ${timeoutMs} ms` : this.scrub(messageOf(err));
      return { healthy: false, status: 'fail', latencyMs: performance.now() - started, message, stats: this.stats() };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Stops taking work, lets borrowed connections come back (up to `timeoutMs`, then closes them),
   * fails whoever still waits with PoolClosedError, and closes every connection. Idempotent.
   */
  drain(options: DrainOptions = {}): Promise<DrainResult> {
    if (this.drainPromise) return this.drainPromise;
    const timeoutMs = options.timeoutMs ?? 30_000;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 0)
      return Promise.reject(
        new InvalidArgumentError('timeoutMs', `drain timeoutMs must be an integer >= 0, got ${String(timeoutMs)}`),
      );
    this.state = 'draining';
    this.drainPromise = this.doDrain(timeoutMs);
    return this.drainPromise;
  }

  /** drain() with a 5 s bound. Idempotent; lets the process exit. */
  async close(): Promise<void> {
    await this.drain({ timeoutMs: 5000 });
  }

  // --- acquisition ------------------------------------------------------------------------------

  /** A checked connection for the caller (withConnection, transaction). */
  private acquire(
    signal: AbortSignal | undefined,
    priority: number | undefined,
    holder: Holder | undefined,
  ): Promise<Conn> {
    return new Promise<Conn>((resolve, reject) =>
      this.acquireThen(signal, priority, holder, performance.now(), resolve, reject),
    );
  }

  /**
   * A checked connection to `onConn`, or a typed error to `onError`. Callbacks rather than a
   * promise so query() pays for no promise of its own between generic-pool's and its result.
   */
  private acquireThen(
    signal: AbortSignal | undefined,
    priority: number | undefined,
    holder: Holder | undefined,
    started: number,
    onConn: (conn: Conn) => void,
    onError: (err: Error) => void,
  ): void {
    if (this.state !== 'open') return onError(new PoolClosedError());
    if (signal?.aborted) return onError(new QueryAbortedError(signal.reason));
    if (this.gp.pending >= this.opts.maxWaiting && this.gp.available === 0 && this.gp.spareResourceCapacity < 1) {
      return onError(
        new PoolExhaustedError(
          `pool ${this.name} has ${this.gp.pending} callers waiting (maxWaiting ${this.opts.maxWaiting}); ${this.countsText()}`,
        ),
      );
    }
    this.borrow(new Borrow(signal, priority, holder, started), onConn, onError);
  }

  private borrow(b: Borrow, onConn: (conn: Conn) => void, onError: (err: Error) => void): void {
    // After a replacement the wait is bounded by what is left of acquireTimeoutMs.
    const waiting =
      b.signal || b.replaced > 0
        ? this.acquireBounded(b.priority, b.signal, b.replaced > 0 ? b.started + this.opts.acquireTimeoutMs : undefined)
        : this.waitFor(b.priority);
    waiting.then(
      (conn) => this.check(conn, b, onConn, onError),
      (err: unknown) => onError(this.acquireError(err)),
    );
  }

  /** What a connection needs before the caller gets it: nothing (almost always), a round trip, or a replacement. */
  private check(conn: Conn, b: Borrow, onConn: (conn: Conn) => void, onError: (err: Error) => void): void {
    const check = this.borrowCheck(conn);
    if (check === Check.Ok) return onConn(this.lend(conn, b));
    if (check === Check.Replace) return this.replace(conn, b, onConn, onError);
    // The round trip is bounded by what is left of the acquire timeout, too.
    const left = Math.floor(b.started + this.opts.acquireTimeoutMs - performance.now());
    void this.ping(conn, Math.max(1, Math.min(this.opts.validationTimeoutMs, left))).then((ok) =>
      ok ? onConn(this.lend(conn, b)) : this.replace(conn, b, onConn, onError),
    );
  }

  /** Broken, past its lifetime, or failed validation: destroyed and replaced before the caller sees it. */
  private replace(conn: Conn, b: Borrow, onConn: (conn: Conn) => void, onError: (err: Error) => void): void {
    void this.gp.destroy(conn);
    b.replaced++;
    this.borrow(b, onConn, onError);
  }

  private lend(conn: Conn, b: Borrow): Conn {
    conn.inUse = true;
    const now = performance.now();
    this.instruments.acquired((now - b.started) / 1000);
    if (b.holder) {
      conn.holder = b.holder;
      conn.borrowedAt = now;
      conn.leakReported = false;
    }
    this.updateGauges();
    return conn;
  }

  /**
   * gp.acquire() with the acquire timeout on generic-pool's request only when it has to wait
   * (an idle connection is handed over synchronously inside acquire()).
   */
  private waitFor(priority: number | undefined): Promise<Conn> {
    const pending = this.gp.acquire(priority);
    const request = this.lastRequest;
    this.lastRequest = undefined;
    if (request && request.state === 'PENDING') this.waitDeadlines.add(request);
    return pending;
  }

  /** gp.acquire() that also ends at an AbortSignal or a deadline; a connection that arrives late goes back. */
  private acquireBounded(
    priority: number | undefined,
    signal: AbortSignal | undefined,
    deadline: number | undefined,
  ): Promise<Conn> {
    return new Promise<Conn>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const settle = () => {
        settled = true;
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        if (settled) return;
        settle();
        reject(new QueryAbortedError(signal?.reason));
      };
      if (deadline !== undefined) {
        timer = setTimeout(
          () => {
            if (settled) return;
            settle();
            reject(new DeadlineError());
          },
          Math.max(0, deadline - performance.now()),
        );
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waitFor(priority).then(
        (conn) => {
          if (settled) {
            void this.gp.release(conn);
            return;
          } // the caller gave up meanwhile
          settle();
          resolve(conn);
        },
        (err: unknown) => {
          if (settled) return;
          settle();
          reject(err);
        },
      );
    });
  }

  private acquireError(err: unknown): Error {
    if (err instanceof DbPoolError) return err;
    if (err instanceof Error && err.name === 'TimeoutError') {
      this.counts.acquireTimeouts++;
      this.instruments.acquireTimeout();
      const cause = this.creator.failing ? this.creator.lastError : undefined;
      const why = cause === undefined ? '' : `; last connection error: ${this.scrub(messageOf(cause))}`;
      return new PoolTimeoutError(
        `no connection available within ${this.opts.acquireTimeoutMs} ms from pool ${this.name} (${this.countsText()})${why}`,
        this.opts.acquireTimeoutMs,
        cause,
      );
    }
    if (this.state !== 'open') return new PoolClosedError();
    return new PoolClosedError(`pool ${this.name} could not hand out a connection: ${this.scrub(messageOf(err))}`);
  }

  private countsText(): string {
    return `total=${this.conns.size} idle=${this.gp.available} active=${this.gp.borrowed} waiting=${this.gp.pending} max=${this.opts.poolSize + this.opts.maxOverflow}`;
  }

  /**
   * Leak detection runs as one sweep every leakDetectionMs / 4 rather than a timer per borrow
   * (that cost more than the rest of a query's pool work); a report comes at most 25 % late.
   */
  private sweepLeaks(): void {
    const ms = this.opts.leakDetectionMs;
    const now = performance.now();
    for (const conn of this.conns) {
      const holder = conn.holder;
      if (!conn.inUse || holder === undefined || conn.leakReported || now - conn.borrowedAt <= ms) continue;
      conn.leakReported = true;
      this.counts.leaks++;
      this.instruments.leak();
      if (typeof holder === 'string') {
        this.logger.warn(
          `db-pool ${this.name}: connection ${conn.id} has been held for more than ${ms} ms by query(): ${holder}`,
          {
            pool: this.name,
            connectionId: conn.id,
            leakDetectionMs: ms,
            statement: holder,
          },
        );
        continue;
      }
      const where = (holder.stack ?? '').split('\n').slice(1).join('\n');
      this.logger.warn(
        `db-pool ${this.name}: connection ${conn.id} has been held for more than ${ms} ms (possible leak); acquired at:\n${where}`,
        {
          pool: this.name,
          connectionId: conn.id,
          leakDetectionMs: ms,
          stack: where,
        },
      );
    }
  }

  /** Back to the pool, or destroyed when broken, past its lifetime, or the pool is closing. */
  private release(conn: Conn): void {
    conn.holder = undefined;
    conn.inUse = false;
    const now = Date.now();
    conn.lastUsedAt = now;
    if (conn.broken || now >= conn.retireAt || this.state === 'closed') {
      void this.gp.destroy(conn);
    } else if (!this.handOver(conn)) {
      void this.gp.release(conn);
    }
    this.updateGauges();
  }

  /**
   * A released connection goes straight to the next waiter (in priority order), still on the same
   * generic-pool loan: what gp.release() would do, without closing one loan and opening another
   * (a promise and four clock reads) per hand-over. The waiter checks it as any borrow does.
   */
  private handOver(conn: Conn): boolean {
    const waiting = this.gp._waitingClientsQueue;
    if (waiting.length === 0) return false;
    for (let request = waiting.dequeue(); request; request = waiting.dequeue()) {
      if (request.state !== 'PENDING') continue; // timed out or failed meanwhile
      request.resolve(conn);
      return true;
    }
    return false;
  }

  /**
   * release() after user code: a transaction left open is rolled back first (as HikariCP does).
   * Returns a promise only in that rare case, so the common path costs no extra promise.
   */
  private giveBack(conn: Conn): Promise<void> | undefined {
    const tx = conn.broken ? 'I' : conn.client.getTransactionStatus();
    if (tx !== 'T' && tx !== 'E') {
      this.release(conn);
      return undefined;
    }
    this.logger.warn(`db-pool ${this.name}: connection ${conn.id} came back inside a transaction; rolling it back`, {
      pool: this.name,
      connectionId: conn.id,
    });
    return this.execute(conn, 'ROLLBACK', undefined, this.opts.validationTimeoutMs, undefined).then(
      () => this.release(conn),
      (err: unknown) => {
        conn.broken = conn.broken ?? err;
        this.release(conn);
      },
    );
  }

  // --- execution --------------------------------------------------------------------------------

  /** Runs `text` on `conn` (already borrowed), instrumented. Used by borrowed connections. */
  runOn<R extends QueryResultRow>(
    conn: Conn,
    text: string,
    params?: readonly unknown[],
    options?: Omit<QueryOptions, 'priority'>,
  ): Promise<QueryResult<R>> {
    return this.run<R>(conn, text, params, options);
  }

  /**
   * One instrumented statement, on `conn` or on a connection of its own (query()). Built on pg's
   * callback API rather than async/await: fewer promises per query, and a connection of its own
   * goes back to the pool before the caller resumes, so the next waiter's statement is sent first
   * (as pg.Pool does).
   */
  private run<R extends QueryResultRow>(
    conn: Conn | undefined,
    text: string,
    params: readonly unknown[] | undefined,
    options: QueryOptions | undefined,
  ): Promise<QueryResult<R>> {
    if (typeof text !== 'string' || text.trim() === '')
      return Promise.reject(new InvalidArgumentError('text', 'query text must be a non-empty string'));
    if (params !== undefined && params !== null && !Array.isArray(params))
      return Promise.reject(new InvalidArgumentError('params', 'query params must be an array (or omitted)'));
    const timeoutMs = options?.timeoutMs ?? this.opts.queryTimeoutMs;
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0)
      return Promise.reject(
        new InvalidArgumentError('timeoutMs', `timeoutMs must be a number >= 0, got ${String(options?.timeoutMs)}`),
      );
    const info = statementInfo(text);
    const span = tracer.startSpan(info.spanName, SPAN_OPTIONS);
    if (span.isRecording()) {
      span.setAttributes(this.spanAttributes);
      span.setAttribute('db.operation.name', info.operation);
      span.setAttribute('db.query.text', info.sanitized);
      if (info.collection) span.setAttribute('db.collection.name', info.collection);
    }
    const started = performance.now();
    const signal = options?.signal;
    return new Promise<QueryResult<R>>((resolve, reject) => {
      const done = (err: unknown, result: QueryResult<R> | undefined) => {
        this.instruments.query(info.operation, (performance.now() - started) / 1000);
        if (err === undefined) {
          span.end();
          resolve(result as QueryResult<R>);
        } else {
          endWithError(span, err);
          reject(err);
        }
      };
      if (conn) {
        this.send<R>(conn, text, params, timeoutMs, signal, false, done);
        return;
      }
      // query() gives its connection back itself, so it cannot leak one; a connection held too long
      // there is a slow statement, reported with its (sanitized) text instead of a captured stack,
      // which would cost more than the rest of the pool's work per query.
      this.acquireThen(
        signal,
        options?.priority,
        this.opts.leakDetectionMs > 0 ? info.sanitized : undefined,
        started,
        (own) => this.send<R>(own, text, params, timeoutMs, signal, true, done),
        (err) => done(err, undefined),
      );
    });
  }

  /** Sends the statement; `done` gets a typed error or the result, after `release` gave the connection back. */
  private send<R extends QueryResultRow>(
    conn: Conn,
    text: string,
    params: readonly unknown[] | undefined,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    release: boolean,
    done: (err: unknown, result: QueryResult<R> | undefined) => void,
  ): void {
    if (signal) {
      this.execute<R>(conn, text, params, timeoutMs, signal).then(
        (result) => {
          if (release) this.release(conn);
          done(undefined, result);
        },
        (err: unknown) => {
          if (release) this.release(conn);
          done(err, undefined);
        },
      );
      return;
    }
    if (timeoutMs) this.startDeadline(conn, timeoutMs);
    const callback = (err: Error | null | undefined, result: QueryResult<R>) => {
      if (timeoutMs) conn.queryDeadline = 0;
      const failure = err
        ? conn.broken instanceof QueryTimeoutError
          ? conn.broken
          : this.queryError(conn, err)
        : undefined;
      if (release) this.release(conn);
      done(failure, failure === undefined ? result : undefined);
    };
    try {
      conn.client.query<R>(text, (params ?? NO_PARAMS) as unknown[], callback);
    } catch (err) {
      callback(err instanceof Error ? err : new Error(String(err)), undefined as unknown as QueryResult<R>);
    }
  }

  /**
   * Client-side timeout without a timer or promise per query: the connection's one timer checks
   * the deadline when it fires and closes the socket when it has passed, which makes pg fail the
   * query at once; the timeout error then replaces pg's.
   */
  private startDeadline(conn: Conn, timeoutMs: number): void {
    const deadline = performance.now() + timeoutMs;
    conn.queryDeadline = deadline;
    conn.queryTimeoutMs = timeoutMs;
    if (!conn.queryTimer || deadline < conn.queryTimerDue) this.armQueryTimer(conn, timeoutMs);
  }

  private execute<R extends QueryResultRow>(
    conn: Conn,
    text: string,
    params: readonly unknown[] | undefined,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<QueryResult<R>> {
    const pending = conn.client.query<R>(text, params as unknown[] | undefined);
    if (!signal) {
      if (!timeoutMs)
        return pending.catch((err: unknown) => {
          throw this.queryError(conn, err);
        });
      this.startDeadline(conn, timeoutMs);
      return pending.then(
        (result) => {
          conn.queryDeadline = 0;
          return result;
        },
        (err: unknown) => {
          conn.queryDeadline = 0;
          throw conn.broken instanceof QueryTimeoutError ? conn.broken : this.queryError(conn, err);
        },
      );
    }
    return new Promise<QueryResult<R>>((resolve, reject) => {
      let done = false;
      const finish = () => {
        done = true;
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      // The query may still run on the server and the protocol state is unknown: discard the connection.
      const giveUp = (reason: DestroyReason, err: Error) => {
        if (done) return;
        finish();
        this.abandon(conn, reason, err);
        reject(err);
      };
      const onAbort = () => giveUp('aborted', new QueryAbortedError(signal?.reason));
      const timer = timeoutMs
        ? setTimeout(() => giveUp('query_timeout', new QueryTimeoutError(timeoutMs)), timeoutMs)
        : undefined;
      if (signal) {
        if (signal.aborted) {
          onAbort();
          return;
        }
        signal.addEventListener('abort', onAbort, { once: true });
      }
      pending.then(
        (result) => {
          if (done) return;
          finish();
          resolve(result);
        },
        (err: unknown) => {
          if (done) return;
          finish();
          reject(this.queryError(conn, err));
        },
      );
    });
  }

  private armQueryTimer(conn: Conn, ms: number): void {
    if (conn.queryTimer) clearTimeout(conn.queryTimer);
    conn.queryTimerDue = performance.now() + ms;
    conn.queryTimer = setTimeout(DbPool.queryTimerFired, Math.max(1, Math.ceil(ms)), this, conn);
    conn.queryTimer.unref(); // the query's socket keeps the process alive while it runs
  }

  private static queryTimerFired(pool: DbPool, conn: Conn): void {
    conn.queryTimer = undefined;
    if (conn.queryDeadline === 0 || conn.destroyed) return; // idle now: re-armed by the next query
    const left = conn.queryDeadline - performance.now();
    if (left > 0) pool.armQueryTimer(conn, left);
    else pool.abandon(conn, 'query_timeout', new QueryTimeoutError(conn.queryTimeoutMs));
  }

  /** Gives up on the query running on `conn`: the server is asked to cancel it and the connection is discarded. */
  private abandon(conn: Conn, reason: DestroyReason, err: Error): void {
    if (conn.broken !== undefined) return;
    conn.broken = err;
    this.cancelOnServer(conn);
    conn.forceClose();
    this.instruments.error(reason);
  }

  private cancelOnServer(conn: Conn): void {
    const c = conn.client as unknown as {
      processID: number | null;
      secretKey: number | null;
      host: string;
      port: number;
    };
    if (typeof c.processID !== 'number' || typeof c.secretKey !== 'number') return;
    sendCancel(
      { host: c.host, port: c.port, processID: c.processID, secretKey: c.secretKey },
      this.opts.destroyTimeoutMs,
      this.cancels,
    );
  }

  /** Typed error for a failed query; a broken connection is marked so it is never reused. */
  private queryError(conn: Conn, err: unknown): Error {
    if (err instanceof DbPoolError) return err;
    if (err instanceof pg.DatabaseError && typeof err.code === 'string') {
      this.instruments.error(err.code.slice(0, 2));
      if (FATAL_STATES.has(err.code)) {
        this.markBroken(conn, err);
        return new ConnectionLostError(
          `connection ${conn.id} to ${this.serverLabel} was closed by the server (${err.code}): ${err.message}`,
          err,
        );
      }
      return new QueryError(this.scrub(err.message), err.code, err, { severity: err.severity, detail: err.detail });
    }
    const clientState = conn.client as unknown as { _queryable?: boolean; _ending?: boolean };
    if (
      conn.broken ||
      clientState._queryable === false ||
      /terminated|ECONNRESET|EPIPE|not queryable|Connection closed/i.test(messageOf(err))
    ) {
      this.markBroken(conn, err);
      this.instruments.error('connection_lost');
      return new ConnectionLostError(
        `connection ${conn.id} to ${this.serverLabel} was lost during the query: ${this.scrub(messageOf(err))}`,
        err,
      );
    }
    this.instruments.error('client');
    return new QueryError(this.scrub(messageOf(err)), undefined, err);
  }

  // --- connection lifecycle ---------------------------------------------------------------------

  private async openConnection(): Promise<Conn> {
    const { config, connectionString } = this.opts;
    const client = new pg.Client({
      ...config,
      ...(connectionString === undefined ? {} : { connectionString }),
      application_name: this.opts.applicationName,
      connectionTimeoutMillis: this.opts.connectTimeoutMs,
      keepAlive: true,
      ...(this.opts.statementTimeoutMs > 0 ? { statement_timeout: this.opts.statementTimeoutMs } : {}),
    });
    const id = this.nextId++;
    const now = Date.now();
    const lifetime = this.opts.maxLifetimeMs;
    // Up to 2.5 % shorter than maxLifetimeMs (as HikariCP) so connections do not all retire together.
    const retireAt =
      lifetime > 0 ? now + lifetime - Math.floor(Math.random() * lifetime * 0.025) : Number.POSITIVE_INFINITY;
    const conn = new Conn(id, client, now, retireAt);
    // Always listening: an error on an idle client must never become an uncaught exception.
    client.on('error', (err: Error) => this.onClientError(conn, err));
    client.on('end', () => {
      if (!conn.destroyed) this.markBroken(conn, new Error('connection ended by the server'));
    });
    this.connecting.add(client);
    try {
      await client.connect();
    } catch (err) {
      conn.destroyed = true;
      throw new ConnectError(`could not connect to ${this.serverLabel}: ${this.scrub(messageOf(err))}`, err);
    } finally {
      this.connecting.delete(client);
    }
    if (this.state === 'closed') {
      conn.destroyed = true;
      conn.forceClose();
      throw new PoolClosedError();
    }
    this.conns.add(conn);
    this.counts.created++;
    this.instruments.created();
    this.updateGauges();
    return conn;
  }

  private onClientError(conn: Conn, err: Error): void {
    if (conn.destroyed) return;
    const wasBroken = conn.broken !== undefined;
    this.markBroken(conn, err);
    if (!conn.inUse && !wasBroken) {
      this.counts.idleErrors++;
      this.instruments.error('idle_connection');
      this.logger.warn(
        `db-pool ${this.name}: idle connection ${conn.id} to ${this.serverLabel} failed and will be replaced: ${this.scrub(err.message)}`,
        { pool: this.name, connectionId: conn.id },
      );
    }
  }

  private markBroken(conn: Conn, err: unknown): void {
    if (conn.broken === undefined) conn.broken = err;
    this.lastDisconnectAt = Date.now();
  }

  /** HikariCP's rule: a round trip only after an idle window, or when a disconnect was seen since the last check. */
  private borrowCheck(conn: Conn): Check {
    if (conn.broken !== undefined) return Check.Replace;
    const now = Date.now();
    if (now >= conn.retireAt) return Check.Replace;
    if (now - conn.lastUsedAt > this.opts.validateAfterIdleMs || conn.lastValidatedAt < this.lastDisconnectAt)
      return Check.Ping;
    return Check.Ok;
  }

  /** A lightweight round trip (an empty statement) bounded by validationTimeoutMs. */
  private async ping(conn: Conn, timeoutMs = this.opts.validationTimeoutMs): Promise<boolean> {
    conn.pinging = true;
    this.counts.validations++;
    try {
      await this.execute(conn, '', undefined, timeoutMs, undefined);
      conn.lastValidatedAt = Date.now();
      this.instruments.validated(true);
      return true;
    } catch (err) {
      this.counts.validationFailures++;
      this.instruments.validated(false);
      this.markBroken(conn, err);
      return false;
    } finally {
      conn.pinging = false;
    }
  }

  /** Evictor hook, called for idle connections on every housekeeping run. */
  private shouldEvict(conn: Conn): boolean {
    if (conn.broken !== undefined) return true;
    const now = Date.now();
    if (now >= conn.retireAt) return true;
    if (now - conn.lastUsedAt > this.opts.idleTimeoutMs && this.conns.size > this.opts.poolSize) return true;
    const keepalive = this.opts.keepaliveMs;
    if (keepalive > 0 && !conn.pinging && now - Math.max(conn.lastUsedAt, conn.lastValidatedAt) >= keepalive)
      void this.ping(conn);
    return false;
  }

  private destroyReason(conn: Conn): DestroyReason {
    if (this.state === 'closed' || this.state === 'draining') return conn.broken ? 'broken' : 'closed';
    if (conn.broken instanceof QueryTimeoutError) return 'query_timeout';
    if (conn.broken instanceof QueryAbortedError) return 'aborted';
    if (conn.broken !== undefined) return 'broken';
    if (Date.now() >= conn.retireAt) return 'max_lifetime';
    return 'idle';
  }

  /** factory.destroy: a graceful end, bounded by destroyTimeoutMs, then the socket is destroyed. */
  private async destroyConnection(conn: Conn): Promise<void> {
    if (conn.destroyed) return;
    const reason = this.destroyReason(conn);
    conn.destroyed = true;
    if (conn.queryTimer) clearTimeout(conn.queryTimer);
    this.conns.delete(conn);
    this.counts.destroyed++;
    if (reason === 'max_lifetime' || reason === 'idle') this.counts.recycled++;
    this.instruments.destroyed(reason);
    this.updateGauges();
    let timer: NodeJS.Timeout | undefined;
    try {
      if (conn.broken !== undefined) {
        conn.forceClose();
        return;
      }
      await Promise.race([
        conn.client.end(),
        new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            conn.forceClose();
            resolve();
          }, this.opts.destroyTimeoutMs);
        }),
      ]);
    } catch {
      conn.forceClose();
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  private async doDrain(timeoutMs: number): Promise<DrainResult> {
    let timer: NodeJS.Timeout | undefined;
    const returned = this.gp.drain().then(() => true);
    const inTime = await Promise.race([
      returned,
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    if (timer) clearTimeout(timer);
    this.state = 'closed';
    clearInterval(this.housekeeper);
    if (this.leakSweeper) clearInterval(this.leakSweeper);
    this.gp._descheduleEvictorRun();
    this.creator.close();
    for (const client of this.connecting) client.connection.stream.destroy();
    for (let waiter = this.gp._waitingClientsQueue.dequeue(); waiter; waiter = this.gp._waitingClientsQueue.dequeue())
      waiter.reject(new PoolClosedError());
    this.waitDeadlines.clear();
    let forced = 0;
    if (!inTime) {
      // Borrowed connections that did not come back: cancel what they run and close them; their
      // callers get ConnectionLostError.
      for (const conn of this.conns) {
        if (!conn.inUse) continue;
        forced++;
        this.markBroken(conn, new PoolClosedError('the pool was closed while this connection was borrowed'));
        this.cancelOnServer(conn);
        conn.forceClose();
      }
    }
    await this.gp.clear();
    // Anything left (borrowed connections closed above) is closed here without waiting on callers.
    await Promise.all([...this.conns].map((c) => this.destroyConnection(c)));
    await this.settleCancels();
    this.updateGauges();
    return { drained: inTime, forced };
  }

  /** Gives cancel requests in flight a moment to reach the server, then closes their sockets. */
  private async settleCancels(): Promise<void> {
    if (this.cancels.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...this.cancels].map((socket) => new Promise((resolve) => socket.once('close', resolve)))),
      new Promise((resolve) => {
        timer = setTimeout(resolve, this.opts.destroyTimeoutMs);
      }),
    ]);
    if (timer) clearTimeout(timer);
    for (const socket of this.cancels) socket.destroy();
  }

  private housekeepingIntervalMs(): number {
    const o = this.opts;
    const candidates = [o.idleTimeoutMs, 30_000];
    if (o.maxLifetimeMs > 0) candidates.push(Math.max(1, Math.floor(o.maxLifetimeMs * 0.025)));
    if (o.keepaliveMs > 0) candidates.push(o.keepaliveMs);
    return Math.max(25, Math.floor(Math.min(...candidates) / 2));
  }

  private updateGauges(): void {
    if (!this.metered) return;
    this.instruments.gauges({
      total: this.conns.size,
      idle: this.gp.available,
      active: this.gp.borrowed,
      pending: this.gp.pending,
    });
  }

  /** Removes known secrets (the password) from any text leaving the pool. */
  private scrub(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('***');
    return out;
  }

  /** util.inspect / console.log of a pool never shows its configuration (it holds the password). */
  [inspect.custom](): string {
    return `DbPool { name: ${JSON.stringify(this.name)}, server: ${JSON.stringify(this.serverLabel)}, state: ${this.state} }`;
  }

  toJSON(): PoolStats {
    return this.stats();
  }
}

function beginStatement(options: TransactionOptions): string {
  let sql = 'BEGIN';
  if (options.isolationLevel !== undefined) {
    const level = String(options.isolationLevel).toLowerCase();
    if (!['read uncommitted', 'read committed', 'repeatable read', 'serializable'].includes(level)) {
      throw new InvalidArgumentError(
        'isolationLevel',
        `isolationLevel must be one of "read uncommitted", "read committed", "repeatable read", "serializable"; got ${JSON.stringify(options.isolationLevel)}`,
      );
    }
    sql += ` ISOLATION LEVEL ${level.toUpperCase()}`;
  }
  if (options.readOnly !== undefined) sql += options.readOnly ? ' READ ONLY' : ' READ WRITE';
  return sql;
}

function endWithError(span: Span, err: unknown): void {
  if (span.isRecording()) {
    const type = err instanceof QueryError && err.sqlState ? err.sqlState : err instanceof Error ? err.name : 'Error';
    span.setAttribute('error.type', type);
    if (err instanceof QueryError && err.sqlState) span.setAttribute('db.response.status_code', err.sqlState);
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  }
  span.end();
}

function collectSecrets(opts: ResolvedPoolOptions): string[] {
  const secrets: string[] = [];
  if (typeof opts.config.password === 'string' && opts.config.password.length >= 3) secrets.push(opts.config.password);
  if (opts.connectionString) {
    try {
      const u = new URL(opts.connectionString);
      if (u.password.length >= 3) secrets.push(u.password, decodeURIComponent(u.password));
    } catch {
      const m = /password\s*=\s*(\S+)/i.exec(opts.connectionString);
      if (m && m[1].length >= 3) secrets.push(m[1]);
    }
  }
  return [...new Set(secrets)];
}

// Without a logger, warnings (leaks, outages, idle errors) still reach people as process warnings.
const processWarningLogger: PoolLogger = {
  warn: (message) => process.emitWarning(message, { type: 'PeriscopeDbPoolWarning' }),
  error: (message) => process.emitWarning(message, { type: 'PeriscopeDbPoolWarning' }),
};

/** Creates a pool; connections up to poolSize are opened in the background right away. */
export function createPool(options: PoolOptions): DbPool {
  return new DbPool(options);
}
