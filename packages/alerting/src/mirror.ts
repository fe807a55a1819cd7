// An incremental copy of the history's recent samples, per metric name, in the form the evaluator
// reads (one time/value column per Prometheus series). Each select() appends only the samples
// that arrived since the last one and trims what is older than asked for, so evaluating every
// second costs one row per series instead of re-copying every window from the ring. A window that
// reaches past the history's retention may still see samples the ring has since dropped.
import type { History, RawSeries } from '@periscope/metrics';
import type { SourceSeries } from './source';

type Labels = Readonly<Record<string, string>>;

/** A growable column of doubles with O(1) amortised append and trim-from-front. */
class Column {
  buf: Float64Array;
  start = 0;
  end = 0;
  constructor(capacity = 64) {
    this.buf = new Float64Array(capacity);
  }
  get length(): number {
    return this.end - this.start;
  }
  push(v: number): void {
    if (this.end === this.buf.length) {
      const n = this.length;
      if (n * 2 > this.buf.length) {
        const next = new Float64Array(Math.max(64, n * 2));
        next.set(this.buf.subarray(this.start, this.end));
        this.buf = next;
      } else this.buf.copyWithin(0, this.start, this.end);
      this.start = 0;
      this.end = n;
    }
    this.buf[this.end++] = v;
  }
  dropFirst(k: number): void {
    this.start += Math.min(k, this.length);
  }
  view(): Float64Array {
    return this.buf.subarray(this.start, this.end);
  }
}

interface MirroredSeries {
  labels: Labels;
  times: Column;
  values: Column;
}

/** Series derived from one history track: (labels, which value of the row). */
export type Deriver = (raw: RawSeries) => Array<{ labels: Labels; pick: (values: Float64Array, at: number) => number }>;

export class MetricMirror {
  private readonly series = new Map<string, MirroredSeries>();
  private readonly derivers = new WeakMap<
    Labels,
    Array<{ labels: Labels; pick: (v: Float64Array, at: number) => number }>
  >();
  private coveredFrom = Infinity;
  private lastTime = -Infinity;

  constructor(
    private readonly history: History,
    private readonly trackName: string,
    private readonly derive: Deriver,
  ) {}

  select(fromMs: number, toMs: number): SourceSeries[] {
    if (fromMs < this.coveredFrom) this.reset(fromMs);
    this.append(this.history.raw(this.trackName, this.lastTime === -Infinity ? fromMs : this.lastTime + 1e-3));
    this.trim(fromMs);
    const out: SourceSeries[] = [];
    for (const s of this.series.values()) {
      if (s.times.length === 0) continue;
      const times = s.times.view();
      const values = s.values.view();
      let b = times.length;
      while (b > 0 && times[b - 1] > toMs) b--;
      if (b > 0) out.push({ labels: s.labels, times: times.subarray(0, b), values: values.subarray(0, b) });
    }
    return out;
  }

  private reset(fromMs: number): void {
    this.series.clear();
    this.coveredFrom = fromMs;
    this.lastTime = -Infinity;
  }

  private append(raws: RawSeries[]): void {
    for (const raw of raws) {
      let derived = this.derivers.get(raw.labels);
      if (derived === undefined) this.derivers.set(raw.labels, (derived = this.derive(raw)));
      for (let i = 0; i < raw.times.length; i++) {
        const at = i * raw.width;
        if (raw.values[at] !== raw.values[at]) continue; // absent at this sample
        for (const d of derived) {
          const key = seriesKey(d.labels);
          let s = this.series.get(key);
          if (s === undefined)
            this.series.set(key, (s = { labels: d.labels, times: new Column(), values: new Column() }));
          s.times.push(raw.times[i]);
          s.values.push(d.pick(raw.values, at));
        }
      }
      if (raw.times.length > 0) this.lastTime = Math.max(this.lastTime, raw.times[raw.times.length - 1]);
    }
  }

  private trim(fromMs: number): void {
    this.coveredFrom = Math.max(this.coveredFrom === Infinity ? fromMs : this.coveredFrom, fromMs);
    for (const [key, s] of this.series) {
      const t = s.times.view();
      let k = 0;
      while (k < t.length && t[k] < fromMs) k++;
      s.times.dropFirst(k);
      s.values.dropFirst(k);
      if (s.times.length === 0 && k > 0) this.series.delete(key);
    }
  }
}

const keys = new WeakMap<Labels, string>();
function seriesKey(labels: Labels): string {
  let key = keys.get(labels);
  if (key === undefined) {
    key = '';
    for (const k of Object.keys(labels).sort()) key += `${k.length}:${k}${labels[k].length}:${labels[k]}`;
    keys.set(labels, key);
  }
  return key;
}
