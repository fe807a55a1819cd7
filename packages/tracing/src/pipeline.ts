// The one span processor registered on the provider. In order, for every recorded span:
// resource usage on local roots (while the span is still writable), span metrics, the
// min-duration filter, tail sampling, then the sinks (trace store, batching exporters).
import { SpanStatusCode, type Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ResolvedTailSampling } from './config';
import { Fifo } from './fifo';
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
  /** Spans of this trace started here and not yet ended. */
  open: number;
  rootEnded: boolean;
  error: boolean;
  slow: boolean;
  /** The sweep tick when the trace was first seen. */
  firstSeen: number;
  /** When the grace period for late children ends; 0 until one is needed. */
  decideAt: number;
}

/**
 * Buffers the spans of each trace until its local root has ended and no span of the trace is
 * still open here (or, for children that end late, until a grace period after the root), then
 * keeps the whole trace if any span errored, the root was slow, or the trace id falls in the
 * ratio. Bounded: past maxTraces / maxSpans new spans are dropped and counted, never waited on.
 */
export class TailSampler {
  private readonly pending = new Map<string, Pending>();
  /**
   * Decisions already made, for children that end after their trace was decided. Two generations
   * bound it: evicting the oldest key of one Map one at a time would walk its deleted entries.
   */
  private decided = new Map<string, boolean>();
  private decidedBefore = new Map<string, boolean>();
  private readonly maxDecided: number;
  private buffered = 0;
  /** Keep a trace when the low 32 bits of its (random) trace id fall under this. */
  private readonly ratioBound: number;
  /** Advanced by the sweep: a trace seen two ticks ago has outlived traceTimeoutMs (no clock read per trace). */
  private tick = 0;
  private readonly sweep: NodeJS.Timeout;
  /** Traces waiting out the grace period, in deadline order (the period is constant): one timer serves them all. */
  private readonly ready = new Fifo<{ traceId: string; p: Pending }>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly cfg: ResolvedTailSampling,
    private readonly forward: (span: ReadableSpan) => void,
    private readonly metrics: TracingMetrics,
  ) {
    this.ratioBound = Math.floor(cfg.ratio * 0x100000000);
    this.maxDecided = cfg.maxTraces * 2;
    // Traces whose root never ends (a leaked span) must not hold buffer space forever.
    this.sweep = setInterval(() => this.expire(), cfg.traceTimeoutMs);
    this.sweep.unref();
  }

  get bufferedSpans(): number {
    return this.buffered;
  }

  get bufferedTraces(): number {
    return this.pending.size;
  }

  onStart(span: ReadableSpan): void {
    // A local root needs no bookkeeping until a child starts: most cost is saved for childless traces.
    if (isLocalRoot(span)) return;
    const traceId = span.spanContext().traceId;
    const p = this.pending.get(traceId);
    if (p) {
      p.open++;
      return;
    }
    // A late child of a decided trace follows the decision; with no room the trace is not tracked and its spans are dropped.
    if (this.decision(traceId) !== undefined || this.pending.size >= this.cfg.maxTraces) return;
    // open: this span and its local root, still running.
    this.pending.set(traceId, {
      spans: [],
      open: 2,
      rootEnded: false,
      error: false,
      slow: false,
      firstSeen: this.tick,
      decideAt: 0,
    });
  }

  /** `filtered`: the span was dropped upstream (min duration); it only stops counting as open. */
  onEnd(span: ReadableSpan, filtered = false): void {
    const traceId = span.spanContext().traceId;
    const p = this.pending.get(traceId);
    if (filtered) {
      if (p && --p.open <= 0 && p.rootEnded) this.decide(traceId, p);
      return;
    }
    if (!p) {
      if (isLocalRoot(span)) return this.decideAlone(traceId, span);
      const decision = this.decision(traceId);
      if (decision === true) this.forward(span);
      else this.metrics.drop(decision === false ? 'tail_sampled' : 'tail_buffer_full');
      return;
    }
    p.open--;
    const root = isLocalRoot(span);
    // A local root is let past maxSpans (at most one per buffered trace): it carries the decision.
    if (this.buffered >= this.cfg.maxSpans && !root) {
      this.metrics.drop('tail_buffer_full');
    } else {
      p.spans.push(span);
      this.buffered++;
      if (span.status.code === SpanStatusCode.ERROR) p.error = true;
    }
    if (root) {
      p.rootEnded = true;
      if (hrToMs(span.duration) > this.cfg.slowerThanMs) p.slow = true;
    }
    if (!p.rootEnded) return;
    if (p.open <= 0) {
      this.decide(traceId, p);
    } else if (p.decideAt === 0) {
      p.decideAt = performance.now() + this.cfg.graceMs;
      this.ready.push({ traceId, p });
      if (!this.timer) this.schedule(this.cfg.graceMs);
    }
  }

  private decision(traceId: string): boolean | undefined {
    return this.decided.get(traceId) ?? this.decidedBefore.get(traceId);
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => this.drain(), delayMs);
    this.timer.unref();
  }

  private drain(): void {
    this.timer = undefined;
    const now = performance.now();
    for (let next = this.ready.peek(); next && next.p.decideAt <= now; next = this.ready.peek()) {
      this.ready.shift();
      this.decide(next.traceId, next.p);
    }
    const next = this.ready.peek();
    if (next) this.schedule(Math.max(1, next.p.decideAt - now));
  }

  private keep(traceId: string, error: boolean, slow: boolean): boolean {
    return error || slow || this.inRatio(traceId);
  }

  /** W3C trace ids end in random bytes, so their low 32 bits make a fair, deterministic ratio draw. */
  private inRatio(traceId: string): boolean {
    return parseInt(traceId.slice(-8), 16) < this.ratioBound;
  }

  private record(traceId: string, keep: boolean): boolean {
    if (this.decided.size >= this.maxDecided) {
      this.decidedBefore = this.decided;
      this.decided = new Map();
    }
    this.decided.set(traceId, keep);
    return keep;
  }

  private decide(traceId: string, p: Pending): void {
    if (this.pending.get(traceId) !== p) return;
    this.pending.delete(traceId);
    this.buffered -= p.spans.length;
    if (this.record(traceId, this.keep(traceId, p.error, p.slow))) for (const s of p.spans) this.forward(s);
    else this.metrics.drop('tail_sampled', p.spans.length);
  }

  /**
   * A local root that started no child here: nothing to wait for, and the decision is not
   * recorded (a child started after such a root ended is rare; the sweep decides its trace).
   */
  private decideAlone(traceId: string, span: ReadableSpan): void {
    if (this.keep(traceId, span.status.code === SpanStatusCode.ERROR, hrToMs(span.duration) > this.cfg.slowerThanMs))
      this.forward(span);
    else this.metrics.drop('tail_sampled');
  }

  private expire(): void {
    this.tick++;
    for (const [traceId, p] of this.pending) if (p.firstSeen < this.tick - 1) this.decide(traceId, p);
  }

  /** Decides buffered traces now: on flush those whose root has ended, on shutdown all of them. */
  decideAll(onlyEnded = false): void {
    for (const [traceId, p] of [...this.pending]) if (!onlyEnded || p.rootEnded) this.decide(traceId, p);
    if (this.pending.size === 0) this.ready.clear();
  }

  close(): void {
    clearInterval(this.sweep);
    clearTimeout(this.timer);
    this.timer = undefined;
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
