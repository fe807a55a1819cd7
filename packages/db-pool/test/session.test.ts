// Session state between borrowers, and connect errors no retry can fix, against the real PostgreSQL.
import { postgresUrl } from '@periscope-tools/testing';
import { ConnectError, createPool, DbPool, type PoolOptions } from '../src';
import { captureLogger, uniqueName } from './helpers';

const pools: DbPool[] = [];
function newPool(options: Partial<PoolOptions> = {}): DbPool {
  const pool = createPool({
    connectionString: postgresUrl(),
    poolSize: 1,
    applicationName: uniqueName('dbpool_sess'),
    logger: captureLogger(),
    ...options,
  });
  pools.push(pool);
  return pool;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

const searchPath = async (pool: DbPool) =>
  (await pool.query<{ search_path: string }>('SHOW search_path')).rows[0].search_path;

test('a SET search_path by one borrower is not seen by later ones (query and withConnection)', async () => {
  const pool = newPool();
  const initial = await searchPath(pool);
  await pool.query('SET search_path TO pg_catalog');
  expect(await searchPath(pool)).toBe(initial);
  await pool.withConnection(async (c) => {
    await c.query("SELECT set_config('search_path', 'information_schema', false)");
    // Inside the borrow the change is visible…
    expect((await c.query<{ search_path: string }>('SHOW search_path')).rows[0].search_path).toBe('information_schema');
  });
  // …and gone for the next borrower, on the same (only) connection.
  expect(await searchPath(pool)).toBe(initial);
  expect(pool.stats()).toMatchObject({ resets: 2, created: 1, destroyed: 0 });
});

test('the reset is skipped when no statement could have changed the session', async () => {
  const pool = newPool();
  await pool.query('SELECT 1');
  await pool.withConnection(async (c) => {
    await c.query('SELECT $1::int AS n', [1]);
    await c.query('UPDATE pg_catalog.pg_class SET relname = relname WHERE false');
  });
  await pool.transaction(async (tx) => {
    await tx.query('SET LOCAL search_path TO pg_catalog');
  });
  expect(pool.stats().resets).toBe(0);
});

test('which statements get the session reset: each kind that can leave state behind, and look-alikes that cannot', async () => {
  const pool = newPool();
  const cases: [string, boolean][] = [
    ['SET search_path TO public', true],
    ['  \n set   statement_timeout = 0', true], // leading space, lower case
    ['SET LOCAL statement_timeout = 0', false], // ends with its (implicit) transaction
    ['set  local statement_timeout = 0', false],
    ['RESET search_path', true],
    ['PREPARE periscope_p AS SELECT 1', true],
    ['LISTEN periscope_channel', true],
    ['DECLARE periscope_c CURSOR WITH HOLD FOR SELECT 1', true],
    ['CREATE TEMP TABLE periscope_t1 (a int)', true],
    ['CREATE LOCAL TEMP TABLE periscope_t2 (a int)', true],
    ['CREATE  TEMP TABLE periscope_t5 (a int)', true],
    ['CREATE LOCAL  TEMP TABLE periscope_t6 (a int)', true],
    ['create global temp table periscope_t3 (a int)', true],
    ['CREATE TEMPORARY TABLE periscope_t4 (a int)', true],
    ["SELECT set_config('search_path', 'public', false)", true],
    ['SELECT pg_advisory_lock(4242)', true],
    ['SELECT * FROM generate_series(1, 3) OFFSET 1', false], // "set" inside a word
    ['SELECT 1 AS reset_count, 2 AS preset', false],
    ['SELECT 1', false],
  ];
  for (const [statement, resets] of cases) {
    const before = pool.stats().resets;
    await pool.withConnection((c) => c.query(statement));
    expect({ statement, reset: pool.stats().resets - before }).toEqual({ statement, reset: resets ? 1 : 0 });
  }
  // The one connection was reused throughout: every reset cleaned up what its statement left.
  expect(pool.stats()).toMatchObject({ created: 1, destroyed: 0 });
});

test('resetQuery is configurable (RESET ALL) and "none" turns it off', async () => {
  const resetAll = newPool({ resetQuery: 'RESET ALL' });
  const initial = await searchPath(resetAll);
  await resetAll.query("SET application_name TO 'changed_by_a_borrower'");
  await resetAll.query('SET search_path TO pg_catalog');
  expect(await searchPath(resetAll)).toBe(initial);
  const off = newPool({ resetQuery: 'none' });
  await off.query('SET search_path TO pg_catalog');
  expect(await searchPath(off)).toBe('pg_catalog');
  expect(off.stats().resets).toBe(0);
});

test('statementTimeoutMs survives the session reset (a startup parameter is the session default)', async () => {
  const pool = newPool({ statementTimeoutMs: 1234 });
  await pool.query('SET statement_timeout = 5');
  const r = await pool.query<{ statement_timeout: string }>('SHOW statement_timeout');
  expect(r.rows[0].statement_timeout).toBe('1234ms');
});

function withDatabase(database: string, user?: string): string {
  const u = new URL(postgresUrl());
  u.pathname = `/${database}`;
  if (user) u.username = user;
  return u.toString();
}

test('a database that does not exist (3D000) fails the first acquire at once with that reason', async () => {
  const missing = uniqueName('no_such_db');
  const pool = newPool({ connectionString: withDatabase(missing), acquireTimeoutMs: 30_000 });
  const started = Date.now();
  const err = await pool.query('SELECT 1').catch((e: unknown) => e);
  expect(Date.now() - started).toBeLessThan(5000); // not acquireTimeoutMs (30 s)
  expect(err).toBeInstanceOf(ConnectError);
  expect(err).toMatchObject({ code: 'ERR_DB_POOL_CONNECT_FAILED', sqlState: '3D000' });
  expect((err as Error).message).toContain(missing);
  // Later callers get it at once as well, while nothing could be opened.
  const again = Date.now();
  await expect(pool.withConnection(async () => 1)).rejects.toMatchObject({ sqlState: '3D000' });
  expect(Date.now() - again).toBeLessThan(1000);
});

test('a role that does not exist (28000) fails the first acquire at once', async () => {
  const pool = newPool({ connectionString: withDatabase('postgres', uniqueName('no_such_role')) });
  const started = Date.now();
  const err = await pool.query('SELECT 1').catch((e: unknown) => e);
  expect(Date.now() - started).toBeLessThan(5000);
  expect(err).toBeInstanceOf(ConnectError);
  expect(['28000', '28P01']).toContain((err as ConnectError).sqlState);
});
