// The OTEL_EXPORTER_OTLP_* variables for traces, read as @periscope/metrics reads them for metrics:
// the generic variable, the per-signal one over it, the option over both.
import { TracingConfigError } from '../src';
import { resolveConfig } from '../src/config';

describe('OTLP endpoint configuration for traces', () => {
  it('merges headers generic < per-signal < option and reads the per-signal timeout first', () => {
    const cfg = resolveConfig({
      exporter: 'otlp',
      otlp: { headers: { b: '3' } },
      env: {
        OTEL_EXPORTER_OTLP_HEADERS: 'a=1,Authorization=Bearer%20s3cret',
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'a=2',
        OTEL_EXPORTER_OTLP_TIMEOUT: '5s',
        OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '1500',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      },
    });
    expect(cfg.otlp).toEqual({
      url: 'http://collector:4318/v1/traces',
      headers: { a: '2', authorization: 'Bearer s3cret', b: '3' },
      timeoutMs: 1500,
    });
    expect(resolveConfig({ env: { OTEL_EXPORTER_OTLP_TIMEOUT: '5s' } }).otlp.timeoutMs).toBe(5000);
  });

  it('refuses a malformed header entry without echoing its value', () => {
    let error: unknown;
    try {
      resolveConfig({ env: { OTEL_EXPORTER_OTLP_HEADERS: 'authorization-Bearer-s3cret' } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TracingConfigError);
    expect((error as Error).message).toMatch(
      /^invalid OTEL_EXPORTER_OTLP_HEADERS: expected comma-separated key=value pairs/,
    );
    expect((error as Error).message).not.toContain('s3cret');
  });
});
