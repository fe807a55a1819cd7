// End to end: the built monitor (dist/main.js) as a child process, with the real PostgreSQL and
// Redis, one answering agent (a local HTTP server that records what it receives), one dead agent,
// and Redis behind a fault proxy that the test cuts.
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { spawnSync } from 'node:child_process';
import {
  TcpFaultProxy,
  freePort,
  postgresUrl,
  promtoolCheckMetrics,
  redisUrl,
  startChildApp,
  type ChildApp,
} from '@periscope-tools/testing';

// promtool's lint findings must be none, except names kept on purpose for compatibility: prom-client's
// default nodejs_active_{handles,requests,resources}_total gauges, and dcgm-exporter's `UUID` and
// `modelName` labels on the DCGM_FI_DEV_* gauges (so existing DCGM dashboards work; gpu-pool README).
const COMPAT_LINT = [
  /^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/,
  /^DCGM_FI_DEV_[A-Z_]+ label names should be written in 'snake_case' not 'camelCase'$/,
];
const lintFindings = (exposition: string): string[] =>
  promtoolCheckMetrics(exposition)
    .split('\n')
    .filter((line) => line !== '' && !COMPAT_LINT.some((re) => re.test(line)));

const MAIN = path.join(__dirname, '..', 'dist', 'main.js');
// @periscope/gpu-pool's nvidia-smi double (answers from a real H100 capture): two GPUs, the second one hot.
const FAKE_NVIDIA_SMI_DIR = path.join(__dirname, '..', '..', '..', 'packages', 'gpu-pool', 'test', 'fixtures', 'bin');

let app: ChildApp;
let agent: http.Server;
let agentUrl: string;
let deadAgentUrl: string;
let redisProxy: TcpFaultProxy;
const agentRequests: http.IncomingHttpHeaders[] = [];

beforeAll(async () => {
  agent = http.createServer((req, res) => {
    agentRequests.push(req.headers);
    res.writeHead(req.url === '/readyz' ? 200 : 404);
    res.end('ok');
  });
  await new Promise<void>((r) => agent.listen(0, '127.0.0.1', () => r()));
  agentUrl = `http://127.0.0.1:${(agent.address() as AddressInfo).port}`;
  deadAgentUrl = `http://127.0.0.1:${await freePort()}`;
  const redis = new URL(redisUrl());
  redisProxy = await TcpFaultProxy.start({ target: { host: redis.hostname, port: Number(redis.port || 6379) } });
  // trust auth ignores the password: it is there to prove it never shows.
  const db = new URL(postgresUrl());
  db.username = 'postgres';
  db.password = 'pw-secret-hunter2';
  app = await startChildApp({
    script: MAIN,
    args: ['--port', '0'],
    env: {
      DATABASE_URL: db.toString(),
      REDIS_URL: redisProxy.urlFor(redisUrl()),
      PERISCOPE_AGENTS: `${agentUrl},${deadAgentUrl}`,
      PERISCOPE_PROBE_TIMEOUT_MS: '500',
      PERISCOPE_PROBE_INTERVAL_MS: '0',
      PERISCOPE_HEALTH_DRAIN_DELAY_MS: '0',
      PATH: `${FAKE_NVIDIA_SMI_DIR}${path.delimiter}${process.env.PATH ?? ''}`,
      FAKE_NVSMI_GPUS: '2',
      FAKE_NVSMI_SET: '1:temperature.gpu=95',
    },
  });
});
afterAll(async () => {
  await app?.stop();
  await redisProxy?.close();
  await new Promise<void>((r) => agent.close(() => r()));
});

test('/health aggregates PostgreSQL, Redis and agents: a dead agent warns, the rest pass', async () => {
  const res = await fetch(`${app.url}/health`);
  expect(res.headers.get('content-type')).toMatch(/^application\/health\+json/);
  const doc = (await res.json()) as any;
  expect(res.status).toBe(200);
  expect(doc.status).toBe('warn');
  expect(doc.checks['postgres:responseTime'][0]).toMatchObject({
    status: 'pass',
    componentType: 'datastore',
    observedUnit: 'ms',
  });
  expect(doc.checks['redis:responseTime'][0]).toMatchObject({ status: 'pass' });
  expect(doc.checks['agent-1:responseTime'][0]).toMatchObject({ status: 'pass' });
  expect(doc.checks['agent-2:responseTime'][0]).toMatchObject({ status: 'fail' });
  expect(doc.checks['agent-2:responseTime'][0].output).toMatch(/ECONNREFUSED|fetch failed|connect/);
  // Non-critical by default: the monitor stays ready.
  expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
});

test('agent polls carry W3C trace context', async () => {
  await fetch(`${app.url}/health`);
  const polled = agentRequests.filter((h) => h.traceparent);
  expect(polled.length).toBeGreaterThan(0);
  expect(polled[0].traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/);
});

test('a cut Redis fails its check with the reason; the server keeps answering; it recovers', async () => {
  redisProxy.refuse();
  redisProxy.cutAll();
  const doc = (await (await fetch(`${app.url}/health`)).json()) as any;
  expect(doc.checks['redis:responseTime'][0].status).toBe('fail');
  expect(doc.checks['redis:responseTime'][0].output).toMatch(/^Redis at redis:\/\/127\.0\.0\.1:\d+/);
  expect((await fetch(`${app.url}/livez`)).status).toBe(200);
  const metrics = await (await fetch(`${app.url}/metrics`)).text();
  expect(metrics).toContain('periscope_node_dependency_up{dependency="redis"} 0');
  redisProxy.restore();
  const again = (await (await fetch(`${app.url}/health`)).json()) as any;
  expect(again.checks['redis:responseTime'][0].status).toBe('pass');
});

test('/metrics has host metrics and parses with promtool; /status names dependencies without secrets', async () => {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  expect(lintFindings(text)).toEqual([]);
  expect(text).toContain('periscope_node_dependency_up{dependency="postgres"} 1');
  expect(text).toMatch(/process_resident_memory_bytes \d+/);
  const statusText = await (await fetch(`${app.url}/status`)).text();
  const healthText = await (await fetch(`${app.url}/health`)).text();
  for (const body of [statusText, healthText, app.output()]) expect(body).not.toContain('pw-secret-hunter2');
  const status = JSON.parse(statusText);
  expect(status.dependencies.postgres.target).toMatch(/^postgres:\/\/127\.0\.0\.1:\d+\/\w+$/);
  expect(status.agents).toHaveLength(2);
});

test('host metrics (CPU, memory, disk, network) are collected in the background', async () => {
  // The collector's first pass runs at start; give it a moment on a slow machine.
  let text = '';
  for (let i = 0; i < 50 && !/periscope_host_memory/.test(text); i++) {
    await new Promise((r) => setTimeout(r, 100));
    text = await (await fetch(`${app.url}/metrics`)).text();
  }
  expect(text).toMatch(/periscope_host_cpu/);
  expect(text).toMatch(/periscope_host_memory/);
  expect(text).toMatch(/periscope_host_(disk|filesystem)/);
  expect(text).toMatch(/periscope_host_network/);
});

test("the node's GPUs: DCGM-named metrics, a warn-level check naming the unhealthy device, /status lists them", async () => {
  const doc = (await (await fetch(`${app.url}/health`)).json()) as any;
  const [gpuCheck] = doc.checks['gpus:healthyDevices'];
  expect(gpuCheck).toMatchObject({ status: 'warn', componentType: 'system', observedValue: 1 });
  expect(gpuCheck.output).toMatch(/GPU 1 \(GPU-[0-9a-f-]+\) unhealthy: temperature 95 C/);
  // warn, not fail: the monitor stays ready.
  expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
  const text = await (await fetch(`${app.url}/metrics`)).text();
  expect(lintFindings(text)).toEqual([]);
  expect(text).toMatch(/^DCGM_FI_DEV_GPU_TEMP\{gpu="1",UUID="GPU-[0-9a-f-]+",modelName="NVIDIA H100 80GB HBM3"\} 95$/m);
  expect(text).toMatch(/^DCGM_FI_DEV_FB_FREE\{gpu="0",[^}]*\} \d+$/m);
  expect(text).toMatch(/^periscope_gpu_pool_device_healthy\{pool="node",UUID="GPU-[^"]+",source="nvidia-smi"\} 0$/m);
  const status = (await (await fetch(`${app.url}/status`)).json()) as any;
  expect(status.gpus.source).toBe('nvidia-smi');
  expect(status.gpus.devices).toHaveLength(2);
  expect(status.gpus.devices.map((d: any) => d.healthy)).toEqual([true, false]);
  expect(status.gpus.queue).toMatchObject({ depth: 0 });
});

test('invalid configuration exits 2 naming the variable', () => {
  const r = spawnSync(process.execPath, [MAIN], {
    env: { ...process.env, PERISCOPE_AGENTS: 'localhost:9464' },
    encoding: 'utf8',
  });
  expect(r.status).toBe(2);
  expect(r.stderr).toContain('PERISCOPE_AGENTS');
  const c = spawnSync(process.execPath, [MAIN], {
    env: { ...process.env, PERISCOPE_CRITICAL_CHECKS: 'mysql' },
    encoding: 'utf8',
  });
  expect(c.status).toBe(2);
  expect(c.stderr).toContain('invalid PERISCOPE_CRITICAL_CHECKS: expected a list of postgres, redis, got "mysql"');
});

test('SIGTERM drains and exits 0', async () => {
  const other = await startChildApp({
    script: MAIN,
    args: ['--port', '0'],
    env: { DATABASE_URL: 'off', REDIS_URL: 'off', PERISCOPE_HEALTH_DRAIN_DELAY_MS: '0' },
  });
  other.child.kill('SIGTERM');
  const { code } = await other.exited;
  expect(code).toBe(0);
});
