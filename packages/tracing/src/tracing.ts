// startTracing(): our sampler, span pipeline, id generator, propagator and AsyncLocalStorage
// context manager, registered globally until close(). With contrib instrumentations requested it
// starts through OpenTelemetry's NodeSDK (which registers them); without, through a plain
// BasicTracerProvider, because requiring sdk-node loads every exporter it knows, gRPC included
// (~2 s on a loaded 2-core VM against ~0.6 s), a cost no one asked for.
import {
  context,
  propagation,
  trace,
  ProxyTracerProvider,
  type TextMapPropagator,
  type TracerProvider,
  type Tracer,
} from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator } from '@opentelemetry/core';
import type * as B3 from '@opentelemetry/propagator-b3';
import { defaultResource, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { NodeSDK } from '@opentelemetry/sdk-node';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { resolveConfig, safeUrl, type PropagatorName, type ResolvedConfig, type TracingOptions } from './config';
import { TracingConfigError, TracingExportError, TracingStateError } from './errors';
import { buildSinks, type ExportLedger } from './exporters';
import { TracingMetrics, type MetricsLike } from './instrumentation';
import { createInstrumentations, type LoadedInstrumentation } from './instrumentations';
import { OwnTraceIds, TraceContextPropagator } from './w3c';
import { warnOnApiCopies } from './api-copies';
import { PipelineProcessor } from './pipeline';
import { ParentDecidingProvider } from './unsampled-children';
import { processResourceAttributes } from './resource';
import { baseSampler, HeadSampler } from './sampling';
import { getActive, INSTRUMENTATION_NAME, setActive } from './state';
import { TraceStore } from './store';
import { PACKAGE_VERSION } from './version';

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
  /** Flushes, stops the exporters, disables the instrumentations and unregisters the global provider, context manager and propagator. Idempotent; settles within closeTimeoutMs. */
  close(): Promise<void>;
  /** @deprecated The same as close(): `close()` is the shutdown verb of every Periscope package. */
  shutdown(): Promise<void>;
  /**
   * Options that cannot come from the environment, for a tracing started by the register entry
   * (`node --import @periscope/tracing/register`): the registry of its own metrics (once; throws
   * TracingStateError when it already has one) and the redactor of content and exception text.
   * `closedByApp: true`: the app closes tracing in its own shutdown, after draining its requests,
   * so the register entry does not close it at SIGTERM (their spans would be lost); it still
   * closes it when the event loop empties.
   */
  configure(options: { metrics?: MetricsLike; redact?: (text: string) => string; closedByApp?: boolean }): void;
}

let running: Tracing | undefined;
const closedByApp = new WeakSet<Tracing>();

/** Whether the app took over closing this tracing (Tracing.configure({ closedByApp: true })). */
export function isClosedByApp(tracing: Tracing): boolean {
  return closedByApp.has(tracing);
}

/** The tracing running in this process (started by startTracing() or the register entry), if any. */
export function getTracing(): Tracing | undefined {
  return running;
}

function buildPropagator(names: readonly PropagatorName[], ids: OwnTraceIds): TextMapPropagator {
  const list: TextMapPropagator[] = [];
  for (const n of names) {
    if (n === 'tracecontext') list.push(new TraceContextPropagator(ids));
    else if (n === 'baggage') list.push(new W3CBaggagePropagator());
    else if (n === 'b3' || n === 'b3multi') {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- B3 is loaded only when configured
      const b3 = require('@opentelemetry/propagator-b3') as typeof B3;
      const encoding = n === 'b3' ? b3.B3InjectEncoding.SINGLE_HEADER : b3.B3InjectEncoding.MULTI_HEADER;
      list.push(new b3.B3Propagator({ injectEncoding: encoding }));
    }
  }
  return new CompositePropagator({ propagators: list });
}

/** The resource of every span: SDK defaults, host and process, OTEL_RESOURCE_ATTRIBUTES, then the options. */
function buildResource(cfg: ResolvedConfig): Resource {
  return defaultResource().merge(
    resourceFromAttributes({
      ...processResourceAttributes(),
      ...cfg.resourceAttributes,
      'service.name': cfg.serviceName,
    }),
  );
}

/** Our sampler, pipeline, store and id generator: the parts registered on whichever provider runs them. */
export function buildPipeline(cfg: ResolvedConfig, options: TracingOptions) {
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
  return { pipeline, store, sampler, ids, ledgers, metrics, resource: buildResource(cfg) };
}

/** A provider with our pipeline that registers nothing globally (the benchmark's second provider). */
export function buildProvider(cfg: ResolvedConfig, options: TracingOptions) {
  const parts = buildPipeline(cfg, options);
  const provider = new BasicTracerProvider({
    sampler: parts.sampler,
    resource: parts.resource,
    spanProcessors: [parts.pipeline],
    idGenerator: parts.ids,
  });
  return { provider, ...parts };
}

/** The provider the global API hands out now (the no-op one when none is registered). */
function globalProvider(): TracerProvider {
  const p = trace.getTracerProvider();
  return p instanceof ProxyTracerProvider ? p.getDelegate() : p;
}

type SdkConfig = NonNullable<ConstructorParameters<typeof NodeSDK>[0]>;

/** Starts NodeSDK with our parts; throws TracingStateError (and undoes what it did) when another SDK holds a global. */
function startSdk(
  parts: ReturnType<typeof buildPipeline>,
  propagator: TextMapPropagator,
  instrumentations: LoadedInstrumentation[],
): { sdk: NodeSDK; tracer: Tracer; contextManager: AsyncLocalStorageContextManager } {
  const contextManager = new AsyncLocalStorageContextManager();
  const before = globalProvider();
  const Sdk = loadNodeSdk();
  const sdk = new Sdk({
    // Our resource only: the stock detectors would put the command line (secrets) in it and let the
    // environment override explicit options.
    autoDetectResources: false,
    resource: parts.resource,
    sampler: parts.sampler,
    spanProcessors: [parts.pipeline],
    idGenerator: parts.ids,
    contextManager,
    textMapPropagator: propagator,
    instrumentations: instrumentations as unknown as SdkConfig['instrumentations'],
    // No metrics or logs pipelines: the SDK would otherwise start OTLP exporters for both by default.
    metricReaders: [],
    logRecordProcessors: [],
  } as Partial<SdkConfig>);
  sdk.start();
  const provider = globalProvider();
  const probe = context.active().setValue(Symbol('periscope probe'), 1);
  const ownsContext = contextManager.with(probe, () => context.active() === probe);
  if (provider === before || !ownsContext) {
    for (const i of instrumentations) i.disable();
    if (provider !== before) {
      trace.disable();
      propagation.disable();
    }
    if (ownsContext) context.disable();
    contextManager.disable();
    void sdk.shutdown().catch(() => undefined);
    throw new TracingStateError(
      provider === before
        ? 'another OpenTelemetry tracer provider is already registered globally (or OTEL_SDK_DISABLED is set); shut it down before startTracing()'
        : 'another OpenTelemetry context manager is already registered globally; disable it before startTracing()',
    );
  }
  return { sdk, tracer: provider.getTracer(INSTRUMENTATION_NAME, PACKAGE_VERSION), contextManager };
}

/** sdk-node is an optional peer: needed only with contrib instrumentations (it is large: gRPC and every exporter). */
function loadNodeSdk(): typeof NodeSDK {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when instrumentations are asked for
    return (require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node')).NodeSDK;
  } catch {
    throw new TracingConfigError(
      'instrumentations',
      'the @opentelemetry/sdk-node package installed (npm install @opentelemetry/sdk-node@~0.223.0)',
      'sdk-node missing',
    );
  }
}

/** Registers a plain provider with our parts (no instrumentations asked for); same checks as startSdk(). */
function startPlain(
  parts: ReturnType<typeof buildPipeline>,
  propagator: TextMapPropagator,
): { sdk: Closable; tracer: Tracer; contextManager: AsyncLocalStorageContextManager } {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  const provider = new BasicTracerProvider({
    resource: parts.resource,
    sampler: parts.sampler,
    spanProcessors: [parts.pipeline],
    idGenerator: parts.ids,
  });
  // Tracers handed out through the global API answer children of unsampled parents themselves.
  const registered = parts.sampler.parentDecides
    ? new ParentDecidingProvider(provider, { ids: parts.ids, rootRecords: (id) => parts.sampler.rootRecords(id) })
    : provider;
  const ownsTrace = trace.setGlobalTracerProvider(registered);
  const ownsContext = context.setGlobalContextManager(contextManager);
  if (!ownsTrace || !ownsContext) {
    if (ownsTrace) trace.disable();
    if (ownsContext) context.disable();
    contextManager.disable();
    void provider.shutdown().catch(() => undefined);
    throw new TracingStateError(
      !ownsTrace
        ? 'another OpenTelemetry tracer provider is already registered globally; shut it down before startTracing()'
        : 'another OpenTelemetry context manager is already registered globally; disable it before startTracing()',
    );
  }
  propagation.setGlobalPropagator(propagator);
  return { sdk: provider, tracer: registered.getTracer(INSTRUMENTATION_NAME, PACKAGE_VERSION), contextManager };
}

/** What close() shuts down: the NodeSDK, or the plain provider. */
interface Closable {
  shutdown(): Promise<void>;
}

/** Starts tracing for this process. Throws TracingConfigError on a bad option or variable (or a missing instrumentation package), TracingStateError when already started. */
export function startTracing(options: TracingOptions = {}): Tracing {
  const cfg = resolveConfig(options);
  warnOnApiCopies();
  if (getActive())
    throw new TracingStateError(
      'tracing is already started in this process; call close() on the running instance first',
    );
  const parts = buildPipeline(cfg, options);
  const { pipeline, store, sampler, ids, ledgers, metrics } = parts;
  let instrumentations: LoadedInstrumentation[];
  try {
    instrumentations = createInstrumentations(cfg.instrumentations, sampler);
  } catch (e) {
    void pipeline.shutdown();
    throw e;
  }
  const propagator = buildPropagator(cfg.propagators, ids);
  const { sdk, tracer, contextManager } =
    instrumentations.length > 0 ? startSdk(parts, propagator, instrumentations) : startPlain(parts, propagator);
  setActive({
    tracer,
    captureContent: cfg.captureContent,
    contentMaxLength: cfg.contentMaxLength,
    redact: options.redact,
    propagator,
    contextManager,
    sampler,
    autoInstrumented: new Set(cfg.instrumentations),
  });

  let shutdownPromise: Promise<void> | undefined;
  const { otlp, ...rest } = cfg;
  running = {
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
        for (const i of instrumentations) i.disable();
        try {
          await boundedShutdown(sdk, cfg.closeTimeoutMs, ledgers, metrics);
        } finally {
          running = undefined;
          setActive(undefined);
          trace.disable();
          context.disable();
          propagation.disable();
          logs.disable();
        }
      })();
      return shutdownPromise;
    },
    shutdown() {
      return this.close();
    },
    configure(late) {
      if (shutdownPromise) return;
      configureLate(late, metrics, options);
      if (late.closedByApp) closedByApp.add(this);
    },
  };
  return running;
}

/** Tracing.configure(): the registry (once) and the redactor of a running instance. */
function configureLate(late: Parameters<Tracing['configure']>[0], metrics: TracingMetrics, options: TracingOptions) {
  if (late.metrics) {
    if (metrics.bound) throw new TracingStateError('tracing already reports its metrics to a registry');
    metrics.bind(late.metrics, options.spanMetrics ?? true);
  }
  const state = getActive();
  if (late.redact && state) setActive({ ...state, redact: late.redact });
}

/**
 * Shuts the provider down, but never waits past `timeoutMs`: with the collector down the SDK
 * would retry each batch for its whole export timeout, twice (flush, then shutdown). Spans not
 * exported by then are counted as dropped and reported in one line, so the loss is visible.
 */
async function boundedShutdown(
  sdk: Closable,
  timeoutMs: number,
  ledgers: Map<string, ExportLedger>,
  metrics: TracingMetrics,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const done = sdk.shutdown().then(
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
