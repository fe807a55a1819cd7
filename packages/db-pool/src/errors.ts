// Typed errors of @periscope/db-pool. Every error extends core's PeriscopeError with a stable
// ERR_DB_POOL_* code; messages never carry the connection string's password (only
// host:port/database appear, and pg's own messages are scrubbed of the live password).
import { ConfigError, PeriscopeError } from '@periscope/core';

export type DbPoolErrorCode =
  | 'ERR_DB_POOL_CONFIG'
  | 'ERR_DB_POOL_INVALID_ARGUMENT'
  | 'ERR_DB_POOL_TIMEOUT'
  | 'ERR_DB_POOL_EXHAUSTED'
  | 'ERR_DB_POOL_CLOSED'
  | 'ERR_DB_POOL_CONNECT_FAILED'
  | 'ERR_DB_POOL_CONNECTION_LOST'
  | 'ERR_DB_POOL_QUERY_FAILED'
  | 'ERR_DB_POOL_QUERY_TIMEOUT'
  | 'ERR_DB_POOL_QUERY_ABORTED'
  | 'ERR_DB_POOL_UNSUPPORTED_DEPENDENCY'
  | 'ERR_DB_POOL_EMBEDDED_FAILED';

/** Base of every runtime error of the pool (PoolConfigError extends core's ConfigError instead). */
export class DbPoolError<Code extends DbPoolErrorCode = DbPoolErrorCode> extends PeriscopeError<Code> {}

/** Invalid configuration, thrown by createPool(): names the option (or variable), what is accepted and what came. */
export class PoolConfigError extends ConfigError<'ERR_DB_POOL_CONFIG'> {
  constructor(option: string, accepted: string, got: unknown, suggestion?: string) {
    super(option, accepted, got, { code: 'ERR_DB_POOL_CONFIG', suggestion });
  }
}

/** A call got a bad argument; `argument` names it. */
export class InvalidArgumentError extends DbPoolError<'ERR_DB_POOL_INVALID_ARGUMENT'> {
  constructor(
    readonly argument: string,
    message: string,
  ) {
    super('ERR_DB_POOL_INVALID_ARGUMENT', message);
  }
}

/** No connection could be handed out within `acquireTimeoutMs`; `cause` is the last connect error, if any. */
export class PoolTimeoutError extends DbPoolError<'ERR_DB_POOL_TIMEOUT'> {
  constructor(
    message: string,
    readonly timeoutMs: number,
    cause?: unknown,
  ) {
    super('ERR_DB_POOL_TIMEOUT', message, { cause });
  }
}

/** More than `maxWaiting` callers would wait: raised at once instead of queueing. */
export class PoolExhaustedError extends DbPoolError<'ERR_DB_POOL_EXHAUSTED'> {
  constructor(message: string) {
    super('ERR_DB_POOL_EXHAUSTED', message);
  }
}

/** The pool is draining or closed and takes no new work. */
export class PoolClosedError extends DbPoolError<'ERR_DB_POOL_CLOSED'> {
  constructor(message = 'the pool is closed or draining and takes no new work') {
    super('ERR_DB_POOL_CLOSED', message);
  }
}

/**
 * Opening a connection failed (refused, authentication, connect timeout…). `sqlState` is set when
 * the server refused it (3D000 no such database, 28000/28P01 role or authentication); such a
 * permanent error fails waiting callers at once instead of after acquireTimeoutMs.
 */
export class ConnectError extends DbPoolError<'ERR_DB_POOL_CONNECT_FAILED'> {
  readonly sqlState: string | undefined;
  constructor(message: string, cause: unknown, sqlState?: string) {
    super('ERR_DB_POOL_CONNECT_FAILED', message, { cause });
    this.sqlState = sqlState;
  }
}

/** The connection broke while a query was running on it (server restart, network cut, terminated backend). */
export class ConnectionLostError extends DbPoolError<'ERR_DB_POOL_CONNECTION_LOST'> {
  constructor(message: string, cause: unknown) {
    super('ERR_DB_POOL_CONNECTION_LOST', message, { cause });
  }
}

/** The statement failed; `sqlState` is PostgreSQL's SQLSTATE (e.g. 23505, 40001, 57014) when the server rejected it. */
export class QueryError extends DbPoolError<'ERR_DB_POOL_QUERY_FAILED'> {
  readonly sqlState: string | undefined;
  readonly severity?: string;
  readonly detail?: string;
  constructor(
    message: string,
    sqlState: string | undefined,
    cause: unknown,
    extra: { severity?: string; detail?: string } = {},
  ) {
    super('ERR_DB_POOL_QUERY_FAILED', message, { cause });
    this.sqlState = sqlState;
    this.severity = extra.severity;
    this.detail = extra.detail;
  }
}

/** The client-side query timeout (`timeoutMs` / `queryTimeoutMs`) fired; the connection was discarded. */
export class QueryTimeoutError extends DbPoolError<'ERR_DB_POOL_QUERY_TIMEOUT'> {
  constructor(readonly timeoutMs: number) {
    super('ERR_DB_POOL_QUERY_TIMEOUT', `query did not complete within ${timeoutMs} ms; its connection was discarded`);
  }
}

/** The caller's AbortSignal fired while waiting for a connection or for the query. */
export class QueryAbortedError extends DbPoolError<'ERR_DB_POOL_QUERY_ABORTED'> {
  constructor(cause?: unknown) {
    super('ERR_DB_POOL_QUERY_ABORTED', 'the operation was aborted by its AbortSignal', { cause });
  }
}

/** An installed pg or generic-pool version whose internals this pool was not built against. */
export class UnsupportedDependencyError extends DbPoolError<'ERR_DB_POOL_UNSUPPORTED_DEPENDENCY'> {
  constructor(message: string) {
    super('ERR_DB_POOL_UNSUPPORTED_DEPENDENCY', message);
  }
}

/** The embedded PostgreSQL (PGlite, `@periscope/db-pool/embedded`) could not be started. */
export class EmbeddedPostgresError extends DbPoolError<'ERR_DB_POOL_EMBEDDED_FAILED'> {
  constructor(message: string, cause?: unknown) {
    super('ERR_DB_POOL_EMBEDDED_FAILED', message, { cause });
  }
}
