// A histogram series' rendering is reused between scrapes only while nothing changed: any
// observation, a reset or a switch of format renders it anew. exposeStream() yields the same text.
import { createMetrics } from '../src';

test('cached series text never goes stale', async () => {
  const m = createMetrics();
  const h = m.histogram({ name: 'c_seconds', help: 'x', labelNames: ['k'] as const, buckets: [1] });
  h.observe({ k: 'a' }, 0.5);
  expect((await m.expose()).body).toContain('c_seconds_count{k="a"} 1\n');
  expect((await m.expose()).body).toContain('c_seconds_count{k="a"} 1\n');
  h.observe({ k: 'a' }, 2);
  const body = (await m.expose()).body;
  expect(body).toContain('c_seconds_bucket{k="a",le="+Inf"} 2\n');
  expect(body).toContain('c_seconds_sum{k="a"} 2.5\n');
  const om = (await m.expose('application/openmetrics-text')).body;
  expect(om).toContain('c_seconds_count{k="a"} 2\n');
  expect(om.endsWith('# EOF\n')).toBe(true);
  m.reset();
  expect((await m.expose()).body).toContain('c_seconds_count{k="a"} 0\n');
});

test('exposeStream() yields exactly what expose() returns, in slices', async () => {
  const m = createMetrics({ maxSeriesPerMetric: 50_000 });
  const c = m.counter({ name: 's_total', help: 'x', labelNames: ['id'] as const });
  for (let i = 0; i < 30_000; i++) c.inc({ id: String(i) });
  const { contentType, chunks } = m.exposeStream();
  let streamed = '';
  for await (const chunk of chunks) streamed += chunk;
  expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  expect(streamed).toBe((await m.expose()).body);
});

test('exposeStream() slices are bounded in size even when every series comes from the render cache', async () => {
  // Cached series render almost for free, so a time budget alone would let one slice grow to
  // megabytes, and joining and writing it would hold the event loop.
  const m = createMetrics({ maxSeriesPerMetric: 50_000 });
  const h = m.histogram({ name: 'big_seconds', help: 'x', labelNames: ['id'] as const });
  for (let i = 0; i < 5_000; i++) h.observe({ id: String(i) }, 0.1);
  await m.expose(); // fills the render cache
  const sizes: number[] = [];
  for await (const chunk of m.exposeStream().chunks) sizes.push(chunk.length);
  expect(sizes.reduce((a, b) => a + b, 0)).toBeGreaterThan(3_000_000);
  expect(Math.max(...sizes)).toBeLessThan(80 * 1024); // 64 KiB plus at most 15 series over
});
