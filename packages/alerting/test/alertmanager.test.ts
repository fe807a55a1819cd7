// The Alertmanager channel against a real Alertmanager (Debian package prometheus-alertmanager)
// started here on a free loopback port: alerts arrive through POST /api/v2/alerts with startsAt,
// endsAt and generatorURL, are re-sent while firing, and end when the condition clears.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '@periscope-tools/testing';
import { createMetrics, type Metrics } from '@periscope/metrics';
import { createAlertManager, type AlertManager } from '../src';

const BINARY = '/usr/bin/prometheus-alertmanager';

interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  status: { state: string };
}

async function startAlertmanager(): Promise<{ url: string; stop(): Promise<void> }> {
  if (!fs.existsSync(BINARY))
    throw new Error(`${BINARY} is missing: apt-get install prometheus-alertmanager (CI installs it in .ci/run)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'periscope-am-'));
  fs.chmodSync(dir, 0o700);
  const config = path.join(dir, 'alertmanager.yml');
  fs.writeFileSync(config, "route:\n  receiver: 'null'\n  group_wait: 100ms\nreceivers:\n  - name: 'null'\n", {
    mode: 0o600,
  });
  const port = await freePort();
  const child: ChildProcess = spawn(
    BINARY,
    [
      `--config.file=${config}`,
      `--storage.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/-/ready`)).ok) return { url, stop };
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(`alertmanager did not become ready within 20 s: ${stderr.slice(0, 500)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function amAlerts(url: string): Promise<AmAlert[]> {
  const res = await fetch(`${url}/api/v2/alerts`);
  return (await res.json()) as AmAlert[];
}

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Alertmanager API v2 channel (real Alertmanager)', () => {
  let am: { url: string; stop(): Promise<void> };
  let metrics: Metrics;
  let manager: AlertManager | undefined;

  beforeAll(async () => {
    am = await startAlertmanager();
  }, 30_000);
  afterAll(() => am?.stop());
  beforeEach(() => {
    metrics = createMetrics();
  });
  afterEach(async () => {
    await manager?.close();
    await metrics.close();
  });

  it('posts firing alerts, re-sends them while firing, and resolves them on clear', async () => {
    const g = metrics.gauge({ name: 'queue_backlog', help: 'q', labelNames: ['queue'] as const });
    g.set({ queue: 'embeddings' }, 500);
    manager = createAlertManager({
      metrics,
      evaluateEveryMs: 0,
      env: { PERISCOPE_ALERTMANAGER_URL: am.url },
      externalUrl: 'http://agent.test:8080',
      channels: [{ type: 'alertmanager', url: am.url, resendDelayMs: 200 }],
      rules: [
        {
          name: 'BacklogHigh',
          expr: 'queue_backlog > 100',
          severity: 'critical',
          annotations: { summary: 'backlog on {{ $labels.queue }}' },
        },
      ],
    });
    manager.evaluate();
    const [first] = await until(
      () => amAlerts(am.url),
      (a) => a.length === 1,
      'the firing alert',
    );
    expect(first).toMatchObject({
      labels: { alertname: 'BacklogHigh', queue: 'embeddings', severity: 'critical' },
      annotations: { summary: 'backlog on embeddings' },
      generatorURL: 'http://agent.test:8080/alerts?rule=BacklogHigh',
      status: { state: 'active' },
    });
    expect(Date.parse(first.endsAt)).toBeGreaterThan(Date.now());
    await new Promise((r) => setTimeout(r, 250));
    manager.evaluate();
    await manager.flush();
    expect(manager.channelStats().alertmanager.sent).toBe(2); // re-sent after resendDelayMs
    const [again] = await until(
      () => amAlerts(am.url),
      (a) => a.length === 1 && a[0].endsAt !== first.endsAt,
      'the re-sent alert',
    );
    expect(Date.parse(again.endsAt)).toBeGreaterThan(Date.parse(first.endsAt));
    expect(again.startsAt).toBe(first.startsAt);
    g.set({ queue: 'embeddings' }, 3);
    manager.evaluate();
    await manager.flush();
    await until(
      () => amAlerts(am.url),
      (a) => a.length === 0,
      'the alert to end',
    );
  }, 30_000);

  it('adds an Alertmanager channel from PERISCOPE_ALERTMANAGER_URL', async () => {
    const g = metrics.gauge({ name: 'gpu_temp_celsius', help: 't' });
    g.set(95);
    manager = createAlertManager({
      metrics,
      evaluateEveryMs: 0,
      env: { PERISCOPE_ALERTMANAGER_URL: am.url },
      rules: [{ name: 'GpuHot', expr: 'gpu_temp_celsius > 90' }],
    });
    manager.evaluate();
    await until(
      () => amAlerts(am.url),
      (a) => a.some((x) => x.labels.alertname === 'GpuHot'),
      'GpuHot',
    );
    expect(Object.keys(manager.channelStats())).toEqual(['alertmanager']);
  }, 30_000);
});
