// Public surface of @periscope/db-pool.
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
} from './pool';
export { redactConnectionString } from './config';
export type { PgConnectionConfig, PoolLogger, PoolOptions } from './config';
export { sanitizeSql, statementInfo, type StatementInfo } from './sql';
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
  type DbPoolErrorCode,
} from './errors';
export type { QueryResult, QueryResultRow } from 'pg';
export { startEmbeddedPostgres, type EmbeddedPostgres, type EmbeddedPostgresOptions } from './embedded';
