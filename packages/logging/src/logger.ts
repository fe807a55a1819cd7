// createLogger(): a winston logger whose single format step does everything once per record:
// level check, sampling, trace correlation, redaction, error serialization and layout. Users'
// winston transports and child loggers keep working because the result is a winston Logger.
import winston from 'winston';
import type TransportStream from 'winston-transport';
import { context, trace, isSpanContextValid, type SpanContext } from '@opentelemetry/api';
import { LoggingConfigError } from './errors';
import { createRedactor, type Redactor, type RedactorOptions } from '@periscope/core';
import { LEVELS, LEVEL_NAMES, isLogLevel, type LogLevel } from './levels';
import { LOG_FORMATS, rendererFor, type LogFormat } from './layouts';
import {
  LEVEL,
  MESSAGE,
  SPLAT,
  LOG_RECORD,
  SOURCE_ERROR,
  type LogRecord,
  type SerializedError,
  type WinstonInfo,
} from './record';
import { perLabel, type CounterLike, type MetricsLike } from './metrics';
import { Sampler, type SamplingOptions } from './sampling';
import { createPerfLogger, type PerfLogger, type PerfLoggerOptions } from './perf';
import { createAuditLogger, type AuditLogger, type AuditLoggerOptions } from './audit';

export interface LoggerOptions {
  /** `service.name` on every record. Env OTEL_SERVICE_NAME; default `unknown_service:node`. */
  service?: string;
  /** Most verbose level written. Env PERISCOPE_LOG_LEVEL; default `info`. */
  level?: LogLevel;
  /** Layout. Env PERISCOPE_LOG_FORMAT; default `pretty` when stdout is a TTY, else `json`. */
  format?: LogFormat;
  /** ANSI colors in the pretty layout. Default: stdout is a TTY and NO_COLOR is unset. */
  colors?: boolean;
  /** winston transports (yours keep working). Default: one Console transport (or `destination`). */
  transports?: TransportStream[];
  /** Write formatted lines to this stream instead of the console (ignored when `transports` is given). */
  destination?: NodeJS.WritableStream;
  /**
   * Redaction: true (default rules), false (off; values are still copied safely), or redactor
   * options. Env PERISCOPE_LOG_REDACT=false turns it off; PERISCOPE_LOG_REDACT_KEYS adds keys (comma-separated).
   */
  redact?: boolean | RedactorOptions;
  /** Record error stacks (and their causes' stacks). Env PERISCOPE_LOG_ERROR_STACK; default true. */
  errorStack?: boolean;
  /** Fields bound to every record (winston's defaultMeta). */
  fields?: Record<string, unknown>;
  /** A log aggregator (or any winston transport) that receives every record too. */
  aggregator?: TransportStream;
  /** Sampling and rate limiting per level; dropped records are counted. */
  sampling?: SamplingOptions;
  /** Options of `logger.perfLogger()`. */
  perf?: PerfLoggerOptions;
  /** A @periscope/metrics instance: records by level, dropped records, redactions. */
  metrics?: MetricsLike;
}

export interface DroppedCounts {
  total: number;
  byLevel: Record<string, number>;
}

export interface PeriscopeLogger extends winston.Logger {
  fatal: winston.LeveledLogMethod;
  /** The service name on every record. */
  readonly service: string;
  /** The redactor this logger applies (reuse it for spans or status output). */
  readonly redactor: Redactor;
  /** A child logger for one agent: `logger` = name and `gen_ai.agent.name` = name are bound. */
  agentLogger(name: string, fields?: Record<string, unknown>): PeriscopeLogger;
  /** Timers that log an operation's duration (warn when slower than `perf.slowMs`). */
  perfLogger(name?: string): PerfLogger;
  /** An append-only, hash-chained audit log file (never sampled or dropped). */
  auditLogger(options: Omit<AuditLoggerOptions, 'service' | 'redactor'>): AuditLogger;
  /** Records dropped by sampling or rate limiting so far. */
  dropped(): DroppedCounts;
  /** Flushes and closes every transport (and audit logs opened here). Idempotent. */
  shutdown(): Promise<void>;
}

function envBool(name: string): boolean | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new LoggingConfigError(name, `expected true or false, got "${v}"`);
}

interface Resolved {
  service: string;
  level: LogLevel;
  format: LogFormat;
  colors: boolean;
  redactOptions: RedactorOptions | false;
  errorStack: boolean;
}

function resolveOptions(options: LoggerOptions): Resolved {
  if (options === null || typeof options !== 'object')
    throw new LoggingConfigError('options', 'expected an options object');
  const service = options.service ?? process.env.OTEL_SERVICE_NAME ?? 'unknown_service:node';
  if (typeof service !== 'string' || service === '')
    throw new LoggingConfigError('service', 'expected a non-empty string');
  const level = options.level ?? (process.env.PERISCOPE_LOG_LEVEL || 'info');
  if (!isLogLevel(level))
    throw new LoggingConfigError(
      options.level !== undefined ? 'level' : 'PERISCOPE_LOG_LEVEL',
      `expected one of ${LEVEL_NAMES.join(', ')}, got "${String(level)}"`,
    );
  const stdoutTty = Boolean(process.stdout.isTTY);
  const format = options.format ?? (process.env.PERISCOPE_LOG_FORMAT || (stdoutTty ? 'pretty' : 'json'));
  if (!LOG_FORMATS.includes(format as LogFormat))
    throw new LoggingConfigError(
      options.format !== undefined ? 'format' : 'PERISCOPE_LOG_FORMAT',
      `expected one of ${LOG_FORMATS.join(', ')}, got "${String(format)}"`,
    );
  const colors = options.colors ?? (stdoutTty && !process.env.NO_COLOR);

  let redactOptions: RedactorOptions | false;
  const redactEnv = envBool('PERISCOPE_LOG_REDACT');
  if (options.redact === false || (options.redact === undefined && redactEnv === false)) redactOptions = false;
  else if (options.redact === undefined || options.redact === true) redactOptions = {};
  else if (typeof options.redact === 'object' && options.redact !== null) redactOptions = options.redact;
  else throw new LoggingConfigError('redact', 'expected true, false or redactor options');
  const envKeys = process.env.PERISCOPE_LOG_REDACT_KEYS;
  if (redactOptions && envKeys) {
    redactOptions = {
      ...redactOptions,
      keys: [
        ...(redactOptions.keys ?? []),
        ...envKeys
          .split(',')
          .map((k) => k.trim())
          .filter(Boolean),
      ],
    };
  }
  const errorStack = options.errorStack ?? envBool('PERISCOPE_LOG_ERROR_STACK') ?? true;
  if (typeof errorStack !== 'boolean') throw new LoggingConfigError('errorStack', 'expected true or false');
  return { service, level, format: format as LogFormat, colors, redactOptions, errorStack };
}

function stripStacks(e: SerializedError): void {
  delete e.stack;
  const cause = e.cause;
  if (cause && typeof cause === 'object' && 'type' in cause) stripStacks(cause as SerializedError);
}

const FLAGS = ['00', '01'];
// Module-local copies of imported bindings read on every record: transpilers that emit ES-module
// interop (tsx/esbuild) turn each imported-binding read into a getter call.
const K_LEVEL: typeof LEVEL = LEVEL;
const K_SPLAT: typeof SPLAT = SPLAT;
const K_MESSAGE: typeof MESSAGE = MESSAGE;
const K_RECORD: typeof LOG_RECORD = LOG_RECORD;
const K_ERROR: typeof SOURCE_ERROR = SOURCE_ERROR;
const spanContextValid = isSpanContextValid;
const LEVEL_VALUES: Record<string, number> = LEVELS;
const hasOwn = (o: object, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key);

export function createLogger(options: LoggerOptions = {}): PeriscopeLogger {
  const cfg = resolveOptions(options);
  const { service, format, colors, errorStack } = cfg;
  const metrics = options.metrics;
  const recordsTotal: CounterLike | undefined = metrics?.counter({
    name: 'periscope_logging_records_total',
    help: 'Log records written, by level.',
    labelNames: ['level'],
  });
  const droppedTotal: CounterLike | undefined = metrics?.counter({
    name: 'periscope_logging_dropped_total',
    help: 'Log records dropped by sampling or rate limiting, by level and reason.',
    labelNames: ['level', 'reason'],
  });
  const redactionsTotal: CounterLike | undefined = metrics?.counter({
    name: 'periscope_logging_redactions_total',
    help: 'Secrets redacted from log records, by kind (key or pattern).',
    labelNames: ['kind'],
  });

  const formatErrorsTotal: CounterLike | undefined = metrics?.counter({
    name: 'periscope_logging_format_errors_total',
    help: 'Log records that could not be formatted (logged as a placeholder line).',
    labelNames: [],
  });
  const countRecord = perLabel(recordsTotal, 'level');
  const userRedact = cfg.redactOptions || undefined;
  const onRedaction =
    redactionsTotal || userRedact?.onRedaction
      ? (kind: 'key' | 'pattern', name: string) => {
          redactionsTotal?.inc({ kind });
          userRedact?.onRedaction?.(kind, name);
        }
      : undefined;
  // With redaction off values are still deep-copied with the limits, so a cyclic field cannot crash a log call.
  const redactor =
    cfg.redactOptions === false
      ? createRedactor({ replaceDefaultKeys: true, keySuffixes: false, defaultPatterns: false })
      : createRedactor({ ...cfg.redactOptions, onRedaction });
  const sampler = options.sampling ? new Sampler(options.sampling) : undefined;
  // Bound here rather than as winston's defaultMeta, which winston would merge into a logged Error itself.
  const rootFields = options.fields;
  if (rootFields !== undefined && (rootFields === null || typeof rootFields !== 'object'))
    throw new LoggingConfigError('fields', 'expected an object of fields bound to every record');
  const renderLine = rendererFor(format, colors);
  let lastValidContext: SpanContext | undefined;

  // eslint-disable-next-line prefer-const
  let logger: PeriscopeLogger;

  // A record that cannot be formatted still leaves a line (and never an exception at the call site).
  const transform = (info: WinstonInfo): WinstonInfo | false => {
    try {
      return formatRecord(info);
    } catch (err) {
      formatErrorsTotal?.inc({});
      const level = typeof info.level === 'string' ? info.level : 'error';
      const record: LogRecord = {
        time: Date.now(),
        level,
        message: `[unformattable log record: ${redactor.redactString(String(err))}]`,
        service,
        attributes: {},
      };
      return { level, message: record.message, [K_LEVEL]: level, [K_RECORD]: record, [K_MESSAGE]: renderLine(record) };
    }
  };

  const formatRecord = (info: WinstonInfo): WinstonInfo | false => {
    const level = String(info[K_LEVEL] ?? info.level);
    // winston formats every record before transports filter by level; skip the work early
    // (the common case by comparing with the logger's level, else asking winston about transports).
    const value = LEVEL_VALUES[level];
    if (!(value !== undefined && value <= LEVEL_VALUES[logger.level]) && !logger.isLevelEnabled(level)) return false;
    if (sampler) {
      const verdict = sampler.admit(level);
      if (verdict !== null) {
        droppedTotal?.inc({ level, reason: verdict });
        return false;
      }
    }
    countRecord?.(level);

    // The error: logger.error(err) (child loggers pass a copy that points at it),
    // logger.error('msg', err), or an `err`/`error` field. In the first two, winston spread the
    // error's own fields onto info: those stay with the error, not in the attributes.
    let error: Error | undefined;
    if (info instanceof Error) error = info;
    else if (info[K_ERROR] instanceof Error) error = info[K_ERROR];
    else {
      const splat = info[K_SPLAT];
      if (splat !== undefined && splat[0] instanceof Error) error = splat[0];
    }
    const spread = error;

    const out: WinstonInfo = { level: info.level, message: '' };
    const attributes: Record<string, unknown> = {};
    // The logger's own fields come first; the call's fields override them (as winston's defaultMeta).
    if (rootFields !== undefined) {
      for (const key in rootFields) {
        if (hasOwn(info, key)) continue;
        const safe = redactor.redactAttribute(key, rootFields[key]);
        attributes[key] = safe;
        out[key] = safe;
      }
    }
    for (const key in info) {
      if (key === 'level' || key === 'message') continue;
      // winston copied the error's fields, stack and cause onto info; they live in `error` instead.
      if (spread !== undefined && (key === 'stack' || key === 'cause' || hasOwn(spread, key))) continue;
      const value = info[key];
      if (error === undefined && (key === 'err' || key === 'error') && value instanceof Error) {
        error = value;
        continue;
      }
      const safe = redactor.redactAttribute(key, value);
      attributes[key] = safe;
      out[key] = safe;
    }
    const raw = info.message;
    const message =
      typeof raw === 'string'
        ? redactor.redactString(raw)
        : raw === undefined
          ? ''
          : (JSON.stringify(redactor.redact(raw)) ?? '');
    out.message = message;

    const record: LogRecord = { time: Date.now(), level, message, service, attributes };
    const logger_ = attributes.logger;
    if (typeof logger_ === 'string') record.logger = logger_;
    const span = trace.getSpan(context.active());
    if (span !== undefined) {
      const sc = span.spanContext();
      // SDK spans return the same SpanContext object each time: validate each one once.
      if (sc === lastValidContext || (spanContextValid(sc) && (lastValidContext = sc))) {
        record.traceId = sc.traceId;
        record.spanId = sc.spanId;
        record.traceFlags = FLAGS[sc.traceFlags & 1];
        out.trace_id = sc.traceId;
        out.span_id = sc.spanId;
      }
    }
    if (error !== undefined) {
      const serialized = redactor.redact(error);
      if (serialized !== null && typeof serialized === 'object' && 'type' in serialized) {
        record.error = serialized as SerializedError;
        // logger.error(err) stamps `level` on the error object itself (winston's log()).
        if (spread !== undefined) delete record.error.level;
        if (!errorStack) stripStacks(record.error);
      }
    }
    const dropped = sampler?.takeDroppedSinceLastKept(level);
    if (dropped) attributes['log.dropped'] = dropped;

    out[K_LEVEL] = level;
    if (info[K_SPLAT] !== undefined) out[K_SPLAT] = info[K_SPLAT];
    out[K_RECORD] = record;
    out[K_MESSAGE] = renderLine(record);
    return out;
  };

  const transports: TransportStream[] = options.transports
    ? [...options.transports]
    : options.destination
      ? [new winston.transports.Stream({ stream: options.destination })]
      : [new winston.transports.Console()];
  if (options.aggregator) transports.push(options.aggregator);

  logger = winston.createLogger({
    levels: LEVELS,
    level: cfg.level,
    format: winston.format(transform as unknown as winston.Logform.TransformFunction)(),
    transports,
    exitOnError: false,
  }) as PeriscopeLogger;

  const audits = new Set<AuditLogger>();
  let closing: Promise<void> | undefined;

  Object.defineProperties(logger, {
    service: { value: service, enumerable: false },
    redactor: { value: redactor, enumerable: false },
  });
  // Like winston's child(), but a logged Error travels along (winston's copy keeps only message/stack/cause).
  logger.child = function (this: PeriscopeLogger, fields: Record<string, unknown>): PeriscopeLogger {
    const parent = this;
    return Object.create(parent, {
      write: {
        value(info: WinstonInfo): boolean {
          const clone: WinstonInfo = Object.assign({}, fields, info);
          if (info instanceof Error) {
            clone.message = info.message;
            clone[K_ERROR] = info;
          }
          return parent.write(clone);
        },
      },
    }) as PeriscopeLogger;
  };
  logger.agentLogger = function (
    this: PeriscopeLogger,
    name: string,
    fields?: Record<string, unknown>,
  ): PeriscopeLogger {
    if (typeof name !== 'string' || name === '')
      throw new LoggingConfigError('name', 'agentLogger(name) expects a non-empty string');
    return this.child({ ...fields, logger: name, 'gen_ai.agent.name': name });
  };
  logger.perfLogger = function (this: PeriscopeLogger, name?: string): PerfLogger {
    return createPerfLogger(name ? this.child({ logger: name }) : this, options.perf);
  };
  logger.auditLogger = (opts) => {
    const audit = createAuditLogger({ ...opts, service, redactor });
    audits.add(audit);
    return audit;
  };
  logger.dropped = () => sampler?.counts() ?? { total: 0, byLevel: {} };
  logger.shutdown = () => {
    closing ??= (async () => {
      await Promise.all([...audits].map((a) => a.close()));
      await new Promise<void>((resolve) => {
        // 'finish' fires once every transport has flushed (winston ends them in _final).
        const timer = setTimeout(resolve, 10_000);
        timer.unref();
        logger.once('finish', () => {
          clearTimeout(timer);
          resolve();
        });
        logger.end();
        // A record logged after shutdown (a late lifecycle line) is dropped, not a 'write after end' crash.
        logger.write = ((info: WinstonInfo) => {
          droppedTotal?.inc({ level: String(info?.level ?? 'unknown'), reason: 'after_shutdown' });
          return true;
        }) as typeof logger.write;
      });
      logger.close();
    })();
    return closing;
  };
  return logger;
}
