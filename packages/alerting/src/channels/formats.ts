// Payloads the receivers expect: Alertmanager's webhook JSON (our generic format), Slack incoming
// webhooks, PagerDuty Events API v2, Alertmanager API v2 alerts, and a plain-text email body.
import type { Alert } from '../state';

export interface Notification {
  /** 'firing' when any alert in it fires. */
  status: 'firing' | 'resolved';
  /** Stable id of the group (its group labels). */
  groupKey: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  /** Snapshots of the alerts that fired, resolved or are re-notified. */
  alerts: Alert[];
  externalURL?: string;
}

const iso = (ms: number | undefined) => new Date(ms ?? 0).toISOString();

export function alertStatus(a: Alert): 'firing' | 'resolved' {
  return a.state === 'resolved' ? 'resolved' : 'firing';
}

/** Alertmanager's webhook_config JSON (version 4), which most receivers already read. */
export function webhookJson(n: Notification, receiver: string): object {
  return {
    version: '4',
    groupKey: n.groupKey,
    truncatedAlerts: 0,
    status: n.status,
    receiver,
    groupLabels: n.groupLabels,
    commonLabels: n.commonLabels,
    commonAnnotations: n.commonAnnotations,
    externalURL: n.externalURL ?? '',
    alerts: n.alerts.map((a) => ({
      status: alertStatus(a),
      labels: a.labels,
      annotations: a.annotations,
      startsAt: iso(a.firedAt ?? a.activeAt),
      endsAt: a.resolvedAt === undefined ? '0001-01-01T00:00:00Z' : iso(a.resolvedAt),
      generatorURL: n.externalURL ?? '',
      fingerprint: a.fingerprint,
      value: a.value,
    })),
  };
}

function summaryOf(a: Alert): string {
  return a.annotations.summary ?? a.annotations.description ?? a.labels.alertname;
}

const SLACK_COLORS: Record<string, string> = { critical: '#d62728', warning: '#ff9f1a', info: '#1f77b4' };

/** Slack incoming-webhook message: one line of text and one attachment per alert. */
export function slackMessage(n: Notification): object {
  const name = n.groupLabels.alertname ?? n.commonLabels.alertname ?? 'alerts';
  return {
    text: `[${n.status.toUpperCase()}:${n.alerts.length}] ${name}`,
    attachments: n.alerts.map((a) => ({
      color: a.state === 'resolved' ? '#2ca02c' : (SLACK_COLORS[a.labels.severity ?? ''] ?? '#999999'),
      title: `${alertStatus(a) === 'firing' ? 'Firing' : 'Resolved'}: ${summaryOf(a)}`,
      title_link: a.annotations.runbook_url,
      text: a.annotations.description ?? '',
      fields: Object.entries(a.labels).map(([title, value]) => ({ title, value, short: true })),
      ts: Math.floor((a.resolvedAt ?? a.firedAt ?? a.activeAt) / 1000),
    })),
  };
}

const PD_SEVERITY: Record<string, string> = { critical: 'critical', warning: 'warning', info: 'info' };

/** PagerDuty Events API v2: one event per alert, deduplicated by fingerprint. */
export function pagerDutyEvents(n: Notification, routingKey: string, source: string): object[] {
  return n.alerts.map((a) => {
    const event: Record<string, unknown> = {
      routing_key: routingKey,
      event_action: a.state === 'resolved' ? 'resolve' : 'trigger',
      dedup_key: a.fingerprint,
    };
    if (a.state !== 'resolved') {
      event.payload = {
        summary: summaryOf(a).slice(0, 1024),
        source,
        severity: PD_SEVERITY[a.labels.severity ?? ''] ?? 'error',
        timestamp: iso(a.firedAt ?? a.activeAt),
        component: a.labels.service ?? a.labels.job,
        group: a.labels.alertname,
        custom_details: { labels: a.labels, annotations: a.annotations, value: a.value },
      };
      if (a.annotations.runbook_url) event.links = [{ href: a.annotations.runbook_url, text: 'Runbook' }];
    }
    return event;
  });
}

/** Alertmanager API v2 `postableAlert`. */
export function alertmanagerAlert(a: Alert, endsAt: number, generatorURL: string): object {
  return {
    labels: a.labels,
    annotations: a.annotations,
    startsAt: iso(a.firedAt ?? a.activeAt),
    endsAt: iso(endsAt),
    generatorURL,
  };
}

/** Subject and text body of an alert email. */
export function emailText(n: Notification, prefix: string): { subject: string; text: string } {
  const name = n.groupLabels.alertname ?? n.commonLabels.alertname ?? 'alerts';
  const subject = `${prefix}[${n.status.toUpperCase()}:${n.alerts.length}] ${name}`;
  const lines: string[] = [];
  for (const a of n.alerts) {
    lines.push(`${alertStatus(a) === 'firing' ? 'FIRING' : 'RESOLVED'}: ${summaryOf(a)}`);
    if (a.annotations.description) lines.push(`  ${a.annotations.description}`);
    lines.push(`  value: ${a.value}`);
    lines.push(
      `  labels: ${Object.entries(a.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`,
    );
    if (a.annotations.runbook_url) lines.push(`  runbook: ${a.annotations.runbook_url}`);
    lines.push(`  since: ${iso(a.firedAt ?? a.activeAt)}${a.resolvedAt ? `, resolved ${iso(a.resolvedAt)}` : ''}`);
    lines.push('');
  }
  return { subject, text: lines.join('\n') };
}
