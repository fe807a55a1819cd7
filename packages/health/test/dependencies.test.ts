// Checks against the real PostgreSQL and Redis through the TCP fault proxy: a black-holed
// dependency fails readiness within the check's timeout, a probe storm opens one connection,
// and readiness recovers when the network does.
import { Client } from 'pg';
import Redis from 'ioredis';
import { TcpFaultProxy, postgresUrl, redisUrl } from '@periscope-tools/testing';
import { createHealthServer, HealthServer, type ListenAddress } from '@periscope/health';
import { request, sleep } from './helpers';

describe('checks against real PostgreSQL and Redis', () => {
  let pgProxy: TcpFaultProxy;
  let redisProxy: TcpFaultProxy;
  let redis: Redis;
  let server: HealthServer;
  let addr: ListenAddress;

  beforeAll(async () => {
    const pgUrl = new URL(postgresUrl());
    const rUrl = new URL(redisUrl());
    pgProxy = await TcpFaultProxy.start({ target: { host: pgUrl.hostname, port: Number(pgUrl.port || 5432) } });
    redisProxy = await TcpFaultProxy.start({ target: { host: rUrl.hostname, port: Number(rUrl.port || 6379) } });
    redis = new Redis(redisProxy.urlFor(redisUrl()), {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      commandTimeout: 150,
      retryStrategy: () => 50,
      keyPrefix: 'periscope-health-test:',
    });
    await redis.connect();

    server = createHealthServer({ port: 0, drainDelayMs: 0, metrics: false });
    // One connection per run, as a check that must see a fresh connect would do.
    server.addCheck({
      name: 'postgres',
      componentType: 'datastore',
      timeoutMs: 300,
      minIntervalMs: 1000,
      run: async (signal) => {
        const client = new Client({ connectionString: pgProxy.urlFor(postgresUrl()) });
        client.on('error', () => undefined); // an aborted connect reports here; the check result carries the failure
        const stop = () => {
          void client.end().catch(() => undefined);
        };
        signal.addEventListener('abort', stop);
        try {
          await client.connect();
          const r = await client.query<{ one: number }>('SELECT 1 AS one');
          return { status: r.rows[0].one === 1 ? 'pass' : 'fail' };
        } finally {
          signal.removeEventListener('abort', stop);
          // Not awaited: end() on a client whose connect failed may never settle.
          void client.end().catch(() => undefined);
        }
      },
    });
    server.addCheck({
      name: 'redis',
      critical: false,
      componentType: 'datastore',
      timeoutMs: 300,
      minIntervalMs: 0,
      run: async () => ({ status: (await redis.ping()) === 'PONG' ? 'pass' : 'fail' }),
    });
    addr = await server.listen();
    server.markReady();
  });

  afterAll(async () => {
    await server?.close();
    redis?.disconnect();
    await pgProxy?.close();
    await redisProxy?.close();
  });

  afterEach(() => {
    pgProxy.restore();
    redisProxy.restore();
  });

  it('passes while both answer, and a probe storm shares one PostgreSQL connection', async () => {
    const before = pgProxy.acceptedConnections;
    const answers = await Promise.all(Array.from({ length: 20 }, () => request(addr.url, '/readyz?verbose')));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(answers[0].body).toContain('[+]postgres ok');
    expect(answers[0].body).toContain('[+]redis ok');
    expect(pgProxy.acceptedConnections - before).toBe(1);
  });

  it('a black-holed PostgreSQL fails readiness within the check timeout, then recovers', async () => {
    await sleep(1050); // let the cached pass (minIntervalMs 1000) expire
    pgProxy.blackhole();
    const t0 = Date.now();
    const r = await request(addr.url, '/readyz?verbose');
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(r.status).toBe(503);
    expect(r.body).toMatch(/\[-\]postgres failed: check postgres timed out after 300 ms/);
    pgProxy.restore();
    pgProxy.cutAll();
    // pg never settles an aborted connect; the next run after minIntervalMs connects afresh.
    let last = { status: 0, body: '' };
    for (let i = 0; i < 80 && last.status !== 200; i++) {
      await sleep(50);
      last = await request(addr.url, '/readyz?verbose');
    }
    expect(last).toMatchObject({ status: 200 });
  });

  it('a dead Redis (non-critical) makes /health warn and leaves /readyz at 200', async () => {
    redisProxy.blackhole();
    const health = await request(addr.url, '/health');
    expect(health.status).toBe(200);
    const doc = JSON.parse(health.body);
    expect(doc.status).toBe('warn');
    expect(doc.checks['redis:responseTime'][0].status).toBe('fail');
    expect(doc.checks['postgres:responseTime'][0].status).toBe('pass');
    expect((await request(addr.url, '/readyz')).status).toBe(200);
  });
});
