// The pool: generic-pool keeps the books (waiter queue with priorities, idle list, eviction runs,
// drain); the parts in this folder supply HikariCP's discipline on top: one-at-a-time connection
// creation with backoff (creator.ts), validation only after an idle window and replacement of
// broken connections (acquire.ts, connections.ts), max lifetime with jitter, leak detection,
// client-side timeouts with libpq-style cancels (statements.ts), session reset on return, spans
// and metrics. This file wires them and holds the public API.
import { performance } from 'node:perf_hooks';
import { inspect } from 'node:util';
import type { QueryResult, QueryResultRow } from 'pg';
import { Acquirer } from './acquire';
import { describeServer, resolveOptions, type PoolOptions } from './config';
import { BorrowedConnection, captureStack, messageOf, type Conn } from './conn';
import { Connections, PERMANENT_CONNECT_STATES } from './connections';
import { PoolContext } from './context';
import { ConnectionCreator } from './creator';
import { ConnectError, InvalidArgumentError, PoolClosedError, QueryAbortedError, QueryError } from './errors';
import { createInstruments } from './instrumentation';
import { createGenericPool } from './internals';
import { Statements } from './statements';
import type {
  AcquireOptions,
  ConnectionInfo,
  DrainOptions,
  DrainResult,
  HealthResult,
  PoolConnection,
  PoolStats,
  QueryOptions,
  TransactionOptions,
} from './types';

const RETRYABLE = new Set(['40001', '40P01']);
const ISOLATION_LEVELS = ['read uncommitted', 'read committed', 'repeatable read', 'serializable'];

export class DbPool {
  readonly name: string;
  private readonly ctx: PoolContext;
  private readonly creator: ConnectionCreator<Conn>;
  private readonly lifecycle: Connections;
  private readonly acquirer: Acquirer;
  private readonly statements: Statements;
  private readonly housekeeper: NodeJS.Timeout;
  private readonly leakSweeper: NodeJS.Timeout | undefined;
  private readonly runOn = <R extends QueryResultRow>(
    conn: Conn,
    text: string,
    params?: readonly unknown[],
    options?: Omit<QueryOptions, 'priority'>,
  ) => this.statements.run<R>(conn, text, params, options);
  private drainPromise: Promise<DrainResult> | undefined;

  constructor(options: PoolOptions) {
    const opts = resolveOptions(options);
    this.name = opts.name;
    const ctx = new PoolContext(
      opts,
      createInstruments(options.metrics, opts.name),
      options.metrics !== undefined,
      describeServer(opts.connectionString, opts.config),
    );
    this.ctx = ctx;
    this.lifecycle = new Connections(ctx);
    this.creator = this.createCreator();
    this.acquirer = new Acquirer(ctx, this.lifecycle, this.creator);
    this.statements = new Statements(ctx, this.lifecycle, this.acquirer);
    this.acquirer.statements = this.statements;
    this.lifecycle.ping = (conn, timeoutMs) => this.acquirer.ping(conn, timeoutMs);
    const max = opts.poolSize + opts.maxOverflow;
    ctx.access = createGenericPool<Conn>(
      { create: () => this.creator.create(), destroy: (conn) => this.lifecycle.destroy(conn) },
      (conn) => this.lifecycle.shouldEvict(conn),
      {
        min: opts.poolSize,
        max,
        // No acquireTimeoutMillis: generic-pool would start a timer for every acquire; the
        // acquirer gives a caller that really has to wait a deadline on the pool's one wait timer.
        // Validation on borrow is the acquirer's too (no promise round per borrow).
        testOnBorrow: false,
        // LIFO: hot connections are reused, so overflow ones go idle and close.
        fifo: false,
        priorityRange: opts.priorityLevels,
        evictionRunIntervalMillis: this.housekeepingIntervalMs(),
        numTestsPerEvictionRun: max,
        autostart: true,
      },
    );
    // Creation requests only end in NotNeeded or PoolClosedError here: the creator keeps retrying
    // failed attempts itself (and counts them), so generic-pool never loops on them.
    ctx.access.gp.on('factoryCreateError', () => undefined);
    ctx.access.gp.on('factoryDestroyError', () => ctx.instruments.error('destroy'));
    // Tops the pool back up to poolSize after an outage; background work, so unref'd.
    this.housekeeper = setInterval(() => {
      if (ctx.state === 'open' && ctx.conns.size + this.creator.queued < opts.poolSize) ctx.access.ensureMinimum();
    }, this.housekeepingIntervalMs());
    this.housekeeper.unref();
    if (opts.leakDetectionMs > 0) {
      const every = Math.max(5, Math.min(1000, Math.floor(opts.leakDetectionMs / 4)));
      this.leakSweeper = setInterval(() => this.acquirer.sweepLeaks(), every);
      this.leakSweeper.unref();
    }
  }

  private createCreator(): ConnectionCreator<Conn> {
    const ctx = this.ctx;
    return new ConnectionCreator<Conn>({
      open: () => this.lifecycle.open(),
      // generic-pool asks for its first connections while it is being built: ctx.access is read last.
      needed: () =>
        ctx.state !== 'closed' &&
        ((ctx.state === 'open' && ctx.conns.size < ctx.opts.poolSize) ||
          ctx.access.gp.pending > ctx.access.gp.available),
      backoffMs: ctx.opts.connectBackoffMs,
      backoffMaxMs: ctx.opts.connectBackoffMaxMs,
      onAttemptFailed: (err, failures, delayMs) => {
        if (ctx.state === 'closed') return; // attempts cut short by close() are not outages
        ctx.instruments.error('connect');
        if (err instanceof ConnectError && err.sqlState && PERMANENT_CONNECT_STATES.has(err.sqlState))
          this.acquirer.failWaiters(err);
        // Log the first failure of an outage and then every tenth, not every attempt.
        if (failures === 1 || failures % 10 === 0) {
          ctx.logger.warn(
            `db-pool ${ctx.name}: cannot connect to ${ctx.serverLabel} (${failures} attempt(s)); retrying in ${delayMs} ms: ${ctx.scrub(messageOf(err))}`,
            { pool: ctx.name, failures },
          );
        }
      },
      onRecovered: (failures) => {
        this.acquirer.permanentError = undefined;
        ctx.logger.info(
          `db-pool ${ctx.name}: connected to ${ctx.serverLabel} again after ${failures} failed attempt(s)`,
          { pool: ctx.name },
        );
      },
      onOrphan: (conn) => void this.lifecycle.destroy(conn),
    });
  }

  /** Runs one statement on a pooled connection. */
  query<R extends QueryResultRow = QueryResultRow>(
    text: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<R>> {
    return this.statements.run<R>(undefined, text, params, options);
  }

  /**
   * Borrows a connection for `fn` and gives it back afterwards: a transaction left open is rolled
   * back, and a session that may have changed gets the reset query.
   */
  async withConnection<T>(
    fn: (connection: PoolConnection) => Promise<T> | T,
    options: AcquireOptions = {},
  ): Promise<T> {
    if (typeof fn !== 'function') throw new InvalidArgumentError('fn', 'withConnection(fn) needs a function');
    const stack = this.ctx.opts.leakDetectionMs > 0 ? captureStack(this.withConnection) : undefined;
    const conn = await this.acquirer.acquire(options.signal, options.priority, stack);
    const borrowed = new BorrowedConnection(this.runOn, conn);
    try {
      return await fn(borrowed);
    } finally {
      borrowed.released = true;
      const cleaning = this.acquirer.giveBack(conn, true);
      if (cleaning) await cleaning;
    }
  }

  /** BEGIN … COMMIT around `fn`; its own ROLLBACK when it throws; retried on 40001/40P01 when `retries` > 0. */
  async transaction<T>(
    fn: (connection: PoolConnection) => Promise<T> | T,
    options: TransactionOptions = {},
  ): Promise<T> {
    if (typeof fn !== 'function') throw new InvalidArgumentError('fn', 'transaction(fn) needs a function');
    const retries = options.retries ?? 0;
    if (!Number.isInteger(retries) || retries < 0)
      throw new InvalidArgumentError('retries', `retries must be an integer >= 0, got ${String(retries)}`);
    const begin = this.beginStatement(options);
    const stack = this.ctx.opts.leakDetectionMs > 0 ? captureStack(this.transaction) : undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.transactionOnce(fn, begin, options, stack);
      } catch (err) {
        const retry = attempt < retries && err instanceof QueryError && RETRYABLE.has(err.sqlState ?? '');
        if (!retry) throw err;
        // Short jittered pause so the conflicting transactions do not collide again at once.
        await new Promise((r) => setTimeout(r, Math.round((5 + Math.random() * 20) * (attempt + 1))));
      }
    }
  }

  private async transactionOnce<T>(
    fn: (connection: PoolConnection) => Promise<T> | T,
    begin: string,
    options: TransactionOptions,
    stack: ReturnType<typeof captureStack> | undefined,
  ): Promise<T> {
    const conn = await this.acquirer.acquire(options.signal, options.priority, stack);
    const borrowed = new BorrowedConnection(this.runOn, conn);
    try {
      await this.runOn(conn, begin);
      let result: T;
      try {
        result = await fn(borrowed);
      } catch (err) {
        if (!conn.broken)
          await this.runOn(conn, 'ROLLBACK').catch((rollbackErr: unknown) => this.ctx.markBroken(conn, rollbackErr));
        throw err;
      }
      await this.runOn(conn, 'COMMIT');
      return result;
    } finally {
      borrowed.released = true;
      const cleaning = this.acquirer.giveBack(conn, true);
      if (cleaning) await cleaning;
    }
  }

  /** BEGIN with the options; behind PgBouncer the statement timeout is set for this transaction only. */
  private beginStatement(options: TransactionOptions): string {
    let sql = 'BEGIN';
    if (options.isolationLevel !== undefined) {
      const level = String(options.isolationLevel).toLowerCase();
      if (!ISOLATION_LEVELS.includes(level)) {
        throw new InvalidArgumentError(
          'isolationLevel',
          `isolationLevel must be one of ${ISOLATION_LEVELS.map((l) => `"${l}"`).join(', ')}; got ${JSON.stringify(options.isolationLevel)}`,
        );
      }
      sql += ` ISOLATION LEVEL ${level.toUpperCase()}`;
    }
    if (options.readOnly !== undefined) sql += options.readOnly ? ' READ ONLY' : ' READ WRITE';
    const timeout = this.ctx.opts.statementTimeoutMs;
    if (this.lifecycle.pgbouncer && timeout > 0) sql += `; SET LOCAL statement_timeout = ${timeout}`;
    return sql;
  }

  stats(): PoolStats {
    const { ctx, creator } = this;
    const gp = ctx.access.gp;
    const lastError = creator.failing ? ctx.scrub(messageOf(creator.lastError)) : undefined;
    return {
      name: this.name,
      state: ctx.state,
      server: ctx.serverLabel,
      poolSize: ctx.opts.poolSize,
      maxOverflow: ctx.opts.maxOverflow,
      max: ctx.opts.poolSize + ctx.opts.maxOverflow,
      total: ctx.conns.size,
      idle: gp.available,
      active: gp.borrowed,
      pending: gp.pending,
      creating: creator.creating + creator.queued,
      ...ctx.counts,
      connectAttempts: creator.attempts,
      ...(lastError === undefined ? {} : { lastConnectError: lastError }),
    };
  }

  /** Per-connection detail (ages, idle times, when each retires), e.g. for a debug endpoint. */
  connections(): ConnectionInfo[] {
    const now = Date.now();
    return [...this.ctx.conns].map((c) => ({
      id: c.id,
      inUse: c.inUse,
      ageMs: now - c.createdAt,
      idleMs: c.inUse ? 0 : now - c.lastUsedAt,
      retiresInMs: Number.isFinite(c.retireAt) ? Math.max(0, c.retireAt - now) : undefined,
      lifetimeMs: Number.isFinite(c.retireAt) ? c.retireAt - c.createdAt : undefined,
      broken: c.broken !== undefined,
    }));
  }

  /** One round trip through the pool, bounded by `timeoutMs` (default 2000). Never throws for a failing database. */
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
        err instanceof QueryAbortedError ? `no answer within ${timeoutMs} ms` : this.ctx.scrub(messageOf(err));
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
    this.ctx.state = 'draining';
    this.drainPromise = this.doDrain(timeoutMs);
    return this.drainPromise;
  }

  /** drain() with a 5 s bound for borrowed connections. Idempotent; lets the process exit. */
  async close(): Promise<void> {
    await this.drain({ timeoutMs: 5000 });
  }

  private async doDrain(timeoutMs: number): Promise<DrainResult> {
    const { ctx } = this;
    const gp = ctx.access.gp;
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([
      gp.drain().then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    if (timer) clearTimeout(timer);
    ctx.state = 'closed';
    clearInterval(this.housekeeper);
    if (this.leakSweeper) clearInterval(this.leakSweeper);
    ctx.access.stopEvictor();
    this.creator.close();
    this.lifecycle.abortConnecting();
    ctx.access.rejectWaiters(new PoolClosedError());
    this.acquirer.close();
    let forced = 0;
    if (!inTime) {
      // Borrowed connections that did not come back: cancel what they run and close them; their
      // callers get ConnectionLostError.
      for (const conn of ctx.conns) {
        if (!conn.inUse) continue;
        forced++;
        ctx.markBroken(conn, new PoolClosedError('the pool was closed while this connection was borrowed'));
        void this.lifecycle.cancel(conn);
        conn.forceClose();
      }
    }
    await gp.clear();
    // Anything left (borrowed connections closed above) is closed here without waiting on callers.
    await Promise.all([...ctx.conns].map((c) => this.lifecycle.destroy(c)));
    await this.lifecycle.settleCancels();
    ctx.updateGauges();
    return { drained: inTime, forced };
  }

  private housekeepingIntervalMs(): number {
    const o = this.ctx.opts;
    const candidates = [o.idleTimeoutMs, 30_000];
    if (o.maxLifetimeMs > 0) candidates.push(Math.max(1, Math.floor(o.maxLifetimeMs * 0.025)));
    if (o.keepaliveMs > 0) candidates.push(o.keepaliveMs);
    return Math.max(25, Math.floor(Math.min(...candidates) / 2));
  }

  /** util.inspect / console.log of a pool never shows its configuration (it holds the password). */
  [inspect.custom](): string {
    return `DbPool { name: ${JSON.stringify(this.name)}, server: ${JSON.stringify(this.ctx.serverLabel)}, state: ${this.ctx.state} }`;
  }

  toJSON(): PoolStats {
    return this.stats();
  }
}

/** Creates a pool; connections up to poolSize are opened in the background right away. */
export function createPool(options: PoolOptions): DbPool {
  return new DbPool(options);
}
