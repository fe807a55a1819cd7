// The one span processor registered on the provider. In order, for every recorded span:
// resource usage on local roots (while the span is still writable), span metrics, the
// min-duration filter, tail sampling, then the sinks (trace store, batching exporters).
import type { Context } from '@opentelemetry/api';
import { TraceIdRatioBasedSampler, type ReadableSpan, type Span, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { context as apiContext, SpanStatusCode } from '@opentelemetry/api';
import type { ResolvedTailSampling } from './config';
import type { TracingMetrics } from './metrics';
import { hrToMs } from './record';

/** Where kept spans go: a subset of SpanProcessor. */
export interface SpanSink {
  onEnd(span: ReadableSpan): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

function isLocalRoot(span: ReadableSpan): boolean {
  return !span.parentSpanContext || span.parentSpanContext.isRemote === true;
}

interface Usage {
  cpu: NodeJS.CpuUsage;
  heap: number;
}

interface Pending {
  spans: ReadableSpan[];
  error: boolean;
  slow: boolean;
  firstSeen: number;
  timer?: NodeJS.Timeout;
}

/**
 * Buffers the spans of each trace until its local root ends plus a grace period, then keeps the
 * whole trace if any span errored, the root was slow, or the trace id falls in the ratio.
 * Bounded: past maxTraces / maxSpans new spans are dropped and counted, never waited on.
 */
export class TailSampler {
  private readonly pending = new Map<string, Pending>();
  /** Decisions already made, for children that end after their trace was decided (bounded, oldest evicted). */
  private readonly decided = new Map<string, boolean>();
  private buffered = 0;
  private readonly ratio: TraceIdRatioBasedSampler;
  private readonly sweep: NodeJS.Timeout;

  constructor(private readonly cfg: ResolvedTailSampling, private readonly forward: (span: ReadableSpan) => void, private readonly metrics: TracingMetrics) {
    this.ratio = new TraceIdRatioBasedSampler(cfg.ratio);
    // Traces whose root never ends (a leaked span) must not hold buffer space forever.
    this.sweep = setInterval(() => this.expire(), Math.min(cfg.traceTimeoutMs, 10000));
    this.sweep.unref();
  }

  get bufferedSpans(): number {
    return this.buffered;
  }

  get bufferedTraces(): number {
    return this.pending.size;
  }

  onEnd(span: ReadableSpan): void {
    const traceId = span.spanContext().traceId;
    const decision = this.decided.get(traceId);
    if (decision !== undefined) {
      if (decision) this.forward(span);
      else this.metrics.drop('tail_sampled');
      return;
    }
    let p = this.pending.get(traceId);
    if (!p) {
      if (this.pending.size >= this.cfg.maxTraces) return this.metrics.drop('tail_buffer_full');
      p = { spans: [], error: false, slow: false, firstSeen: Date.now() };
      this.pending.set(traceId, p);
    }
    const root = isLocalRoot(span);
    // A local root is let past maxSpans (at most one per buffered trace): it carries the decision.
    if (this.buffered >= this.cfg.maxSpans && !root) return this.metrics.drop('tail_buffer_full');
    p.spans.push(span);
    this.buffered++;
    if (span.status.code === SpanStatusCode.ERROR) p.error = true;
    if (root) {
      if (hrToMs(span.duration) > this.cfg.slowerThanMs) p.slow = true;
      if (!p.timer) {
        const entry = p;
        p.timer = setTimeout(() => this.decide(traceId, entry), this.cfg.graceMs);
        p.timer.unref();
      }
    }
  }

  private decide(traceId: string, p: Pending): void {
    if (this.pending.get(traceId) !== p) return;
    clearTimeout(p.timer);
    this.pending.delete(traceId);
    this.buffered -= p.spans.length;
    const keep = p.error || p.slow || this.ratio.shouldSample(apiContext.active(), traceId).decision !== 0;
    this.decided.set(traceId, keep);
    if (this.decided.size > this.cfg.maxTraces * 4) this.decided.delete(this.decided.keys().next().value as string);
    if (keep) for (const s of p.spans) this.forward(s);
    else this.metrics.drop('tail_sampled', p.spans.length);
  }

  private expire(): void {
    const cutoff = Date.now() - this.cfg.traceTimeoutMs;
    for (const [traceId, p] of this.pending) if (p.firstSeen < cutoff) this.decide(traceId, p);
  }

  /** Decides buffered traces now: on flush those whose root has ended, on shutdown all of them. */
  decideAll(onlyEnded = false): void {
    for (const [traceId, p] of [...this.pending]) if (!onlyEnded || p.timer) this.decide(traceId, p);
  }

  close(): void {
    clearInterval(this.sweep);
    this.decideAll();
  }
}

export interface PipelineOptions {
  metrics: TracingMetrics;
  sinks: SpanSink[];
  minDurationMs: number;
  tailSampling?: ResolvedTailSampling;
  resourceUsage: boolean;
}

export class PipelineProcessor implements SpanProcessor {
  private readonly sinks: SpanSink[];
  private readonly metrics: TracingMetrics;
  private readonly minDurationMs: number;
  /** Open span id → children started under it; only kept when minDurationMs > 0. */
  private readonly children?: Map<string, number>;
  private readonly usage?: Map<string, Usage>;
  readonly tail?: TailSampler;
  private shutdownPromise?: Promise<void>;

  constructor(options: PipelineOptions) {
    this.sinks = options.sinks;
    this.metrics = options.metrics;
    this.minDurationMs = options.minDurationMs;
    if (this.minDurationMs > 0) this.children = new Map();
    if (options.resourceUsage) this.usage = new Map();
    if (options.tailSampling) this.tail = new TailSampler(options.tailSampling, (s) => this.deliver(s), this.metrics);
  }

  onStart(span: Span, _parentContext: Context): void {
    if (this.children) {
      this.children.set(span.spanContext().spanId, 0);
      const parent = span.parentSpanContext;
      if (parent && !parent.isRemote) {
        const n = this.children.get(parent.spanId);
        if (n !== undefined) this.children.set(parent.spanId, n + 1);
      }
    }
    if (this.usage && isLocalRoot(span)) this.usage.set(span.spanContext().spanId, { cpu: process.cpuUsage(), heap: process.memoryUsage().heapUsed });
  }

  onEnding(span: Span): void {
    if (!this.usage) return;
    const id = span.spanContext().spanId;
    const start = this.usage.get(id);
    if (!start) return;
    this.usage.delete(id);
    const cpu = process.cpuUsage(start.cpu);
    span.setAttributes({
      'process.cpu.user_time_ms': cpu.user / 1000,
      'process.cpu.system_time_ms': cpu.system / 1000,
      'process.heap.delta_bytes': process.memoryUsage().heapUsed - start.heap,
    });
  }

  onEnd(span: ReadableSpan): void {
    if (this.metrics.recordsSpans) this.metrics.span(span);
    if (this.children) {
      const id = span.spanContext().spanId;
      const kids = this.children.get(id) ?? 0;
      this.children.delete(id);
      // Only leaves: dropping a span with children would orphan them; local roots carry the trace.
      if (kids === 0 && !isLocalRoot(span) && hrToMs(span.duration) < this.minDurationMs && span.status.code !== SpanStatusCode.ERROR) {
        this.metrics.drop('min_duration');
        return;
      }
    }
    if (this.tail) this.tail.onEnd(span);
    else this.deliver(span);
  }

  private deliver(span: ReadableSpan): void {
    for (let i = 0; i < this.sinks.length; i++) this.sinks[i].onEnd(span);
  }

  async forceFlush(): Promise<void> {
    this.tail?.decideAll(true);
    await Promise.all(this.sinks.map((s) => s.forceFlush()));
  }

  shutdown(): Promise<void> {
    this.shutdownPromise ??= (async () => {
      this.tail?.close();
      // A failed final export is already counted by the exporter wrapper; shutdown must still complete.
      await Promise.allSettled(this.sinks.map((s) => s.shutdown()));
    })();
    return this.shutdownPromise;
  }
}
