// Connection lifecycle: opening (with the statement timeout as a startup parameter, unless the
// server is PgBouncer), errors on idle connections, validation on borrow, eviction, the cancel
// request, and closing (gracefully, bounded by destroyTimeoutMs).
import net from 'node:net';
import type { Socket } from 'node:net';
import pg from 'pg';
import { sendCancel } from './cancel';
import { Conn, messageOf } from './conn';
import type { PoolContext } from './context';
import { ConnectError, PoolClosedError, QueryAbortedError, QueryTimeoutError } from './errors';
import type { DestroyReason } from './instrumentation';
import { backendKey } from './internals';

/** What a borrowed connection needs before the caller gets it. */
export const enum Check {
  Ok,
  Ping,
  Replace,
}

/** Connect errors no retry can fix: no such database, no such role / not allowed, authentication failed. */
export const PERMANENT_CONNECT_STATES = new Set(['3D000', '28000', '28P01']);

export class Connections {
  /** PgBouncer (or anything that refuses startup parameters): statement_timeout goes per transaction. */
  pgbouncer: boolean;
  /** Statement runner for validation round trips (set by the pool). */
  ping!: (conn: Conn, timeoutMs: number) => Promise<boolean>;
  private readonly connecting = new Set<Conn>();
  private readonly cancels = new Set<Socket>();
  private nextId = 1;

  constructor(private readonly ctx: PoolContext) {
    this.pgbouncer = ctx.opts.pgbouncer;
  }

  async open(): Promise<Conn> {
    const ctx = this.ctx;
    const { config, connectionString, statementTimeoutMs } = ctx.opts;
    let socket: Socket | undefined;
    const client = new pg.Client({
      ...config,
      ...(connectionString === undefined ? {} : { connectionString }),
      application_name: ctx.opts.applicationName,
      connectionTimeoutMillis: ctx.opts.connectTimeoutMs,
      keepAlive: true,
      ...(statementTimeoutMs > 0 && !this.pgbouncer ? { statement_timeout: statementTimeoutMs } : {}),
      // pg's public hook for its socket: the pool keeps it to close a connection at once.
      stream: () => (socket = new net.Socket()),
    });
    const now = Date.now();
    const lifetime = ctx.opts.maxLifetimeMs;
    // Up to 2.5 % shorter than maxLifetimeMs (as HikariCP) so connections do not all retire together.
    const retireAt =
      lifetime > 0 ? now + lifetime - Math.floor(Math.random() * lifetime * 0.025) : Number.POSITIVE_INFINITY;
    const conn = new Conn(this.nextId++, client, now, retireAt);
    conn.socket = socket;
    // Always listening: an error on an idle client must never become an uncaught exception.
    client.on('error', (err: Error) => this.onClientError(conn, err));
    client.on('end', () => {
      if (!conn.destroyed) ctx.markBroken(conn, new Error('connection ended by the server'));
    });
    this.connecting.add(conn);
    try {
      await client.connect();
    } catch (err) {
      conn.destroyed = true;
      conn.forceClose();
      if (statementTimeoutMs > 0 && !this.pgbouncer && /unsupported startup parameter/i.test(messageOf(err))) {
        this.pgbouncer = true;
        ctx.logger.info(
          `db-pool ${ctx.name}: ${ctx.serverLabel} refuses startup parameters (PgBouncer?); statementTimeoutMs is applied per transaction and statement`,
          { pool: ctx.name },
        );
        return this.open();
      }
      const code = (err as { code?: unknown }).code;
      const sqlState = err instanceof pg.DatabaseError && typeof code === 'string' ? code : undefined;
      throw new ConnectError(`could not connect to ${ctx.serverLabel}: ${ctx.scrub(messageOf(err))}`, err, sqlState);
    } finally {
      this.connecting.delete(conn);
    }
    if (ctx.state === 'closed') {
      conn.destroyed = true;
      conn.forceClose();
      throw new PoolClosedError();
    }
    ctx.conns.add(conn);
    ctx.counts.created++;
    ctx.instruments.created();
    ctx.updateGauges();
    return conn;
  }

  private onClientError(conn: Conn, err: Error): void {
    if (conn.destroyed) return;
    const ctx = this.ctx;
    const wasBroken = conn.broken !== undefined;
    ctx.markBroken(conn, err);
    if (!conn.inUse && !wasBroken) {
      ctx.counts.idleErrors++;
      ctx.instruments.error('idle_connection');
      ctx.logger.warn(
        `db-pool ${ctx.name}: idle connection ${conn.id} to ${ctx.serverLabel} failed and will be replaced: ${ctx.scrub(err.message)}`,
        { pool: ctx.name, connectionId: conn.id },
      );
    }
  }

  /** HikariCP's rule: a round trip only after an idle window, or when a disconnect was seen since the last check. */
  borrowCheck(conn: Conn): Check {
    if (conn.broken !== undefined) return Check.Replace;
    const now = Date.now();
    if (now >= conn.retireAt) return Check.Replace;
    if (now - conn.lastUsedAt > this.ctx.opts.validateAfterIdleMs || conn.lastValidatedAt < this.ctx.lastDisconnectAt)
      return Check.Ping;
    return Check.Ok;
  }

  /** Evictor hook, called for idle connections on every housekeeping run. */
  shouldEvict(conn: Conn): boolean {
    if (conn.broken !== undefined) return true;
    const now = Date.now();
    const opts = this.ctx.opts;
    if (now >= conn.retireAt) return true;
    if (now - conn.lastUsedAt > opts.idleTimeoutMs && this.ctx.conns.size > opts.poolSize) return true;
    const keepalive = opts.keepaliveMs;
    if (keepalive > 0 && !conn.pinging && now - Math.max(conn.lastUsedAt, conn.lastValidatedAt) >= keepalive)
      void this.ping(conn, opts.validationTimeoutMs);
    return false;
  }

  private destroyReason(conn: Conn): DestroyReason {
    const state = this.ctx.state;
    if (state === 'closed' || state === 'draining') return conn.broken ? 'broken' : 'closed';
    if (conn.broken instanceof QueryTimeoutError) return 'query_timeout';
    if (conn.broken instanceof QueryAbortedError) return 'aborted';
    if (conn.broken !== undefined) return 'broken';
    if (Date.now() >= conn.retireAt) return 'max_lifetime';
    return 'idle';
  }

  /** factory.destroy: a graceful end, bounded by destroyTimeoutMs, then the socket is destroyed. */
  async destroy(conn: Conn): Promise<void> {
    if (conn.destroyed) return;
    const ctx = this.ctx;
    const reason = this.destroyReason(conn);
    conn.destroyed = true;
    if (conn.queryTimer) clearTimeout(conn.queryTimer);
    ctx.conns.delete(conn);
    ctx.counts.destroyed++;
    if (reason === 'max_lifetime' || reason === 'idle') ctx.counts.recycled++;
    ctx.instruments.destroyed(reason);
    ctx.updateGauges();
    if (conn.broken !== undefined) {
      // A cancelled statement keeps its connection until the cancel was answered (bounded).
      if (conn.cancelling) await conn.cancelling;
      conn.forceClose();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        conn.client.end(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, ctx.opts.destroyTimeoutMs);
        }),
      ]);
    } catch {
      // closed below either way
    } finally {
      if (timer) clearTimeout(timer);
      conn.forceClose();
    }
  }

  /** Asks the server to cancel what `conn` runs (libpq's way); resolves true when acknowledged. */
  cancel(conn: Conn): Promise<boolean> {
    const key = backendKey(conn.client);
    if (key === undefined) return Promise.resolve(false);
    const { host, port } = conn.client;
    return sendCancel({ host, port, ...key }, this.ctx.opts.destroyTimeoutMs, this.cancels).then((acknowledged) => {
      if (!acknowledged) this.ctx.instruments.error('cancel_unanswered');
      return acknowledged;
    });
  }

  /** Connection attempts in flight are cut (close()). */
  abortConnecting(): void {
    for (const conn of this.connecting) conn.forceClose();
  }

  /** Gives cancel requests in flight their bounded time to be answered, then closes their sockets. */
  async settleCancels(): Promise<void> {
    if (this.cancels.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...this.cancels].map((socket) => new Promise((resolve) => socket.once('close', resolve)))),
      new Promise((resolve) => {
        timer = setTimeout(resolve, this.ctx.opts.destroyTimeoutMs);
      }),
    ]);
    if (timer) clearTimeout(timer);
    for (const socket of this.cancels) socket.destroy();
  }
}
