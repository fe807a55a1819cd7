// History.raw / track / isTracked: the raw samples alerting evaluates PromQL over.
import { createMetrics } from '../src';

describe('history raw samples', () => {
  it('returns each series with its samples in a time range, gaps as NaN', () => {
    const m = createMetrics();
    const c = m.counter({ name: 'r_total', help: 'r', labelNames: ['k'] as const });
    const h = m.histogram({ name: 'r_seconds', help: 'r', buckets: [1] });
    c.inc({ k: 'a' }, 1);
    const history = m.history({ series: ['r_total', 'r_seconds'], intervalMs: 1000, retentionMs: 10_000 });
    const t0 = Date.now() + 1000;
    for (let i = 0; i < 4; i++) {
      c.inc({ k: 'a' }, 2);
      h.observe(i);
      history.sample(t0 + i * 1000);
    }
    const [a] = history.raw('r_total', t0 + 1000, t0 + 2000);
    expect(a.labels).toEqual({ k: 'a' });
    expect(a.kind).toBe('counter');
    expect(Array.from(a.times)).toEqual([t0 + 1000, t0 + 2000]);
    expect(Array.from(a.values)).toEqual([5, 7]);
    const [hist] = history.raw('r_seconds', t0 + 3000);
    expect(hist.width).toBe(4); // bucket (<=1), +Inf, sum, count
    expect(Array.from(hist.values)).toEqual([2, 2, 6, 4]);
    expect(history.raw('r_total', t0 + 60_000)).toEqual([
      { ...a, times: new Float64Array(0), values: new Float64Array(0) },
    ]);
    history.close();
    void m.close();
  });

  it('track() samples another metric from the next sample on, without a fake increase', () => {
    const m = createMetrics();
    const c = m.counter({ name: 'late_total', help: 'l' });
    c.inc(1000);
    const g = m.gauge({ name: 'first', help: 'f' });
    g.set(1);
    const history = m.history({ series: ['first'], intervalMs: 1000, retentionMs: 10_000 });
    expect(history.isTracked('late_total')).toBe(false);
    const t0 = Date.now() + 1000;
    history.sample(t0);
    history.track('late_total');
    history.sample(t0 + 1000);
    c.inc(10);
    history.sample(t0 + 2000);
    expect(history.isTracked('late_total')).toBe(true);
    const [late] = history.raw('late_total');
    expect(Array.from(late.values).slice(-3)).toEqual([NaN, 1000, 1010]);
    expect(history.rate('late_total', undefined, 1000)).toBe(10); // not 1010: no zero-fill before a late-tracked series
    history.close();
    void m.close();
  });
});
