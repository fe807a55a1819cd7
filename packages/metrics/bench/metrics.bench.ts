// Interleaved benchmark against prom-client (the baseline, first in every table): labelled inc,
// labelled histogram observe, gauge set, and exposition of 1k and 10k series.
// Run: npx nx bench metrics   (or: cd packages/metrics && npx tsx bench/metrics.bench.ts)
import { Counter as PCounter, Gauge as PGauge, Histogram as PHistogram, Registry } from 'prom-client';
import { compare, machineLine } from '@periscope-tools/bench';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { createRequire } from 'node:module';

// The shipped build, not the sources under tsx: what users run is what is measured.
const { Buckets, createMetrics } = createRequire(__filename)('../dist/index.js') as typeof import('../src');

async function main(): Promise<void> {
  console.log(`# @periscope/metrics vs prom-client\n\n${machineLine()}\n`);
  const opts = { rounds: 7, sliceMs: 200 };

  const preg = new Registry();
  const pc = new PCounter({ name: 'req_total', help: 'h', labelNames: ['route', 'status'], registers: [preg] });
  const pcChild = pc.labels({ route: '/x', status: '200' });
  const m = createMetrics({ exemplars: false });
  const mc = m.counter({ name: 'req_total', help: 'h', labelNames: ['route', 'status'] as const });
  const bound = mc.labels({ route: '/x', status: '200' });
  const mx = createMetrics();
  const boundEx = mx
    .counter({ name: 'req_total', help: 'h', labelNames: ['route', 'status'] as const })
    .labels({ route: '/x', status: '200' });
  await compare(
    'counter inc, 2 labels',
    [
      { name: 'prom-client inc({route,status})', fn: () => pc.inc({ route: '/x', status: '200' }) },
      { name: 'prom-client labels(...).inc() (child)', fn: () => pcChild.inc() },
      { name: 'ours inc({route,status})', fn: () => mc.inc({ route: '/x', status: '200' }) },
      { name: 'ours bound inc() (exemplars off)', fn: () => bound.inc() },
      { name: 'ours bound inc() (exemplars on, no active span)', fn: () => boundEx.inc() },
    ],
    opts,
  );

  const ph = new PHistogram({
    name: 'lat_seconds',
    help: 'h',
    labelNames: ['route'],
    buckets: [...Buckets.latency],
    registers: [preg],
  });
  const mh = m.histogram({ name: 'lat_seconds', help: 'h', labelNames: ['route'] as const, buckets: Buckets.latency });
  const hb = mh.labels({ route: '/x' });
  const hbEx = mx
    .histogram({ name: 'lat_seconds', help: 'h', labelNames: ['route'] as const, buckets: Buckets.latency })
    .labels({ route: '/x' });
  let v = 0;
  const next = (): number => (v = (v + 0.0137) % 12);
  await compare(
    'histogram observe, 1 label, 13 buckets',
    [
      { name: 'prom-client observe({route}, v)', fn: () => ph.observe({ route: '/x' }, next()) },
      { name: 'ours observe({route}, v)', fn: () => mh.observe({ route: '/x' }, next()) },
      { name: 'ours bound observe(v) (exemplars off)', fn: () => hb.observe(next()) },
      { name: 'ours bound observe(v) (exemplars on, no active span)', fn: () => hbEx.observe(next()) },
    ],
    opts,
  );

  const pg = new PGauge({ name: 'inflight', help: 'h', labelNames: ['pool'], registers: [preg] });
  const mg = m.gauge({ name: 'inflight', help: 'h', labelNames: ['pool'] as const });
  const gb = mg.labels({ pool: 'main' });
  let g = 0;
  await compare(
    'gauge set, 1 label',
    [
      { name: 'prom-client set({pool}, v)', fn: () => pg.set({ pool: 'main' }, ++g) },
      { name: 'ours set({pool}, v)', fn: () => mg.set({ pool: 'main' }, ++g) },
      { name: 'ours bound set(v)', fn: () => gb.set(++g) },
    ],
    opts,
  );

  for (const n of [1_000, 10_000]) {
    const r = new Registry();
    const pe = new PCounter({ name: 'series_total', help: 'h', labelNames: ['id', 'route'], registers: [r] });
    const me = createMetrics({ maxSeriesPerMetric: 20_000 });
    const ce = me.counter({ name: 'series_total', help: 'h', labelNames: ['id', 'route'] as const });
    for (let i = 0; i < n; i++) {
      pe.inc({ id: String(i), route: `/r/${i % 50}` }, i);
      ce.inc({ id: String(i), route: `/r/${i % 50}` }, i);
    }
    await compare(
      `exposition, one counter with ${n} series`,
      [
        { name: 'prom-client registry.metrics()', fn: () => r.metrics() },
        { name: 'ours expose() (text 0.0.4)', fn: () => me.expose() },
        { name: 'ours expose() (OpenMetrics)', fn: () => me.expose('application/openmetrics-text') },
      ],
      { rounds: 7, sliceMs: 300 },
    );
  }

  // A 10k-series histogram (13 buckets: 160k lines), and the longest event-loop stall while
  // rendering it (the gap between 1 ms timer ticks).
  const hr = new Registry();
  const phBig = new PHistogram({
    name: 'big_seconds',
    help: 'h',
    labelNames: ['id'],
    buckets: [...Buckets.latency],
    registers: [hr],
  });
  const big = createMetrics({ maxSeriesPerMetric: 20_000 });
  const hist = big.histogram({ name: 'big_seconds', help: 'h', labelNames: ['id'] as const, buckets: Buckets.latency });
  for (let i = 0; i < 10_000; i++) {
    phBig.observe({ id: String(i) }, i / 1000);
    hist.observe({ id: String(i) }, i / 1000);
  }
  await compare(
    'exposition, one histogram with 10000 series (13 buckets), no series changed since the last scrape',
    [
      { name: 'prom-client registry.metrics()', fn: () => hr.metrics() },
      { name: 'ours expose() (text 0.0.4)', fn: () => big.expose() },
    ],
    { rounds: 5, sliceMs: 400 },
  );
  let tick = 0;
  await compare(
    'exposition, one histogram with 10000 series (13 buckets), every series observed since the last scrape',
    [
      {
        name: 'prom-client: 10k observe() + registry.metrics()',
        fn: () => {
          tick++;
          for (let i = 0; i < 10_000; i++) phBig.observe({ id: String(i) }, ((i + tick) % 1000) / 1000);
          return hr.metrics();
        },
      },
      {
        name: 'ours: 10k observe() + expose()',
        fn: () => {
          tick++;
          for (let i = 0; i < 10_000; i++) hist.observe({ id: String(i) }, ((i + tick) % 1000) / 1000);
          return big.expose();
        },
      },
    ],
    { rounds: 5, sliceMs: 400 },
  );

  // Fleet scale: 100k counter series in one process (a multi-tenant agent service).
  const fr = new Registry();
  const pFleet = new PCounter({ name: 'fleet_total', help: 'h', labelNames: ['tenant', 'route'], registers: [fr] });
  const fleet = createMetrics({ maxSeriesPerMetric: 200_000 });
  const cFleet = fleet.counter({ name: 'fleet_total', help: 'h', labelNames: ['tenant', 'route'] as const });
  for (let i = 0; i < 100_000; i++) {
    const labels = { tenant: `t${i % 5000}`, route: `/r${Math.floor(i / 5000)}` };
    pFleet.inc(labels);
    cFleet.inc(labels);
  }
  await compare(
    'exposition, one counter with 100000 series',
    [
      { name: 'prom-client registry.metrics()', fn: () => fr.metrics() },
      { name: 'ours expose() (text 0.0.4)', fn: () => fleet.expose() },
    ],
    { rounds: 3, sliceMs: 1000 },
  );

  const stallOf = async (label: string, run: () => Promise<unknown>) => {
    const stalls: number[] = [];
    for (let k = 0; k < 7; k++) {
      let last = performance.now();
      let worst = 0;
      const ticker = setInterval(() => {
        const now = performance.now();
        worst = Math.max(worst, now - last);
        last = now;
      }, 1);
      await run();
      clearInterval(ticker);
      stalls.push(Math.max(worst, performance.now() - last));
    }
    stalls.sort((a, b) => a - b);
    console.log(`- ${label}: median ${stalls[3].toFixed(1)} ms, max ${stalls[6].toFixed(1)} ms`);
  };
  const drain = async (chunks: AsyncIterable<string>) => {
    let bytes = 0;
    for await (const c of chunks) bytes += c.length; // what res.write(c) per chunk would do
    return bytes;
  };
  console.log('\nLongest event-loop stall while a scrape renders (gap between 1 ms timer ticks), 7 runs:');
  await stallOf('10k-series histogram, expose()', () => big.expose());
  await stallOf('10k-series histogram, exposeStream()', () => drain(big.exposeStream().chunks));
  await stallOf('100k-series counter, expose()', () => fleet.expose());
  await stallOf('100k-series counter, exposeStream()', () => drain(fleet.exposeStream().chunks));
  await stallOf('100k-series counter, prom-client registry.metrics()', () => fr.metrics());

  // Last, because it changes the process: with a context manager registered (as an SDK does),
  // every exemplar check is a real context lookup; inside a sampled span it also records one.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  await mx.expose(); // a scrape picks up the newly registered OpenTelemetry globals
  const span = trace.wrapSpanContext({
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED,
  });
  await context.with(trace.setSpan(context.active(), span), () =>
    compare(
      'counter inc inside a sampled span (context manager registered)',
      [
        { name: 'prom-client inc({route,status})', fn: () => pc.inc({ route: '/x', status: '200' }) },
        { name: 'ours bound inc() (exemplars off)', fn: () => bound.inc() },
        { name: 'ours bound inc() (exemplars on: records trace id)', fn: () => boundEx.inc() },
        { name: 'ours bound observe(v) (exemplars on: records trace id)', fn: () => hbEx.observe(next()) },
      ],
      opts,
    ),
  );
  const om = (await mx.expose('application/openmetrics-text')).body;
  console.log(
    `\nexemplars recorded in the traced cases: ${om.includes('trace_id="0af7651916cd43dd8448eb211c80319c"') ? 'yes' : 'NO'}`,
  );
  context.disable();
}

void main();
