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

// The active span is read through the public API (`trace.getActiveSpan()`). That lookup costs
// ~30 ns even when no SDK is started, too much for a bound inc() whose whole budget is ~5 ns, so
// it is skipped while no context manager is registered: without one no span can be active.
// Whether one is registered is checked the way @opentelemetry/api keys its own globals —
// `Symbol.for('opentelemetry.js.api.<major>')`, major 1 being what our peer range (^1.9.0) admits —
// and only off the hot path (when a Metrics object, a metric or a series is created, and on every
// exposition). A holder whose version is not 1.x means an API copy we do not know: every call
// then takes the public path (correct, only slower).
const API_MAJOR = '1';
const OTEL_API_GLOBAL = Symbol.for(`opentelemetry.js.api.${API_MAJOR}`);
const globals = globalThis as unknown as Record<symbol, { version?: unknown; context?: unknown } | undefined>;
let tracingRegistered = false;

export function refreshTracingGlobals(): void {
  if (tracingRegistered) return;
  const holder = globals[OTEL_API_GLOBAL];
  if (holder !== undefined && !(typeof holder.version === 'string' && holder.version.startsWith(`${API_MAJOR}.`))) {
    tracingRegistered = true;
    return;
  }
  // Only a registered context manager makes a span active (other globals such as `diag` may be
  // there without one); from then on every recording asks the public API.
  tracingRegistered = holder?.context !== undefined;
}

/**
 * The exemplar for a recording when a sampled span is active, else undefined. `reuse` (the
 * series' previous exemplar) is updated in place, so traced hot paths do not allocate.
 */
export function captureExemplar(value: number, reuse?: Exemplar): Exemplar | undefined {
  if (!tracingRegistered) return undefined;
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
