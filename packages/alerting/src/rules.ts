// Rule definitions: validated once at addRule (the expression parsed, unsupported PromQL named),
// and exported verbatim as Prometheus rule groups / YAML, so the rules Prometheus evaluates and
// the rules this package evaluates in-process are the same text.
import { RuleError } from './errors';
import { parse, typeOf } from './promql/parser';
import { formatDuration, type Expr } from './promql/ast';

export type Severity = 'critical' | 'warning' | 'info';
export const SEVERITIES: readonly Severity[] = ['critical', 'warning', 'info'];

export interface RuleAnnotations {
  summary?: string;
  description?: string;
  /** Exported as the `runbook_url` annotation. */
  runbookUrl?: string;
  [name: string]: string | undefined;
}

interface RuleCommon {
  /** The alert name (`alertname` label). Rules may share a name when their severities differ. */
  name: string;
  /** How long the condition must hold before the alert fires. Default 0. */
  forMs?: number;
  /** How long a firing alert keeps firing after the condition clears. Default 0. */
  keepFiringForMs?: number;
  /** Default 'warning'; also the `severity` label. */
  severity?: Severity;
  labels?: Record<string, string>;
  /** `{{ $labels.x }}` and `{{ $value }}` are expanded, as Prometheus does. */
  annotations?: RuleAnnotations;
  /** Rule group in the Prometheus export. Default 'periscope'. */
  group?: string;
  /** Default true; see `enable()` / `disable()`. */
  enabled?: boolean;
}

/** A PromQL-subset rule: an alert per series of the result vector. */
export interface ThresholdRule extends RuleCommon {
  type?: 'promql';
  /** PromQL subset; the same text goes verbatim into the Prometheus export. */
  expr: string;
}

/** An anomaly rule: each series of `expr` is compared with its own robust baseline (median/MAD). */
export interface AnomalyRule extends RuleCommon {
  type: 'anomaly';
  /** An instant-vector PromQL-subset expression, e.g. `sum(rate(errors_total[1m]))`. */
  expr: string;
  /** Robust z-score (|x − median| / (1.4826 · MAD)) at or above which a value is anomalous. Default 3.5. */
  threshold?: number;
  /** Values in the baseline before anything is flagged. Default 30. */
  minSamples?: number;
  /** Time after the rule was added during which nothing is flagged. Default 0. */
  warmupMs?: number;
  /** Values kept per series for the baseline. Default 120. */
  baselineSize?: number;
  /** Which deviations count. Default 'up'. */
  direction?: 'up' | 'down' | 'both';
}

export type Rule = ThresholdRule | AnomalyRule;

/** A rule after validation. */
export interface CompiledRule {
  key: string;
  rule: Rule;
  ast: Expr;
  severity: Severity;
  forMs: number;
  keepFiringForMs: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  enabled: boolean;
}

const NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const KNOWN = [
  'type',
  'name',
  'expr',
  'forMs',
  'keepFiringForMs',
  'severity',
  'labels',
  'annotations',
  'group',
  'enabled',
];
const ANOMALY_KNOWN = [...KNOWN, 'threshold', 'minSamples', 'warmupMs', 'baselineSize', 'direction'];

function checkDuration(name: string, field: string, v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 365 * 86_400_000)
    throw new RuleError(name, `${field} must be an integer number of milliseconds >= 0, got ${String(v)}`);
  return v;
}

function stringMap(name: string, field: string, v: unknown): Record<string, string> {
  if (v === undefined) return {};
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new RuleError(name, `${field} must be an object`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (val === undefined) continue;
    if (typeof val !== 'string') throw new RuleError(name, `${field}.${k} must be a string`);
    if (field === 'labels' && (!NAME.test(k) || k.startsWith('__')))
      throw new RuleError(name, `label name ${JSON.stringify(k)} is invalid`);
    out[k === 'runbookUrl' && field === 'annotations' ? 'runbook_url' : k] = val;
  }
  return out;
}

/** Validates a rule and parses its expression; throws RuleError (with the parse error as cause). */
export function compileRule(rule: Rule): CompiledRule {
  if (rule === null || typeof rule !== 'object') throw new RuleError(String(rule), 'a rule must be an object');
  const name = rule.name;
  if (typeof name !== 'string' || !NAME.test(name))
    throw new RuleError(String(name), 'name must match [a-zA-Z_][a-zA-Z0-9_]* (it becomes the alertname label)');
  const known = rule.type === 'anomaly' ? ANOMALY_KNOWN : KNOWN;
  for (const k of Object.keys(rule))
    if (!known.includes(k)) throw new RuleError(name, `unknown field ${JSON.stringify(k)}`);
  if (rule.type !== undefined && rule.type !== 'promql' && rule.type !== 'anomaly')
    throw new RuleError(name, `type must be 'promql' or 'anomaly', got ${JSON.stringify(rule.type)}`);
  const severity = rule.severity ?? 'warning';
  if (!SEVERITIES.includes(severity)) throw new RuleError(name, `severity must be one of ${SEVERITIES.join(', ')}`);
  if (typeof rule.expr !== 'string') throw new RuleError(name, 'expr must be a PromQL string');
  let ast: Expr;
  try {
    ast = parse(rule.expr);
  } catch (err) {
    throw new RuleError(name, `expr ${(err as Error).message}`, { cause: err });
  }
  if (typeOf(ast) !== 'vector')
    throw new RuleError(name, 'expr must give an instant vector (a selector, function or comparison)');
  if (rule.type === 'anomaly') checkAnomaly(rule);
  const labels = stringMap(name, 'labels', rule.labels);
  if ('alertname' in labels) throw new RuleError(name, 'the alertname label is the rule name');
  return {
    key: `${name}/${severity}`,
    rule,
    ast,
    severity,
    forMs: checkDuration(name, 'forMs', rule.forMs),
    keepFiringForMs: checkDuration(name, 'keepFiringForMs', rule.keepFiringForMs),
    labels: { ...labels, severity },
    annotations: stringMap(name, 'annotations', rule.annotations),
    enabled: rule.enabled ?? true,
  };
}

function checkAnomaly(rule: AnomalyRule): void {
  const positive = (field: string, v: unknown, integer: boolean) => {
    if (
      v !== undefined &&
      (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v) || (integer && !Number.isInteger(v)))
    )
      throw new RuleError(rule.name, `${field} must be a positive ${integer ? 'integer' : 'number'}`);
  };
  positive('threshold', rule.threshold, false);
  positive('minSamples', rule.minSamples, true);
  positive('baselineSize', rule.baselineSize, true);
  if (rule.warmupMs !== undefined) checkDuration(rule.name, 'warmupMs', rule.warmupMs);
  if (rule.direction !== undefined && !['up', 'down', 'both'].includes(rule.direction))
    throw new RuleError(rule.name, "direction must be 'up', 'down' or 'both'");
  if ((rule.minSamples ?? 30) > (rule.baselineSize ?? 120))
    throw new RuleError(rule.name, 'minSamples must not exceed baselineSize');
}

/** A Prometheus alerting rule as it appears in a rule file. */
export interface PrometheusAlertingRule {
  alert: string;
  expr: string;
  for?: string;
  keep_firing_for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
export interface PrometheusRuleGroup {
  name: string;
  interval?: string;
  rules: PrometheusAlertingRule[];
}

/**
 * The rules as Prometheus rule groups (anomaly rules are left out: Prometheus has no robust
 * baseline). `expr` is the rule's text verbatim.
 */
export function toPrometheusRuleGroups(
  rules: readonly Rule[],
  options: { intervalMs?: number } = {},
): PrometheusRuleGroup[] {
  const groups = new Map<string, PrometheusRuleGroup>();
  for (const rule of rules) {
    if (rule.type === 'anomaly') continue;
    const c = compileRule(rule);
    const name = rule.group ?? 'periscope';
    let g = groups.get(name);
    if (g === undefined) {
      g = { name, rules: [] };
      if (options.intervalMs !== undefined) g.interval = formatDuration(options.intervalMs);
      groups.set(name, g);
    }
    const out: PrometheusAlertingRule = {
      alert: rule.name,
      expr: rule.expr,
      labels: c.labels,
      annotations: c.annotations,
    };
    if (c.forMs > 0) out.for = formatDuration(c.forMs);
    if (c.keepFiringForMs > 0) out.keep_firing_for = formatDuration(c.keepFiringForMs);
    g.rules.push(out);
  }
  return [...groups.values()];
}

/** YAML strings: JSON's double-quoted form is valid YAML and escapes everything that needs it. */
const q = (s: string) => JSON.stringify(s);

function yamlMap(indent: string, key: string, map: Record<string, string>): string[] {
  const entries = Object.entries(map);
  if (entries.length === 0) return [`${indent}${key}: {}`];
  return [`${indent}${key}:`, ...entries.map(([k, v]) => `${indent}  ${q(k)}: ${q(v)}`)];
}

/** The rules as a Prometheus rule file (`promtool check rules` accepts it). */
export function toPrometheusRulesYaml(rules: readonly Rule[], options: { intervalMs?: number } = {}): string {
  const lines = ['groups:'];
  for (const g of toPrometheusRuleGroups(rules, options)) {
    lines.push(`  - name: ${q(g.name)}`);
    if (g.interval !== undefined) lines.push(`    interval: ${g.interval}`);
    lines.push('    rules:');
    for (const r of g.rules) {
      lines.push(`      - alert: ${q(r.alert)}`, `        expr: ${q(r.expr)}`);
      if (r.for !== undefined) lines.push(`        for: ${r.for}`);
      if (r.keep_firing_for !== undefined) lines.push(`        keep_firing_for: ${r.keep_firing_for}`);
      lines.push(...yamlMap('        ', 'labels', r.labels), ...yamlMap('        ', 'annotations', r.annotations));
    }
  }
  return lines.join('\n') + '\n';
}
