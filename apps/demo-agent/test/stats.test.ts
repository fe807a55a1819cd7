// /status reads AgentStats on every call: its state must not grow with the number of tasks, and
// its percentiles must stay close to the exact ones.
import fc from 'fast-check';
import { LatencyHistogram } from '../src/latency';
import { AgentStats } from '../src/stats';

test('state stays the same size after a million tasks; percentiles within 5% of exact', () => {
  const stats = new AgentStats();
  const rng = (() => {
    let a = 7;
    return () => (a = (a * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  })();
  const sample: number[] = [];
  for (let i = 0; i < 1_000_000; i++) {
    const ms = 50 + rng() * rng() * 20_000;
    stats.recordTask(i % 50 === 0 ? 'error' : 'ok', ms);
    if (i % 100 === 0) sample.push(ms);
  }
  const afterMillion = JSON.stringify(stats.toJSON());
  const small = new AgentStats();
  small.recordTask('ok', 10);
  // Same document shape and size class: nothing per task is kept.
  expect(Object.keys(JSON.parse(afterMillion))).toEqual(Object.keys(small.toJSON()));
  expect(afterMillion.length).toBeLessThan(600);
  expect(stats.done).toBe(1_000_000);
  expect(stats.errors).toBe(20_000);
  sample.sort((a, b) => a - b);
  for (const q of [0.5, 0.95, 0.99]) {
    const exact = sample[Math.ceil(q * sample.length) - 1];
    expect(Math.abs(stats.percentileMs(q) - exact) / exact).toBeLessThan(0.06);
  }
});

test('any set of durations: the histogram percentile is within 5% of the exact one (fast-check)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: 1, max: 3_000_000, noNaN: true }), { minLength: 1, maxLength: 200 }),
      fc.constantFrom(0.5, 0.9, 0.95, 0.99),
      (durations, q) => {
        const h = new LatencyHistogram();
        for (const d of durations) h.record(d);
        const sorted = [...durations].sort((a, b) => a - b);
        const exact = sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
        const got = h.percentile(q);
        return got >= exact * 0.999 && got <= exact * 1.0501;
      },
    ),
  );
  expect(new LatencyHistogram().percentile(0.5)).toBe(0);
});
