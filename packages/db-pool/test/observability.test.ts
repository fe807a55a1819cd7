// Metrics, spans and secrecy: what operators see, and that the password is never part of it.
import { inspect } from 'node:util';
import { trace, type Attributes } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { createMetrics } from '@periscope/metrics';
import { postgresUrl, TcpFaultProxy } from '@periscope-tools/testing';
import fc from 'fast-check';
import { createPool, DbPool, querySummary, sanitizeSql, statementInfo } from '../src';
import { captureLogger, uniqueName, waitFor } from './helpers';

const exporter = new InMemorySpanExporter();
/** Attributes as they were when each span started (what a sampler sees). */
const started: Attributes[] = [];
const atStart: SpanProcessor = {
  onStart: (span) => void started.push({ ...span.attributes }),
  onEnd: () => undefined,
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter), atStart] });
const table = uniqueName('dbpool_obs');
const pools: DbPool[] = [];
let proxy: TcpFaultProxy | undefined;

beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
});
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
  await proxy?.close();
  proxy = undefined;
  exporter.reset();
});
afterAll(async () => {
  trace.disable();
  await provider.shutdown();
});

function metricValue(body: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of body.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.lastIndexOf('}'));
    if (Object.entries(labels).every(([k, v]) => inside.includes(`${k}="${v}"`)))
      return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

test('literals become placeholders, parameters stay; the summary lists operations and targets as written', () => {
  expect(sanitizeSql("SELECT * FROM docs WHERE title = 'It''s secret' AND id = 42 AND v = $1 AND x = -3.5e2")).toBe(
    'SELECT * FROM docs WHERE title = ? AND id = ? AND v = $1 AND x = ?',
  );
  expect(sanitizeSql("SELECT $tag$ hidden $tag$, E'a\\'b' FROM t2")).toBe('SELECT ?, ? FROM t2');
  expect(statementInfo('  /* c */ insert into memory (a) values (1)')).toMatchObject({
    operation: 'INSERT',
    summary: 'insert memory',
    spanName: 'insert memory',
  });
  // The conventions' examples.
  expect(querySummary('SELECT *\nFROM   wuser_table\nWHERE  username = ?')).toBe('SELECT wuser_table');
  expect(querySummary('INSERT INTO shipping_details (order_id, address) SELECT order_id, address FROM orders')).toBe(
    'INSERT shipping_details SELECT orders',
  );
  expect(querySummary('SELECT * FROM songs, artists WHERE songs.artist_id = artists.id')).toBe('SELECT songs artists');
  expect(
    querySummary('SELECT order_date FROM (SELECT * FROM orders o JOIN customers c ON o.customer_id = c.customer_id)'),
  ).toBe('SELECT SELECT orders customers');
  expect(querySummary('UPDATE kb SET title = $1 WHERE id = $2')).toBe('UPDATE kb');
  expect(querySummary('CREATE TABLE IF NOT EXISTS kb (id int)')).toBe('CREATE TABLE kb');
  expect(querySummary('SELECT 1')).toBe('SELECT');
  expect(querySummary(`SELECT * FROM ${'t'.repeat(300)}`)).toBe('SELECT');
  // Never OTHER: an unknown command falls back to db.system.name.
  expect(statementInfo('VACUUMX')).toMatchObject({ operation: 'OTHER', summary: undefined, spanName: 'postgresql' });
});

test('summaries stay within 255 characters and never cut a part', () => {
  fc.assert(
    // Table names that cannot be SQL keywords (a bare `if` or `on` would be read as one).
    fc.property(fc.array(fc.stringMatching(/^t_[a-z0-9_]{0,39}$/), { minLength: 1, maxLength: 30 }), (tables) => {
      const summary = querySummary(`SELECT * FROM ${tables.join(', ')}`)!;
      expect(summary.length).toBeLessThanOrEqual(255);
      const parts = summary.split(' ');
      expect(parts[0]).toBe('SELECT');
      expect(parts.slice(1)).toEqual(tables.slice(0, parts.length - 1));
    }),
  );
});

test('metrics: connections by state, acquire wait, created, query duration by operation, errors by class, timeouts', async () => {
  const metrics = createMetrics();
  const pool = createPool({
    connectionString: postgresUrl(),
    poolSize: 2,
    metrics,
    name: 'obs',
    applicationName: uniqueName('dbpool_obs'),
    acquireTimeoutMs: 100,
    logger: captureLogger(),
  });
  pools.push(pool);
  await waitFor(() => pool.stats().total === 2, 3000, 'pool filled');
  await pool.query('SELECT 1');
  await pool.query('SELECT * FROM no_such_table_here').catch(() => undefined);
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const holders = [pool.withConnection(() => gate), pool.withConnection(() => gate)];
  await waitFor(() => pool.stats().active === 2, 2000, 'all borrowed');
  await pool.query('SELECT 1').catch(() => undefined); // times out
  let body = (await metrics.expose()).body;
  expect(metricValue(body, 'periscope_db_pool_connections', { pool: 'obs', state: 'total' })).toBe(2);
  expect(metricValue(body, 'periscope_db_pool_connections', { pool: 'obs', state: 'active' })).toBe(2);
  release();
  await Promise.all(holders);
  body = (await metrics.expose()).body;
  expect(metricValue(body, 'periscope_db_pool_connections', { pool: 'obs', state: 'idle' })).toBe(2);
  expect(metricValue(body, 'periscope_db_pool_connections_created_total', { pool: 'obs' })).toBe(2);
  expect(metricValue(body, 'periscope_db_pool_acquire_wait_seconds_count', { pool: 'obs' })).toBeGreaterThanOrEqual(4);
  expect(
    metricValue(body, 'periscope_db_pool_query_duration_seconds_count', { pool: 'obs', operation: 'SELECT' }),
  ).toBe(3);
  expect(metricValue(body, 'periscope_db_pool_errors_total', { pool: 'obs', class: '42' })).toBe(1);
  expect(metricValue(body, 'periscope_db_pool_acquire_timeouts_total', { pool: 'obs' })).toBe(1);
});

test('two pools can share one Metrics, told apart by their name', async () => {
  const metrics = createMetrics();
  const a = createPool({
    connectionString: postgresUrl(),
    poolSize: 1,
    metrics,
    name: 'shared_a',
    applicationName: uniqueName('dbpool_obs'),
    logger: captureLogger(),
  });
  const b = createPool({
    connectionString: postgresUrl(),
    poolSize: 1,
    metrics,
    name: 'shared_b',
    applicationName: uniqueName('dbpool_obs'),
    logger: captureLogger(),
  });
  pools.push(a, b);
  await Promise.all([a.query('SELECT 1'), b.query('SELECT 1'), b.query('SELECT 1')]);
  const body = (await metrics.expose()).body;
  expect(
    metricValue(body, 'periscope_db_pool_query_duration_seconds_count', { pool: 'shared_a', operation: 'SELECT' }),
  ).toBe(1);
  expect(
    metricValue(body, 'periscope_db_pool_query_duration_seconds_count', { pool: 'shared_b', operation: 'SELECT' }),
  ).toBe(2);
});

test('spans follow the database conventions: summary as name, text sanitized unless parameterized, errors marked', async () => {
  const pool = createPool({
    connectionString: postgresUrl(),
    poolSize: 1,
    applicationName: uniqueName('dbpool_obs'),
    logger: captureLogger(),
  });
  pools.push(pool);
  await pool.query(`CREATE TABLE ${table} (id int, title text)`);
  exporter.reset();
  started.length = 0;
  try {
    await pool.query(`SELECT * FROM ${table} WHERE title = 'top secret' AND id = 7`);
    await pool.query(`SELECT title FROM ${table} WHERE title = $1 AND id = 7`, ['x']);
    await pool.query(`SELECT * FROM ${table}_missing`).catch(() => undefined);
    await pool.query('SELECT 1 + 1');
    const spans = exporter.getFinishedSpans();
    const u = new URL(postgresUrl());
    const select = spans.find(
      (s) => s.name === `SELECT ${table}` && String(s.attributes['db.query.text']).includes('*'),
    )!;
    expect(select.attributes).toMatchObject({
      'db.system.name': 'postgresql',
      'db.query.summary': `SELECT ${table}`,
      'db.query.text': `SELECT * FROM ${table} WHERE title = ? AND id = ?`,
      'db.namespace': u.pathname.slice(1) || 'postgres',
      'server.address': u.hostname,
      'server.port': Number(u.port || 5432),
    });
    // Not parsed into the attributes the conventions reserve for what the application says.
    expect(select.attributes['db.operation.name']).toBeUndefined();
    expect(select.attributes['db.collection.name']).toBeUndefined();
    const parameterized = spans.find((s) => String(s.attributes['db.query.text']).includes('$1'))!;
    expect(parameterized.attributes['db.query.text']).toBe(`SELECT title FROM ${table} WHERE title = $1 AND id = 7`);
    const failed = spans.find((s) => s.name === `SELECT ${table}_missing`)!;
    expect(failed.status.code).toBe(2);
    expect(failed.attributes['error.type']).toBe('42P01');
    expect(failed.attributes['db.response.status_code']).toBe('42P01');
    expect(spans.find((s) => s.attributes['db.query.text'] === 'SELECT ? + ?')!.name).toBe('SELECT');
    expect(spans.map((s) => s.name)).not.toContain('OTHER');
    // db.system.name is there when the span starts, for samplers.
    expect(started.length).toBe(spans.length);
    for (const attributes of started) expect(attributes['db.system.name']).toBe('postgresql');
  } finally {
    await pool.query(`DROP TABLE IF EXISTS ${table}`);
  }
});

test('the password never appears in logs, errors, stats, spans, metrics or inspect output', async () => {
  const password = `Pw-${uniqueName('secret')}`;
  const u = new URL(postgresUrl());
  u.username = 'postgres';
  u.password = password;
  const target = { host: u.hostname, port: Number(u.port || 5432) };
  proxy = await TcpFaultProxy.start({ target });
  const metrics = createMetrics();
  const logger = captureLogger();
  const pool = createPool({
    connectionString: proxy.urlFor(u.toString()),
    poolSize: 1,
    acquireTimeoutMs: 300,
    connectBackoffMs: 20,
    connectBackoffMaxMs: 50,
    metrics,
    logger,
    applicationName: uniqueName('dbpool_pw'),
  });
  pools.push(pool);
  const seen: unknown[] = [];
  const collect = async (p: Promise<unknown>) => {
    try {
      seen.push(await p);
    } catch (err) {
      seen.push(err);
    }
  };
  await collect(pool.query('SELECT 1'));
  await collect(pool.query('SELECT nope FROM nowhere'));
  proxy.cutAll();
  proxy.refuse();
  await collect(pool.query('SELECT pg_sleep(0.01)'));
  await collect(pool.query('SELECT 1'));
  seen.push(pool.stats(), await pool.healthCheck(200));
  proxy.restore();
  await waitFor(async () => (await pool.healthCheck(500)).healthy, 3000, 'healthy again');
  const everything = [
    ...seen.map((x) => inspect(x, { depth: 10 })),
    ...seen.map((x) => (x instanceof Error ? `${x.message}\n${x.stack}` : JSON.stringify(x))),
    JSON.stringify(logger.records),
    inspect(pool, { depth: 10 }),
    JSON.stringify(pool),
    JSON.stringify(exporter.getFinishedSpans().map((s) => ({ n: s.name, a: s.attributes, st: s.status, e: s.events }))),
    (await metrics.expose()).body,
  ].join('\n');
  expect(seen.some((x) => x instanceof Error)).toBe(true);
  expect(logger.records.length).toBeGreaterThan(0);
  expect(everything).toContain(`127.0.0.1:${proxy.port}`); // the scan does cover the errors and stats
  expect(everything).not.toContain(password);
});
