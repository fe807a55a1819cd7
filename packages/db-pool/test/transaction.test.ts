import { postgresUrl } from '@periscope-tools/testing';
import { createPool, DbPool, QueryError, QueryTimeoutError, QueryAbortedError } from '../src';
import { captureLogger, uniqueName, waitFor } from './helpers';

const table = uniqueName('dbpool_tx');
const logger = captureLogger();
let pool: DbPool;

beforeAll(async () => {
  pool = createPool({ connectionString: postgresUrl(), poolSize: 3, applicationName: uniqueName('dbpool_tx'), logger });
  await pool.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v int NOT NULL)`);
});
afterAll(async () => {
  await pool.query(`DROP TABLE IF EXISTS ${table}`);
  await pool.close();
});
beforeEach(async () => {
  await pool.query(`TRUNCATE ${table}`);
});

const count = async () => Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);

test('commits what fn did and returns its result', async () => {
  const r = await pool.transaction(async (tx) => {
    await tx.query(`INSERT INTO ${table} VALUES (1, 10), (2, 20)`);
    return 'ok';
  });
  expect(r).toBe('ok');
  expect(await count()).toBe(2);
});

test('rolls back when fn throws and rethrows the same error', async () => {
  const boom = new Error('boom');
  await expect(
    pool.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${table} VALUES (1, 10)`);
      throw boom;
    }),
  ).rejects.toBe(boom);
  expect(await count()).toBe(0);
});

test('isolation level and read-only reach the server', async () => {
  const seen = await pool.transaction(
    async (tx) =>
      (
        await tx.query<{ l: string; ro: string }>(
          "SELECT current_setting('transaction_isolation') AS l, current_setting('transaction_read_only') AS ro",
        )
      ).rows[0],
    { isolationLevel: 'serializable', readOnly: true },
  );
  expect(seen).toEqual({ l: 'serializable', ro: 'on' });
  const err = await pool
    .transaction((tx) => tx.query(`INSERT INTO ${table} VALUES (1, 1)`), { readOnly: true })
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(QueryError);
  expect((err as QueryError).sqlState).toBe('25006');
  expect(await count()).toBe(0);
});

// Two serializable transactions that each read what the other writes: one must fail with 40001.
async function writeSkew(retries: number): Promise<{ results: PromiseSettledResult<number>[]; attempts: number }> {
  await pool.query(`INSERT INTO ${table} VALUES (1, 0), (2, 0)`);
  let attempts = 0;
  let arrived = 0;
  let bothRead!: () => void;
  const barrier = new Promise<void>((r) => {
    bothRead = r;
  });
  const run = (mine: number, other: number) =>
    pool.transaction(
      async (tx) => {
        attempts++;
        const r = await tx.query<{ v: number }>(`SELECT v FROM ${table} WHERE id = $1`, [other]);
        if (++arrived === 2) bothRead();
        // Only the first round waits for the other; retries run alone.
        if (arrived <= 2) await barrier;
        await tx.query(`UPDATE ${table} SET v = $1 WHERE id = $2`, [r.rows[0].v + 1, mine]);
        return mine;
      },
      { isolationLevel: 'serializable', retries },
    );
  const results = await Promise.allSettled([run(1, 2), run(2, 1)]);
  return { results, attempts };
}

test('without retries a serialization failure (40001) reaches the caller', async () => {
  const { results } = await writeSkew(0);
  const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
  expect(failed).toHaveLength(1);
  expect(failed[0].reason).toBeInstanceOf(QueryError);
  expect((failed[0].reason as QueryError).sqlState).toBe('40001');
});

test('with retries the failed transaction is run again and both succeed', async () => {
  const { results, attempts } = await writeSkew(2);
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
  expect(attempts).toBe(3);
});

test('a deadlock (40P01) is retried', async () => {
  await pool.query(`INSERT INTO ${table} VALUES (1, 0), (2, 0)`);
  let attempts = 0;
  let arrived = 0;
  let bothLocked!: () => void;
  const barrier = new Promise<void>((r) => {
    bothLocked = r;
  });
  const run = (first: number, second: number) =>
    pool.transaction(
      async (tx) => {
        attempts++;
        await tx.query(`UPDATE ${table} SET v = v + 1 WHERE id = $1`, [first]);
        if (++arrived === 2) bothLocked();
        if (arrived <= 2) await barrier;
        await tx.query(`UPDATE ${table} SET v = v + 1 WHERE id = $1`, [second]);
      },
      { retries: 1 },
    );
  const results = await Promise.allSettled([run(1, 2), run(2, 1)]);
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
  expect(attempts).toBe(3);
  const rows = (await pool.query<{ v: number }>(`SELECT v FROM ${table} ORDER BY id`)).rows.map((r) => r.v);
  expect(rows).toEqual([2, 2]);
});

test('statementTimeoutMs makes the server cancel long statements (57014) and the connection stays usable', async () => {
  const p = createPool({
    connectionString: postgresUrl(),
    poolSize: 1,
    statementTimeoutMs: 100,
    applicationName: uniqueName('dbpool_st'),
    logger,
  });
  try {
    const started = Date.now();
    const err = await p.query('SELECT pg_sleep(5)').catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(err).toBeInstanceOf(QueryError);
    expect((err as QueryError).sqlState).toBe('57014');
    expect((await p.query('SELECT 2 AS two')).rows[0].two).toBe(2);
    expect(p.stats().destroyed).toBe(0);
  } finally {
    await p.close();
  }
});

test('a client-side timeoutMs fails the query with QueryTimeoutError, cancels it on the server and discards the connection', async () => {
  const before = pool.stats().destroyed;
  const probe = uniqueName('probe');
  const err = await pool.query(`SELECT pg_sleep(5) AS ${probe}`, [], { timeoutMs: 100 }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(QueryTimeoutError);
  await waitFor(() => pool.stats().destroyed === before + 1, 2000, 'timed-out connection discarded');
  expect((await pool.query('SELECT 3 AS three')).rows[0].three).toBe(3);
  // The server stopped running it (cancel request), rather than sleeping on for 5 s.
  await waitFor(
    async () => {
      const r = await pool.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()",
        [`%AS ${probe}`],
      );
      return r.rows[0].n === '0';
    },
    1000,
    'server-side cancel',
  );
});

test('an AbortSignal cancels a running query', async () => {
  const ac = new AbortController();
  const q = pool.query('SELECT pg_sleep(5)', [], { signal: ac.signal });
  setTimeout(() => ac.abort(), 50);
  await expect(q).rejects.toBeInstanceOf(QueryAbortedError);
});

test('a failed transaction sends its own ROLLBACK: no safety-net warning, the connection is kept and clean', async () => {
  const log = captureLogger();
  const p = createPool({
    connectionString: postgresUrl(),
    poolSize: 1,
    applicationName: uniqueName('dbpool_rb'),
    logger: log,
  });
  try {
    const boom = new Error('boom');
    await expect(
      p.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${table} VALUES (7, 7)`);
        throw boom;
      }),
    ).rejects.toBe(boom);
    // A statement that failed inside (the transaction is in the aborted state 'E').
    await expect(p.transaction((tx) => tx.query('SELECT 1 / 0'))).rejects.toMatchObject({ sqlState: '22012' });
    // The release-time safety net (which warns) was never needed: transaction() rolled back itself.
    expect(log.records.filter((r) => /inside a transaction/.test(r.message))).toEqual([]);
    expect(p.stats()).toMatchObject({ created: 1, destroyed: 0 });
    expect(await count()).toBe(0);
    // The same connection runs the next transaction normally.
    await p.transaction((tx) => tx.query(`INSERT INTO ${table} VALUES (8, 8)`));
    expect(await count()).toBe(1);
  } finally {
    await p.close();
  }
});
