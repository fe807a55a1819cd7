// trustProxy: behind a trusted proxy the span describes the real client and URL; by default the
// same headers are ignored, so a client cannot write its own client.address.
import express from 'express';
import Fastify from 'fastify';
import { createMetrics } from '@periscope/metrics';
import { startTracing, type Tracing } from '@periscope/tracing';
import { createHealthServer, type HealthServer } from '../../src';
import { periscopeExpress } from '../../src/frameworks/express';
import { periscopeFastify } from '../../src/frameworks/fastify';
import { request } from '../helpers';

type Start = (health: HealthServer, trustProxy?: boolean) => Promise<{ url: string; close: () => Promise<unknown> }>;

const startExpress: Start = async (health, trustProxy) => {
  const periscope = periscopeExpress({ health, ...(trustProxy === undefined ? {} : { trustProxy }) });
  const app = express();
  app.use(periscope.middleware);
  app.get('/tasks/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  const server = periscope.attach(app.listen(0, '127.0.0.1'));
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, close: () => periscope.close() };
};

const startFastify: Start = async (health, trustProxy) => {
  const app = Fastify();
  const periscope = periscopeFastify(app, { health, ...(trustProxy === undefined ? {} : { trustProxy }) });
  app.get<{ Params: { id: string } }>('/tasks/:id', async (req) => ({ id: req.params.id }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`, close: () => periscope.close() };
};

const PROXY_HEADERS = {
  'x-forwarded-for': '203.0.113.7, 10.0.0.2',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'api.example.com',
};

let tracing: Tracing;
beforeAll(() => {
  tracing = startTracing({ serviceName: 'svc', exporter: 'memory', env: {} });
});
afterAll(() => tracing.shutdown());

async function serverSpanAttributes(app: { url: string }, traceId: string) {
  const res = await request(app.url, '/tasks/1', {
    headers: { ...PROXY_HEADERS, traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
  });
  expect(res.status).toBe(200);
  await tracing.forceFlush();
  const spans = tracing.store?.getTrace(traceId)?.spans ?? [];
  expect(spans).toHaveLength(1);
  return spans[0].attributes;
}

describe.each([
  ['express', startExpress],
  ['fastify', startFastify],
])('%s trustProxy', (_name, start) => {
  test('on: client.address, server.address/port and url.scheme come from X-Forwarded-*', async () => {
    const health = createHealthServer({ port: 0, metrics: createMetrics(), drainDelayMs: 0, env: {} });
    const app = await start(health, true);
    try {
      const a = await serverSpanAttributes(app, '1'.repeat(31) + (_name === 'express' ? 'a' : 'b'));
      expect(a['client.address']).toBe('203.0.113.7');
      expect(a['url.scheme']).toBe('https');
      expect(a['server.address']).toBe('api.example.com');
      expect(a['server.port']).toBe(443);
      expect(a['network.peer.address']).toBe('127.0.0.1');
    } finally {
      await app.close();
    }
  });

  test('off by default: the same headers are ignored', async () => {
    const health = createHealthServer({ port: 0, metrics: createMetrics(), drainDelayMs: 0, env: {} });
    const app = await start(health);
    try {
      const a = await serverSpanAttributes(app, '2'.repeat(31) + (_name === 'express' ? 'a' : 'b'));
      expect(a['client.address']).toBe('127.0.0.1');
      expect(a['url.scheme']).toBe('http');
      expect(a['server.address']).toBe('127.0.0.1');
    } finally {
      await app.close();
    }
  });
});

test('trustProxy must be a boolean', () => {
  const health = createHealthServer({ port: 0, metrics: false, env: {} });
  expect(() => periscopeExpress({ health, trustProxy: 'yes' } as never)).toThrow(/trustProxy: expected a boolean/);
});
