// The one span processor registered on the provider. In order, for every recorded span:
// resource usage on local roots (while the span is still writable), span metrics, the
// min-duration filter, tail sampling, then the sinks (trace store, batching exporters).
import { SpanStatusCode, type Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ResolvedTailSampling } from './config';
import type { TracingMetrics } from './instrumentation';
import { hrToMs, isLocalRoot } from './record';
import { TailSampler } from './sampling';

/** Where kept spans go: a subset of SpanProcessor. */
export interface SpanSink {
  onEnd(span: ReadableSpan): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

interface Usage {
  cpu: NodeJS.CpuUsage;
  heap: number;
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
    this.tail?.onStart(span);
    if (this.usage && isLocalRoot(span))
      this.usage.set(span.spanContext().spanId, { cpu: process.cpuUsage(), heap: process.memoryUsage().heapUsed });
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
    // Spans ending after shutdown (work still in flight) go nowhere and hold nothing.
    if (this.shutdownPromise) return;
    if (this.metrics.recordsSpans) this.metrics.span(span);
    if (this.children) {
      const id = span.spanContext().spanId;
      const kids = this.children.get(id) ?? 0;
      this.children.delete(id);
      // Only leaves: dropping a span with children would orphan them; local roots carry the trace.
      if (
        kids === 0 &&
        !isLocalRoot(span) &&
        hrToMs(span.duration) < this.minDurationMs &&
        span.status.code !== SpanStatusCode.ERROR
      ) {
        this.metrics.drop('min_duration');
        this.tail?.onEnd(span, true);
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
