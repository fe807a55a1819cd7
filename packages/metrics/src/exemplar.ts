// Exemplars: the trace of one recent recording, linking a series to a trace in Tempo/Jaeger.
// Read through @opentelemetry/api only, so this costs one context lookup when no SDK is started.
import { trace, TraceFlags, type Span } from '@opentelemetry/api';
import { escapeLabelValue, formatValue } from './labels';

export interface Exemplar {
  traceId: string;
  spanId: string;
  value: number;
  /** Unix time in milliseconds. */
  timestampMs: number;
}

// The active span is read from the context manager the OpenTelemetry API registered, the way the
// API itself keys its globals — `Symbol.for('opentelemetry.js.api.<major>')`, major 1 being what
// our peer range (^1.9.0) admits — and the span under the API's own context key. The public path
// (`trace.getActiveSpan()`) also costs a global lookup and a version check per call: ~30 ns when
// no SDK is started, too much for a bound inc() whose whole budget is ~5 ns, and most of an
// observation's exemplar cost when one is. Whether a manager is registered is checked off the
// hot path (when a Metrics object, a metric or a series is created, and on every exposition); the
// holder object the API keeps its globals in lives as long as the process (unregistering deletes
// its fields), so each call reads its `context` field afresh. A holder whose version is not 1.x
// means an API copy we do not know: every call then takes the public path (correct, slower).
const API_MAJOR = '1';
const OTEL_API_GLOBAL = Symbol.for(`opentelemetry.js.api.${API_MAJOR}`);
// createContextKey() in @opentelemetry/api 1.x is Symbol.for(description).
const SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN');
interface ContextLike {
  getValue(key: symbol): unknown;
}
interface ApiHolder {
  version?: unknown;
  context?: { active(): ContextLike };
}
const globals = globalThis as unknown as Record<symbol, ApiHolder | undefined>;
let tracingRegistered = false;
/** The API's globals holder when it is a 1.x one; undefined: ask the public API. */
let holder: ApiHolder | undefined;

export function refreshTracingGlobals(): void {
  if (tracingRegistered) return;
  const found = globals[OTEL_API_GLOBAL];
  if (found !== undefined && !(typeof found.version === 'string' && found.version.startsWith(`${API_MAJOR}.`))) {
    tracingRegistered = true;
    holder = undefined;
    return;
  }
  // Only a registered context manager makes a span active (other globals such as `diag` may be
  // there without one); from then on every recording looks.
  tracingRegistered = found?.context !== undefined;
  holder = found;
}

function activeSpan(): Span | undefined {
  if (holder === undefined) return trace.getActiveSpan();
  const cm = holder.context;
  return cm === undefined ? undefined : (cm.active().getValue(SPAN_KEY) as Span | undefined);
}

/**
 * The exemplar for a recording when a sampled span is active, else undefined. `reuse` (the
 * series' previous exemplar) is updated in place, so traced hot paths do not allocate.
 */
export function captureExemplar(value: number, reuse?: Exemplar): Exemplar | undefined {
  if (!tracingRegistered) return undefined;
  const span = activeSpan();
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
