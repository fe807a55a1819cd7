// An SLO's error budget computed in-process over the metrics history (for /status), with the same
// arithmetic as the `slo:*` recording rules: error ratio = (total - good) / total over the window
// (or over what the history retains, whichever is shorter), budget remaining = 1 - ratio / budget.
import type { SeriesSource } from './source';
import type { Slo } from './slo';
import { evaluateExpr } from './promql/evaluate';
import { formatDuration } from './promql/ast';

export interface SloStatus {
  name: string;
  objective: number;
  /** The SLO's compliance window, e.g. `30d`. */
  window: string;
  /** Good and all events seen over the range read. */
  goodEvents: number;
  totalEvents: number;
  /** (total - good) / total; 0 with no event (no event spends no budget). */
  errorRatio: number;
  /** 1 - errorRatio / (1 - objective): 1 = untouched, 0 = spent, negative = overspent. */
  budgetRemaining: number;
}

function sumIncrease(selector: string, rangeMs: number, source: SeriesSource, nowMs: number): number {
  const [sample] = evaluateExpr(`sum(increase(${selector}[${formatDuration(rangeMs)}]))`, source, nowMs);
  return sample === undefined || !Number.isFinite(sample.value) ? 0 : sample.value;
}

/**
 * The SLO's status at `nowMs` over the last `rangeMs` (default: the SLO window; a history keeps
 * less, and then the ratio covers what it keeps).
 */
export function sloStatus(slo: Slo, source: SeriesSource, nowMs: number, rangeMs: number = slo.windowMs): SloStatus {
  const total = sumIncrease(slo.total, rangeMs, source, nowMs);
  const good = Math.min(total, sumIncrease(slo.good, rangeMs, source, nowMs));
  const errorRatio = total > 0 ? (total - good) / total : 0;
  return {
    name: slo.name,
    objective: slo.objective,
    window: formatDuration(slo.windowMs),
    goodEvents: good,
    totalEvents: total,
    errorRatio,
    budgetRemaining: 1 - errorRatio / (1 - slo.objective),
  };
}
