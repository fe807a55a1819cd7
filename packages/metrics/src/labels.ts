// Name validation and text escaping shared by registration and both exposition formats.
import { InvalidLabelNameError, InvalidMetricNameError } from './errors';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function checkMetricName(name: string): void {
  if (typeof name !== 'string' || !METRIC_NAME.test(name)) throw new InvalidMetricNameError(String(name));
}

/** Validates label names; `reserved` is `le` for histograms, `quantile` for summaries. */
export function checkLabelNames(metric: string, names: readonly string[], reserved?: string): void {
  const seen = new Set<string>();
  for (const label of names) {
    if (typeof label !== 'string' || !LABEL_NAME.test(label))
      throw new InvalidLabelNameError(metric, String(label), 'must match [a-zA-Z_][a-zA-Z0-9_]*');
    if (label.startsWith('__'))
      throw new InvalidLabelNameError(metric, label, 'names starting with "__" are reserved by Prometheus');
    if (label === reserved)
      throw new InvalidLabelNameError(metric, label, `"${reserved}" is reserved for this metric type`);
    if (seen.has(label)) throw new InvalidLabelNameError(metric, label, 'duplicated');
    seen.add(label);
  }
}

const NEEDS_ESCAPE = /[\\\n"]/;

/** Label values: backslash, newline and double quote are escaped (both formats). */
export function escapeLabelValue(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** HELP text: text 0.0.4 escapes backslash and newline; OpenMetrics also double quotes. */
export function escapeHelp(help: string, openMetrics: boolean): string {
  const s = help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return openMetrics ? s.replace(/"/g, '\\"') : s;
}

/** `a="x",b="y"` for the given pairs, in order. */
export function formatLabelPairs(pairs: Iterable<readonly [string, string]>): string {
  let out = '';
  for (const [k, v] of pairs) out += (out ? ',' : '') + k + '="' + escapeLabelValue(v) + '"';
  return out;
}

export function formatValue(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (value !== value) return 'NaN';
  return '' + value;
}
