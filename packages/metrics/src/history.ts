// In-process history of chosen series for alerting and /status: on an unref'ed interval every
// selected series is copied into a fixed-size ring (one Float64Array per series), so memory is
// bounded by retention / interval × series (and series by the cardinality limit). Queries work
// on the samples inside a window that ends at the latest sample, summing the matching series.
import type { Registry } from 'prom-client';
import { BaseMetric, MetricKind, SeriesBase } from './base';
import { CounterSeries } from './counter';
import { MetricsConfigError, UntrackedMetricError } from './errors';
import { GaugeSeries } from './gauge';
import { HistogramMetric, HistogramSeries } from './histogram';
import { SummarySeries } from './summary';

export interface SeriesSelector {
  name: string;
  /** Only series whose labels include these pairs. Default: every series of the metric. */
  labels?: Record<string, string | number>;
}

export interface HistoryOptions {
  /** Metric names or selectors to sample. */
  series: ReadonlyArray<string | SeriesSelector>;
  /** Sampling interval. Default 10000 ms. */
  intervalMs?: number;
  /** How long samples are kept. Default 900000 ms (15 min). */
  retentionMs?: number;
}

export type Labels = Record<string, string | number>;

/** The raw samples of one tracked series (see `History.raw`). */
export interface RawSeries {
  /** The series' own labels (no metric name). */
  labels: Readonly<Record<string, string>>;
  kind: MetricKind;
  /** Histograms: bucket upper bounds (+Inf implied). */
  bounds: Float64Array | undefined;
  /** Values per sample: 1 for counters/gauges; per-bucket (non-cumulative) counts, +Inf, sum, count for histograms; sum, count for summaries. */
  width: number;
  /** Sample times (ms), oldest first. */
  times: Float64Array;
  /** `times.length × width` values, row per sample; NaN where the series was absent. */
  values: Float64Array;
}

interface Track {
  labels: Readonly<Record<string, string>>;
  kind: MetricKind;
  /** Values per sample: 1 for counters/gauges; bucket counts + sum + count for histograms; sum + count for summaries. */
  width: number;
  bounds: Float64Array | undefined;
  data: Float64Array;
  lastTick: number;
}

const MAX_SAMPLES = 100_000;

function matches(labels: Readonly<Record<string, string>>, want: Labels | undefined): boolean {
  if (want === undefined) return true;
  for (const k in want) if (labels[k] !== String(want[k])) return false;
  return true;
}

export class History {
  readonly intervalMs: number;
  readonly retentionMs: number;
  private readonly registry: Registry;
  private readonly selectors: Array<{ name: string; labels?: Labels; since?: number }>;
  private readonly names: Set<string>;
  private readonly capacity: number;
  private readonly times: Float64Array;
  private head = -1;
  private size = 0;
  private tick = 0;
  private readonly tracks = new Map<SeriesBase, Track>();
  private readonly byName = new Map<string, Track[]>();
  private timer: NodeJS.Timeout | undefined;
  private readonly onClose: () => void;

  constructor(registry: Registry, options: HistoryOptions, onClose: () => void) {
    if (
      options === null ||
      typeof options !== 'object' ||
      !Array.isArray(options.series) ||
      options.series.length === 0
    ) {
      throw new MetricsConfigError(
        'history series',
        'a non-empty array of metric names or { name, labels }',
        options?.series,
      );
    }
    this.intervalMs = options.intervalMs ?? 10_000;
    this.retentionMs = options.retentionMs ?? 900_000;
    if (!Number.isInteger(this.intervalMs) || this.intervalMs < 10)
      throw new MetricsConfigError('history intervalMs', 'an integer >= 10 (milliseconds)', this.intervalMs);
    if (!Number.isInteger(this.retentionMs) || this.retentionMs < this.intervalMs)
      throw new MetricsConfigError('history retentionMs', 'an integer >= intervalMs (milliseconds)', this.retentionMs);
    this.capacity = Math.ceil(this.retentionMs / this.intervalMs) + 1;
    if (this.capacity > MAX_SAMPLES)
      throw new MetricsConfigError(
        'history retentionMs / intervalMs',
        `at most ${MAX_SAMPLES} samples per series`,
        this.capacity,
      );
    this.selectors = options.series.map((s) => {
      const sel = typeof s === 'string' ? { name: s } : s;
      if (sel === null || typeof sel !== 'object' || typeof sel.name !== 'string' || sel.name === '')
        throw new MetricsConfigError('history series', 'metric names or { name, labels }', s);
      return { name: sel.name, labels: sel.labels };
    });
    this.names = new Set(this.selectors.map((s) => s.name));
    this.registry = registry;
    this.onClose = onClose;
    this.times = new Float64Array(this.capacity);
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  /** Takes a sample now (also done on the interval). Timestamps must increase; others are ignored. */
  sample(timestampMs: number = Date.now()): void {
    if (this.size > 0 && timestampMs <= this.times[this.head]) return;
    this.head = (this.head + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
    this.times[this.head] = timestampMs;
    const tick = ++this.tick;
    for (const sel of this.selectors) {
      const metric = this.registry.getSingleMetric(sel.name) as unknown;
      if (!(metric instanceof BaseMetric)) continue;
      for (const s of metric.allSeries() as SeriesBase[]) {
        if (!matches(s.labels, sel.labels)) continue;
        let track = this.tracks.get(s);
        if (track === undefined) {
          track = this.newTrack(sel.name, metric, s);
          // A series first seen after the first sample did not exist at the previous one: its
          // counts were 0 then, so what it recorded since then counts as an increase.
          if (tick > 1 && metric.type !== 'gauge' && this.size > 1 && (sel.since ?? 0) < tick - 1) {
            const prev = (this.head - 1 + this.capacity) % this.capacity;
            track.data.fill(0, prev * track.width, (prev + 1) * track.width);
          }
        }
        if (track.lastTick === tick) continue;
        track.lastTick = tick;
        this.write(track, s);
      }
    }
    // A series that was not seen this tick (its metric was removed) gets a gap, not a stale value.
    for (const track of this.tracks.values()) {
      if (track.lastTick !== tick) track.data.fill(NaN, this.head * track.width, (this.head + 1) * track.width);
    }
  }

  /** Starts sampling another metric (or selector) too, from the next sample on. Idempotent per name. */
  track(series: string | SeriesSelector): void {
    const sel = typeof series === 'string' ? { name: series } : series;
    if (sel === null || typeof sel !== 'object' || typeof sel.name !== 'string' || sel.name === '')
      throw new MetricsConfigError('history series', 'a metric name or { name, labels }', series);
    if (this.names.has(sel.name) && sel.labels === undefined) return;
    // Its series existed before this: no zero-fill at the previous sample (that would read as an increase).
    this.selectors.push({ name: sel.name, labels: sel.labels, since: this.tick });
    this.names.add(sel.name);
  }

  /** Whether `name` is sampled. */
  isTracked(name: string): boolean {
    return this.names.has(name);
  }

  /** Raw samples of every tracked series of `name` with times in [fromMs, toMs], oldest first. */
  raw(name: string, fromMs = -Infinity, toMs = Infinity): RawSeries[] {
    const slots: number[] = [];
    for (let k = 0; k < this.size; k++) {
      const slot = (this.head - k + this.capacity) % this.capacity;
      const t = this.times[slot];
      if (t < fromMs) break;
      if (t <= toMs) slots.push(slot);
    }
    slots.reverse();
    const n = slots.length;
    const times = new Float64Array(n);
    for (let i = 0; i < n; i++) times[i] = this.times[slots[i]];
    return (this.byName.get(name) ?? []).map((t) => {
      const w = t.width;
      const values = new Float64Array(n * w);
      for (let i = 0; i < n; i++) {
        const from = slots[i] * w;
        for (let k = 0; k < w; k++) values[i * w + k] = t.data[from + k];
      }
      return { labels: t.labels, kind: t.kind, bounds: t.bounds, width: w, times, values };
    });
  }

  private newTrack(name: string, metric: BaseMetric<SeriesBase>, s: SeriesBase): Track {
    const bounds = metric instanceof HistogramMetric ? (metric.bounds as Float64Array) : undefined;
    const width = bounds ? bounds.length + 3 : metric.type === 'summary' ? 2 : 1;
    const track: Track = {
      labels: s.labels,
      kind: metric.type,
      width,
      bounds,
      data: new Float64Array(this.capacity * width).fill(NaN),
      lastTick: 0,
    };
    this.tracks.set(s, track);
    let list = this.byName.get(name);
    if (list === undefined) this.byName.set(name, (list = []));
    list.push(track);
    return track;
  }

  private write(track: Track, s: SeriesBase): void {
    const at = this.head * track.width;
    const d = track.data;
    if (s instanceof CounterSeries || s instanceof GaugeSeries) d[at] = s.value;
    else if (s instanceof HistogramSeries) {
      d.set(s.counts, at);
      d[at + track.width - 2] = s.sum;
      d[at + track.width - 1] = s.count;
    } else if (s instanceof SummarySeries) {
      d[at] = s.sum;
      d[at + 1] = s.count;
    }
  }

  /** Ring slots of the samples in (latest - windowMs, latest], oldest first. */
  private window(windowMs: number): number[] {
    if (!(windowMs > 0)) throw new MetricsConfigError('windowMs', 'a number of milliseconds > 0', windowMs);
    const slots: number[] = [];
    if (this.size === 0) return slots;
    const end = this.times[this.head];
    for (let k = 0; k < this.size; k++) {
      const slot = (this.head - k + this.capacity) % this.capacity;
      if (this.times[slot] < end - windowMs) break;
      slots.push(slot);
    }
    return slots.reverse();
  }

  private matching(name: string, labels: Labels | undefined): Track[] {
    if (!this.names.has(name)) throw new UntrackedMetricError(name);
    return (this.byName.get(name) ?? []).filter((t) => matches(t.labels, labels));
  }

  /** Increase of value `offset` over the slots, counting a drop as a counter reset. */
  private static increase(track: Track, slots: number[], offset: number): number {
    let total = 0;
    let prev = NaN;
    for (const slot of slots) {
      const v = track.data[slot * track.width + offset];
      if (v !== v) continue;
      if (prev === prev) total += v >= prev ? v - prev : v;
      prev = v;
    }
    return total;
  }

  /**
   * Per-second rate over the window, summed over matching series: counters' increase (resets
   * handled), gauges' change, histograms' and summaries' observations. Undefined with < 2 samples.
   */
  rate(name: string, labels: Labels | undefined, windowMs: number): number | undefined {
    const tracks = this.matching(name, labels);
    const slots = this.window(windowMs);
    if (slots.length < 2 || tracks.length === 0) return undefined;
    const seconds = (this.times[slots[slots.length - 1]] - this.times[slots[0]]) / 1000;
    let total = 0;
    for (const t of tracks) {
      if (t.kind === 'gauge') {
        const vals = slots.map((s) => t.data[s]).filter((v) => v === v);
        if (vals.length >= 2) total += vals[vals.length - 1] - vals[0];
      } else total += History.increase(t, slots, t.width - 1);
    }
    return total / seconds;
  }

  /** Counters and gauges: mean of the sampled (summed) values. Histograms and summaries: mean observation (Δsum / Δcount). */
  avg(name: string, labels: Labels | undefined, windowMs: number): number | undefined {
    const tracks = this.matching(name, labels);
    const slots = this.window(windowMs);
    if (tracks.length === 0 || slots.length === 0) return undefined;
    if (tracks[0].kind === 'histogram' || tracks[0].kind === 'summary') {
      let sum = 0;
      let count = 0;
      for (const t of tracks) {
        sum += History.increase(t, slots, t.width - 2);
        count += History.increase(t, slots, t.width - 1);
      }
      return count > 0 ? sum / count : undefined;
    }
    const sums = this.tickSums(tracks, slots);
    return sums.length ? sums.reduce((a, b) => a + b, 0) / sums.length : undefined;
  }

  /** Counters and gauges: the highest sampled (summed) value. Histograms: the 1.0 quantile estimate. */
  max(name: string, labels: Labels | undefined, windowMs: number): number | undefined {
    const tracks = this.matching(name, labels);
    if (tracks.length && tracks[0].kind === 'histogram') return this.quantile(name, labels, 1, windowMs);
    const sums = this.tickSums(tracks, this.window(windowMs));
    return sums.length ? Math.max(...sums) : undefined;
  }

  /**
   * Quantile `q` (0..1) of a histogram's observations within the window, interpolated in the
   * bucket like Prometheus' histogram_quantile. Undefined when nothing was observed.
   */
  quantile(name: string, labels: Labels | undefined, q: number, windowMs: number): number | undefined {
    if (typeof q !== 'number' || !(q >= 0 && q <= 1))
      throw new MetricsConfigError('quantile q', 'a number between 0 and 1', q);
    const tracks = this.matching(name, labels);
    if (tracks.some((t) => t.kind !== 'histogram'))
      throw new MetricsConfigError(`quantile metric ${name}`, 'a histogram', tracks[0]?.kind);
    const slots = this.window(windowMs);
    if (tracks.length === 0 || slots.length < 2) return undefined;
    const bounds = tracks[0].bounds as Float64Array;
    const deltas = new Float64Array(bounds.length + 1);
    for (const t of tracks) for (let i = 0; i <= bounds.length; i++) deltas[i] += History.increase(t, slots, i);
    const total = deltas.reduce((a, b) => a + b, 0);
    if (total === 0) return undefined;
    const rank = q * total;
    let cum = 0;
    for (let i = 0; i < deltas.length; i++) {
      if (deltas[i] === 0 || cum + deltas[i] < rank) {
        cum += deltas[i];
        continue;
      }
      if (i === bounds.length) return bounds[bounds.length - 1];
      const lower = i === 0 ? Math.min(0, bounds[0]) : bounds[i - 1];
      return lower + (bounds[i] - lower) * ((rank - cum) / deltas[i]);
    }
    return bounds[bounds.length - 1];
  }

  private tickSums(tracks: Track[], slots: number[]): number[] {
    const sums: number[] = [];
    for (const slot of slots) {
      let sum = 0;
      let any = false;
      for (const t of tracks) {
        const v = t.data[slot * t.width];
        if (v === v) {
          sum += v;
          any = true;
        }
      }
      if (any) sums.push(sum);
    }
    return sums;
  }

  /** Stops sampling. Idempotent. */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.onClose();
  }
}
