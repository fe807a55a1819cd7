// Options and environment variables of createLogger (read through core's ConfigReader), and the
// basic shutdown contract.
import { createMetrics } from '@periscope/metrics';
import { createLogger, LoggingConfigError, REDACTED, type PeriscopeLogger } from '@periscope/logging';
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

describe('configuration', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of [
      'OTEL_SERVICE_NAME',
      'PERISCOPE_LOG_LEVEL',
      'PERISCOPE_LOG_FORMAT',
      'PERISCOPE_LOG_REDACT',
      'PERISCOPE_LOG_REDACT_KEYS',
      'PERISCOPE_LOG_ERROR_STACK',
    ]) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it('turns redaction off and error stacks off through PERISCOPE_LOG_REDACT / PERISCOPE_LOG_ERROR_STACK', async () => {
    process.env.PERISCOPE_LOG_REDACT = 'false';
    process.env.PERISCOPE_LOG_ERROR_STACK = 'off';
    const { logger, out } = make();
    logger.error('x', { password: 'visible-on-purpose', err: new Error('e') });
    await tick();
    expect(out.json()[0].attributes).toEqual({
      password: 'visible-on-purpose',
      'exception.type': 'Error',
      'exception.message': 'e',
    });
    process.env.PERISCOPE_LOG_REDACT = 'maybe';
    expect(() => createLogger({})).toThrow(/^invalid PERISCOPE_LOG_REDACT: expected a boolean/);
  });

  it('reads OTEL_SERVICE_NAME and PERISCOPE_LOG_* when options are not given', async () => {
    process.env.OTEL_SERVICE_NAME = 'from-env';
    process.env.PERISCOPE_LOG_LEVEL = 'warn';
    process.env.PERISCOPE_LOG_FORMAT = 'ecs';
    process.env.PERISCOPE_LOG_REDACT_KEYS = 'tenant_pin, ssn';
    const out = capture();
    const logger = createLogger({ destination: out.stream });
    loggers.push(logger);
    logger.info('dropped by level');
    logger.warn('kept', { tenant_pin: '1234' });
    await tick();
    expect(out.json()).toEqual([
      expect.objectContaining({ 'service.name': 'from-env', 'log.level': 'warn', tenant_pin: REDACTED }),
    ]);
  });

  it('reads an injected env instead of process.env, with the one boolean syntax', async () => {
    process.env.PERISCOPE_LOG_LEVEL = 'error'; // not consulted: env is injected
    const { logger, out } = make({
      service: undefined,
      env: { OTEL_SERVICE_NAME: 'injected', PERISCOPE_LOG_REDACT: 'no', PERISCOPE_LOG_ERROR_STACK: 'off' },
    });
    logger.info('visible at info', { password: 'shown-on-purpose', err: new Error('e') });
    await tick();
    expect(out.json()).toEqual([
      expect.objectContaining({
        'service.name': 'injected',
        attributes: { password: 'shown-on-purpose', 'exception.type': 'Error', 'exception.message': 'e' },
      }),
    ]);
  });

  it('defaults to pretty on a terminal and to json otherwise', async () => {
    delete process.env.PERISCOPE_LOG_FORMAT;
    const descriptor = Object.getOwnPropertyDescriptor(process.stdout, 'isTTY');
    const tty = capture();
    const pipe = capture();
    try {
      Object.defineProperty(process.stdout, 'isTTY', { value: true, configurable: true });
      loggers.push(createLogger({ service: 's', destination: tty.stream, colors: false }));
      Object.defineProperty(process.stdout, 'isTTY', { value: false, configurable: true });
      loggers.push(createLogger({ service: 's', destination: pipe.stream }));
    } finally {
      if (descriptor) Object.defineProperty(process.stdout, 'isTTY', descriptor);
      else delete (process.stdout as { isTTY?: boolean }).isTTY;
    }
    for (const l of loggers) l.info('hi');
    await tick();
    expect(tty.lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}\[s\] hi$/);
    expect(JSON.parse(pipe.lines[0]).body).toBe('hi');
  });

  it('rejects invalid configuration with one typed error naming the option and accepted values', () => {
    expect(() => createLogger({ level: 'loud' as never })).toThrow(LoggingConfigError);
    expect(() => createLogger({ level: 'loud' as never })).toThrow(
      /^invalid level: expected one of fatal, error, warn, info/,
    );
    expect(() => createLogger({ format: 'xml' as never })).toThrow(
      /^invalid format: expected one of json, ecs, pretty/,
    );
    expect(() => createLogger({ sampling: { rates: { debug: 2 } } })).toThrow(/^invalid sampling\.rates\.debug/);
    expect(() => createLogger({ levle: 'info' } as never)).toThrow(/^invalid levle: .*did you mean level\?/);
    expect(() => createLogger({ env: { PERISCOPE_LOG_FORMAT: 'yaml' } })).toThrow(/^invalid PERISCOPE_LOG_FORMAT/);
    expect(() => createLogger({ env: { PERISCOPE_LOG_CLOSE_TIMEOUT: 'soon' } })).toThrow(
      /^invalid PERISCOPE_LOG_CLOSE_TIMEOUT: expected a duration/,
    );
    expect(() => createLogger({ level: 'loud' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_LOGGING_CONFIG', option: 'level', got: '"loud"' }),
    );
  });

  it('shutdown() is idempotent and flushes; later records are dropped and counted', async () => {
    const metrics = createMetrics();
    const { logger, out } = make({ metrics });
    logger.info('last words');
    const a = logger.shutdown();
    expect(logger.shutdown()).toBe(a);
    await a;
    expect(out.lines).toHaveLength(1);
    logger.child({ late: true }).warn('too late');
    await tick();
    expect(out.lines).toHaveLength(1);
    expect((await metrics.expose()).body).toMatch(
      /periscope_logging_dropped_total\{level="warn",reason="after_shutdown"\} 1/,
    );
  });
});
