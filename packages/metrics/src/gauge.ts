// Gauge: a value per series that can go up and down.
import { BaseMetric, PromValue, SeriesBase, Shared } from './base';
import { InvalidValueError } from './errors';
import { formatValue } from './labels';
import type { BoundGauge, Gauge, LabelValues } from './types';

export class GaugeSeries extends SeriesBase implements BoundGauge {
  value = 0;
  head: string | undefined = undefined;
  readonly metricName: string;

  constructor(metricName: string, labels: Readonly<Record<string, string>>, labelStr: string, shared: Shared) {
    super(labels, labelStr, shared);
    this.metricName = metricName;
  }

  set(value: number): void {
    if (!this.shared.enabled) return;
    if (typeof value !== 'number') throw new InvalidValueError(this.metricName, value, 'gauge values must be numbers');
    this.value = value;
  }

  inc(value = 1): void {
    if (!this.shared.enabled) return;
    if (typeof value !== 'number' || value !== value)
      throw new InvalidValueError(this.metricName, value, 'increments must be numbers');
    this.value += value;
  }

  dec(value = 1): void {
    if (!this.shared.enabled) return;
    if (typeof value !== 'number' || value !== value)
      throw new InvalidValueError(this.metricName, value, 'decrements must be numbers');
    this.value -= value;
  }

  zero(): void {
    this.value = 0;
  }
}

type Op = 'set' | 'inc' | 'dec';

export class GaugeMetric<L extends string> extends BaseMetric<GaugeSeries> implements Gauge<L> {
  readonly type = 'gauge' as const;

  constructor(name: string, help: string, labelNames: readonly L[], shared: Shared) {
    super(name, help, labelNames, shared);
    this.init();
  }

  protected createSeries(labels: Readonly<Record<string, string>>, labelStr: string): GaugeSeries {
    return new GaugeSeries(this.name, labels, labelStr, this.shared);
  }

  private apply(op: Op, a: LabelValues<L> | number | undefined, value: number | undefined): void {
    if (!this.shared.enabled) return;
    const labelled = typeof a === 'object' && a !== null;
    const v = labelled ? value : a;
    // Checked before the series lookup so a bad value creates no series.
    if (op === 'set' ? typeof v !== 'number' : v !== undefined && (typeof v !== 'number' || v !== v)) {
      throw new InvalidValueError(this.name, v, op === 'set' ? 'set() needs a number' : `${op}() needs a number`);
    }
    const series = this.resolve(labelled ? a : {});
    if (op === 'set') series.set(v as number);
    else series[op](v ?? 1);
  }

  set(labels: LabelValues<L>, value: number): void;
  set(value: number): void;
  set(a: LabelValues<L> | number, value?: number): void {
    this.apply('set', a, value);
  }

  inc(labels: LabelValues<L>, value?: number): void;
  inc(value?: number): void;
  inc(a?: LabelValues<L> | number, value?: number): void {
    this.apply('inc', a, value);
  }

  dec(labels: LabelValues<L>, value?: number): void;
  dec(value?: number): void;
  dec(a?: LabelValues<L> | number, value?: number): void {
    this.apply('dec', a, value);
  }

  labels(labels: LabelValues<L>): BoundGauge {
    return this.resolve(labels);
  }

  protected values(): PromValue[] {
    return this.allSeries().map((s) => ({ value: s.value, labels: { ...s.labels } }));
  }

  renderSeries(s: GaugeSeries): string {
    return (s.head ??= BaseMetric.head(this.name, s.labelStr) + ' ') + formatValue(s.value) + '\n';
  }
}
