// The samplers. Head sampling: drop rules, then the standard (parent-based) ratio samplers, then a
// per-process token bucket on sampled spans (OpenTelemetry JS has no rate-limiting sampler).
// Tail sampling: whole traces kept or dropped after they end (TailSampler, at the end).
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, type Attributes, type Context, type Link } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SamplingResult,
} from '@opentelemetry/sdk-trace-base';
import type { AttributeMatcher, DropRule, ResolvedTailSampling, SamplerName } from './config';
import { Fifo } from './fifo';
import type { TracingMetrics } from './instrumentation';
import { hrToMs, isLocalRoot } from './record';

const NOT_RECORD: SamplingResult = Object.freeze({ decision: SamplingDecision.NOT_RECORD });

export function baseSampler(name: SamplerName, ratio: number): Sampler {
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }
}

/** A token bucket refilled continuously; capacity one second's worth (at least one token). */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly capacity: number;

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.capacity = Math.max(1, perSecond);
    this.tokens = this.capacity;
    this.last = now();
  }

  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((t - this.last) / 1000) * this.perSecond);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

function matches(m: AttributeMatcher, v: unknown): boolean {
  return m instanceof RegExp ? typeof v === 'string' && m.test(v) : m === v;
}

function ruleMatches(rule: DropRule, name: string, attributes: Attributes): boolean {
  if (rule.name !== undefined && !matches(rule.name, name)) return false;
  if (rule.attributes) {
    for (const key in rule.attributes) if (!matches(rule.attributes[key], attributes[key])) return false;
  }
  return rule.name !== undefined || rule.attributes !== undefined;
}

/** Rules of one exact string attribute (the probe-route defaults) become one lookup per attribute key. */
function compileRules(rules: readonly DropRule[]): { byAttribute: [string, Set<string>][]; general: DropRule[] } {
  const byKey = new Map<string, Set<string>>();
  const general: DropRule[] = [];
  for (const rule of rules) {
    const keys = rule.attributes ? Object.keys(rule.attributes) : [];
    const value = keys.length === 1 ? rule.attributes?.[keys[0]] : undefined;
    if (rule.name === undefined && typeof value === 'string') {
      const set = byKey.get(keys[0]) ?? new Set<string>();
      set.add(value);
      byKey.set(keys[0], set);
    } else {
      general.push(rule);
    }
  }
  return { byAttribute: [...byKey], general };
}

export class HeadSampler implements Sampler {
  private readonly bucket?: TokenBucket;
  private readonly byAttribute: [string, Set<string>][];
  private readonly rules: DropRule[];
  /**
   * The base follows the parent (the parentbased_* samplers, built with their default delegates):
   * a valid unsampled parent means NOT_RECORD whatever else, so trace() can decide without asking.
   */
  readonly parentDecides: boolean;

  constructor(
    private readonly base: Sampler,
    rules: readonly DropRule[],
    maxSpansPerSecond: number | undefined,
    private readonly metrics: TracingMetrics,
  ) {
    this.parentDecides = base instanceof ParentBasedSampler;
    if (maxSpansPerSecond !== undefined) this.bucket = new TokenBucket(maxSpansPerSecond);
    ({ byAttribute: this.byAttribute, general: this.rules } = compileRules(rules));
  }

  /** Whether the base would record a root of `traceId` (before rules and rate limit): the ratio samplers decide on the id alone. */
  rootRecords(traceId: string): boolean {
    return (
      this.base.shouldSample(ROOT_CONTEXT, traceId, '', SpanKind.INTERNAL, {}, []).decision !==
      SamplingDecision.NOT_RECORD
    );
  }

  /** Whether a drop rule matches: it depends on the name and attributes only, so trace() can ask before starting a span. */
  dropsByRule(spanName: string, attributes: Attributes): boolean {
    for (let i = 0; i < this.byAttribute.length; i++) {
      const v = attributes[this.byAttribute[i][0]];
      if (typeof v === 'string' && this.byAttribute[i][1].has(v)) return true;
    }
    for (let i = 0; i < this.rules.length; i++) if (ruleMatches(this.rules[i], spanName, attributes)) return true;
    return false;
  }

  shouldSample(
    context: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    if (this.dropsByRule(spanName, attributes)) return NOT_RECORD;
    const result = this.base.shouldSample(context, traceId, spanName, spanKind, attributes, links);
    // A child dropped here takes its subtree with it (its context is unsampled), so nothing is orphaned.
    if (this.bucket && result.decision === SamplingDecision.RECORD_AND_SAMPLED && !this.bucket.take()) {
      this.metrics.drop('rate_limit');
      return NOT_RECORD;
    }
    return result;
  }

  toString(): string {
    return `PeriscopeHeadSampler{${this.base.toString()}${this.bucket ? ', rate-limited' : ''}}`;
  }
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
