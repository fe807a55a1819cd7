import { createMetrics, OVERFLOW_METRIC } from '../src';

describe('cardinality limit', () => {
  test('a flood of unique label values stays bounded: the excess goes to one __overflow__ series, counted, warned once', async () => {
    const warnings: string[] = [];
    const m = createMetrics({ maxSeriesPerMetric: 500, onWarning: (w) => warnings.push(w) });
    const c = m.counter({ name: 'flood_requests_total', help: 'x', labelNames: ['user', 'route'] as const });
    const h = m.histogram({ name: 'flood_latency_seconds', help: 'x', labelNames: ['user'] as const, buckets: [1] });
    const g = m.gauge({ name: 'flood_sessions', help: 'x', labelNames: ['user'] as const });
    const flood = 50_000;
    for (let i = 0; i < flood; i++) {
      c.inc({ user: `u${i}`, route: '/x' });
      h.observe({ user: `u${i}` }, 0.5);
      g.labels({ user: `u${i}` }).set(1);
    }
    const snap = Object.fromEntries(m.toJSON().map((s) => [s.name, s.series]));
    // 500 series plus the overflow one, whatever the flood size.
    expect(snap.flood_requests_total).toHaveLength(501);
    expect(snap.flood_latency_seconds).toHaveLength(501);
    expect(snap.flood_sessions).toHaveLength(501);
    // Totals are preserved: nothing recorded is lost, the excess is just aggregated.
    const total = (snap.flood_requests_total as Array<{ value: number }>).reduce((a, s) => a + s.value, 0);
    expect(total).toBe(flood);
    const { body } = await m.expose();
    expect(body).toContain(`flood_requests_total{user="__overflow__",route="__overflow__"} ${flood - 500}\n`);
    expect(body).toContain(`flood_latency_seconds_count{user="__overflow__"} ${flood - 500}\n`);
    expect(body).toContain(`${OVERFLOW_METRIC}{metric="flood_requests_total"} ${flood - 500}\n`);
    expect(body).toContain(`${OVERFLOW_METRIC}{metric="flood_sessions"} ${flood - 500}\n`);
    expect(body.split('\n').filter((l) => l.startsWith('flood_requests_total{')).length).toBe(501);
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(/flood_requests_total reached 500 series/);
  });

  test('existing series keep recording after the limit is reached', () => {
    const m = createMetrics({ maxSeriesPerMetric: 2, onWarning: () => undefined });
    const c = m.counter({ name: 'keep_total', help: 'x', labelNames: ['k'] as const });
    const a = c.labels({ k: 'a' });
    c.inc({ k: 'b' });
    c.inc({ k: 'c' });
    a.inc();
    c.inc({ k: 'b' });
    const series = m.toJSON().find((s) => s.name === 'keep_total')!.series;
    expect(series).toEqual([
      { labels: { k: 'a' }, value: 1 },
      { labels: { k: 'b' }, value: 2 },
      { labels: { k: '__overflow__' }, value: 1 },
    ]);
  });

  test('the default limit is 2000 series and PERISCOPE_METRICS_MAX_SERIES overrides it', () => {
    const m = createMetrics({ onWarning: () => undefined });
    const c = m.counter({ name: 'default_limit_total', help: 'x', labelNames: ['k'] as const });
    for (let i = 0; i < 2100; i++) c.inc({ k: i });
    expect(m.toJSON().find((s) => s.name === 'default_limit_total')!.series).toHaveLength(2001);
    process.env.PERISCOPE_METRICS_MAX_SERIES = '10';
    try {
      const e = createMetrics({ onWarning: () => undefined });
      const c2 = e.counter({ name: 'env_limit_total', help: 'x', labelNames: ['k'] as const });
      for (let i = 0; i < 20; i++) c2.inc({ k: i });
      expect(e.toJSON().find((s) => s.name === 'env_limit_total')!.series).toHaveLength(11);
    } finally {
      delete process.env.PERISCOPE_METRICS_MAX_SERIES;
    }
  });
});
