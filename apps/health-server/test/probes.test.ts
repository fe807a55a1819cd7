import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TcpFaultProxy, postgresUrl, redisUrl, freePort } from '@periscope-tools/testing';
import { probePostgres, probeRedis, probeAgent, parseAgentList, describeEndpoint } from '../src/probes';

describe('probes against the real services', () => {
  test('PostgreSQL and Redis pass with a latency', async () => {
    const [p, r] = await Promise.all([probePostgres(postgresUrl(), 2000), probeRedis(redisUrl(), 2000)]);
    expect(p).toMatchObject({ status: 'pass', observedUnit: 'ms' });
    expect(r).toMatchObject({ status: 'pass', observedUnit: 'ms' });
  });

  test('a refused PostgreSQL fails with the reason and without the password', async () => {
    const proxy = await TcpFaultProxy.start({ target: { host: '127.0.0.1', port: 1 } });
    proxy.refuse();
    const url = proxy.urlFor('postgres://postgres:hunter2secret@127.0.0.1:5432/test');
    const p = await probePostgres(url, 1000);
    await proxy.close();
    expect(p.status).toBe('fail');
    expect(p.output).toContain(`PostgreSQL at postgres://127.0.0.1:${proxy.port}/test`);
    expect(p.output).not.toContain('hunter2secret');
  });

  test('a black-holed Redis fails within the timeout', async () => {
    const { hostname, port } = new URL(redisUrl());
    const proxy = await TcpFaultProxy.start({ target: { host: hostname, port: Number(port || 6379) } });
    proxy.blackhole();
    const started = Date.now();
    const r = await probeRedis(proxy.urlFor(redisUrl()), 300);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(r.status).toBe('fail');
    await proxy.close();
  });
});

describe('agent probe', () => {
  let server: http.Server;
  let base: string;
  let status = 200;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      res.writeHead(req.url === '/readyz' ? status : 404);
      res.end(req.headers.traceparent ?? 'ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  test('ready, not ready and unreachable agents', async () => {
    status = 200;
    expect(await probeAgent(base, 1000)).toMatchObject({ status: 'pass', httpStatus: 200 });
    status = 503;
    expect(await probeAgent(`${base}/`, 1000)).toMatchObject({
      status: 'fail',
      httpStatus: 503,
      output: '/readyz answered 503',
    });
    const down = await probeAgent(`http://127.0.0.1:${await freePort()}`, 1000);
    expect(down.status).toBe('fail');
    expect(down.output).toMatch(/ECONNREFUSED|fetch failed/);
  });
});

test('PERISCOPE_AGENTS parsing rejects bad URLs by name and hides credentials', () => {
  expect(parseAgentList(' http://a:1 , https://b:2/ ,')).toEqual(['http://a:1', 'https://b:2/']);
  expect(parseAgentList(undefined)).toEqual([]);
  expect(() => parseAgentList('localhost:9464')).toThrow(/PERISCOPE_AGENTS.*must be http or https|not an absolute URL/);
  expect(() => parseAgentList('ftp://x')).toThrow(/must be http or https/);
  expect(describeEndpoint('redis://:secretpw@10.0.0.1:6379/0')).toBe('redis://10.0.0.1:6379/0');
});
