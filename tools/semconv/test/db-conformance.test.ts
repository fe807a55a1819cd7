// Conformance of the database spans we emit, checked against the vendored database models
// (vendor/head-384d6616, Apache-2.0): @periscope/db-pool against the real PostgreSQL and the L2
// tier of @periscope/cache against the real Redis, recorded by the in-memory exporter.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createCache, type Cache } from '@periscope/cache';
import { createPool, type DbPool } from '@periscope/db-pool';
import { startTracing, trace, type SpanRecord, type Tracing } from '@periscope/tracing';
import { postgresUrl, redisUrl } from '@periscope-tools/testing';
import { allowedDbSpanNames, checkDbSpan, checkSpan, type Conditions } from '../src/check';
import { SemconvModel } from '../src/model';

const model = new SemconvModel();
const unique = (prefix: string) => `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;

let tracing: Tracing;
beforeAll(() => {
  tracing = startTracing({ serviceName: 'semconv-db', exporter: 'memory', env: {} });
});
afterAll(() => tracing.close());

/** The CLIENT spans of `fn`, run in a trace of its own. */
async function clientSpans(fn: () => Promise<unknown>): Promise<SpanRecord[]> {
  const id = await trace('scenario', async (span) => {
    await fn();
    return span.spanContext().traceId;
  });
  await tracing.forceFlush();
  return tracing.store!.getTrace(id)!.spans.filter((s) => s.kind === 'CLIENT');
}

/** server.port is conditionally required off the default port; on it the attribute falls back to opt-in. */
const portCondition = (url: string, defaultPort: number): boolean | 'opt_in' => {
  const port = Number(new URL(url).port || defaultPort);
  return port === defaultPort ? 'opt_in' : true;
};

describe('PostgreSQL spans of @periscope/db-pool: span.db.postgresql.client', () => {
  let pool: DbPool;
  const table = unique('semconv');
  beforeAll(() => {
    pool = createPool({ connectionString: postgresUrl(), poolSize: 2, name: 'semconv' });
  });
  afterAll(async () => {
    await pool.query(`DROP TABLE IF EXISTS ${table}`);
    await pool.close();
  });

  it('statements of every kind, parameterized or not, ok or failed', async () => {
    const spans = await clientSpans(async () => {
      await pool.query(`CREATE TABLE ${table} (id int PRIMARY KEY, name text)`);
      await pool.query(`INSERT INTO ${table} (id, name) VALUES ($1, $2)`, [1, 'one']);
      await pool.query(`SELECT name FROM ${table} WHERE id = 1`);
      await pool.query(`UPDATE ${table} SET name = 'uno' WHERE id = $1`, [1]);
      await pool.query(`SELECT count(*) FROM ${table} a JOIN ${table} b ON a.id = b.id`);
      await pool.query('DO $$ BEGIN PERFORM 1; END $$');
      await pool.query('(SELECT 1)'); // no summary: named by its target, the database
      await pool.query(`INSERT INTO ${table} (id, name) VALUES (1, 'dup')`).catch(() => undefined);
      await pool.query('SELECT * FROM no_such_table_semconv').catch(() => undefined);
    });
    expect(spans).toHaveLength(9);
    expect(spans[6].name).toBe(new URL(postgresUrl()).pathname.slice(1));
    const port = portCondition(postgresUrl(), 5432);
    for (const span of spans) {
      const failed = span.status.code === 'ERROR';
      const conditions: Conditions = {
        'server.port': port,
        'db.response.status_code': failed,
        'error.type': failed,
        'db.namespace': true,
      };
      expect({ span: span.name, problems: checkSpan(model, 'span.db.postgresql.client', span, conditions) }).toEqual({
        span: span.name,
        problems: [],
      });
      expect({ span: span.name, problems: checkDbSpan(span, 'postgresql') }).toEqual({ span: span.name, problems: [] });
    }
    const failures = spans.filter((s) => s.status.code === 'ERROR').map((s) => s.attributes['error.type']);
    expect(failures).toEqual(['23505', '42P01']); // the SQLSTATE
    // Literals of unparameterized text never reach the span; parameterized text is kept as sent.
    expect(JSON.stringify(spans)).not.toContain("'dup'");
    // "Parameterized query text SHOULD NOT be sanitized": the caller chose what to pass as a parameter.
    expect(spans[3].attributes['db.query.text']).toBe(`UPDATE ${table} SET name = 'uno' WHERE id = $1`);
  });
});

describe('Redis spans of the @periscope/cache L2 tier: span.db.redis.client', () => {
  const caches: Cache[] = [];
  const raw = new Redis(redisUrl(), { lazyConnect: true });
  afterAll(async () => {
    for (const c of caches) await c.close();
    raw.disconnect();
  });

  it('get, set (tagged), delete, delete by tag, clear, the lock, and a failed command', async () => {
    const ns = unique('semconv');
    const cache = createCache({
      namespace: ns,
      l1: { maxEntries: 1 },
      l2: { url: redisUrl(), timeoutMs: 5000 },
      distributedLock: { ttlMs: 10_000, pollMs: 5 },
    });
    caches.push(cache);
    await raw.connect();
    await raw.sadd(`periscope:cache:${ns}:v1:k:wrong`, 'x'); // a set where the cache expects a string
    const spans = await clientSpans(async () => {
      await cache.set('a', 1, { tags: ['t'] });
      await cache.set('b', 2);
      await cache.get('a'); // from L2 (L1 holds one entry)
      await cache.getOrSet('c', () => 3);
      await cache.delete('b');
      await cache.deleteByTag('t');
      await cache.get('wrong').catch(() => undefined);
      await cache.clear();
    });
    const l2 = spans.filter((s) => s.attributes['db.system.name'] === 'redis');
    expect(l2.length).toBeGreaterThanOrEqual(8);
    const u = new URL(redisUrl());
    for (const span of l2) {
      const failed = span.status.code === 'ERROR';
      const conditions: Conditions = {
        'server.port': portCondition(redisUrl(), 6379),
        'db.response.status_code': failed,
        'error.type': failed,
        'db.namespace': true,
      };
      expect({ span: span.name, problems: checkSpan(model, 'span.db.redis.client', span, conditions) }).toEqual({
        span: span.name,
        problems: [],
      });
      expect({ span: span.name, problems: checkDbSpan(span, 'redis') }).toEqual({ span: span.name, problems: [] });
      expect(span.attributes['server.address']).toBe(u.hostname);
    }
    const failed = l2.filter((s) => s.status.code === 'ERROR');
    expect(failed.map((s) => [s.attributes['error.type'], s.attributes['db.response.status_code']])).toEqual([
      ['WRONGTYPE', 'WRONGTYPE'],
    ]);
    const ops = new Set(l2.map((s) => s.attributes['db.operation.name']));
    for (const op of ['GET', 'SET', 'PIPELINE', 'UNLINK', 'EVAL']) expect(ops).toContain(op);
    await raw.del(`periscope:cache:${ns}:v1:k:wrong`);
  });
});

describe('the database checks can fail', () => {
  it('an invented name, a parsed-out operation name as span name, a missing system', () => {
    const span = {
      name: 'OTHER',
      kind: 'CLIENT',
      status: { code: 'ERROR' },
      attributes: { 'db.system': 'postgresql', 'db.namespace': 'app', 'server.address': 'db', 'server.port': 5432 },
    };
    expect(checkDbSpan(span, 'postgresql')).toEqual([
      expect.stringContaining('status ERROR without error.type'),
      expect.stringContaining("db.system.name MUST be 'postgresql'"),
      expect.stringContaining('["app","db:5432"]'),
    ]);
    expect(
      checkSpan(model, 'span.db.postgresql.client', span, {
        'server.port': 'opt_in',
        'db.response.status_code': true,
        'error.type': true,
        'db.namespace': true,
      }),
    ).toEqual(
      expect.arrayContaining([
        expect.stringContaining("'db.system' is deprecated"),
        expect.stringContaining("'error.type' is required here"),
      ]),
    );
    expect(allowedDbSpanNames({ 'db.system.name': 'redis', 'db.operation.name': 'GET', 'db.namespace': '0' })).toEqual([
      'GET',
    ]);
  });
});
