import winston from 'winston';
import { createMetrics } from '@periscope/metrics';
import {
  createLogAggregator,
  createLogger,
  messageTemplate,
  LoggingConfigError,
  type LogAlert,
  type LogRecord,
  type PeriscopeLogger,
  type LogAggregator,
} from '@periscope/logging';
import { capture, tick } from './helpers';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const MIN = 60_000;
function rec(partial: Partial<LogRecord> & { message: string }): LogRecord {
  return { time: T0, level: 'info', service: 'svc', attributes: {}, ...partial };
}

const loggers: PeriscopeLogger[] = [];
const aggregators: LogAggregator[] = [];
function setup(options: Parameters<typeof createLogAggregator>[0] = {}) {
  const alerts: LogAlert[] = [];
  const aggregator = createLogAggregator({
    onAlert: (a) => {
      alerts.push(a);
    },
    ...options,
  });
  aggregators.push(aggregator);
  const logger = createLogger({
    service: 'agent',
    format: 'json',
    level: 'debug',
    destination: capture().stream,
    aggregator,
  });
  loggers.push(logger);
  return { aggregator, logger, alerts };
}
afterEach(async () => {
  await Promise.all(loggers.splice(0).map((l) => l.shutdown()));
  await Promise.all(aggregators.splice(0).map((a) => a.close()));
});

describe('ring buffer and queries', () => {
  it('keeps the last N records, queryable by level, logger, time and text', async () => {
    const { aggregator, logger } = setup({ capacity: 5 });
    for (let i = 1; i <= 6; i++) logger.info(`step ${i}`);
    logger.agentLogger('planner').warn('plan too long');
    logger.error('boom');
    await tick();
    expect(aggregator.query().map((r) => r.message)).toEqual(['step 4', 'step 5', 'step 6', 'plan too long', 'boom']);
    expect(aggregator.query({ level: 'warn' }).map((r) => r.message)).toEqual(['plan too long']);
    expect(aggregator.query({ minLevel: 'warn' }).map((r) => r.message)).toEqual(['plan too long', 'boom']);
    expect(aggregator.query({ logger: 'planner' })).toHaveLength(1);
    expect(aggregator.query({ text: 'STEP', limit: 2 }).map((r) => r.message)).toEqual(['step 5', 'step 6']);
    expect(aggregator.query({ since: Date.now() + 60_000 })).toEqual([]);
    expect(aggregator.summary()).toMatchObject({
      capacity: 5,
      buffered: 5,
      total: 8,
      byLevel: { info: 6, warn: 1, error: 1 },
      byLogger: { planner: 1 },
    });
  });

  it('filters by time range on record timestamps', () => {
    const agg = createLogAggregator();
    aggregators.push(agg);
    for (let i = 0; i < 5; i++) agg.ingest(rec({ message: `m${i}`, time: T0 + i * MIN }));
    expect(agg.query({ since: T0 + MIN, until: new Date(T0 + 3 * MIN) }).map((r) => r.message)).toEqual([
      'm1',
      'm2',
      'm3',
    ]);
  });

  it('works as a transport of a plain winston logger', async () => {
    const agg = createLogAggregator({ onAlert: () => undefined });
    aggregators.push(agg);
    const plain = winston.createLogger({ transports: [agg] });
    plain.error('upstream ECONNRESET', { logger: 'http' });
    await tick();
    plain.close();
    expect(agg.query()[0]).toMatchObject({
      level: 'error',
      message: 'upstream ECONNRESET',
      logger: 'http',
      patterns: ['connection_error'],
    });
  });
});

describe('patterns and alerts', () => {
  it('detects the built-in patterns and raises alerts with context', async () => {
    const { logger, alerts, aggregator } = setup({ slowThresholdMs: 50 });
    logger.fatal('cannot start');
    logger.error('worker panicked: index out of range');
    logger.warn('authentication failed for user 17');
    logger.error('embedding job died', Object.assign(new Error('CUDA error: out of memory'), { code: 'ERR_GPU' }));
    logger.error(
      'db query failed',
      new Error('query aborted', {
        cause: Object.assign(new Error('connect to 10.0.0.5:5432 failed'), { code: 'ECONNREFUSED' }),
      }),
    );
    logger.perfLogger().start('vector_search').end();
    logger.info('slow tool call', { duration_ms: 120 });
    await tick();
    expect(alerts.map((a) => a.pattern)).toEqual([
      'fatal',
      'auth_failure',
      'out_of_memory',
      'connection_error',
      'slow_operation',
    ]);
    // the second fatal-looking record ("panicked") is folded into the first by the cooldown
    expect(aggregator.summary().byPattern).toEqual({
      fatal: 2,
      auth_failure: 1,
      out_of_memory: 1,
      connection_error: 1,
      slow_operation: 1,
    });
    expect(alerts[0]).toMatchObject({
      id: 'log:fatal',
      severity: 'critical',
      level: 'fatal',
      message: 'cannot start',
      service: 'agent',
      count: 1,
    });
    expect(alerts[3]).toMatchObject({ severity: 'warning', message: expect.stringContaining('db query failed') });
    expect(alerts[4]).toMatchObject({ message: 'slow tool call' });
    expect(aggregator.query({ pattern: 'out_of_memory' })).toHaveLength(1);
  });

  it('does not fire on benign text or low levels', async () => {
    const { logger, alerts } = setup();
    logger.error('recovered from a non-fatal glitch');
    logger.debug('connection refused by replica, trying the next one');
    logger.info('user logged in after 2 tries');
    logger.info('fast op', { duration_ms: 3 });
    await tick();
    expect(alerts).toEqual([]);
  });

  it('supports custom regex patterns with severity, description and levels', async () => {
    const { logger, alerts } = setup({
      builtinPatterns: false,
      patterns: [
        {
          name: 'rate_limited',
          regex: /rate limit(ed)? .*model/i,
          severity: 'info',
          description: 'LLM provider rate limit',
        },
        { name: 'tool_error', regex: 'tool .* failed', severity: 'critical', levels: ['error'] },
      ],
    });
    logger.warn('rate limited by provider for model gpt-4o');
    logger.warn('tool calculator failed');
    logger.error('tool search failed');
    await tick();
    expect(alerts.map((a) => [a.pattern, a.severity, a.description])).toEqual([
      ['rate_limited', 'info', 'LLM provider rate limit'],
      ['tool_error', 'critical', 'tool_error'],
    ]);
  });

  it('deduplicates within the cooldown and reports the folded count on the next alert', () => {
    const alerts: LogAlert[] = [];
    const agg = createLogAggregator({
      cooldownMs: 30_000,
      onAlert: (a) => {
        alerts.push(a);
      },
    });
    aggregators.push(agg);
    for (let i = 0; i < 4; i++) agg.ingest(rec({ level: 'error', message: 'ECONNREFUSED', time: T0 + i * 1000 }));
    expect(alerts).toHaveLength(1);
    agg.ingest(rec({ level: 'error', message: 'ECONNRESET', time: T0 + 31_000 }));
    expect(alerts).toHaveLength(2);
    expect(alerts[1]).toMatchObject({
      pattern: 'connection_error',
      count: 4,
      firstSeen: T0 + 1000,
      lastSeen: T0 + 31_000,
    });
    expect(agg.summary().alerts).toMatchObject({ raised: 2, suppressed: 3, failed: 0 });
  });

  it('survives an alert sink that throws or rejects, and counts the failures', async () => {
    let calls = 0;
    const metrics = createMetrics();
    const agg = createLogAggregator({
      cooldownMs: 0,
      metrics,
      onAlert: {
        onAlert: () => {
          calls++;
          if (calls === 1) throw new Error('sink down');
          return Promise.reject(new Error('still down'));
        },
      },
    });
    aggregators.push(agg);
    agg.ingest(rec({ level: 'fatal', message: 'a' }));
    agg.ingest(rec({ level: 'fatal', message: 'b', time: T0 + 1 }));
    await agg.close();
    expect(calls).toBe(2);
    expect(agg.summary().alerts.failed).toBe(2);
    const text = (await metrics.expose()).body;
    expect(text).toMatch(/periscope_logging_alert_errors_total 2/);
    expect(text).toMatch(/periscope_logging_alerts_total\{pattern="fatal",severity="critical"\} 2/);
    expect(text).toMatch(/periscope_logging_pattern_matches_total\{pattern="fatal"\} 2/);
  });
});

describe('analytics', () => {
  it('normalizes numbers and ids into message templates and ranks them', () => {
    expect(messageTemplate('user 17 timed out after 3000 ms (req 8f14e45fceea167a)')).toBe(
      'user <num> timed out after <num> ms (req <hex>)',
    );
    expect(messageTemplate('task 3fa85f64-5717-4562-b3fc-2c963f66afa6 from 10.1.2.3:8080 by ada@example.com')).toBe(
      'task <uuid> from <ip> by <email>',
    );
    expect(messageTemplate('order ord_9f8k2 shipped')).toBe('order <id> shipped');
    const agg = createLogAggregator();
    aggregators.push(agg);
    for (let i = 0; i < 5; i++) agg.ingest(rec({ message: `cache miss for key user:${i * 7}` }));
    for (let i = 0; i < 2; i++) agg.ingest(rec({ level: 'warn', message: `retry ${i + 1} of 3` }));
    agg.ingest(rec({ message: 'started' }));
    expect(agg.topMessages(2)).toEqual([
      expect.objectContaining({
        template: 'cache miss for key user:<num>',
        count: 5,
        level: 'info',
        example: 'cache miss for key user:0',
      }),
      expect.objectContaining({ template: 'retry <num> of <num>', count: 2, level: 'warn' }),
    ]);
  });

  it('bounds the template table', () => {
    const agg = createLogAggregator({ maxTemplates: 10 });
    aggregators.push(agg);
    for (let i = 0; i < 3; i++) agg.ingest(rec({ message: 'frequent' }));
    for (let i = 0; i < 100; i++) agg.ingest(rec({ message: `unique word${'x'.repeat(i % 50)}${i < 50 ? 'a' : 'b'}` }));
    const top = agg.topMessages(100);
    expect(top.length).toBeLessThanOrEqual(10);
    expect(top[0]).toMatchObject({ template: 'frequent', count: 3 });
  });

  it('keeps a per-minute trend over the window, with empty minutes', () => {
    const agg = createLogAggregator({ windowMs: 5 * MIN, now: () => T0 + 4 * MIN + 5000 });
    aggregators.push(agg);
    agg.ingest(rec({ message: 'a', time: T0 + 1000 }));
    agg.ingest(rec({ level: 'error', message: 'b', time: T0 + 2000 }));
    agg.ingest(rec({ level: 'warn', message: 'c', time: T0 + 3 * MIN }));
    // summary() lists only the minutes that had records (3 records → 2 rows, not 15 mostly empty ones)
    expect(agg.summary({ trendMinutes: 2 }).trend.map((p) => p.total)).toEqual([1]);
    expect(agg.summary().trend.map((p) => [p.minute, p.total])).toEqual([
      [new Date(T0).toISOString(), 2],
      [new Date(T0 + 3 * MIN).toISOString(), 1],
    ]);
    expect(agg.trend()).toEqual([
      { minute: new Date(T0).toISOString(), total: 2, errors: 1, byLevel: { info: 1, error: 1 } },
      { minute: new Date(T0 + MIN).toISOString(), total: 0, errors: 0, byLevel: {} },
      { minute: new Date(T0 + 2 * MIN).toISOString(), total: 0, errors: 0, byLevel: {} },
      { minute: new Date(T0 + 3 * MIN).toISOString(), total: 1, errors: 0, byLevel: { warn: 1 } },
      { minute: new Date(T0 + 4 * MIN).toISOString(), total: 0, errors: 0, byLevel: {} },
    ]);
  });

  it('flags an error-rate anomaly against the robust baseline, and alerts once', () => {
    const alerts: LogAlert[] = [];
    let now = T0 + 10 * MIN;
    const agg = createLogAggregator({
      now: () => now,
      builtinPatterns: false,
      onAlert: (a) => {
        alerts.push(a);
      },
    });
    aggregators.push(agg);
    // ten minutes of 1-3 errors per minute
    const baseline = [1, 2, 3, 2, 1, 2, 3, 2, 2, 1];
    baseline.forEach((n, m) => {
      for (let i = 0; i < n; i++) agg.ingest(rec({ level: 'error', message: 'x', time: T0 + m * MIN + i }));
    });
    for (let i = 0; i < 3; i++) agg.ingest(rec({ level: 'error', message: 'x', time: T0 + 10 * MIN + i }));
    expect(agg.anomaly()).toMatchObject({
      anomalous: false,
      currentErrorsPerMinute: 3,
      baselineMedian: 2,
      baselineMinutes: 10,
    });
    expect(alerts).toEqual([]);
    for (let i = 0; i < 20; i++) agg.ingest(rec({ level: 'error', message: 'x', time: T0 + 10 * MIN + 100 + i }));
    const state = agg.anomaly();
    expect(state.anomalous).toBe(true);
    expect(state.zScore).toBeGreaterThan(3.5);
    expect(alerts.map((a) => a.pattern)).toEqual(['error_rate_anomaly']);
    expect(agg.summary().anomaly.anomalous).toBe(true);
    now = T0 + 12 * MIN;
    expect(agg.anomaly().anomalous).toBe(false);
  });

  it('does not flag without enough baseline, or for a small absolute change over a flat zero baseline', () => {
    const agg = createLogAggregator({ builtinPatterns: false, now: () => T0 + 2 * MIN });
    aggregators.push(agg);
    for (let i = 0; i < 50; i++) agg.ingest(rec({ level: 'error', message: 'x', time: T0 + 2 * MIN + i }));
    agg.ingest(rec({ message: 'early', time: T0 }));
    expect(agg.anomaly()).toMatchObject({ anomalous: false, zScore: null });
    const flat = createLogAggregator({ builtinPatterns: false, now: () => T0 + 10 * MIN });
    aggregators.push(flat);
    flat.ingest(rec({ message: 'start', time: T0 }));
    for (let i = 0; i < 2; i++) flat.ingest(rec({ level: 'error', message: 'x', time: T0 + 10 * MIN + i }));
    expect(flat.anomaly()).toMatchObject({ anomalous: false, baselineMedian: 0, currentErrorsPerMinute: 2 });
  });
});

describe('configuration', () => {
  it('rejects invalid options with a typed error naming the option', () => {
    expect(() => createLogAggregator({ capacity: 0 })).toThrow(LoggingConfigError);
    expect(() => createLogAggregator({ capacity: 0 })).toThrow(/^invalid capacity: expected an integer in \[1, /);
    expect(() => createLogAggregator({ windowMs: 1000 })).toThrow(/^invalid windowMs: expected an integer >= 60000/);
    expect(() => createLogAggregator({ patterns: [{ name: 'x', regex: '(' }] })).toThrow(
      /^invalid patterns\.x\.regex: expected a valid regular expression, got "\("/,
    );
    expect(() => createLogAggregator({ capacty: 5 } as never)).toThrow(/did you mean capacity\?/);
    expect(() => createLogAggregator({ env: { PERISCOPE_LOG_AGGREGATOR_CAPACITY: 'lots' } })).toThrow(
      /^invalid PERISCOPE_LOG_AGGREGATOR_CAPACITY/,
    );
    expect(createLogAggregator({ env: { PERISCOPE_LOG_AGGREGATOR_CAPACITY: '7' } }).capacity).toBe(7);
    expect(() => createLogAggregator({ patterns: [{ name: 'x', regex: /a/, severity: 'huge' as never }] })).toThrow(
      /critical, warning or info/,
    );
    expect(() => createLogAggregator({ onAlert: 42 as never })).toThrow(/^invalid onAlert/);
    expect(() => createLogAggregator({ capacity: -1 })).toThrow(
      expect.objectContaining({ code: 'ERR_LOGGING_CONFIG', option: 'capacity', name: 'LoggingConfigError' }),
    );
  });
});
