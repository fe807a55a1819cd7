// Issue 21 (mutation testing): the statement path against the real PostgreSQL: query() refuses bad
// arguments with a message that names them, an already-aborted signal sends nothing, a client-side
// failure is a QueryError without SQLSTATE (the connection is kept), and what the span says.
import { createHook } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createMetrics } from '@periscope/metrics';
import { postgresUrl } from '@periscope-tools/testing';
import { createPool, InvalidArgumentError, QueryAbortedError, QueryError, type DbPool } from '../src';
import { captureLogger, uniqueName } from './helpers';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
let pool: DbPool;

beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
  pool = createPool({
    connectionString: postgresUrl(),
    poolSize: 1,
    applicationName: uniqueName('dbpool_stm'),
    logger: captureLogger(),
  });
});
afterEach(() => exporter.reset());
afterAll(async () => {
  await pool.close();
  trace.disable();
  await provider.shutdown();
});

async function refusal(run: () => Promise<unknown>): Promise<{ argument: string; message: string }> {
  const err = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InvalidArgumentError);
  return { argument: (err as InvalidArgumentError).argument, message: (err as Error).message };
}

test('query() refuses bad text, params and timeoutMs with a message naming the argument', async () => {
  const badText = { argument: 'text', message: 'query text must be a non-empty string' };
  for (const text of [undefined, 42, '', '  \n\t ']) {
    expect(await refusal(() => pool.query(text as never))).toEqual(badText);
    // The same rule on a borrowed connection.
    expect(await pool.withConnection((c) => refusal(() => c.query(text as never)))).toEqual(badText);
  }
  for (const params of [{}, 'a', 5]) {
    expect(await refusal(() => pool.query('SELECT 1', params as never))).toEqual({
      argument: 'params',
      message: 'query params must be an array (or omitted)',
    });
  }
  for (const timeoutMs of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
    expect(await refusal(() => pool.query('SELECT 1', [], { timeoutMs }))).toEqual({
      argument: 'timeoutMs',
      message: `timeoutMs must be a number >= 0, got ${String(timeoutMs)}`,
    });
  }
  // What is accepted: no params, null params, and a timeout of 0 (none).
  expect((await pool.query<{ n: number }>('SELECT 1 AS n', null as never, { timeoutMs: 0 })).rows).toEqual([{ n: 1 }]);
  expect((await pool.query<{ n: number }>('SELECT 2 AS n')).rows).toEqual([{ n: 2 }]);
  expect(pool.stats()).toMatchObject({ active: 0, destroyed: 0 });
});

test('a statement whose signal has already fired is not sent; the borrowed connection stays usable', async () => {
  const table = uniqueName('dbpool_stm_t');
  const ac = new AbortController();
  ac.abort(new Error('caller gave up'));
  const after = await pool.withConnection(async (c) => {
    await c.query(`CREATE TEMP TABLE ${table} (id int)`);
    const err = await c.query(`INSERT INTO ${table} VALUES (1)`, [], { signal: ac.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryAbortedError);
    expect((err as QueryAbortedError).cause).toBe(ac.signal.reason);
    // Nothing was sent, and the connection was not given up.
    return (await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0].n;
  });
  expect(after).toBe('0');
  expect(pool.stats()).toMatchObject({ destroyed: 0, idle: 1 });
});

test('a failure on the client side (a parameter that cannot be serialized) is a QueryError without SQLSTATE; the connection goes back once', async () => {
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  const err = await pool.query('SELECT $1::jsonb AS j', [circular]).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(QueryError);
  expect((err as QueryError).sqlState).toBeUndefined();
  expect((err as Error).message).toMatch(/circular/i);
  const span = exporter.getFinishedSpans().find((s) => s.attributes['db.query.text'] === 'SELECT $1::jsonb AS j')!;
  expect(span.attributes['error.type']).toBe('QueryError');
  expect(span.attributes['db.response.status_code']).toBeUndefined();
  expect(span.status).toMatchObject({ code: 2, message: (err as Error).message });
  // pg answers such a statement twice (the error, then ReadyForQuery): the connection went back
  // once, so the next borrower holds it alone.
  await pool.withConnection(async (c) => {
    expect((await c.query<{ n: number }>('SELECT 3 AS n')).rows).toEqual([{ n: 3 }]);
    expect(pool.stats()).toMatchObject({ total: 1, active: 1, idle: 0 });
  });
  expect(pool.stats()).toMatchObject({ destroyed: 0, active: 0, idle: 1 });
});

test('spans: text without parameters is recorded sanitized, a statement without a summary is named after the database', async () => {
  await pool.query("SELECT 'secret-literal' AS s", []);
  await pool.query('CLOSE ALL'); // a command without a summary
  const spans = exporter.getFinishedSpans();
  expect(spans.map((s) => s.attributes['db.query.text'])).toEqual(['SELECT ? AS s', 'CLOSE ALL']);
  const database = new URL(postgresUrl()).pathname.slice(1);
  expect(spans[1].name).toBe(database);
  expect(spans[1].attributes['db.query.summary']).toBeUndefined();
  expect(spans[0].attributes['db.query.summary']).toBe('SELECT');
  expect(spans.map((s) => s.status.code)).toEqual([0, 0]);
});

test('the query duration metric is the time the caller waited: at least the statement, within the call', async () => {
  const metrics = createMetrics();
  const name = uniqueName('stm');
  const timed = createPool({ connectionString: postgresUrl(), poolSize: 1, metrics, name, logger: captureLogger() });
  try {
    const before = performance.now();
    await timed.query('SELECT pg_sleep(0.05)');
    const call = (performance.now() - before) / 1000;
    const line = (await metrics.expose()).body
      .split('\n')
      .find((l) => l.startsWith('periscope_db_pool_query_duration_seconds_sum{') && l.includes(`pool="${name}"`))!;
    const seconds = Number(line.slice(line.lastIndexOf(' ') + 1));
    expect(seconds).toBeGreaterThanOrEqual(0.05);
    expect(seconds).toBeLessThanOrEqual(call);
  } finally {
    await timed.close();
  }
});

/** The caller of setTimeout is this package's own code (the test's span exporter sets timers too). */
const OUR_FRAME = /[\\/]src[\\/][\w-]+\.ts:\d+/;
function setByUs(stack: string): boolean {
  const frames = stack.split('\n');
  const at = frames.findIndex((f) => /at setTimeout \(node:timers/.test(f));
  const caller = at < 0 ? undefined : frames[at + 1];
  return caller !== undefined && !caller.includes('node_modules') && OUR_FRAME.test(caller);
}

/** How many timers the pool's own code creates while `fn` runs. */
async function timersCreatedBy(fn: () => Promise<void>): Promise<number> {
  let created = 0;
  const hook = createHook({
    init: (_id, type) => {
      if (type === 'Timeout' && setByUs(new Error().stack ?? '')) created++;
    },
  }).enable();
  try {
    await fn();
  } finally {
    hook.disable();
  }
  return created;
}

test('statement deadlines cost one timer per connection, not one per statement or per millisecond of a long one', async () => {
  const own = createPool({
    connectionString: postgresUrl(),
    poolSize: 1,
    applicationName: uniqueName('dbpool_stm_timers'),
    logger: captureLogger(),
  });
  try {
    await own.query('SELECT 1', [], { timeoutMs: 60_000 }); // arms the connection's one timer
    const created = await timersCreatedBy(async () => {
      // Later deadlines than the armed one: the timer is left as it is (it re-arms when it fires).
      for (let i = 0; i < 20; i++) await own.query('SELECT 1', [], { timeoutMs: 60_000 });
      await own.query('SELECT pg_sleep(0.3)', [], { timeoutMs: 60_000 });
    });
    expect(created).toBeLessThan(5); // 0 here; a timer per statement is 21, a 1 ms re-arm loop hundreds
  } finally {
    await own.close();
  }
});
