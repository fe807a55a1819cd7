// Alert states, state by state, on Jest's fake clock (Date.now and the evaluation interval), with
// what a user sees: alerts(), history() and the notifications a channel receives.
import { createMetrics, type Metrics } from '@periscope/metrics';
import { createLogAggregator, createLogger } from '@periscope/logging';
import {
  createAlertManager,
  RuleError,
  UnsupportedPromQLError,
  type AlertManager,
  type Notification,
  type Rule,
} from '../src';

let metrics: Metrics;
let manager: AlertManager | undefined;
let sent: Notification[];

function channel() {
  return { type: 'custom' as const, name: 'capture', send: (n: Notification) => void sent.push(n) };
}

function start(rules: Rule[], extra: Parameters<typeof createAlertManager>[0] = {}): AlertManager {
  manager = createAlertManager({ metrics, evaluateEveryMs: 1000, rules, channels: [channel()], env: {}, ...extra });
  return manager;
}

/** Moves the clock by `ms`: the interval samples the history and evaluates. */
async function tick(ms = 1000): Promise<void> {
  jest.advanceTimersByTime(ms);
  await manager?.flush();
}

beforeEach(() => {
  jest.useFakeTimers({ now: 1_000_000, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  metrics = createMetrics();
  sent = [];
});
afterEach(async () => {
  await manager?.close();
  manager = undefined;
  await metrics.close();
  jest.useRealTimers();
});

describe('alert states', () => {
  it('goes inactive → pending → firing → resolved, notifying on firing and on resolve', async () => {
    const g = metrics.gauge({ name: 'temp', help: 't', labelNames: ['room'] as const });
    g.set({ room: 'a' }, 10);
    const m = start([
      { name: 'Hot', expr: 'temp > 50', forMs: 3000, annotations: { summary: '{{ $labels.room }} is {{ $value }}' } },
    ]);
    await tick();
    expect(m.alerts()).toEqual([]);
    g.set({ room: 'a' }, 60);
    await tick();
    expect(m.alerts()).toMatchObject([
      { state: 'pending', labels: { alertname: 'Hot', room: 'a', severity: 'warning' }, value: 60 },
    ]);
    await tick();
    await tick();
    expect(m.alerts()[0].state).toBe('pending');
    expect(sent).toEqual([]);
    await tick();
    expect(m.alerts()).toMatchObject([{ state: 'firing', annotations: { summary: 'a is 60' } }]);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ status: 'firing', groupLabels: { alertname: 'Hot' } });
    await tick();
    expect(sent).toHaveLength(1); // deduplicated: no second notification while it keeps firing
    g.set({ room: 'a' }, 20);
    await tick();
    expect(m.alerts()).toEqual([]);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatchObject({ status: 'resolved', alerts: [{ state: 'resolved', labels: { room: 'a' } }] });
    expect(m.history().map((t) => `${t.from}->${t.to}`)).toEqual([
      'inactive->pending',
      'pending->firing',
      'firing->resolved',
    ]);
  });

  it('drops a pending alert that clears before forMs without notifying', async () => {
    const g = metrics.gauge({ name: 'temp', help: 't' });
    g.set(60);
    const m = start([{ name: 'Hot', expr: 'temp > 50', forMs: 5000 }]);
    await tick();
    expect(m.alerts()[0].state).toBe('pending');
    g.set(1);
    await tick();
    expect(m.alerts()).toEqual([]);
    expect(sent).toEqual([]);
    expect(m.history().map((t) => t.to)).toEqual(['pending', 'inactive']);
  });

  it('keeps firing for keepFiringForMs after the condition clears', async () => {
    const g = metrics.gauge({ name: 'temp', help: 't' });
    g.set(60);
    const m = start([{ name: 'Hot', expr: 'temp > 50', keepFiringForMs: 2000 }]);
    await tick();
    expect(m.alerts()[0].state).toBe('firing');
    g.set(1);
    await tick();
    await tick();
    expect(m.alerts()[0]?.state).toBe('firing');
    await tick();
    expect(m.alerts()).toEqual([]);
    expect(sent.map((n) => n.status)).toEqual(['firing', 'resolved']);
  });

  it('re-notifies a firing alert after repeatIntervalMs', async () => {
    const g = metrics.gauge({ name: 'temp', help: 't' });
    g.set(60);
    start([{ name: 'Hot', expr: 'temp > 50' }], { repeatIntervalMs: 3000 });
    await tick();
    await tick();
    await tick();
    expect(sent).toHaveLength(1);
    await tick();
    expect(sent).toHaveLength(2);
  });

  it('gives one alert per series with a stable fingerprint, grouped in one notification', async () => {
    const g = metrics.gauge({ name: 'temp', help: 't', labelNames: ['room'] as const });
    g.set({ room: 'a' }, 60);
    g.set({ room: 'b' }, 70);
    const m = start([{ name: 'Hot', expr: 'temp > 50' }]);
    await tick();
    const alerts = m.alerts();
    expect(alerts).toHaveLength(2);
    expect(new Set(alerts.map((a) => a.fingerprint)).size).toBe(2);
    expect(sent).toHaveLength(1);
    expect(sent[0].alerts.map((a) => a.labels.room).sort()).toEqual(['a', 'b']);
    expect(sent[0].commonLabels).toEqual({ alertname: 'Hot', severity: 'warning' });
    const before = alerts.map((a) => a.fingerprint).sort();
    await tick();
    expect(
      m
        .alerts()
        .map((a) => a.fingerprint)
        .sort(),
    ).toEqual(before);
  });

  it('evaluates rate over the history with counter resets', async () => {
    const c = metrics.counter({ name: 'jobs_total', help: 'j' });
    const m = start([{ name: 'Busy', expr: 'rate(jobs_total[4s]) > 4' }]);
    for (let i = 0; i < 5; i++) {
      c.inc(5);
      await tick();
    }
    expect(m.alerts()).toHaveLength(1);
    c.reset(); // a restart: the counter drops to 0, then counts on
    c.inc(5);
    await tick();
    expect(m.alerts()).toHaveLength(1);
    for (let i = 0; i < 12; i++) await tick();
    expect(m.alerts()).toEqual([]);
  });
});

describe('rules at run time', () => {
  it('fails at addRule naming the unsupported construct', () => {
    const m = start([]);
    let caught: unknown;
    try {
      m.addRule({ name: 'Bad', expr: 'irate(x[5m]) > 1' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(RuleError);
    expect((caught as RuleError).message).toContain('function irate');
    expect((caught as RuleError).cause).toBeInstanceOf(UnsupportedPromQLError);
    expect(() => m.addRule({ name: 'Scalar', expr: '1 + 1' } as Rule)).toThrow(/instant vector/);
    expect(() => m.addRule({ name: 'Typo', expr: 'x > 1', fourMs: 1 } as unknown as Rule)).toThrow(
      /unknown field "fourMs"/,
    );
  });

  it('disable resolves firing alerts and stops evaluating; enable starts again; removeRule removes', async () => {
    const g = metrics.gauge({ name: 'temp', help: 't' });
    g.set(60);
    const m = start([{ name: 'Hot', expr: 'temp > 50' }]);
    await tick();
    expect(m.alerts()).toHaveLength(1);
    expect(m.disable('Hot')).toBe(true);
    await m.flush();
    expect(m.alerts()).toEqual([]);
    expect(sent.map((n) => n.status)).toEqual(['firing', 'resolved']);
    await tick();
    expect(m.alerts()).toEqual([]);
    expect(m.rulesStatus()[0].enabled).toBe(false);
    m.enable('Hot');
    await tick();
    expect(m.alerts()).toHaveLength(1);
    expect(m.removeRule('Hot')).toBe(true);
    expect(m.removeRule('Hot')).toBe(false);
    expect(m.alerts()).toEqual([]);
    expect(m.rulesStatus()).toEqual([]);
  });

  it('tracks a metric that a later rule needs', async () => {
    const g = metrics.gauge({ name: 'later', help: 'l' });
    g.set(5);
    const m = start([]);
    m.addRule({ name: 'Later', expr: 'later > 1' });
    await tick();
    expect(m.alerts()).toHaveLength(1);
  });
});

describe('silences and inhibition', () => {
  it('a silence mutes notifications until it expires; the alert stays visible', async () => {
    const g = metrics.gauge({ name: 'temp', help: 't', labelNames: ['room'] as const });
    g.set({ room: 'a' }, 60);
    const m = start([{ name: 'Hot', expr: 'temp > 50' }]);
    const s = m.silence({ matchers: { room: 'a' }, durationMs: 3000, comment: 'maintenance' });
    await tick();
    expect(m.alerts()[0]).toMatchObject({ state: 'firing', silencedBy: [s.id] });
    expect(sent).toEqual([]);
    await tick();
    expect(sent).toEqual([]);
    await tick(); // 3 s later: expired
    expect(m.silenced()).toEqual([]);
    expect(sent).toHaveLength(1);
    expect(m.alerts()[0].silencedBy).toEqual([]);
  });

  it('matches silences with regex matchers and removes them by id', async () => {
    const g = metrics.gauge({ name: 'temp', help: 't', labelNames: ['room'] as const });
    g.set({ room: 'lab-1' }, 60);
    const m = start([{ name: 'Hot', expr: 'temp > 50' }]);
    const s = m.silence({ matchers: [{ name: 'room', op: '=~', value: 'lab-.*' }], durationMs: 60_000 });
    await tick();
    expect(sent).toEqual([]);
    expect(m.unsilence(s.id)).toBe(true);
    await m.flush();
    expect(sent).toHaveLength(1);
  });

  it('a firing critical mutes the warning of the same alertname', async () => {
    const g = metrics.gauge({ name: 'errors', help: 'e' });
    g.set(15);
    const m = start([
      { name: 'Errors', expr: 'errors > 10', severity: 'warning' },
      { name: 'Errors', expr: 'errors > 20', severity: 'critical' },
    ]);
    await tick();
    expect(sent.flatMap((n) => n.alerts.map((a) => a.labels.severity))).toEqual(['warning']);
    g.set(25);
    await tick();
    const warning = m.alerts().find((a) => a.labels.severity === 'warning')!;
    const critical = m.alerts().find((a) => a.labels.severity === 'critical')!;
    expect(warning.inhibitedBy).toEqual([critical.fingerprint]);
    expect(sent.flatMap((n) => n.alerts.map((a) => a.labels.severity))).toEqual(['warning', 'critical']);
    g.set(15);
    await tick();
    expect(m.alerts().find((a) => a.labels.severity === 'warning')!.inhibitedBy).toEqual([]);
  });
});

describe('history and anomaly rules', () => {
  it('keeps at most historyLimit transitions', async () => {
    const g = metrics.gauge({ name: 'flap', help: 'f' });
    const m = start([{ name: 'Flap', expr: 'flap > 0' }], { historyLimit: 5 });
    for (let i = 0; i < 10; i++) {
      g.set(i % 2);
      await tick();
    }
    expect(m.history()).toHaveLength(5);
  });

  it('flags a value far from its robust baseline only after minSamples and the warm-up', async () => {
    const g = metrics.gauge({ name: 'latency_ms', help: 'l' });
    const m = start([
      { type: 'anomaly', name: 'LatencyAnomaly', expr: 'latency_ms', minSamples: 10, warmupMs: 12_000, threshold: 4 },
    ]);
    g.set(500); // a spike before the baseline exists is not flagged
    await tick();
    expect(m.alerts()).toEqual([]);
    for (let i = 0; i < 12; i++) {
      g.set(100 + (i % 5));
      await tick();
      expect(m.alerts()).toEqual([]);
    }
    g.set(180);
    await tick();
    expect(m.alerts()).toMatchObject([{ state: 'firing', labels: { alertname: 'LatencyAnomaly' }, value: 180 }]);
    g.set(103);
    await tick();
    expect(m.alerts()).toEqual([]);
  });
});

describe('log-pattern alerts', () => {
  it('enter the same manager, are grouped and notified, and resolve after logAlertTtlMs', async () => {
    const m = start([], { logAlertTtlMs: 5000 });
    const aggregator = createLogAggregator({ onAlert: m.logAlertSink });
    const logger = createLogger({ service: 'checkout', transports: [aggregator], level: 'debug' });
    logger.error('connect ECONNREFUSED 127.0.0.1:5432');
    await m.flush();
    expect(m.alerts()).toMatchObject([
      { state: 'firing', labels: { alertname: 'LogPattern', pattern: 'connection_error', service: 'checkout' } },
    ]);
    expect(sent).toHaveLength(1);
    await tick(5000);
    expect(m.alerts()).toEqual([]);
    expect(sent.map((n) => n.status)).toEqual(['firing', 'resolved']);
    await logger.shutdown();
  });
});
