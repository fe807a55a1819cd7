// History is driven with explicit sample timestamps so the arithmetic is exact; one test lets
// the real interval run to show the background sampling works and is stopped by close().
import { createMetrics, MetricsConfigError, UntrackedMetricError } from '../src';

function setup() {
  const m = createMetrics();
  const requests = m.counter({ name: 'h_requests_total', help: 'x', labelNames: ['route', 'status'] as const });
  const inflight = m.gauge({ name: 'h_inflight', help: 'x' });
  const latency = m.histogram({
    name: 'h_latency_seconds',
    help: 'x',
    labelNames: ['route'] as const,
    buckets: [0.1, 0.2, 0.5, 1],
  });
  // A long interval: only explicit sample() calls below add samples.
  const history = m.history({
    series: ['h_requests_total', 'h_inflight', { name: 'h_latency_seconds', labels: { route: '/x' } }],
    intervalMs: 60_000,
    retentionMs: 600_000,
  });
  // Far enough ahead that the sample taken at creation falls outside the windows queried.
  const t0 = Date.now() + 120_000;
  return { m, requests, inflight, latency, history, t0 };
}

describe('history', () => {
  test('rate sums matching series, handles counter resets, and respects the window', async () => {
    const { m, requests, history, t0 } = setup();
    const ok = requests.labels({ route: '/x', status: '200' });
    const err = requests.labels({ route: '/x', status: '500' });
    history.sample(t0);
    for (let s = 1; s <= 10; s++) {
      ok.inc(10);
      err.inc(1);
      history.sample(t0 + s * 1000);
    }
    expect(history.rate('h_requests_total', undefined, 60_000)).toBeCloseTo(11, 9);
    expect(history.rate('h_requests_total', { status: '500' }, 60_000)).toBeCloseTo(1, 9);
    // Window of 5 s ending at the last sample: samples at 5..10 s.
    expect(history.rate('h_requests_total', { status: '200' }, 5000)).toBeCloseTo(10, 9);
    m.reset(); // a counter reset (process restart) must not produce a negative rate
    ok.inc(5);
    history.sample(t0 + 11_000);
    expect(history.rate('h_requests_total', { status: '200' }, 2000)).toBeCloseTo((10 + 5) / 2, 9);
    history.close();
    await m.close();
  });

  test('avg and max over a gauge; undefined before there is data', async () => {
    const { m, inflight, history, t0 } = setup();
    expect(history.rate('h_inflight', undefined, 1000)).toBeUndefined();
    [4, 8, 2, 6].forEach((v, i) => {
      inflight.set(v);
      history.sample(t0 + i * 1000);
    });
    expect(history.avg('h_inflight', undefined, 60_000)).toBe(5);
    expect(history.max('h_inflight', undefined, 60_000)).toBe(8);
    expect(history.max('h_inflight', undefined, 1500)).toBe(6);
    expect(history.rate('h_inflight', undefined, 60_000)).toBeCloseTo((6 - 4) / 3, 9);
    await m.close();
  });

  test('quantile interpolates within buckets over the window, like histogram_quantile', async () => {
    const { m, latency, history, t0 } = setup();
    history.sample(t0);
    for (let i = 0; i < 100; i++) latency.observe({ route: '/x' }, 0.15); // all in (0.1, 0.2]
    latency.observe({ route: '/y' }, 5); // not selected by the history's label filter
    history.sample(t0 + 1000);
    expect(history.quantile('h_latency_seconds', undefined, 0.5, 60_000)).toBeCloseTo(0.15, 9);
    expect(history.quantile('h_latency_seconds', undefined, 0.9, 60_000)).toBeCloseTo(0.19, 9);
    for (let i = 0; i < 100; i++) latency.observe({ route: '/x' }, 0.7); // (0.5, 1]
    history.sample(t0 + 2000);
    // Only the last second: all observations at 0.7 -> median interpolated in (0.5, 1].
    expect(history.quantile('h_latency_seconds', { route: '/x' }, 0.5, 1000)).toBeCloseTo(0.75, 9);
    expect(history.avg('h_latency_seconds', undefined, 60_000)).toBeCloseTo((100 * 0.15 + 100 * 0.7) / 200, 9);
    expect(history.rate('h_latency_seconds', undefined, 60_000)).toBeCloseTo(100, 9);
    expect(history.max('h_latency_seconds', undefined, 60_000)).toBe(1);
    expect(() => history.quantile('h_inflight', undefined, 0.5, 1000)).toThrow(MetricsConfigError);
    expect(() => history.quantile('h_latency_seconds', undefined, 1.5, 1000)).toThrow(/quantile q/);
    await m.close();
  });

  test('memory is bounded by retention: the ring keeps retention / interval + 1 samples', async () => {
    const m = createMetrics();
    const c = m.counter({ name: 'ring_total', help: 'x' });
    const h = m.history({ series: ['ring_total'], intervalMs: 1000, retentionMs: 5000 });
    const t0 = Date.now() + 1000;
    for (let s = 0; s < 100; s++) {
      c.inc(s % 2 ? 1 : 100); // uneven so the first samples would change the answer
      h.sample(t0 + s * 1000);
    }
    // A window longer than retention sees only the last 6 samples (s = 94..99): +1 +100 +1 +100 +1.
    expect(h.rate('ring_total', undefined, 1_000_000)).toBeCloseTo((2 * 100 + 3 * 1) / 5, 9);
    await m.close();
  });

  test('queries for metrics not in the history and bad options throw typed errors', async () => {
    const { m, history } = setup();
    expect(() => history.rate('nope_total', undefined, 1000)).toThrow(UntrackedMetricError);
    expect(() => m.history({ series: [] })).toThrow(MetricsConfigError);
    expect(() => m.history({ series: ['x'], intervalMs: 1000, retentionMs: 10 })).toThrow(/retentionMs/);
    expect(() => history.rate('h_inflight', undefined, 0)).toThrow(/windowMs/);
    await m.close();
  });

  test('samples in the background on its interval until metrics.close()', async () => {
    const m = createMetrics();
    const c = m.counter({ name: 'bg_total', help: 'x' });
    const h = m.history({ series: ['bg_total'], intervalMs: 20, retentionMs: 1000 });
    const timer = setInterval(() => c.inc(), 5);
    // Wait for the interval to have taken samples around some increments (bounded, for slow CI).
    const deadline = Date.now() + 3000;
    while (!((h.rate('bg_total', undefined, 1000) ?? 0) > 0) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    clearInterval(timer);
    const rate = h.rate('bg_total', undefined, 1000);
    expect(rate).toBeGreaterThan(0);
    await m.close();
    c.inc(1000);
    await new Promise((r) => setTimeout(r, 60));
    expect(h.rate('bg_total', undefined, 1000)).toBe(rate); // no sample after close
  });
});
