// One rule, two evaluators: the same series go into @periscope/metrics (and through its history
// into the in-process evaluator) and into `promtool test rules` as input_series; the firing
// alerts the manager reports at every minute become promtool's expectations, and promtool (that
// is, Prometheus' own rule engine) must agree with every one of them — firing and not firing.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promtoolPath } from '@periscope-tools/testing';
import { createMetrics } from '@periscope/metrics';
import { createAlertManager, toPrometheusRulesYaml, type Alert, type Rule } from '../src';

const STEP_MS = 60_000;
const STEPS = 30;
const BOUNDS = [0.1, 0.5, 1, 2.5];
const SERIES = [
  { route: '/a', code: '200' },
  { route: '/a', code: '500' },
  { route: '/b', code: '200' },
  { route: '/b', code: '500' },
];
const QUEUES = ['q1', 'q2'];

const RULES: Rule[] = [
  {
    name: 'HighErrorRatio',
    expr: 'sum by (route) (rate(http_requests_total{code=~"5.."}[5m])) / sum by (route) (rate(http_requests_total[5m])) > 0.1',
    forMs: 2 * STEP_MS,
    severity: 'warning',
    labels: { team: 'api' },
    annotations: { summary: 'error ratio high on {{ $labels.route }}', runbookUrl: 'https://runbooks.example/errors' },
  },
  { name: 'ErrorsIncreasing', expr: 'increase(http_requests_total{code="500"}[3m]) > 41.7', severity: 'critical' },
  { name: 'QueueDeep', expr: 'avg_over_time(queue_depth[3m]) > 50.13', forMs: STEP_MS, keepFiringForMs: 2 * STEP_MS },
  { name: 'QueueSpike', expr: 'max_over_time(queue_depth{queue!="q2"}[5m]) >= 90.31' },
  { name: 'QueueLow', expr: 'quantile_over_time(0.5, queue_depth[4m]) < 20.17', severity: 'info' },
  { name: 'QueueMin', expr: 'min_over_time(queue_depth{queue=~"q.*"}[2m]) - 10 > 30.05' },
  { name: 'SlowP90', expr: 'histogram_quantile(0.9, sum by (le) (rate(request_duration_seconds_bucket[5m]))) > 0.83' },
  { name: 'RequestRateByQueueRoute', expr: 'sum without (code) (rate(http_requests_total[2m])) > 1.31' },
  {
    name: 'LatencyMean',
    expr: 'rate(request_duration_seconds_sum[4m]) / rate(request_duration_seconds_count[4m]) > 0.91',
  },
];

/** A small seeded PRNG (mulberry32): the same scenario on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Scenario {
  /** counters[series][step]: absolute counter values (a drop is a reset). */
  counters: number[][];
  gauges: number[][];
  /** observations[step]: values observed in the minute before the step. */
  observations: number[][];
}

function scenario(seed: number): Scenario {
  const rnd = prng(seed);
  const incident = (step: number) => step >= 8 + (seed % 5) && step < 18 + (seed % 4);
  const counters = SERIES.map((s) => {
    const values: number[] = [];
    let v = Math.floor(rnd() * 100);
    for (let step = 0; step <= STEPS; step++) {
      const errors = s.code === '500';
      const base = errors ? (incident(step) ? 10 + rnd() * 25 : rnd() * 3) : 40 + rnd() * 60;
      v += Math.floor(base);
      if (step === 12 + (seed % 7) && s.route === '/b') v = Math.floor(rnd() * 10); // a counter reset (restart)
      values.push(v);
    }
    return values;
  });
  const gauges = QUEUES.map((_, q) =>
    Array.from({ length: STEPS + 1 }, (_, step) => {
      const level = incident(step) ? 60 + rnd() * 40 : q === 1 ? 5 + rnd() * 20 : 25 + rnd() * 30;
      return Math.round(level * 100) / 100;
    }),
  );
  const observations = Array.from({ length: STEPS + 1 }, (_, step) =>
    Array.from({ length: 20 + Math.floor(rnd() * 20) }, () => (incident(step) ? rnd() * 3 : rnd() * 0.9)),
  );
  return { counters, gauges, observations };
}

function seriesText(name: string, labels: Record<string, string>): string {
  const body = Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',');
  return body === '' ? name : `${name}{${body}}`;
}

/** promtool's input_series, computed here from the scenario (not from our history). */
function inputSeries(s: Scenario): Array<{ series: string; values: string }> {
  const out: Array<{ series: string; values: string }> = [];
  SERIES.forEach((labels, i) =>
    out.push({ series: seriesText('http_requests_total', labels), values: s.counters[i].join(' ') }),
  );
  QUEUES.forEach((queue, i) =>
    out.push({ series: seriesText('queue_depth', { queue }), values: s.gauges[i].join(' ') }),
  );
  const cumulative = [...BOUNDS, Infinity].map(() => [] as number[]);
  const sums: number[] = [];
  const counts: number[] = [];
  let sum = 0;
  const totals = new Array(BOUNDS.length + 1).fill(0);
  for (const obs of s.observations) {
    for (const v of obs) {
      sum += v;
      [...BOUNDS, Infinity].forEach((b, k) => {
        if (v <= b) totals[k]++;
      });
    }
    totals.forEach((t, k) => cumulative[k].push(t));
    sums.push(sum);
    counts.push(totals[BOUNDS.length]);
  }
  [...BOUNDS, Infinity].forEach((b, k) =>
    out.push({
      series: seriesText('request_duration_seconds_bucket', { le: b === Infinity ? '+Inf' : String(b) }),
      values: cumulative[k].join(' '),
    }),
  );
  // Sums as Go reads them: full precision text; promtool parses each value with ParseFloat.
  out.push({ series: 'request_duration_seconds_sum', values: sums.map((v) => String(v)).join(' ') });
  out.push({ series: 'request_duration_seconds_count', values: counts.join(' ') });
  return out;
}

/** Runs the scenario through metrics → history → manager; returns the firing alerts at each step. */
function runInProcess(s: Scenario): Alert[][] {
  jest.useFakeTimers({ now: 0 });
  const metrics = createMetrics();
  const requests = metrics.counter({
    name: 'http_requests_total',
    help: 'requests',
    labelNames: ['route', 'code'] as const,
  });
  const depth = metrics.gauge({ name: 'queue_depth', help: 'queue depth', labelNames: ['queue'] as const });
  const latency = metrics.histogram({ name: 'request_duration_seconds', help: 'latency', buckets: BOUNDS });
  const current = SERIES.map(() => 0);
  const setStep = (step: number) => {
    if (SERIES.some((_, i) => s.counters[i][step] < current[i])) {
      requests.reset();
      current.fill(0);
    }
    SERIES.forEach((labels, i) => {
      requests.inc(labels, s.counters[i][step] - current[i]);
      current[i] = s.counters[i][step];
    });
    QUEUES.forEach((queue, i) => depth.set({ queue }, s.gauges[i][step]));
    for (const v of s.observations[step]) latency.observe(v);
  };
  setStep(0);
  const manager = createAlertManager({ metrics, evaluateEveryMs: STEP_MS, rules: RULES, env: {} });
  const firing: Alert[][] = [];
  try {
    manager.evaluate();
    firing.push(manager.alerts().filter((a) => a.state === 'firing'));
    for (let step = 1; step <= STEPS; step++) {
      setStep(step);
      jest.advanceTimersByTime(STEP_MS);
      firing.push(manager.alerts().filter((a) => a.state === 'firing'));
    }
  } finally {
    void manager.close();
    void metrics.close();
    jest.useRealTimers();
  }
  return firing;
}

const yamlString = (v: string) => JSON.stringify(v);

function testFile(s: Scenario, firing: Alert[][]): string {
  const lines = [
    'rule_files:',
    '  - rules.yml',
    'evaluation_interval: 1m',
    'tests:',
    '  - interval: 1m',
    '    input_series:',
  ];
  for (const x of inputSeries(s))
    lines.push(`      - series: ${yamlString(x.series)}`, `        values: ${yamlString(x.values)}`);
  lines.push('    alert_rule_test:');
  const names = [...new Set(RULES.map((r) => r.name))];
  firing.forEach((alerts, step) => {
    for (const name of names) {
      const mine = alerts.filter((a) => a.labels.alertname === name);
      lines.push(`      - eval_time: ${step}m`, `        alertname: ${name}`);
      if (mine.length === 0) {
        lines.push('        exp_alerts: []');
        continue;
      }
      lines.push('        exp_alerts:');
      for (const a of mine) {
        const { alertname: _drop, ...labels } = a.labels;
        void _drop;
        lines.push(
          `          - exp_labels: ${JSON.stringify(labels)}`,
          `            exp_annotations: ${JSON.stringify(a.annotations)}`,
        );
      }
    }
  });
  return lines.join('\n') + '\n';
}

describe('in-process evaluation agrees with Prometheus (promtool test rules)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'periscope-alerting-promtool-'));
  fs.chmodSync(dir, 0o700);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('exports rules that promtool accepts', () => {
    const file = path.join(dir, 'check.yml');
    fs.writeFileSync(file, toPrometheusRulesYaml(RULES), { mode: 0o600 });
    const r = spawnSync(promtoolPath(), ['check', 'rules', file], { encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toContain(`SUCCESS: ${RULES.length} rules found`);
  });

  it.each([1, 2, 3, 4])('gives the same firing decisions as promtool at every minute (seed %i)', (seed) => {
    const s = scenario(seed);
    const firing = runInProcess(s);
    // Not vacuous: alerts fire at some steps and are quiet at others.
    const counts = firing.map((a) => a.length);
    expect(Math.max(...counts)).toBeGreaterThan(0);
    expect(counts.filter((c) => c === 0).length + counts.filter((c) => c < Math.max(...counts)).length).toBeGreaterThan(
      0,
    );
    const sub = path.join(dir, `seed-${seed}`);
    fs.mkdirSync(sub, { mode: 0o700 });
    fs.writeFileSync(path.join(sub, 'rules.yml'), toPrometheusRulesYaml(RULES), { mode: 0o600 });
    fs.writeFileSync(path.join(sub, 'test.yml'), testFile(s, firing), { mode: 0o600 });
    const r = spawnSync(promtoolPath(), ['test', 'rules', 'test.yml'], { cwd: sub, encoding: 'utf8', timeout: 60_000 });
    const out = `${r.stdout}${r.stderr}`;
    if (r.status !== 0) throw new Error(`promtool disagrees (exit ${r.status}):\n${out.slice(0, 6000)}`);
    expect(out).toContain('SUCCESS');
  });

  it('covers every rule firing and not firing across the scenarios', () => {
    const seen = new Map<string, { fired: number; quiet: number }>();
    for (const seed of [1, 2, 3, 4]) {
      const firing = runInProcess(scenario(seed));
      for (const rule of RULES) {
        const entry = seen.get(rule.name) ?? { fired: 0, quiet: 0 };
        for (const alerts of firing) {
          if (alerts.some((a) => a.labels.alertname === rule.name)) entry.fired++;
          else entry.quiet++;
        }
        seen.set(rule.name, entry);
      }
    }
    for (const [name, e] of seen) {
      expect({ name, fired: e.fired > 0, quiet: e.quiet > 0 }).toEqual({ name, fired: true, quiet: true });
    }
  });
});
