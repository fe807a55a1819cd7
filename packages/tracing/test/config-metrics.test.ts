import { trace as otelTrace } from '@opentelemetry/api';
import { createMetrics, OPENMETRICS_CONTENT_TYPE } from '@periscope/metrics';
import { startTracing, trace, TracingConfigError, type MetricLabels, type MetricsLike, type Tracing } from '../src';
import { sleep, startMemory } from './helpers';

describe('configuration', () => {
  let tracing: Tracing | undefined;
  afterEach(async () => {
    await tracing?.close();
    tracing = undefined;
  });

  it('reads the standard OTEL_* variables when options are absent; options win', () => {
    tracing = startTracing({
      env: {
        OTEL_SERVICE_NAME: 'from-env',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
        OTEL_TRACES_EXPORTER: 'zipkin, file',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'http://zipkin:9411/api/v2/spans',
        OTEL_PROPAGATORS: 'tracecontext,baggage,b3multi',
        OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true',
        PERISCOPE_TRACING_MAX_SPANS_PER_SECOND: '50',
        PERISCOPE_TRACING_TAIL_SAMPLING: 'yes', // one boolean syntax in every package
        PERISCOPE_TRACING_SLOWER_THAN_MS: '250',
        PERISCOPE_TRACING_MIN_DURATION_MS: '2',
      },
    });
    expect(tracing.serviceName).toBe('from-env');
    expect(tracing.config).toMatchObject({
      sampler: 'parentbased_traceidratio',
      samplerRatio: 0.25,
      exporters: ['zipkin', 'file'],
      zipkinUrl: 'http://zipkin:9411/api/v2/spans',
      otlp: { url: 'http://collector:4318/v1/traces' },
      propagators: ['tracecontext', 'baggage', 'b3multi'],
      captureContent: true,
      maxSpansPerSecond: 50,
      minDurationMs: 2,
      tailSampling: { slowerThanMs: 250, ratio: 0.25 },
    });
  });

  it('defaults: memory only, parent-based always on, W3C + baggage, no content, store on', () => {
    tracing = startTracing({ env: {} });
    expect(tracing.config).toMatchObject({
      serviceName: 'unknown_service:node',
      exporters: ['memory'],
      sampler: 'parentbased_always_on',
      propagators: ['tracecontext', 'baggage'],
      captureContent: false,
      tailSampling: undefined,
      maxSpansPerSecond: undefined,
      minDurationMs: 0,
      spanMetrics: false,
      resourceUsage: false,
      otlp: { url: 'http://localhost:4318/v1/traces' },
      store: { maxTraces: 200, maxSpansPerTrace: 1000 },
    });
    expect(tracing.store).toBeDefined();
  });

  it.each([
    [
      { exporter: 'jaeger' },
      /invalid exporter: expected a list of otlp, zipkin, console, file, memory, none, got "jaeger"/,
    ],
    [
      { env: { OTEL_TRACES_EXPORTER: 'otlp,kafka' } },
      /invalid OTEL_TRACES_EXPORTER: expected a list of .*, got "kafka"/,
    ],
    [
      { env: { OTEL_TRACES_SAMPLER: 'sometimes' } },
      /invalid OTEL_TRACES_SAMPLER: expected one of always_on, always_off, traceidratio, .*got "sometimes"/,
    ],
    [
      { env: { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' } },
      /invalid OTEL_TRACES_SAMPLER_ARG: expected a number in \[0, 1\], got 2/,
    ],
    [{ samplerRatio: -0.1 }, /samplerRatio/],
    [
      { env: { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' } },
      /invalid OTEL_EXPORTER_OTLP_PROTOCOL: expected one of http\/protobuf, got "grpc"/,
    ],
    [{ otlp: { endpoint: 'collector:4318' } }, /invalid otlp.endpoint: expected a URL \(http: or https:\)/],
    [{ env: { OTEL_PROPAGATORS: 'xray' } }, /invalid OTEL_PROPAGATORS: expected a list of .*, got "xray"/],
    [{ maxSpansPerSecond: Number.NaN }, /maxSpansPerSecond/],
    [
      { env: { PERISCOPE_TRACING_TAIL_SAMPLING: 'maybe' } },
      /invalid PERISCOPE_TRACING_TAIL_SAMPLING: expected a boolean \(true\/false, 1\/0, yes\/no, on\/off\), got "maybe"/,
    ],
    [{ tailSampling: { maxTraces: 0 } }, /invalid tailSampling.maxTraces: expected an integer >= 1, got 0/],
    [{ env: { OTEL_RESOURCE_ATTRIBUTES: 'novalue' } }, /OTEL_RESOURCE_ATTRIBUTES/],
    [{ sampleRatio: 0.5 } as never, /invalid sampleRatio: .*did you mean samplerRatio\?/],
    [{ serviceName: '' }, /invalid serviceName: expected a non-empty string, got ""/],
    [{ metrics: {} as MetricsLike }, /metrics.*histogram\(\) and counter\(\)/],
  ])('rejects %j with one clear TracingConfigError', (options, message) => {
    let err: unknown;
    try {
      tracing = startTracing({ env: {}, ...(options as object) });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TracingConfigError);
    expect((err as TracingConfigError).code).toBe('ERR_TRACING_CONFIG');
    expect((err as Error).message).toMatch(message);
  });

  it('shows no credentials in the resolved config', () => {
    tracing = startTracing({
      exporter: 'memory',
      otlp: { endpoint: 'https://user:s3cret@collector:4318', headers: { authorization: 'Bearer abc' } },
      env: {},
    });
    const text = JSON.stringify(tracing.config);
    expect(text).not.toMatch(/s3cret|Bearer abc/);
    expect(tracing.config.otlp.url).toBe('https://user:[REDACTED]@collector:4318/v1/traces');
  });

  it('never echoes credentials of a bad endpoint', () => {
    let err: unknown;
    try {
      tracing = startTracing({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://user:hunter2@host/x?token=abc' } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TracingConfigError);
    expect((err as Error).message).toMatch(
      /OTEL_EXPORTER_OTLP_ENDPOINT: expected a URL .*, got "ftp:\/\/user:\[REDACTED\]@host\/x/,
    );
    expect((err as Error).message).not.toMatch(/hunter2|token=abc/);
  });
});

describe('span metrics', () => {
  let tracing: Tracing;
  afterEach(() => tracing.close());

  it('feeds RED metrics per span name and status into a @periscope/metrics registry, with the trace id as exemplar', async () => {
    const metrics = createMetrics();
    tracing = startMemory({ metrics });
    const okId = await trace('db.query', async (s) => {
      await sleep(5);
      return s.spanContext().traceId;
    });
    trace('db.query', () => undefined);
    try {
      trace('llm.call', () => {
        throw new Error('x');
      });
    } catch {
      /* recorded */
    }
    const { body } = await metrics.expose();
    expect(body).toMatch(/periscope_tracing_spans_total\{span_name="db.query",status="unset"\} 2/);
    expect(body).toMatch(/periscope_tracing_spans_total\{span_name="llm.call",status="error"\} 1/);
    expect(body).toMatch(/periscope_tracing_span_duration_seconds_count\{span_name="db.query",status="unset"\} 2/);
    const om = await metrics.expose(OPENMETRICS_CONTENT_TYPE);
    expect(om.body).toMatch(
      /periscope_tracing_span_duration_seconds_bucket\{span_name="db.query",status="unset",le="[\d.]+"\} \d+ # \{trace_id="[0-9a-f]{32}",span_id="[0-9a-f]{16}"\}/,
    );
    expect(om.body).toContain(`trace_id="${okId}"`);
  });

  it('observes inside the span context, so any registry that reads the active span sees it', () => {
    const seen: { name: string; traceId?: string }[] = [];
    const recorder: MetricsLike = {
      histogram: () => ({
        observe: (labels: MetricLabels) =>
          seen.push({ name: String(labels.span_name), traceId: otelTrace.getActiveSpan()?.spanContext().traceId }),
      }),
      counter: () => ({ inc: () => undefined }),
    };
    tracing = startMemory({ metrics: recorder });
    const id = trace('op', (s) => s.spanContext().traceId);
    expect(seen).toEqual([{ name: 'op', traceId: id }]);
    expect(otelTrace.getActiveSpan()).toBeUndefined();
  });

  it('works without metrics, and spanMetrics: false keeps only the package counters', async () => {
    tracing = startMemory();
    expect(() => trace('x', () => undefined)).not.toThrow();
    await tracing.close();
    const metrics = createMetrics();
    tracing = startMemory({ metrics, spanMetrics: false });
    trace('x', () => undefined);
    expect((await metrics.expose()).body).not.toContain('periscope_tracing_spans_total{');
  });
});

describe('resource usage', () => {
  let tracing: Tracing;
  afterEach(() => tracing.close());

  it('adds CPU time and heap delta to local root spans only, when enabled', () => {
    tracing = startMemory({ resourceUsage: true });
    const id = trace('root', (s) => {
      trace('child', () => {
        // Burn until this process has spent 5 ms of user CPU (a loop count is no CPU time on a loaded machine).
        const start = process.cpuUsage().user;
        let x = 0;
        while (process.cpuUsage().user - start < 5000) for (let i = 0; i < 1e4; i++) x += i;
        return x;
      });
      return s.spanContext().traceId;
    });
    const spans = tracing.store!.getTrace(id)!.spans;
    const root = spans.find((s) => s.name === 'root')!;
    expect(root.attributes['process.cpu.user_time_ms']).toBeGreaterThan(0);
    expect(typeof root.attributes['process.cpu.system_time_ms']).toBe('number');
    expect(typeof root.attributes['process.heap.delta_bytes']).toBe('number');
    expect(spans.find((s) => s.name === 'child')!.attributes['process.cpu.user_time_ms']).toBeUndefined();
  });

  it('is off by default', () => {
    tracing = startMemory();
    const id = trace('root', (s) => s.spanContext().traceId);
    expect(tracing.store!.getTrace(id)!.spans[0].attributes['process.cpu.user_time_ms']).toBeUndefined();
  });
});
