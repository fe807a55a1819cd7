// Issue 21 (mutation testing): content negotiation and the rendering of metrics registered
// directly with prom-client (not ours), checked to the byte in both formats.
import { Counter as PromCounter } from 'prom-client';
import { createMetrics, OPENMETRICS_CONTENT_TYPE, prefersOpenMetrics, PROMETHEUS_CONTENT_TYPE } from '../src';

describe('prefersOpenMetrics (Accept negotiation)', () => {
  test.each([
    [undefined, false],
    ['', false],
    ['application/openmetrics-text', true],
    ['application/openmetrics-text; version=1.0.0', true],
    ['application/openmetrics-text;version=0.0.1', true],
    ['Application/OpenMetrics-Text; Version=1.0.0', true],
    ['application/openmetrics-text; version=2.0.0', false],
    ['application/openmetrics-text; version=1.0.0; q=0', false],
    ['text/plain', false],
    ['*/*', false],
    ['text/*', false],
    // Prometheus' own scrape header: OpenMetrics first, text as the fallback.
    [
      'application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.1',
      true,
    ],
    ['text/plain;q=0.9, application/openmetrics-text;q=0.5', false],
    ['text/plain;q=0.5, application/openmetrics-text;q=0.9', true],
    ['application/openmetrics-text;q=0.5, text/plain;q=0.5', true],
    ['application/openmetrics-text;q=0.2, */*;q=0.3', false],
    ['application/openmetrics-text;q=0.2, text/*;q=0.3', false],
    ['application/json, application/openmetrics-text;q=0.1', true],
    ['application/openmetrics-text;q=abc', false],
    ['application/openmetrics-text; charset=utf-8', true],
    ['application/openmetrics-text; version = 2.0.0', false],
    [' application/openmetrics-text ; q = 0.7 , text/plain ; q = 0.6', true],
  ])('%j → %s', (accept, expected) => {
    expect(prefersOpenMetrics(accept)).toBe(expected);
  });

  test('expose() answers with the negotiated content type and format', async () => {
    const m = createMetrics({ collectDefaultMetrics: false });
    m.counter({ name: 'neg_events_total', help: 'events' }).inc();
    const om = await m.expose('application/openmetrics-text; version=1.0.0');
    expect(om.contentType).toBe(OPENMETRICS_CONTENT_TYPE);
    expect(om.body.endsWith('# EOF\n')).toBe(true);
    const text = await m.expose('text/plain');
    expect(text.contentType).toBe(PROMETHEUS_CONTENT_TYPE);
    expect(text.body).not.toContain('# EOF');
  });
});

/** A metric object as prom-client's registry holds it, with values we choose. */
function foreign(name: string, type: string, help: string, values: unknown[]) {
  return { name, help, type, aggregator: 'sum', get: async () => ({ name, help, type, aggregator: 'sum', values }) };
}

describe('metrics that are not ours (rendered from get())', () => {
  function setup() {
    const m = createMetrics({ collectDefaultMetrics: false, defaultLabels: { env: 'prod' } });
    const thing = foreign('ext_thing', 'untyped', 'a "q" \\ b\nc', [
      { value: NaN, labels: { a: 'x"y' } },
      { value: Infinity, labels: { env: 'dev' } },
      { value: -Infinity },
      { value: 2.5, labels: {}, metricName: 'ext_thing_custom' },
    ]);
    const events = foreign('ext_events_total', 'counter', 'events', [
      {
        value: 3,
        labels: { kind: 'a\nb' },
        exemplar: { labelSet: { trace_id: 'abc"1', span_id: 's\\1' }, value: 1, timestamp: 1700000000.5 },
      },
      { value: 4, labels: { kind: 'c' }, exemplar: { labelSet: { trace_id: 't' }, value: 2 } },
      { value: 5, labels: { kind: 'd' }, exemplar: { value: 2 } },
    ]);
    m.registry.registerMetric(thing as never);
    m.registry.registerMetric(events as never);
    return m;
  }

  test('text 0.0.4: HELP escapes \\ and newline only, default labels added unless the series has them', async () => {
    const { body } = await setup().expose();
    expect(body).toBe(
      '# HELP ext_thing a "q" \\\\ b\\nc\n' +
        '# TYPE ext_thing untyped\n' +
        'ext_thing{a="x\\"y",env="prod"} NaN\n' +
        'ext_thing{env="dev"} +Inf\n' +
        'ext_thing{env="prod"} -Inf\n' +
        'ext_thing_custom{env="prod"} 2.5\n' +
        '# HELP ext_events_total events\n' +
        '# TYPE ext_events_total counter\n' +
        'ext_events_total{kind="a\\nb",env="prod"} 3\n' +
        'ext_events_total{kind="c",env="prod"} 4\n' +
        'ext_events_total{kind="d",env="prod"} 5\n',
    );
  });

  test('OpenMetrics: untyped is unknown, counters drop _total from the family, exemplars are written', async () => {
    const { body } = await setup().expose('application/openmetrics-text');
    expect(body).toBe(
      '# HELP ext_thing a \\"q\\" \\\\ b\\nc\n' +
        '# TYPE ext_thing unknown\n' +
        'ext_thing{a="x\\"y",env="prod"} NaN\n' +
        'ext_thing{env="dev"} +Inf\n' +
        'ext_thing{env="prod"} -Inf\n' +
        'ext_thing_custom{env="prod"} 2.5\n' +
        '# HELP ext_events events\n' +
        '# TYPE ext_events counter\n' +
        'ext_events_total{kind="a\\nb",env="prod"} 3 # {trace_id="abc\\"1",span_id="s\\\\1"} 1 1700000000.5\n' +
        'ext_events_total{kind="c",env="prod"} 4 # {trace_id="t"} 2\n' +
        'ext_events_total{kind="d",env="prod"} 5\n' +
        '# EOF\n',
    );
  });

  test('without default labels a series with no labels has no braces', async () => {
    const m = createMetrics({ collectDefaultMetrics: false });
    m.registry.registerMetric(foreign('ext_up', 'gauge', 'up', [{ value: 1 }, { value: 0, labels: {} }]) as never);
    expect((await m.expose()).body).toBe('# HELP ext_up up\n# TYPE ext_up gauge\next_up 1\next_up 0\n');
  });

  test('a prom-client counter registered directly keeps its _total sample name in OpenMetrics', async () => {
    const m = createMetrics({ collectDefaultMetrics: false });
    new PromCounter({ name: 'legacy_hits_total', help: 'hits', registers: [m.registry] }).inc(2);
    const { body } = await m.expose('application/openmetrics-text');
    expect(body).toBe('# HELP legacy_hits hits\n# TYPE legacy_hits counter\nlegacy_hits_total 2\n# EOF\n');
  });
});

test('OpenMetrics: only a trailing _total is dropped from a counter family, and _total is added to samples', async () => {
  const m = createMetrics({ collectDefaultMetrics: false });
  m.registry.registerMetric(foreign('ext_total_requests', 'counter', 'r', [{ value: 1 }]) as never);
  m.registry.registerMetric(foreign('ext_jobs', 'counter', 'j', [{ value: 2 }]) as never);
  expect((await m.expose('application/openmetrics-text')).body).toBe(
    '# HELP ext_total_requests r\n# TYPE ext_total_requests counter\next_total_requests_total 1\n' +
      '# HELP ext_jobs j\n# TYPE ext_jobs counter\next_jobs_total 2\n# EOF\n',
  );
  expect((await m.expose()).body).toBe(
    '# HELP ext_total_requests r\n# TYPE ext_total_requests counter\next_total_requests 1\n' +
      '# HELP ext_jobs j\n# TYPE ext_jobs counter\next_jobs 2\n',
  );
});

describe('streamed exposition', () => {
  test('the streamed chunks join to exactly the one-string exposition, in both formats', async () => {
    const m = createMetrics({ collectDefaultMetrics: false, maxSeriesPerMetric: 5000 });
    const c = m.counter({ name: 'stream_events_total', help: 'events', labelNames: ['id'] as const });
    for (let i = 0; i < 3000; i++) c.inc({ id: `series-${i}` }, i);
    m.registry.registerMetric(foreign('ext_a', 'gauge', 'a', [{ value: 1 }]) as never);
    m.registry.registerMetric(foreign('ext_b', 'gauge', 'b', [{ value: 2 }]) as never);
    for (const accept of [undefined, 'application/openmetrics-text']) {
      const whole = (await m.expose(accept)).body;
      const chunks: string[] = [];
      for await (const chunk of m.exposeStream(accept).chunks) chunks.push(chunk);
      expect(chunks.join('')).toBe(whole);
      expect(whole).toContain('stream_events_total{id="series-2999"} 2999\n');
      expect(whole.endsWith('# HELP ext_b b\n# TYPE ext_b gauge\next_b 2\n' + (accept ? '# EOF\n' : ''))).toBe(true);
      expect(whole.split('\n').filter((l) => l.startsWith('stream_events_total{')).length).toBe(3000);
    }
  });
});
