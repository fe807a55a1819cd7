// The default ops catalogue: every alert, recording rule and SLO shipped in deploy/, with the
// runbook of each alert. The generator (tools/ops-assets) writes the Prometheus rule files, the
// runbooks and the dashboards' alert annotations from this one table; defaultRules() (evaluated
// in-process) is part of it, so the in-process rules and the Prometheus rules are the same text.
import { defaultRules } from './default-rules';
import { toPrometheusRuleGroups } from './rules';
import {
  defineSlo,
  SLO_FAST_BURN_ALERT,
  SLO_SLOW_BURN_ALERT,
  type PrometheusAlert,
  type PrometheusRecordingRule,
  type Slo,
} from './slo';
import { CATALOGUE_ALERTS, CATALOGUE_RECORDING_RULES, RUNBOOKS, type Runbook } from './catalogue-alerts';

export type { Runbook } from './catalogue-alerts';

export interface OpsRuleGroup {
  name: string;
  recordingRules: PrometheusRecordingRule[];
  alerts: PrometheusAlert[];
}

export interface OpsCatalogue {
  groups: OpsRuleGroup[];
  slos: Slo[];
  /** One runbook per alert name. */
  runbooks: Record<string, Runbook>;
}

export interface OpsCatalogueOptions {
  /** `runbook_url` of each alert is `<runbookBaseUrl>/<alertname>.md`. */
  runbookBaseUrl: string;
}

/** The group each of defaultRules()' alerts is filed under. */
const DEFAULT_RULE_GROUPS: Record<string, string> = {
  GenAiErrorRatioHigh: 'periscope-llm',
  GenAiLatencyHigh: 'periscope-llm',
  DbPoolAcquireTimeouts: 'periscope-pools',
  DbPoolAcquireWaitHigh: 'periscope-pools',
  CacheErrors: 'periscope-cache',
  AlertNotificationsFailing: 'periscope-meta',
};

/** The SLOs of an agent service: task success and LLM call latency. */
export function defaultSlos(runbookBaseUrl?: string): Slo[] {
  return [
    defineSlo({
      name: 'agent_task_success',
      description: 'Agent tasks that complete without error',
      sli: { good: 'periscope_agent_tasks_total{status="ok"}', total: 'periscope_agent_tasks_total' },
      objective: 0.99,
      window: '30d',
      runbookBaseUrl,
    }),
    defineSlo({
      name: 'llm_latency',
      description: 'LLM calls that answer within 10.24 s',
      sli: { latency: { metric: 'gen_ai_client_operation_duration_seconds', thresholdSeconds: 10.24 } },
      objective: 0.95,
      window: '30d',
      runbookBaseUrl,
    }),
  ];
}

/** Every shipped alert, recording rule and SLO, grouped as in deploy/prometheus/rules. */
export function defaultOpsCatalogue(options: OpsCatalogueOptions): OpsCatalogue {
  const base = options.runbookBaseUrl.replace(/\/+$/, '');
  const withRunbook = (a: PrometheusAlert): PrometheusAlert => ({
    ...a,
    annotations: { ...a.annotations, runbook_url: `${base}/${a.alert}.md` },
  });
  const groups = new Map<string, OpsRuleGroup>();
  const group = (name: string) => {
    let g = groups.get(name);
    if (g === undefined) groups.set(name, (g = { name, recordingRules: [], alerts: [] }));
    return g;
  };
  for (const r of CATALOGUE_RECORDING_RULES) group(r.group).recordingRules.push(r.rule);
  for (const a of CATALOGUE_ALERTS) group(a.group).alerts.push(withRunbook(a.alert));
  for (const g of toPrometheusRuleGroups(defaultRules()))
    for (const r of g.rules) {
      const target = DEFAULT_RULE_GROUPS[r.alert];
      if (target === undefined) throw new Error(`defaultRules() alert ${r.alert} has no group in the catalogue`);
      group(target).alerts.push(withRunbook({ ...r }));
    }
  const slos = defaultSlos(base);
  const slo = group('periscope-slo');
  for (const s of slos) {
    slo.recordingRules.push(...s.recordingRules);
    slo.alerts.push(...s.alerts);
  }
  for (const g of groups.values()) g.alerts.sort((a, b) => a.alert.localeCompare(b.alert));
  return { groups: [...groups.values()], slos, runbooks: { ...RUNBOOKS } };
}

export { SLO_FAST_BURN_ALERT, SLO_SLOW_BURN_ALERT };
