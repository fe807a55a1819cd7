import { postgresUrl } from '@periscope-tools/testing';
import {
  createPool,
  DbPool,
  InvalidArgumentError,
  PoolClosedError,
  PoolExhaustedError,
  PoolTimeoutError,
  QueryError,
} from '../src';
import { captureLogger, sleep, uniqueName, waitFor } from './helpers';

const app = uniqueName('dbpool_basic');
const logger = captureLogger();
let pool: DbPool;

beforeAll(() => {
  pool = createPool({
    connectionString: postgresUrl(),
    poolSize: 2,
    maxOverflow: 1,
    applicationName: app,
    acquireTimeoutMs: 2000,
    logger,
  });
});
afterAll(async () => {
  await pool.close();
});

test('query runs statements with parameters and returns rows', async () => {
  const r = await pool.query<{ n: number; s: string }>('SELECT $1::int + 1 AS n, $2::text AS s', [41, 'hi']);
  expect(r.rows).toEqual([{ n: 42, s: 'hi' }]);
});

test('server errors become QueryError with the SQLSTATE', async () => {
  const err = await pool.query('SELECT * FROM no_such_table_at_all').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(QueryError);
  expect((err as QueryError).sqlState).toBe('42P01');
  expect((err as QueryError).code).toBe('ERR_DB_POOL_QUERY_FAILED');
  // The connection is fine afterwards.
  expect((await pool.query('SELECT 1 AS one')).rows[0].one).toBe(1);
});

test('poolSize connections are kept open and carry the application name', async () => {
  await waitFor(() => pool.stats().total >= 2, 5000, 'pool filled to poolSize');
  const r = await pool.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1', [
    app,
  ]);
  expect(Number(r.rows[0].n)).toBeGreaterThanOrEqual(2);
  const s = pool.stats();
  expect(s).toMatchObject({ poolSize: 2, maxOverflow: 1, max: 3, state: 'open' });
});

test('overflow connections open under load: exactly poolSize + maxOverflow, then callers wait', async () => {
  // Every borrower holds its connection until all are out, so the pool must open the overflow one.
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const pids = new Set<number>();
  const holders = Array.from({ length: 3 }, () =>
    pool.withConnection(async (c) => {
      pids.add((await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid);
      await gate;
    }),
  );
  await waitFor(() => pool.stats().active === 3, 3000, 'poolSize + maxOverflow borrowed');
  await waitFor(() => pids.size === 3, 3000, 'three distinct backends');
  expect(pool.stats()).toMatchObject({ total: 3, active: 3, idle: 0 });
  // One more caller waits instead of opening a fourth connection.
  const fourth = pool.query<{ n: number }>('SELECT 4 AS n');
  await waitFor(() => pool.stats().pending === 1, 2000, 'fourth caller waiting');
  await sleep(100);
  expect(pool.stats().total).toBe(3);
  release();
  await Promise.all(holders);
  await expect(fourth).resolves.toMatchObject({ rows: [{ n: 4 }] });
});

test('waiters are served in arrival order', async () => {
  const order: number[] = [];
  const hold = Array.from({ length: 3 }, () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const done = pool.withConnection(() => gate);
    return { release, done };
  });
  await waitFor(() => pool.stats().active === 3, 2000, 'all connections borrowed');
  const waiters = [1, 2, 3, 4].map((i) =>
    pool.withConnection(async () => {
      order.push(i);
    }),
  );
  await sleep(20);
  for (const h of hold) h.release();
  await Promise.all([...hold.map((h) => h.done), ...waiters]);
  expect(order).toEqual([1, 2, 3, 4]);
});

test('withConnection gives a connection that is unusable after the callback', async () => {
  let kept: { query(t: string): Promise<unknown> } | undefined;
  const same = await pool.withConnection(async (c) => {
    kept = c;
    const a = await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const b = await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return a.rows[0].pid === b.rows[0].pid;
  });
  expect(same).toBe(true);
  await expect(kept!.query('SELECT 1')).rejects.toBeInstanceOf(InvalidArgumentError);
});

test('a transaction left open in withConnection is rolled back before reuse', async () => {
  const table = uniqueName('dbpool_leftover');
  await pool.query(`CREATE TABLE ${table} (id int)`);
  try {
    await pool.withConnection(async (c) => {
      await c.query('BEGIN');
      await c.query(`INSERT INTO ${table} VALUES (1)`);
    });
    const r = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
    expect(r.rows[0].n).toBe('0');
    expect(
      logger.records.some(
        (l) => l.level === 'warn' && /came back inside a transaction; rolling it back/.test(l.message),
      ),
    ).toBe(true);
  } finally {
    await pool.query(`DROP TABLE IF EXISTS ${table}`);
  }
});

test('acquire timeout raises PoolTimeoutError with the pool counts', async () => {
  const small = createPool({
    connectionString: postgresUrl(),
    poolSize: 1,
    acquireTimeoutMs: 150,
    applicationName: app,
  });
  try {
    await waitFor(() => small.stats().total === 1, 3000, 'pool filled');
    let release!: () => void;
    const held = small.withConnection(
      () =>
        new Promise<void>((r) => {
          release = r;
        }),
    );
    await waitFor(() => small.stats().active === 1, 2000, 'connection borrowed');
    const started = Date.now();
    const err = await small.query('SELECT 1').catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(err).toBeInstanceOf(PoolTimeoutError);
    expect((err as Error).message).toMatch(/total=1 idle=0 active=1 waiting=\d+ max=1/);
    expect(small.stats().acquireTimeouts).toBe(1);
    release();
    await held;
  } finally {
    await small.close();
  }
});

test('each waiter gets the acquire timeout from when it started waiting; served waiters never time out', async () => {
  const small = createPool({
    connectionString: postgresUrl(),
    poolSize: 1,
    acquireTimeoutMs: 200,
    applicationName: app,
  });
  try {
    await waitFor(() => small.stats().total === 1, 3000, 'pool filled');
    let release!: () => void;
    const held = small.withConnection(
      () =>
        new Promise<void>((r) => {
          release = r;
        }),
    );
    await waitFor(() => small.stats().active === 1, 2000, 'connection borrowed');
    const settledAt = (p: Promise<unknown>, started: number) =>
      p.then(
        () => Date.now() - started,
        (e: unknown) => ({ e, after: Date.now() - started }),
      );
    const t1 = Date.now();
    const first = settledAt(small.query('SELECT 1'), t1);
    await sleep(100);
    const t2 = Date.now();
    const second = settledAt(small.query('SELECT 1'), t2);
    const r1 = (await first) as { e: unknown; after: number };
    expect(r1.e).toBeInstanceOf(PoolTimeoutError);
    expect(r1.after).toBeGreaterThanOrEqual(190);
    expect(r1.after).toBeLessThan(2000);
    // The second waiter is still waiting when the first times out, and gets its own full 200 ms.
    const r2 = (await second) as { e: unknown; after: number };
    expect(r2.e).toBeInstanceOf(PoolTimeoutError);
    expect(r2.after).toBeGreaterThanOrEqual(190);
    expect(r2.after).toBeLessThan(2000);
    // A waiter served in time resolves, and no timeout fires for it later.
    const third = small.query<{ n: number }>('SELECT 3 AS n');
    await sleep(50);
    release();
    await held;
    await expect(third).resolves.toMatchObject({ rows: [{ n: 3 }] });
    await sleep(200);
    expect(small.stats().acquireTimeouts).toBe(2);
  } finally {
    await small.close();
  }
});

test('maxWaiting exceeded raises PoolExhaustedError at once', async () => {
  const small = createPool({
    connectionString: postgresUrl(),
    poolSize: 1,
    maxWaiting: 1,
    acquireTimeoutMs: 2000,
    applicationName: app,
  });
  try {
    let release!: () => void;
    const held = small.withConnection(
      () =>
        new Promise<void>((r) => {
          release = r;
        }),
    );
    await waitFor(() => small.stats().active === 1, 2000, 'connection borrowed');
    const waiting = small.query('SELECT 1');
    const started = Date.now();
    await expect(small.query('SELECT 1')).rejects.toBeInstanceOf(PoolExhaustedError);
    expect(Date.now() - started).toBeLessThan(1000);
    release();
    await held;
    await expect(waiting).resolves.toBeDefined();
  } finally {
    await small.close();
  }
});

test('bad input gets typed errors naming the argument', async () => {
  await expect(pool.query('')).rejects.toMatchObject({ code: 'ERR_DB_POOL_INVALID_ARGUMENT', argument: 'text' });
  await expect(pool.query('SELECT 1', 'x' as unknown as unknown[])).rejects.toMatchObject({ argument: 'params' });
  await expect(pool.transaction(async () => 1, { isolationLevel: 'chaos' as never })).rejects.toMatchObject({
    argument: 'isolationLevel',
  });
});

test('close is idempotent, then the pool refuses work and holds no connections', async () => {
  const p = createPool({ connectionString: postgresUrl(), poolSize: 2, applicationName: app });
  await p.query('SELECT 1');
  await Promise.all([p.close(), p.close()]);
  await p.close();
  expect(p.stats()).toMatchObject({ state: 'closed', total: 0 });
  await expect(p.query('SELECT 1')).rejects.toBeInstanceOf(PoolClosedError);
});
