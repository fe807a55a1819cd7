// Histogram: per series, bucket counts in a Float64Array (non-cumulative; summed at exposition),
// a sum and a count. The bucket is found by a linear scan for short bucket lists (cache-friendly,
// usually a handful of compares) and by binary search for long ones.
import {
  exemplarLabelSet,
  invalidObservation,
  ObservingMetric,
  secondsTimer,
  PromValue,
  SeriesBase,
  Shared,
} from './base';
import { MetricsConfigError } from './errors';
import { captureExemplar, Exemplar, formatExemplar } from './exemplar';
import { formatValue } from './labels';
import type { BoundHistogram, Histogram } from './types';

const LINEAR_SCAN_MAX = 16;

export class HistogramSeries extends SeriesBase implements BoundHistogram {
  /** counts[i] observations in (bounds[i-1], bounds[i]]; the last slot is (last bound, +Inf). */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  /** One exemplar per bucket, allocated on the first one. */
  exemplars: (Exemplar | undefined)[] | undefined = undefined;
  bucketHead: string | undefined = undefined;
  /**
   * The last rendering and the count and format it was made for: a series that saw no
   * observation since the last scrape (most of them, in a large registry) is not rendered again.
   * `count` only grows between resets, so it identifies the state at no cost to observe().
   */
  rendered: string | undefined = undefined;
  renderedCount = -1;
  renderedOpenMetrics = false;
  readonly metric: HistogramMetric<string>;
  private readonly bounds: Float64Array;

  constructor(
    metric: HistogramMetric<string>,
    labels: Readonly<Record<string, string>>,
    labelStr: string,
    shared: Shared,
  ) {
    super(labels, labelStr, shared);
    this.metric = metric;
    this.bounds = metric.bounds;
    this.counts = new Float64Array(metric.bounds.length + 1);
  }

  observe(value: number): void {
    const shared = this.shared;
    if (!shared.enabled) return;
    if (typeof value !== 'number' || value !== value) throw invalidObservation(this.metric.name, value);
    const b = this.bounds;
    const n = b.length;
    let i = 0;
    if (n <= LINEAR_SCAN_MAX) {
      while (i < n && value > b[i]) i++;
    } else {
      let hi = n;
      while (i < hi) {
        const mid = (i + hi) >>> 1;
        if (value > b[mid]) i = mid + 1;
        else hi = mid;
      }
    }
    this.counts[i]++;
    this.sum += value;
    this.count++;
    if (shared.exemplars) {
      const ex = captureExemplar(value, this.exemplars?.[i]);
      if (ex !== undefined) (this.exemplars ??= new Array<Exemplar | undefined>(n + 1).fill(undefined))[i] = ex;
    }
  }

  startTimer(): () => number {
    return secondsTimer((seconds) => this.observe(seconds));
  }

  zero(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
    this.exemplars = undefined;
    this.rendered = undefined;
    this.renderedCount = -1;
  }
}

/** Validates and copies bucket bounds: finite, strictly increasing; a trailing +Inf is dropped. */
export function checkBuckets(metric: string, buckets: readonly number[]): Float64Array {
  const list = buckets.length && buckets[buckets.length - 1] === Infinity ? buckets.slice(0, -1) : buckets;
  if (!Array.isArray(list) || list.length === 0)
    throw new MetricsConfigError(
      `buckets of ${metric}`,
      'a non-empty array of finite, strictly increasing numbers',
      buckets,
    );
  for (let i = 0; i < list.length; i++) {
    if (typeof list[i] !== 'number' || !Number.isFinite(list[i]) || (i > 0 && list[i] <= list[i - 1])) {
      throw new MetricsConfigError(
        `buckets of ${metric}`,
        'a non-empty array of finite, strictly increasing numbers',
        buckets,
      );
    }
  }
  return Float64Array.from(list);
}

export class HistogramMetric<L extends string> extends ObservingMetric<L, HistogramSeries> implements Histogram<L> {
  readonly type = 'histogram' as const;
  readonly bounds: Float64Array;
  /** `le` label values, pre-formatted. */
  readonly les: string[];

  constructor(name: string, help: string, labelNames: readonly L[], bounds: Float64Array, shared: Shared) {
    super(name, help, labelNames, shared);
    this.bounds = bounds;
    this.les = [...Array.from(bounds, formatValue), '+Inf'];
    this.init();
  }

  protected createSeries(labels: Readonly<Record<string, string>>, labelStr: string): HistogramSeries {
    return new HistogramSeries(this as HistogramMetric<string>, labels, labelStr, this.shared);
  }

  protected values(): PromValue[] {
    const out: PromValue[] = [];
    for (const s of this.allSeries()) {
      let cum = 0;
      for (let i = 0; i < s.counts.length; i++) {
        cum += s.counts[i];
        const ex = s.exemplars?.[i];
        out.push({
          metricName: this.name + '_bucket',
          labels: { ...s.labels, le: this.les[i] },
          value: cum,
          exemplar: ex
            ? { labelSet: exemplarLabelSet(ex.traceId, ex.spanId), value: ex.value, timestamp: ex.timestampMs / 1000 }
            : undefined,
        });
      }
      out.push({ metricName: this.name + '_sum', labels: { ...s.labels }, value: s.sum });
      out.push({ metricName: this.name + '_count', labels: { ...s.labels }, value: s.count });
    }
    return out;
  }

  renderSeries(s: HistogramSeries, openMetrics: boolean): string {
    if (s.rendered !== undefined && s.renderedCount === s.count && s.renderedOpenMetrics === openMetrics)
      return s.rendered;
    const text = this.renderFresh(s, openMetrics);
    s.rendered = text;
    s.renderedCount = s.count;
    s.renderedOpenMetrics = openMetrics;
    return text;
  }

  private renderFresh(s: HistogramSeries, openMetrics: boolean): string {
    const head = (s.bucketHead ??= this.name + '_bucket{' + (s.labelStr ? s.labelStr + ',' : '') + 'le="');
    const les = this.les;
    const counts = s.counts;
    const ex = openMetrics ? s.exemplars : undefined;
    // One array joined per series leaves a single flat string instead of ~80 rope nodes per
    // series alive until the slice is joined, which keeps young-generation GC pauses short.
    const lines = new Array<string>(counts.length + 2);
    let cum = 0;
    for (let i = 0; i < counts.length; i++) {
      cum += counts[i];
      const e = ex?.[i];
      lines[i] = e === undefined ? head + les[i] + '"} ' + cum : head + les[i] + '"} ' + cum + formatExemplar(e);
    }
    const tail = s.labelStr ? '{' + s.labelStr + '} ' : ' ';
    lines[counts.length] = this.name + '_sum' + tail + formatValue(s.sum);
    lines[counts.length + 1] = this.name + '_count' + tail + s.count + '\n';
    return lines.join('\n');
  }
}
