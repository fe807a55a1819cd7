// Service level objectives: one definition gives the error-ratio recording rules, the error-budget
// rules and the multiwindow, multi-burn-rate alerts of the Google SRE workbook (chapter 5, as
// Sloth and Pyrra generate them). The alerts use full PromQL (`and`, `or`) and are exported for
// Prometheus; they are checked by `promtool`, not by this package's PromQL subset.
import { RuleError } from './errors';
import { formatDuration } from './promql/ast';

/** good/total: two counter selectors, e.g. `periscope_agent_tasks_total{status="ok"}` and `periscope_agent_tasks_total`. */
export interface RatioSli {
  good: string;
  total: string;
}
/** latency: a histogram (base name, no `_bucket`) and a threshold that is one of its bucket bounds. */
export interface LatencySli {
  latency: { metric: string; thresholdSeconds: number; matchers?: string };
}

export interface SloDefinition {
  /** snake_case; becomes the `slo` label. */
  name: string;
  description?: string;
  sli: RatioSli | LatencySli;
  /** Target ratio of good events, 0 < objective < 1 (0.99 = 99 %). */
  objective: number;
  /** Compliance window, a duration like `30d`. Default `30d`. */
  window?: string;
  /** Links of the burn-rate alerts: `<runbookBaseUrl>/<alertname>.md`. */
  runbookBaseUrl?: string;
}

export interface PrometheusRecordingRule {
  record: string;
  expr: string;
  labels: Record<string, string>;
}

/** An alerting rule in full PromQL, as it goes into a Prometheus rule file. */
export interface PrometheusAlert {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface BurnRateWindow {
  /** Burn-rate factor: 1 spends exactly the budget over the SLO window. */
  factor: number;
  long: string;
  short: string;
  severity: 'critical' | 'warning';
}

/** The workbook's pairs for a 30-day window: 2 % of budget in 1 h, 5 % in 6 h (page), 10 % in 3 d (ticket). */
export const BURN_RATE_WINDOWS: readonly BurnRateWindow[] = [
  { factor: 14.4, long: '1h', short: '5m', severity: 'critical' },
  { factor: 6, long: '6h', short: '30m', severity: 'critical' },
  { factor: 1, long: '3d', short: '6h', severity: 'warning' },
];

export interface Slo {
  name: string;
  description: string;
  objective: number;
  windowMs: number;
  /** `slo:sli_error:ratio_rate<w>` for every alert window and the SLO window, plus the budget rules. */
  recordingRules: PrometheusRecordingRule[];
  /** `SloErrorBudgetBurnFast` (critical) and `SloErrorBudgetBurnSlow` (warning), labelled `slo`. */
  alerts: PrometheusAlert[];
  /** PromQL of the error ratio over a range, e.g. `errorRatioExpr('5m')`. */
  errorRatioExpr(range: string): string;
  /** The selectors of good and of all events (for a latency SLI: the threshold bucket and `_count`). */
  good: string;
  total: string;
}

export const SLO_FAST_BURN_ALERT = 'SloErrorBudgetBurnFast';
export const SLO_SLOW_BURN_ALERT = 'SloErrorBudgetBurnSlow';
const NAME = /^[a-z][a-z0-9_]*$/;
const WINDOW_UNITS: Record<string, number> = { h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** A compliance window in PromQL units (`30d`, `4w`, `720h`); undefined when malformed. */
function parseWindow(text: unknown): number | undefined {
  const m = typeof text === 'string' ? /^([1-9]\d{0,4})([hdw])$/.exec(text) : null;
  return m === null ? undefined : Number(m[1]) * WINDOW_UNITS[m[2]];
}
const SELECTOR = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})?$/;

function leMatcher(threshold: number): string {
  // Prometheus 3 writes `le` as a float ("10.0"); older scrapes keep the exposition's "10".
  const text = String(threshold);
  const forms = /[.e]/.test(text) ? [text] : [text, `${text}.0`];
  return `le=~"${forms.map((f) => f.replace(/\./g, '\\\\.')).join('|')}"`;
}

function withMatcher(selector: string, matcher: string): string {
  if (matcher === '') return selector;
  return selector.endsWith('}') ? `${selector.slice(0, -1)}, ${matcher}}` : `${selector}{${matcher}}`;
}

function sliSelectors(name: string, sli: RatioSli | LatencySli): { good: string; total: string } {
  if ('latency' in sli) {
    const { metric, thresholdSeconds, matchers = '' } = sli.latency;
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(metric) || metric.endsWith('_bucket'))
      throw new RuleError(name, `sli.latency.metric must be a histogram's base name, got ${JSON.stringify(metric)}`);
    if (!(thresholdSeconds > 0) || !Number.isFinite(thresholdSeconds))
      throw new RuleError(name, 'sli.latency.thresholdSeconds must be a positive number (a bucket bound)');
    return {
      good: withMatcher(`${metric}_bucket${matchers === '' ? '' : `{${matchers}}`}`, leMatcher(thresholdSeconds)),
      total: `${metric}_count${matchers === '' ? '' : `{${matchers}}`}`,
    };
  }
  for (const key of ['good', 'total'] as const)
    if (typeof sli[key] !== 'string' || !SELECTOR.test(sli[key]))
      throw new RuleError(name, `sli.${key} must be a metric selector, got ${JSON.stringify(sli[key])}`);
  return { good: sli.good, total: sli.total };
}

/** Defines an SLO; throws RuleError on an invalid definition. */
export function defineSlo(def: SloDefinition): Slo {
  const name = def.name;
  if (typeof name !== 'string' || !NAME.test(name))
    throw new RuleError(String(name), 'an SLO name must be snake_case ([a-z][a-z0-9_]*)');
  if (typeof def.objective !== 'number' || !(def.objective > 0 && def.objective < 1))
    throw new RuleError(name, `objective must be a ratio between 0 and 1 (0.99 = 99 %), got ${String(def.objective)}`);
  const windowMs = parseWindow(def.window ?? '30d');
  if (windowMs === undefined || windowMs < 86_400_000)
    throw new RuleError(
      name,
      `window must be a duration like 30d, 4w or 720h, of at least 1d, got ${JSON.stringify(def.window)}`,
    );
  const { good, total } = sliSelectors(name, def.sli);
  const budget = Number((1 - def.objective).toPrecision(12));
  // (total - good) / total. With no good event yet there is no good series: `or 0 * total` keeps the
  // ratio defined (1, not absent); with no event at all it is 0, not NaN (no event spends no budget).
  const errorRatioExpr = (range: string) => {
    const t = `sum(rate(${total}[${range}]))`;
    return `(${t} - (sum(rate(${good}[${range}])) or 0 * ${t})) / clamp_min(${t}, 1e-12)`;
  };
  const window = formatDuration(windowMs);
  const ranges = [...new Set([...BURN_RATE_WINDOWS.flatMap((w) => [w.short, w.long]), window])];
  const sel = (range: string) => `slo:sli_error:ratio_rate${range}{slo="${name}"}`;
  const labels = { slo: name };
  const recordingRules: PrometheusRecordingRule[] = [
    ...ranges.map((r) => ({ record: `slo:sli_error:ratio_rate${r}`, expr: errorRatioExpr(r), labels })),
    { record: 'slo:objective:ratio', expr: `vector(${def.objective})`, labels },
    { record: 'slo:error_budget:ratio', expr: `vector(${budget})`, labels },
    {
      record: 'slo:error_budget_remaining:ratio',
      expr: `1 - ${sel(window)} / on (slo) slo:error_budget:ratio{slo="${name}"}`,
      labels,
    },
  ];
  const condition = (w: BurnRateWindow) =>
    `(${sel(w.long)} > ${w.factor} * ${budget} and ${sel(w.short)} > ${w.factor} * ${budget})`;
  const alert = (alertName: string, severity: 'critical' | 'warning', windows: BurnRateWindow[]): PrometheusAlert => ({
    alert: alertName,
    expr: windows.map(condition).join(' or '),
    labels: { severity, slo: name },
    annotations: {
      summary: `SLO ${name} burns its error budget ${severity === 'critical' ? 'fast (page)' : 'steadily (ticket)'}`,
      description: `${def.description ?? name}: objective ${def.objective * 100} % over ${window}; error ratio {{ $value | humanizePercentage }}.`,
      ...(def.runbookBaseUrl === undefined
        ? {}
        : { runbook_url: `${def.runbookBaseUrl.replace(/\/+$/, '')}/${alertName}.md` }),
    },
  });
  const page = BURN_RATE_WINDOWS.filter((w) => w.severity === 'critical');
  const ticket = BURN_RATE_WINDOWS.filter((w) => w.severity === 'warning');
  return {
    name,
    description: def.description ?? name,
    objective: def.objective,
    windowMs,
    recordingRules,
    alerts: [alert(SLO_FAST_BURN_ALERT, 'critical', page), alert(SLO_SLOW_BURN_ALERT, 'warning', ticket)],
    errorRatioExpr,
    good,
    total,
  };
}
