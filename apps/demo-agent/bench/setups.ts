// The observability set-ups the demo bench compares, composed from the packages' public APIs the
// way the demo's startTelemetry() does, with one switch per part so a run can leave one part out.
import { Writable } from 'node:stream';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { redactString } from '@periscope/core';
import { createMetrics, type Metrics } from '@periscope/metrics';
import { createLogAggregator, createLogger, type PeriscopeLogger } from '@periscope/logging';
import { startTracing, type Tracing, type TracingOptions } from '@periscope/tracing';
import { startHeapProfiler, startProfiler, type ProfilerStats } from '@periscope/profiling';

export type Part = 'tracing' | 'metrics' | 'logging' | 'profiler';
export const PARTS: readonly Part[] = ['tracing', 'metrics', 'logging', 'profiler'];
/** `context` (tracing only): no tracing SDK, but the context manager the SDK registers — what context propagation alone costs. */
export type Level = 'off' | 'prod' | 'all' | 'context';

/** What each part runs at: `off` (the floor), `prod` (production defaults from the READMEs' documented options) or `all` (everything). */
export type SetupSpec = Record<Part, Level>;

export interface Setup {
  metrics: Metrics;
  logger: PeriscopeLogger;
  tracing: Tracing | undefined;
  /** The continuous CPU profiler's counters (windows rotated, their pauses), when it runs. */
  profilerStats?: () => ProfilerStats;
  close(): Promise<void>;
}

const SERVICE = 'periscope-demo-agent';
// Options win over the environment, but an unset option reads it: pin it empty so a stray
// OTEL_* or PERISCOPE_* variable on the machine cannot change what a configuration means.
const env = {};

/** A stream that accepts every line and keeps none: what the log lines cost without the disk. */
export function discardingStream(): Writable {
  return new Writable({ write: (_chunk, _encoding, done) => done() });
}

export function everyPart(level: Level): SetupSpec {
  return { tracing: level, metrics: level, logging: level, profiler: level };
}

function metricsFor(level: Level): Metrics {
  if (level === 'off') return createMetrics({ enabled: false, env });
  // The demo registers prom-client's default Node metrics; exemplars are on by default.
  return createMetrics({ collectDefaultMetrics: true, exemplars: true, env });
}

function loggerFor(level: Level, metrics: Metrics): PeriscopeLogger {
  const destination = discardingStream();
  if (level === 'off') return createLogger({ service: SERVICE, level: 'warn', format: 'json', destination, env });
  // As the demo wires it: JSON lines, the aggregator (recent records, patterns, alerts) beside them.
  const aggregator = createLogAggregator({ metrics });
  return createLogger({
    service: SERVICE,
    level: level === 'all' ? 'debug' : 'info',
    format: 'json',
    destination,
    aggregator,
    metrics,
    env,
  });
}

/**
 * Production: what the tracing README's "In production" recommends — 10 % of traces decided at the
 * head (`parentbased_traceidratio` 0.1: the other 90 % are non-recording and cost little), the
 * in-process store on (it backs /debug/traces), span metrics with the registry. Tail sampling is
 * the README's opt-in (it records every span until the trace is decided). Everything: every span
 * recorded and stored.
 */
function tracingFor(level: Level, metrics: Metrics): Tracing | undefined {
  if (level === 'off') return undefined;
  if (level === 'context') {
    // The manager startTracing() registers; every trace() wrapper still runs context.with(), so
    // the AsyncLocalStorage propagation over every promise is paid while no span is recorded.
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    return undefined;
  }
  const common: TracingOptions = { serviceName: SERVICE, exporter: 'memory', redact: redactString, env };
  if (level === 'prod')
    return startTracing({ ...common, metrics, sampler: 'parentbased_traceidratio', samplerRatio: 0.1 });
  return startTracing({
    ...common,
    metrics,
    spanMetrics: true,
    sampler: 'always_on',
    store: { maxTraces: 1000, maxSpansPerTrace: 1000 },
  });
}

function profilersFor(level: Level): { stop: () => Promise<unknown>; stats?: () => ProfilerStats } {
  if (level === 'off') return { stop: async () => undefined };
  // The demo's boot.ts: the continuous CPU profiler (100 Hz and 10 s windows, the defaults) and the heap sampler.
  const cpu = startProfiler({ hz: 100, labels: { service: SERVICE }, env });
  const heap = startHeapProfiler({ labels: { service: SERVICE }, env });
  return { stop: () => Promise.all([cpu.close(), heap.close()]), stats: () => cpu.stats() };
}

/** Starts the parts as `spec` says; `close()` stops them in reverse (traces flush first). */
export function startSetup(spec: SetupSpec): Setup {
  const profilers = profilersFor(spec.profiler);
  const metrics = metricsFor(spec.metrics);
  const logger = loggerFor(spec.logging, metrics);
  const tracing = tracingFor(spec.tracing, metrics);
  return {
    metrics,
    logger,
    tracing,
    profilerStats: profilers.stats,
    async close() {
      await tracing?.close();
      if (spec.tracing === 'context') context.disable();
      await profilers.stop();
      await logger.shutdown();
      metrics.close();
    },
  };
}
