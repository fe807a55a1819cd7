// Head sampling: drop rules, then the standard (parent-based) ratio samplers, then a per-process
// token bucket on sampled spans (OpenTelemetry JS has no rate-limiting sampler).
import type { Attributes, Context, Link, SpanKind } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SamplingResult,
} from '@opentelemetry/sdk-trace-base';
import type { AttributeMatcher, DropRule, SamplerName } from './config';
import type { TracingMetrics } from './metrics';

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

  constructor(
    private readonly base: Sampler,
    rules: readonly DropRule[],
    maxSpansPerSecond: number | undefined,
    private readonly metrics: TracingMetrics,
  ) {
    if (maxSpansPerSecond !== undefined) this.bucket = new TokenBucket(maxSpansPerSecond);
    ({ byAttribute: this.byAttribute, general: this.rules } = compileRules(rules));
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
