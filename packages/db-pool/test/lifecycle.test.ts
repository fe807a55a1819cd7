// Connection lifecycle against the real PostgreSQL: validation after idle, replacement of broken
// connections, max lifetime, idle overflow, keepalive, leak detection, drain.
import { postgresUrl } from '@periscope-tools/testing';
import { ConnectionLostError, createPool, DbPool, PoolClosedError, type PoolOptions } from '../src';
import { captureLogger, sleep, uniqueName, waitFor } from './helpers';

const pools: DbPool[] = [];
let admin: DbPool;

function newPool(options: Partial<PoolOptions> = {}): {
  pool: DbPool;
  app: string;
  logger: ReturnType<typeof captureLogger>;
} {
  const app = uniqueName('dbpool_life');
  const logger = captureLogger();
  const pool = createPool({ connectionString: postgresUrl(), applicationName: app, logger, ...options });
  pools.push(pool);
  return { pool, app, logger };
}

const pid = async (pool: DbPool): Promise<number> =>
  (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;

// Terminates only backends this test opened (matched by its unique application_name).
async function terminate(app: string, onlyPid?: number): Promise<number> {
  const r = await admin.query<{ n: string }>(
    'SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE application_name = $1 AND ($2::int IS NULL OR pid = $2)',
    [app, onlyPid ?? null],
  );
  return Number(r.rows[0].n);
}

beforeAll(() => {
  admin = createPool({ connectionString: postgresUrl(), poolSize: 1, applicationName: uniqueName('dbpool_admin') });
});
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});
afterAll(async () => {
  await admin.close();
});

test('a connection is validated on borrow only after being idle longer than validateAfterIdleMs', async () => {
  // Generous window: back-to-back queries on a loaded 2-core machine can be 100s of ms apart.
  const { pool } = newPool({ poolSize: 1, validateAfterIdleMs: 2000 });
  await pool.query('SELECT 1');
  await pool.query('SELECT 1');
  await pool.query('SELECT 1');
  expect(pool.stats().validations).toBe(0);
  await sleep(2300);
  await pool.query('SELECT 1');
  expect(pool.stats().validations).toBe(1);
  await pool.query('SELECT 1');
  expect(pool.stats().validations).toBe(1);
});

test('terminated idle backends (pg_terminate_backend): no crash, counted, and the next queries succeed on new connections', async () => {
  const { pool, app, logger } = newPool({ poolSize: 2 });
  await waitFor(() => pool.stats().total === 2, 3000, 'pool filled');
  const before = await pid(pool);
  expect(await terminate(app)).toBe(2);
  await waitFor(() => pool.stats().idleErrors === 2, 3000, 'idle errors seen');
  expect(
    logger.records.some((r) => r.level === 'warn' && /idle connection \d+ .* will be replaced/.test(r.message)),
  ).toBe(true);
  const results = await Promise.all([pid(pool), pid(pool), pid(pool)]);
  expect(results).not.toContain(before);
  await waitFor(() => pool.stats().total === 2, 3000, 'pool refilled');
});

test('a connection broken while idle is replaced before the caller sees it (validation on borrow)', async () => {
  const { pool, app } = newPool({ poolSize: 1, validateAfterIdleMs: 0 });
  const first = await pid(pool);
  await sleep(5);
  await terminate(app, first);
  // Straight away, whether or not the client noticed yet: validation catches it.
  const next = await pid(pool);
  expect(next).not.toBe(first);
});

test('after a detected disconnect, older connections are validated at their next checkout', async () => {
  const { pool, app } = newPool({ poolSize: 3, validateAfterIdleMs: 60_000 });
  await waitFor(() => pool.stats().total === 3, 3000, 'pool filled');
  const pids = await pool.withConnection(async (a) =>
    pool.withConnection(async (b) =>
      pool.withConnection(async (c) => {
        const q = (x: typeof a) =>
          x.query<{ pid: number }>('SELECT pg_backend_pid() AS pid').then((r) => r.rows[0].pid);
        return [await q(a), await q(b), await q(c)];
      }),
    ),
  );
  expect(pool.stats().validations).toBe(0);
  await terminate(app, pids[0]);
  await waitFor(() => pool.stats().idleErrors === 1, 3000, 'disconnect detected');
  await pool.withConnection(async () => pool.withConnection(async () => pool.withConnection(async () => undefined)));
  // The two survivors were checked with a round trip, though idle far less than validateAfterIdleMs.
  expect(pool.stats().validations).toBeGreaterThanOrEqual(2);
});

test('max lifetime retires idle connections, never one in use', async () => {
  const { pool } = newPool({ poolSize: 1, maxLifetimeMs: 300 });
  const held = await pool.withConnection(async (c) => {
    const q = () => c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid').then((r) => r.rows[0].pid);
    const a = await q();
    await sleep(450); // past its lifetime while borrowed
    const b = await q();
    expect(b).toBe(a);
    expect(pool.stats().recycled).toBe(0);
    return a;
  });
  // Retired when it came back; the pool replaced it.
  await waitFor(() => pool.stats().recycled >= 1, 2000, 'retired after release');
  expect(await pid(pool)).not.toBe(held);
  // Idle connections are retired by the housekeeper too.
  const current = await pid(pool);
  await waitFor(async () => (await pid(pool)) !== current, 2000, 'idle connection retired');
});

test('max lifetime has jitter: each connection gets its own, up to 2.5 % shorter', async () => {
  const lifetime = 600_000;
  const { pool } = newPool({ poolSize: 6, maxLifetimeMs: lifetime });
  await waitFor(() => pool.stats().total === 6, 5000, 'pool filled');
  const lifetimes = pool.connections().map((c) => c.lifetimeMs!);
  for (const l of lifetimes) {
    expect(l).toBeLessThanOrEqual(lifetime);
    expect(l).toBeGreaterThanOrEqual(lifetime * 0.975);
  }
  expect(new Set(lifetimes).size).toBeGreaterThan(1);
});

test('overflow connections close once idle past idleTimeoutMs; poolSize connections stay', async () => {
  const { pool } = newPool({ poolSize: 1, maxOverflow: 2, idleTimeoutMs: 150, maxLifetimeMs: 0 });
  await Promise.all(Array.from({ length: 3 }, () => pool.withConnection(() => sleep(400))));
  expect(pool.stats().total).toBe(3);
  await waitFor(() => pool.stats().total === 1, 2000, 'overflow closed');
  expect(pool.stats().recycled).toBe(2);
  await sleep(300);
  expect(pool.stats().total).toBe(1);
});

test('waiters with a higher priority (lower number) are served first', async () => {
  const { pool } = newPool({ poolSize: 1, priorityLevels: 2 });
  let release!: () => void;
  const held = pool.withConnection(
    () =>
      new Promise<void>((r) => {
        release = r;
      }),
  );
  await waitFor(() => pool.stats().active === 1, 2000, 'borrowed');
  const order: string[] = [];
  const low = pool.withConnection(
    async () => {
      order.push('low');
    },
    { priority: 1 },
  );
  const high = pool.withConnection(
    async () => {
      order.push('high');
    },
    { priority: 0 },
  );
  release();
  await Promise.all([held, low, high]);
  expect(order).toEqual(['high', 'low']);
});

test('keepalive pings idle connections', async () => {
  const { pool } = newPool({ poolSize: 1, keepaliveMs: 80, validateAfterIdleMs: 60_000 });
  await waitFor(() => pool.stats().total === 1, 3000, 'pool filled');
  await waitFor(() => pool.stats().validations >= 2, 2000, 'two keepalive pings');
  expect(pool.stats().validationFailures).toBe(0);
});

test('leak detection reports a connection held too long, once, with the stack that acquired it', async () => {
  const { pool, logger } = newPool({ poolSize: 1, leakDetectionMs: 100 });
  await pool.withConnection(() => sleep(10)); // quick borrow: no report
  expect(pool.stats().leaks).toBe(0);
  await pool.withConnection(async function holdsTooLong() {
    await sleep(300);
  });
  const leaks = logger.records.filter((r) => /possible leak/.test(r.message));
  expect(leaks).toHaveLength(1);
  expect(leaks[0].level).toBe('warn');
  expect(leaks[0].message).toMatch(/held for more than 100 ms/);
  expect(String(leaks[0].meta?.stack)).toMatch(/lifecycle\.test\.ts/);
  expect(pool.stats().leaks).toBe(1);
});

test('leak detection names the statement when a query() holds its connection too long', async () => {
  const { pool, logger } = newPool({ poolSize: 1, leakDetectionMs: 80 });
  await pool.query("SELECT pg_sleep(0.25), 'hidden literal'");
  const reports = logger.records.filter((r) => /held for more than 80 ms by query\(\)/.test(r.message));
  expect(reports).toHaveLength(1);
  expect(reports[0].message).toContain('SELECT pg_sleep(?), ?');
  expect(pool.stats().leaks).toBe(1);
});

test('drain lets borrowed work finish and refuses new work', async () => {
  const { pool } = newPool({ poolSize: 2 });
  const inFlight = pool.withConnection(async (c) => {
    await sleep(100);
    return (await c.query<{ one: number }>('SELECT 1 AS one')).rows[0].one;
  });
  await sleep(10);
  const drained = pool.drain({ timeoutMs: 2000 });
  await expect(pool.query('SELECT 1')).rejects.toBeInstanceOf(PoolClosedError);
  await expect(inFlight).resolves.toBe(1);
  await expect(drained).resolves.toEqual({ drained: true, forced: 0 });
  expect(pool.stats()).toMatchObject({ state: 'closed', total: 0 });
});

test('drain past its timeout closes connections still borrowed', async () => {
  const { pool } = newPool({ poolSize: 1 });
  const stuck = pool.query('SELECT pg_sleep(3)').catch((e: unknown) => e);
  await waitFor(() => pool.stats().active === 1, 2000, 'borrowed');
  const started = Date.now();
  await expect(pool.drain({ timeoutMs: 100 })).resolves.toEqual({ drained: false, forced: 1 });
  expect(Date.now() - started).toBeLessThan(1000);
  expect(await stuck).toBeInstanceOf(ConnectionLostError);
});
