// GET /status/series over a @periscope/metrics History: the points the page draws as sparklines.
// Counters become per-second rates, gauges their value (summed over label sets), histograms and
// summaries their observation rate plus p95 (histograms) or mean (summaries) per step.
import { HttpError } from '../errors';

/** The part of a metrics `History` read here: `raw()` of @periscope/metrics. */
export interface HistorySource {
  raw(
    name: string,
    fromMs?: number,
    toMs?: number,
  ): ReadonlyArray<{
    kind: string;
    bounds: ArrayLike<number> | undefined;
    width: number;
    times: ArrayLike<number>;
    values: ArrayLike<number>;
  }>;
}

export interface SeriesOptions {
  history: HistorySource;
  /** The metric names the page shows (each must be tracked by the history). */
  names: readonly string[];
}

export interface SeriesDocument {
  name: string;
  kind: string;
  /** `[epoch ms, value]`: per second for counters and for `rate` of histograms/summaries. */
  points: [number, number][];
  /** Histograms: p95 of each step's observations; summaries: their mean. */
  latency?: [number, number][];
}

type Raw = ReturnType<HistorySource['raw']>[number];

function delta(a: number, b: number): number {
  if (a !== a || b !== b) return 0;
  return b >= a ? b - a : b; // a drop is a reset
}

/** Quantile of non-cumulative bucket counts with linear interpolation inside the bucket. */
function quantile(bounds: ArrayLike<number>, counts: number[], q: number): number {
  const total = counts.reduce((x, y) => x + y, 0);
  if (!(total > 0)) return NaN;
  let seen = 0;
  for (let b = 0; b < counts.length; b++) {
    if (seen + counts[b] >= q * total) {
      if (b >= bounds.length) return bounds[bounds.length - 1];
      const lo = b === 0 ? 0 : bounds[b - 1];
      return lo + (bounds[b] - lo) * ((q * total - seen) / counts[b]);
    }
    seen += counts[b];
  }
  return bounds[bounds.length - 1];
}

function step(all: Raw[], i: number, dt: number, doc: SeriesDocument, t: number): void {
  const kind = doc.kind;
  if (kind === 'gauge') {
    doc.points.push([t, all.reduce((s, r) => s + (r.values[i] === r.values[i] ? r.values[i] : 0), 0)]);
    return;
  }
  if (kind === 'counter') {
    doc.points.push([t, all.reduce((s, r) => s + delta(r.values[i - 1], r.values[i]), 0) / dt]);
    return;
  }
  const w = all[0].width;
  let count = 0;
  let sum = 0;
  const buckets = new Array<number>(kind === 'histogram' ? w - 2 : 0).fill(0);
  for (const r of all) {
    count += delta(r.values[(i - 1) * w + w - 1], r.values[i * w + w - 1]);
    sum += delta(r.values[(i - 1) * w + w - 2], r.values[i * w + w - 2]);
    for (let b = 0; b < buckets.length; b++) buckets[b] += delta(r.values[(i - 1) * w + b], r.values[i * w + b]);
  }
  doc.points.push([t, count / dt]);
  const latency = kind === 'histogram' ? quantile(all[0].bounds ?? [], buckets, 0.95) : count > 0 ? sum / count : NaN;
  if (latency === latency) (doc.latency ??= []).push([t, latency]);
}

export function seriesDocument(options: SeriesOptions, name: string): SeriesDocument {
  if (!options.names.includes(name))
    throw new HttpError(404, `no series named ${JSON.stringify(name.slice(0, 100))} (GET /status/series lists them)`);
  const all = [...options.history.raw(name)];
  const doc: SeriesDocument = { name, kind: all[0]?.kind ?? 'unknown', points: [] };
  if (all.length === 0) return doc;
  const times = all[0].times;
  for (let i = doc.kind === 'gauge' ? 0 : 1; i < times.length; i++) {
    const dt = i === 0 ? 1 : (times[i] - times[i - 1]) / 1000;
    if (dt > 0) step(all, i, dt, doc, times[i]);
  }
  return doc;
}

export function isSeriesOptions(value: unknown): value is SeriesOptions {
  const v = value as Partial<SeriesOptions> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.history?.raw === 'function' &&
    Array.isArray(v.names) &&
    v.names.every((n) => typeof n === 'string')
  );
}
