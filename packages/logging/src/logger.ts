// createLogger(): a winston logger whose single format step (format.ts) does everything once per
// record: level check, sampling, trace correlation, redaction, error serialization and layout.
// Users' winston transports and child loggers keep working because the result is a winston Logger.
import winston from 'winston';
import type TransportStream from 'winston-transport';
import { createRedactor, type Redactor, type RedactorOptions } from '@periscope/core';
import { configError } from './errors';
import { LEVELS, LEVEL_VALUES } from './levels';
import { rendererFor } from './layouts';
import { SOURCE_ERROR, type WinstonInfo } from './record';
import { loggerInstruments, type LoggerInstruments } from './instrumentation';
import { Sampler } from './sampling';
import { createPerfLogger, type PerfLogger } from './perf';
import { createAuditLogger, type AuditLogger, type AuditLoggerOptions } from './audit';
import { createFormatter } from './format';
import { resolveLoggerOptions, type LoggerOptions, type ResolvedOptions } from './options';
import { shutdownLogger } from './shutdown';
import { DestinationTransport } from './destination';

export type { LoggerOptions } from './options';

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
  /**
   * Flushes and ends every transport and the destination stream (and closes audit logs opened
   * here). Resolves within `closeTimeoutMs` in every case. Idempotent.
   */
  shutdown(): Promise<void>;
}

/** The redactor of a logger; with redaction off values are still deep-copied with the limits (a cyclic field cannot crash a call). */
function buildRedactor(options: RedactorOptions | false, instruments: LoggerInstruments): Redactor {
  if (options === false)
    return createRedactor({ replaceDefaultKeys: true, keySuffixes: false, defaultPatterns: false });
  const user = options.onRedaction;
  const onRedaction =
    instruments.countsRedactions || user
      ? (kind: 'key' | 'pattern', name: string) => {
          instruments.redaction(kind);
          user?.(kind, name);
        }
      : undefined;
  return createRedactor({ ...options, onRedaction });
}

function buildTransports(options: LoggerOptions): TransportStream[] {
  const transports: TransportStream[] = options.transports
    ? [...options.transports]
    : options.destination
      ? [new DestinationTransport(options.destination)]
      : [new winston.transports.Console()];
  if (options.aggregator) transports.push(options.aggregator);
  return transports;
}

/** Like winston's child(), but a logged Error travels along (winston's copy keeps only message/stack/cause). */
function childOf(parent: PeriscopeLogger, fields: Record<string, unknown>): PeriscopeLogger {
  return Object.create(parent, {
    write: {
      value(info: WinstonInfo): boolean {
        const clone: WinstonInfo = Object.assign({}, fields, info);
        if (info instanceof Error) {
          clone.message = info.message;
          clone[SOURCE_ERROR] = info;
        }
        return parent.write(clone);
      },
    },
  }) as PeriscopeLogger;
}

interface Parts {
  cfg: ResolvedOptions;
  options: LoggerOptions;
  redactor: Redactor;
  sampler?: Sampler;
  instruments: LoggerInstruments;
}

/** The members @periscope/logging adds to the winston logger. */
function addMembers(logger: PeriscopeLogger, { cfg, options, redactor, sampler, instruments }: Parts): void {
  const audits = new Set<AuditLogger>();
  let closing: Promise<void> | undefined;
  Object.defineProperties(logger, {
    service: { value: cfg.service, enumerable: false },
    redactor: { value: redactor, enumerable: false },
  });
  logger.child = function (this: PeriscopeLogger, fields: Record<string, unknown>): PeriscopeLogger {
    return childOf(this, fields);
  };
  logger.agentLogger = function (this: PeriscopeLogger, name: string, fields?: Record<string, unknown>) {
    if (typeof name !== 'string' || name === '') throw configError('agentLogger(name)', 'a non-empty string', name);
    return this.child({ ...fields, logger: name, 'gen_ai.agent.name': name });
  };
  logger.perfLogger = function (this: PeriscopeLogger, name?: string): PerfLogger {
    return createPerfLogger(name ? this.child({ logger: name }) : this, options.perf, cfg.reader.env);
  };
  logger.auditLogger = (opts) => {
    const audit = createAuditLogger({ ...opts, service: cfg.service, redactor });
    audits.add(audit);
    return audit;
  };
  logger.dropped = () => sampler?.counts() ?? { total: 0, byLevel: {} };
  logger.shutdown = () =>
    (closing ??= shutdownLogger({
      logger,
      audits,
      timeoutMs: cfg.closeTimeoutMs,
      late: (info) => instruments.dropped(String(info?.level ?? 'unknown'), 'after_shutdown'),
    }));
}

export function createLogger(options: LoggerOptions = {}): PeriscopeLogger {
  const cfg = resolveLoggerOptions(options);
  const instruments = loggerInstruments(options.metrics);
  const redactor = buildRedactor(cfg.redactOptions, instruments);
  const sampler = options.sampling ? new Sampler(options.sampling) : undefined;
  // eslint-disable-next-line prefer-const -- the format step reads the logger it belongs to
  let logger: PeriscopeLogger;
  const transform = createFormatter({
    service: cfg.service,
    redactor,
    errorStack: cfg.errorStack,
    rootFields: cfg.fields,
    sampler,
    instruments,
    render: rendererFor(cfg.format, cfg.colors),
    levelValue: () => LEVEL_VALUES[logger.level],
    isLevelEnabled: (level) => logger.isLevelEnabled(level),
  });
  logger = winston.createLogger({
    levels: LEVELS,
    level: cfg.level,
    format: winston.format(transform as unknown as winston.Logform.TransformFunction)(),
    transports: buildTransports(options),
    exitOnError: false,
  }) as PeriscopeLogger;
  addMembers(logger, { cfg, options, redactor, sampler, instruments });
  return logger;
}
