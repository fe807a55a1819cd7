// Alerting costs on the shipped build (dist/):
//  1. evaluation of 200 rules over a full 15-minute history (10 metrics × 12 series, 1 s samples)
//     — CPU per evaluation and the share of one core at one evaluation per second (target < 1 %);
//     plus one rate() rule against the metrics history's own History.rate, interleaved.
//  2. notification latency from a threshold crossing to a real Alertmanager having the alert
//     (target ≤ one evaluation interval + 100 ms), when prometheus-alertmanager is installed.
// Run: npx nx bench alerting   (builds first), or: npx tsx bench/alerting.bench.ts after a build.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { compare, machineLine } from '@periscope-tools/bench';
import { freePort } from '@periscope-tools/testing';
import type { Counter, Gauge, Histogram } from '@periscope/metrics';

const load = createRequire(__filename);
const alerting = load('../dist/index.js') as typeof import('../src');
const { createMetrics } = load('@periscope/metrics') as typeof import('@periscope/metrics');

const METRICS = 10;
const SERIES = 12;
const RETENTION_MS = 15 * 60_000;

/**
 * 200 rules. `tiers` thresholds per expression (like warning/critical tiers of one ratio); with
 * tiers = 1 every rule has its own expression (windows differ), the worst case.
 */
function ruleSet(tiers: number): import('../src').Rule[] {
  const rules: import('../src').Rule[] = [];
  const windows = ['1m', '2m', '3m', '4m', '5m', '6m', '7m', '8m', '9m', '10m'];
  for (let i = 0; rules.length < 200; i++) {
    const expr = Math.floor(i / tiers);
    const m = expr % METRICS;
    const w = windows[Math.floor(expr / (METRICS * 5)) % windows.length];
    const kind = Math.floor(expr / METRICS) % 5;
    const t = 1 + (i % tiers);
    const name = `Rule${i}`;
    if (kind === 0)
      rules.push({
        name,
        expr: `sum by (route) (rate(bench_requests_${m}_total{code=~"5.."}[${w}])) / sum by (route) (rate(bench_requests_${m}_total[${w}])) > ${0.05 * t}`,
        forMs: 60_000,
      });
    else if (kind === 1)
      rules.push({ name, expr: `increase(bench_requests_${m}_total{code="500"}[${w}]) > ${1e6 * t}` });
    else if (kind === 2)
      rules.push({
        name,
        expr: `histogram_quantile(0.99, sum by (le) (rate(bench_latency_${m}_seconds_bucket[${w}]))) > ${2 * t}`,
      });
    else if (kind === 3) rules.push({ name, expr: `avg_over_time(bench_queue_${m}[${w}]) > ${1e6 * t}` });
    else rules.push({ name, expr: `max_over_time(bench_queue_${m}{route="/r1"}[${w}]) > ${1e6 * t}` });
  }
  return rules;
}

function filledHistory() {
  const metrics = createMetrics();
  const names: string[] = [];
  const counters: Array<Counter<'route' | 'code'>> = [];
  const gauges: Array<Gauge<'route'>> = [];
  const hists: Array<Histogram<'route'>> = [];
  for (let m = 0; m < METRICS; m++) {
    counters.push(
      metrics.counter({ name: `bench_requests_${m}_total`, help: 'r', labelNames: ['route', 'code'] as const }),
    );
    gauges.push(metrics.gauge({ name: `bench_queue_${m}`, help: 'q', labelNames: ['route'] as const }));
    hists.push(metrics.histogram({ name: `bench_latency_${m}_seconds`, help: 'l', labelNames: ['route'] as const }));
    names.push(`bench_requests_${m}_total`, `bench_queue_${m}`, `bench_latency_${m}_seconds`);
  }
  const history = metrics.history({ series: names, intervalMs: 1000, retentionMs: RETENTION_MS });
  // The history took its first sample at creation; the samples follow it, on the bench's own
  // clock (here only: the shipped code reads Date.now()).
  let t = Date.now() + 1000;
  /** One second of traffic and one history sample, as the manager's interval would take it. */
  const step = () => {
    for (let m = 0; m < METRICS; m++) {
      for (let s = 0; s < SERIES / 2; s++) {
        counters[m].inc({ route: `/r${s}`, code: '200' }, 10);
        counters[m].inc({ route: `/r${s}`, code: '500' }, 1);
        gauges[m].set({ route: `/r${s}` }, (t / 1000) % 100);
        hists[m].observe({ route: `/r${s}` }, ((t / 1000) % 7) / 10);
      }
    }
    history.sample(t);
    t += 1000;
    return t - 1000;
  };
  for (let i = 0; i < RETENTION_MS / 1000; i++) step();
  return { metrics, history, step, now: () => t - 1000 };
}

function cpuMs(fn: () => void): number {
  const before = process.cpuUsage();
  fn();
  const d = process.cpuUsage(before);
  return (d.user + d.system) / 1000;
}

async function evaluationCost(): Promise<void> {
  const { metrics, history, step, now } = filledHistory();
  const realNow = Date.now;
  Date.now = () => now() + 500;
  console.log(
    `## 200 rules, ${METRICS * 3} metrics (${METRICS * SERIES * 2} series incl. histogram buckets), 15 min of 1 s samples`,
  );
  console.log(
    'each evaluation follows one new sample (the steady state at one evaluation per second; sampling not timed)',
  );
  for (const tiers of [1, 4]) {
    const manager = alerting.createAlertManager({ history, evaluateEveryMs: 0, rules: ruleSet(tiers), env: {} });
    for (let i = 0; i < 20; i++) {
      step();
      manager.evaluate(); // warm-up
    }
    const failing = manager.rulesStatus().filter((r) => r.lastError !== undefined);
    if (failing.length > 0) throw new Error(`rules failed: ${failing[0].name}: ${failing[0].lastError}`);
    const samples: number[] = [];
    for (let i = 0; i < 60; i++) {
      step();
      samples.push(cpuMs(() => manager.evaluate()));
    }
    samples.sort((a, b) => a - b);
    const median = samples[samples.length >> 1];
    const p90 = samples[Math.floor(samples.length * 0.9)];
    const what = tiers === 1 ? '200 distinct expressions' : `${200 / tiers} expressions × ${tiers} threshold tiers`;
    console.log(
      `${what}: evaluate() median ${median.toFixed(2)} ms CPU, p90 ${p90.toFixed(2)} ms; ${manager.alerts().length} alerts active`,
    );
    console.log(`  at one evaluation per second: ${(median / 10).toFixed(2)} % of one core (target < 1 %)`);
    await manager.close();
  }
  console.log('');

  const source = alerting.historySource(history);
  await compare(
    'one rate over 5 m of one series (12 series selected, 1 kept)',
    [
      {
        name: 'History.rate (metrics built-in)',
        fn: () => history.rate('bench_requests_0_total', { route: '/r1', code: '500' }, 300_000),
      },
      {
        name: 'evaluateExpr rate(...{…}[5m])',
        fn: () => alerting.evaluateExpr('rate(bench_requests_0_total{route="/r1",code="500"}[5m])', source, now()),
      },
    ],
    { rounds: 7, sliceMs: 200 },
  );
  Date.now = realNow;
  history.close();
  await metrics.close();
}

async function startAlertmanager(): Promise<{ url: string; stop(): Promise<void> } | undefined> {
  const bin = '/usr/bin/prometheus-alertmanager';
  if (!fs.existsSync(bin)) {
    console.log(`${bin} missing (apt-get install prometheus-alertmanager): latency not measured`);
    return undefined;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'periscope-am-bench-'));
  fs.writeFileSync(path.join(dir, 'am.yml'), "route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n", {
    mode: 0o600,
  });
  const port = await freePort();
  const child = spawn(
    bin,
    [
      `--config.file=${path.join(dir, 'am.yml')}`,
      `--storage.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    { stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/-/ready`)).ok) return { url, stop };
    } catch {
      /* starting */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error('alertmanager did not start');
}

async function notificationLatency(): Promise<void> {
  const am = await startAlertmanager();
  if (am === undefined) return;
  const intervalMs = 1000;
  const metrics = createMetrics();
  const g = metrics.gauge({ name: 'bench_signal', help: 's', labelNames: ['run'] as const });
  const runs = 15;
  for (let i = 0; i < runs; i++) g.set({ run: String(i) }, 0);
  const manager = alerting.createAlertManager({
    metrics,
    evaluateEveryMs: intervalMs,
    alertmanagerUrl: am.url,
    rules: [{ name: 'BenchSignal', expr: 'bench_signal > 10' }],
    env: {},
  });
  const latencies: number[] = [];
  for (let i = 0; i < runs; i++) {
    await new Promise((r) => setTimeout(r, 137 + Math.random() * intervalMs)); // random phase against the interval
    const crossed = Date.now();
    g.set({ run: String(i) }, 100);
    for (;;) {
      const alerts = (await (await fetch(`${am.url}/api/v2/alerts?filter=run%3D%22${i}%22`)).json()) as unknown[];
      if (alerts.length > 0) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    latencies.push(Date.now() - crossed);
  }
  latencies.sort((a, b) => a - b);
  console.log(
    `## threshold crossing → Alertmanager has the alert (evaluateEveryMs ${intervalMs}, ${runs} crossings at random phase)`,
  );
  console.log(
    `median ${latencies[latencies.length >> 1]} ms, max ${latencies[latencies.length - 1]} ms (target ≤ ${intervalMs + 100} ms)`,
  );
  await manager.close();
  await metrics.close();
  await am.stop();
}

async function main(): Promise<void> {
  console.log(`# @periscope/alerting\n\n${machineLine()}\n`);
  await evaluationCost();
  await notificationLatency();
}

void main();
