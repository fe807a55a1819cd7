// Statement execution: the one path every statement takes (query(), a borrowed connection's
// query(), validation pings, rollbacks, session resets), with its span and metrics, the
// client-side deadline, the AbortSignal, the cancel request, and typed errors.
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { QueryResult, QueryResultRow } from 'pg';
import {
  context,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type SpanOptions,
} from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { Acquirer } from './acquire';
import { messageOf, type Conn, type Running } from './conn';
import type { Connections } from './connections';
import type { PoolContext } from './context';
import {
  ConnectionLostError,
  DbPoolError,
  InvalidArgumentError,
  QueryAbortedError,
  QueryError,
  QueryTimeoutError,
} from './errors';
import type { DestroyReason } from './instrumentation';
import { statementInfo } from './sql';
import type { QueryOptions } from './types';

// pg's callback signature needs a values array; never mutated (pg only maps non-empty ones).
const NO_PARAMS: unknown[] = [];
// SQLSTATEs after which the server closes the session: the connection is gone.
const FATAL_STATES = new Set(['57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004']);
/**
 * Statements that may leave session state behind (settings, prepared statements, LISTEN, cursors
 * WITH HOLD, temp tables, session advisory locks): the connection gets the reset query when it
 * comes back. A cheap superset; `SET LOCAL` and transaction-level locks end with the transaction.
 */
const SESSION_CHANGE =
  /^\s*(?:set(?!\s+local\b)|reset|prepare|listen|declare|load|create\s+(?:(?:global|local)\s+)?temp)|set_config|advisory_lock|temporary/i;
const tracer = trace.getTracer('@periscope/db-pool');

type Done<R extends QueryResultRow> = (err: Error | undefined, result: QueryResult<R> | undefined) => void;

/** One statement in flight on a connection; settled once (early on a timeout or an abort). */
class Statement<R extends QueryResultRow> implements Running {
  settled = false;
  /** pg has answered; it answers twice when a parameter cannot be serialized (the error, then ReadyForQuery). */
  private answered = false;
  cancelTimer: NodeJS.Timeout | undefined = undefined;
  constructor(
    private readonly runner: Statements,
    private readonly conn: Conn,
    private readonly timeoutMs: number,
    private readonly signal: AbortSignal | undefined,
    private readonly release: boolean,
    private readonly done: Done<R>,
  ) {}

  fail(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.done(err, undefined);
  }

  /** The abort listener, made only for a statement that has a signal. */
  onAbort: (() => void) | undefined = undefined;

  abort(): void {
    const err = new QueryAbortedError(this.signal?.reason);
    this.runner.abandon(this.conn, 'aborted', err);
    this.fail(err);
  }

  readonly callback = (err: Error | null | undefined, result: QueryResult<R>): void => {
    // A second answer must not give the connection back again: by then it may be another caller's.
    if (this.answered) return;
    this.answered = true;
    const conn = this.conn;
    if (this.timeoutMs) conn.queryDeadline = 0;
    if (conn.running === this) conn.running = undefined;
    if (this.onAbort) this.signal?.removeEventListener('abort', this.onAbort);
    if (this.cancelTimer) clearTimeout(this.cancelTimer);
    const failure =
      err && !this.settled
        ? conn.broken instanceof QueryTimeoutError
          ? conn.broken
          : this.runner.queryError(conn, err)
        : undefined;
    // query()'s own connection goes back before the caller resumes, so the next waiter's statement
    // is sent first (as pg.Pool does).
    if (this.release) void this.runner.acquirer.giveBack(conn, false);
    if (this.settled) return;
    // Stryker disable next-line BooleanLiteral: nothing can settle it later (abort listener and `running` are gone)
    this.settled = true;
    this.done(failure, failure === undefined ? result : undefined);
  };
}

export class Statements {
  /** Kind and the pool's fixed attributes, given at span start (samplers see db.system.name). */
  private readonly spanOptions: SpanOptions;
  /**
   * The span name of a statement without a summary: the conventions' `{target}`, here db.namespace
   * (the database), ahead of their last fallback `{db.system.name}`.
   */
  private readonly unsummarizedName: string;
  constructor(
    private readonly ctx: PoolContext,
    private readonly connections: Connections,
    readonly acquirer: Acquirer,
  ) {
    this.unsummarizedName = ctx.server.database || 'postgresql';
    this.spanOptions = {
      kind: SpanKind.CLIENT,
      attributes: {
        'db.system.name': 'postgresql',
        'db.namespace': ctx.server.database,
        'server.address': ctx.server.host,
        'server.port': ctx.server.port,
      },
    };
  }

  /**
   * One instrumented statement, on `conn` (borrowed) or on a connection of its own (query()).
   * Built on pg's callback API rather than async/await: fewer promises per query.
   */
  run<R extends QueryResultRow>(
    conn: Conn | undefined,
    text: string,
    params: readonly unknown[] | undefined,
    options: QueryOptions | undefined,
  ): Promise<QueryResult<R>> {
    if (typeof text !== 'string' || text.trim() === '')
      return Promise.reject(new InvalidArgumentError('text', 'query text must be a non-empty string'));
    if (params !== undefined && params !== null && !Array.isArray(params))
      return Promise.reject(new InvalidArgumentError('params', 'query params must be an array (or omitted)'));
    const timeoutMs = options?.timeoutMs ?? this.ctx.opts.queryTimeoutMs;
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0)
      return Promise.reject(
        new InvalidArgumentError('timeoutMs', `timeoutMs must be a number >= 0, got ${String(options?.timeoutMs)}`),
      );
    const info = statementInfo(text);
    const span = tracer.startSpan(info.summary ?? this.unsummarizedName, this.spanOptions);
    // The driver call runs in our span's context with tracing suppressed, so an active
    // @opentelemetry/instrumentation-pg adds no second span; only for a recording span (cheap otherwise).
    let driverContext: Context | undefined;
    if (span.isRecording()) {
      // Parameterized text is recorded as is (the conventions); other text with its literals replaced.
      span.setAttribute('db.query.text', params && params.length > 0 ? text : info.sanitized);
      if (info.summary !== undefined) span.setAttribute('db.query.summary', info.summary);
      driverContext = suppressTracing(trace.setSpan(context.active(), span));
    }
    const started = performance.now();
    const signal = options?.signal;
    return new Promise<QueryResult<R>>((resolve, reject) => {
      const done = (err: Error | undefined, result: QueryResult<R> | undefined) => {
        this.ctx.instruments.query(info.operation, (performance.now() - started) / 1000);
        if (err === undefined) {
          span.end();
          resolve(result as QueryResult<R>);
        } else {
          endWithError(span, err);
          reject(err);
        }
      };
      if (conn) return this.execute<R>(conn, text, params, timeoutMs, signal, false, done, driverContext);
      // query() gives its connection back itself, so it cannot leak one; a connection held too long
      // there is a slow statement, reported with its (sanitized) text instead of a captured stack.
      this.acquirer.acquireThen(
        signal,
        options?.priority,
        this.ctx.opts.leakDetectionMs > 0 ? info.sanitized : undefined,
        started,
        (own) => this.execute<R>(own, text, params, timeoutMs, signal, true, done, driverContext),
        (err) => done(err, undefined),
      );
    });
  }

  /** An internal statement (validation, rollback, session reset) on a borrowed connection, bounded by `timeoutMs`. */
  exec(conn: Conn, text: string, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) =>
      this.execute(conn, text, undefined, timeoutMs, undefined, false, (err) => (err ? reject(err) : resolve())),
    );
  }

  /** Sends the statement; `done` gets the result or a typed error exactly once. */
  execute<R extends QueryResultRow>(
    conn: Conn,
    text: string,
    params: readonly unknown[] | undefined,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    release: boolean,
    done: Done<R>,
    driverContext?: Context,
  ): void {
    const statement = new Statement<R>(this, conn, timeoutMs, signal, release, done);
    if (signal) {
      if (signal.aborted) {
        statement.fail(new QueryAbortedError(signal.reason));
        if (release) void this.acquirer.giveBack(conn, false);
        return;
      }
      statement.onAbort = () => statement.abort();
      signal.addEventListener('abort', statement.onAbort, { once: true });
    }
    conn.running = statement;
    if (timeoutMs) this.startDeadline(conn, timeoutMs);
    if (!conn.dirty && this.ctx.opts.resetQuery !== undefined && SESSION_CHANGE.test(text)) conn.dirty = true;
    if (
      this.connections.pgbouncer &&
      this.ctx.opts.statementTimeoutMs > 0 &&
      conn.client.getTransactionStatus() === 'I'
    )
      statement.cancelTimer = this.statementTimeout(conn);
    try {
      if (driverContext) context.with(driverContext, () => send(conn, text, params, statement));
      else send(conn, text, params, statement);
    } catch (err) {
      statement.callback(err instanceof Error ? err : new Error(String(err)), undefined as unknown as QueryResult<R>);
    }
  }

  /**
   * statementTimeoutMs behind PgBouncer, outside a transaction: a cancel request at the deadline,
   * answered by the server with 57014 as statement_timeout would be; the connection stays usable.
   */
  private statementTimeout(conn: Conn): NodeJS.Timeout {
    const timer = setTimeout(() => void this.connections.cancel(conn), this.ctx.opts.statementTimeoutMs);
    timer.unref();
    return timer;
  }

  /**
   * Client-side timeout without a timer or promise per query: the connection's one timer checks
   * the deadline when it fires and gives the statement up when it has passed.
   */
  private startDeadline(conn: Conn, timeoutMs: number): void {
    const deadline = performance.now() + timeoutMs;
    conn.queryDeadline = deadline;
    conn.queryTimeoutMs = timeoutMs;
    if (!conn.queryTimer || deadline < conn.queryTimerDue) this.armQueryTimer(conn, timeoutMs);
  }

  private armQueryTimer(conn: Conn, ms: number): void {
    if (conn.queryTimer) clearTimeout(conn.queryTimer);
    conn.queryTimerDue = performance.now() + ms;
    conn.queryTimer = setTimeout(Statements.queryTimerFired, Math.max(1, Math.ceil(ms)), this, conn);
    conn.queryTimer.unref(); // the query's socket keeps the process alive while it runs
  }

  private static queryTimerFired(self: Statements, conn: Conn): void {
    conn.queryTimer = undefined;
    if (conn.queryDeadline === 0 || conn.destroyed) return; // idle now: re-armed by the next query
    const left = conn.queryDeadline - performance.now();
    if (left > 0) return self.armQueryTimer(conn, left);
    const err = new QueryTimeoutError(conn.queryTimeoutMs);
    const running = conn.running;
    self.abandon(conn, 'query_timeout', err);
    running?.fail(err);
  }

  /**
   * Gives up on the statement running on `conn`: the caller has its answer at once; the server is
   * asked to cancel it (libpq's way) and the connection, whose protocol state is unknown, is closed
   * once the cancel was answered or destroyTimeoutMs passed.
   */
  abandon(conn: Conn, reason: DestroyReason, err: Error): void {
    if (conn.broken !== undefined) return;
    conn.broken = err;
    this.ctx.instruments.error(reason);
    conn.cancelling = this.connections.cancel(conn).then(() => conn.forceClose());
  }

  /** Typed error for a failed statement; a broken connection is marked so it is never reused. */
  queryError(conn: Conn, err: unknown): Error {
    if (err instanceof DbPoolError) return err;
    const ctx = this.ctx;
    if (err instanceof pg.DatabaseError && typeof err.code === 'string') {
      ctx.instruments.error(err.code.slice(0, 2));
      if (FATAL_STATES.has(err.code)) {
        ctx.markBroken(conn, err);
        return new ConnectionLostError(
          `connection ${conn.id} to ${ctx.serverLabel} was closed by the server (${err.code}): ${ctx.scrub(err.message)}`,
          err,
        );
      }
      return new QueryError(ctx.scrub(err.message), err.code, err, { severity: err.severity, detail: err.detail });
    }
    if (
      conn.broken ||
      conn.socket?.destroyed ||
      /terminated|ECONNRESET|EPIPE|not queryable|Connection closed/i.test(messageOf(err))
    ) {
      ctx.markBroken(conn, err);
      ctx.instruments.error('connection_lost');
      return new ConnectionLostError(
        `connection ${conn.id} to ${ctx.serverLabel} was lost during the query: ${ctx.scrub(messageOf(err))}`,
        err,
      );
    }
    ctx.instruments.error('client');
    return new QueryError(ctx.scrub(messageOf(err)), undefined, err);
  }
}

function send<R extends QueryResultRow>(
  conn: Conn,
  text: string,
  params: readonly unknown[] | undefined,
  statement: Statement<R>,
): void {
  conn.client.query<R>(text, (params ?? NO_PARAMS) as unknown[], statement.callback);
}

function endWithError(span: Span, err: unknown): void {
  if (span.isRecording()) {
    // Stryker disable next-line StringLiteral: errors reaching here are always Errors (queryError types them)
    const type = err instanceof QueryError && err.sqlState ? err.sqlState : err instanceof Error ? err.name : 'Error';
    span.setAttribute('error.type', type);
    if (err instanceof QueryError && err.sqlState) span.setAttribute('db.response.status_code', err.sqlState);
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  }
  span.end();
}
