// Pushgateway against a real local HTTP server that records what it receives.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMetrics, MetricsConfigError, PushgatewayError } from '../src';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let server: http.Server;
let base: string;
const received: Received[] = [];
let status = 200;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.statusCode = status;
      res.end(status === 200 ? '' : 'bad push');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});
beforeEach(() => {
  received.length = 0;
  status = 200;
});

describe('Pushgateway', () => {
  test('PUT /metrics/job/<job>/<label>/<value> with the text exposition as body', async () => {
    const m = createMetrics();
    m.counter({ name: 'batch_rows_total', help: 'rows', labelNames: ['table'] as const }).inc({ table: 'users' }, 42);
    await m.push({ url: base, job: 'nightly-import', groupings: { instance: 'worker/7', shard: '3' } });
    expect(received).toHaveLength(1);
    const [r] = received;
    expect(r.method).toBe('PUT');
    expect(r.url).toBe(
      `/metrics/job/nightly-import/instance@base64/${Buffer.from('worker/7').toString('base64url')}/shard/3`,
    );
    expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const lines = r.body.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(lines).toEqual(['batch_rows_total{table="users"} 42']);
  });

  test('POST merges, DELETE removes the group; the URL can come from PERISCOPE_PUSHGATEWAY_URL', async () => {
    const m = createMetrics();
    m.gauge({ name: 'batch_last_success', help: 'x' }).set(1700000000);
    process.env.PERISCOPE_PUSHGATEWAY_URL = base;
    try {
      await m.push({ job: 'j', method: 'POST' });
      await m.push({ job: 'j', method: 'DELETE' });
    } finally {
      delete process.env.PERISCOPE_PUSHGATEWAY_URL;
    }
    expect(received.map((r) => [r.method, r.url, r.body.includes('batch_last_success 1700000000')])).toEqual([
      ['POST', '/metrics/job/j', true],
      ['DELETE', '/metrics/job/j', false],
    ]);
  });

  test('a non-2xx answer is a PushgatewayError with the status, and URL credentials never appear in it', async () => {
    status = 400;
    const m = createMetrics();
    const withAuth = base.replace('http://', 'http://user:s3cr3t@');
    const err = await m.push({ url: withAuth, job: 'j' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PushgatewayError);
    expect((err as PushgatewayError).status).toBe(400);
    expect((err as Error).message).toMatch(/answered 400.*bad push/);
    expect((err as Error).message).not.toContain('s3cr3t');
    expect(received[0].headers.authorization).toBe(`Basic ${Buffer.from('user:s3cr3t').toString('base64')}`);
  });

  test('an unreachable gateway fails with PushgatewayError; bad options with MetricsConfigError', async () => {
    const m = createMetrics();
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await expect(m.push({ url: `http://127.0.0.1:${port}`, job: 'j', timeoutMs: 500 })).rejects.toThrow(
      PushgatewayError,
    );
    await expect(m.push({ url: 'ftp://x', job: 'j' })).rejects.toThrow(MetricsConfigError);
    await expect(m.push({ url: base, job: '' })).rejects.toThrow(/invalid job/);
    await expect(m.push({ url: base, job: 'j', groupings: { job: 'x' } })).rejects.toThrow(/groupings.job/);
    expect(received).toHaveLength(0);
  });
});
