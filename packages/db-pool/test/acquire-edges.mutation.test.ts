// Issue 21 (mutation testing): the acquire paths Stryker showed untested, as a caller sees them
// against the real PostgreSQL — a role that stops accepting logins while connections are open,
// the acquire deadline across a replacement, validation over a slow link, a waiter that aborts in
// the same tick its connection is handed over, listeners left on a caller's AbortSignal, a broken
// connection that changed its session, and a connection that retires while borrowed.
import { getEventListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { postgresUrl, TcpFaultProxy } from '@periscope-tools/testing';
import {
  ConnectError,
  ConnectionLostError,
  createPool,
  DbPool,
  PoolClosedError,
  PoolTimeoutError,
  QueryAbortedError,
  type PoolOptions,
} from '../src';
import { captureLogger, hold, sleep, uniqueName, waitFor } from './helpers';

/** Called from a span's end (synchronously inside the pool's statement callback), then disarmed. */
let onSpanEnd: (() => void) | undefined;
const hook: SpanProcessor = {
  onStart: () => undefined,
  onEnd: () => {
    const fn = onSpanEnd;
    onSpanEnd = undefined;
    fn?.();
  },
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};
const provider = new BasicTracerProvider({ spanProcessors: [hook] });
const pools: DbPool[] = [];
let admin: DbPool;
let proxy: TcpFaultProxy | undefined;

function newPool(options: Partial<PoolOptions> = {}): DbPool {
  const pool = createPool({
    connectionString: postgresUrl(),
    applicationName: uniqueName('dbpool_edges'),
    name: uniqueName('edges'),
    logger: captureLogger(),
    ...options,
  });
  pools.push(pool);
  return pool;
}

async function startProxy(): Promise<TcpFaultProxy> {
  const u = new URL(postgresUrl());
  proxy = await TcpFaultProxy.start({ target: { host: u.hostname, port: Number(u.port || 5432) } });
  return proxy;
}

/** One connection through the fault proxy, validated on every borrow, opened by a first query. */
async function pooledThroughProxy(options: Partial<PoolOptions>): Promise<{ pool: DbPool; link: TcpFaultProxy }> {
  const link = await startProxy();
  const pool = newPool({
    connectionString: link.urlFor(postgresUrl()),
    poolSize: 1,
    maxOverflow: 0,
    validateAfterIdleMs: 0,
    destroyTimeoutMs: 100,
    ...options,
  });
  await pool.query('SELECT 1');
  return { pool, link };
}

beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
  admin = createPool({
    connectionString: postgresUrl(),
    poolSize: 1,
    applicationName: uniqueName('dbpool_edges_admin'),
  });
});
afterEach(async () => {
  onSpanEnd = undefined;
  await Promise.all(pools.splice(0).map((p) => p.close()));
  await proxy?.close();
  proxy = undefined;
});
afterAll(async () => {
  await admin.close();
  trace.disable();
  await provider.shutdown();
});

test('a role that stops accepting logins fails new connections at once, but callers are still served by the open ones', async () => {
  const role = uniqueName('dbpool_nologin');
  await admin.query(`CREATE ROLE ${role} LOGIN`);
  try {
    const url = new URL(postgresUrl());
    url.username = role;
    url.password = '';
    const pool = newPool({ connectionString: url.toString(), poolSize: 1, maxOverflow: 1, acquireTimeoutMs: 5000 });
    await waitFor(() => pool.stats().total === 1, 3000, 'pool filled');
    const release = await hold(pool);
    await admin.query(`ALTER ROLE ${role} NOLOGIN`);
    // The overflow connection is refused (28000): the caller hears so now, not at acquireTimeoutMs.
    const refused = await pool.query('SELECT 1').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConnectError);
    expect((refused as ConnectError).sqlState).toBe('28000');
    await release();
    // The open connection still works: a caller gets it rather than the refusal.
    const { rows } = await pool.query<{ who: string }>('SELECT current_user AS who');
    expect(rows[0].who).toBe(role);
    await pool.close();
  } finally {
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
  }
});

test('after a failed validation, the replacement waits only for what is left of acquireTimeoutMs', async () => {
  const { pool, link } = await pooledThroughProxy({
    validationTimeoutMs: 2000,
    acquireTimeoutMs: 3000,
    connectTimeoutMs: 20_000, // the replacement's connect hangs: only the acquire deadline ends the wait
  });
  link.blackhole();
  await sleep(5);
  const started = performance.now();
  const err = await pool.query('SELECT 1').catch((e: unknown) => e);
  const waited = performance.now() - started;
  expect(err).toBeInstanceOf(PoolTimeoutError);
  expect(pool.stats().validationFailures).toBe(1);
  // 2 s validating + what is left of 3 s; a fresh acquireTimeoutMs after the replacement would
  // end at 5 s. The upper bound leaves 1.3 s for timers late on a loaded machine.
  expect(waited).toBeGreaterThanOrEqual(2900);
  expect(waited).toBeLessThan(4300);
});

test('a replacement needed while the pool drains: the caller gets PoolClosedError, not a timeout', async () => {
  const { pool, link } = await pooledThroughProxy({ validationTimeoutMs: 400, acquireTimeoutMs: 10_000 });
  link.blackhole();
  await sleep(5);
  const before = pool.stats().validations;
  const borrowed = pool.query('SELECT 1').catch((e: unknown) => e);
  await waitFor(() => pool.stats().validations === before + 1, 3000, 'validation started');
  const closed = pool.close(); // while the borrow validates; its replacement finds the pool draining
  const err = await borrowed;
  expect(err).toBeInstanceOf(PoolClosedError);
  expect((err as Error).message).toBe('the pool is closed or draining and takes no new work');
  await closed;
});

test('validation over a slow link (a 30 ms round trip) passes: it is bounded by validationTimeoutMs, not by a floor', async () => {
  const { pool, link } = await pooledThroughProxy({ validationTimeoutMs: 5000 });
  link.setDelay(15);
  const before = pool.stats().validations;
  const ids: number[] = [];
  for (let i = 0; i < 2; i++) {
    await sleep(5); // idle past validateAfterIdleMs: validated on borrow
    ids.push(await pool.withConnection((c) => c.id));
  }
  expect(ids[1]).toBe(ids[0]);
  expect(pool.stats()).toMatchObject({ validationFailures: 0, total: 1 });
  expect(pool.stats().validations - before).toBe(2);
});

test('a waiter that aborts in the same tick its connection is handed over gives the connection back', async () => {
  const pool = newPool({ poolSize: 1, maxOverflow: 0, acquireTimeoutMs: 2000 });
  const first = pool.query('SELECT pg_sleep(0.2)');
  await waitFor(() => pool.stats().active === 1, 3000, 'first query running');
  const ac = new AbortController();
  const waiter = pool.query('SELECT 2', [], { signal: ac.signal }).catch((e: unknown) => e);
  await waitFor(() => pool.stats().pending === 1, 3000, 'waiter queued');
  // The first query's span ends right after its connection was handed to the waiter, before the
  // waiter's own continuation runs: abort there.
  onSpanEnd = () => ac.abort(new Error('caller went away'));
  await first;
  expect(await waiter).toBeInstanceOf(QueryAbortedError);
  await waitFor(() => pool.stats().idle === 1, 3000, 'connection back in the pool');
  expect(pool.stats()).toMatchObject({ active: 0, pending: 0, total: 1 });
  expect((await pool.query<{ n: number }>('SELECT 3 AS n')).rows[0].n).toBe(3);
});

test('a long-lived AbortSignal keeps no listener from statements and waits that ended', async () => {
  const pool = newPool({ poolSize: 1, maxOverflow: 0, acquireTimeoutMs: 200 });
  const ac = new AbortController();
  const { signal } = ac;
  const listeners = () => getEventListeners(signal, 'abort').length;
  // Served at once, with its statement.
  for (let i = 0; i < 5; i++) await pool.query('SELECT 1', [], { signal });
  expect(listeners()).toBe(0);
  await pool.withConnection((c) => c.query('SELECT 1', [], { signal }), { signal });
  expect(listeners()).toBe(0);
  // Served after waiting.
  const release = await hold(pool);
  const waited = pool.query('SELECT 1', [], { signal });
  await waitFor(() => pool.stats().pending === 1, 3000, 'caller waiting');
  await release();
  await waited;
  expect(listeners()).toBe(0);
  // Gave up at the acquire timeout.
  const release2 = await hold(pool);
  expect(await pool.query('SELECT 1', [], { signal }).catch((e: unknown) => e)).toBeInstanceOf(PoolTimeoutError);
  expect(listeners()).toBe(0);
  await release2();
  // A later abort of the signal touches nothing that finished with it.
  ac.abort();
  await sleep(20);
  expect(pool.stats()).toMatchObject({ total: 1, idle: 1, destroyed: 0 });
});

test('a connection that changed its session and then broke is closed without a reset attempt', async () => {
  const pool = newPool({ poolSize: 1 });
  const err = await pool
    .withConnection(async (c) => {
      await c.query("SET application_name = 'changed'");
      const { rows } = await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
      await c.query('SELECT 1');
    })
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ConnectionLostError);
  await waitFor(() => pool.stats().destroyed === 1, 3000, 'broken connection closed');
  expect(pool.stats().resets).toBe(0);
});

test('a connection that passed its lifetime while borrowed is closed when it comes back, not put back idle', async () => {
  const pool = newPool({ poolSize: 1, maxOverflow: 0, maxLifetimeMs: 300 });
  await waitFor(() => pool.stats().total === 1, 3000, 'pool filled');
  await pool.withConnection(() => sleep(400));
  // Right after the return: not idle (a retired connection is never lent again).
  expect(pool.stats().idle).toBe(0);
  await waitFor(() => pool.stats().destroyed === 1, 3000, 'retired connection closed');
});
