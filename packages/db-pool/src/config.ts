// Pool options: declared once with their defaults, read through core's ConfigReader (explicit
// option > PERISCOPE_DB_POOL_* environment variable > default; durations in the environment also
// as "2s"), unknown keys refused with the nearest known option. Invalid values fail at
// createPool() with one PoolConfigError naming the option or the variable.
import type { ClientConfig } from 'pg';
import { createConfigReader, NOOP_LOGGER, type ConfigReader, type Env, type Logger } from '@periscope/core';
import type { Metrics } from '@periscope/metrics';
import { PoolConfigError } from './errors';

/** pg client settings the pool passes through; pool-owned settings are set from PoolOptions. */
export type PgConnectionConfig = Omit<
  ClientConfig,
  'application_name' | 'statement_timeout' | 'query_timeout' | 'connectionTimeoutMillis' | 'keepAlive' | 'stream'
>;

export interface PoolOptions {
  /** postgres://user:password@host:port/db (or postgresql://, socket:). @default $DATABASE_URL */
  connectionString?: string;
  /** pg client configuration instead of (or on top of) a connection string. */
  config?: PgConnectionConfig;
  /** Label of this pool in metrics, stats and logs. @default applicationName */
  name?: string;
  /** Connections kept open. @default 10 (PERISCOPE_DB_POOL_SIZE) */
  poolSize?: number;
  /** Extra connections opened under load, closed once idle past idleTimeoutMs. @default 0 (PERISCOPE_DB_POOL_MAX_OVERFLOW) */
  maxOverflow?: number;
  /** How long a caller waits for a connection. @default 30000 (PERISCOPE_DB_POOL_ACQUIRE_TIMEOUT_MS) */
  acquireTimeoutMs?: number;
  /** Timeout of one connection attempt. @default 10000 (PERISCOPE_DB_POOL_CONNECT_TIMEOUT_MS) */
  connectTimeoutMs?: number;
  /** Overflow connections idle longer than this are closed. @default 600000 (PERISCOPE_DB_POOL_IDLE_TIMEOUT_MS) */
  idleTimeoutMs?: number;
  /** Connections retire after this age (minus up to 2.5 % jitter); 0 = never. @default 1800000 (PERISCOPE_DB_POOL_MAX_LIFETIME_MS) */
  maxLifetimeMs?: number;
  /** A connection idle longer than this is validated with a round trip before it is handed out. @default 500 (PERISCOPE_DB_POOL_VALIDATE_AFTER_IDLE_MS) */
  validateAfterIdleMs?: number;
  /** Timeout of that validation round trip (and of the session reset). @default 5000 (PERISCOPE_DB_POOL_VALIDATION_TIMEOUT_MS) */
  validationTimeoutMs?: number;
  /** Ping idle connections this often; 0 = off. @default 0 (PERISCOPE_DB_POOL_KEEPALIVE_MS) */
  keepaliveMs?: number;
  /** Report a connection held longer than this, with the acquiring stack; 0 = off. @default 0 (PERISCOPE_DB_POOL_LEAK_DETECTION_MS) */
  leakDetectionMs?: number;
  /**
   * Server-side statement timeout; 0 = the server's. Sent as a startup parameter to PostgreSQL;
   * behind PgBouncer (`pgbouncer: true`, or detected) as `SET LOCAL` in transactions and a
   * cancel per statement outside them. @default 0 (PERISCOPE_DB_POOL_STATEMENT_TIMEOUT_MS)
   */
  statementTimeoutMs?: number;
  /** Client-side timeout of every query (per-call timeoutMs overrides); 0 = none. @default 0 (PERISCOPE_DB_POOL_QUERY_TIMEOUT_MS) */
  queryTimeoutMs?: number;
  /** Callers allowed to wait; one more gets PoolExhaustedError at once. @default 1000 (PERISCOPE_DB_POOL_MAX_WAITING) */
  maxWaiting?: number;
  /** Closing a connection gracefully (and a cancel request) may take this long. @default 5000 (PERISCOPE_DB_POOL_DESTROY_TIMEOUT_MS) */
  destroyTimeoutMs?: number;
  /** First delay after a failed connection attempt; doubles up to connectBackoffMaxMs. @default 100 (PERISCOPE_DB_POOL_CONNECT_BACKOFF_MS) */
  connectBackoffMs?: number;
  /** Longest delay between connection attempts while the database refuses. @default 5000 (PERISCOPE_DB_POOL_CONNECT_BACKOFF_MAX_MS) */
  connectBackoffMaxMs?: number;
  /** Priority levels for waiters (0 = highest). @default 1 (PERISCOPE_DB_POOL_PRIORITY_LEVELS) */
  priorityLevels?: number;
  /** application_name of the connections (pg_stat_activity). @default "periscope" (PERISCOPE_DB_POOL_APPLICATION_NAME) */
  applicationName?: string;
  /**
   * Run on a connection that comes back after a statement that may have changed session state
   * (SET, PREPARE, LISTEN, temp tables, advisory locks…), like PgBouncer's server_reset_query;
   * "none" turns it off. @default "DISCARD ALL" (PERISCOPE_DB_POOL_RESET_QUERY)
   */
  resetQuery?: string;
  /** The server is PgBouncer in transaction mode: no startup parameters. @default false (PERISCOPE_DB_POOL_PGBOUNCER) */
  pgbouncer?: boolean;
  /** Register pool metrics here; omitted = no metrics. */
  metrics?: Metrics;
  /** Outages, leaks and idle connection errors go here. @default NOOP_LOGGER */
  logger?: Logger;
  /** Read instead of process.env. */
  env?: Env;
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
  /** undefined = no reset. */
  resetQuery: string | undefined;
  pgbouncer: boolean;
  logger: Logger;
}

type NumericOption = {
  [K in keyof ResolvedPoolOptions]-?: ResolvedPoolOptions[K] extends number ? K : never;
}[keyof ResolvedPoolOptions];

/** The default of maxWaiting: a finite queue, so a stalled database cannot pile up unbounded callers. */
export const DEFAULT_MAX_WAITING = 1000;

const NUMERIC: ReadonlyArray<{ key: NumericOption; env: string; def: number; min: number; duration?: true }> = [
  { key: 'poolSize', env: 'PERISCOPE_DB_POOL_SIZE', def: 10, min: 0 },
  { key: 'maxOverflow', env: 'PERISCOPE_DB_POOL_MAX_OVERFLOW', def: 0, min: 0 },
  { key: 'acquireTimeoutMs', env: 'PERISCOPE_DB_POOL_ACQUIRE_TIMEOUT_MS', def: 30_000, min: 1, duration: true },
  { key: 'connectTimeoutMs', env: 'PERISCOPE_DB_POOL_CONNECT_TIMEOUT_MS', def: 10_000, min: 1, duration: true },
  { key: 'idleTimeoutMs', env: 'PERISCOPE_DB_POOL_IDLE_TIMEOUT_MS', def: 600_000, min: 1, duration: true },
  { key: 'maxLifetimeMs', env: 'PERISCOPE_DB_POOL_MAX_LIFETIME_MS', def: 1_800_000, min: 0, duration: true },
  { key: 'validateAfterIdleMs', env: 'PERISCOPE_DB_POOL_VALIDATE_AFTER_IDLE_MS', def: 500, min: 0, duration: true },
  { key: 'validationTimeoutMs', env: 'PERISCOPE_DB_POOL_VALIDATION_TIMEOUT_MS', def: 5_000, min: 1, duration: true },
  { key: 'keepaliveMs', env: 'PERISCOPE_DB_POOL_KEEPALIVE_MS', def: 0, min: 0, duration: true },
  { key: 'leakDetectionMs', env: 'PERISCOPE_DB_POOL_LEAK_DETECTION_MS', def: 0, min: 0, duration: true },
  { key: 'statementTimeoutMs', env: 'PERISCOPE_DB_POOL_STATEMENT_TIMEOUT_MS', def: 0, min: 0, duration: true },
  { key: 'queryTimeoutMs', env: 'PERISCOPE_DB_POOL_QUERY_TIMEOUT_MS', def: 0, min: 0, duration: true },
  { key: 'maxWaiting', env: 'PERISCOPE_DB_POOL_MAX_WAITING', def: DEFAULT_MAX_WAITING, min: 0 },
  { key: 'destroyTimeoutMs', env: 'PERISCOPE_DB_POOL_DESTROY_TIMEOUT_MS', def: 5_000, min: 1, duration: true },
  { key: 'connectBackoffMs', env: 'PERISCOPE_DB_POOL_CONNECT_BACKOFF_MS', def: 100, min: 1, duration: true },
  { key: 'connectBackoffMaxMs', env: 'PERISCOPE_DB_POOL_CONNECT_BACKOFF_MAX_MS', def: 5_000, min: 1, duration: true },
  { key: 'priorityLevels', env: 'PERISCOPE_DB_POOL_PRIORITY_LEVELS', def: 1, min: 1 },
];

const KNOWN: readonly (keyof PoolOptions)[] = [
  'connectionString',
  'config',
  'name',
  ...NUMERIC.map((n) => n.key as keyof PoolOptions),
  'applicationName',
  'resetQuery',
  'pgbouncer',
  'metrics',
  'logger',
  'env',
];

const URL_ACCEPTED = 'a postgres:// or postgresql:// URL (or socket:/path)';
const PROTOCOLS = ['postgres:', 'postgresql:', 'socket:'];

export function resolveOptions(options: PoolOptions): ResolvedPoolOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new PoolConfigError('options', 'an options object', options);
  const r = createConfigReader({
    env: options.env,
    error: (option, accepted, got, suggestion) => new PoolConfigError(option, accepted, got, suggestion),
  });
  r.rejectUnknown(options, KNOWN, 'createPool options');
  if (options.config !== undefined && (options.config === null || typeof options.config !== 'object'))
    r.fail('config', 'a pg ClientConfig object', options.config);
  const connectionString = readConnectionString(r, options);
  const numbers = {} as Record<NumericOption, number>;
  for (const spec of NUMERIC) {
    const value = options[spec.key as keyof PoolOptions] as number | undefined;
    const s = { min: spec.min, env: spec.env, default: spec.def };
    // Options are whole milliseconds; the environment may also say "2s".
    numbers[spec.key] =
      spec.duration && value === undefined
        ? Math.round(r.duration(spec.key, undefined, s))
        : r.integer(spec.key, value, s);
  }
  if (numbers.poolSize + numbers.maxOverflow < 1) r.fail('poolSize', 'poolSize + maxOverflow >= 1', numbers.poolSize);
  if (numbers.connectBackoffMaxMs < numbers.connectBackoffMs)
    r.fail(
      'connectBackoffMaxMs',
      `an integer >= connectBackoffMs (${numbers.connectBackoffMs})`,
      numbers.connectBackoffMaxMs,
    );
  const applicationName = r.string('applicationName', options.applicationName, {
    env: 'PERISCOPE_DB_POOL_APPLICATION_NAME',
    default: 'periscope',
  });
  if (applicationName.length > 63) r.fail('applicationName', 'a string of at most 63 characters', applicationName);
  const name = r.string('name', options.name, { default: applicationName });
  const reset = r.string('resetQuery', options.resetQuery, {
    env: 'PERISCOPE_DB_POOL_RESET_QUERY',
    default: 'DISCARD ALL',
  });
  const pgbouncer = r.boolean('pgbouncer', options.pgbouncer, { env: 'PERISCOPE_DB_POOL_PGBOUNCER', default: false });
  return {
    connectionString,
    config: options.config ?? {},
    name,
    applicationName,
    ...numbers,
    resetQuery: reset.trim().toLowerCase() === 'none' ? undefined : reset,
    pgbouncer,
    logger: readLogger(r, options.logger),
  };
}

/** A URL that pg will read as written; a libpq key=value string or a malformed URL fails here, not at connect. */
function readConnectionString(r: ConfigReader, options: PoolOptions): string | undefined {
  const explicit = options.connectionString;
  const raw = explicit ?? (options.config ? undefined : r.raw('DATABASE_URL'));
  const option = explicit === undefined ? 'DATABASE_URL' : 'connectionString';
  if (raw === undefined) {
    if (options.config) return undefined;
    return r.fail(
      'connectionString',
      `${URL_ACCEPTED}, a config object, or the DATABASE_URL environment variable`,
      raw,
    );
  }
  if (typeof raw !== 'string' || raw.trim() === '') return r.fail(option, URL_ACCEPTED, raw);
  if (!/^[a-z][a-z0-9+.-]*:/i.test(raw.trim()) && /\w+\s*=/.test(raw))
    return r.fail(
      option,
      `${URL_ACCEPTED}; libpq key=value strings are not supported (pass host, database, … in config)`,
      raw,
    );
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    return r.fail(option, URL_ACCEPTED, raw);
  }
  if (!PROTOCOLS.includes(parsed.protocol)) return r.fail(option, URL_ACCEPTED, raw);
  // pg decodes each part with decodeURIComponent: a malformed escape would fail every attempt.
  try {
    for (const part of [parsed.username, parsed.password, parsed.hostname, parsed.pathname]) decodeURIComponent(part);
  } catch {
    return r.fail(option, `${URL_ACCEPTED} with valid %-escapes`, raw);
  }
  if (parsed.protocol !== 'socket:' && parsed.hostname === '' && !parsed.searchParams.has('host'))
    return r.fail(option, `${URL_ACCEPTED} with a host`, raw);
  return raw;
}

function readLogger(r: ConfigReader, logger: Logger | undefined): Logger {
  if (logger === undefined) return NOOP_LOGGER;
  const ok =
    logger !== null &&
    typeof logger === 'object' &&
    (['debug', 'info', 'warn', 'error'] as const).every((m) => typeof logger[m] === 'function');
  if (!ok) r.fail('logger', 'a Logger (an object with debug, info, warn and error methods)', logger);
  return logger;
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
    const u = new URL(connectionString);
    if (u.hostname) host = decodeURIComponent(u.hostname);
    else if (u.protocol === 'socket:') host = decodeURIComponent(u.pathname);
    if (u.port) port = Number(u.port);
    const db = u.protocol === 'socket:' ? u.searchParams.get('db') : decodeURIComponent(u.pathname.slice(1));
    if (db) database = db;
  }
  return { host, port, database };
}
