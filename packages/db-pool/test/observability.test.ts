// Metrics, spans and secrecy: what operators see, and that the password is never part of it.
import { inspect } from 'node:util';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createMetrics } from '@periscope/metrics';
import { postgresUrl, TcpFaultProxy } from '@periscope-tools/testing';
import { createPool, DbPool, sanitizeSql, statementInfo } from '../src';
import { captureLogger, uniqueName, waitFor } from './helpers';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
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

test('literals become placeholders, parameters stay, operation and table are found', () => {
  expect(sanitizeSql("SELECT * FROM docs WHERE title = 'It''s secret' AND id = 42 AND v = $1 AND x = -3.5e2")).toBe(
    'SELECT * FROM docs WHERE title = ? AND id = ? AND v = $1 AND x = ?',
  );
  expect(sanitizeSql("SELECT $tag$ hidden $tag$, E'a\\'b' FROM t2")).toBe('SELECT ?, ? FROM t2');
  expect(statementInfo('  /* c */ insert into memory (a) values (1)')).toMatchObject({
    operation: 'INSERT',
    collection: 'memory',
    spanName: 'INSERT memory',
  });
  expect(statementInfo('VACUUMX')).toMatchObject({ operation: 'OTHER', spanName: 'OTHER' });
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

test('spans follow the database conventions, with sanitized text and errors marked', async () => {
  const pool = createPool({
    connectionString: postgresUrl(),
    poolSize: 1,
    applicationName: uniqueName('dbpool_obs'),
    logger: captureLogger(),
  });
  pools.push(pool);
  await pool.query(`CREATE TABLE ${table} (id int, title text)`);
  try {
    await pool.query(`SELECT * FROM ${table} WHERE title = 'top secret' AND id = 7`);
    await pool.query(`SELECT * FROM ${table}_missing`).catch(() => undefined);
    const spans = exporter.getFinishedSpans();
    const select = spans.find((s) => s.name === `SELECT ${table}`)!;
    const u = new URL(postgresUrl());
    expect(select.attributes).toMatchObject({
      'db.system.name': 'postgresql',
      'db.operation.name': 'SELECT',
      'db.collection.name': table,
      'db.query.text': `SELECT * FROM ${table} WHERE title = ? AND id = ?`,
      'server.address': u.hostname,
      'server.port': Number(u.port || 5432),
    });
    const failed = spans.find((s) => s.name === `SELECT ${table}_missing`)!;
    expect(failed.status.code).toBe(2);
    expect(failed.attributes['error.type']).toBe('42P01');
    expect(failed.attributes['db.response.status_code']).toBe('42P01');
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
