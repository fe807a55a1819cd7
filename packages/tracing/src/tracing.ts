// startTracing(): composes the OpenTelemetry SDK 2.x pieces (BasicTracerProvider,
// AsyncLocalStorage context, propagators) with our sampler, pipeline and sinks, and registers
// them globally until close().
import { context, propagation, trace, type TextMapPropagator, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator } from '@opentelemetry/core';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { resolveConfig, safeUrl, type PropagatorName, type ResolvedConfig, type TracingOptions } from './config';
import { TracingExportError, TracingStateError } from './errors';
import { buildSinks, type ExportLedger } from './exporters';
import { TracingMetrics } from './instrumentation';
import { OwnTraceIds, TraceContextPropagator } from './w3c';
import { PipelineProcessor } from './pipeline';
import { baseSampler, HeadSampler } from './sampling';
import { getActive, INSTRUMENTATION_NAME, setActive } from './state';
import { TraceStore } from './store';

export interface Tracing {
  readonly serviceName: string;
  /** The store of recent traces; undefined with `store: false`. */
  readonly store: TraceStore | undefined;
  readonly tracer: Tracer;
  /** The resolved configuration, safe to show: no OTLP headers, URLs without userinfo or query. */
  readonly config: Omit<ResolvedConfig, 'otlp'> & { otlp: { url: string; timeoutMs: number } };
  /** Tail-sampling buffer occupancy (0 when tail sampling is off). */
  readonly tailBuffer: { traces: number; spans: number };
  /** Exports everything ended so far (decides tail-sampled traces whose root has ended). Rejects with TracingExportError when an exporter fails. */
  forceFlush(): Promise<void>;
  /** Flushes, stops the exporters and unregisters the global provider, context manager and propagator. Idempotent. */
  close(): Promise<void>;
  /** @deprecated The same as close(): `close()` is the shutdown verb of every Periscope package. */
  shutdown(): Promise<void>;
}

function buildPropagator(names: readonly PropagatorName[], ids: OwnTraceIds): TextMapPropagator {
  const list: TextMapPropagator[] = [];
  for (const n of names) {
    if (n === 'tracecontext') list.push(new TraceContextPropagator(ids));
    else if (n === 'baggage') list.push(new W3CBaggagePropagator());
    else if (n === 'b3') list.push(new B3Propagator({ injectEncoding: B3InjectEncoding.SINGLE_HEADER }));
    else if (n === 'b3multi') list.push(new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER }));
  }
  return new CompositePropagator({ propagators: list });
}

/** Builds the provider and its pipeline without registering anything globally (startTracing() and the benchmark). */
export function buildProvider(cfg: ResolvedConfig, options: TracingOptions) {
  const ids = new OwnTraceIds();
  const ledgers = new Map<string, ExportLedger>();
  const metrics = new TracingMetrics(options.metrics, cfg.spanMetrics);
  const store = cfg.store ? new TraceStore(cfg.store.maxTraces, cfg.store.maxSpansPerTrace, metrics) : undefined;
  const pipeline = new PipelineProcessor({
    metrics,
    sinks: buildSinks(cfg, store, metrics, ledgers),
    minDurationMs: cfg.minDurationMs,
    tailSampling: cfg.tailSampling,
    resourceUsage: cfg.resourceUsage,
  });
  // With tail sampling the head records every trace (rules, parent and rate limit still apply); the ratio moves to the tail.
  const base = baseSampler(
    cfg.tailSampling ? (cfg.sampler.startsWith('parentbased') ? 'parentbased_always_on' : 'always_on') : cfg.sampler,
    cfg.samplerRatio,
  );
  const sampler = new HeadSampler(base, cfg.dropRules, cfg.maxSpansPerSecond, metrics);
  const provider = new BasicTracerProvider({
    sampler,
    resource: defaultResource().merge(
      resourceFromAttributes({ ...cfg.resourceAttributes, 'service.name': cfg.serviceName }),
    ),
    spanProcessors: [pipeline],
    idGenerator: ids,
  });
  return { provider, pipeline, store, sampler, ids, ledgers, metrics };
}

/** Starts tracing for this process. Throws TracingConfigError on a bad option or variable, TracingStateError when already started. */
export function startTracing(options: TracingOptions = {}): Tracing {
  const cfg = resolveConfig(options);
  if (getActive())
    throw new TracingStateError(
      'tracing is already started in this process; call close() on the running instance first',
    );
  const { provider, pipeline, store, sampler, ids, ledgers, metrics } = buildProvider(cfg, options);
  const propagator = buildPropagator(cfg.propagators, ids);
  const contextManager = new AsyncLocalStorageContextManager().enable();

  if (!trace.setGlobalTracerProvider(provider)) {
    contextManager.disable();
    void pipeline.shutdown();
    throw new TracingStateError(
      'another OpenTelemetry tracer provider is already registered globally; shut it down before startTracing()',
    );
  }
  // Without our context manager spans would not nest: refuse rather than trace wrongly.
  if (!context.setGlobalContextManager(contextManager)) {
    trace.disable();
    contextManager.disable();
    void pipeline.shutdown();
    throw new TracingStateError(
      'another OpenTelemetry context manager is already registered globally; disable it before startTracing()',
    );
  }
  propagation.setGlobalPropagator(propagator);

  const tracer = provider.getTracer(INSTRUMENTATION_NAME);
  setActive({
    tracer,
    captureContent: cfg.captureContent,
    contentMaxLength: cfg.contentMaxLength,
    redact: options.redact,
    propagator,
    contextManager,
    sampler,
  });

  let shutdownPromise: Promise<void> | undefined;
  const { otlp, ...rest } = cfg;
  return {
    serviceName: cfg.serviceName,
    store,
    tracer,
    config: {
      ...rest,
      zipkinUrl: safeUrl(rest.zipkinUrl),
      otlp: { url: safeUrl(otlp.url), timeoutMs: otlp.timeoutMs },
    },
    get tailBuffer() {
      return { traces: pipeline.tail?.bufferedTraces ?? 0, spans: pipeline.tail?.bufferedSpans ?? 0 };
    },
    async forceFlush() {
      try {
        await pipeline.forceFlush();
      } catch (e) {
        throw new TracingExportError(`span export failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    },
    close() {
      shutdownPromise ??= (async () => {
        try {
          await boundedShutdown(provider, cfg.closeTimeoutMs, ledgers, metrics);
        } finally {
          setActive(undefined);
          trace.disable();
          context.disable();
          propagation.disable();
        }
      })();
      return shutdownPromise;
    },
    shutdown() {
      return this.close();
    },
  };
}

/**
 * Shuts the provider down, but never waits past `timeoutMs`: with the collector down the SDK
 * would retry each batch for its whole export timeout, twice (flush, then shutdown). Spans not
 * exported by then are counted as dropped and reported in one line, so the loss is visible.
 */
async function boundedShutdown(
  provider: BasicTracerProvider,
  timeoutMs: number,
  ledgers: Map<string, ExportLedger>,
  metrics: TracingMetrics,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const done = provider.shutdown().then(
    () => 'done' as const,
    () => 'done' as const,
  );
  const outcome = await Promise.race([done, deadline]);
  clearTimeout(timer);
  const lost: string[] = [];
  for (const [name, ledger] of ledgers) {
    const pending = outcome === 'timeout' ? ledger.pending : 0;
    if (pending > 0) metrics.drop('close_timeout', pending);
    if (pending + ledger.failed > 0) lost.push(`${name}: ${pending + ledger.failed}`);
  }
  if (lost.length > 0) {
    process.stderr.write(
      `periscope tracing: ${lost.join(', ')} span(s) not exported` +
        (outcome === 'timeout' ? ` (close gave up after ${timeoutMs} ms)` : '') +
        '\n',
    );
  }
}
