// Alerting metrics as domain events, registered on the caller's Metrics (optional): without
// Metrics every call is a no-op, so the evaluation loop has no `if (metrics)` branches.
import { Buckets, type Metrics } from '@periscope/metrics';

export type DeliveryResult = 'sent' | 'failed' | 'retried' | 'dropped';

export interface AlertingInstruments {
  evaluation(seconds: number, failedRules: number): void;
  alerts(counts: { pending: number; firing: number }): void;
  delivery(channel: string, result: DeliveryResult): void;
}

export const NOOP_INSTRUMENTS: AlertingInstruments = {
  evaluation() {},
  alerts() {},
  delivery() {},
};

export function createInstruments(metrics: Metrics | undefined): AlertingInstruments {
  if (!metrics) return NOOP_INSTRUMENTS;
  const duration = metrics.histogram({
    name: 'periscope_alerting_evaluation_duration_seconds',
    help: 'Time to evaluate every enabled rule once',
    buckets: Buckets.latency,
  });
  const failures = metrics.counter({
    name: 'periscope_alerting_rule_evaluation_failures_total',
    help: 'Rule evaluations that failed (the rule keeps its previous alerts)',
  });
  const alerts = metrics.gauge({
    name: 'periscope_alerting_alerts',
    help: 'Active alerts by state',
    labelNames: ['state'] as const,
  });
  const pending = alerts.labels({ state: 'pending' });
  const firing = alerts.labels({ state: 'firing' });
  const notifications = metrics.counter({
    name: 'periscope_alerting_notifications_total',
    help: 'Notification deliveries by channel and result (sent, failed after retries, retried, dropped from a full queue)',
    labelNames: ['channel', 'result'] as const,
  });
  return {
    evaluation(seconds, failedRules) {
      duration.observe(seconds);
      if (failedRules > 0) failures.inc(failedRules);
    },
    alerts(counts) {
      pending.set(counts.pending);
      firing.set(counts.firing);
    },
    delivery(channel, result) {
      notifications.inc({ channel, result });
    },
  };
}
