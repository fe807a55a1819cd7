// Summary: quantiles over a sliding window are delegated to prom-client's Summary (t-digest),
// kept out of the registry; we add label validation, the cardinality limit, the off switch,
// and a sum/count per series for toJSON() and history. Summaries are not a hot-path type.
import { Summary as PromSummary } from 'prom-client';
import {
  invalidObservation,
  ObservingMetric,
  secondsTimer,
  PromMetricObject,
  PromValue,
  SeriesBase,
  Shared,
} from './base';
import type { BoundHistogram, Summary } from './types';

export interface SummaryOptions {
  percentiles?: readonly number[];
  maxAgeSeconds?: number;
  ageBuckets?: number;
}

export class SummarySeries extends SeriesBase implements BoundHistogram {
  sum = 0;
  count = 0;
  private readonly metric: SummaryMetric<string>;

  constructor(
    metric: SummaryMetric<string>,
    labels: Readonly<Record<string, string>>,
    labelStr: string,
    shared: Shared,
  ) {
    super(labels, labelStr, shared);
    this.metric = metric;
  }

  observe(value: number): void {
    if (!this.shared.enabled) return;
    if (typeof value !== 'number' || value !== value) throw invalidObservation(this.metric.name, value);
    this.metric.inner.observe(this.labels, value);
    this.sum += value;
    this.count++;
  }

  startTimer(): () => number {
    return secondsTimer((seconds) => this.observe(seconds));
  }

  zero(): void {
    this.sum = 0;
    this.count = 0;
  }
}

export class SummaryMetric<L extends string> extends ObservingMetric<L, SummarySeries> implements Summary<L> {
  readonly type = 'summary' as const;
  readonly inner: PromSummary<string>;

  constructor(name: string, help: string, labelNames: readonly L[], options: SummaryOptions, shared: Shared) {
    super(name, help, labelNames, shared);
    this.inner = new PromSummary({
      name,
      help,
      labelNames: [...labelNames],
      registers: [],
      ...(options.percentiles ? { percentiles: [...options.percentiles] } : {}),
      ...(options.maxAgeSeconds !== undefined
        ? { maxAgeSeconds: options.maxAgeSeconds, ageBuckets: options.ageBuckets ?? 5 }
        : {}),
    });
    this.init();
  }

  protected createSeries(labels: Readonly<Record<string, string>>, labelStr: string): SummarySeries {
    return new SummarySeries(this as SummaryMetric<string>, labels, labelStr, this.shared);
  }

  override reset(): void {
    super.reset();
    this.inner.reset();
  }

  override async get(): Promise<PromMetricObject> {
    const inner = await this.inner.get();
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: inner.values as PromValue[],
    };
  }

  protected values(): PromValue[] {
    return [];
  }

  /** Rendered from get() by the exposition (quantiles live in prom-client). */
  renderSeries(): string {
    return '';
  }
}
