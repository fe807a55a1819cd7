// Log aggregator: a winston transport that keeps the last records in a ring buffer, watches them
// for known trouble (fatal, auth failures, OOM, connection errors, slow operations, custom
// regexes), raises deduplicated alerts through `onAlert`, and keeps cheap analytics (counts,
// per-minute trend, top message templates, an error-rate anomaly flag).
import TransportStream from 'winston-transport';
import { LoggingConfigError } from './errors';
import { LEVELS, isLogLevel } from './levels';
import { recordOf, type LogRecord, type SerializedError, type WinstonInfo } from './record';
import { messageTemplate } from './template';
import type { CounterLike, MetricsLike } from './metrics';

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
  metrics?: MetricsLike;
  /** winston transport level. Default: every level. */
  level?: string;
  /** Clock for `summary()`/`trend()` (tests). Default Date.now. */
  now?: () => number;
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

interface CompiledPattern {
  name: string;
  regex: RegExp | null;
  severity: AlertSeverity;
  description: string;
  levels: Set<string> | null;
  test?: (r: LogRecord) => boolean;
}

interface Bucket {
  minute: number;
  total: number;
  errors: number;
  byLevel: Record<string, number>;
}
interface Cooldown {
  lastAlert: number;
  suppressed: number;
  firstSuppressed: number;
}
interface TemplateStat {
  count: number;
  level: string;
  example: string;
  lastSeen: number;
}

const SEVERE = new Set(['fatal', 'error', 'warn']);
const MINUTE = 60_000;
const MAX_LOGGERS = 1000;

function compile(p: LogPattern): CompiledPattern {
  if (!p || typeof p.name !== 'string' || p.name === '')
    throw new LoggingConfigError('patterns', 'each pattern needs a non-empty name');
  let regex: RegExp;
  try {
    regex =
      p.regex instanceof RegExp
        ? new RegExp(p.regex.source, p.regex.flags.replace(/[gy]/g, ''))
        : new RegExp(String(p.regex), 'i');
  } catch (err) {
    throw new LoggingConfigError(
      'patterns',
      `pattern "${p.name}": invalid regex (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  const severity = p.severity ?? 'warning';
  if (!['critical', 'warning', 'info'].includes(severity))
    throw new LoggingConfigError(
      'patterns',
      `pattern "${p.name}": severity must be critical, warning or info, got "${String(severity)}"`,
    );
  if (p.levels !== undefined && (!Array.isArray(p.levels) || p.levels.some((l) => !isLogLevel(l))))
    throw new LoggingConfigError(
      'patterns',
      `pattern "${p.name}": levels must be log levels (${Object.keys(LEVELS).join(', ')})`,
    );
  return {
    name: p.name,
    regex,
    severity,
    description: p.description ?? p.name,
    levels: p.levels ? new Set(p.levels) : null,
  };
}

function builtins(slowMs: number): CompiledPattern[] {
  const severe = SEVERE;
  return [
    {
      name: 'fatal',
      regex: null,
      severity: 'critical',
      description: 'fatal error or panic',
      levels: null,
      test: (r) =>
        r.level === 'fatal' || (severe.has(r.level) && /(?<!non-)\b(?:fatal|panic(?:ked)?)\b/i.test(textOf(r))),
    },
    {
      name: 'auth_failure',
      severity: 'warning',
      description: 'authentication or authorization failure',
      levels: severe,
      regex:
        /\b(?:auth(?:entication)? failed|authentication failure|unauthori[sz]ed|forbidden|invalid (?:credentials|password|token|api[ _-]?key|signature)|login failed|permission denied|access denied|(?:status|http) 40[13])\b/i,
    },
    {
      name: 'out_of_memory',
      severity: 'critical',
      description: 'out of memory',
      levels: severe,
      regex: /\b(?:out of memory|OOM(?:Killed)?|ENOMEM|heap limit|allocation failed|cannot allocate memory)\b/i,
    },
    {
      name: 'connection_error',
      severity: 'warning',
      description: 'connection refused, reset or timed out',
      levels: severe,
      regex:
        /\b(?:ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENOTFOUND|socket hang up|connection (?:refused|reset|timed? ?out|terminated|closed unexpectedly)|connect(?:ion)? timeout)\b/i,
    },
    {
      name: 'slow_operation',
      regex: null,
      severity: 'warning',
      description: `operation slower than ${slowMs} ms`,
      levels: null,
      test: (r) => durationOf(r) >= slowMs,
    },
  ];
}

function durationOf(r: LogRecord): number {
  const d = r.attributes.duration_ms ?? r.attributes.durationMs;
  return typeof d === 'number' ? d : -1;
}

/** The text patterns look at: the message, then the error and its causes (type, message, code). */
function textOf(r: LogRecord): string {
  let text = r.message;
  let e: unknown = r.error;
  for (let depth = 0; depth < 4 && e !== null && typeof e === 'object'; depth++) {
    const err = e as SerializedError;
    text += ` ${String(err.type)}: ${String(err.message)}${typeof err.code === 'string' ? ` ${err.code}` : ''}`;
    e = err.cause;
  }
  return text;
}

function median(sorted: number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function positive(option: string, v: number | undefined, fallback: number, integer = true): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !(v > 0) || (integer && !Number.isInteger(v)))
    throw new LoggingConfigError(option, `expected a positive ${integer ? 'integer' : 'number'}, got ${String(v)}`);
  return v;
}

export class LogAggregator extends TransportStream {
  readonly capacity: number;
  private readonly windowMs: number;
  private readonly cooldownMs: number;
  private readonly patterns: CompiledPattern[];
  private readonly sink?: OnAlert;
  private readonly clock: () => number;
  private readonly maxTemplates: number;
  private readonly anomalyThreshold: number;
  private readonly minBaseline: number;
  private readonly minExcess: number;

  private readonly ring: (StoredRecord | undefined)[];
  private head = 0;
  private size = 0;
  private total = 0;
  private readonly byLevel = new Map<string, number>();
  private readonly byLogger = new Map<string, number>();
  private readonly byPattern = new Map<string, number>();
  private readonly buckets = new Map<number, Bucket>();
  private latestMinute = 0;
  private readonly templates = new Map<string, TemplateStat>();
  private readonly cooldowns = new Map<string, Cooldown>();
  private readonly recentAlerts: LogAlert[] = [];
  private raised = 0;
  private suppressed = 0;
  private failed = 0;
  private readonly pending = new Set<Promise<void>>();
  private baselineCache: { minute: number; values: number[]; median: number; scale: number; mad: number } | undefined;
  private stopped = false;

  private readonly mAlerts?: CounterLike;
  private readonly mSuppressed?: CounterLike;
  private readonly mAlertErrors?: CounterLike;
  private readonly mMatches?: CounterLike;

  constructor(options: LogAggregatorOptions = {}) {
    super({ level: options.level });
    if (options.level !== undefined && !isLogLevel(options.level))
      throw new LoggingConfigError(
        'level',
        `expected one of ${Object.keys(LEVELS).join(', ')}, got "${String(options.level)}"`,
      );
    const envCap = process.env.PERISCOPE_LOG_AGGREGATOR_CAPACITY;
    this.capacity = positive(
      options.capacity !== undefined || !envCap ? 'capacity' : 'PERISCOPE_LOG_AGGREGATOR_CAPACITY',
      options.capacity ?? (envCap ? Number(envCap) : undefined),
      1000,
    );
    this.windowMs = positive('windowMs', options.windowMs, 3_600_000);
    if (this.windowMs < MINUTE)
      throw new LoggingConfigError('windowMs', `expected at least 60000 (one trend minute), got ${this.windowMs}`);
    this.cooldownMs = options.cooldownMs === 0 ? 0 : positive('cooldownMs', options.cooldownMs, 60_000);
    this.maxTemplates = positive('maxTemplates', options.maxTemplates, 1000);
    const slowMs = positive('slowThresholdMs', options.slowThresholdMs, 1000, false);
    if (options.patterns !== undefined && !Array.isArray(options.patterns))
      throw new LoggingConfigError(
        'patterns',
        'expected an array of { name, regex, severity?, description?, levels? }',
      );
    this.patterns = [
      ...(options.builtinPatterns === false ? [] : builtins(slowMs)),
      ...(options.patterns ?? []).map(compile),
    ];
    const onAlert = options.onAlert;
    if (onAlert !== undefined && typeof onAlert !== 'function' && typeof onAlert?.onAlert !== 'function')
      throw new LoggingConfigError('onAlert', 'expected a function or an object with onAlert(alert)');
    this.sink = typeof onAlert === 'function' ? onAlert : onAlert ? (a) => onAlert.onAlert(a) : undefined;
    this.clock = options.now ?? Date.now;
    const a = options.anomaly ?? {};
    this.anomalyThreshold = positive('anomaly.threshold', a.threshold, 3.5, false);
    this.minBaseline = positive('anomaly.minBaselineMinutes', a.minBaselineMinutes, 5);
    this.minExcess = a.minExcess === 0 ? 0 : positive('anomaly.minExcess', a.minExcess, 5, false);
    this.ring = new Array(this.capacity);

    const m = options.metrics;
    this.mAlerts = m?.counter({
      name: 'periscope_logging_alerts_total',
      help: 'Alerts raised from log patterns.',
      labelNames: ['pattern', 'severity'],
    });
    this.mSuppressed = m?.counter({
      name: 'periscope_logging_alerts_suppressed_total',
      help: 'Pattern matches folded into an earlier alert by the cooldown.',
      labelNames: ['pattern'],
    });
    this.mAlertErrors = m?.counter({
      name: 'periscope_logging_alert_errors_total',
      help: 'onAlert calls that threw or rejected.',
      labelNames: [],
    });
    this.mMatches = m?.counter({
      name: 'periscope_logging_pattern_matches_total',
      help: 'Log records matching a pattern.',
      labelNames: ['pattern'],
    });
  }

  /** winston transport entry point. */
  override log(info: WinstonInfo, next: () => void): void {
    this.ingest(recordOf(info));
    next();
  }

  /** Adds one (already redacted) record. */
  ingest(record: LogRecord): void {
    if (this.stopped) return;
    const matched: string[] = [];
    let text: string | undefined;
    for (const p of this.patterns) {
      if (p.levels !== null && !p.levels.has(record.level)) continue;
      const hit = p.test ? p.test(record) : p.regex!.test((text ??= textOf(record)));
      if (hit) matched.push(p.name);
    }
    const stored: StoredRecord = { ...record, patterns: matched };
    this.ring[this.head] = stored;
    this.head = (this.head + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;

    this.total++;
    inc(this.byLevel, record.level);
    // Logger names are usually few; a per-request name must not grow the table without bound.
    if (record.logger)
      inc(
        this.byLogger,
        this.byLogger.has(record.logger) || this.byLogger.size < MAX_LOGGERS ? record.logger : '(other)',
      );
    this.count(record);
    this.track(record);
    for (const name of matched) {
      inc(this.byPattern, name);
      this.mMatches?.inc({ pattern: name });
      const p = this.patterns.find((x) => x.name === name)!;
      this.maybeAlert(name, p.severity, p.description, record);
    }
    if (record.level === 'error' || record.level === 'fatal') {
      const anomaly = this.anomaly(record.time);
      if (anomaly.anomalous) {
        this.maybeAlert(
          'error_rate_anomaly',
          'warning',
          `error rate ${anomaly.currentErrorsPerMinute}/min departs from baseline median ${anomaly.baselineMedian}/min (robust z ${anomaly.zScore?.toFixed(1)})`,
          record,
        );
      }
    }
  }

  private count(r: LogRecord): void {
    const minute = Math.floor(r.time / MINUTE) * MINUTE;
    let b = this.buckets.get(minute);
    if (!b) {
      b = { minute, total: 0, errors: 0, byLevel: {} };
      this.buckets.set(minute, b);
      if (minute > this.latestMinute) {
        this.latestMinute = minute;
        for (const key of this.buckets.keys()) if (key <= minute - this.windowMs) this.buckets.delete(key);
      }
    }
    b.total++;
    b.byLevel[r.level] = (b.byLevel[r.level] ?? 0) + 1;
    if (r.level === 'error' || r.level === 'fatal') b.errors++;
  }

  private track(r: LogRecord): void {
    const template = messageTemplate(r.message);
    let t = this.templates.get(template);
    if (!t) {
      if (this.templates.size >= this.maxTemplates) this.evictTemplates();
      t = { count: 0, level: r.level, example: r.message, lastSeen: r.time };
      this.templates.set(template, t);
    }
    t.count++;
    t.level = r.level;
    t.lastSeen = r.time;
  }

  // Under many distinct messages, forget the one-offs first, then the least frequent.
  private evictTemplates(): void {
    for (const [k, v] of this.templates) if (v.count <= 1) this.templates.delete(k);
    if (this.templates.size < this.maxTemplates) return;
    let minKey: string | undefined;
    let min = Infinity;
    for (const [k, v] of this.templates)
      if (v.count < min) {
        min = v.count;
        minKey = k;
      }
    if (minKey !== undefined) this.templates.delete(minKey);
  }

  private maybeAlert(pattern: string, severity: AlertSeverity, description: string, r: LogRecord): void {
    const now = r.time;
    const cd = this.cooldowns.get(pattern);
    if (cd && now - cd.lastAlert < this.cooldownMs) {
      if (cd.suppressed === 0) cd.firstSuppressed = now;
      cd.suppressed++;
      this.suppressed++;
      this.mSuppressed?.inc({ pattern });
      return;
    }
    const folded = cd?.suppressed ?? 0;
    const alert: LogAlert = {
      id: `log:${pattern}`,
      pattern,
      severity,
      description,
      message: r.message,
      level: r.level,
      service: r.service,
      logger: r.logger,
      traceId: r.traceId,
      count: folded + 1,
      firstSeen: folded ? cd!.firstSuppressed : now,
      lastSeen: now,
    };
    this.cooldowns.set(pattern, { lastAlert: now, suppressed: 0, firstSuppressed: 0 });
    this.raised++;
    this.mAlerts?.inc({ pattern, severity });
    this.recentAlerts.push(alert);
    if (this.recentAlerts.length > 50) this.recentAlerts.shift();
    this.deliver(alert);
  }

  // A failing alert sink never breaks logging: its errors are counted (and kept for summary()).
  private deliver(alert: LogAlert): void {
    if (!this.sink) return;
    let result: void | Promise<void>;
    try {
      result = this.sink(alert);
    } catch {
      this.failed++;
      this.mAlertErrors?.inc({});
      return;
    }
    if (result instanceof Promise) {
      const p: Promise<void> = result
        .catch(() => {
          this.failed++;
          this.mAlertErrors?.inc({});
        })
        .finally(() => this.pending.delete(p));
      this.pending.add(p);
    }
  }

  /** Newest matching records (oldest first), at most `limit` (default 100). */
  query(q: LogQuery = {}): StoredRecord[] {
    const levels = q.level === undefined ? null : new Set(typeof q.level === 'string' ? [q.level] : q.level);
    const minLevel = q.minLevel === undefined ? undefined : (LEVELS as Record<string, number>)[q.minLevel];
    if (q.minLevel !== undefined && minLevel === undefined)
      throw new LoggingConfigError('minLevel', `expected one of ${Object.keys(LEVELS).join(', ')}`);
    const since = q.since === undefined ? -Infinity : +q.since;
    const until = q.until === undefined ? Infinity : +q.until;
    const text = q.text?.toLowerCase();
    const limit = q.limit ?? 100;
    const out: StoredRecord[] = [];
    for (let i = 1; i <= this.size && out.length < limit; i++) {
      const r = this.ring[(this.head - i + this.capacity) % this.capacity]!;
      if (r.time < since || r.time > until) continue;
      if (levels && !levels.has(r.level)) continue;
      if (minLevel !== undefined && !((LEVELS as Record<string, number>)[r.level] <= minLevel)) continue;
      if (q.logger !== undefined && r.logger !== q.logger) continue;
      if (q.pattern !== undefined && !r.patterns.includes(q.pattern)) continue;
      if (text !== undefined && !r.message.toLowerCase().includes(text)) continue;
      out.push(r);
    }
    return out.reverse();
  }

  /** Records per minute over the window, oldest first, empty minutes included. */
  trend(): TrendPoint[] {
    const end = Math.floor(Math.max(this.clock(), this.latestMinute) / MINUTE) * MINUTE;
    const points: TrendPoint[] = [];
    for (let m = end - this.windowMs + MINUTE; m <= end; m += MINUTE) {
      const b = this.buckets.get(m);
      points.push({
        minute: new Date(m).toISOString(),
        total: b?.total ?? 0,
        errors: b?.errors ?? 0,
        byLevel: { ...b?.byLevel },
      });
    }
    return points;
  }

  /** Most frequent message templates. */
  topMessages(limit = 10): TopMessage[] {
    return [...this.templates.entries()]
      .sort((a, b) => b[1].count - a[1].count)
      .slice(0, limit)
      .map(([template, t]) => ({
        template,
        count: t.count,
        level: t.level,
        example: t.example,
        lastSeen: new Date(t.lastSeen).toISOString(),
      }));
  }

  /**
   * Whether the error count of the current minute departs upwards from the previous minutes of
   * the window: robust z-score = (x - median) / (1.4826 · MAD), falling back to the mean absolute
   * deviation when MAD is 0.
   */
  anomaly(at: number = this.clock()): AnomalyState {
    const minute = Math.floor(at / MINUTE) * MINUTE;
    const current = this.buckets.get(minute)?.errors ?? 0;
    const base = this.baseline(minute);
    if (base === undefined) {
      return {
        anomalous: false,
        zScore: null,
        currentErrorsPerMinute: current,
        baselineMedian: null,
        baselineMad: null,
        baselineMinutes: this.baselineMinutes(minute),
      };
    }
    const excess = current - base.median;
    const z = base.scale > 0 ? excess / base.scale : excess > 0 ? Infinity : 0;
    return {
      anomalous: z >= this.anomalyThreshold && excess >= this.minExcess,
      zScore: Number.isFinite(z) ? Math.round(z * 100) / 100 : z,
      currentErrorsPerMinute: current,
      baselineMedian: base.median,
      baselineMad: base.mad,
      baselineMinutes: base.values.length,
    };
  }

  private baselineMinutes(minute: number): number {
    const first = Math.min(...this.buckets.keys());
    return Number.isFinite(first) ? Math.min(Math.max(0, (minute - first) / MINUTE), this.windowMs / MINUTE - 1) : 0;
  }

  // The baseline only changes when the minute rolls over; cache it per current minute.
  private baseline(minute: number): { values: number[]; median: number; scale: number; mad: number } | undefined {
    if (this.baselineCache?.minute === minute) return this.baselineCache;
    const n = this.baselineMinutes(minute);
    if (n < this.minBaseline) return undefined;
    const values: number[] = [];
    for (let i = 1; i <= n; i++) values.push(this.buckets.get(minute - i * MINUTE)?.errors ?? 0);
    const sorted = [...values].sort((a, b) => a - b);
    const med = median(sorted);
    const mad = median(sorted.map((v) => Math.abs(v - med)).sort((a, b) => a - b));
    const meanAd = values.reduce((s, v) => s + Math.abs(v - med), 0) / values.length;
    const scale = mad > 0 ? 1.4826 * mad : 1.2533 * meanAd;
    this.baselineCache = { minute, values, median: med, scale, mad };
    return this.baselineCache;
  }

  /** Everything at a glance (for /status): counts, the last `trendMinutes` of the trend (15), top messages (10), anomaly, alerts. */
  summary(options: { trendMinutes?: number; topMessages?: number } = {}): LogSummary {
    return {
      capacity: this.capacity,
      buffered: this.size,
      total: this.total,
      byLevel: Object.fromEntries(this.byLevel),
      byLogger: Object.fromEntries(this.byLogger),
      byPattern: Object.fromEntries(this.byPattern),
      trend: this.trend().slice(-(options.trendMinutes ?? 15)),
      topMessages: this.topMessages(options.topMessages ?? 10),
      anomaly: this.anomaly(),
      alerts: {
        raised: this.raised,
        suppressed: this.suppressed,
        failed: this.failed,
        recent: this.recentAlerts.slice(-20),
      },
    };
  }

  /** Waits for alert deliveries in flight; later records are ignored. Idempotent. */
  override close(): Promise<void> {
    this.stopped = true;
    return Promise.all([...this.pending]).then(() => undefined);
  }
}

function inc(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

export function createLogAggregator(options: LogAggregatorOptions = {}): LogAggregator {
  return new LogAggregator(options);
}
