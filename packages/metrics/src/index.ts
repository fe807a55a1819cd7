// Public surface of @periscope/metrics.
// NOTE: this is the API contract every other package codes against. The implementation behind it
// is being replaced by the fast one (issue 2); signatures here stay.
import { Registry, Counter as PCounter, Gauge as PGauge, Histogram as PHistogram, Summary as PSummary, collectDefaultMetrics } from 'prom-client';

export type LabelValues<L extends string> = { [K in L]: string | number };

export interface MetricConfig<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
}
export interface HistogramConfig<L extends string> extends MetricConfig<L> {
  buckets?: readonly number[];
}
export interface SummaryConfig<L extends string> extends MetricConfig<L> {
  percentiles?: readonly number[];
  maxAgeSeconds?: number;
  ageBuckets?: number;
}

export interface BoundCounter { inc(value?: number): void }
export interface BoundGauge { set(value: number): void; inc(value?: number): void; dec(value?: number): void }
export interface BoundHistogram { observe(value: number): void; startTimer(): () => number }

export interface Counter<L extends string = never> {
  readonly name: string;
  inc(labels: LabelValues<L>, value?: number): void;
  inc(value?: number): void;
  labels(labels: LabelValues<L>): BoundCounter;
  reset(): void;
}
export interface Gauge<L extends string = never> {
  readonly name: string;
  set(labels: LabelValues<L>, value: number): void;
  set(value: number): void;
  inc(labels: LabelValues<L>, value?: number): void;
  inc(value?: number): void;
  dec(labels: LabelValues<L>, value?: number): void;
  dec(value?: number): void;
  labels(labels: LabelValues<L>): BoundGauge;
  reset(): void;
}
export interface Histogram<L extends string = never> {
  readonly name: string;
  observe(labels: LabelValues<L>, value: number): void;
  observe(value: number): void;
  labels(labels: LabelValues<L>): BoundHistogram;
  /** Returns `end(extraLabels?)`, which records and returns the elapsed seconds. */
  startTimer(labels?: Partial<LabelValues<L>>): (extraLabels?: Partial<LabelValues<L>>) => number;
  reset(): void;
}
export type Summary<L extends string = never> = Histogram<L>;

export interface MetricsOptions {
  prefix?: string;
  registry?: Registry;
  defaultLabels?: Record<string, string>;
  collectDefaultMetrics?: boolean;
  maxSeriesPerMetric?: number;
}

export interface Exposition { contentType: string; body: string }

export const Buckets = {
  latency: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as readonly number[],
  llmLatency: [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92] as readonly number[],
  tokens: [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864] as readonly number[],
  bytes: [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864] as readonly number[],
};

export interface LlmCall {
  provider: string;
  model: string;
  operation: string;
  inputTokens: number;
  outputTokens: number;
  durationSeconds: number;
  timeToFirstTokenSeconds?: number;
  errorType?: string;
}

type AnyMetric = PCounter<string> | PGauge<string> | PHistogram<string> | PSummary<string>;

export class Metrics {
  readonly registry: Registry;
  private readonly prefix: string;
  private enabledFlag = process.env.PERISCOPE_METRICS_ENABLED !== 'false';
  private readonly byName = new Map<string, { kind: string; labels: string; facade: unknown }>();

  constructor(options: MetricsOptions = {}) {
    this.registry = options.registry ?? new Registry();
    this.prefix = options.prefix ?? '';
    if (options.defaultLabels) this.registry.setDefaultLabels(options.defaultLabels);
    if (options.collectDefaultMetrics) collectDefaultMetrics({ register: this.registry });
  }

  get enabled(): boolean { return this.enabledFlag; }
  disable(): void { this.enabledFlag = false; }
  enable(): void { this.enabledFlag = true; }

  private reuse<T>(kind: string, config: MetricConfig<string>, make: (name: string) => T): T {
    const name = this.prefix + config.name;
    const labels = [...(config.labelNames ?? [])].join(',');
    const existing = this.byName.get(name);
    if (existing) {
      if (existing.kind !== kind || existing.labels !== labels) throw new Error(`metric ${name} is already registered as a ${existing.kind} with labels [${existing.labels}]`);
      return existing.facade as T;
    }
    const facade = make(name);
    this.byName.set(name, { kind, labels, facade });
    return facade;
  }

  counter<L extends string = never>(config: MetricConfig<L>): Counter<L> {
    return this.reuse('counter', config, (name) => {
      const m = new PCounter({ name, help: config.help, labelNames: [...(config.labelNames ?? [])], registers: [this.registry] });
      const self = this;
      const f = {
        name,
        inc(a?: LabelValues<L> | number, v?: number) { if (!self.enabledFlag) return; if (typeof a === 'object') m.inc(a, v ?? 1); else m.inc(a ?? 1); },
        labels(l: LabelValues<L>) { const c = m.labels(l); return { inc: (v = 1) => { if (self.enabledFlag) c.inc(v); } }; },
        reset: () => m.reset(),
      };
      return f as Counter<L>;
    });
  }

  gauge<L extends string = never>(config: MetricConfig<L>): Gauge<L> {
    return this.reuse('gauge', config, (name) => {
      const m = new PGauge({ name, help: config.help, labelNames: [...(config.labelNames ?? [])], registers: [this.registry] });
      const self = this;
      const call = (op: 'set' | 'inc' | 'dec', a: unknown, v: unknown) => {
        if (!self.enabledFlag) return;
        if (typeof a === 'object') (m[op] as (l: unknown, v: unknown) => void)(a, v ?? (op === 'set' ? 0 : 1));
        else (m[op] as (v: unknown) => void)(a ?? 1);
      };
      return {
        name,
        set: (a: unknown, v?: unknown) => call('set', a, v),
        inc: (a?: unknown, v?: unknown) => call('inc', a, v),
        dec: (a?: unknown, v?: unknown) => call('dec', a, v),
        labels(l: LabelValues<L>) { const c = m.labels(l); return { set: (v: number) => self.enabledFlag && c.set(v), inc: (v = 1) => self.enabledFlag && c.inc(v), dec: (v = 1) => self.enabledFlag && c.dec(v) }; },
        reset: () => m.reset(),
      } as unknown as Gauge<L>;
    });
  }

  histogram<L extends string = never>(config: HistogramConfig<L>): Histogram<L> {
    return this.reuse('histogram', config, (name) => {
      const m = new PHistogram({ name, help: config.help, labelNames: [...(config.labelNames ?? [])], buckets: [...(config.buckets ?? Buckets.latency)], registers: [this.registry] });
      return this.observer(name, m) as Histogram<L>;
    });
  }

  summary<L extends string = never>(config: SummaryConfig<L>): Summary<L> {
    return this.reuse('summary', config, (name) => {
      const m = new PSummary({ name, help: config.help, labelNames: [...(config.labelNames ?? [])], percentiles: config.percentiles ? [...config.percentiles] : undefined, registers: [this.registry] });
      return this.observer(name, m) as Summary<L>;
    });
  }

  private observer(name: string, m: PHistogram<string> | PSummary<string>) {
    const self = this;
    return {
      name,
      observe(a: unknown, v?: number) { if (!self.enabledFlag) return; if (typeof a === 'object') m.observe(a as Record<string, string>, v as number); else m.observe(a as number); },
      labels(l: Record<string, string>) {
        const c = m.labels(l);
        return { observe: (v: number) => self.enabledFlag && c.observe(v), startTimer: () => { const t = process.hrtime.bigint(); return () => { const s = Number(process.hrtime.bigint() - t) / 1e9; if (self.enabledFlag) c.observe(s); return s; }; } };
      },
      startTimer(labels?: Record<string, string>) {
        const t = process.hrtime.bigint();
        return (extra?: Record<string, string>) => { const s = Number(process.hrtime.bigint() - t) / 1e9; if (self.enabledFlag) m.observe({ ...labels, ...extra }, s); return s; };
      },
      reset: () => m.reset(),
    };
  }

  /** Times `fn` (sync or async) into `histogram`, recording on throw too. */
  time<L extends string, T>(histogram: Histogram<L>, labels: LabelValues<L>, fn: () => T): T {
    const end = histogram.startTimer(labels);
    try {
      const r = fn();
      if (r instanceof Promise) return r.finally(() => end()) as T;
      end();
      return r;
    } catch (err) {
      end();
      throw err;
    }
  }

  recordLlmCall(call: LlmCall): void {
    const base = { gen_ai_provider_name: call.provider, gen_ai_request_model: call.model, gen_ai_operation_name: call.operation };
    const tokens = this.histogram({ name: 'gen_ai_client_token_usage', help: 'Number of input and output tokens used', labelNames: ['gen_ai_provider_name', 'gen_ai_request_model', 'gen_ai_operation_name', 'gen_ai_token_type'] as const, buckets: Buckets.tokens });
    tokens.observe({ ...base, gen_ai_token_type: 'input' }, call.inputTokens);
    tokens.observe({ ...base, gen_ai_token_type: 'output' }, call.outputTokens);
    this.histogram({ name: 'gen_ai_client_operation_duration_seconds', help: 'GenAI operation duration', labelNames: ['gen_ai_provider_name', 'gen_ai_request_model', 'gen_ai_operation_name', 'error_type'] as const, buckets: Buckets.llmLatency })
      .observe({ ...base, error_type: call.errorType ?? '' }, call.durationSeconds);
  }

  async expose(accept?: string): Promise<Exposition> {
    void accept;
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  reset(): void { this.registry.resetMetrics(); }
  async close(): Promise<void> { /* background collectors stop here */ }
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  return new Metrics(options);
}
export type { AnyMetric };
