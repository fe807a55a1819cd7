// Exposition is checked with Prometheus' own parsers (promtool): `check metrics` for the text
// format and the OpenMetrics parser behind `tsdb create-blocks-from openmetrics` (promtool
// 2.x's `check metrics` only reads text 0.0.4, so it cannot parse exemplars or `# EOF`).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { Counter as PromCounter, Histogram as PromHistogram } from 'prom-client';
import { createMetrics, Metrics, OPENMETRICS_CONTENT_TYPE, prefersOpenMetrics, PROMETHEUS_CONTENT_TYPE } from '../src';

const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const SPAN_ID = 'b7ad6b7169203331';

function findPromtool(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).concat('/usr/bin')) {
    const p = path.join(dir, 'promtool');
    if (existsSync(p)) return p;
  }
  return undefined;
}

const promtool = findPromtool();
function requirePromtool(): string | undefined {
  if (promtool) return promtool;
  if (process.env.PERISCOPE_ALLOW_NO_PROMTOOL === '1') {
    console.warn('promtool not found: exposition NOT checked with Prometheus parsers (PERISCOPE_ALLOW_NO_PROMTOOL=1)');
    return undefined;
  }
  throw new Error(
    'promtool not found: install it with `apt-get install prometheus` (or set PERISCOPE_ALLOW_NO_PROMTOOL=1 to run without this check)',
  );
}

// Exit 1 is a parse error; exit 3 is lint advice only. The advice we accept is about names we do
// not choose: prom-client's default gauges named *_total, and this test's deliberate app_plain.
const ACCEPTED_LINT = [
  'app_plain',
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

function checkText(tool: string, body: string): void {
  const r = spawnSync(tool, ['check', 'metrics'], { input: body, encoding: 'utf8' });
  const problems = (r.stdout + r.stderr).split('\n').filter((l) => l && !ACCEPTED_LINT.includes(l.split(' ')[0]));
  expect({ parsed: r.status === 0 || r.status === 3, problems }).toEqual({ parsed: true, problems: [] });
}

function checkOpenMetrics(tool: string, body: string): void {
  // The OpenMetrics backfill parser needs a timestamp on every sample; insert one before any exemplar.
  const stamped = body
    .split('\n')
    .map((line) => {
      if (line === '' || line.startsWith('#')) return line;
      const at = line.indexOf(' # {');
      return at < 0 ? `${line} 1700000000` : `${line.slice(0, at)} 1700000000${line.slice(at)}`;
    })
    .join('\n');
  const dir = mkdtempSync(path.join(tmpdir(), 'periscope-metrics-om-'));
  try {
    writeFileSync(path.join(dir, 'in.om'), stamped);
    const r = spawnSync(
      tool,
      ['tsdb', 'create-blocks-from', 'openmetrics', path.join(dir, 'in.om'), path.join(dir, 'out')],
      { encoding: 'utf8' },
    );
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const contextManager = new AsyncLocalStorageContextManager();
beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(() => {
  context.disable();
});

function inSpan<T>(flags: number, fn: () => T): T {
  const span = trace.wrapSpanContext({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: flags });
  return context.with(trace.setSpan(context.active(), span), fn);
}

/** A registry with every metric type, awkward label values, exemplars, overflow and prom-client's own metrics. */
function richMetrics(warnings: string[] = []): Metrics {
  const m = createMetrics({
    collectDefaultMetrics: true,
    defaultLabels: { service: 'api' },
    maxSeriesPerMetric: 3,
    onWarning: (w) => warnings.push(w),
  });
  const c = m.counter({
    name: 'app_requests_total',
    help: 'Requests with "quotes" and \\ backslash\nand newline',
    labelNames: ['route', 'status'] as const,
  });
  inSpan(TraceFlags.SAMPLED, () => c.inc({ route: '/x', status: 200 }));
  c.inc({ route: 'quote " back \\ nl \n é', status: 500 }, 2);
  for (let i = 0; i < 5; i++) c.inc({ route: `/flood/${i}`, status: 200 }); // /flood/0 is the 3rd series; 1-4 overflow
  m.counter({ name: 'app_plain', help: 'a counter without the _total suffix' }).inc(3);
  m.gauge({ name: 'app_inflight', help: 'in flight', labelNames: ['pool'] as const }).set({ pool: 'main' }, -1.5);
  const h = m.histogram({
    name: 'app_latency_seconds',
    help: 'latency',
    labelNames: ['route'] as const,
    buckets: [0.1, 1],
  });
  inSpan(TraceFlags.SAMPLED, () => h.observe({ route: '/x' }, 0.05));
  h.observe({ route: '/x' }, 5);
  m.summary({ name: 'app_size_bytes', help: 'sizes', percentiles: [0.5, 0.99] }).observe(100);
  new PromCounter({
    name: 'legacy_events_total',
    help: 'registered directly with prom-client',
    labelNames: ['kind'],
    registers: [m.registry],
  }).inc({ kind: 'a' });
  new PromHistogram({
    name: 'legacy_seconds',
    help: 'prom-client histogram',
    buckets: [1],
    registers: [m.registry],
  }).observe(0.5);
  m.recordLlmCall({
    provider: 'openai',
    model: 'gpt-4o',
    operation: 'chat',
    inputTokens: 100,
    outputTokens: 50,
    durationSeconds: 1.2,
    timeToFirstTokenSeconds: 0.3,
  });
  return m;
}

describe('exposition', () => {
  test('Prometheus text 0.0.4 passes `promtool check metrics`, with our and prom-client metrics together and no exemplars', async () => {
    const warnings: string[] = [];
    const m = richMetrics(warnings);
    expect(warnings).toEqual([expect.stringContaining('app_requests_total reached 3 series')]);
    const { contentType, body } = await m.expose();
    expect(contentType).toBe(PROMETHEUS_CONTENT_TYPE);
    expect(body).toContain('app_requests_total{route="/x",status="200",service="api"} 1\n');
    expect(body).toContain('app_requests_total{route="quote \\" back \\\\ nl \\n é",status="500",service="api"} 2\n');
    expect(body).toContain('app_requests_total{route="__overflow__",status="__overflow__",service="api"} 4\n');
    expect(body).toContain('# HELP app_requests_total Requests with "quotes" and \\\\ backslash\\nand newline\n');
    expect(body).toContain('legacy_events_total{kind="a",service="api"} 1\n');
    expect(body).toMatch(/\nprocess_cpu_user_seconds_total\{service="api"\} [0-9.e-]+\n/);
    expect(body).toMatch(/\nnodejs_eventloop_lag_seconds\{service="api"\} /);
    expect(body).not.toContain(TRACE_ID);
    const tool = requirePromtool();
    if (tool) checkText(tool, body);
    await m.close();
  });

  test("OpenMetrics 1.0 (chosen by Prometheus' Accept header) passes promtool's OpenMetrics parser, with exemplars", async () => {
    const m = richMetrics();
    const { contentType, body } = await m.expose(PROMETHEUS_ACCEPT);
    expect(contentType).toBe(OPENMETRICS_CONTENT_TYPE);
    expect(body.endsWith('# EOF\n')).toBe(true);
    expect(body).toContain('# TYPE app_requests counter\n');
    expect(body).toContain(
      `app_requests_total{route="/x",status="200",service="api"} 1 # {trace_id="${TRACE_ID}",span_id="${SPAN_ID}"} 1 `,
    );
    expect(body).toContain(
      `app_latency_seconds_bucket{route="/x",service="api",le="0.1"} 1 # {trace_id="${TRACE_ID}",span_id="${SPAN_ID}"} 0.05 `,
    );
    expect(body).toContain('app_latency_seconds_bucket{route="/x",service="api",le="+Inf"} 2\n');
    expect(body).toContain(
      '# TYPE app_plain counter\napp_plain_total 3\n'.replace('app_plain_total', 'app_plain_total{service="api"}'),
    );
    expect(body).toContain('# TYPE legacy_events counter\nlegacy_events_total{kind="a",service="api"} 1\n');
    // `# UNIT` for every family whose name ends in a base unit (ours, prom-client's, counters too); none otherwise.
    expect(body).toContain('# TYPE app_latency_seconds histogram\n# UNIT app_latency_seconds seconds\n');
    expect(body).toContain('# TYPE app_size_bytes summary\n# UNIT app_size_bytes bytes\n');
    expect(body).toContain('# TYPE legacy_seconds histogram\n# UNIT legacy_seconds seconds\n');
    expect(body).toContain('# TYPE process_cpu_user_seconds counter\n# UNIT process_cpu_user_seconds seconds\n');
    expect(body).toContain(
      '# TYPE gen_ai_client_operation_duration_seconds histogram\n# UNIT gen_ai_client_operation_duration_seconds seconds\n',
    );
    for (const line of body.split('\n').filter((l) => l.startsWith('# UNIT '))) {
      const [, , family, unit] = line.split(' ');
      expect(family.endsWith(`_${unit}`)).toBe(true);
    }
    expect(body).not.toMatch(/# UNIT (app_requests|gen_ai_client_token_usage|app_inflight) /);
    expect((await m.expose()).body).not.toContain('# UNIT');
    const tool = requirePromtool();
    if (tool) checkOpenMetrics(tool, body);
    await m.close();
  });

  test('only sampled spans become exemplars, and exemplars can be turned off', async () => {
    const m = createMetrics();
    const c = m.counter({ name: 'ex_total', help: 'x' });
    inSpan(TraceFlags.NONE, () => c.inc());
    expect((await m.expose('application/openmetrics-text')).body).toContain('ex_total 1\n');
    const off = createMetrics({ exemplars: false });
    const c2 = off.counter({ name: 'ex_total', help: 'x' });
    inSpan(TraceFlags.SAMPLED, () => c2.inc());
    expect((await off.expose('application/openmetrics-text')).body).toContain('ex_total 1\n');
    inSpan(TraceFlags.SAMPLED, () => c.inc());
    expect((await m.expose('application/openmetrics-text')).body).toContain(`ex_total 2 # {trace_id="${TRACE_ID}"`);
  });

  test('content negotiation follows the Accept header', () => {
    expect(prefersOpenMetrics(undefined)).toBe(false);
    expect(prefersOpenMetrics('text/plain')).toBe(false);
    expect(prefersOpenMetrics('*/*')).toBe(false);
    expect(prefersOpenMetrics(PROMETHEUS_ACCEPT)).toBe(true);
    expect(prefersOpenMetrics('application/openmetrics-text')).toBe(true);
    expect(prefersOpenMetrics('application/openmetrics-text;version=1.0.0;q=0.2,text/plain;q=0.9')).toBe(false);
    expect(prefersOpenMetrics('application/openmetrics-text;version=9.9.9')).toBe(false);
  });

  test("prom-client's own registry.metrics() still renders our metrics", async () => {
    const m = createMetrics();
    m.histogram({ name: 'compat_seconds', help: 'x', labelNames: ['k'] as const, buckets: [1] }).observe(
      { k: 'a' },
      0.5,
    );
    const text = await m.registry.metrics();
    expect(text).toContain('compat_seconds_bucket{k="a",le="1"} 1');
    expect(text).toContain('compat_seconds_count{k="a"} 1');
  });

  test('a large render yields to the event loop instead of running in one block', async () => {
    const m = createMetrics({ maxSeriesPerMetric: 20_000 });
    const h = m.histogram({ name: 'big_seconds', help: 'x', labelNames: ['id'] as const });
    for (let i = 0; i < 10_000; i++) h.observe({ id: String(i) }, i / 1000);
    let immediates = 0;
    let running = true;
    const spin = (): void => {
      if (running) {
        immediates++;
        setImmediate(spin);
      }
    };
    setImmediate(spin);
    const { body } = await m.expose();
    running = false;
    expect(body.split('\n').filter((l) => l.startsWith('big_seconds_count')).length).toBe(10_000);
    expect(immediates).toBeGreaterThan(1);
  });
});
