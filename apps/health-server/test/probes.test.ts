import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import {
  TcpFaultProxy,
  postgresUrl,
  redisUrl,
  freePort,
  startRedisCluster,
  type RedisClusterHandle,
} from '@periscope-tools/testing';
import { probePostgres, probeRedis, probeAgent, describeEndpoint } from '../src/probes';
import { parseAgentList, parseMonitorConfig, MonitorConfigError } from '../src/config';

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

describe('Redis in the cache URL forms: a real 6-node Cluster', () => {
  let cluster: RedisClusterHandle;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 90_000);
  afterAll(() => cluster?.close());

  test('passes while every slot is served; fails once a master and its replica are gone (their slots unserved)', async () => {
    await expect(probeRedis(cluster.url, 3000)).resolves.toMatchObject({ status: 'pass', observedUnit: 'ms' });
    // A master and the replica that could take over: the slots they owned have no server.
    const master = cluster.masterOf(0);
    const replica = cluster.nodes.find(
      (n) =>
        n.port !== master &&
        execFileSync('redis-cli', ['-p', String(n.port), 'info', 'replication'], { encoding: 'utf8' }).includes(
          `master_port:${master}`,
        ),
    );
    cluster.kill(master);
    if (replica) cluster.kill(replica.port);
    const deadline = Date.now() + 30_000;
    let last = await probeRedis(cluster.url, 3000);
    while (last.status === 'pass' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      last = await probeRedis(cluster.url, 3000);
    }
    expect(last).toMatchObject({
      status: 'fail',
      output: expect.stringMatching(
        /^Redis cluster at redis\+cluster:\/\/.*(cluster_state is fail|\d+ of 16384 slots served)/,
      ),
    });
  }, 60_000);

  test('a cluster URL with no live seed fails within its bound, without the password', async () => {
    const port = await freePort();
    const started = Date.now();
    const r = await probeRedis(`redis+cluster://:hunter2secret@127.0.0.1:${port}`, 500);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(r.status).toBe('fail');
    expect(r.output).not.toContain('hunter2secret');
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
  expect(() => parseAgentList('localhost:9464')).toThrow(
    'invalid PERISCOPE_AGENTS: expected a URL (http: or https:), got "localhost:9464"',
  );
  expect(() => parseAgentList('ftp://x')).toThrow(MonitorConfigError);
  expect(() => parseAgentList('http://user:hunter2@[::1')).toThrow(/^(?!.*hunter2)/);
  expect(describeEndpoint('redis://:secretpw@10.0.0.1:6379/0')).toBe('redis://10.0.0.1:6379/0');
});

test('monitor configuration: durations, house errors with codes, nearest suggestions', () => {
  const c = parseMonitorConfig(['--port', '0'], { PERISCOPE_PROBE_TIMEOUT_MS: '2s', DATABASE_URL: 'off' });
  expect(c).toMatchObject({ port: 0, probeTimeoutMs: 2000, databaseUrl: undefined, agentMaxBodyBytes: 65536 });
  expect(() => parseMonitorConfig([], { PERISCOPE_CRITICAL_CHECKS: 'postgress' })).toThrow(
    /^invalid PERISCOPE_CRITICAL_CHECKS: expected a list of postgres, redis, got "postgress"; did you mean postgres\?$/,
  );
  expect(() => parseMonitorConfig(['--prot', '1'], {})).toThrow(/did you mean port\?/);
  let err: unknown;
  try {
    parseMonitorConfig([], { PERISCOPE_PROBE_TIMEOUT_MS: 'soon' });
  } catch (e) {
    err = e;
  }
  expect(err).toMatchObject({ code: 'ERR_HEALTH_SERVER_CONFIG', option: 'PERISCOPE_PROBE_TIMEOUT_MS' });
});

describe('bad input never makes a probe throw', () => {
  test.each(['postgres://user:pw-secret@%zz/db', 'postgres://user:pw-secret@host:notaport/db', 'postgres://[::1/db'])(
    'a malformed PostgreSQL URL %s resolves to a failed probe with a clear reason',
    async (url) => {
      const p = await probePostgres(url, 500);
      expect(p.status).toBe('fail');
      expect(p.output).toMatch(/^PostgreSQL (connection string .* is malformed|at .*): /);
      expect(p.output).not.toContain('pw-secret');
    },
  );
});

describe('a hostile agent', () => {
  let hostile: http.Server;
  let hostileBase: string;
  let sentBytes = 0;
  beforeAll(async () => {
    hostile = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      if (req.url === '/big-declared/readyz') {
        res.writeHead(200, { 'content-length': String(1 << 30) });
      }
      // Streams 64 KiB chunks for as long as the client reads (up to ~1 GiB).
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const pump = () => {
        while (sentBytes < 1 << 30) {
          sentBytes += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => undefined);
      pump();
    });
    await new Promise<void>((r) => hostile.listen(0, '127.0.0.1', () => r()));
    hostileBase = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    hostile.closeAllConnections();
    return new Promise<void>((r) => hostile.close(() => r()));
  });

  test('a streamed huge /readyz body is cut at the limit with an error that says so', async () => {
    sentBytes = 0;
    const r = await probeAgent(hostileBase, 5000, fetch, 64 * 1024);
    expect(r.status).toBe('fail');
    expect(r.output).toMatch(/response body exceeds 65536 bytes/);
    expect(r.output).not.toMatch(/no answer within/);
    // The monitor stopped reading: far less than the gigabyte on offer went over the wire.
    expect(sentBytes).toBeLessThan(64 * 1024 * 1024);
  });
});
