// The default rules for services built on Periscope's packages: one definition, evaluated
// in-process by the alert manager and exported verbatim for Prometheus (and, later, turned into
// the ops assets: rules files, runbooks). Metric names are those the packages register.
import type { Rule } from './rules';

export interface DefaultRulesOptions {
  /** Runbook links become `<runbookBaseUrl>/<alertname>`. Default: no runbook links. */
  runbookBaseUrl?: string;
}

/** Rules over the GenAI client, db-pool, cache and alerting metrics. */
// size: one declarative table of rule definitions; splitting it would scatter the table
export function defaultRules(options: DefaultRulesOptions = {}): Rule[] {
  const base = options.runbookBaseUrl?.replace(/\/+$/, '');
  const runbook = (name: string) => (base === undefined ? {} : { runbookUrl: `${base}/${name}` });
  // Failed calls are the duration histogram's observations with an error_type (OpenTelemetry GenAI semconv).
  const calls = (filter: string) =>
    `sum by (gen_ai_request_model) (rate(gen_ai_client_operation_duration_seconds_count${filter}[5m]))`;
  const errorRatio = `${calls('{error_type!=""}')} / ${calls('')}`;
  return [
    {
      name: 'GenAiErrorRatioHigh',
      expr: `${errorRatio} > 0.05`,
      forMs: 120_000,
      severity: 'warning',
      annotations: {
        summary: 'More than 5 % of LLM calls to {{ $labels.gen_ai_request_model }} fail',
        description: 'Error ratio over 5 minutes: {{ $value }}',
        ...runbook('GenAiErrorRatioHigh'),
      },
    },
    {
      name: 'GenAiErrorRatioHigh',
      expr: `${errorRatio} > 0.2`,
      forMs: 60_000,
      severity: 'critical',
      annotations: {
        summary: 'More than 20 % of LLM calls to {{ $labels.gen_ai_request_model }} fail',
        description: 'Error ratio over 5 minutes: {{ $value }}',
        ...runbook('GenAiErrorRatioHigh'),
      },
    },
    {
      name: 'GenAiLatencyHigh',
      expr: 'histogram_quantile(0.95, sum by (le, gen_ai_request_model) (rate(gen_ai_client_operation_duration_seconds_bucket[5m]))) > 20',
      forMs: 300_000,
      severity: 'warning',
      annotations: {
        summary: 'p95 LLM call latency of {{ $labels.gen_ai_request_model }} above 20 s',
        description: 'p95 over 5 minutes: {{ $value }} s',
        ...runbook('GenAiLatencyHigh'),
      },
    },
    {
      name: 'DbPoolAcquireTimeouts',
      expr: 'sum by (pool) (increase(periscope_db_pool_acquire_timeouts_total[5m])) > 0',
      severity: 'warning',
      annotations: {
        summary: 'Callers of pool {{ $labels.pool }} time out waiting for a connection',
        description: 'Acquire timeouts in 5 minutes: {{ $value }}',
        ...runbook('DbPoolAcquireTimeouts'),
      },
    },
    {
      name: 'DbPoolAcquireWaitHigh',
      expr: 'histogram_quantile(0.95, sum by (le, pool) (rate(periscope_db_pool_acquire_wait_seconds_bucket[5m]))) > 0.5',
      forMs: 300_000,
      severity: 'warning',
      annotations: {
        summary: 'p95 wait for a connection of pool {{ $labels.pool }} above 500 ms',
        description: 'p95 over 5 minutes: {{ $value }} s',
        ...runbook('DbPoolAcquireWaitHigh'),
      },
    },
    {
      name: 'CacheErrors',
      expr: 'sum by (cache, tier) (rate(periscope_cache_errors_total[5m])) > 1',
      forMs: 120_000,
      severity: 'warning',
      annotations: {
        summary: 'Cache {{ $labels.cache }} tier {{ $labels.tier }} fails more than once a second',
        description: 'Errors per second over 5 minutes: {{ $value }}',
        ...runbook('CacheErrors'),
      },
    },
    {
      name: 'AlertNotificationsFailing',
      expr: 'sum by (channel) (increase(periscope_alerting_notifications_total{result="failed"}[15m])) > 0',
      severity: 'warning',
      annotations: {
        summary: 'Alert notifications to {{ $labels.channel }} fail',
        description: 'Failed deliveries in 15 minutes: {{ $value }}',
        ...runbook('AlertNotificationsFailing'),
      },
    },
  ];
}
