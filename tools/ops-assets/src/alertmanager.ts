// Alertmanager routing: critical → PagerDuty, warning → Slack, the Watchdog → a dead-man switch
// (a heartbeat receiver that pages when the Watchdog stops arriving). Secrets are read from files
// (routing_key_file, api_url_file) so the committed file holds none. Inhibition is the alert
// manager's own DEFAULT_INHIBIT_RULES, so in-process and Alertmanager mute the same alerts.
import { DEFAULT_INHIBIT_RULES } from '@periscope/alerting';
import { toYaml } from './yaml';

export const ALERTMANAGER_CONFIG = 'deploy/alertmanager/alertmanager.yml';
export const RECEIVERS = {
  critical: 'pagerduty-critical',
  warning: 'slack-warnings',
  watchdog: 'deadman-switch',
} as const;

const matchers = (labels: Record<string, string>) =>
  Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);

export function alertmanagerConfig(): string {
  return toYaml(
    {
      global: { resolve_timeout: '5m' },
      route: {
        receiver: RECEIVERS.warning,
        group_by: ['alertname', 'job', 'slo'],
        group_wait: '30s',
        group_interval: '5m',
        repeat_interval: '4h',
        routes: [
          {
            receiver: RECEIVERS.watchdog,
            matchers: ['alertname="Watchdog"'],
            group_wait: '0s',
            group_interval: '1m',
            repeat_interval: '1m',
          },
          { receiver: RECEIVERS.critical, matchers: ['severity="critical"'], repeat_interval: '1h' },
          { receiver: RECEIVERS.warning, matchers: ['severity="warning"'] },
        ],
      },
      inhibit_rules: DEFAULT_INHIBIT_RULES.map((r) => ({
        source_matchers: matchers(r.source),
        target_matchers: matchers(r.target),
        ...(r.equal === undefined ? {} : { equal: r.equal }),
      })),
      receivers: [
        {
          name: RECEIVERS.critical,
          pagerduty_configs: [
            {
              routing_key_file: '/etc/alertmanager/secrets/pagerduty-routing-key',
              severity: 'critical',
              description: '{{ .CommonAnnotations.summary }}',
              links: [{ href: '{{ .CommonAnnotations.runbook_url }}', text: 'Runbook' }],
            },
          ],
        },
        {
          name: RECEIVERS.warning,
          slack_configs: [
            {
              api_url_file: '/etc/alertmanager/secrets/slack-webhook-url',
              channel: '#periscope-alerts',
              send_resolved: true,
              title: '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}',
              text: '{{ .CommonAnnotations.summary }}\nRunbook: {{ .CommonAnnotations.runbook_url }}',
            },
          ],
        },
        {
          name: RECEIVERS.watchdog,
          webhook_configs: [{ url: 'http://deadman-switch:8080/ping', send_resolved: false }],
        },
      ],
    },
    'Alertmanager routing: critical -> PagerDuty, warning -> Slack, Watchdog -> dead-man switch.\nSecrets are files under /etc/alertmanager/secrets (mounted from a Secret / compose secret).',
  );
}
