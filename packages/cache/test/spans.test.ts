// Spans through @opentelemetry/api: L2 and L3 operations and factories, with no key or secret.
import { Redis } from 'ioredis';
import { trace, type Attributes } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { redisUrl } from '@periscope-tools/testing';
import { Fixture, sleep, uniqueNs } from './helpers';

const fx = new Fixture();
const exporter = new InMemorySpanExporter();
/** Attributes as they were when each span started (what a sampler sees), by span. */
const atStart = new Map<unknown, Attributes>();
const startRecorder: SpanProcessor = {
  onStart: (span) => void atStart.set(span.spanContext().spanId, { ...span.attributes }),
  onEnd: () => undefined,
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter), startRecorder] });
const l2Spans = () => exporter.getFinishedSpans().filter((s) => s.attributes['db.system.name'] === 'redis');
const byMeaning = (spans: ReadableSpan[], meaning: string) =>
  spans.filter((s) => s.attributes['periscope.cache.operation'] === meaning);

beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
});
afterEach(() => fx.dispose());
afterAll(async () => {
  trace.disable();
  await provider.shutdown();
});

it('emits spans for L2 and L3 operations and for the factory, without the cache key', async () => {
  const cache = fx.cache({
    namespace: uniqueNs('spans'),
    l1: { maxEntries: 1 },
    l2: { url: redisUrl(), timeoutMs: 500 },
    l3: { dir: fx.dir() },
  });
  exporter.reset();
  await cache.getOrSet('user:secret-key', () => 'v');
  await cache.set('other', 1); // evicts the first key from L1
  await cache.get('user:secret-key'); // L2 hit
  const spans = exporter.getFinishedSpans();
  const names = spans.map((s) => s.name);
  expect(names).toEqual(expect.arrayContaining(['GET', 'SET', 'cache.factory', 'cache.l3.write']));
  const get = spans.find((s) => s.name === 'GET')!;
  expect(get.attributes).toMatchObject({
    'db.system.name': 'redis',
    'db.operation.name': 'GET',
    'periscope.cache.tier': 'l2',
  });
  expect(JSON.stringify(spans.map((s) => s.attributes))).not.toContain('secret-key');
});

it('marks a failing factory span as an error', async () => {
  const cache = fx.cache({ namespace: uniqueNs('spanerr') });
  exporter.reset();
  await expect(
    cache.getOrSet('k', () => {
      throw new Error('boom');
    }),
  ).rejects.toThrow('boom');
  const factory = exporter.getFinishedSpans().find((s) => s.name === 'cache.factory')!;
  expect(factory.status.code).toBe(2); // SpanStatusCode.ERROR
});

it('L2 spans name the Redis command sent, with our meaning, server, database index; db.system.name at start', async () => {
  const ns = uniqueNs('semconv');
  const cache = fx.cache({ namespace: ns, l1: { maxEntries: 1 }, l2: { url: redisUrl(), timeoutMs: 2000 } });
  await cache.set('a', 1, { tags: ['t1'] });
  await cache.set('b', 2);
  await cache.get('b');
  exporter.reset();
  atStart.clear();
  await cache.set('c', 3);
  await cache.set('e', 5); // evicts c from L1
  await cache.get('c'); // from L2
  await cache.delete('c');
  await cache.deleteByTag('t1');
  await cache.set('d', 4, { tags: ['t2'] });
  await cache.clear();
  const spans = l2Spans();
  const u = new URL(redisUrl());
  const expected: [string, string][] = [
    ['set', 'SET'],
    ['set', 'SET'],
    ['get', 'GET'],
    ['delete', 'UNLINK'],
    ['delete_by_tag', 'PIPELINE'],
    ['set', 'PIPELINE'],
    ['clear', 'PIPELINE'],
  ];
  const commands = spans.filter((s) => s.attributes['periscope.cache.operation'] !== 'publish'); // invalidation bus
  expect(commands.map((s) => [s.attributes['periscope.cache.operation'], s.attributes['db.operation.name']])).toEqual(
    expected,
  );
  for (const span of spans) {
    expect(span.name).toBe(span.attributes['db.operation.name']);
    expect(span.kind).toBe(2); // SpanKind.CLIENT
    expect(span.attributes).toMatchObject({
      'server.address': u.hostname,
      'server.port': Number(u.port || 6379),
      'db.namespace': u.pathname.length > 1 ? u.pathname.slice(1) : '0',
      'periscope.cache.namespace': ns,
    });
    expect(atStart.get(span.spanContext().spanId)?.['db.system.name']).toBe('redis');
  }
  // No invented operation names survive.
  for (const invented of ['DELETE_BY_TAG', 'CLEAR', 'LOCK', 'LOCK_RENEW', 'LOCK_RELEASE'])
    expect(spans.map((s) => s.attributes['db.operation.name'])).not.toContain(invented);
});

it('the distributed lock is SET and EVAL (with the script SHA1) under lock, lock_renew, lock_release', async () => {
  const ns = uniqueNs('semlock');
  const cache = fx.cache({
    namespace: ns,
    l2: { url: redisUrl(), timeoutMs: 2000 },
    distributedLock: { ttlMs: 300, pollMs: 5 },
  });
  exporter.reset();
  await cache.getOrSet('slow', async () => {
    await sleep(400); // past ttlMs / 2: the lock is renewed at least once
    return 'v';
  });
  const spans = l2Spans();
  const [lock] = byMeaning(spans, 'lock');
  expect(lock.attributes['db.operation.name']).toBe('SET');
  const renew = byMeaning(spans, 'lock_renew');
  expect(renew.length).toBeGreaterThan(0);
  expect(renew[0].attributes['db.operation.name']).toBe('EVAL');
  expect(renew[0].attributes['db.stored_procedure.name']).toMatch(/^[0-9a-f]{40}$/);
  const [release] = byMeaning(spans, 'lock_release');
  expect(release.attributes['db.operation.name']).toBe('EVAL');
  expect(release.attributes['db.stored_procedure.name']).not.toBe(renew[0].attributes['db.stored_procedure.name']);
});

it('a failed command carries error.type and db.response.status_code, the Redis error prefix', async () => {
  const ns = uniqueNs('semerr');
  const raw = new Redis(redisUrl());
  fx.onCleanup(() => void raw.disconnect());
  const cache = fx.cache({ namespace: ns, l1: { maxEntries: 1 }, l2: { url: redisUrl(), timeoutMs: 2000 } });
  await raw.sadd(`periscope:cache:${ns}:v1:k:wrong`, 'x'); // a set where the cache expects a string
  exporter.reset();
  await cache.get('wrong').catch(() => undefined);
  const [get] = byMeaning(l2Spans(), 'get');
  expect(get.status.code).toBe(2);
  expect(get.attributes).toMatchObject({ 'error.type': 'WRONGTYPE', 'db.response.status_code': 'WRONGTYPE' });
  await raw.del(`periscope:cache:${ns}:v1:k:wrong`);
});
