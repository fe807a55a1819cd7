// The public shapes of the log aggregator: alerts, patterns, options, queries and summaries.
import type { Env, MetricsSink } from '@periscope/core';
import type { LogRecord } from './record';

export type AlertSeverity = 'critical' | 'warning' | 'info';

/** An alert raised from logs. The alerting package implements the receiving side. */
export interface LogAlert {
  /** Deduplication key: `log:<pattern>`. */
  id: string;
  pattern: string;
  severity: AlertSeverity;
  description: string;
  /** Redacted message of the record that raised it. */
  message: string;
  level: string;
  service: string;
  logger?: string;
  traceId?: string;
  /** Matches folded into this alert: this one plus those suppressed by the cooldown before it. */
  count: number;
  /** Time (ms) of the first folded match and of this one. */
  firstSeen: number;
  lastSeen: number;
}

/** What the alerting package implements; a plain function works too. */
export type OnAlert = (alert: LogAlert) => void | Promise<void>;
export interface LogAlertSink {
  onAlert: OnAlert;
}

export interface LogPattern {
  name: string;
  /** Matched against the message and the error type/message/code. */
  regex: RegExp | string;
  severity?: AlertSeverity;
  description?: string;
  /** Only records at these levels match. Default: every level. */
  levels?: readonly string[];
}

export interface AnomalyOptions {
  /** Robust z-score at or above which the error rate is anomalous. Default 3.5. */
  threshold?: number;
  /** Completed minutes of history needed before flagging. Default 5. */
  minBaselineMinutes?: number;
  /** Errors per minute above the baseline median needed too (ignores 0 → 1 blips). Default 5. */
  minExcess?: number;
}

export interface LogAggregatorOptions {
  /** Records kept in the ring buffer. Env PERISCOPE_LOG_AGGREGATOR_CAPACITY; default 1000. */
  capacity?: number;
  /** Span of the per-minute trend and anomaly baseline. Default 3_600_000 (1 h). */
  windowMs?: number;
  /** Custom patterns, checked after the built-in ones. */
  patterns?: readonly LogPattern[];
  /** Use the built-in patterns (fatal, auth_failure, out_of_memory, connection_error, slow_operation). Default true. */
  builtinPatterns?: boolean;
  /** `duration_ms` (or winston's `durationMs`) at or above this is a slow operation. Default 1000. */
  slowThresholdMs?: number;
  /** Per pattern: after an alert, further matches only count until this has passed. Default 60_000. */
  cooldownMs?: number;
  onAlert?: OnAlert | LogAlertSink;
  anomaly?: AnomalyOptions;
  /** Distinct message templates tracked. Default 1000. */
  maxTemplates?: number;
  metrics?: MetricsSink;
  /** winston transport level. Default: every level. */
  level?: string;
  /** Clock for `summary()`/`trend()` (tests). Default Date.now. */
  now?: () => number;
  /** Read instead of process.env. */
  env?: Env;
}

export interface LogQuery {
  /** Exactly these levels. */
  level?: string | readonly string[];
  /** This level or more severe (`warn` → warn, error, fatal). */
  minLevel?: string;
  logger?: string;
  pattern?: string;
  /** Substring of the message (case-insensitive). */
  text?: string;
  since?: number | Date;
  until?: number | Date;
  /** Newest N matches. Default 100. */
  limit?: number;
}

export interface StoredRecord extends LogRecord {
  /** Names of the patterns this record matched. */
  patterns: string[];
}

export interface TrendPoint {
  minute: string;
  total: number;
  errors: number;
  byLevel: Record<string, number>;
}
export interface TopMessage {
  template: string;
  count: number;
  level: string;
  example: string;
  lastSeen: string;
}
export interface AnomalyState {
  anomalous: boolean;
  /** Robust z-score of the current minute's error count (null without enough baseline). */
  zScore: number | null;
  currentErrorsPerMinute: number;
  baselineMedian: number | null;
  baselineMad: number | null;
  baselineMinutes: number;
}

export interface LogSummary {
  capacity: number;
  buffered: number;
  total: number;
  byLevel: Record<string, number>;
  byLogger: Record<string, number>;
  byPattern: Record<string, number>;
  trend: TrendPoint[];
  topMessages: TopMessage[];
  anomaly: AnomalyState;
  alerts: { raised: number; suppressed: number; failed: number; recent: LogAlert[] };
}
