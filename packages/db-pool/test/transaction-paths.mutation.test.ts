// Issue 21 (mutation testing): what transaction() leaves behind, against the real PostgreSQL: the
// connection is back in the pool (session reset done) when the promise settles, and a transaction
// held too long is reported with the caller's stack.
import { postgresUrl } from '@periscope-tools/testing';
import { createPool, type DbPool } from '../src';
import { captureLogger, sleep, uniqueName } from './helpers';

const pools: DbPool[] = [];
const newPool = (options: Partial<Parameters<typeof createPool>[0]> = {}) => {
  const logger = captureLogger();
  const pool = createPool({
    connectionString: postgresUrl(),
    poolSize: 1,
    applicationName: uniqueName('dbpool_txp'),
    logger,
    ...options,
  });
  pools.push(pool);
  return { pool, logger };
};
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

test('a transaction that changed session state settles only once the reset has run and the connection is idle', async () => {
  const { pool } = newPool();
  for (const outcome of ['commit', 'rollback'] as const) {
    const before = pool.stats().resets;
    const done = pool.transaction(async (tx) => {
      await tx.query("SELECT set_config('application_name', 'changed_by_tx', false)");
      if (outcome === 'rollback') throw new Error('planted');
    });
    if (outcome === 'rollback') await expect(done).rejects.toThrow('planted');
    else await done;
    expect(pool.stats()).toMatchObject({ total: 1, idle: 1, active: 0, resets: before + 1 });
  }
  // The next borrower gets a clean session.
  const name = (await pool.query<{ n: string }>("SELECT current_setting('application_name') AS n")).rows[0].n;
  expect(name).not.toBe('changed_by_tx');
});

test('a failed transaction is rolled back before the promise rejects: the connection is idle and outside any transaction', async () => {
  const { pool, logger } = newPool();
  await expect(
    pool.transaction(async (tx) => {
      await tx.query('SELECT 1');
      throw new Error('planted');
    }),
  ).rejects.toThrow('planted');
  expect(pool.stats()).toMatchObject({ idle: 1, active: 0 });
  expect(logger.records.filter((r) => r.level === 'warn')).toEqual([]);
  const status = await pool.withConnection(
    async (c) => (await c.query<{ x: string }>('SELECT now() = statement_timestamp() AS x')).rows[0].x,
  );
  expect(status).toBe(true); // a fresh implicit transaction per statement: no transaction left open
});

test('leak detection: a transaction held too long is reported once, with the stack of the caller', async () => {
  const { pool, logger } = newPool({ leakDetectionMs: 80 });
  await pool.transaction(async function holdsTheTransaction(tx) {
    await tx.query('SELECT 1');
    await sleep(300);
  });
  const leaks = logger.records.filter((r) => /possible leak/.test(r.message));
  expect(leaks).toHaveLength(1);
  expect(String(leaks[0].meta?.stack)).toMatch(/transaction-paths\.mutation\.test\.ts/);
  expect(pool.stats().leaks).toBe(1);
});
