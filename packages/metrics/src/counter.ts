// Counter: a monotonically increasing value per series, with an optional exemplar.
import { BaseMetric, exemplarLabelSet, PromValue, SeriesBase, Shared } from './base';
import { InvalidValueError } from './errors';
import { captureExemplar, Exemplar, formatExemplar } from './exemplar';
import { formatValue } from './labels';
import type { BoundCounter, Counter, LabelValues } from './types';

// `!(v >= 0)` also rejects NaN.
function invalidIncrement(metric: string, value: unknown): InvalidValueError {
  return new InvalidValueError(metric, value, 'counters can only increase (value must be a number >= 0)');
}

export class CounterSeries extends SeriesBase implements BoundCounter {
  value = 0;
  exemplar: Exemplar | undefined = undefined;
  /** Cached exposition prefixes (text, OpenMetrics). */
  textHead: string | undefined = undefined;
  omHead: string | undefined = undefined;
  metric: CounterMetric<string>;

  constructor(
    metric: CounterMetric<string>,
    labels: Readonly<Record<string, string>>,
    labelStr: string,
    shared: Shared,
  ) {
    super(labels, labelStr, shared);
    this.metric = metric;
  }

  inc(value = 1): void {
    const shared = this.shared;
    if (!shared.enabled) return;
    if (typeof value !== 'number' || !(value >= 0)) throw invalidIncrement(this.metric.name, value);
    this.value += value;
    if (shared.exemplars) {
      const ex = captureExemplar(value, this.exemplar);
      if (ex !== undefined) this.exemplar = ex;
    }
  }

  zero(): void {
    this.value = 0;
    this.exemplar = undefined;
  }
}

export class CounterMetric<L extends string> extends BaseMetric<CounterSeries> implements Counter<L> {
  readonly type = 'counter' as const;

  constructor(name: string, help: string, labelNames: readonly L[], shared: Shared) {
    super(name, help, labelNames, shared);
    this.init();
  }

  protected createSeries(labels: Readonly<Record<string, string>>, labelStr: string): CounterSeries {
    return new CounterSeries(this as CounterMetric<string>, labels, labelStr, this.shared);
  }

  inc(labels: LabelValues<L>, value?: number): void;
  inc(value?: number): void;
  inc(a?: LabelValues<L> | number, value?: number): void {
    if (!this.shared.enabled) return;
    const labelled = typeof a === 'object' && a !== null;
    const v = (labelled ? value : a) ?? 1;
    // Checked before the series lookup so a bad value creates no series.
    if (typeof v !== 'number' || !(v >= 0)) throw invalidIncrement(this.name, v);
    this.resolve(labelled ? a : {}).inc(v);
  }

  labels(labels: LabelValues<L>): BoundCounter {
    return this.resolve(labels);
  }

  protected values(): PromValue[] {
    return this.allSeries().map((s) => ({
      value: s.value,
      labels: { ...s.labels },
      exemplar: s.exemplar
        ? {
            labelSet: exemplarLabelSet(s.exemplar.traceId, s.exemplar.spanId),
            value: s.exemplar.value,
            timestamp: s.exemplar.timestampMs / 1000,
          }
        : undefined,
    }));
  }

  renderSeries(s: CounterSeries, openMetrics: boolean): string {
    if (openMetrics) {
      const head = (s.omHead ??= BaseMetric.head(this.familyName(true) + '_total', s.labelStr) + ' ');
      return s.exemplar === undefined
        ? head + formatValue(s.value) + '\n'
        : head + formatValue(s.value) + formatExemplar(s.exemplar) + '\n';
    }
    return (s.textHead ??= BaseMetric.head(this.name, s.labelStr) + ' ') + formatValue(s.value) + '\n';
  }
}
