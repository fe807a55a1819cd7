// Issue 21 (mutation testing): what transaction() leaves behind, against the real PostgreSQL: the
// connection is back in the pool (session reset done) when the promise settles, a transaction
// held too long is reported with the caller's stack, nothing more is sent on a connection given
// up, and the retry pause.
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { postgresUrl } from '@periscope-tools/testing';
import { createPool, QueryError, QueryTimeoutError, type DbPool } from '../src';
import { captureLogger, sleep, uniqueName, waitFor } from './helpers';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  trace.disable();
  await provider.shutdown();
});

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
  exporter.reset();
  jest.restoreAllMocks();
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

test('a transaction whose statement timed out sends no ROLLBACK on the connection given up', async () => {
  // A ROLLBACK there would queue behind the cancelled statement and hold back the caller's error
  // until the connection is closed; the connection is discarded instead.
  const { pool } = newPool();
  const err = await pool
    .transaction((tx) => tx.query('SELECT pg_sleep(5)', [], { timeoutMs: 100 }))
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(QueryTimeoutError);
  await waitFor(() => pool.stats().destroyed === 1, 10000, 'timed-out connection discarded');
  const sent = exporter.getFinishedSpans().map((s) => String(s.attributes['db.query.text']));
  expect(sent).toContain('BEGIN');
  expect(sent).not.toContain('ROLLBACK');
  expect(sent).not.toContain('COMMIT');
});

test('the pause before a retry is 5-25 ms times the attempt number (jittered)', async () => {
  const { pool } = newPool();
  await pool.query('SELECT 1'); // the connection is open and idle: no other timers while it runs
  jest.spyOn(Math, 'random').mockReturnValue(0.5);
  const pauses: number[] = [];
  const realSetTimeout = global.setTimeout;
  jest.spyOn(global, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
    if (ms) pauses.push(ms); // the driver and generic-pool defer work with setTimeout(fn, 0)
    return realSetTimeout(fn, ms);
  }) as typeof setTimeout);
  let attempts = 0;
  const err = await pool
    .transaction(
      async (tx) => {
        attempts++;
        await tx.query("DO $$ BEGIN RAISE EXCEPTION 'planted' USING ERRCODE = '40001'; END $$");
      },
      { retries: 2 },
    )
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(QueryError);
  expect(attempts).toBe(3);
  // Math.random() = 0.5: (5 + 10) ms after the first attempt, twice that after the second.
  expect(pauses).toEqual([15, 30]);
});
