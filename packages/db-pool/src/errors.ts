// Typed errors of @periscope/db-pool. Every error has a stable `code`; messages never carry the
// connection string's password (only host:port/database appear).

export type DbPoolErrorCode =
  | 'DB_POOL_CONFIG'
  | 'DB_POOL_INVALID_ARGUMENT'
  | 'DB_POOL_TIMEOUT'
  | 'DB_POOL_EXHAUSTED'
  | 'DB_POOL_CLOSED'
  | 'DB_POOL_CONNECT_FAILED'
  | 'DB_POOL_CONNECTION_LOST'
  | 'DB_POOL_QUERY_FAILED'
  | 'DB_POOL_QUERY_TIMEOUT'
  | 'DB_POOL_QUERY_ABORTED'
  | 'DB_POOL_EMBEDDED_FAILED';

export class DbPoolError extends Error {
  readonly code: DbPoolErrorCode;
  constructor(code: DbPoolErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Invalid configuration: names the option, the value received and what is accepted. */
export class PoolConfigError extends DbPoolError {
  constructor(
    readonly option: string,
    readonly received: unknown,
    readonly accepted: string,
  ) {
    super('DB_POOL_CONFIG', `invalid db-pool option ${option}: got ${describe(received)}; expected ${accepted}`);
  }
}

/** A call got a bad argument; `argument` names it. */
export class InvalidArgumentError extends DbPoolError {
  constructor(
    readonly argument: string,
    message: string,
  ) {
    super('DB_POOL_INVALID_ARGUMENT', message);
  }
}

/** No connection could be handed out within `acquireTimeoutMs`; `cause` is the last connect error, if any. */
export class PoolTimeoutError extends DbPoolError {
  constructor(
    message: string,
    readonly timeoutMs: number,
    cause?: unknown,
  ) {
    super('DB_POOL_TIMEOUT', message, cause === undefined ? undefined : { cause });
  }
}

/** More than `maxWaiting` callers would wait: raised at once instead of queueing. */
export class PoolExhaustedError extends DbPoolError {
  constructor(message: string) {
    super('DB_POOL_EXHAUSTED', message);
  }
}

/** The pool is draining or closed and takes no new work. */
export class PoolClosedError extends DbPoolError {
  constructor(message = 'the pool is closed or draining and takes no new work') {
    super('DB_POOL_CLOSED', message);
  }
}

/** Opening a connection failed (refused, authentication, connect timeout…). */
export class ConnectError extends DbPoolError {
  constructor(message: string, cause: unknown) {
    super('DB_POOL_CONNECT_FAILED', message, { cause });
  }
}

/** The connection broke while a query was running on it (server restart, network cut, terminated backend). */
export class ConnectionLostError extends DbPoolError {
  constructor(message: string, cause: unknown) {
    super('DB_POOL_CONNECTION_LOST', message, { cause });
  }
}

/** The statement failed; `sqlState` is PostgreSQL's SQLSTATE (e.g. 23505, 40001, 57014) when the server rejected it. */
export class QueryError extends DbPoolError {
  readonly sqlState: string | undefined;
  readonly severity?: string;
  readonly detail?: string;
  constructor(
    message: string,
    sqlState: string | undefined,
    cause: unknown,
    extra: { severity?: string; detail?: string } = {},
  ) {
    super('DB_POOL_QUERY_FAILED', message, { cause });
    this.sqlState = sqlState;
    this.severity = extra.severity;
    this.detail = extra.detail;
  }
}

/** The client-side query timeout (`timeoutMs` / `queryTimeoutMs`) fired; the connection was discarded. */
export class QueryTimeoutError extends DbPoolError {
  constructor(readonly timeoutMs: number) {
    super('DB_POOL_QUERY_TIMEOUT', `query did not complete within ${timeoutMs} ms; its connection was discarded`);
  }
}

/** The caller's AbortSignal fired while waiting for a connection or for the query. */
export class QueryAbortedError extends DbPoolError {
  constructor(cause?: unknown) {
    super(
      'DB_POOL_QUERY_ABORTED',
      'the operation was aborted by its AbortSignal',
      cause === undefined ? undefined : { cause },
    );
  }
}

/** The embedded PostgreSQL (PGlite) could not be started. */
export class EmbeddedPostgresError extends DbPoolError {
  constructor(message: string, cause?: unknown) {
    super('DB_POOL_EMBEDDED_FAILED', message, cause === undefined ? undefined : { cause });
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return typeof value;
}
