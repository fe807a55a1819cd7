import winston from 'winston';
import Transport from 'winston-transport';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { createMetrics } from '@periscope/metrics';
import {
  createLogger,
  LOG_RECORD,
  REDACTED,
  toOtelJson,
  type PeriscopeLogger,
  type LogRecord,
} from '@periscope/logging';
import { capture, tick } from './helpers';

const loggers: PeriscopeLogger[] = [];
function make(options: Parameters<typeof createLogger>[0] = {}) {
  const out = capture();
  const logger = createLogger({ service: 'checkout', format: 'json', destination: out.stream, ...options });
  loggers.push(logger);
  return { logger, out };
}
afterEach(async () => {
  await Promise.all(loggers.splice(0).map((l) => l.shutdown()));
});

describe('layouts', () => {
  it('json uses the OpenTelemetry log field names, user fields under attributes', async () => {
    const { logger, out } = make();
    logger.info('order placed', { order_id: 42, items: ['a'] });
    await tick();
    const [rec] = out.json();
    expect(Object.keys(rec)).toEqual([
      'timestamp',
      'severity_text',
      'severity_number',
      'body',
      'service.name',
      'attributes',
    ]);
    expect(rec).toMatchObject({
      severity_text: 'INFO',
      severity_number: 9,
      body: 'order placed',
      'service.name': 'checkout',
      attributes: { order_id: 42, items: ['a'] },
    });
    expect(new Date(rec.timestamp).toISOString()).toBe(rec.timestamp);
  });

  it('writes exactly JSON.stringify(toOtelJson(record)) for awkward values (the fast path is byte-exact)', async () => {
    const seen: { line: string; record: LogRecord }[] = [];
    class Collect extends Transport {
      override log(info: Record<string | symbol, any>, next: () => void): void {
        seen.push({ line: info[Symbol.for('message')], record: info[LOG_RECORD] });
        next();
      }
    }
    const logger = createLogger({ service: 'svc "quoted"', format: 'json', transports: [new Collect()] });
    loggers.push(logger);
    logger.info('line\nbreak "quotes" \\ tab\t é 😀 \ud800 lone', {
      nan: NaN,
      inf: -Infinity,
      neg0: -0,
      big: 1e21,
      undef: undefined,
      nil: null,
      bool: false,
      fn: () => 1,
      long: 'y'.repeat(300),
      nested: { 'k"ey': ['a', { b: 'c\u0001' }] },
      date: new Date(0),
      ключ: 'значение',
    });
    logger.warn('with error', new Error('bad "thing"'));
    logger.info('');
    await tick();
    expect(seen).toHaveLength(3);
    for (const { line, record } of seen) {
      expect(line).toBe(JSON.stringify(toOtelJson(record)));
      expect(() => JSON.parse(line)).not.toThrow();
    }
  });

  it('maps every level to its OpenTelemetry severity', async () => {
    const { logger, out } = make({ level: 'silly' });
    logger.fatal('f');
    logger.error('e');
    logger.warn('w');
    logger.info('i');
    logger.debug('d');
    logger.silly('s');
    await tick();
    expect(out.json().map((r) => [r.severity_text, r.severity_number])).toEqual([
      ['FATAL', 21],
      ['ERROR', 17],
      ['WARN', 13],
      ['INFO', 9],
      ['DEBUG', 5],
      ['TRACE', 1],
    ]);
  });

  it('ecs uses Elastic Common Schema names, errors as error.*', async () => {
    const { logger, out } = make({ format: 'ecs' });
    logger
      .child({ logger: 'payments' })
      .error('charge failed', Object.assign(new RangeError('amount too large'), { code: 'E_LIMIT', limit: 5 }));
    await tick();
    const [rec] = out.json();
    expect(rec).toMatchObject({
      'log.level': 'error',
      message: 'charge failed amount too large',
      'service.name': 'checkout',
      'log.logger': 'payments',
      'error.type': 'RangeError',
      'error.message': 'amount too large',
      'error.code': 'E_LIMIT',
      'error.details': { limit: 5 },
      'ecs.version': expect.stringMatching(/^8\./),
    });
    expect(rec['@timestamp']).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(rec['error.stack_trace']).toContain('RangeError: amount too large\n    at ');
  });

  it('pretty prints one colored line, or plain when colors are off', async () => {
    const { logger, out } = make({ format: 'pretty', colors: true });
    logger.warn('disk almost full', { free_mb: 12 });
    const plain = make({ format: 'pretty', colors: false });
    plain.logger.agentLogger('planner').info('step done', { step: 2 });
    await tick();
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toContain('\x1b[33mWARN');
    expect(out.lines[0]).toContain('disk almost full');
    expect(plain.out.lines[0]).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}\[checkout\/planner\] step done gen_ai\.agent\.name=planner step=2$/,
    );
  });
});

describe('trace correlation', () => {
  const contextManager = new AsyncLocalStorageContextManager();
  const provider = new BasicTracerProvider();
  beforeAll(() => {
    context.setGlobalContextManager(contextManager.enable());
    trace.setGlobalTracerProvider(provider);
  });
  afterAll(async () => {
    trace.disable();
    context.disable();
    await provider.shutdown();
  });

  it('adds trace_id, span_id and trace_flags of the active span, also across awaits', async () => {
    const { logger, out } = make();
    const ecs = make({ format: 'ecs' });
    const tracer = trace.getTracer('test');
    let ids: { traceId: string; spanId: string } | undefined;
    await tracer.startActiveSpan('task', async (span) => {
      ids = span.spanContext();
      await new Promise((r) => setTimeout(r, 1));
      logger.info('inside');
      ecs.logger.info('inside');
      span.end();
    });
    logger.info('outside');
    await tick();
    const [inside, outside] = out.json();
    expect(inside).toMatchObject({ trace_id: ids!.traceId, span_id: ids!.spanId, trace_flags: '01' });
    expect(inside.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(outside.trace_id).toBeUndefined();
    expect(ecs.out.json()[0]).toMatchObject({ 'trace.id': ids!.traceId, 'span.id': ids!.spanId });
  });

  it('json lines stay exact while spans, levels, times and services change between records (reused line parts)', async () => {
    const seen: { line: string; record: LogRecord; span?: string }[] = [];
    class Collect extends Transport {
      override log(info: Record<string | symbol, any>, next: () => void): void {
        seen.push({ line: info[Symbol.for('message')], record: info[LOG_RECORD] });
        next();
      }
    }
    const a = createLogger({ service: 'svc-a', level: 'debug', format: 'json', transports: [new Collect()] });
    const b = createLogger({ service: 'svc-b', level: 'debug', format: 'json', transports: [new Collect()] });
    loggers.push(a, b);
    const tracer = trace.getTracer('test');
    const spanIds: (string | undefined)[] = [];
    const both = (msg: string, level: 'info' | 'warn' | 'debug', spanId?: string) => {
      a[level](msg, { n: 1 });
      spanIds.push(spanId);
      b[level](msg, { n: 2 });
      spanIds.push(spanId);
    };
    both('no span', 'info');
    // Sibling spans of one trace: only the span id tells their lines apart.
    const parent = trace.setSpan(context.active(), tracer.startSpan('parent'));
    for (const name of ['once', 'twice', 'thrice']) {
      const span = tracer.startSpan(name, {}, parent);
      context.with(trace.setSpan(parent, span), () => {
        const id = span.spanContext().spanId;
        for (let i = 0; i < name.length - 3; i++) both(`${name} ${i}`, i % 2 ? 'warn' : 'info', id);
        both('debug', 'debug', id);
      });
      span.end();
    }
    trace.getSpan(parent)!.end();
    await new Promise((r) => setTimeout(r, 2)); // another millisecond: a fresh timestamp
    both('later', 'info');
    await tick();
    expect(seen).toHaveLength(spanIds.length);
    seen.forEach(({ line, record }, i) => {
      expect(line).toBe(JSON.stringify(toOtelJson(record)));
      expect(JSON.parse(line).span_id).toBe(spanIds[i]);
      expect(JSON.parse(line)['service.name']).toBe(i % 2 ? 'svc-b' : 'svc-a');
    });
  });
});

describe('errors', () => {
  it('records type, message, stack and the cause chain of logger.error(msg, err)', async () => {
    const { logger, out } = make();
    const root = Object.assign(new Error('ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' });
    logger.error('query failed', new TypeError('pool exhausted', { cause: root }));
    await tick();
    const { attributes, body } = out.json()[0];
    expect(body).toBe('query failed pool exhausted');
    expect(attributes['exception.type']).toBe('TypeError');
    expect(attributes['exception.message']).toBe('pool exhausted');
    expect(attributes['exception.stacktrace']).toMatch(/^TypeError: pool exhausted\n\s+at /);
    expect(attributes['exception.details'].cause).toMatchObject({
      type: 'Error',
      message: 'ECONNREFUSED 10.0.0.5:5432',
      code: 'ECONNREFUSED',
    });
    // winston's copies of stack/cause do not leak into attributes twice
    expect(attributes.stack).toBeUndefined();
    expect(attributes.cause).toBeUndefined();
  });

  it('keeps the error type and fields through child loggers, and bound fields beside them', async () => {
    const { logger, out } = make({ fields: { region: 'eu' } });
    const err = Object.assign(new RangeError('too big'), { code: 'E_RANGE', limit: 10 });
    logger.agentLogger('planner').child({ step: 3 }).error(err);
    logger.error(err);
    logger.child({ step: 4 }).error('while planning', err);
    await tick();
    const [a, b, c] = out.json();
    expect(a.body).toBe('too big');
    expect(a.attributes).toMatchObject({
      region: 'eu',
      logger: 'planner',
      step: 3,
      'exception.type': 'RangeError',
      'exception.details': { code: 'E_RANGE', limit: 10 },
    });
    expect(a.attributes.code).toBeUndefined();
    expect(a.attributes['exception.details']).toEqual({ code: 'E_RANGE', limit: 10 });
    expect(b.attributes).toMatchObject({
      region: 'eu',
      'exception.type': 'RangeError',
      'exception.details': { code: 'E_RANGE', limit: 10 },
    });
    expect(Object.keys(b.attributes).sort()).toEqual([
      'exception.details',
      'exception.message',
      'exception.stacktrace',
      'exception.type',
      'region',
    ]);
    expect(c).toMatchObject({
      body: 'while planning too big',
      attributes: { region: 'eu', step: 4, 'exception.type': 'RangeError' },
    });
    expect(c.attributes.limit).toBeUndefined();
  });

  it('handles logger.error(err) and an `err` field, and can leave stacks out', async () => {
    const { logger, out } = make({ errorStack: false });
    logger.error(new SyntaxError('bad json', { cause: new Error('inner') }));
    logger.warn('retrying', { err: new Error('timeout'), attempt: 2 });
    await tick();
    const [a, b] = out.json();
    expect(a.body).toBe('bad json');
    expect(a.attributes).toEqual({
      'exception.type': 'SyntaxError',
      'exception.message': 'bad json',
      'exception.details': { cause: { type: 'Error', message: 'inner' } },
    });
    expect(b.attributes).toEqual({ attempt: 2, 'exception.type': 'Error', 'exception.message': 'timeout' });
  });
});

describe('redaction in the logger', () => {
  it('redacts the message, metadata at any depth, bound fields and error messages', async () => {
    const { logger, out } = make();
    const child = logger.child({ db: 'postgres://app:pa55@db:5432/app', api_key: 'k' });
    child.error(
      'login with Bearer abcdefgh12345678 failed',
      Object.assign(new Error('rejected token=xyz987'), { headers: { cookie: 's=1' } }),
    );
    child.info('req', { req: { headers: { Authorization: 'Basic dXNlcjpwYXNzd29yZA==' }, body: [{ password: 'p' }] } });
    await tick();
    const text = out.lines.join('\n');
    for (const secret of ['pa55', 'abcdefgh12345678', 'xyz987', 'dXNlcjpwYXNzd29yZA', '"p"', 's=1'])
      expect(text).not.toContain(secret);
    const [a, b] = out.json();
    expect(a.attributes.db).toBe(`postgres://app:${REDACTED}@db:5432/app`);
    expect(a.attributes.api_key).toBe(REDACTED);
    expect(a.attributes['exception.message']).toBe(`rejected token=${REDACTED}`);
    expect(b.attributes.req).toEqual({ headers: { Authorization: REDACTED }, body: [{ password: REDACTED }] });
  });

  it("gives users' own winston transports the redacted info, and leaves the caller's object untouched", async () => {
    const seen: Record<string, unknown>[] = [];
    class Collect extends Transport {
      override log(info: Record<string, unknown>, next: () => void): void {
        seen.push(info);
        next();
      }
    }
    const logger = createLogger({ service: 's', format: 'json', transports: [new Collect()] });
    loggers.push(logger);
    const meta = { user: { password: 'p', name: 'n' } };
    logger.info('signup', meta);
    await tick();
    expect(seen[0].user).toEqual({ password: REDACTED, name: 'n' });
    expect(meta.user.password).toBe('p');
    const record = (seen[0] as Record<symbol, LogRecord>)[LOG_RECORD];
    expect(record).toMatchObject({ level: 'info', message: 'signup', service: 's' });
  });

  it('supports custom keys and can be turned off (values still copied safely)', async () => {
    const custom = make({ redact: { keys: ['ssn'] } });
    custom.logger.info('x', { ssn: '123-45-6789', password: 'p' });
    const off = make({ redact: false });
    const cyclic: Record<string, unknown> = { password: 'visible' };
    cyclic.self = cyclic;
    off.logger.info('y', cyclic);
    await tick();
    expect(custom.out.json()[0].attributes).toEqual({ ssn: REDACTED, password: REDACTED });
    expect(off.out.json()[0].attributes).toEqual({
      password: 'visible',
      self: { password: 'visible', self: '[Circular]' },
    });
  });
});

describe('winston compatibility', () => {
  it('keeps child loggers, bound fields, levels and users transports working', async () => {
    const { logger, out } = make({ fields: { region: 'eu' } });
    const child = logger.child({ request_id: 'r1' }).child({ step: 'plan' });
    child.info('hello');
    child.debug('hidden at info level');
    logger.level = 'debug';
    child.debug('now visible');
    await tick();
    expect(out.json().map((r) => [r.body, r.attributes])).toEqual([
      ['hello', { region: 'eu', request_id: 'r1', step: 'plan' }],
      ['now visible', { region: 'eu', request_id: 'r1', step: 'plan' }],
    ]);
    expect(child).toBeInstanceOf(winston.Logger);
  });

  it("keeps winston's startTimer() and profile() working", async () => {
    const { logger, out } = make();
    logger.startTimer().done({ message: 'timed', token: 'secret-value' });
    logger.profile('load');
    logger.profile('load');
    await tick();
    const [timed, profiled] = out.json();
    expect(timed.body).toBe('timed');
    expect(timed.attributes).toEqual({ durationMs: expect.any(Number), token: REDACTED });
    expect(profiled.body).toBe('load');
    expect(typeof profiled.attributes.durationMs).toBe('number');
  });

  it('never throws at the call site because of the values logged', async () => {
    const metrics = createMetrics();
    const { logger, out } = make({ metrics });
    const hostile = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('no keys for you');
        },
      },
    );
    const weird = {
      get boom() {
        throw new Error('getter');
      },
    };
    expect(() => logger.info('hostile', { hostile, weird, big: 10n, sym: Symbol('s') })).not.toThrow();
    expect(() => logger.info({ message: { nested: 'object message', password: 'p' } } as never)).not.toThrow();
    const entry = {
      level: 'warn',
      message: 'x',
      get bad(): string {
        throw new Error('getter token=abc123');
      },
    };
    expect(() => logger.log(entry)).not.toThrow();
    await tick();
    const [a, b, c] = out.json();
    expect(c).toMatchObject({
      severity_text: 'WARN',
      body: `[unformattable log record: Error: getter token=${REDACTED}]`,
    });
    expect((await metrics.expose()).body).toMatch(/periscope_logging_format_errors_total 1/);
    expect(a.attributes).toEqual({
      hostile: '[Unreadable]',
      weird: { boom: '[Unreadable]' },
      big: '10',
      sym: 'Symbol(s)',
    });
    expect(b.body).toBe(`{"nested":"object message","password":"${REDACTED}"}`);
  });

  it('agentLogger binds the agent name and perfLogger logs durations (warn when slow)', async () => {
    // Durations come from a fake clock: the slow/fast verdict never depends on the machine's load.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      const { logger, out } = make({ perf: { slowMs: 20 } });
      const agent = logger.agentLogger('researcher', { run: 7 });
      agent.info('searching');
      const perf = agent.perfLogger('db');
      const timer = perf.start('fast_op');
      jest.advanceTimersByTime(19);
      expect(timer.end({ rows: 3 })).toBe(19);
      const slow = perf.time('slow_op', () => new Promise((r) => setTimeout(r, 20)));
      jest.advanceTimersByTime(20);
      await slow;
      expect(() =>
        perf.time('failing_op', () => {
          throw new Error('x');
        }),
      ).toThrow('x');
      await tick();
      const [a, fastLine, slowLine, failing] = out.json();
      expect(a.attributes).toEqual({ run: 7, logger: 'researcher', 'gen_ai.agent.name': 'researcher' });
      expect(fastLine).toMatchObject({
        severity_text: 'INFO',
        body: 'fast_op took 19 ms',
        attributes: { operation: 'fast_op', rows: 3, logger: 'db', duration_ms: 19 },
      });
      expect(fastLine.attributes.slow).toBeUndefined();
      expect(slowLine).toMatchObject({
        severity_text: 'WARN',
        body: 'slow_op took 20 ms (slow)',
        attributes: { operation: 'slow_op', slow: true, outcome: 'ok', duration_ms: 20 },
      });
      expect(failing.attributes).toMatchObject({ operation: 'failing_op', outcome: 'error', error_type: 'Error' });
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('sampling and metrics', () => {
  it('samples and rate-limits noisy levels, counts what was dropped, and reports it on the next kept record', async () => {
    // The rate-limit window is read from an injected clock: all five warns fall in one second.
    const now = () => 1_700_000_000_500;
    const { logger, out } = make({
      level: 'debug',
      sampling: { rates: { debug: 0.25 }, maxPerSecond: { warn: 3 }, now },
    });
    for (let i = 0; i < 8; i++) logger.debug(`d${i}`);
    for (let i = 0; i < 5; i++) logger.warn(`w${i}`);
    logger.error('never sampled');
    await tick();
    const bodies = out.json().map((r) => r.body);
    expect(bodies.filter((b) => b.startsWith('d'))).toHaveLength(2);
    expect(bodies.filter((b) => b.startsWith('w'))).toHaveLength(3);
    expect(bodies).toContain('never sampled');
    expect(logger.dropped()).toEqual({ total: 8, byLevel: { debug: 6, warn: 2 } });
    const secondDebug = out.json().filter((r) => r.body.startsWith('d'))[1];
    expect(secondDebug.attributes['log.dropped']).toBe(3);
  });

  it('counts records by level, dropped records and redactions in a @periscope/metrics registry', async () => {
    const metrics = createMetrics();
    const { logger } = make({ metrics, sampling: { rates: { info: 0.5 } } });
    logger.info('a', { password: 'x' });
    logger.info('b');
    logger.error('c sk-abcdefghijklmnop1234');
    await tick();
    const text = (await metrics.expose()).body;
    expect(text).toMatch(/periscope_logging_records_total\{level="info"\} 1/);
    expect(text).toMatch(/periscope_logging_records_total\{level="error"\} 1/);
    expect(text).toMatch(/periscope_logging_dropped_total\{level="info",reason="sampled"\} 1/);
    expect(text).toMatch(/periscope_logging_redactions_total\{kind="key"\} 1/);
    expect(text).toMatch(/periscope_logging_redactions_total\{kind="pattern"\} 1/);
  });
});
