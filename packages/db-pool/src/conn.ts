// A pooled connection's state (internal), and the handle a withConnection/transaction callback gets.
import type { Socket } from 'node:net';
import type pg from 'pg';
import type { QueryResult, QueryResultRow } from 'pg';
import { InvalidArgumentError } from './errors';
import type { PoolConnection, QueryOptions } from './types';

export interface StackHolder {
  stack?: string;
}

/** Who holds a borrowed connection, for leak reports: the acquiring stack, or the statement of query(). */
export type Holder = StackHolder | string;

/** The statement running on a connection: settled once, early on a timeout or abort. */
export interface Running {
  settled: boolean;
  fail(err: Error): void;
}

export class Conn {
  inUse = false;
  pinging = false;
  broken: unknown = undefined;
  destroyed = false;
  /** A statement may have changed session state: the reset query runs when it comes back. */
  dirty = false;
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
  running: Running | undefined = undefined;
  /** Settles when the cancel request of an abandoned statement was answered (or gave up). */
  cancelling: Promise<void> | undefined = undefined;
  /** The socket pg talks on (handed to pg through its public `stream` option). */
  socket: Socket | undefined = undefined;
  readonly retireAt: number;
  constructor(
    readonly id: number,
    readonly client: pg.Client,
    readonly createdAt: number,
    retireAt: number,
  ) {
    this.lastUsedAt = createdAt;
    this.lastValidatedAt = createdAt;
    this.retireAt = retireAt;
  }

  forceClose(): void {
    this.socket?.destroy();
  }
}

export type RunOn = <R extends QueryResultRow>(
  conn: Conn,
  text: string,
  params?: readonly unknown[],
  options?: Omit<QueryOptions, 'priority'>,
) => Promise<QueryResult<R>>;

export class BorrowedConnection implements PoolConnection {
  released = false;
  constructor(
    private readonly runOn: RunOn,
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
    return this.runOn<R>(this.conn, text, params, options);
  }
}

export function captureStack(from: (...args: never[]) => unknown): StackHolder {
  const holder: StackHolder = {};
  Error.captureStackTrace(holder, from);
  return holder;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
