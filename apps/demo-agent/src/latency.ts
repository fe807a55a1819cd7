// Task latency for /status and the summary in constant memory: a log-bucketed histogram (each
// bucket 5% wider than the last, 1 ms to ~1 h), so a percentile costs one pass over ~300
// counters however many tasks ran, and is within 5% of the exact value.

const MIN_MS = 1;
const GROWTH = 1.05;
const BUCKETS = Math.ceil(Math.log(3_600_000 / MIN_MS) / Math.log(GROWTH)) + 1;
const LOG_GROWTH = Math.log(GROWTH);

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS + 1);
  private total = 0;
  private max = 0;

  /** Number of buckets: fixed, whatever the number of observations. */
  static readonly size = BUCKETS + 1;

  get count(): number {
    return this.total;
  }

  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.counts[bucketOf(ms)]++;
    this.total++;
    if (ms > this.max) this.max = ms;
  }

  /** The q-quantile (0..1): the upper bound of the bucket holding it, capped at the largest value seen; 0 when empty. */
  percentile(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(upperBound(i), this.max);
    }
    return this.max;
  }
}

function bucketOf(ms: number): number {
  if (ms <= MIN_MS) return 0;
  return Math.min(BUCKETS, Math.ceil(Math.log(ms / MIN_MS) / LOG_GROWTH));
}

function upperBound(i: number): number {
  return MIN_MS * Math.pow(GROWTH, i);
}
