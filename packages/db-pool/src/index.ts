// Public surface of @periscope/db-pool. The embedded PostgreSQL (PGlite) is not here: it is the
// subpath export `@periscope/db-pool/embedded`, so the main entry never loads it.
export { createPool, DbPool } from './pool';
export type {
  AcquireOptions,
  ConnectionInfo,
  DrainOptions,
  DrainResult,
  HealthResult,
  IsolationLevel,
  PoolConnection,
  PoolState,
  PoolStats,
  QueryOptions,
  TransactionOptions,
} from './types';
export { DEFAULT_MAX_WAITING } from './config';
export type { PgConnectionConfig, PoolOptions } from './config';
export { querySummary, sanitizeSql, statementInfo, type StatementInfo } from './sql';
export {
  ConnectError,
  ConnectionLostError,
  DbPoolError,
  EmbeddedPostgresError,
  InvalidArgumentError,
  PoolClosedError,
  PoolConfigError,
  PoolExhaustedError,
  PoolTimeoutError,
  QueryAbortedError,
  QueryError,
  QueryTimeoutError,
  UnsupportedDependencyError,
  type DbPoolErrorCode,
} from './errors';
export type { QueryResult, QueryResultRow } from 'pg';
