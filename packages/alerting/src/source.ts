// Where the evaluator reads samples: @periscope/metrics' History, seen as Prometheus series. A
// histogram `x` appears as `x_bucket{le="…"}` (cumulative, like the exposition), `x_sum`, `x_count`;
// a summary as `x_sum` and `x_count`. Gaps (the series was absent at a sample) are skipped.
import type { History, RawSeries } from '@periscope/metrics';
import { MetricMirror, type Deriver } from './mirror';

export interface SourceSeries {
  /** Labels, `__name__` included. */
  labels: Readonly<Record<string, string>>;
  /** Sample times (ms), increasing. */
  times: Float64Array;
  values: Float64Array;
}

export interface SeriesSource {
  /** Every series of metric `name` with its samples in [fromMs, toMs], oldest first. */
  select(name: string, fromMs: number, toMs: number): SourceSeries[];
}

type Labels = Readonly<Record<string, string>>;
const SUFFIXES = ['_bucket', '_sum', '_count'] as const;

/** `le` as client libraries write it ("0.005", "1", "+Inf"). */
export function formatLe(bound: number): string {
  return bound === Infinity ? '+Inf' : String(bound);
}

/** Label objects derived from a track's (stable) labels, reused so per-label-set caches hit. */
const derived = new WeakMap<Labels, Map<string, Labels>>();

function labelsFor(base: Labels, name: string, le?: string): Labels {
  let byName = derived.get(base);
  if (byName === undefined) derived.set(base, (byName = new Map()));
  const key = le === undefined ? name : `${name}\u0000${le}`;
  let labels = byName.get(key);
  if (labels === undefined) {
    labels = le === undefined ? { ...base, __name__: name } : { ...base, __name__: name, le };
    byName.set(key, labels);
  }
  return labels;
}

function deriver(name: string, suffix: string | undefined): Deriver {
  return (raw: RawSeries) => {
    const w = raw.width;
    if (suffix === undefined) return w === 1 ? [{ labels: labelsFor(raw.labels, name), pick: (v, at) => v[at] }] : [];
    if (suffix === '_sum') return [{ labels: labelsFor(raw.labels, name), pick: (v, at) => v[at + w - 2] }];
    if (suffix === '_count') return [{ labels: labelsFor(raw.labels, name), pick: (v, at) => v[at + w - 1] }];
    const bounds = raw.bounds;
    if (bounds === undefined) return [];
    return Array.from({ length: bounds.length + 1 }, (_, b) => ({
      labels: labelsFor(raw.labels, name, formatLe(b === bounds.length ? Infinity : bounds[b])),
      pick: (v: Float64Array, at: number) => {
        let cum = 0;
        for (let k = 0; k <= b; k++) cum += v[at + k];
        return cum;
      },
    }));
  };
}

/** Which history track and which part of its rows a Prometheus series name reads. */
function resolve(history: History, name: string): { track: string; suffix?: string } | undefined {
  if (history.isTracked(name)) {
    const kinds = history.raw(name, Infinity);
    if (kinds.length > 0 && (kinds[0].kind === 'counter' || kinds[0].kind === 'gauge')) return { track: name };
  }
  for (const suffix of SUFFIXES) {
    if (!name.endsWith(suffix)) continue;
    const track = name.slice(0, -suffix.length);
    if (!history.isTracked(track)) continue;
    const kinds = history.raw(track, Infinity);
    if (kinds.length > 0)
      return kinds[0].kind === 'counter' || kinds[0].kind === 'gauge' ? undefined : { track, suffix };
  }
  return undefined;
}

/**
 * Reads a History as Prometheus series. Each metric name keeps an incremental mirror of its
 * recent samples (see mirror.ts). Metrics the history does not sample yield no series.
 */
export function historySource(history: History): SeriesSource {
  const mirrors = new Map<string, MetricMirror>();
  return {
    select(name, fromMs, toMs) {
      let mirror = mirrors.get(name);
      if (mirror === undefined) {
        const r = resolve(history, name);
        if (r === undefined) return []; // not sampled (yet): resolved again next time
        mirrors.set(name, (mirror = new MetricMirror(history, r.track, deriver(name, r.suffix))));
      }
      return mirror.select(fromMs, toMs);
    },
  };
}

/** The metric names an expression's selectors need sampled (a histogram's base name for `_bucket`). */
export function baseMetricName(name: string): string[] {
  const out = [name];
  for (const suffix of SUFFIXES) if (name.endsWith(suffix)) out.push(name.slice(0, -suffix.length));
  return out;
}
