// Pool options: documented defaults, overridable by PERISCOPE_DB_POOL_* environment variables
// (an explicit option wins over the environment). Invalid values fail at construction with one
// PoolConfigError naming the option and the accepted values.
import type { ClientConfig } from 'pg';
import type { Metrics } from '@periscope/metrics';
import { PoolConfigError } from './errors';

/** Anything with winston/console-like level methods; `meta` carries structured fields. */
export interface PoolLogger {
  debug?(message: string, meta?: Record<string, unknown>): void;
  info?(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

/** pg client settings the pool passes through; pool-owned settings are set from PoolOptions. */
export type PgConnectionConfig = Omit<
  ClientConfig,
  'application_name' | 'statement_timeout' | 'query_timeout' | 'connectionTimeoutMillis' | 'keepAlive'
>;

export interface PoolOptions {
  /** postgres://user:password@host:port/db. Default: $DATABASE_URL. */
  connectionString?: string;
  /** pg client configuration instead of (or on top of) a connection string. */
  config?: PgConnectionConfig;
  /** Label of this pool in metrics, stats and logs. Default: applicationName. */
  name?: string;
  /** Connections kept open. Default 10 (PERISCOPE_DB_POOL_SIZE). */
  poolSize?: number;
  /** Extra connections opened under load and closed once idle past idleTimeoutMs. Default 0 (PERISCOPE_DB_POOL_MAX_OVERFLOW). */
  maxOverflow?: number;
  /** How long a caller waits for a connection. Default 30000 (PERISCOPE_DB_POOL_ACQUIRE_TIMEOUT_MS). */
  acquireTimeoutMs?: number;
  /** Timeout of one connection attempt. Default 10000 (PERISCOPE_DB_POOL_CONNECT_TIMEOUT_MS). */
  connectTimeoutMs?: number;
  /** Overflow connections idle longer than this are closed. Default 600000 (PERISCOPE_DB_POOL_IDLE_TIMEOUT_MS). */
  idleTimeoutMs?: number;
  /** Connections are retired after this age (minus up to 2.5 % jitter); 0 = never. Default 1800000 (PERISCOPE_DB_POOL_MAX_LIFETIME_MS). */
  maxLifetimeMs?: number;
  /** A connection idle longer than this is validated with a round trip before it is handed out. Default 500 (PERISCOPE_DB_POOL_VALIDATE_AFTER_IDLE_MS). */
  validateAfterIdleMs?: number;
  /** Timeout of that validation round trip. Default 5000 (PERISCOPE_DB_POOL_VALIDATION_TIMEOUT_MS). */
  validationTimeoutMs?: number;
  /** Ping idle connections this often; 0 = off. Default 0 (PERISCOPE_DB_POOL_KEEPALIVE_MS). */
  keepaliveMs?: number;
  /** Report a connection held longer than this, with the acquiring stack; 0 = off. Default 0 (PERISCOPE_DB_POOL_LEAK_DETECTION_MS). */
  leakDetectionMs?: number;
  /** Server-side statement_timeout of every connection; 0 = server default. Default 0 (PERISCOPE_DB_POOL_STATEMENT_TIMEOUT_MS). */
  statementTimeoutMs?: number;
  /** Client-side timeout of every query (per-call timeoutMs overrides); 0 = none. Default 0 (PERISCOPE_DB_POOL_QUERY_TIMEOUT_MS). */
  queryTimeoutMs?: number;
  /** Callers allowed to wait; one more gets PoolExhaustedError at once. Default unlimited (PERISCOPE_DB_POOL_MAX_WAITING). */
  maxWaiting?: number;
  /** Closing a connection gracefully may take this long before its socket is destroyed. Default 5000 (PERISCOPE_DB_POOL_DESTROY_TIMEOUT_MS). */
  destroyTimeoutMs?: number;
  /** First delay after a failed connection attempt; doubles up to connectBackoffMaxMs. Default 100 (PERISCOPE_DB_POOL_CONNECT_BACKOFF_MS). */
  connectBackoffMs?: number;
  /** Longest delay between connection attempts while the database refuses. Default 5000 (PERISCOPE_DB_POOL_CONNECT_BACKOFF_MAX_MS). */
  connectBackoffMaxMs?: number;
  /** Priority levels for waiters (0 = highest). Default 1. */
  priorityLevels?: number;
  /** application_name of the connections (visible in pg_stat_activity). Default "periscope" (PERISCOPE_DB_POOL_APPLICATION_NAME). */
  applicationName?: string;
  /** Register pool metrics here; omitted = no metrics. */
  metrics?: Metrics;
  /** Warnings (leaks, idle connection errors) go here; omitted = process warnings for warn/error, nothing else. */
  logger?: PoolLogger;
}

export interface ResolvedPoolOptions {
  connectionString?: string;
  config: PgConnectionConfig;
  name: string;
  poolSize: number;
  maxOverflow: number;
  acquireTimeoutMs: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  maxLifetimeMs: number;
  validateAfterIdleMs: number;
  validationTimeoutMs: number;
  keepaliveMs: number;
  leakDetectionMs: number;
  statementTimeoutMs: number;
  queryTimeoutMs: number;
  maxWaiting: number;
  destroyTimeoutMs: number;
  connectBackoffMs: number;
  connectBackoffMaxMs: number;
  priorityLevels: number;
  applicationName: string;
}

type NumericOption = {
  [K in keyof ResolvedPoolOptions]-?: ResolvedPoolOptions[K] extends number ? K : never;
}[keyof ResolvedPoolOptions];

const NUMERIC: ReadonlyArray<{ key: NumericOption; env: string; def: number; min: number }> = [
  { key: 'poolSize', env: 'PERISCOPE_DB_POOL_SIZE', def: 10, min: 0 },
  { key: 'maxOverflow', env: 'PERISCOPE_DB_POOL_MAX_OVERFLOW', def: 0, min: 0 },
  { key: 'acquireTimeoutMs', env: 'PERISCOPE_DB_POOL_ACQUIRE_TIMEOUT_MS', def: 30_000, min: 1 },
  { key: 'connectTimeoutMs', env: 'PERISCOPE_DB_POOL_CONNECT_TIMEOUT_MS', def: 10_000, min: 1 },
  { key: 'idleTimeoutMs', env: 'PERISCOPE_DB_POOL_IDLE_TIMEOUT_MS', def: 600_000, min: 1 },
  { key: 'maxLifetimeMs', env: 'PERISCOPE_DB_POOL_MAX_LIFETIME_MS', def: 1_800_000, min: 0 },
  { key: 'validateAfterIdleMs', env: 'PERISCOPE_DB_POOL_VALIDATE_AFTER_IDLE_MS', def: 500, min: 0 },
  { key: 'validationTimeoutMs', env: 'PERISCOPE_DB_POOL_VALIDATION_TIMEOUT_MS', def: 5_000, min: 1 },
  { key: 'keepaliveMs', env: 'PERISCOPE_DB_POOL_KEEPALIVE_MS', def: 0, min: 0 },
  { key: 'leakDetectionMs', env: 'PERISCOPE_DB_POOL_LEAK_DETECTION_MS', def: 0, min: 0 },
  { key: 'statementTimeoutMs', env: 'PERISCOPE_DB_POOL_STATEMENT_TIMEOUT_MS', def: 0, min: 0 },
  { key: 'queryTimeoutMs', env: 'PERISCOPE_DB_POOL_QUERY_TIMEOUT_MS', def: 0, min: 0 },
  { key: 'maxWaiting', env: 'PERISCOPE_DB_POOL_MAX_WAITING', def: Number.POSITIVE_INFINITY, min: 0 },
  { key: 'destroyTimeoutMs', env: 'PERISCOPE_DB_POOL_DESTROY_TIMEOUT_MS', def: 5_000, min: 1 },
  { key: 'connectBackoffMs', env: 'PERISCOPE_DB_POOL_CONNECT_BACKOFF_MS', def: 100, min: 1 },
  { key: 'connectBackoffMaxMs', env: 'PERISCOPE_DB_POOL_CONNECT_BACKOFF_MAX_MS', def: 5_000, min: 1 },
  { key: 'priorityLevels', env: 'PERISCOPE_DB_POOL_PRIORITY_LEVELS', def: 1, min: 1 },
];

function readNumber(option: string, value: unknown, min: number): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min) {
    throw new PoolConfigError(option, value, `an integer >= ${min}`);
  }
  return n;
}

export function resolveOptions(options: PoolOptions, env: NodeJS.ProcessEnv = process.env): ResolvedPoolOptions {
  if (options === null || typeof options !== 'object')
    throw new PoolConfigError('options', options, 'an options object');
  const connectionString = options.connectionString ?? (options.config ? undefined : env.DATABASE_URL);
  if (connectionString !== undefined && (typeof connectionString !== 'string' || connectionString.trim() === '')) {
    throw new PoolConfigError(
      'connectionString',
      typeof connectionString === 'string' ? '' : connectionString,
      'a postgres:// URL',
    );
  }
  if (connectionString === undefined && !options.config) {
    throw new PoolConfigError(
      'connectionString',
      undefined,
      'a postgres:// URL, a config object, or the DATABASE_URL environment variable',
    );
  }
  if (options.config !== undefined && (options.config === null || typeof options.config !== 'object')) {
    throw new PoolConfigError('config', options.config, 'a pg ClientConfig object');
  }
  const numbers = {} as Record<NumericOption, number>;
  for (const spec of NUMERIC) {
    const explicit = options[spec.key];
    const fromEnv = env[spec.env];
    if (explicit !== undefined) numbers[spec.key] = readNumber(spec.key, explicit, spec.min);
    else if (fromEnv !== undefined && fromEnv !== '')
      numbers[spec.key] = readNumber(`${spec.key} (${spec.env})`, fromEnv, spec.min);
    else numbers[spec.key] = spec.def;
  }
  if (numbers.poolSize + numbers.maxOverflow < 1) {
    throw new PoolConfigError('poolSize', numbers.poolSize, 'poolSize + maxOverflow >= 1');
  }
  if (numbers.connectBackoffMaxMs < numbers.connectBackoffMs) {
    throw new PoolConfigError(
      'connectBackoffMaxMs',
      numbers.connectBackoffMaxMs,
      `an integer >= connectBackoffMs (${numbers.connectBackoffMs})`,
    );
  }
  const applicationName = options.applicationName ?? env.PERISCOPE_DB_POOL_APPLICATION_NAME ?? 'periscope';
  if (typeof applicationName !== 'string' || applicationName === '' || applicationName.length > 63) {
    throw new PoolConfigError('applicationName', applicationName, 'a non-empty string of at most 63 characters');
  }
  const name = options.name ?? applicationName;
  if (typeof name !== 'string' || name === '') throw new PoolConfigError('name', name, 'a non-empty string');
  if (
    options.logger !== undefined &&
    (typeof options.logger !== 'object' ||
      typeof options.logger?.warn !== 'function' ||
      typeof options.logger.error !== 'function')
  ) {
    throw new PoolConfigError('logger', options.logger, 'an object with warn() and error() methods');
  }
  return { connectionString, config: options.config ?? {}, name, applicationName, ...numbers };
}

/** host:port/database of a connection string or config, for stats, spans and messages (never the password). */
export function describeServer(
  connectionString: string | undefined,
  config: PgConnectionConfig,
): { host: string; port: number; database: string } {
  let host = typeof config.host === 'string' ? config.host : 'localhost';
  let port = typeof config.port === 'number' ? config.port : 5432;
  let database = typeof config.database === 'string' ? config.database : '';
  if (connectionString) {
    try {
      const u = new URL(connectionString);
      if (u.hostname) host = decodeURIComponent(u.hostname);
      if (u.port) port = Number(u.port);
      const db = decodeURIComponent(u.pathname.replace(/^\//, ''));
      if (db) database = db;
    } catch {
      // Not a URL (key=value or socket form): keep what config says.
    }
  }
  return { host, port, database };
}

/** The connection string with its password replaced by "***" (for anything shown to people). */
export function redactConnectionString(connectionString: string): string {
  try {
    const u = new URL(connectionString);
    if (u.password) u.password = '***';
    for (const key of [...u.searchParams.keys()]) {
      if (/pass|secret|token|key/i.test(key)) u.searchParams.set(key, '***');
    }
    return u.toString();
  } catch {
    return connectionString.replace(/(password\s*=\s*)(\S+)/gi, '$1***').replace(/(:\/\/[^:/@]*:)[^@]*@/, '$1***@');
  }
}
