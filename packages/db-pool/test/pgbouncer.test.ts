// Behind a real PgBouncer in transaction mode: the statement timeout (no startup parameter), the
// cancel of a timed-out query, and what a transaction's SET LOCAL leaves behind.
import { postgresUrl } from '@periscope-tools/testing';
import { createPool, DbPool, QueryError, QueryTimeoutError, type PoolOptions } from '../src';
import { startPgBouncer, type PgBouncer } from './pgbouncer';
import { captureLogger, uniqueName, waitFor } from './helpers';

let bouncer: PgBouncer;
let direct: DbPool;
const pools: DbPool[] = [];

function viaBouncer(options: Partial<PoolOptions> = {}): DbPool {
  const pool = createPool({
    connectionString: bouncer.url,
    poolSize: 2,
    applicationName: uniqueName('dbpool_pgb'),
    logger: captureLogger(),
    ...options,
  });
  pools.push(pool);
  return pool;
}

beforeAll(async () => {
  bouncer = await startPgBouncer();
  direct = createPool({ connectionString: postgresUrl(), poolSize: 1, applicationName: uniqueName('dbpool_pgb') });
}, 20_000);
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});
afterAll(async () => {
  await direct?.close();
  await bouncer?.close();
});

test('statementTimeoutMs behind PgBouncer is detected and applied per statement and per transaction (57014)', async () => {
  const logger = captureLogger();
  const pool = viaBouncer({ statementTimeoutMs: 200, logger });
  let started = Date.now();
  const outside = await pool.query('SELECT pg_sleep(5)').catch((e: unknown) => e);
  expect(outside).toBeInstanceOf(QueryError);
  expect((outside as QueryError).sqlState).toBe('57014');
  expect(Date.now() - started).toBeLessThan(3000);
  started = Date.now();
  const inside = await pool.transaction((tx) => tx.query('SELECT pg_sleep(5)')).catch((e: unknown) => e);
  expect((inside as QueryError).sqlState).toBe('57014');
  expect(Date.now() - started).toBeLessThan(3000);
  // Fast statements are unaffected and the connections stay usable.
  expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0].one).toBe(1);
  expect(pool.stats().destroyed).toBe(0);
  expect(logger.records.some((r) => /refuses startup parameters/.test(r.message))).toBe(true);
  expect(bouncer.log()).toMatch(/unsupported startup parameter: statement_timeout/); // what was detected
});

test('pgbouncer: true sends no startup parameter; SET LOCAL holds in the transaction and does not leak to others', async () => {
  const pool = viaBouncer({ pgbouncer: true, statementTimeoutMs: 321 });
  const other = viaBouncer();
  const before = (await other.query<{ statement_timeout: string }>('SHOW statement_timeout')).rows[0].statement_timeout;
  const inTx = await pool.transaction(
    async (tx) => (await tx.query<{ statement_timeout: string }>('SHOW statement_timeout')).rows[0].statement_timeout,
  );
  expect(inTx).toBe('321ms');
  const results = await Promise.all(
    Array.from({ length: 10 }, () => other.query<{ statement_timeout: string }>('SHOW statement_timeout')),
  );
  expect(results.map((r) => r.rows[0].statement_timeout)).toEqual(Array(10).fill(before));
});

test('a timed-out query behind PgBouncer is cancelled on the server (libpq-style cancel), not left running', async () => {
  const pool = viaBouncer();
  const probe = uniqueName('pgb_probe');
  const err = await pool.query(`SELECT pg_sleep(10) AS ${probe}`, [], { timeoutMs: 150 }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(QueryTimeoutError);
  const started = Date.now();
  await waitFor(
    async () => {
      const r = await direct.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1",
        [`%AS ${probe}`],
      );
      return r.rows[0].n === '0';
    },
    5000,
    'server-side query gone',
  );
  expect(Date.now() - started).toBeLessThan(3000);
});

test('with no statementTimeoutMs, a transaction behind PgBouncer keeps the database’s own statement_timeout', async () => {
  // The pool adds SET LOCAL only for a timeout of its own: `SET LOCAL statement_timeout = 0` would
  // switch off the timeout the database's owner set.
  const db = uniqueName('dbpool_pgb_db');
  await direct.query(`CREATE DATABASE ${db}`);
  try {
    await direct.query(`ALTER DATABASE ${db} SET statement_timeout = '4321ms'`);
    const url = new URL(bouncer.url);
    url.pathname = `/${db}`;
    const pool = createPool({ connectionString: url.href, pgbouncer: true, poolSize: 1 });
    try {
      const inTx = await pool.transaction(
        async (tx) =>
          (await tx.query<{ statement_timeout: string }>('SHOW statement_timeout')).rows[0].statement_timeout,
      );
      expect(inTx).toBe('4321ms');
      // Nor is a statement outside a transaction cancelled by a timer of its own.
      expect((await pool.query<{ one: number }>('SELECT pg_sleep(0.3), 1 AS one')).rows[0].one).toBe(1);
    } finally {
      await pool.close();
    }
  } finally {
    await direct.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  }
});

test('inside a transaction behind PgBouncer the timeout is the transaction’s SET LOCAL, which it may lift (no client-side cancel)', async () => {
  const pool = viaBouncer({ pgbouncer: true, statementTimeoutMs: 200, poolSize: 1, maxOverflow: 0 });
  // A statement outside a transaction arms a cancel at 200 ms: its answer must disarm it, or it
  // would cancel whatever the connection runs next (the transaction below, 200 ms later).
  expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0].one).toBe(1);
  const one = await pool.transaction(async (tx) => {
    await tx.query('SET LOCAL statement_timeout = 0');
    return (await tx.query<{ one: number }>('SELECT pg_sleep(1), 1 AS one')).rows[0].one;
  });
  expect(one).toBe(1);
});
