// Log aggregator: a winston transport that keeps the last records in a ring buffer, watches them
// for known trouble (fatal, auth failures, OOM, connection errors, slow operations, custom
// regexes), raises deduplicated alerts through `onAlert`, and keeps cheap analytics (counts,
// per-minute trend, top message templates, an error-rate anomaly flag).
import TransportStream from 'winston-transport';
import { createConfigReader } from '@periscope/core';
import { configError } from './errors';
import { LEVEL_NAMES, LEVEL_VALUES } from './levels';
import { recordOf, type LogRecord, type WinstonInfo } from './record';
import { messageTemplate } from './template';
import { aggregatorInstruments, type AggregatorInstruments } from './instrumentation';
import { builtinPatterns, compilePattern, textOf, type CompiledPattern } from './patterns';
import type {
  AlertSeverity,
  AnomalyState,
  LogAggregatorOptions,
  LogAlert,
  LogQuery,
  LogSummary,
  OnAlert,
  StoredRecord,
  TopMessage,
  TrendPoint,
} from './aggregator-types';

export type * from './aggregator-types';

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

const MINUTE = 60_000;
const MAX_LOGGERS = 1000;
const KNOWN: readonly (keyof LogAggregatorOptions)[] = [
  'capacity',
  'windowMs',
  'patterns',
  'builtinPatterns',
  'slowThresholdMs',
  'cooldownMs',
  'onAlert',
  'anomaly',
  'maxTemplates',
  'metrics',
  'level',
  'now',
  'env',
];

function median(sorted: number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
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

  private readonly m: AggregatorInstruments;

  constructor(options: LogAggregatorOptions = {}) {
    super({ level: options.level });
    const r = createConfigReader({ env: options.env, error: configError });
    r.rejectUnknown(options, KNOWN, 'createLogAggregator options');
    r.oneOf('level', options.level as never, LEVEL_NAMES, { default: undefined });
    this.capacity = r.integer('capacity', options.capacity, {
      env: 'PERISCOPE_LOG_AGGREGATOR_CAPACITY',
      default: 1000,
      min: 1,
      max: 10_000_000,
    });
    this.windowMs = r.integer('windowMs', options.windowMs, { default: 3_600_000, min: MINUTE });
    this.cooldownMs = r.number('cooldownMs', options.cooldownMs, { default: 60_000, min: 0 });
    this.maxTemplates = r.integer('maxTemplates', options.maxTemplates, { default: 1000, min: 1 });
    const slowMs = r.number('slowThresholdMs', options.slowThresholdMs, { default: 1000, min: 0 });
    if (options.patterns !== undefined && !Array.isArray(options.patterns))
      r.fail('patterns', 'an array of { name, regex, severity?, description?, levels? }', options.patterns);
    this.patterns = [
      ...(options.builtinPatterns === false ? [] : builtinPatterns(slowMs)),
      ...(options.patterns ?? []).map(compilePattern),
    ];
    const onAlert = options.onAlert;
    if (onAlert !== undefined && typeof onAlert !== 'function' && typeof onAlert?.onAlert !== 'function')
      r.fail('onAlert', 'a function or an object with onAlert(alert)', onAlert);
    this.sink = typeof onAlert === 'function' ? onAlert : onAlert ? (a) => onAlert.onAlert(a) : undefined;
    this.clock = options.now ?? Date.now;
    const a = options.anomaly ?? {};
    r.rejectUnknown(a, ['threshold', 'minBaselineMinutes', 'minExcess'], 'anomaly');
    this.anomalyThreshold = r.number('anomaly.threshold', a.threshold, { default: 3.5, min: 0 });
    this.minBaseline = r.integer('anomaly.minBaselineMinutes', a.minBaselineMinutes, { default: 5, min: 1 });
    this.minExcess = r.number('anomaly.minExcess', a.minExcess, { default: 5, min: 0 });
    this.ring = new Array(this.capacity);
    this.m = aggregatorInstruments(options.metrics);
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
      this.m.match(name);
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
      this.m.suppressed(pattern);
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
    this.m.alert(pattern, severity);
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
      this.m.alertError();
      return;
    }
    if (result instanceof Promise) {
      const p: Promise<void> = result
        .catch(() => {
          this.failed++;
          this.m.alertError();
        })
        .finally(() => this.pending.delete(p));
      this.pending.add(p);
    }
  }

  /** Newest matching records (oldest first), at most `limit` (default 100). */
  query(q: LogQuery = {}): StoredRecord[] {
    const levels = q.level === undefined ? null : new Set(typeof q.level === 'string' ? [q.level] : q.level);
    const minLevel = q.minLevel === undefined ? undefined : LEVEL_VALUES[q.minLevel];
    if (q.minLevel !== undefined && minLevel === undefined)
      throw configError('minLevel', `one of ${LEVEL_NAMES.join(', ')}`, q.minLevel);
    const since = q.since === undefined ? -Infinity : +q.since;
    const until = q.until === undefined ? Infinity : +q.until;
    const text = q.text?.toLowerCase();
    const limit = q.limit ?? 100;
    const out: StoredRecord[] = [];
    for (let i = 1; i <= this.size && out.length < limit; i++) {
      const r = this.ring[(this.head - i + this.capacity) % this.capacity]!;
      if (r.time < since || r.time > until) continue;
      if (levels && !levels.has(r.level)) continue;
      if (minLevel !== undefined && !(LEVEL_VALUES[r.level] <= minLevel)) continue;
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

  /**
   * Everything at a glance (for /status): counts, the minutes with records among the last
   * `trendMinutes` (15; empty minutes are left out), top messages (10), anomaly, alerts.
   */
  summary(options: { trendMinutes?: number; topMessages?: number } = {}): LogSummary {
    return {
      capacity: this.capacity,
      buffered: this.size,
      total: this.total,
      byLevel: Object.fromEntries(this.byLevel),
      byLogger: Object.fromEntries(this.byLogger),
      byPattern: Object.fromEntries(this.byPattern),
      trend: this.trend()
        .slice(-(options.trendMinutes ?? 15))
        .filter((p) => p.total > 0),
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
