// The alert manager: rules evaluated in-process over the metrics history on an interval, with
// Prometheus' alert states, Alertmanager's silences, inhibition and grouping, log-pattern alerts
// from @periscope/logging's aggregator, and notification channels that never block evaluation.
import { NOOP_LOGGER, type Logger } from '@periscope/core';
import type { LogAlert } from '@periscope/logging';
import type { History } from '@periscope/metrics';
import { AnomalyDetector } from './anomaly';
import { createChannel, type Channel } from './channels';
import type { DeliveryStats } from './channels/delivery';
import { resolveOptions, type AlertManagerOptions, type ResolvedOptions } from './config';
import { AlertingError, RuleError } from './errors';
import { createInstruments, type AlertingInstruments } from './instrumentation';
import { Notifier, snapshot } from './notify';
import { evalVector, reachByName, reachMs, selectedNames, type EvalContext } from './promql/eval';
import { compileRule, type CompiledRule, type Rule } from './rules';
import {
  applyInhibition,
  DEFAULT_INHIBIT_RULES,
  Silences,
  type InhibitRule,
  type Silence,
  type SilenceInput,
} from './silences';
import { baseMetricName, historySource, type SeriesSource } from './source';
import {
  fingerprint,
  RESOLVED_RETENTION_MS,
  RuleState,
  type Alert,
  type AlertState,
  type Change,
  type InternalAlert,
} from './state';

export interface AlertTransition {
  at: number;
  fingerprint: string;
  alertname: string;
  labels: Record<string, string>;
  from: AlertState | 'inactive';
  to: AlertState | 'inactive';
  value: number;
}

export interface RuleStatus {
  name: string;
  severity: string;
  expr: string;
  type: 'promql' | 'anomaly';
  enabled: boolean;
  alerts: number;
  lastEvaluation: number;
  lastDurationMs: number;
  lastError?: string;
}

interface RuleEntry {
  state: RuleState;
  detector?: AnomalyDetector;
}

const LOG_RULE = 'LogPattern';

export class AlertManager {
  private readonly options: ResolvedOptions;
  private readonly rules = new Map<string, RuleEntry>();
  private readonly logAlerts = new Map<string, InternalAlert & { lastSeen: number }>();
  private readonly silences = new Silences();
  private readonly inhibitRules: readonly InhibitRule[];
  private readonly channels: Channel[];
  private readonly notifier: Notifier;
  private readonly instruments: AlertingInstruments;
  private readonly logger: Logger;
  private readonly transitions: AlertTransition[] = [];
  private source: SeriesSource | undefined;
  private hist: History | undefined;
  private readonly ownsHistory: boolean;
  private timer: NodeJS.Timeout | undefined;
  private closed: Promise<void> | undefined;
  private readonly reach = new Map<string, number>();
  private lastSampleAt = -Infinity;
  private readonly pendingNames = new Set<string>();

  constructor(private readonly init: AlertManagerOptions = {}) {
    this.options = resolveOptions(init);
    this.logger = init.logger ?? NOOP_LOGGER;
    this.instruments = createInstruments(init.metrics);
    this.inhibitRules = init.inhibitRules ?? DEFAULT_INHIBIT_RULES;
    this.notifier = new Notifier(this.options.groupBy, this.options.repeatIntervalMs, this.options.externalUrl);
    const ctx = {
      instruments: this.instruments,
      logger: this.logger,
      externalUrl: this.options.externalUrl,
      evaluateEveryMs: this.options.evaluateEveryMs,
    };
    const configs = [...(init.channels ?? [])];
    if (this.options.alertmanagerUrl !== undefined && !configs.some((c) => c.type === 'alertmanager'))
      configs.push({ type: 'alertmanager', url: this.options.alertmanagerUrl });
    this.channels = configs.map((c, i) => createChannel(c, i, ctx));
    this.hist = init.history;
    this.ownsHistory = init.history === undefined && init.source === undefined;
    this.source = init.source ?? (init.history ? historySource(init.history) : undefined);
    for (const rule of init.rules ?? []) this.addRule(rule);
    this.ensureHistory();
    if (this.options.evaluateEveryMs > 0) {
      this.timer = setInterval(() => this.runOnce(), this.options.evaluateEveryMs);
      this.timer.unref();
    }
  }

  /** Adds a rule; throws RuleError (naming the unsupported construct, with the parse error as cause). */
  addRule(rule: Rule): void {
    if (this.closed) throw new AlertingError('ERR_ALERTING_CLOSED', 'the alert manager is closed');
    const compiled = compileRule(rule);
    if (this.rules.has(compiled.key))
      throw new RuleError(rule.name, `a rule with this name and severity ${compiled.severity} exists`);
    const reach = reachMs(compiled.ast);
    if (this.hist !== undefined && reach > this.hist.retentionMs)
      throw new RuleError(rule.name, `reads ${reach} ms back but the history keeps ${this.hist.retentionMs} ms`);
    if (this.ownsHistory && reach > this.options.historyRetentionMs)
      throw new RuleError(
        rule.name,
        `reads ${reach} ms back but historyRetentionMs is ${this.options.historyRetentionMs}`,
      );
    this.track(compiled);
    for (const [name, ms] of reachByName(compiled.ast)) this.reach.set(name, Math.max(this.reach.get(name) ?? 0, ms));
    const entry: RuleEntry = { state: new RuleState(compiled) };
    if (rule.type === 'anomaly') entry.detector = new AnomalyDetector(rule, Date.now());
    this.rules.set(compiled.key, entry);
  }

  private track(compiled: CompiledRule): void {
    const names = [...selectedNames(compiled.ast)].flatMap(baseMetricName);
    if (this.ownsHistory) {
      if (this.init.metrics === undefined)
        throw new RuleError(compiled.rule.name, 'the alert manager has no metrics (pass metrics, history or source)');
      if (this.hist === undefined) for (const n of names) this.pendingNames.add(n);
      else for (const n of names) this.hist.track(n);
    } else if (this.source === undefined) throw new RuleError(compiled.rule.name, 'no source of series');
  }

  /** Creates the owned history once rules name metrics: one history, its first sample taking all of them. */
  private ensureHistory(): void {
    if (!this.ownsHistory || this.hist !== undefined || this.pendingNames.size === 0 || this.init.metrics === undefined)
      return;
    this.hist = this.init.metrics.history({
      series: [...this.pendingNames],
      intervalMs: Math.max(10, this.options.evaluateEveryMs || 10_000),
      retentionMs: this.options.historyRetentionMs,
    });
    this.source = historySource(this.hist);
  }

  /** Removes every rule of that name (each severity); its firing alerts resolve. Returns whether one existed. */
  removeRule(name: string): boolean {
    const now = Date.now();
    let found = false;
    const resolved: InternalAlert[] = [];
    for (const [key, entry] of this.rules) {
      if (entry.state.compiled.rule.name !== name) continue;
      found = true;
      resolved.push(...this.record(entry.state.clear(now), now));
      this.rules.delete(key);
    }
    if (found) this.dispatch(now, resolved);
    return found;
  }

  /** Turns rules of that name back on. */
  enable(name: string): boolean {
    return this.setEnabled(name, true);
  }

  /** Stops evaluating rules of that name; their firing alerts resolve. */
  disable(name: string): boolean {
    return this.setEnabled(name, false);
  }

  private setEnabled(name: string, enabled: boolean): boolean {
    const now = Date.now();
    let found = false;
    const resolved: InternalAlert[] = [];
    for (const entry of this.rules.values()) {
      if (entry.state.compiled.rule.name !== name) continue;
      found = true;
      if (entry.state.compiled.enabled === enabled) continue;
      entry.state.compiled.enabled = enabled;
      if (!enabled) resolved.push(...this.record(entry.state.clear(now), now));
    }
    if (resolved.length > 0) this.dispatch(now, resolved);
    return found;
  }

  /** Evaluates every enabled rule once now and notifies; returns the active (pending and firing) alerts. */
  evaluate(): Alert[] {
    if (this.closed) return [];
    this.runOnce();
    return this.alerts();
  }

  private runOnce(): void {
    if (this.closed) return;
    let now = Date.now();
    const started = performance.now();
    this.ensureHistory();
    if (this.ownsHistory && this.hist !== undefined) {
      // Two evaluations within one millisecond still each see a fresh sample.
      now = Math.max(now, this.lastSampleAt + 1);
      this.hist.sample(now);
      this.lastSampleAt = now;
    }
    let failed = 0;
    if (this.source !== undefined) {
      const ctx: EvalContext = {
        source: this.source,
        time: now,
        cache: new Map(),
        memo: new Map(),
        reachByName: this.reach,
      };
      for (const entry of this.rules.values()) if (!this.evaluateRule(entry, ctx)) failed++;
    }
    this.expireLogAlerts(now);
    this.dispatch(now, []);
    this.instruments.evaluation((performance.now() - started) / 1000, failed);
  }

  private evaluateRule(entry: RuleEntry, ctx: EvalContext): boolean {
    const { state } = entry;
    if (!state.compiled.enabled) return true;
    const t0 = performance.now();
    try {
      let vector = evalVector(state.compiled.ast, ctx);
      if (entry.detector !== undefined) vector = entry.detector.observe(vector, ctx.time);
      this.record(state.apply(vector, ctx.time), ctx.time);
      state.lastError = undefined;
      return true;
    } catch (err) {
      state.lastError = err as Error;
      this.logger.warn('alert rule evaluation failed', {
        rule: state.compiled.rule.name,
        error: (err as Error).message,
      });
      return false;
    } finally {
      state.lastEvaluation = ctx.time;
      state.lastDurationMs = performance.now() - t0;
    }
  }

  /** Appends the changes to the bounded history; returns their alerts. */
  private record(changes: readonly Change[], at: number): InternalAlert[] {
    for (const { alert: a, from, to } of changes)
      this.transitions.push({
        at,
        fingerprint: a.fingerprint,
        alertname: a.labels.alertname,
        labels: { ...a.labels },
        from,
        to,
        value: a.value,
      });
    const over = this.transitions.length - this.options.historyLimit;
    if (over > 0) this.transitions.splice(0, over);
    return changes.map((c) => c.alert);
  }

  private allAlerts(): InternalAlert[] {
    const out: InternalAlert[] = [];
    for (const e of this.rules.values()) for (const a of e.state.active.values()) out.push(a);
    for (const a of this.logAlerts.values()) out.push(a);
    return out;
  }

  private dispatch(now: number, extra: InternalAlert[]): void {
    const all = [...this.allAlerts(), ...extra.splice(0)];
    this.silences.expire(now);
    for (const a of all) a.silencedBy = this.silences.matching(a.labels, now);
    applyInhibition(all, this.inhibitRules);
    let pending = 0;
    let firing = 0;
    for (const a of all) {
      if (a.state === 'pending') pending++;
      else if (a.state === 'firing') firing++;
    }
    this.instruments.alerts({ pending, firing });
    const notifications = this.notifier.due(all, now);
    for (const ch of this.channels) {
      if (ch.sync) ch.sync(all, now);
      if (ch.notify) for (const n of notifications) ch.notify(n);
    }
  }

  /** Active alerts (pending and firing), with silences and inhibition applied; copies. */
  alerts(): Alert[] {
    return this.allAlerts()
      .filter((a) => a.state !== 'resolved')
      .map(snapshot);
  }

  /** Recent state transitions, oldest first (bounded by historyLimit). */
  history(): AlertTransition[] {
    return this.transitions.map((t) => ({ ...t, labels: { ...t.labels } }));
  }

  /** Mutes matching alerts in every channel but Alertmanager (which has its own silences) until it expires. */
  silence(input: SilenceInput): Silence {
    const s = this.silences.add(input, Date.now());
    this.applyMutes();
    return s;
  }

  unsilence(id: string): boolean {
    const removed = this.silences.remove(id);
    if (removed) this.dispatch(Date.now(), []);
    return removed;
  }

  silenced(): Silence[] {
    return this.silences.active(Date.now());
  }

  private applyMutes(): void {
    const now = Date.now();
    for (const a of this.allAlerts()) a.silencedBy = this.silences.matching(a.labels, now);
  }

  /** Rules with their state (for /status). */
  rulesStatus(): RuleStatus[] {
    return [...this.rules.values()].map(({ state }) => ({
      name: state.compiled.rule.name,
      severity: state.compiled.severity,
      expr: state.compiled.rule.expr,
      type: state.compiled.rule.type === 'anomaly' ? 'anomaly' : 'promql',
      enabled: state.compiled.enabled,
      alerts: [...state.active.values()].filter((a) => a.state !== 'resolved').length,
      lastEvaluation: state.lastEvaluation,
      lastDurationMs: state.lastDurationMs,
      lastError: state.lastError?.message,
    }));
  }

  /** The rule definitions as given (for export, see toPrometheusRulesYaml). */
  ruleDefinitions(): Rule[] {
    return [...this.rules.values()].map((e) => e.state.compiled.rule);
  }

  /** Delivery counters per channel. */
  channelStats(): Record<string, DeliveryStats> {
    return Object.fromEntries(this.channels.map((c) => [c.name, c.stats()]));
  }

  /** Resolves when every channel's queue is empty. */
  async flush(): Promise<void> {
    await Promise.all(this.channels.map((c) => c.drained()));
  }

  /** Receives log-pattern alerts: pass as `createLogAggregator({ onAlert: manager.logAlertSink })`. */
  readonly logAlertSink = (alert: LogAlert): void => {
    if (this.closed) return;
    const now = Date.now();
    const labels: Record<string, string> = { alertname: LOG_RULE, pattern: alert.pattern, severity: alert.severity };
    if (alert.service) labels.service = alert.service;
    const fp = fingerprint(labels);
    const annotations = { summary: alert.description, description: alert.message, count: String(alert.count) };
    const existing = this.logAlerts.get(fp);
    if (existing !== undefined && existing.state === 'firing') {
      existing.lastSeen = now;
      existing.value += alert.count;
      existing.annotations = annotations;
      return;
    }
    const a = {
      fingerprint: fp,
      rule: `log:${alert.pattern}`,
      labels,
      annotations,
      state: 'firing' as const,
      value: alert.count,
      activeAt: now,
      firedAt: now,
      silencedBy: [],
      inhibitedBy: [],
      lastSeen: now,
    };
    this.logAlerts.set(fp, a);
    this.record([{ alert: a, from: 'inactive', to: 'firing' }], now);
    this.dispatch(now, []);
  };

  private expireLogAlerts(now: number): void {
    for (const [fp, a] of this.logAlerts) {
      if (a.state === 'firing' && now - a.lastSeen >= this.options.logAlertTtlMs) {
        a.state = 'resolved';
        a.resolvedAt = now;
        this.record([{ alert: a, from: 'firing', to: 'resolved' }], now);
      } else if (a.state === 'resolved' && now - (a.resolvedAt ?? now) > RESOLVED_RETENTION_MS)
        this.logAlerts.delete(fp);
    }
  }

  /** Stops evaluating, waits up to closeTimeoutMs for queued notifications, stops sampling. Idempotent. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      if (this.timer !== undefined) clearInterval(this.timer);
      this.timer = undefined;
      await Promise.all(this.channels.map((c) => c.close(this.options.closeTimeoutMs)));
      if (this.ownsHistory) this.hist?.close();
    })();
    return this.closed;
  }
}

export function createAlertManager(options: AlertManagerOptions = {}): AlertManager {
  return new AlertManager(options);
}
