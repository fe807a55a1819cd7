import { postgresUrl } from '@periscope-tools/testing';
import { createPool, PoolConfigError } from '../src';
import { uniqueName } from './helpers';

const saved = { ...process.env };
afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});

function configError(fn: () => unknown): PoolConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof PoolConfigError) return err;
    throw err;
  }
  throw new Error('expected a PoolConfigError');
}

test('invalid options fail at construction naming the option and the accepted values', () => {
  const e1 = configError(() => createPool({ connectionString: postgresUrl(), poolSize: -1 }));
  expect(e1).toMatchObject({ code: 'DB_POOL_CONFIG', option: 'poolSize' });
  expect(e1.message).toBe('invalid db-pool option poolSize: got -1; expected an integer >= 0');
  expect(configError(() => createPool({ connectionString: postgresUrl(), acquireTimeoutMs: 1.5 })).option).toBe(
    'acquireTimeoutMs',
  );
  expect(
    configError(() => createPool({ connectionString: postgresUrl(), poolSize: 0, maxOverflow: 0 })).message,
  ).toMatch(/poolSize \+ maxOverflow >= 1/);
  expect(configError(() => createPool({ connectionString: postgresUrl(), applicationName: '' })).option).toBe(
    'applicationName',
  );
  expect(configError(() => createPool({ connectionString: postgresUrl(), logger: {} as never })).option).toBe('logger');
});

test('without connectionString, config or DATABASE_URL the error says what is needed', () => {
  delete process.env.DATABASE_URL;
  const err = configError(() => createPool({}));
  expect(err.option).toBe('connectionString');
  expect(err.message).toMatch(/DATABASE_URL/);
});

test('PERISCOPE_DB_POOL_* environment variables override defaults; explicit options win; bad values name the variable', async () => {
  process.env.PERISCOPE_DB_POOL_SIZE = '3';
  process.env.PERISCOPE_DB_POOL_MAX_OVERFLOW = '4';
  const fromEnv = createPool({ connectionString: postgresUrl(), applicationName: uniqueName('dbpool_cfg') });
  const explicit = createPool({
    connectionString: postgresUrl(),
    poolSize: 1,
    applicationName: uniqueName('dbpool_cfg'),
  });
  try {
    expect(fromEnv.stats()).toMatchObject({ poolSize: 3, maxOverflow: 4, max: 7 });
    expect(explicit.stats()).toMatchObject({ poolSize: 1, maxOverflow: 4 });
  } finally {
    await Promise.all([fromEnv.close(), explicit.close()]);
  }
  process.env.PERISCOPE_DB_POOL_ACQUIRE_TIMEOUT_MS = 'soon';
  const err = configError(() => createPool({ connectionString: postgresUrl() }));
  expect(err.option).toBe('acquireTimeoutMs (PERISCOPE_DB_POOL_ACQUIRE_TIMEOUT_MS)');
  expect(err.message).toContain('"soon"');
});

test('DATABASE_URL is used when no connection is given', async () => {
  process.env.DATABASE_URL = postgresUrl();
  const pool = createPool({ poolSize: 1, applicationName: uniqueName('dbpool_cfg') });
  try {
    expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0].one).toBe(1);
  } finally {
    await pool.close();
  }
});
