// A bounded in-memory store of recent traces for /debug/traces and for tests: what was kept by
// sampling, grouped by trace, with a JSON view and an ASCII tree.
import { SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { TracingInputError } from './errors';
import { Fifo } from './fifo';
import type { TracingMetrics } from './instrumentation';
import { toSpanRecord, type SpanRecord } from './record';

export interface TraceSummary {
  traceId: string;
  /** Name of the earliest span without a parent in this trace (or of the earliest span). */
  rootName: string;
  /** Epoch milliseconds of the first span start. */
  startTime: number;
  durationMs: number;
  spanCount: number;
  error: boolean;
  /** Spans not kept because the trace reached maxSpansPerTrace. */
  droppedSpans: number;
}

export interface StoredTrace extends TraceSummary {
  spans: SpanRecord[];
}

export interface RecentTracesQuery {
  errorsOnly?: boolean;
  minDurationMs?: number;
  /** Default 20. */
  limit?: number;
}

// Spans are kept as the SDK ended them and turned into records when someone reads the store
// (/debug/traces, tests): a store is written on every kept span and read now and then.
interface Entry {
  spans: ReadableSpan[];
  /** The spans as records, made on the first read after a span was added. */
  records: SpanRecord[] | undefined;
  error: boolean;
  dropped: number;
}

function recordsOf(entry: Entry): SpanRecord[] {
  return (entry.records ??= entry.spans.map(toSpanRecord));
}

const TRACE_ID = /^[0-9a-f]{32}$/;

function checkTraceId(traceId: string): void {
  if (typeof traceId !== 'string' || !TRACE_ID.test(traceId))
    throw new TracingInputError(
      'traceId',
      `expected 32 lowercase hex characters, got ${JSON.stringify(String(traceId).slice(0, 64))}`,
    );
}

export class TraceStore {
  // Map iteration order is insertion order: the first key is the oldest trace. Eviction order is
  // kept apart in `order`: taking a Map's first key after many deletes walks the deleted entries.
  private readonly traces = new Map<string, Entry>();
  private readonly order = new Fifo<string>();

  constructor(maxTraces?: number, maxSpansPerTrace?: number);
  /**
   * startTracing also passes the package's own metrics, a type users never hold.
   * @internal
   */
  constructor(maxTraces: number | undefined, maxSpansPerTrace: number | undefined, metrics: TracingMetrics | undefined);
  constructor(
    private readonly maxTraces = 200,
    private readonly maxSpansPerTrace = 1000,
    private readonly metrics?: TracingMetrics,
  ) {}

  get size(): number {
    return this.traces.size;
  }

  add(span: ReadableSpan): void {
    const traceId = span.spanContext().traceId;
    let entry = this.traces.get(traceId);
    if (!entry) {
      if (this.traces.size >= this.maxTraces) this.evictOldest();
      entry = { spans: [], records: undefined, error: false, dropped: 0 };
      this.traces.set(traceId, entry);
      this.order.push(traceId);
    }
    if (entry.spans.length >= this.maxSpansPerTrace) {
      entry.dropped++;
      this.metrics?.drop('store_trace_full');
      return;
    }
    entry.spans.push(span);
    entry.records = undefined;
    if (span.status.code === SpanStatusCode.ERROR) entry.error = true;
  }

  private evictOldest(): void {
    this.traces.delete(this.order.shift() as string);
  }

  clear(): void {
    this.traces.clear();
    this.order.clear();
  }

  /** The trace's spans (start order), or undefined when the store does not hold it. */
  getTrace(traceId: string): StoredTrace | undefined {
    checkTraceId(traceId);
    const entry = this.traces.get(traceId);
    return (
      entry && { ...summarize(traceId, entry), spans: [...recordsOf(entry)].sort((a, b) => a.startTime - b.startTime) }
    );
  }

  /** Newest first. */
  recentTraces(query: RecentTracesQuery = {}): TraceSummary[] {
    const limit = query.limit ?? 20;
    if (!Number.isInteger(limit) || limit < 0)
      throw new TracingInputError('limit', `expected a non-negative integer, got ${JSON.stringify(query.limit)}`);
    const minDuration = query.minDurationMs ?? 0;
    if (typeof minDuration !== 'number' || !(minDuration >= 0))
      throw new TracingInputError(
        'minDurationMs',
        `expected a number >= 0, got ${JSON.stringify(query.minDurationMs)}`,
      );
    const out: TraceSummary[] = [];
    // Reverse insertion order first, so traces starting in the same millisecond stay newest-first after the stable sort.
    for (const traceId of [...this.traces.keys()].reverse()) {
      const entry = this.traces.get(traceId) as Entry;
      if (query.errorsOnly && !entry.error) continue;
      const s = summarize(traceId, entry);
      if (s.durationMs < minDuration) continue;
      out.push(s);
    }
    out.sort((a, b) => b.startTime - a.startTime);
    return out.slice(0, limit);
  }

  /** The slowest trace held, for the demo's closing print. */
  slowestTrace(): TraceSummary | undefined {
    let best: TraceSummary | undefined;
    for (const [traceId, entry] of this.traces) {
      const s = summarize(traceId, entry);
      if (!best || s.durationMs > best.durationMs) best = s;
    }
    return best;
  }

  /** An ASCII tree of the trace with durations and status, or undefined when the store does not hold it. */
  renderTree(traceId: string): string | undefined {
    const t = this.getTrace(traceId);
    return t && renderSpanTree(t);
  }

  toJSON(): { traces: StoredTrace[] } {
    return { traces: [...this.traces.keys()].reverse().map((id) => this.getTrace(id) as StoredTrace) };
  }
}

function summarize(traceId: string, entry: Entry): TraceSummary {
  let start = Infinity;
  let end = -Infinity;
  let root: SpanRecord | undefined;
  const records = recordsOf(entry);
  const ids = new Set(records.map((s) => s.spanId));
  for (const s of records) {
    if (s.startTime < start) start = s.startTime;
    if (s.endTime > end) end = s.endTime;
    const isRoot = !s.parentSpanId || !ids.has(s.parentSpanId);
    if (isRoot && (!root || s.startTime < root.startTime)) root = s;
  }
  return {
    traceId,
    rootName: root?.name ?? '',
    startTime: start,
    durationMs: Math.max(0, end - start),
    spanCount: entry.spans.length,
    error: entry.error,
    droppedSpans: entry.dropped,
  };
}

export function formatMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 10) return `${ms.toFixed(0)} ms`;
  return `${ms.toFixed(1)} ms`;
}

/** Renders spans of one trace as a tree; spans whose parent is not among them are roots. */
export function renderSpanTree(t: StoredTrace): string {
  const ids = new Set(t.spans.map((s) => s.spanId));
  const children = new Map<string, SpanRecord[]>();
  const roots: SpanRecord[] = [];
  for (const s of t.spans) {
    if (s.parentSpanId && ids.has(s.parentSpanId)) {
      const list = children.get(s.parentSpanId) ?? [];
      list.push(s);
      children.set(s.parentSpanId, list);
    } else {
      roots.push(s);
    }
  }
  const lines = [
    `trace ${t.traceId}  ${formatMs(t.durationMs)}  ${t.spanCount} span${t.spanCount === 1 ? '' : 's'}${t.error ? '  ERROR' : ''}`,
  ];
  const label = (s: SpanRecord): string => {
    const status =
      s.status.code === 'ERROR'
        ? `  ERROR${s.status.message ? `: ${s.status.message}` : ''}`
        : s.status.code === 'OK'
          ? '  OK'
          : '';
    return `${s.name}  ${formatMs(s.durationMs)}${status}`;
  };
  const walk = (s: SpanRecord, prefix: string, last: boolean): void => {
    lines.push(`${prefix}${last ? '└─ ' : '├─ '}${label(s)}`);
    const kids = children.get(s.spanId) ?? [];
    kids.forEach((k, i) => walk(k, prefix + (last ? '   ' : '│  '), i === kids.length - 1));
  };
  roots.forEach((r, i) => walk(r, '', i === roots.length - 1));
  if (t.droppedSpans > 0) lines.push(`(${t.droppedSpans} more span${t.droppedSpans === 1 ? '' : 's'} not kept)`);
  return lines.join('\n');
}
