// Anomaly detection for any series: each series of the rule's expression keeps a window of its
// past values; a new value whose robust z-score |x − median| / (1.4826 · MAD) reaches the
// threshold is anomalous (after `minSamples` values and the warm-up). Outliers barely move a
// median, so one incident does not teach the baseline that the incident is normal.
import type { AnomalyRule } from './rules';
import type { Vector } from './promql/eval';
import { fingerprint } from './state';

const MAD_SCALE = 1.4826;

export function median(sorted: ArrayLike<number>): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const mid = n >> 1;
  return n % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Robust z-score of `x` against `baseline`; 0 when x equals a flat baseline, ±Infinity when it leaves it. */
export function robustZ(x: number, baseline: readonly number[]): number {
  const sorted = Float64Array.from(baseline).sort();
  const med = median(sorted);
  const dev = Float64Array.from(baseline, (v) => Math.abs(v - med)).sort();
  let scale = MAD_SCALE * median(dev);
  if (scale === 0) {
    // More than half the values equal the median: fall back to the mean absolute deviation.
    let sum = 0;
    for (const d of dev) sum += d;
    scale = 1.2533 * (sum / dev.length);
  }
  const diff = x - med;
  if (scale === 0) return diff === 0 ? 0 : diff > 0 ? Infinity : -Infinity;
  return diff / scale;
}

interface SeriesBaseline {
  values: number[];
  lastSeen: number;
}

export class AnomalyDetector {
  private readonly series = new Map<string, SeriesBaseline>();
  private readonly threshold: number;
  private readonly minSamples: number;
  private readonly baselineSize: number;
  private readonly direction: 'up' | 'down' | 'both';
  private readonly warmupUntil: number;
  /** z-scores of the last evaluation by fingerprint of the series labels. */
  readonly scores = new Map<string, number>();

  constructor(rule: AnomalyRule, addedAt: number) {
    this.threshold = rule.threshold ?? 3.5;
    this.minSamples = rule.minSamples ?? 30;
    this.baselineSize = rule.baselineSize ?? 120;
    this.direction = rule.direction ?? 'up';
    this.warmupUntil = addedAt + (rule.warmupMs ?? 0);
  }

  /** Feeds one evaluation's values; returns the anomalous series (value = the observed value). */
  observe(values: Vector, now: number): Vector {
    const out: Vector = [];
    this.scores.clear();
    for (const s of values) {
      if (!Number.isFinite(s.value)) continue;
      const fp = fingerprint(s.labels);
      let b = this.series.get(fp);
      if (b === undefined) this.series.set(fp, (b = { values: [], lastSeen: now }));
      b.lastSeen = now;
      if (b.values.length >= this.minSamples && now >= this.warmupUntil) {
        const z = robustZ(s.value, b.values);
        this.scores.set(fp, z);
        const hit =
          this.direction === 'up'
            ? z >= this.threshold
            : this.direction === 'down'
              ? z <= -this.threshold
              : Math.abs(z) >= this.threshold;
        if (hit) out.push(s);
      }
      b.values.push(s.value);
      if (b.values.length > this.baselineSize) b.values.shift();
    }
    // Series gone for longer than a full baseline are forgotten (bounded memory).
    if (this.series.size > values.length)
      for (const [fp, b] of this.series) if (now - b.lastSeen > 3_600_000) this.series.delete(fp);
    return out;
  }
}
