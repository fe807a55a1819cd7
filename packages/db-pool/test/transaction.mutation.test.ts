// Issue 21 (mutation testing): transaction() arguments, BEGIN options and the retry rule, against
// the real PostgreSQL.
import { postgresUrl } from '@periscope-tools/testing';
import { createPool, DbPool, InvalidArgumentError, QueryError } from '../src';
import { captureLogger, uniqueName } from './helpers';

const table = uniqueName('dbpool_txm');
const logger = captureLogger();
let pool: DbPool;

beforeAll(async () => {
  pool = createPool({
    connectionString: postgresUrl(),
    poolSize: 2,
    applicationName: uniqueName('dbpool_txm'),
    logger,
  });
  await pool.query(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
});
afterAll(async () => {
  await pool.query(`DROP TABLE IF EXISTS ${table}`);
  await pool.close();
});

const raise = (sqlState: string) => `DO $$ BEGIN RAISE EXCEPTION 'planted' USING ERRCODE = '${sqlState}'; END $$`;

test('transaction(fn) refuses a non-function and bad retries before borrowing anything', async () => {
  for (const bad of [undefined, 'SELECT 1', {}]) {
    const err = await pool.transaction(bad as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).argument).toBe('fn');
    expect((err as Error).message).toBe('transaction(fn) needs a function');
  }
  for (const retries of [-1, 1.5, Number.NaN, '2']) {
    const err = await pool.transaction(async () => 1, { retries: retries as never }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).argument).toBe('retries');
    expect((err as Error).message).toBe(`retries must be an integer >= 0, got ${String(retries)}`);
  }
  expect(await pool.transaction(async () => 'zero retries is fine', { retries: 0 })).toBe('zero retries is fine');
});

test.each([
  ['read uncommitted', 'read uncommitted'],
  ['read committed', 'read committed'],
  ['REPEATABLE READ', 'repeatable read'],
  ['Serializable', 'serializable'],
])('isolationLevel %j reaches the server as %j', async (level, seen) => {
  const got = await pool.transaction(
    async (tx) => (await tx.query<{ l: string }>("SELECT current_setting('transaction_isolation') AS l")).rows[0].l,
    { isolationLevel: level as never },
  );
  expect(got).toBe(seen);
});

test('an unknown isolation level is refused with the accepted list', async () => {
  const err = await pool.transaction(async () => 1, { isolationLevel: 'snapshot' as never }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(InvalidArgumentError);
  expect((err as InvalidArgumentError).argument).toBe('isolationLevel');
  expect((err as Error).message).toBe(
    'isolationLevel must be one of "read uncommitted", "read committed", "repeatable read", "serializable"; got "snapshot"',
  );
});

test('readOnly: false is a read-write transaction even when the session default is read-only', async () => {
  // A pool whose sessions start read-only (a startup option): only an explicit READ WRITE can write.
  const url = new URL(postgresUrl());
  url.searchParams.set('options', '-c default_transaction_read_only=on');
  const roPool = createPool({ connectionString: url.href, poolSize: 1, applicationName: uniqueName('dbpool_txro') });
  try {
    const setting = "SELECT current_setting('transaction_read_only') AS ro";
    const mode = (options: { readOnly?: boolean }) =>
      roPool.transaction(async (tx) => (await tx.query<{ ro: string }>(setting)).rows[0].ro, options);
    expect(await mode({})).toBe('on');
    expect(await mode({ readOnly: false })).toBe('off');
    expect(await mode({ readOnly: true })).toBe('on');
  } finally {
    await roPool.close();
  }
});

test('retryable failures (40001, 40P01) are retried exactly `retries` times, then the error reaches the caller', async () => {
  for (const sqlState of ['40001', '40P01']) {
    let attempts = 0;
    const err = await pool
      .transaction(
        async (tx) => {
          attempts++;
          await tx.query(raise(sqlState));
        },
        { retries: 2 },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryError);
    expect((err as QueryError).sqlState).toBe(sqlState);
    expect(attempts).toBe(3);
  }
});

test('a retry that succeeds returns its result and keeps only its own writes', async () => {
  let attempts = 0;
  const result = await pool.transaction(
    async (tx) => {
      attempts++;
      await tx.query(`INSERT INTO ${table} VALUES ($1)`, [attempts]);
      if (attempts === 1) await tx.query(raise('40001'));
      return attempts;
    },
    { retries: 1 },
  );
  expect(result).toBe(2);
  expect((await pool.query<{ id: number }>(`SELECT id FROM ${table} ORDER BY id`)).rows).toEqual([{ id: 2 }]);
  await pool.query(`TRUNCATE ${table}`);
});

test('other failures are never retried, whatever `retries` says', async () => {
  for (const fail of [
    (tx: { query: (sql: string) => Promise<unknown> }) => tx.query(raise('23505')),
    () => Promise.reject(new Error('not a database error')),
  ]) {
    let attempts = 0;
    const err = await pool
      .transaction(
        async (tx) => {
          attempts++;
          await fail(tx);
        },
        { retries: 3 },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(attempts).toBe(1);
  }
});

test('the connection handle is dead once transaction() has settled', async () => {
  let kept: { query: (sql: string) => Promise<unknown> } | undefined;
  await pool.transaction(async (tx) => {
    kept = tx;
  });
  await expect(kept!.query('SELECT 1')).rejects.toThrow();
});
