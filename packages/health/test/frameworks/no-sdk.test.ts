// Without a tracing SDK the integrations take their cheap path (metrics only: no span, no context
// work). A user who never starts tracing still gets RED metrics, probes and hidden errors; one who
// starts it after building the app gets spans from the next request on.
import express from 'express';
import Fastify from 'fastify';
import { createMetrics, type Metrics } from '@periscope/metrics';
import { startTracing } from '@periscope/tracing';
import { createHealthServer, type HealthServer } from '../../src';
import { periscopeExpress } from '../../src/frameworks/express';
import { periscopeFastify } from '../../src/frameworks/fastify';
import { request } from '../helpers';
import { SECRET } from './suite';

const METRIC = 'periscope_http_server_request_duration_seconds_count';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

async function countOf(metrics: Metrics, route: string, code: number): Promise<number> {
  const { body } = await metrics.expose();
  const line = body
    .split('\n')
    .find((l) => l.startsWith(`${METRIC}{`) && l.includes(`route="${route}"`) && l.includes(`code="${code}"`));
  return line ? Number(line.split(' ').pop()) : 0;
}

async function expressApp(health: HealthServer): Promise<{ url: string; close: () => Promise<unknown> }> {
  const periscope = periscopeExpress({ health });
  const app = express();
  app.use(periscope.middleware);
  app.get('/tasks/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  app.get('/boom', () => {
    throw new Error(SECRET);
  });
  app.use(periscope.errorHandler);
  const server = periscope.attach(app.listen(0, '127.0.0.1'));
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, close: () => periscope.close() };
}

async function fastifyApp(health: HealthServer): Promise<{ url: string; close: () => Promise<unknown> }> {
  const app = Fastify();
  const periscope = periscopeFastify(app, { health });
  app.get<{ Params: { id: string } }>('/tasks/:id', async (req) => ({ id: req.params.id }));
  app.get('/boom', async () => {
    throw new Error(SECRET);
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`, close: () => periscope.close() };
}

describe.each([
  ['express', expressApp],
  ['fastify', fastifyApp],
])('%s without a tracing SDK', (_name, makeApp) => {
  test('RED metrics by route template, 404s as unmatched, a thrown error hidden; spans once tracing starts', async () => {
    const metrics = createMetrics();
    const health = createHealthServer({ port: 0, metrics, drainDelayMs: 0, env: {} });
    const app = await makeApp(health);
    try {
      health.markReady();
      for (let i = 0; i < 20; i++) expect((await request(app.url, `/tasks/${i}`)).status).toBe(200);
      expect(await countOf(metrics, '/tasks/:id', 200)).toBe(20);

      const boom = await request(app.url, '/boom');
      expect(boom.status).toBe(500);
      expect(boom.body).not.toContain('hunter2');
      expect(await countOf(metrics, '/boom', 500)).toBe(1);

      expect((await request(app.url, '/no/such/path')).status).toBe(404);
      expect(await countOf(metrics, 'unmatched', 404)).toBe(1);
      expect((await request(app.url, '/readyz')).status).toBe(200);

      // The SDK registered after the app was built: the integration notices on the next request.
      const tracing = startTracing({ serviceName: 'svc', exporter: 'memory', env: {} });
      try {
        const traced = await request(app.url, '/tasks/7', {
          headers: { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` },
        });
        expect(traced.status).toBe(200);
        await tracing.forceFlush();
        const spans = tracing.store?.getTrace(TRACE_ID)?.spans ?? [];
        expect(spans.map((s) => [s.kind, s.name])).toEqual([['SERVER', 'GET /tasks/:id']]);
        expect(await countOf(metrics, '/tasks/:id', 200)).toBe(21);
      } finally {
        await tracing.shutdown();
      }
    } finally {
      await app.close();
    }
  }, 60_000);
});
