// PromQL's functions over samples, transcribed from Prometheus 2.x (promql/functions.go,
// promql/quantile.go) so that the in-process evaluator agrees with Prometheus number for number.

/**
 * `rate`/`increase`/`delta`: the change over the samples, corrected for counter resets, then
 * extrapolated towards the window edges as Prometheus' extrapolatedRate does. Undefined with < 2 samples.
 */
export function extrapolatedRate(
  times: ArrayLike<number>,
  values: ArrayLike<number>,
  rangeStartMs: number,
  rangeEndMs: number,
  isCounter: boolean,
  isRate: boolean,
): number | undefined {
  const n = values.length;
  if (n < 2) return undefined;
  const first = values[0];
  let result = values[n - 1] - first;
  if (isCounter) {
    let prev = first;
    for (let i = 1; i < n; i++) {
      if (values[i] < prev) result += prev;
      prev = values[i];
    }
  }
  let durationToStart = (times[0] - rangeStartMs) / 1000;
  const durationToEnd = (rangeEndMs - times[n - 1]) / 1000;
  const sampledInterval = (times[n - 1] - times[0]) / 1000;
  const averageDurationBetweenSamples = sampledInterval / (n - 1);
  if (isCounter && result > 0 && first >= 0) {
    const durationToZero = sampledInterval * (first / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  const threshold = averageDurationBetweenSamples * 1.1;
  let extrapolateToInterval = sampledInterval;
  extrapolateToInterval += durationToStart < threshold ? durationToStart : averageDurationBetweenSamples / 2;
  extrapolateToInterval += durationToEnd < threshold ? durationToEnd : averageDurationBetweenSamples / 2;
  result *= extrapolateToInterval / sampledInterval;
  if (isRate) result /= (rangeEndMs - rangeStartMs) / 1000;
  return result;
}

/** Prometheus' quantile over plain values (linear interpolation between ranks). */
export function quantile(q: number, values: ArrayLike<number>): number {
  if (values.length === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return sorted[lower] * (1 - weight) + sorted[upper] * weight;
}

export interface Bucket {
  upperBound: number;
  count: number;
}

/** Prometheus' bucketQuantile: interpolates inside the bucket that holds rank q × total. */
export function bucketQuantile(q: number, input: Bucket[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = [...input].sort((a, b) => a.upperBound - b.upperBound);
  if (sorted.length === 0 || sorted[sorted.length - 1].upperBound !== Infinity) return NaN;
  const buckets: Bucket[] = [];
  for (const b of sorted) {
    const last = buckets[buckets.length - 1];
    if (last !== undefined && last.upperBound === b.upperBound) last.count += b.count;
    else buckets.push({ ...b });
  }
  let max = -Infinity;
  for (const b of buckets) {
    if (b.count > max) max = b.count;
    else b.count = max;
  }
  if (buckets.length < 2) return NaN;
  const observations = buckets[buckets.length - 1].count;
  if (observations === 0) return NaN;
  let rank = q * observations;
  let b = buckets.findIndex((x) => x.count >= rank);
  if (b === -1) b = buckets.length - 1;
  if (b === buckets.length - 1) return buckets[buckets.length - 2].upperBound;
  if (b === 0 && buckets[0].upperBound <= 0) return buckets[0].upperBound;
  let bucketStart = 0;
  const bucketEnd = buckets[b].upperBound;
  let count = buckets[b].count;
  if (b > 0) {
    bucketStart = buckets[b - 1].upperBound;
    count -= buckets[b - 1].count;
    rank -= buckets[b - 1].count;
  }
  return bucketStart + (bucketEnd - bucketStart) * (rank / count);
}

function sum(values: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i];
  return total;
}

/** The `*_over_time` functions; undefined for an empty window. */
export function overTime(func: string, values: ArrayLike<number>, q = 0): number | undefined {
  const n = values.length;
  if (n === 0) return undefined;
  switch (func) {
    case 'avg_over_time':
      return sum(values) / n;
    case 'sum_over_time':
      return sum(values);
    case 'count_over_time':
      return n;
    case 'min_over_time': {
      let min = values[0];
      for (let i = 1; i < n; i++) if (values[i] < min || Number.isNaN(min)) min = values[i];
      return min;
    }
    case 'max_over_time': {
      let max = values[0];
      for (let i = 1; i < n; i++) if (values[i] > max || Number.isNaN(max)) max = values[i];
      return max;
    }
    case 'quantile_over_time':
      return quantile(q, values);
    default:
      return undefined;
  }
}
