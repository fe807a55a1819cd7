// historySource keeps an incremental mirror per metric: whatever the order of samples and
// windows asked for, it must return exactly what a fresh read of the history gives.
import fc from 'fast-check';
import { createMetrics } from '@periscope/metrics';
import { historySource } from '../src';

type Op =
  { kind: 'sample'; counter: number; gauge: number; observe: number } | { kind: 'select'; back: number; ahead: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('sample' as const),
    counter: fc.integer({ min: 0, max: 5 }),
    gauge: fc.integer({ min: -50, max: 50 }),
    observe: fc.double({ min: 0, max: 3, noNaN: true }),
  }),
  fc.record({
    kind: fc.constant('select' as const),
    back: fc.integer({ min: 0, max: 10_000 }), // windows within the retention (what addRule enforces)
    ahead: fc.integer({ min: -3000, max: 2000 }),
  }),
);

function plain(series: Array<{ labels: Record<string, string>; times: Float64Array; values: Float64Array }>) {
  return series
    .map((s) => ({
      labels: JSON.stringify(Object.entries(s.labels).sort()),
      times: Array.from(s.times),
      values: Array.from(s.values),
    }))
    .filter((s) => s.times.length > 0)
    .sort((a, b) => a.labels.localeCompare(b.labels));
}

describe('historySource', () => {
  it('gives the same series as a fresh read for any sequence of samples and windows', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), (ops) => {
        const metrics = createMetrics();
        const c = metrics.counter({ name: 'm_total', help: 'c', labelNames: ['k'] as const });
        const g = metrics.gauge({ name: 'm_gauge', help: 'g' });
        const h = metrics.histogram({ name: 'm_seconds', help: 'h', buckets: [0.5, 1, 2] });
        c.inc({ k: 'a' }, 0);
        g.set(0);
        const history = metrics.history({
          series: ['m_total', 'm_gauge', 'm_seconds'],
          intervalMs: 1000,
          retentionMs: 10_000,
        });
        const mirrored = historySource(history);
        let t = Date.now() + 1000;
        try {
          for (const o of ops) {
            if (o.kind === 'sample') {
              c.inc({ k: 'a' }, o.counter);
              g.set(o.gauge);
              h.observe(o.observe);
              history.sample((t += 1000));
              continue;
            }
            const from = t - o.back;
            const to = t + o.ahead;
            for (const name of ['m_total', 'm_gauge', 'm_seconds_bucket', 'm_seconds_count', 'm_seconds_sum']) {
              const fresh = historySource(history).select(name, from, to);
              expect(plain(mirrored.select(name, from, to))).toEqual(plain(fresh));
            }
          }
        } finally {
          history.close();
          void metrics.close();
        }
      }),
      { numRuns: 150 },
    );
  });
});
