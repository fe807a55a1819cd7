// Spans through @opentelemetry/api: L2 and L3 operations and factories, with no key or secret.
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { redisUrl } from '@periscope-tools/testing';
import { Fixture, uniqueNs } from './helpers';

const fx = new Fixture();
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

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
  expect(get.attributes).toMatchObject({ 'db.system.name': 'redis', 'db.operation.name': 'GET', 'cache.tier': 'l2' });
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
