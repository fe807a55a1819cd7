import fc from 'fast-check';
import { ConfigError } from '@periscope/core';
import { postgresUrl } from '@periscope-tools/testing';
import { createPool, DEFAULT_MAX_WAITING, PoolConfigError, type PoolOptions } from '../src';
import { uniqueName } from './helpers';

function configError(fn: () => unknown): PoolConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof PoolConfigError) return err;
    throw err;
  }
  throw new Error('expected a PoolConfigError');
}

const url = () => postgresUrl();

test('invalid options fail at construction naming the option and the accepted values', () => {
  const e1 = configError(() => createPool({ connectionString: url(), poolSize: -1 }));
  expect(e1).toBeInstanceOf(ConfigError);
  expect(e1).toMatchObject({ code: 'ERR_DB_POOL_CONFIG', option: 'poolSize' });
  expect(e1.message).toBe('invalid poolSize: expected an integer >= 0, got -1');
  expect(configError(() => createPool({ connectionString: url(), acquireTimeoutMs: 1.5 })).option).toBe(
    'acquireTimeoutMs',
  );
  expect(configError(() => createPool({ connectionString: url(), poolSize: 0, maxOverflow: 0 })).message).toMatch(
    /poolSize \+ maxOverflow >= 1/,
  );
  expect(configError(() => createPool({ connectionString: url(), applicationName: '' })).option).toBe(
    'applicationName',
  );
  expect(configError(() => createPool({ connectionString: url(), logger: {} as never })).option).toBe('logger');
  expect(configError(() => createPool({ connectionString: url(), pgbouncer: 'yes' as never })).option).toBe(
    'pgbouncer',
  );
});

test('an unknown option fails and names the nearest known one', () => {
  const err = configError(() => createPool({ connectionString: url(), poolsize: 3 } as PoolOptions));
  expect(err.option).toBe('poolsize');
  expect(err.message).toMatch(/did you mean poolSize\?/);
  expect(configError(() => createPool({ connectionString: url(), maxWait: 3 } as PoolOptions)).message).toMatch(
    /did you mean maxWaiting\?/,
  );
});

test('a libpq key=value connection string fails at start naming connectionString (not getaddrinfo later)', () => {
  const err = configError(() =>
    createPool({ connectionString: 'host=127.0.0.1 dbname=base user=app password=hunter22' }),
  );
  expect(err.option).toBe('connectionString');
  expect(err.message).toMatch(/key=value strings are not supported/);
  expect(err.message).not.toContain('hunter22');
});

test('a malformed URL fails at start (no endless "Invalid URL" retries); DATABASE_URL is named when it is the source', () => {
  expect(configError(() => createPool({ connectionString: 'postgres://user:pw@[::1/db' })).option).toBe(
    'connectionString',
  );
  expect(configError(() => createPool({ connectionString: 'mysql://127.0.0.1/db' })).option).toBe('connectionString');
  expect(configError(() => createPool({ connectionString: 'not a url' })).option).toBe('connectionString');
  const fromEnv = configError(() => createPool({ env: { DATABASE_URL: 'http//broken' } }));
  expect(fromEnv.option).toBe('DATABASE_URL');
});

test('property: any connection string either starts a pool or fails with PoolConfigError, never another error', async () => {
  const strings = fc.oneof(
    fc.string(),
    fc
      .constantFrom('postgres://', 'postgresql://', 'socket:', 'host=', 'http://')
      .chain((p) => fc.string().map((s) => p + s)),
  );
  const started: Promise<void>[] = [];
  fc.assert(
    fc.property(strings, (connectionString) => {
      try {
        const pool = createPool({ connectionString, poolSize: 0, maxOverflow: 1, env: {} });
        started.push(pool.close());
      } catch (err) {
        if (!(err instanceof PoolConfigError)) throw err;
      }
    }),
    { numRuns: 300 },
  );
  await Promise.all(started);
});

test('without connectionString, config or DATABASE_URL the error says what is needed', () => {
  const err = configError(() => createPool({ env: {} }));
  expect(err.option).toBe('connectionString');
  expect(err.message).toMatch(/DATABASE_URL/);
});

test('PERISCOPE_DB_POOL_* variables override defaults; explicit options win; durations read "2s"; bad values name the variable', async () => {
  const env = {
    PERISCOPE_DB_POOL_SIZE: '3',
    PERISCOPE_DB_POOL_MAX_OVERFLOW: '4',
    PERISCOPE_DB_POOL_ACQUIRE_TIMEOUT_MS: '2s',
  };
  const fromEnv = createPool({ connectionString: url(), applicationName: uniqueName('dbpool_cfg'), env });
  const explicit = createPool({
    connectionString: url(),
    poolSize: 1,
    applicationName: uniqueName('dbpool_cfg'),
    env,
  });
  try {
    expect(fromEnv.stats()).toMatchObject({ poolSize: 3, maxOverflow: 4, max: 7 });
    expect(explicit.stats()).toMatchObject({ poolSize: 1, maxOverflow: 4 });
  } finally {
    await Promise.all([fromEnv.close(), explicit.close()]);
  }
  const err = configError(() =>
    createPool({ connectionString: url(), env: { PERISCOPE_DB_POOL_ACQUIRE_TIMEOUT_MS: 'soon' } }),
  );
  expect(err.option).toBe('PERISCOPE_DB_POOL_ACQUIRE_TIMEOUT_MS');
  expect(err.message).toContain('"soon"');
  expect(
    configError(() => createPool({ connectionString: url(), env: { PERISCOPE_DB_POOL_PGBOUNCER: 'maybe' } })).option,
  ).toBe('PERISCOPE_DB_POOL_PGBOUNCER');
});

test('maxWaiting has a finite default', () => {
  expect(Number.isFinite(DEFAULT_MAX_WAITING)).toBe(true);
  expect(DEFAULT_MAX_WAITING).toBe(1000);
});

test('DATABASE_URL is used when no connection is given', async () => {
  const pool = createPool({ poolSize: 1, applicationName: uniqueName('dbpool_cfg'), env: { DATABASE_URL: url() } });
  try {
    expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0].one).toBe(1);
  } finally {
    await pool.close();
  }
});
