// Our registry as OTLP metrics, cumulative: counters as monotonic sums, gauges as gauges,
// histograms as explicit-bucket histograms with the very bounds they were created with, summaries
// as summaries; exemplars (trace and span ids) carried over. Our own metrics are read from their
// series directly (no label objects built); prom-client's own (default Node metrics, anything
// registered directly) through their get().
import type { Registry } from 'prom-client';
import { BaseMetric, type PromMetricObject, type PromValue, type SeriesBase } from './base';
import { CounterMetric } from './counter';
import type { Exemplar } from './exemplar';
import { GaugeMetric } from './gauge';
import { HistogramMetric } from './histogram';
import type { HistogramPoint, NumberPoint, OtlpExemplar, OtlpMetric, SummaryPoint } from './otlp-encode';

/** The times of one export: every series counts from `start` (the process start: cumulative since then). */
export interface PointTimes {
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
}

const msToNano = (ms: number) => BigInt(Math.round(ms * 1000)) * 1000n;

function unitOf(name: string): string {
  if (/_seconds(_total|_bucket)?$/.test(name)) return 's';
  if (/_bytes(_total)?$/.test(name)) return 'By';
  if (/_ratio$/.test(name)) return '1';
  return '';
}

function toExemplar(e: Exemplar | undefined): OtlpExemplar[] {
  if (e === undefined) return [];
  return [{ timeUnixNano: msToNano(e.timestampMs), value: e.value, traceId: e.traceId, spanId: e.spanId }];
}

function ownMetric(m: BaseMetric<SeriesBase>, t: PointTimes): OtlpMetric | undefined {
  const base = { name: m.name, description: m.help, unit: unitOf(m.name) };
  const defaults = m.shared.defaultLabels;
  if (m instanceof CounterMetric || m instanceof GaugeMetric) {
    const points: NumberPoint[] = m.allSeries().map((s) => ({
      ...t,
      labels: s.labels,
      defaults,
      value: s.value,
      exemplars: m instanceof CounterMetric ? toExemplar((s as { exemplar?: Exemplar }).exemplar) : [],
    }));
    return m instanceof CounterMetric
      ? { ...base, kind: 'sum', monotonic: true, points }
      : { ...base, kind: 'gauge', points };
  }
  if (m instanceof HistogramMetric) {
    const points: HistogramPoint[] = m.allSeries().map((s) => ({
      ...t,
      labels: s.labels,
      defaults,
      count: s.count,
      sum: s.sum,
      bucketCounts: s.counts,
      explicitBounds: m.bounds,
      exemplars: (s.exemplars ?? []).flatMap(toExemplar),
    }));
    return { ...base, kind: 'histogram', points };
  }
  return undefined;
}

/** Values of a prom-client get(), grouped by series (labels without `le`/`quantile`). */
function groupSeries(
  values: PromValue[],
  dropLabel: string,
): Map<string, { labels: Record<string, string | number>; values: PromValue[] }> {
  const groups = new Map<string, { labels: Record<string, string | number>; values: PromValue[] }>();
  for (const v of values) {
    const labels = { ...v.labels };
    delete labels[dropLabel];
    const key = JSON.stringify(Object.entries(labels).sort());
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { labels, values: [] }));
    g.values.push(v);
  }
  return groups;
}

function parseBound(le: unknown): number {
  return le === '+Inf' ? Infinity : Number(le);
}

function foreignHistogram(
  o: PromMetricObject,
  t: PointTimes,
  defaults: Readonly<Record<string, string>>,
): HistogramPoint[] {
  return [...groupSeries(o.values, 'le').values()].map(({ labels, values }) => {
    const buckets = values
      .filter((v) => v.metricName?.endsWith('_bucket'))
      .map((v) => ({ le: parseBound(v.labels.le), cum: v.value }))
      .sort((a, b) => a.le - b.le);
    const counts = buckets.map((b, i) => b.cum - (i > 0 ? buckets[i - 1].cum : 0));
    return {
      ...t,
      labels,
      defaults,
      count: values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0,
      sum: values.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0,
      bucketCounts: counts,
      explicitBounds: buckets.filter((b) => b.le !== Infinity).map((b) => b.le),
      exemplars: [],
    };
  });
}

function foreignSummary(
  o: PromMetricObject,
  t: PointTimes,
  defaults: Readonly<Record<string, string>>,
): SummaryPoint[] {
  return [...groupSeries(o.values, 'quantile').values()].map(({ labels, values }) => ({
    ...t,
    labels,
    defaults,
    count: values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0,
    sum: values.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0,
    quantiles: values
      .filter((v) => v.labels.quantile !== undefined)
      .map((v) => ({ quantile: Number(v.labels.quantile), value: Number.isNaN(v.value) ? 0 : v.value })),
  }));
}

/** A metric known only through prom-client's get() (summaries, default metrics, foreign metrics). */
function foreignMetric(o: PromMetricObject, t: PointTimes, defaults: Readonly<Record<string, string>>): OtlpMetric {
  const base = { name: o.name, description: o.help, unit: unitOf(o.name) };
  switch (o.type) {
    case 'histogram':
      return { ...base, kind: 'histogram', points: foreignHistogram(o, t, defaults) };
    case 'summary':
      return { ...base, kind: 'summary', points: foreignSummary(o, t, defaults) };
    default: {
      const points: NumberPoint[] = o.values.map((v) => ({
        ...t,
        labels: v.labels,
        defaults,
        value: v.value,
        exemplars: [],
      }));
      return o.type === 'counter'
        ? { ...base, kind: 'sum', monotonic: true, points }
        : { ...base, kind: 'gauge', points };
    }
  }
}

/** Every metric of the registry, ready to encode. */
export async function collectOtlpMetrics(
  registry: Registry,
  defaults: Readonly<Record<string, string>>,
  t: PointTimes,
): Promise<OtlpMetric[]> {
  const out: OtlpMetric[] = [];
  for (const m of registry.getMetricsAsArray() as unknown[]) {
    const own = m instanceof BaseMetric ? ownMetric(m as BaseMetric<SeriesBase>, t) : undefined;
    if (own !== undefined) out.push(own);
    else
      out.push(
        foreignMetric((await (m as { get(): Promise<PromMetricObject> }).get()) as PromMetricObject, t, defaults),
      );
  }
  return out;
}
