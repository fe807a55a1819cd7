// /metrics is streamed: a 100k-series registry goes out in slices as it is rendered (chunked, no
// Content-Length), the loop keeps turning while it does, and the bytes are the registry's exposition.
import http from 'node:http';
import { createMetrics } from '@periscope/metrics';
import { createHealthServer, type HealthServer, type ListenAddress } from '@periscope/health';
import { request } from './helpers';

const SERIES = 100_000;

describe('/metrics with 100k series', () => {
  const metrics = createMetrics({ maxSeriesPerMetric: SERIES + 10 });
  let server: HealthServer;
  let addr: ListenAddress;

  beforeAll(async () => {
    const tokens = metrics.counter({ name: 'tenant_tokens_total', help: 'tokens', labelNames: ['tenant'] as const });
    for (let i = 0; i < SERIES; i++) tokens.inc({ tenant: `t${i}` }, i);
    server = createHealthServer({ port: 0, drainDelayMs: 0, metrics, version: '1', serviceId: 'stream-test' });
    addr = await server.listen();
  });
  afterAll(async () => {
    await server.close();
    await metrics.close();
  });

  test('arrives in several chunks, while the event loop keeps turning, byte for byte the exposition', async () => {
    // Turns of the loop while the answer is produced: one long synchronous render would give ~0.
    let turns = 0;
    let ticking = true;
    const tick = () => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const chunks: Buffer[] = [];
    const answer = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.get(`${addr.url}/metrics`, { agent: false, headers: { accept: 'text/plain' } }, (res) => {
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(res));
        res.on('error', reject);
      });
      req.on('error', reject);
    });
    ticking = false;
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['transfer-encoding']).toBe('chunked');
    expect(answer.headers['content-length']).toBeUndefined();
    expect(answer.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(turns).toBeGreaterThan(5);
    const body = Buffer.concat(chunks).toString('utf8');
    expect(body).toContain('tenant_tokens_total{tenant="t99999"} 99999\n');
    // The same series as the whole-string rendering (the server's own request counter moves between the two).
    const whole = (await metrics.expose('text/plain')).body;
    const ours = (text: string) => text.split('\n').filter((l) => l.startsWith('tenant_tokens_total'));
    expect(ours(body)).toEqual(ours(whole));
    expect(ours(body)).toHaveLength(SERIES);
  }, 120_000);

  test('HEAD answers the headers alone; OpenMetrics ends with # EOF', async () => {
    const head = await request(addr.url, '/metrics', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    const om = await request(addr.url, '/metrics', {
      headers: { accept: 'application/openmetrics-text; version=1.0.0' },
    });
    expect(om.headers['content-type']).toMatch(/^application\/openmetrics-text/);
    expect(om.body.endsWith('# EOF\n')).toBe(true);
  }, 120_000);

  test('a client that goes away mid-answer stops the rendering and the server keeps serving', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = http.get(`${addr.url}/metrics`, { agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? resolve() : reject(err)));
    });
    expect((await request(addr.url, '/livez')).status).toBe(200);
  }, 120_000);
});
