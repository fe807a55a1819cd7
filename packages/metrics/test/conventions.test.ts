// The house conventions as a user meets them: one boolean syntax for every PERISCOPE_* flag,
// unknown options refused with a suggestion, config errors from core, and the registry usable
// wherever a package asks for core's MetricsSink.
import { ConfigError, type MetricsSink } from '@periscope/core';
import { createMetrics, MetricsConfigError } from '../src';

describe('configuration through @periscope/core', () => {
  test('an unknown option fails at start, naming the nearest known one', () => {
    expect(() => createMetrics({ maxSeries: 10 } as never)).toThrow(MetricsConfigError);
    expect(() => createMetrics({ maxSeries: 10 } as never)).toThrow(/maxSeries.*did you mean maxSeriesPerMetric\?/);
  });

  test('the config error is a core ConfigError with the package code', () => {
    let thrown: unknown;
    try {
      createMetrics({ maxSeriesPerMetric: 0 });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(thrown).toMatchObject({ code: 'ERR_METRICS_CONFIG', option: 'maxSeriesPerMetric' });
  });

  test.each(['yes', 'on', 'TRUE', '1'])('PERISCOPE_METRICS_EXEMPLARS=%s reads as true, like every flag', (v) => {
    expect(() => createMetrics({ env: { PERISCOPE_METRICS_EXEMPLARS: v } })).not.toThrow();
  });

  test('PERISCOPE_METRICS_ENABLED=no switches metrics off even over an explicit option', async () => {
    const m = createMetrics({ enabled: true, env: { PERISCOPE_METRICS_ENABLED: 'no' } });
    m.counter({ name: 'off_total', help: 'x' }).inc();
    expect((await m.expose()).body).not.toMatch(/^off_total 1$/m);
  });

  test('a bad environment value names the variable', () => {
    expect(() => createMetrics({ env: { PERISCOPE_METRICS_MAX_SERIES: 'lots' } })).toThrow(
      /PERISCOPE_METRICS_MAX_SERIES: expected an integer >= 1, got "lots"/,
    );
  });

  test('host interval accepts durations in the environment', () => {
    const m = createMetrics({ env: { PERISCOPE_METRICS_HOST_INTERVAL_MS: '2s' } });
    m.close();
  });

  test('the registry fits core MetricsSink, so floor-1 packages accept it', () => {
    const sink: MetricsSink = createMetrics();
    sink.counter({ name: 'sink_total', help: 'x', labelNames: ['k'] }).inc({ k: 'a' });
    sink.histogram({ name: 'sink_seconds', help: 'x', labelNames: ['k'], buckets: [1] }).observe({ k: 'a' }, 0.5);
    sink.gauge({ name: 'sink_gauge', help: 'x', labelNames: ['k'] }).set({ k: 'a' }, 3);
  });
});

describe('label value escaping (each special character alone)', () => {
  test.each([
    ['"', '\\"'],
    ['\\', '\\\\'],
    ['\n', '\\n'],
    ['a"b', 'a\\"b'],
  ])('value %j is written as %j in both formats', async (raw, escaped) => {
    const m = createMetrics();
    m.counter({ name: 'esc_total', help: 'x', labelNames: ['v'] as const }).inc({ v: raw });
    for (const accept of ['text/plain', 'application/openmetrics-text']) {
      const body = (await m.expose(accept)).body;
      expect(body).toContain(`esc_total{v="${escaped}"} 1`);
    }
  });
});
