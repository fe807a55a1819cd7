// Acquisition: a checked connection for each caller (validated only when needed, replaced when
// broken or retired), acquire deadlines, abort, priorities, the hand-over of a released connection
// to the next waiter, the clean-up of a connection that comes back (rollback, session reset), and
// leak detection.
import { performance } from 'node:perf_hooks';
import type { Conn, Holder } from './conn';
import { messageOf } from './conn';
import { Check, type Connections } from './connections';
import type { PoolContext } from './context';
import type { ConnectionCreator } from './creator';
import {
  ConnectError,
  DbPoolError,
  PoolClosedError,
  PoolExhaustedError,
  PoolTimeoutError,
  QueryAbortedError,
} from './errors';
import type { Statements } from './statements';
import { Borrow, DeadlineError, WaitDeadlines } from './waiters';

export class Acquirer {
  /** Set by the pool once statements exist (they run validation, rollbacks and resets). */
  statements!: Statements;
  /** A permanent connect error (3D000, 28000, 28P01) while no connection could be opened: acquires fail at once. */
  permanentError: ConnectError | undefined = undefined;
  private readonly waitDeadlines: WaitDeadlines;

  constructor(
    private readonly ctx: PoolContext,
    private readonly connections: Connections,
    private readonly creator: ConnectionCreator<Conn>,
  ) {
    this.waitDeadlines = new WaitDeadlines(ctx.opts.acquireTimeoutMs);
  }

  /** A checked connection for the caller (withConnection, transaction). */
  acquire(signal: AbortSignal | undefined, priority: number | undefined, holder: Holder | undefined): Promise<Conn> {
    return new Promise<Conn>((resolve, reject) =>
      this.acquireThen(signal, priority, holder, performance.now(), resolve, reject),
    );
  }

  /**
   * A checked connection to `onConn`, or a typed error to `onError`. Callbacks rather than a
   * promise so query() pays for no promise of its own between generic-pool's and its result.
   */
  acquireThen(
    signal: AbortSignal | undefined,
    priority: number | undefined,
    holder: Holder | undefined,
    started: number,
    onConn: (conn: Conn) => void,
    onError: (err: Error) => void,
  ): void {
    const { ctx } = this;
    const gp = ctx.access.gp;
    if (ctx.state !== 'open') return onError(new PoolClosedError());
    if (signal?.aborted) return onError(new QueryAbortedError(signal.reason));
    if (this.permanentError && ctx.conns.size === 0) return onError(this.permanentError);
    if (gp.pending >= ctx.opts.maxWaiting && gp.available === 0 && gp.spareResourceCapacity < 1) {
      return onError(
        new PoolExhaustedError(
          `pool ${ctx.name} has ${gp.pending} callers waiting (maxWaiting ${ctx.opts.maxWaiting}); ${ctx.countsText()}`,
        ),
      );
    }
    this.borrow(new Borrow(signal, priority, holder, started), onConn, onError);
  }

  /** A permanent connect error: every waiting caller gets it now, and new ones until a connection opens. */
  failWaiters(err: ConnectError): void {
    this.permanentError = err;
    this.ctx.access.rejectWaiters(err);
  }

  private borrow(b: Borrow, onConn: (conn: Conn) => void, onError: (err: Error) => void): void {
    // After a replacement the wait is bounded by what is left of acquireTimeoutMs.
    const waiting =
      b.signal || b.replaced > 0
        ? this.acquireBounded(
            b.priority,
            b.signal,
            b.replaced > 0 ? b.started + this.ctx.opts.acquireTimeoutMs : undefined,
          )
        : this.waitFor(b.priority);
    waiting.then(
      (conn) => this.check(conn, b, onConn, onError),
      (err: unknown) => onError(this.acquireError(err)),
    );
  }

  /** What a connection needs before the caller gets it: nothing (almost always), a round trip, or a replacement. */
  private check(conn: Conn, b: Borrow, onConn: (conn: Conn) => void, onError: (err: Error) => void): void {
    const check = this.connections.borrowCheck(conn);
    if (check === Check.Ok) return onConn(this.lend(conn, b));
    if (check === Check.Replace) return this.replace(conn, b, onConn, onError);
    // The round trip is bounded by what is left of the acquire timeout, too.
    const left = Math.floor(b.started + this.ctx.opts.acquireTimeoutMs - performance.now());
    void this.ping(conn, Math.max(1, Math.min(this.ctx.opts.validationTimeoutMs, left))).then((ok) =>
      ok ? onConn(this.lend(conn, b)) : this.replace(conn, b, onConn, onError),
    );
  }

  /** Broken, past its lifetime, or failed validation: destroyed and replaced before the caller sees it. */
  private replace(conn: Conn, b: Borrow, onConn: (conn: Conn) => void, onError: (err: Error) => void): void {
    void this.ctx.access.gp.destroy(conn);
    b.replaced++;
    this.borrow(b, onConn, onError);
  }

  /** A lightweight round trip (an empty statement) bounded by `timeoutMs`. */
  async ping(conn: Conn, timeoutMs: number): Promise<boolean> {
    const { ctx } = this;
    conn.pinging = true;
    ctx.counts.validations++;
    try {
      await this.statements.exec(conn, '', timeoutMs);
      conn.lastValidatedAt = Date.now();
      ctx.instruments.validated(true);
      return true;
    } catch (err) {
      ctx.counts.validationFailures++;
      ctx.instruments.validated(false);
      ctx.markBroken(conn, err);
      return false;
    } finally {
      conn.pinging = false;
    }
  }

  private lend(conn: Conn, b: Borrow): Conn {
    conn.inUse = true;
    const now = performance.now();
    this.ctx.instruments.acquired((now - b.started) / 1000);
    if (b.holder) {
      conn.holder = b.holder;
      conn.borrowedAt = now;
      conn.leakReported = false;
    }
    this.ctx.updateGauges();
    return conn;
  }

  /** gp.acquire() with the acquire timeout set only when the request has to wait. */
  private waitFor(priority: number | undefined): Promise<Conn> {
    const { pending, request } = this.ctx.access.acquire(priority);
    if (request) this.waitDeadlines.add(request);
    return pending;
  }

  /**
   * gp.acquire() that also ends at an AbortSignal or a deadline. The request given up is taken
   * out of generic-pool's queue (so drain/close never wait on it); a connection that arrives
   * late goes back.
   */
  private acquireBounded(
    priority: number | undefined,
    signal: AbortSignal | undefined,
    deadline: number | undefined,
  ): Promise<Conn> {
    return new Promise<Conn>((resolve, reject) => {
      const { pending, request } = this.ctx.access.acquire(priority);
      // A caller with only a signal still waits at most acquireTimeoutMs (on the shared wait timer).
      if (request && deadline === undefined) this.waitDeadlines.add(request);
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const giveUp = (err: Error) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        // Named TimeoutError, generic-pool's queue drops the request at once (pending stays right).
        // Stryker disable next-line StringLiteral: the message of a rejection only giveUp() sees
        request?.reject(new DeadlineError('the caller stopped waiting'));
        reject(err);
      };
      const onAbort = () => giveUp(new QueryAbortedError(signal?.reason));
      if (deadline !== undefined)
        timer = setTimeout(() => giveUp(new DeadlineError()), Math.max(0, deadline - performance.now()));
      signal?.addEventListener('abort', onAbort, { once: true });
      pending.then(
        (conn) => {
          if (settled) return void this.ctx.access.gp.release(conn); // the caller gave up meanwhile
          settled = true;
          if (timer) clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(conn);
        },
        (err: unknown) => giveUp(err instanceof Error ? err : new Error(String(err))),
      );
    });
  }

  private acquireError(err: unknown): Error {
    const { ctx } = this;
    if (err instanceof DbPoolError) return err;
    if (err instanceof Error && err.name === 'TimeoutError') {
      ctx.counts.acquireTimeouts++;
      ctx.instruments.acquireTimeout();
      const cause = this.creator.failing ? this.creator.lastError : undefined;
      const why = cause === undefined ? '' : `; last connection error: ${ctx.scrub(messageOf(cause))}`;
      return new PoolTimeoutError(
        `no connection available within ${ctx.opts.acquireTimeoutMs} ms from pool ${ctx.name} (${ctx.countsText()})${why}`,
        ctx.opts.acquireTimeoutMs,
        cause,
      );
    }
    if (ctx.state !== 'open') return new PoolClosedError(); // a replacement borrow while the pool drains
    // Stryker disable next-line all: an open pool's generic-pool rejects only through our deadlines and rejectWaiters
    return new PoolClosedError(`pool ${ctx.name} could not hand out a connection: ${ctx.scrub(messageOf(err))}`);
  }

  /**
   * A connection comes back. A transaction left open is rolled back (as HikariCP does; `warn`
   * says so when user code left it), and a session that may have changed gets the reset query.
   * Returns a promise only in those rare cases, so the common path costs no extra promise.
   */
  giveBack(conn: Conn, warn: boolean): Promise<void> | undefined {
    // Stryker disable next-line StringLiteral: any status but T or E means no transaction to roll back
    const tx = conn.broken ? 'I' : conn.client.getTransactionStatus();
    const openTx = tx === 'T' || tx === 'E';
    if (!openTx && !(conn.dirty && conn.broken === undefined)) {
      this.release(conn);
      return undefined;
    }
    const { ctx } = this;
    if (openTx && warn)
      ctx.logger.warn(`db-pool ${ctx.name}: connection ${conn.id} came back inside a transaction; rolling it back`, {
        pool: ctx.name,
        connectionId: conn.id,
      });
    return this.cleanUp(conn, openTx).then(
      () => this.release(conn),
      (err: unknown) => {
        ctx.markBroken(conn, err);
        this.release(conn);
      },
    );
  }

  private async cleanUp(conn: Conn, openTx: boolean): Promise<void> {
    const { opts } = this.ctx;
    if (openTx) await this.statements.exec(conn, 'ROLLBACK', opts.validationTimeoutMs);
    if (conn.dirty && opts.resetQuery !== undefined) {
      this.ctx.counts.resets++;
      await this.statements.exec(conn, opts.resetQuery, opts.validationTimeoutMs);
      conn.dirty = false;
    }
  }

  /** Back to the pool (or to the next waiter), or destroyed when broken, past its lifetime, or the pool is closing. */
  private release(conn: Conn): void {
    const { ctx } = this;
    conn.holder = undefined;
    conn.inUse = false;
    const now = Date.now();
    conn.lastUsedAt = now;
    if (conn.broken || now >= conn.retireAt || ctx.state === 'closed') void ctx.access.gp.destroy(conn);
    else if (!this.handOver(conn)) void ctx.access.gp.release(conn);
    ctx.updateGauges();
  }

  /**
   * A released connection goes straight to the next waiter (in priority order), still on the same
   * generic-pool loan: what gp.release() would do, without closing one loan and opening another
   * (a promise and four clock reads) per hand-over. The waiter checks it as any borrow does.
   */
  private handOver(conn: Conn): boolean {
    const request = this.ctx.access.nextWaiter();
    if (request === undefined) return false;
    request.resolve(conn);
    return true;
  }

  /** Stops the acquire deadlines (close() fails the waiters itself). */
  close(): void {
    this.waitDeadlines.clear();
  }

  /**
   * Leak detection runs as one sweep every leakDetectionMs / 4 rather than a timer per borrow
   * (that cost more than the rest of a query's pool work); a report comes at most 25 % late.
   */
  sweepLeaks(): void {
    const { ctx } = this;
    const ms = ctx.opts.leakDetectionMs;
    const now = performance.now();
    for (const conn of ctx.conns) {
      const holder = conn.holder;
      if (!conn.inUse || holder === undefined || conn.leakReported || now - conn.borrowedAt <= ms) continue;
      conn.leakReported = true;
      ctx.counts.leaks++;
      ctx.instruments.leak();
      const fields = { pool: ctx.name, connectionId: conn.id, leakDetectionMs: ms };
      if (typeof holder === 'string') {
        ctx.logger.warn(
          `db-pool ${ctx.name}: connection ${conn.id} has been held for more than ${ms} ms by query(): ${holder}`,
          { ...fields, statement: holder },
        );
        continue;
      }
      const where = (holder.stack ?? '').split('\n').slice(1).join('\n');
      ctx.logger.warn(
        `db-pool ${ctx.name}: connection ${conn.id} has been held for more than ${ms} ms (possible leak); acquired at:\n${where}`,
        { ...fields, stack: where },
      );
    }
  }
}
