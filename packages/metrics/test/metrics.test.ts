import { Counter as PromCounter, Registry } from 'prom-client';
import {
  Buckets,
  createMetrics,
  MetricsConfigError,
  InvalidLabelNameError,
  InvalidMetricNameError,
  InvalidValueError,
  MetricConflictError,
  Metrics,
  MissingLabelError,
} from '../src';

function series(m: Metrics, name: string): unknown[] {
  const snap = m.toJSON().find((x) => x.name === name);
  if (!snap) throw new Error(`no metric ${name}`);
  return snap.series;
}

describe('counters', () => {
  test('inc with labels, without, and through a bound handle all land in the same series', async () => {
    const m = createMetrics();
    const c = m.counter({ name: 'app_requests_total', help: 'requests', labelNames: ['route', 'status'] as const });
    const h = c.labels({ route: '/x', status: 200 });
    h.inc();
    h.inc(2);
    c.inc({ route: '/x', status: '200' }, 0.5);
    c.inc({ route: '/y', status: 500 });
    expect(series(m, 'app_requests_total')).toEqual([
      { labels: { route: '/x', status: '200' }, value: 3.5 },
      { labels: { route: '/y', status: '500' }, value: 1 },
    ]);
    const { body } = await m.expose();
    expect(body).toContain('app_requests_total{route="/x",status="200"} 3.5\n');
  });

  test('an unlabelled counter is exposed at 0 before its first increment', async () => {
    const m = createMetrics();
    const c = m.counter({ name: 'app_jobs_total', help: 'jobs' });
    expect((await m.expose()).body).toContain('app_jobs_total 0\n');
    c.inc();
    c.inc(4);
    expect((await m.expose()).body).toContain('app_jobs_total 5\n');
  });

  test('a negative, NaN or non-number increment throws InvalidValueError and changes nothing', () => {
    const m = createMetrics();
    const c = m.counter({ name: 'app_neg_total', help: 'x', labelNames: ['k'] as const });
    c.inc({ k: 'a' }, 2);
    expect(() => c.inc({ k: 'a' }, -1)).toThrow(InvalidValueError);
    expect(() => c.labels({ k: 'a' }).inc(NaN)).toThrow(/app_neg_total: invalid value NaN/);
    expect(() => c.inc({ k: 'a' }, '3' as unknown as number)).toThrow(InvalidValueError);
    expect(() => c.inc({ k: 'new' }, -1)).toThrow(InvalidValueError); // no empty series for a rejected call
    const h = m.histogram({ name: 'app_nan_seconds', help: 'x', labelNames: ['k'] as const });
    expect(() => h.observe({ k: 'new' }, NaN)).toThrow(/app_nan_seconds: invalid value NaN/);
    const g = m.gauge({ name: 'app_str', help: 'x', labelNames: ['k'] as const });
    expect(() => g.set({ k: 'new' }, 'x' as unknown as number)).toThrow(InvalidValueError);
    expect(series(m, 'app_neg_total')).toEqual([{ labels: { k: 'a' }, value: 2 }]);
    expect(series(m, 'app_nan_seconds')).toEqual([]);
    expect(series(m, 'app_str')).toEqual([]);
  });

  test('a missing label throws MissingLabelError and creates no series', () => {
    const m = createMetrics();
    const c = m.counter({ name: 'app_miss_total', help: 'x', labelNames: ['a', 'b'] as const });
    expect(() => (c as unknown as { inc(l: object): void }).inc({ a: '1' })).toThrow(MissingLabelError);
    expect(() => (c as unknown as { inc(l: object): void }).inc({ a: '1', b: null })).toThrow(
      /label "b" must be a string or number, got null/,
    );
    expect(series(m, 'app_miss_total')).toEqual([]);
  });
});

describe('gauges', () => {
  test('set, inc and dec, labelled and bound', () => {
    const m = createMetrics();
    const g = m.gauge({ name: 'app_inflight', help: 'in flight', labelNames: ['pool'] as const });
    g.set({ pool: 'a' }, 5);
    g.inc({ pool: 'a' });
    g.dec({ pool: 'a' }, 3);
    const b = g.labels({ pool: 'b' });
    b.set(-2);
    b.inc(0.5);
    const plain = m.gauge({ name: 'app_temp', help: 't' });
    plain.set(7);
    plain.dec();
    expect(series(m, 'app_inflight')).toEqual([
      { labels: { pool: 'a' }, value: 3 },
      { labels: { pool: 'b' }, value: -1.5 },
    ]);
    expect(series(m, 'app_temp')).toEqual([{ labels: {}, value: 6 }]);
  });
});

describe('histograms', () => {
  test('observations fall in the bucket whose upper bound is >= the value (le semantics)', () => {
    const m = createMetrics();
    const h = m.histogram({
      name: 'app_latency_seconds',
      help: 'l',
      labelNames: ['route'] as const,
      buckets: [0.1, 0.5, 1],
    });
    for (const v of [0.05, 0.1, 0.3, 1, 2]) h.observe({ route: '/x' }, v);
    h.labels({ route: '/x' }).observe(0.5);
    expect(series(m, 'app_latency_seconds')).toEqual([
      {
        labels: { route: '/x' },
        buckets: [
          { le: 0.1, count: 2 },
          { le: 0.5, count: 4 },
          { le: 1, count: 5 },
          { le: Infinity, count: 6 },
        ],
        sum: 3.95,
        count: 6,
      },
    ]);
  });

  test('long bucket lists (binary search) agree with a straightforward count', () => {
    const m = createMetrics();
    const h = m.histogram({ name: 'app_tokens', help: 't', buckets: Buckets.tokens.concat([1e9, 2e9, 4e9]) });
    const values = [0, 1, 2, 4, 5, 16, 1000, 67108864, 67108865, 3e9, 5e9];
    for (const v of values) h.observe(v);
    const snap = series(m, 'app_tokens')[0] as { buckets: Array<{ le: number; count: number }> };
    for (const b of snap.buckets) expect(b.count).toBe(values.filter((v) => v <= b.le).length);
  });

  test('invalid buckets fail at registration with MetricsConfigError', () => {
    const m = createMetrics();
    expect(() => m.histogram({ name: 'app_bad_seconds', help: 'x', buckets: [1, 0.5] })).toThrow(MetricsConfigError);
    expect(() => m.histogram({ name: 'app_bad_seconds', help: 'x', buckets: [] })).toThrow(
      /buckets of app_bad_seconds/,
    );
    expect(() => m.histogram({ name: 'app_bad_seconds', help: 'x', labelNames: ['le'] })).toThrow(
      InvalidLabelNameError,
    );
  });

  test('startTimer records the elapsed seconds with start and end labels merged', async () => {
    const m = createMetrics();
    const h = m.histogram({ name: 'app_op_seconds', help: 'op', labelNames: ['op', 'outcome'] as const });
    const end = h.startTimer({ op: 'load' });
    await new Promise((r) => setTimeout(r, 20));
    const seconds = end({ outcome: 'ok' });
    expect(seconds).toBeGreaterThanOrEqual(0.015);
    const [s] = series(m, 'app_op_seconds') as Array<{ labels: object; sum: number; count: number }>;
    expect(s.labels).toEqual({ op: 'load', outcome: 'ok' });
    expect(s.count).toBe(1);
    expect(s.sum).toBeCloseTo(seconds, 6);
    const bound = h.labels({ op: 'save', outcome: 'ok' }).startTimer();
    expect(bound()).toBeGreaterThanOrEqual(0);
  });

  test('metrics.time records sync and async functions, on success and on throw', async () => {
    const m = createMetrics();
    const h = m.histogram({ name: 'app_fn_seconds', help: 'fn', labelNames: ['fn'] as const });
    expect(m.time(h, { fn: 'sync' }, () => 42)).toBe(42);
    expect(() =>
      m.time(h, { fn: 'sync' }, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    await expect(
      m.time(h, { fn: 'async' }, async () => {
        await new Promise((r) => setTimeout(r, 10));
        return 'ok';
      }),
    ).resolves.toBe('ok');
    await expect(
      m.time(h, { fn: 'async' }, async () => {
        throw new Error('async boom');
      }),
    ).rejects.toThrow('async boom');
    const counts = (series(m, 'app_fn_seconds') as Array<{ labels: { fn: string }; count: number; sum: number }>).map(
      (s) => [s.labels.fn, s.count],
    );
    expect(counts).toEqual([
      ['sync', 2],
      ['async', 2],
    ]);
    const asyncSum = (series(m, 'app_fn_seconds') as Array<{ sum: number }>)[1].sum;
    expect(asyncSum).toBeGreaterThanOrEqual(0.008);
  });
});

describe('summaries', () => {
  test('quantiles, sum and count are exposed; bad values are rejected', async () => {
    const m = createMetrics();
    const s = m.summary({
      name: 'app_size_bytes',
      help: 'size',
      labelNames: ['kind'] as const,
      percentiles: [0.5, 0.9],
    });
    for (let i = 1; i <= 100; i++) s.observe({ kind: 'a' }, i);
    expect(() => s.observe({ kind: 'a' }, NaN)).toThrow(InvalidValueError);
    const { body } = await m.expose();
    expect(body).toMatch(/app_size_bytes\{quantile="0.5",kind="a"\} 50(\.5)?\n/);
    expect(body).toContain('app_size_bytes_sum{kind="a"} 5050\n');
    expect(body).toContain('app_size_bytes_count{kind="a"} 100\n');
    expect(series(m, 'app_size_bytes')).toEqual([{ labels: { kind: 'a' }, sum: 5050, count: 100 }]);
  });
});

describe('registration', () => {
  test('same name, type and labels returns the same metric (shared by two components)', () => {
    const m = createMetrics();
    const a = m.counter({ name: 'pool_acquire_total', help: 'x', labelNames: ['pool'] as const });
    const b = m.counter({ name: 'pool_acquire_total', help: 'x', labelNames: ['pool'] as const });
    expect(b).toBe(a);
    // Two Metrics over one registry share too.
    const other = createMetrics({ registry: m.registry });
    expect(other.counter({ name: 'pool_acquire_total', help: 'x', labelNames: ['pool'] as const })).toBe(a);
  });

  test('another type, other labels, other buckets or a prom-client metric of that name conflict', () => {
    const m = createMetrics();
    m.counter({ name: 'dup_total', help: 'x', labelNames: ['a'] as const });
    m.histogram({ name: 'dup_seconds', help: 'x', buckets: [1, 2] });
    expect(() => m.gauge({ name: 'dup_total', help: 'x', labelNames: ['a'] as const })).toThrow(MetricConflictError);
    expect(() => m.counter({ name: 'dup_total', help: 'x', labelNames: ['b'] as const })).toThrow(
      /dup_total is already registered with labels \[a\], not \[b\]/,
    );
    expect(() => m.histogram({ name: 'dup_seconds', help: 'x', buckets: [1, 3] })).toThrow(MetricConflictError);
    expect(m.histogram({ name: 'dup_seconds', help: 'x' })).toBeDefined();
    new PromCounter({ name: 'foreign_total', help: 'x', registers: [m.registry] });
    expect(() => m.counter({ name: 'foreign_total', help: 'x' })).toThrow(/another library/);
  });

  test('invalid metric and label names are rejected with typed errors and nothing is registered', () => {
    const m = createMetrics();
    expect(() => m.counter({ name: '1bad', help: 'x' })).toThrow(InvalidMetricNameError);
    expect(() => m.counter({ name: 'bad-name', help: 'x' })).toThrow(/invalid metric name "bad-name"/);
    expect(() => m.counter({ name: 'ok_total', help: 'x', labelNames: ['bad-label'] })).toThrow(InvalidLabelNameError);
    expect(() => m.counter({ name: 'ok_total', help: 'x', labelNames: ['__reserved'] })).toThrow(/reserved/);
    expect(() => m.counter({ name: 'ok_total', help: 'x', labelNames: ['a', 'a'] })).toThrow(/duplicated/);
    expect(m.registry.getMetricsAsArray()).toHaveLength(0);
  });

  test('prefix is prepended to metric names', async () => {
    const m = createMetrics({ prefix: 'svc_' });
    m.counter({ name: 'hits_total', help: 'x' }).inc();
    expect((await m.expose()).body).toContain('svc_hits_total 1\n');
  });
});

describe('configuration', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  test('invalid options fail at construction naming the option and accepted values', () => {
    expect(() => createMetrics({ maxSeriesPerMetric: 0 })).toThrow(
      new MetricsConfigError('maxSeriesPerMetric', 'an integer >= 1', 0),
    );
    expect(() => createMetrics({ prefix: 'bad-' })).toThrow(/invalid prefix/);
    expect(() => createMetrics({ hostMetrics: { intervalMs: 5 } })).toThrow(/hostMetrics.intervalMs.*>= 100/);
    expect(() => createMetrics({ defaultLabels: { 'bad-name': 'x' } })).toThrow(MetricsConfigError);
    process.env.PERISCOPE_METRICS_ENABLED = 'maybe';
    expect(() => createMetrics()).toThrow(
      /PERISCOPE_METRICS_ENABLED: expected a boolean \(true\/false, 1\/0, yes\/no, on\/off\)/,
    );
    process.env.PERISCOPE_METRICS_ENABLED = 'true';
    process.env.PERISCOPE_METRICS_MAX_SERIES = 'lots';
    expect(() => createMetrics()).toThrow(/PERISCOPE_METRICS_MAX_SERIES/);
  });

  test('PERISCOPE_METRICS_ENABLED=false turns every record call into a no-op', async () => {
    process.env.PERISCOPE_METRICS_ENABLED = 'false';
    const m = createMetrics({ enabled: true });
    expect(m.enabled).toBe(false);
    const c = m.counter({ name: 'off_total', help: 'x' });
    c.inc();
    m.recordLlmCall({
      provider: 'p',
      model: 'm',
      operation: 'chat',
      inputTokens: 1,
      outputTokens: 1,
      durationSeconds: 1,
    });
    expect(series(m, 'off_total')).toEqual([{ labels: {}, value: 0 }]);
    expect((await m.expose()).body).not.toContain('gen_ai_client_token_usage_count');
  });

  test('disable() and enable() switch recording at run time, bound handles included', () => {
    const m = createMetrics();
    const c = m.counter({ name: 'sw_total', help: 'x', labelNames: ['k'] as const });
    const h = m.histogram({ name: 'sw_seconds', help: 'x' });
    const g = m.gauge({ name: 'sw_gauge', help: 'x' });
    const bound = c.labels({ k: 'a' });
    m.disable();
    bound.inc();
    c.inc({ k: 'a' });
    h.observe(1);
    g.set(3);
    m.enable();
    bound.inc();
    expect(series(m, 'sw_total')).toEqual([{ labels: { k: 'a' }, value: 1 }]);
    expect((series(m, 'sw_seconds')[0] as { count: number }).count).toBe(0);
    expect(series(m, 'sw_gauge')).toEqual([{ labels: {}, value: 0 }]);
  });

  test('reset() zeroes values and bound handles keep recording', () => {
    const m = createMetrics();
    const c = m.counter({ name: 'rs_total', help: 'x', labelNames: ['k'] as const });
    const bound = c.labels({ k: 'a' });
    bound.inc(5);
    m.reset();
    expect(series(m, 'rs_total')).toEqual([{ labels: { k: 'a' }, value: 0 }]);
    bound.inc();
    expect(series(m, 'rs_total')).toEqual([{ labels: { k: 'a' }, value: 1 }]);
  });

  test('a caller-provided registry is used, and close() is idempotent', async () => {
    const registry = new Registry();
    const m = createMetrics({ registry });
    m.counter({ name: 'own_total', help: 'x' }).inc();
    expect(await registry.metrics()).toContain('own_total 1');
    await m.close();
    await m.close();
  });
});
