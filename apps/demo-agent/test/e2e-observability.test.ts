// End to end, the demo's profiles, GPU pool and alerts: the built demo (dist/main.js) as a child
// process; the batch's profile files, the /debug/pprof and /debug/flame endpoints behind the debug
// token, /status and GET /alerts, and log-pattern alerts pushed to a real Alertmanager.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawn, type ChildProcess } from 'node:child_process';
import { Profile } from 'pprof-format';
import { freePort, startChildApp, type ChildApp } from '@periscope-tools/testing';

const MAIN = path.join(__dirname, '..', 'dist', 'main.js');
const DEBUG_TOKEN = 'e2e-debug-token-0123456789';
const CACHE_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'periscope-demo-e2e-obs-'));
const OUT_DIR = path.join(CACHE_DIR, 'out');
const FAST = {
  PERISCOPE_DEMO_LATENCY_SCALE: '0.02',
  PERISCOPE_HEALTH_DRAIN_DELAY_MS: '300',
  PERISCOPE_DEMO_CACHE_DIR: CACHE_DIR,
  PERISCOPE_DEMO_OUT_DIR: OUT_DIR,
  // No GPU here, whatever the machine has: the pool runs on its simulated devices.
  PERISCOPE_GPU_NVIDIA_SMI: path.join(CACHE_DIR, 'no-nvidia-smi'),
  PERISCOPE_GPU_SYSTEMINFORMATION: 'false',
};
const freshSeed = () => String(Math.floor(Math.random() * 2 ** 30));
afterAll(() => fs.rmSync(CACHE_DIR, { recursive: true, force: true }));

const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';

/** A real Alertmanager (Debian package prometheus-alertmanager) on a free loopback port. */
async function startAlertmanager(): Promise<{ url: string; stop(): Promise<void> }> {
  if (!fs.existsSync(ALERTMANAGER))
    throw new Error(`${ALERTMANAGER} is missing: apt-get install prometheus-alertmanager (CI installs it in .ci/run)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'periscope-demo-am-'));
  const config = path.join(dir, 'alertmanager.yml');
  fs.writeFileSync(config, "route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n", { mode: 0o600 });
  const port = await freePort();
  const child: ChildProcess = spawn(
    ALERTMANAGER,
    [
      `--config.file=${config}`,
      `--storage.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if (
      await fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { url, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error('alertmanager did not become ready within 20 s');
}

/** A gzipped pprof body decoded with pprof-format: its sample types as "type/unit". */
function pprofSampleTypes(body: Buffer): string[] {
  const profile = Profile.decode(zlib.gunzipSync(body));
  const str = (i: unknown) => profile.stringTable.strings[Number(i)];
  return profile.sampleType.map((t) => `${str(t.type)}/${str(t.unit)}`);
}

describe('demo agent profiles, GPUs and alerts', () => {
  let app: ChildApp;
  beforeAll(async () => {
    app = await startChildApp({
      script: MAIN,
      args: ['--tasks', '6', '--port', '0', '--error-rate', '0', '--seed', freshSeed()],
      env: { ...FAST, PERISCOPE_DEBUG_TOKEN: DEBUG_TOKEN },
    });
    await app.waitForOutput(/Serving until Ctrl-C/);
  });
  afterAll(() => app.stop());

  test('the batch writes profile.pb.gz and flame.html (0600) beside the summary, names them, and lists the top 5 functions', () => {
    const out = app.output();
    const pprofPath = path.join(OUT_DIR, 'profile.pb.gz');
    const flamePath = path.join(OUT_DIR, 'flame.html');
    expect(out).toContain(`pprof            ${pprofPath}`);
    expect(out).toContain(`flame graph      ${flamePath}`);
    const top = /Top functions by self time[^\n]*\n((?: +\d+\. .*\n){5})/.exec(out);
    expect(top).not.toBeNull();
    for (const line of top![1].trimEnd().split('\n')) expect(line).toMatch(/^ +\d\. +[\d.]+ ms +[\d.]+% {2}\S/);
    for (const file of [pprofPath, flamePath]) expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(OUT_DIR).mode & 0o777).toBe(0o700);
    expect(pprofSampleTypes(fs.readFileSync(pprofPath))).toEqual(['samples/count', 'cpu/nanoseconds']);
    expect(fs.readFileSync(flamePath, 'utf8')).toMatch(/^<!DOCTYPE html>/i);
  });

  test('the banner says once that the GPU pool runs on simulated devices', () => {
    const out = app.output();
    expect(out.match(/gpu: no GPU found by nvidia-smi — simulated devices \(/g)).toHaveLength(1);
  });

  test('/debug/pprof/profile, /debug/pprof/heap and /debug/flame refuse without the token and work with it', async () => {
    for (const p of ['/debug/pprof/profile?seconds=1', '/debug/pprof/heap', '/debug/flame?seconds=1']) {
      expect({ p, status: (await fetch(`${app.url}${p}`)).status }).toEqual({ p, status: 401 });
      const wrong = await fetch(`${app.url}${p}`, { headers: { authorization: 'Bearer wrong' } });
      expect({ p, status: wrong.status }).toEqual({ p, status: 401 });
    }
    const auth = { authorization: `Bearer ${DEBUG_TOKEN}` };
    // Some CPU work while the profile samples, so it has samples to show.
    const busy = Promise.all(
      Array.from({ length: 3 }, () =>
        fetch(`${app.url}/tasks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: `What is ${Math.floor(Math.random() * 1000)} * 3?` }),
        }),
      ),
    );
    const cpu = await fetch(`${app.url}/debug/pprof/profile?seconds=1`, { headers: auth });
    await busy;
    expect(cpu.status).toBe(200);
    expect(cpu.headers.get('content-type')).toBe('application/octet-stream');
    expect(pprofSampleTypes(Buffer.from(await cpu.arrayBuffer()))).toEqual(['samples/count', 'cpu/nanoseconds']);
    const heap = await fetch(`${app.url}/debug/pprof/heap`, { headers: auth });
    expect(heap.status).toBe(200);
    expect(pprofSampleTypes(Buffer.from(await heap.arrayBuffer()))).toEqual([
      'inuse_objects/count',
      'inuse_space/bytes',
    ]);
    const flame = await fetch(`${app.url}/debug/flame?seconds=1`, { headers: auth });
    expect(flame.status).toBe(200);
    expect(flame.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await flame.text()).toMatch(/^<!DOCTYPE html>/i);
    for (const p of [
      '/debug/pprof/profile?seconds=0',
      '/debug/pprof/profile?seconds=abc',
      '/debug/flame?seconds=301',
      '/debug/flame?seconds=1.5',
    ]) {
      const bad = await fetch(`${app.url}${p}`, { headers: auth });
      expect({ p, status: bad.status }).toEqual({ p, status: 400 });
      const body = (await bad.json()) as any;
      expect(body).toMatchObject({ code: 'ERR_DEMO_INVALID_PARAMETER' });
      expect(body.error).toContain('"seconds"');
    }
  });

  test('/status shows GPU devices, leases and queue, active alerts and the profiler; GET /alerts lists alerts', async () => {
    const status = (await (await fetch(`${app.url}/status`)).json()) as any;
    expect(status.gpus.source).toBe('simulated');
    expect(status.gpus.devices).toHaveLength(2);
    expect(status.gpus.devices[0]).toMatchObject({ source: 'simulated', healthy: true, totalMb: expect.any(Number) });
    expect(Array.isArray(status.gpus.leases)).toBe(true);
    expect(status.gpus.queue).toMatchObject({ depth: 0 });
    // JSON from fetch is from another realm than the test's: Array.isArray, not expect.any(Array).
    expect(Array.isArray(status.alerts.active)).toBe(true);
    expect(status.alerts.rules).toBeGreaterThan(0);
    expect(status.profiling.cpu.windows).toEqual(expect.any(Number));
    const alerts = await fetch(`${app.url}/alerts`);
    expect(alerts.status).toBe(200);
    expect(Array.isArray(((await alerts.json()) as any).alerts)).toBe(true);
    // The embedding tool and the local reranker ran under leases: the pool's wait histogram counted them.
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    const leases = /^periscope_gpu_pool_wait_seconds_count\{[^}]*\} (\d+)$/m.exec(metrics);
    expect(Number(leases?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/^DCGM_FI_DEV_FB_FREE\{/m);
  });
});

test("the log aggregator's alerts enter the alert manager: GET /alerts shows them and --alertmanager pushes them to a real Alertmanager", async () => {
  // An LLM endpoint that answers a permanent error after 1.1 s: the failed task is logged with
  // duration_ms >= 1000, the aggregator's slow_operation pattern.
  const llm = http.createServer((req, res) => {
    req.resume();
    setTimeout(() => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"unsupported model"}}');
    }, 1100);
  });
  await new Promise<void>((r) => llm.listen(0, '127.0.0.1', () => r()));
  const am = await startAlertmanager();
  let app: ChildApp | undefined;
  try {
    app = await startChildApp({
      script: MAIN,
      args: ['--tasks', '1', '--port', '0', '--provider', 'openai', '--alertmanager', am.url],
      env: {
        ...FAST,
        OPENAI_BASE_URL: `http://127.0.0.1:${(llm.address() as AddressInfo).port}/v1`,
        PERISCOPE_ALERTING_EVALUATE_EVERY: '1s',
      },
    });
    await app.waitForOutput(/Serving until/);
    expect(app.output()).toContain(`alerts: 7 default rules, notifying alertmanager`);
    const alerts = ((await (await fetch(`${app.url}/alerts`)).json()) as any).alerts;
    const logAlert = alerts.find((a: any) => a.labels.alertname === 'LogPattern');
    expect(logAlert).toMatchObject({ state: 'firing', labels: { pattern: 'slow_operation' } });
    const status = (await (await fetch(`${app.url}/status`)).json()) as any;
    expect(status.alerts.active.map((a: any) => a.labels.alertname)).toContain('LogPattern');
    let received: any[] = [];
    for (let i = 0; i < 150 && received.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const all = (await (await fetch(`${am.url}/api/v2/alerts`)).json()) as any[];
      received = all.filter((a) => a.labels.alertname === 'LogPattern');
    }
    expect(received[0]).toMatchObject({ labels: { pattern: 'slow_operation' } });
    expect(received[0].generatorURL).toMatch(/\/alerts\?rule=log%3Aslow_operation$/);
  } finally {
    await app?.stop();
    await am.stop();
    await new Promise<void>((r) => llm.close(() => r()));
  }
}, 90_000);
