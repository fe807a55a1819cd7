// createLogger's options, declared once and resolved once through core's ConfigReader:
// explicit option > environment variable > default; unknown keys fail with the nearest known one.
import type TransportStream from 'winston-transport';
import {
  createConfigReader,
  type ConfigReader,
  type Env,
  type MetricsSink,
  type RedactorOptions,
} from '@periscope/core';
import { configError } from './errors';
import { LEVEL_NAMES, type LogLevel } from './levels';
import { LOG_FORMATS, type LogFormat } from './layouts';
import type { SamplingOptions } from './sampling';
import type { PerfLoggerOptions } from './perf';

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
  /**
   * Write formatted lines to this stream instead of the console (ignored when `transports` is
   * given). shutdown() ends it and waits for its 'finish' (process.stdout/stderr are flushed, not ended).
   */
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
  /** Where the logger's metrics go (@periscope/metrics' `Metrics` fits): records, drops, redactions. */
  metrics?: MetricsSink;
  /**
   * Bound of shutdown(): it resolves within this many ms even when a transport hangs, and says on
   * stderr what it could not flush. Env PERISCOPE_LOG_CLOSE_TIMEOUT (`5s`, `500ms`); default 5000.
   */
  closeTimeoutMs?: number;
  /** Read instead of process.env (tests, or your own configuration source). */
  env?: Env;
}

export const LOGGER_OPTION_KEYS: readonly (keyof LoggerOptions)[] = [
  'service',
  'level',
  'format',
  'colors',
  'transports',
  'destination',
  'redact',
  'errorStack',
  'fields',
  'aggregator',
  'sampling',
  'perf',
  'metrics',
  'closeTimeoutMs',
  'env',
];

export interface ResolvedOptions {
  reader: ConfigReader;
  service: string;
  level: LogLevel;
  format: LogFormat;
  colors: boolean;
  redactOptions: RedactorOptions | false;
  errorStack: boolean;
  fields?: Record<string, unknown>;
  closeTimeoutMs: number;
}

function resolveRedaction(reader: ConfigReader, redact: LoggerOptions['redact']): RedactorOptions | false {
  let options: RedactorOptions | false;
  if (redact === undefined)
    options = reader.boolean('redact', undefined, { env: 'PERISCOPE_LOG_REDACT', default: true }) && {};
  else if (redact === true) options = {};
  else if (redact === false) options = false;
  else if (typeof redact === 'object' && redact !== null) options = redact;
  else reader.fail('redact', 'true, false or redactor options', redact);
  const extraKeys = reader.list('redactKeys', undefined, { env: 'PERISCOPE_LOG_REDACT_KEYS', default: [] });
  if (options && extraKeys.length > 0) options = { ...options, keys: [...(options.keys ?? []), ...extraKeys] };
  return options;
}

export function resolveLoggerOptions(options: LoggerOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw configError('options', 'an options object', options);
  const reader = createConfigReader({ env: options.env, error: configError });
  reader.rejectUnknown(options, LOGGER_OPTION_KEYS, 'createLogger options');
  const tty = Boolean(process.stdout.isTTY);
  const service = reader.string('service', options.service, {
    env: 'OTEL_SERVICE_NAME',
    default: 'unknown_service:node',
  });
  const level = reader.oneOf('level', options.level, LEVEL_NAMES, { env: 'PERISCOPE_LOG_LEVEL', default: 'info' });
  const format = reader.oneOf('format', options.format, LOG_FORMATS, {
    env: 'PERISCOPE_LOG_FORMAT',
    default: tty ? 'pretty' : 'json',
  });
  const colors = reader.boolean('colors', options.colors, { default: tty && reader.raw('NO_COLOR') === undefined });
  const errorStack = reader.boolean('errorStack', options.errorStack, {
    env: 'PERISCOPE_LOG_ERROR_STACK',
    default: true,
  });
  const fields = options.fields;
  // Bound by the logger rather than as winston's defaultMeta, which winston would merge into a logged Error itself.
  if (fields !== undefined && (fields === null || typeof fields !== 'object'))
    reader.fail('fields', 'an object of fields bound to every record', fields);
  const closeTimeoutMs = reader.duration('closeTimeoutMs', options.closeTimeoutMs, {
    env: 'PERISCOPE_LOG_CLOSE_TIMEOUT',
    default: 5000,
    min: 0,
    max: 600_000,
  });
  const redactOptions = resolveRedaction(reader, options.redact);
  return { reader, service, level, format, colors, redactOptions, errorStack, fields, closeTimeoutMs };
}
