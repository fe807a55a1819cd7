// The package's metrics as domain events, registered on core's MetricsSink when one is passed
// (@periscope/metrics' `Metrics` fits; logging sits on floor 1 and cannot import it). Without a
// sink every event is a no-op, so the hot path has no `if (metrics)`.
import type { CounterSink, MetricsSink } from '@periscope/core';

/** @deprecated use core's MetricsSink; kept so existing imports keep compiling. */
export type MetricsLike = MetricsSink;
/** @deprecated use core's CounterSink. */
export type CounterLike = CounterSink;

export interface LoggerInstruments {
  /** A record was written at `level`. */
  record(level: string): void;
  dropped(level: string, reason: string): void;
  redaction(kind: 'key' | 'pattern'): void;
  formatError(): void;
  /** Whether redactions are counted (the redactor skips its callback otherwise). */
  readonly countsRedactions: boolean;
}

export interface ShippingInstruments {
  shipped(n: number): void;
  dropped(reason: string, n: number): void;
  retry(): void;
}

export interface AggregatorInstruments {
  alert(pattern: string, severity: string): void;
  suppressed(pattern: string): void;
  alertError(): void;
  match(pattern: string): void;
}

const noop = (): void => undefined;
const NOOP_LOGGER_INSTRUMENTS: LoggerInstruments = {
  record: noop,
  dropped: noop,
  redaction: noop,
  formatError: noop,
  countsRedactions: false,
};

/** inc() per label value through bound children when the counter offers them (no label hashing per call). */
function perLabel(counter: CounterSink, label: string): (value: string) => void {
  const bound = new Map<string, { inc(value?: number): void }>();
  return (value: string) => {
    let b = bound.get(value);
    if (b === undefined) {
      b = counter.labels
        ? counter.labels({ [label]: value })
        : { inc: (n?: number) => counter.inc({ [label]: value }, n) };
      bound.set(value, b);
    }
    b.inc();
  };
}

export function loggerInstruments(metrics: MetricsSink | undefined): LoggerInstruments {
  if (metrics === undefined) return NOOP_LOGGER_INSTRUMENTS;
  const records = metrics.counter({
    name: 'periscope_logging_records_total',
    help: 'Log records written, by level.',
    labelNames: ['level'],
  });
  const dropped = metrics.counter({
    name: 'periscope_logging_dropped_total',
    help: 'Log records dropped by sampling, rate limiting or after shutdown, by level and reason.',
    labelNames: ['level', 'reason'],
  });
  const redactions = metrics.counter({
    name: 'periscope_logging_redactions_total',
    help: 'Secrets redacted from log records, by kind (key or pattern).',
    labelNames: ['kind'],
  });
  const formatErrors = metrics.counter({
    name: 'periscope_logging_format_errors_total',
    help: 'Log records that could not be formatted (logged as a placeholder line).',
    labelNames: [],
  });
  return {
    record: perLabel(records, 'level'),
    dropped: (level, reason) => dropped.inc({ level, reason }),
    redaction: (kind) => redactions.inc({ kind }),
    formatError: () => formatErrors.inc({}),
    countsRedactions: true,
  };
}

const NOOP_SHIPPING: ShippingInstruments = { shipped: noop, dropped: noop, retry: noop };

export function shippingInstruments(metrics: MetricsSink | undefined, target: string): ShippingInstruments {
  if (metrics === undefined) return NOOP_SHIPPING;
  const shipped = metrics.counter({
    name: 'periscope_logging_shipped_total',
    help: 'Log records accepted by the receiver.',
    labelNames: ['target'],
  });
  const dropped = metrics.counter({
    name: 'periscope_logging_ship_dropped_total',
    help: 'Log records given up by the shipper, by reason (shutdown: not delivered within closeTimeoutMs).',
    labelNames: ['target', 'reason'],
  });
  const retries = metrics.counter({
    name: 'periscope_logging_ship_retries_total',
    help: 'Shipping requests retried.',
    labelNames: ['target'],
  });
  return {
    shipped: (n) => shipped.inc({ target }, n),
    dropped: (reason, n) => dropped.inc({ target, reason }, n),
    retry: () => retries.inc({ target }),
  };
}

const NOOP_AGGREGATOR: AggregatorInstruments = { alert: noop, suppressed: noop, alertError: noop, match: noop };

export function aggregatorInstruments(metrics: MetricsSink | undefined): AggregatorInstruments {
  if (metrics === undefined) return NOOP_AGGREGATOR;
  const alerts = metrics.counter({
    name: 'periscope_logging_alerts_total',
    help: 'Alerts raised from log patterns.',
    labelNames: ['pattern', 'severity'],
  });
  const suppressed = metrics.counter({
    name: 'periscope_logging_alerts_suppressed_total',
    help: 'Pattern matches folded into an earlier alert by the cooldown.',
    labelNames: ['pattern'],
  });
  const alertErrors = metrics.counter({
    name: 'periscope_logging_alert_errors_total',
    help: 'onAlert calls that threw or rejected.',
    labelNames: [],
  });
  const matches = metrics.counter({
    name: 'periscope_logging_pattern_matches_total',
    help: 'Log records matching a pattern.',
    labelNames: ['pattern'],
  });
  return {
    alert: (pattern, severity) => alerts.inc({ pattern, severity }),
    suppressed: (pattern) => suppressed.inc({ pattern }),
    alertError: () => alertErrors.inc({}),
    match: (pattern) => matches.inc({ pattern }),
  };
}
