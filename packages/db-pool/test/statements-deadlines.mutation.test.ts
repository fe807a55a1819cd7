// Issue 21 (mutation testing): statement deadlines, aborts and typed errors against the real
// PostgreSQL, as a caller and an operator see them: a timeout answers once (one metric, one span),
// the connection's one deadline timer is re-armed and never fires on an idle or later statement,
// an abort after the answer changes nothing, an abort during the borrow's validation round trip
// gives the connection back, query() leaving a transaction open is rolled back quietly, what each
// server or client failure is called in errors, metrics and spans, and a span's name without a summary.
import { SpanKind, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createMetrics, type Metrics } from '@periscope/metrics';
import { postgresUrl, TcpFaultProxy } from '@periscope-tools/testing';
import {
  ConnectionLostError,
  createPool,
  DbPool,
  QueryAbortedError,
  QueryError,
  QueryTimeoutError,
  type PoolOptions,
} from '../src';
import { captureLogger, sleep, uniqueName, waitFor } from './helpers';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const pools: DbPool[] = [];
let admin: DbPool;
let proxy: TcpFaultProxy | undefined;

function newPool(options: Partial<PoolOptions> = {}): { pool: DbPool; name: string; metrics: Metrics } {
  const name = uniqueName('stmd');
  const metrics = createMetrics();
  const pool = createPool({
    connectionString: postgresUrl(),
    applicationName: uniqueName('dbpool_stmd'),
    name,
    metrics,
    logger: captureLogger(),
    poolSize: 1,
    maxOverflow: 0,
    ...options,
  });
  pools.push(pool);
  return { pool, name, metrics };
}

async function metric(metrics: Metrics, line: string): Promise<number | undefined> {
  const found = (await metrics.expose()).body.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(found.lastIndexOf(' ') + 1));
}

const pidOf = async (pool: DbPool, timeoutMs?: number): Promise<number> =>
  (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid', [], { timeoutMs })).rows[0].pid;

beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
  admin = createPool({ connectionString: postgresUrl(), poolSize: 1, applicationName: uniqueName('dbpool_stmd_adm') });
});
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
  await proxy?.close();
  proxy = undefined;
  exporter.reset();
});
afterAll(async () => {
  await admin.close();
  trace.disable();
  await provider.shutdown();
});

test('a timed-out statement answers once: QueryTimeoutError, one duration sample, one span; a later abort adds nothing', async () => {
  const { pool, name, metrics } = newPool({ destroyTimeoutMs: 2000 });
  const ac = new AbortController();
  const err = await pool
    .query('SELECT pg_sleep(5)', [], { timeoutMs: 300, signal: ac.signal })
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(QueryTimeoutError);
  expect((err as QueryTimeoutError).timeoutMs).toBe(300);
  expect((err as Error).message).toBe('query did not complete within 300 ms; its connection was discarded');
  ac.abort(); // the caller gives up too, after the answer
  // The server answers the cancel, the connection is closed, pg's callback comes: still one answer.
  await waitFor(() => pool.stats().destroyed === 1, 5000, 'connection closed');
  await sleep(50);
  const sel = `{pool="${name}",operation="SELECT"}`;
  expect(await metric(metrics, `periscope_db_pool_query_duration_seconds_count${sel}`)).toBe(1);
  expect(await metric(metrics, `periscope_db_pool_errors_total{pool="${name}",class="query_timeout"}`)).toBe(1);
  expect(await metric(metrics, `periscope_db_pool_errors_total{pool="${name}",class="aborted"}`)).toBeUndefined();
  const spans = exporter.getFinishedSpans();
  expect(spans).toHaveLength(1);
  expect(spans[0].attributes['error.type']).toBe('QueryTimeoutError');
  expect(spans[0].instrumentationScope.name).toBe('@periscope/db-pool'); // what a backend groups spans by
  expect(spans[0].attributes['db.response.status_code']).toBeUndefined();
  expect(spans[0].status).toEqual({ code: 2, message: (err as Error).message });
  expect(pool.stats()).toMatchObject({ active: 0, pending: 0 });
});

test('a statement aborted while it runs: QueryAbortedError with the reason, counted as aborted, connection discarded', async () => {
  const { pool, name, metrics } = newPool();
  const first = await pidOf(pool);
  const ac = new AbortController();
  const running = pool.query('SELECT pg_sleep(5)', [], { signal: ac.signal, timeoutMs: 0 }).catch((e: unknown) => e);
  await waitFor(() => pool.stats().active === 1, 3000, 'statement running');
  await sleep(50);
  ac.abort(new Error('stop'));
  const err = await running;
  expect(err).toBeInstanceOf(QueryAbortedError);
  expect((err as QueryAbortedError).cause).toBe(ac.signal.reason);
  expect(await metric(metrics, `periscope_db_pool_errors_total{pool="${name}",class="aborted"}`)).toBe(1);
  expect(await pidOf(pool)).not.toBe(first);
});

test('an abort after the statement answered changes nothing: the connection stays in the pool', async () => {
  const { pool, name, metrics } = newPool();
  const ac = new AbortController();
  const first = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid', [], { signal: ac.signal })).rows[0]
    .pid;
  // Also on a borrowed connection.
  const ac2 = new AbortController();
  await pool.withConnection((c) => c.query('SELECT 1', [], { signal: ac2.signal }));
  ac.abort();
  ac2.abort();
  await sleep(50);
  expect(await pidOf(pool)).toBe(first);
  expect(pool.stats()).toMatchObject({ destroyed: 0, idle: 1 });
  expect(await metric(metrics, `periscope_db_pool_errors_total{pool="${name}",class="aborted"}`)).toBeUndefined();
});

test('the deadline timer never fires on an idle connection, and is re-armed for the next statement', async () => {
  const { pool } = newPool();
  const first = await pidOf(pool, 150);
  await sleep(400); // the timer armed for 150 ms has fired on an idle connection
  expect(await pidOf(pool, 150)).toBe(first);
  expect(pool.stats().destroyed).toBe(0);
  await sleep(400);
  // The connection's timer is armed again for this statement.
  const err = await pool.query('SELECT pg_sleep(10)', [], { timeoutMs: 300 }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(QueryTimeoutError);
  expect((err as QueryTimeoutError).timeoutMs).toBe(300);
});

test('a later statement with a longer timeout is not cut at the earlier one’s deadline', async () => {
  const { pool } = newPool();
  const first = await pidOf(pool, 200);
  // The timer armed for 200 ms fires while this one runs: it is re-armed for what is left.
  const r = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid, pg_sleep(0.6)', [], {
    timeoutMs: 60_000,
  });
  expect(r.rows[0].pid).toBe(first);
  expect(pool.stats().destroyed).toBe(0);
});

test('a later statement with a shorter timeout gets its own deadline, not the earlier, longer one', async () => {
  const { pool } = newPool();
  await pidOf(pool, 30_000); // arms the connection's timer for 30 s
  const started = Date.now();
  const err = await pool.query('SELECT pg_sleep(20)', [], { timeoutMs: 300 }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(QueryTimeoutError);
  expect((err as QueryTimeoutError).timeoutMs).toBe(300);
  // Far below the first statement's 30 s (generous for a loaded machine).
  expect(Date.now() - started).toBeLessThan(15_000);
});

test('an abort that comes during the validation round trip of the borrow: nothing is sent, the connection goes back', async () => {
  const u = new URL(postgresUrl());
  proxy = await TcpFaultProxy.start({ target: { host: u.hostname, port: Number(u.port || 5432) } });
  const { pool, name, metrics } = newPool({
    connectionString: proxy.urlFor(postgresUrl()),
    validateAfterIdleMs: 0,
    validationTimeoutMs: 20_000,
    acquireTimeoutMs: 30_000,
  });
  const first = await pidOf(pool);
  await sleep(5);
  const validations = pool.stats().validations + 1;
  proxy.setDelay(400); // the validation ping takes at least 800 ms
  const ac = new AbortController();
  const query = pool.query('SELECT 1', [], { signal: ac.signal }).catch((e: unknown) => e);
  await waitFor(() => pool.stats().validations === validations, 5000, 'validation started');
  ac.abort(new Error('gave up during validation'));
  const err = await query;
  expect(err).toBeInstanceOf(QueryAbortedError);
  expect((err as QueryAbortedError).cause).toBe(ac.signal.reason);
  // The validation passed; the connection was given back, not kept or discarded.
  expect(pool.stats()).toMatchObject({ validations, validationFailures: 0, active: 0, idle: 1, destroyed: 0 });
  expect(await metric(metrics, `periscope_db_pool_connections{pool="${name}",state="active"}`)).toBe(0);
  proxy.restore();
  expect(await pidOf(pool)).toBe(first);
});

test('a server error is a QueryError with its SQLSTATE, severity and detail; counted by class; named in the span', async () => {
  const { pool, name, metrics } = newPool();
  const err = await pool
    .query("SELECT * FROM (VALUES (1), (1)) v(x), LATERAL (SELECT 1/0) z WHERE x = $1 AND 'secret' = 'secret'", [1])
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(QueryError);
  expect(err).toMatchObject({ sqlState: '22012', severity: 'ERROR', message: 'division by zero' });
  const table = uniqueName('dbpool_stmd_t');
  const dup = await pool
    .withConnection(async (c) => {
      await c.query(`CREATE TEMP TABLE ${table} (id int PRIMARY KEY)`);
      return c.query(`INSERT INTO ${table} VALUES (1), (1)`).catch((e: unknown) => e);
    })
    .catch((e: unknown) => e);
  expect(dup).toMatchObject({ sqlState: '23505', detail: 'Key (id)=(1) already exists.' });
  expect(await metric(metrics, `periscope_db_pool_errors_total{pool="${name}",class="22"}`)).toBe(1);
  expect(await metric(metrics, `periscope_db_pool_errors_total{pool="${name}",class="23"}`)).toBe(1);
  const failed = exporter.getFinishedSpans().filter((s) => s.status.code === 2);
  expect(failed.map((s) => [s.attributes['error.type'], s.attributes['db.response.status_code']])).toEqual([
    ['22012', '22012'],
    ['23505', '23505'],
  ]);
  expect(failed[0].status.message).toBe('division by zero');
  expect(failed[0].kind).toBe(SpanKind.CLIENT);
  const u = new URL(postgresUrl());
  expect(failed[0].attributes).toMatchObject({
    'db.system.name': 'postgresql',
    'db.namespace': u.pathname.slice(1),
    'server.address': u.hostname,
    'server.port': Number(u.port || 5432),
  });
  expect(pool.stats().destroyed).toBe(0);
});

test('a backend terminated during a statement: ConnectionLostError naming the SQLSTATE; the connection is replaced', async () => {
  const { pool, name, metrics } = newPool();
  const first = await pidOf(pool);
  const running = pool.query('SELECT pg_sleep(5)').catch((e: unknown) => e);
  await waitFor(() => pool.stats().active === 1, 3000, 'statement running');
  await sleep(100);
  await admin.query('SELECT pg_terminate_backend($1)', [first]);
  const err = await running;
  expect(err).toBeInstanceOf(ConnectionLostError);
  expect((err as Error).message).toMatch(
    /^connection \d+ to .+ was closed by the server \(57P01\): terminating connection due to administrator command$/,
  );
  expect(await metric(metrics, `periscope_db_pool_errors_total{pool="${name}",class="57"}`)).toBe(1);
  expect(await pidOf(pool)).not.toBe(first);
});

test('a network cut during a statement: ConnectionLostError "lost during the query", counted as connection_lost', async () => {
  const u = new URL(postgresUrl());
  proxy = await TcpFaultProxy.start({ target: { host: u.hostname, port: Number(u.port || 5432) } });
  const { pool, name, metrics } = newPool({ connectionString: proxy.urlFor(postgresUrl()) });
  await pidOf(pool);
  const running = pool.query('SELECT pg_sleep(5)').catch((e: unknown) => e);
  await waitFor(() => pool.stats().active === 1, 3000, 'statement running');
  await sleep(100);
  proxy.cutAll();
  const err = await running;
  expect(err).toBeInstanceOf(ConnectionLostError);
  expect((err as Error).message).toMatch(/^connection \d+ to .+ was lost during the query: /);
  expect(await metric(metrics, `periscope_db_pool_errors_total{pool="${name}",class="connection_lost"}`)).toBe(1);
  expect((await pool.query<{ n: number }>('SELECT 1 AS n')).rows).toEqual([{ n: 1 }]);
});

test('a client-side failure is counted as class "client"', async () => {
  const { pool, name, metrics } = newPool();
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  await expect(pool.query('SELECT $1::jsonb', [circular])).rejects.toBeInstanceOf(QueryError);
  expect(await metric(metrics, `periscope_db_pool_errors_total{pool="${name}",class="client"}`)).toBe(1);
  expect(
    await metric(metrics, `periscope_db_pool_errors_total{pool="${name}",class="connection_lost"}`),
  ).toBeUndefined();
});

test('query() that leaves a transaction open: its connection is rolled back quietly (no WARN) before the next caller', async () => {
  const logger = captureLogger();
  const { pool } = newPool({ logger });
  await pool.query('BEGIN');
  // now() is the transaction's start: equal to the statement's only outside an explicit transaction.
  const r = await pool.query<{ now_is_statement: boolean }>(
    'SELECT now() = statement_timestamp() AS now_is_statement FROM pg_sleep(0.02)',
  );
  expect(r.rows).toEqual([{ now_is_statement: true }]);
  expect(logger.records.filter((l) => l.level === 'warn')).toEqual([]);
  expect(pool.stats()).toMatchObject({ destroyed: 0, idle: 1 });
});

test('a statement without a summary is named after the database, or "postgresql" when none is configured', async () => {
  const { pool } = newPool();
  await pool.query('CLOSE ALL');
  const u = new URL(postgresUrl());
  expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual([u.pathname.slice(1)]);
  exporter.reset();
  u.pathname = ''; // the server's default database (the user's)
  const { pool: noDatabase } = newPool({ connectionString: u.toString() });
  await noDatabase.query('CLOSE ALL');
  expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['postgresql']);
});

test('two statements sent together on a borrowed connection: the second still times out at its own deadline', async () => {
  const u = new URL(postgresUrl());
  proxy = await TcpFaultProxy.start({ target: { host: u.hostname, port: Number(u.port || 5432) } });
  const p = proxy;
  // A silent server makes the cancel and the close wait destroyTimeoutMs: only the statement's own
  // deadline can answer its caller sooner.
  const { pool } = newPool({ connectionString: p.urlFor(postgresUrl()), destroyTimeoutMs: 2500 });
  const outcome = await pool.withConnection(async (c) => {
    const first = c.query('SELECT 1');
    const started = Date.now();
    const second = c.query('SELECT pg_sleep(10)', [], { timeoutMs: 300 }).catch((e: unknown) => e);
    await first; // its answer must not take the second statement's place as the one running
    p.blackhole();
    return { err: await second, waited: Date.now() - started };
  });
  expect(outcome.err).toBeInstanceOf(QueryTimeoutError);
  expect(outcome.waited).toBeLessThan(1800); // 300 ms, or 2.8 s when the close has to end it
});
