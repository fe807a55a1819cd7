// Prometheus assets: the rule file (every group of the catalogue) and the server configuration.
import type { OpsCatalogue, OpsRuleGroup } from '@periscope/alerting';
import { toYaml } from './yaml';

export const RULES_FILE = 'deploy/prometheus/rules/periscope.rules.yml';
export const PROMETHEUS_CONFIG = 'deploy/prometheus/prometheus.yml';
/** How often rule groups are evaluated; the burn-rate windows assume at most 1m. */
export const EVALUATION_INTERVAL = '30s';

export interface RuleFileOptions {
  /** Leave annotations out (the promtool unit tests compare labels only). Default false. */
  withoutAnnotations?: boolean;
}

function group(g: OpsRuleGroup, options: RuleFileOptions) {
  return {
    name: g.name,
    rules: [
      ...g.recordingRules.map((r) => ({
        record: r.record,
        expr: r.expr,
        ...(Object.keys(r.labels).length === 0 ? {} : { labels: r.labels }),
      })),
      ...g.alerts.map((a) => ({
        alert: a.alert,
        expr: a.expr,
        ...(a.for === undefined ? {} : { for: a.for }),
        labels: a.labels,
        ...(options.withoutAnnotations ? {} : { annotations: a.annotations }),
      })),
    ],
  };
}

/** The rule file: `promtool check rules` reads it; Prometheus and the PrometheusRule embed it. */
export function ruleGroups(catalogue: OpsCatalogue, options: RuleFileOptions = {}) {
  return { groups: catalogue.groups.map((g) => group(g, options)) };
}

export function rulesFile(catalogue: OpsCatalogue, options: RuleFileOptions = {}): string {
  return toYaml(ruleGroups(catalogue, options), 'Prometheus alerting and recording rules (one group per area)');
}

/** Scrape targets as the compose file names them. */
export const SCRAPE_TARGETS = [
  { job: 'periscope-demo-agent', target: 'demo-agent:9464' },
  { job: 'periscope-health-server', target: 'health-server:9465' },
] as const;

export function prometheusConfig(): string {
  return toYaml(
    {
      global: { scrape_interval: '15s', evaluation_interval: EVALUATION_INTERVAL },
      rule_files: ['rules/*.yml'],
      alerting: { alertmanagers: [{ static_configs: [{ targets: ['alertmanager:9093'] }] }] },
      scrape_configs: [
        ...SCRAPE_TARGETS.map((t) => ({
          job_name: t.job,
          metrics_path: '/metrics',
          static_configs: [{ targets: [t.target] }],
        })),
        { job_name: 'prometheus', static_configs: [{ targets: ['localhost:9090'] }] },
        { job_name: 'alertmanager', static_configs: [{ targets: ['alertmanager:9093'] }] },
      ],
    },
    [
      'Scrapes the demo agent and the node health server (compose service names). Prometheus',
      'negotiates OpenMetrics, so exemplars (trace ids) arrive when tracing is on: run it with',
      '--enable-feature=exemplar-storage.',
    ].join('\n'),
  );
}
