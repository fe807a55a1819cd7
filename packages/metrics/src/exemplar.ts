// Exemplars: the trace of one recent recording, linking a series to a trace in Tempo/Jaeger.
// Read through @opentelemetry/api only, so this costs one context lookup when no SDK is started.
import { trace, TraceFlags } from '@opentelemetry/api';
import { escapeLabelValue, formatValue } from './labels';

export interface Exemplar {
  traceId: string;
  spanId: string;
  value: number;
  /** Unix time in milliseconds. */
  timestampMs: number;
}

// Where @opentelemetry/api 1.x keeps its registered globals. The holder object appears when an
// SDK registers its first global and stays; until then no span can be active. Looking it up on
// globalThis costs ~10-15 ns (a miss walks the global object's prototype chain), too much for a
// hot path whose whole budget is a few ns, so it is cached and looked up again only off the hot
// path: when a Metrics object, a metric or a series is created, and on every exposition.
const OTEL_API_GLOBAL = Symbol.for('opentelemetry.js.api.1');
const globals = globalThis as unknown as Record<symbol, { context?: unknown } | undefined>;
let otelApi: { context?: unknown } | undefined;

export function refreshTracingGlobals(): void {
  if (otelApi === undefined) otelApi = globals[OTEL_API_GLOBAL];
}

/**
 * The exemplar for a recording when a sampled span is active, else undefined. `reuse` (the
 * series' previous exemplar) is updated in place, so traced hot paths do not allocate.
 */
export function captureExemplar(value: number, reuse?: Exemplar): Exemplar | undefined {
  const api = otelApi;
  if (api === undefined || api.context === undefined) return undefined;
  const span = trace.getActiveSpan();
  if (span === undefined) return undefined;
  const ctx = span.spanContext();
  if ((ctx.traceFlags & TraceFlags.SAMPLED) === 0) return undefined;
  if (reuse === undefined) return { traceId: ctx.traceId, spanId: ctx.spanId, value, timestampMs: Date.now() };
  reuse.traceId = ctx.traceId;
  reuse.spanId = ctx.spanId;
  reuse.value = value;
  reuse.timestampMs = Date.now();
  return reuse;
}

/** OpenMetrics exemplar suffix: ` # {trace_id="…",span_id="…"} value timestamp`. */
export function formatExemplar(ex: Exemplar): string {
  return ` # {trace_id="${escapeLabelValue(ex.traceId)}",span_id="${escapeLabelValue(ex.spanId)}"} ${formatValue(ex.value)} ${(ex.timestampMs / 1000).toFixed(3)}`;
}
