// Plain-object snapshots of our metrics, for toJSON() and in-process consumers.
import { BaseMetric, SeriesBase } from './base';
import { CounterMetric } from './counter';
import { GaugeMetric } from './gauge';
import { HistogramMetric } from './histogram';
import { SummaryMetric } from './summary';

export interface ValueSeriesSnapshot {
  labels: Record<string, string>;
  value: number;
}
export interface HistogramSeriesSnapshot {
  labels: Record<string, string>;
  /** Cumulative counts by upper bound; the last entry is `le: Infinity`. */
  buckets: Array<{ le: number; count: number }>;
  sum: number;
  count: number;
}
export interface SummarySeriesSnapshot {
  labels: Record<string, string>;
  sum: number;
  count: number;
}

export type MetricSnapshot =
  | { name: string; help: string; type: 'counter' | 'gauge'; series: ValueSeriesSnapshot[] }
  | { name: string; help: string; type: 'histogram'; series: HistogramSeriesSnapshot[] }
  | { name: string; help: string; type: 'summary'; series: SummarySeriesSnapshot[] };

export function snapshotOf(metric: BaseMetric<SeriesBase>): MetricSnapshot {
  const { name, help } = metric;
  if (metric instanceof CounterMetric || metric instanceof GaugeMetric) {
    return {
      name,
      help,
      type: metric.type,
      series: metric.allSeries().map((s) => ({ labels: { ...s.labels }, value: s.value })),
    };
  }
  if (metric instanceof HistogramMetric) {
    const les = [...Array.from(metric.bounds as Float64Array), Infinity];
    return {
      name,
      help,
      type: 'histogram',
      series: metric.allSeries().map((s) => {
        let cum = 0;
        return {
          labels: { ...s.labels },
          buckets: les.map((le, i) => ({ le, count: (cum += s.counts[i]) })),
          sum: s.sum,
          count: s.count,
        };
      }),
    };
  }
  const summary = metric as SummaryMetric<string>;
  return {
    name,
    help,
    type: 'summary',
    series: summary.allSeries().map((s) => ({ labels: { ...s.labels }, sum: s.sum, count: s.count })),
  };
}
