// Issue 21 (mutation testing): the acquire path against the real PostgreSQL, as a caller and an
// operator see it: abort before and while waiting, who counts against maxWaiting, what an acquire
// timeout says and counts, the wait histogram and gauges, validation (once per disconnect, and a
// failed one replaced), a caller with a signal bounded by acquireTimeoutMs, clean-up on return
// (failed or server-killed transactions, a failing reset), and leak reports.
import { createMetrics, type Metrics } from '@periscope/metrics';
import { outcomeWithin, postgresUrl, TcpFaultProxy } from '@periscope-tools/testing';
import {
  ConnectError,
  createPool,
  DbPool,
  PoolExhaustedError,
  PoolTimeoutError,
  QueryAbortedError,
  type PoolOptions,
} from '../src';
import { captureLogger, hold, sleep, uniqueName, waitFor } from './helpers';

const pools: DbPool[] = [];
let admin: DbPool;
let proxy: TcpFaultProxy | undefined;

function newPool(options: Partial<PoolOptions> = {}): {
  pool: DbPool;
  app: string;
  name: string;
  metrics: Metrics;
  logger: ReturnType<typeof captureLogger>;
} {
  const app = uniqueName('dbpool_acq');
  const name = uniqueName('acq');
  const logger = captureLogger();
  const metrics = createMetrics();
  const pool = createPool({ connectionString: postgresUrl(), applicationName: app, name, logger, metrics, ...options });
  pools.push(pool);
  return { pool, app, name, metrics, logger };
}

function metric(body: string, line: string): number | undefined {
  const found = body.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(found.lastIndexOf(' ') + 1));
}

beforeAll(() => {
  admin = createPool({ connectionString: postgresUrl(), poolSize: 1, applicationName: uniqueName('dbpool_acq_admin') });
});
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
  await proxy?.close();
  proxy = undefined;
});
afterAll(async () => {
  await admin.close();
});

test('a caller whose signal has already fired gets QueryAbortedError with its reason; nothing is borrowed or queued', async () => {
  const { pool } = newPool({ poolSize: 1 });
  await waitFor(() => pool.stats().total === 1, 3000, 'pool filled');
  const ac = new AbortController();
  ac.abort(new Error('caller went away'));
  let called = false;
  const err = await pool
    .withConnection(
      () => {
        called = true;
      },
      { signal: ac.signal },
    )
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(QueryAbortedError);
  expect((err as QueryAbortedError).cause).toBe(ac.signal.reason);
  expect(called).toBe(false);
  const viaQuery = await pool.query('SELECT 1', [], { signal: ac.signal }).catch((e: unknown) => e);
  expect(viaQuery).toBeInstanceOf(QueryAbortedError);
  expect(pool.stats()).toMatchObject({ active: 0, idle: 1, pending: 0, destroyed: 0 });
});

test('a caller that gives up while waiting leaves the queue at once; the connection released later goes back to the pool', async () => {
  const { pool, name, metrics } = newPool({ poolSize: 1, maxOverflow: 0, acquireTimeoutMs: 60_000 });
  const release = await hold(pool);
  const ac = new AbortController();
  let called = false;
  const waiting = pool
    .withConnection(
      () => {
        called = true;
      },
      { signal: ac.signal },
    )
    .catch((e: unknown) => e);
  await waitFor(() => pool.stats().pending === 1, 3000, 'caller waiting');
  ac.abort(new Error('user pressed stop'));
  const err = await waiting;
  expect(err).toBeInstanceOf(QueryAbortedError);
  expect((err as QueryAbortedError).cause).toBe(ac.signal.reason);
  expect(pool.stats()).toMatchObject({ pending: 0, active: 1 });
  await release();
  expect(called).toBe(false);
  expect(pool.stats()).toMatchObject({ pending: 0, active: 0, idle: 1, total: 1, destroyed: 0 });
  const body = (await metrics.expose()).body;
  expect(metric(body, `periscope_db_pool_connections{pool="${name}",state="active"}`)).toBe(0);
  expect(metric(body, `periscope_db_pool_connections{pool="${name}",state="idle"}`)).toBe(1);
  // A waiter with a signal that is served in time gets the connection; a later abort changes nothing.
  const release2 = await hold(pool);
  const ac2 = new AbortController();
  const served = pool.withConnection((c) => c.query<{ n: number }>('SELECT 7 AS n'), { signal: ac2.signal });
  await waitFor(() => pool.stats().pending === 1, 3000, 'second caller waiting');
  await release2();
  expect((await served).rows).toEqual([{ n: 7 }]);
  ac2.abort();
  expect(pool.stats()).toMatchObject({ pending: 0, active: 0, idle: 1, total: 1 });
});

test('maxWaiting counts only callers that really wait: an idle connection or room to open one serves the caller', async () => {
  const { pool, name } = newPool({ poolSize: 1, maxOverflow: 1, maxWaiting: 0, acquireTimeoutMs: 60_000 });
  await waitFor(() => pool.stats().total === 1, 3000, 'pool filled');
  // An idle connection: served.
  expect((await pool.query<{ n: number }>('SELECT 1 AS n')).rows).toEqual([{ n: 1 }]);
  const releaseFirst = await hold(pool);
  // None idle, but room for an overflow connection: served.
  const releaseSecond = await hold(pool);
  expect(pool.stats()).toMatchObject({ total: 2, active: 2, idle: 0 });
  // Neither: refused at once, with the counts.
  const err = await pool.query('SELECT 1').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(PoolExhaustedError);
  expect((err as Error).message).toBe(
    `pool ${name} has 0 callers waiting (maxWaiting 0); total=2 idle=0 active=2 waiting=0 max=2`,
  );
  await releaseSecond();
  // One idle again: served, though maxWaiting is 0.
  expect((await pool.query<{ n: number }>('SELECT 2 AS n')).rows).toEqual([{ n: 2 }]);
  await releaseFirst();
});

test('an acquire timeout: the error says how long and where, and it is counted in stats and metrics', async () => {
  const { pool, name, metrics } = newPool({ poolSize: 1, maxOverflow: 0, acquireTimeoutMs: 200 });
  const release = await hold(pool);
  const err = await pool.query('SELECT 1').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(PoolTimeoutError);
  expect((err as PoolTimeoutError).timeoutMs).toBe(200);
  // The database answers: no connection error is named.
  expect((err as Error).message).toMatch(
    new RegExp(
      `^no connection available within 200 ms from pool ${name} \\(total=1 idle=0 active=1 waiting=\\d max=1\\)$`,
    ),
  );
  expect((err as Error).cause).toBeUndefined();
  const viaBorrow = await pool.withConnection(() => undefined).catch((e: unknown) => e);
  expect(viaBorrow).toBeInstanceOf(PoolTimeoutError);
  expect(pool.stats().acquireTimeouts).toBe(2);
  const body = (await metrics.expose()).body;
  expect(metric(body, `periscope_db_pool_acquire_timeouts_total{pool="${name}"}`)).toBe(2);
  expect(metric(body, `periscope_db_pool_errors_total{pool="${name}",class="acquire_timeout"}`)).toBe(2);
  await release();
  expect(pool.stats()).toMatchObject({ pending: 0, active: 0, idle: 1 });
});

test('a caller with a signal that never fires still gets PoolTimeoutError at acquireTimeoutMs', async () => {
  const { pool, name } = newPool({ poolSize: 1, maxOverflow: 0, acquireTimeoutMs: 200 });
  const release = await hold(pool);
  const ac = new AbortController();
  const outcome = (p: Promise<unknown>) => outcomeWithin(p, 10_000, 'still waiting after 10 s'); // 50 times the timeout
  const viaQuery = await outcome(pool.query('SELECT 1', [], { signal: ac.signal }));
  expect(viaQuery).toBeInstanceOf(PoolTimeoutError);
  expect((viaQuery as Error).message).toMatch(new RegExp(`^no connection available within 200 ms from pool ${name} `));
  const viaBorrow = await outcome(pool.withConnection(() => undefined, { signal: ac.signal }));
  expect(viaBorrow).toBeInstanceOf(PoolTimeoutError);
  const viaTransaction = await outcome(pool.transaction(() => undefined, { signal: ac.signal }));
  expect(viaTransaction).toBeInstanceOf(PoolTimeoutError);
  expect(pool.stats()).toMatchObject({ acquireTimeouts: 3, pending: 0, active: 1 });
  await release();
  expect(pool.stats()).toMatchObject({ pending: 0, active: 0, idle: 1 });
});

test('the acquire wait histogram has one observation per borrow, and its sum is the time callers waited', async () => {
  const { pool, name, metrics } = newPool({ poolSize: 1, maxOverflow: 0, acquireTimeoutMs: 60_000 });
  await waitFor(() => pool.stats().total === 1, 3000, 'pool filled');
  const t0 = performance.now();
  await pool.query('SELECT 1');
  await pool.withConnection(() => undefined);
  await pool.transaction((c) => c.query('SELECT 1'));
  // The fifth borrow waits at least 300 ms for the fourth's connection.
  const release = await hold(pool);
  const heldAt = performance.now();
  const waiting = pool.query('SELECT 1');
  await sleep(300);
  const releasedAt = performance.now();
  await release();
  await waiting;
  const elapsed = (performance.now() - t0) / 1000;
  const body = (await metrics.expose()).body;
  expect(metric(body, `periscope_db_pool_acquire_wait_seconds_count{pool="${name}"}`)).toBe(5);
  const sum = metric(body, `periscope_db_pool_acquire_wait_seconds_sum{pool="${name}"}`)!;
  expect(sum).toBeGreaterThanOrEqual((releasedAt - heldAt) / 1000 - 0.05);
  expect(sum).toBeLessThanOrEqual(elapsed);
});

test('after a disconnect, an older connection is validated once, then trusted again; both counted in metrics', async () => {
  const { pool, name, metrics } = newPool({ poolSize: 2, validateAfterIdleMs: 60_000 });
  await waitFor(() => pool.stats().total === 2, 3000, 'pool filled');
  const pids = await pool.withConnection(async (a) =>
    pool.withConnection(async (b) => {
      const q = (x: typeof a) => x.query<{ pid: number }>('SELECT pg_backend_pid() AS pid').then((r) => r.rows[0].pid);
      return [await q(a), await q(b)];
    }),
  );
  expect(pool.stats().validations).toBe(0);
  await admin.query('SELECT pg_terminate_backend($1)', [pids[0]]);
  await waitFor(() => pool.stats().idleErrors === 1, 3000, 'disconnect detected');
  const both = () => pool.withConnection(async () => pool.withConnection(async () => undefined));
  await both();
  // The survivor was checked; the replacement, newer than the disconnect, was not.
  expect(pool.stats()).toMatchObject({ validations: 1, validationFailures: 0 });
  await both();
  await both();
  expect(pool.stats()).toMatchObject({ validations: 1, validationFailures: 0, total: 2 });
  const body = (await metrics.expose()).body;
  expect(metric(body, `periscope_db_pool_validations_total{pool="${name}",result="ok"}`)).toBe(1);
  expect(metric(body, `periscope_db_pool_validations_total{pool="${name}",result="failed"}`)).toBeUndefined();
});

test('a connection that fails validation is counted, closed and replaced; the caller gets a working one', async () => {
  const u = new URL(postgresUrl());
  proxy = await TcpFaultProxy.start({ target: { host: u.hostname, port: Number(u.port || 5432) } });
  const { pool, name, metrics } = newPool({
    connectionString: proxy.urlFor(postgresUrl()),
    poolSize: 1,
    maxOverflow: 0,
    validateAfterIdleMs: 0,
    validationTimeoutMs: 300,
    acquireTimeoutMs: 20_000,
    connectTimeoutMs: 500,
    connectBackoffMs: 20,
    destroyTimeoutMs: 100,
  });
  const first = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  proxy.blackhole();
  await sleep(5);
  const next = pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  await waitFor(() => pool.stats().validationFailures === 1, 10_000, 'validation failed');
  proxy.restore();
  const pid = (await next).rows[0].pid;
  expect(pid).not.toBe(first);
  // The replacement is validated too (validateAfterIdleMs 0), and passes.
  const { validations } = pool.stats();
  expect(validations).toBeGreaterThanOrEqual(2);
  expect(pool.stats()).toMatchObject({ validationFailures: 1, active: 0, pending: 0 });
  await waitFor(() => pool.stats().destroyed >= 1, 5000, 'broken connection closed');
  const body = (await metrics.expose()).body;
  expect(metric(body, `periscope_db_pool_validations_total{pool="${name}",result="failed"}`)).toBe(1);
  expect(metric(body, `periscope_db_pool_validations_total{pool="${name}",result="ok"}`)).toBe(validations - 1);
});

test('a connection the server closed inside a transaction is closed on return, with no rollback attempted or warned about', async () => {
  const { pool, logger } = newPool({ poolSize: 1, maxOverflow: 0 });
  const err = await pool
    .withConnection(async (c) => {
      await c.query('BEGIN');
      const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      await c.query('SELECT 1').catch(() => undefined);
      await waitFor(() => pool.connections()[0]?.broken === true, 3000, 'connection seen broken');
    })
    .catch((e: unknown) => e);
  expect(err).toBeUndefined();
  expect(logger.records.filter((r) => /came back inside a transaction/.test(r.message))).toEqual([]);
  await waitFor(() => pool.stats().destroyed === 1, 3000, 'connection closed');
  expect((await pool.query<{ n: number }>('SELECT 1 AS n')).rows).toEqual([{ n: 1 }]);
});

test('a transaction left open is rolled back with a WARN naming the pool and connection', async () => {
  const { pool, name, logger } = newPool({ poolSize: 1, maxOverflow: 0 });
  const id = await pool.withConnection(async (c) => {
    await c.query('BEGIN');
    return c.id;
  });
  const warns = logger.records.filter((r) => /came back inside a transaction/.test(r.message));
  expect(warns).toEqual([
    {
      level: 'warn',
      message: `db-pool ${name}: connection ${id} came back inside a transaction; rolling it back`,
      meta: { pool: name, connectionId: id },
    },
  ]);
  expect(pool.stats()).toMatchObject({ destroyed: 0, idle: 1, resets: 0 });
  // The same connection serves the next caller, outside any transaction.
  await pool.withConnection(async (c) => {
    expect(c.id).toBe(id);
    await expect(c.query('COMMIT')).resolves.toBeDefined();
  });
  expect(logger.records.filter((r) => r.level === 'warn')).toHaveLength(1);
});

test('a transaction left failed (an error after BEGIN) is rolled back too; the next caller gets a clean connection', async () => {
  const { pool, logger } = newPool({ poolSize: 1, maxOverflow: 0 });
  await pool.withConnection(async (c) => {
    await c.query('BEGIN');
    await expect(c.query('SELECT 1/0')).rejects.toMatchObject({ sqlState: '22012' });
  });
  expect(logger.records.filter((r) => /came back inside a transaction/.test(r.message))).toHaveLength(1);
  expect((await pool.query<{ n: number }>('SELECT 1 AS n')).rows).toEqual([{ n: 1 }]);
  expect(pool.stats()).toMatchObject({ destroyed: 0, idle: 1 });
});

test('a connection whose session reset fails is closed, not handed to the next caller', async () => {
  const { pool } = newPool({ poolSize: 1, maxOverflow: 0, resetQuery: 'DISCARD NOTHING_SUCH' });
  const first = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  await pool.query("SET application_name TO 'changed'");
  await waitFor(() => pool.stats().destroyed === 1, 3000, 'connection closed');
  expect(pool.stats().resets).toBe(1);
  const next = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  expect(next).not.toBe(first);
});

test('while the database refuses connections, an acquire timeout names the last connection error as its cause', async () => {
  const u = new URL(postgresUrl());
  proxy = await TcpFaultProxy.start({ target: { host: u.hostname, port: Number(u.port || 5432) } });
  proxy.refuse();
  const { pool, name } = newPool({
    connectionString: proxy.urlFor(postgresUrl()),
    poolSize: 1,
    acquireTimeoutMs: 500,
    connectBackoffMs: 20,
  });
  await waitFor(
    () => pool.stats().connectAttempts >= 1 && pool.stats().lastConnectError !== undefined,
    5000,
    'refused',
  );
  const err = await pool.query('SELECT 1').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(PoolTimeoutError);
  expect((err as Error).cause).toBeInstanceOf(ConnectError);
  expect((err as Error).message).toMatch(
    new RegExp(
      `^no connection available within 500 ms from pool ${name} \\(.*\\); last connection error: could not connect to `,
    ),
  );
});

test('a borrow shorter than leakDetectionMs is never reported, though sweeps run while it is held', async () => {
  // Sweeps every 750 ms; the borrow spans at least one of them and ends far below the limit.
  const { pool, logger } = newPool({ poolSize: 1, leakDetectionMs: 3000 });
  await pool.withConnection(() => sleep(1000));
  await pool.query('SELECT pg_sleep(1)');
  expect(pool.stats().leaks).toBe(0);
  expect(logger.records.filter((r) => /held for more than/.test(r.message))).toEqual([]);
});

test('a session changed in withConnection is reset on return without any WARN (no transaction was open)', async () => {
  const { pool, logger } = newPool({ poolSize: 1, maxOverflow: 0 });
  await pool.withConnection((c) => c.query("SET application_name TO 'changed_by_caller'"));
  const app = (await pool.query<{ a: string }>('SELECT current_setting($1) AS a', ['application_name'])).rows[0].a;
  expect(app).not.toBe('changed_by_caller');
  expect(pool.stats()).toMatchObject({ resets: 1, destroyed: 0 });
  expect(logger.records.filter((r) => r.level === 'warn')).toEqual([]);
});

test('a released connection goes to one waiter at a time: two waiters never hold it together', async () => {
  const { pool } = newPool({ poolSize: 1, maxOverflow: 0, acquireTimeoutMs: 60_000 });
  const release = await hold(pool);
  const events: string[] = [];
  const waiter = (n: number) =>
    pool.withConnection(async (c) => {
      events.push(`start ${n} on ${c.id}`);
      await sleep(150);
      events.push(`end ${n}`);
    });
  const both = Promise.all([waiter(1), waiter(2)]);
  await waitFor(() => pool.stats().pending === 2, 3000, 'two waiting');
  await release();
  await both;
  const id = pool.connections()[0].id;
  expect(events).toEqual([`start 1 on ${id}`, 'end 1', `start 2 on ${id}`, 'end 2']);
  expect(pool.stats()).toMatchObject({ total: 1, active: 0, idle: 1, pending: 0 });
});

test('validation of a connection to a silent server is bounded by the acquire timeout, not validationTimeoutMs', async () => {
  const u = new URL(postgresUrl());
  proxy = await TcpFaultProxy.start({ target: { host: u.hostname, port: Number(u.port || 5432) } });
  const { pool } = newPool({
    connectionString: proxy.urlFor(postgresUrl()),
    poolSize: 1,
    maxOverflow: 0,
    validateAfterIdleMs: 0,
    validationTimeoutMs: 120_000,
    acquireTimeoutMs: 500,
    connectTimeoutMs: 500,
    destroyTimeoutMs: 100,
  });
  await pool.query('SELECT 1');
  proxy.blackhole();
  await sleep(5);
  // 30 times the acquire timeout
  const outcome = await outcomeWithin(pool.query('SELECT 1'), 15_000, 'still waiting after 15 s');
  expect(outcome).toBeInstanceOf(PoolTimeoutError);
  expect(pool.stats().validationFailures).toBe(1);
});

test('leak reports: counted in stats and metrics, with the pool, connection and limit in the fields', async () => {
  const { pool, name, metrics, logger } = newPool({ poolSize: 1, leakDetectionMs: 100 });
  const id = await pool.withConnection(async (c) => {
    await waitFor(() => pool.stats().leaks === 1, 5000, 'leak reported');
    await sleep(150); // more sweeps: still one report
    return c.id;
  });
  await pool.query("SELECT pg_sleep(0.3), 'x'");
  await waitFor(() => pool.stats().leaks === 2, 5000, 'slow query reported');
  const reports = logger.records.filter((r) => /held for more than/.test(r.message));
  expect(reports).toHaveLength(2);
  expect(reports[0].message).toMatch(
    new RegExp(
      `^db-pool ${name}: connection ${id} has been held for more than 100 ms \\(possible leak\\); acquired at:\n`,
    ),
  );
  expect(reports[0].meta).toMatchObject({ pool: name, connectionId: id, leakDetectionMs: 100 });
  expect(String(reports[0].meta?.stack)).toMatch(/acquire\.mutation\.test\.ts/);
  // The stack frames, one per line, without the "Error" header line.
  expect(String(reports[0].meta?.stack).split('\n').length).toBeGreaterThan(1);
  expect(String(reports[0].meta?.stack).split('\n')).toEqual(
    expect.arrayContaining([expect.stringMatching(/^\s+at .*acquire\.mutation\.test\.ts/)]),
  );
  expect(String(reports[0].meta?.stack)).not.toMatch(/^Error/);
  expect(reports[1]).toMatchObject({
    level: 'warn',
    message: `db-pool ${name}: connection ${id} has been held for more than 100 ms by query(): SELECT pg_sleep(?), ?`,
    meta: { pool: name, connectionId: id, leakDetectionMs: 100, statement: 'SELECT pg_sleep(?), ?' },
  });
  const body = (await metrics.expose()).body;
  expect(metric(body, `periscope_db_pool_leaks_total{pool="${name}"}`)).toBe(2);
});
