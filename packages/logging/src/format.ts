// The logger's one format step, in named units: admission (level, sampling), the error of a call,
// the fields, the message (with extra arguments formatted util.format-style, then redacted),
// trace correlation, and the line. It builds the LogRecord once per record and hangs it on the
// winston info object, so layouts, the aggregator and shippers never redo the work nor see a secret.
import { inspect, format as formatText } from 'node:util';
import { context, trace, isSpanContextValid, type SpanContext } from '@opentelemetry/api';
import type { Redactor } from '@periscope/core';
import { LEVEL_VALUES } from './levels';
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
import type { LoggerInstruments } from './instrumentation';
import type { Sampler } from './sampling';

export interface FormatterDeps {
  service: string;
  redactor: Redactor;
  errorStack: boolean;
  /** Fields bound to every record (the call's own fields override them). */
  rootFields?: Record<string, unknown>;
  sampler?: Sampler;
  instruments: LoggerInstruments;
  render: (r: LogRecord) => string;
  /** The logger's current level (it can change at run time) and winston's own check for others. */
  levelValue: () => number;
  isLevelEnabled: (level: string) => boolean;
}

export type Transform = (info: WinstonInfo) => WinstonInfo | false;

const FLAGS = ['00', '01'];
// The placeholders winston looks for before it merges a fields object (its formatRegExp).
const TOKEN = /%[scdjifoO%]/;
const isObject = (v: unknown): boolean => v !== null && typeof v === 'object';
const hasOwn = (o: object, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key);

/**
 * The error of a call: logger.error(err) (child loggers pass a copy that points at it),
 * logger.error('msg', err). In both, winston spread the error's own fields onto info: those
 * stay with the error (`spread`), not in the attributes. An `err`/`error` field is found later.
 */
export function errorOf(info: WinstonInfo): Error | undefined {
  if (info instanceof Error) return info;
  if (info[SOURCE_ERROR] instanceof Error) return info[SOURCE_ERROR];
  const splat = info[SPLAT];
  return splat !== undefined && splat[0] instanceof Error ? splat[0] : undefined;
}

/** One argument of a util.format-style call, made safe before it is formatted. */
function safeArgument(arg: unknown, redactor: Redactor): unknown {
  if (arg instanceof Error) return `${arg.name}: ${arg.message}`;
  if (arg !== null && typeof arg === 'object') return redactor.redact(arg);
  return arg;
}

/**
 * The message with the call's extra arguments: `logger.info('%s of %d', a, b)` is formatted as
 * util.format does; arguments beyond the fields object winston merged are appended (strings as
 * they are, other values inspected). Objects are redacted before formatting and the whole text after.
 */
export function withArguments(text: string, splat: readonly unknown[], redactor: Redactor): string {
  if (text.includes('%') && TOKEN.test(text)) return formatText(text, ...splat.map((a) => safeArgument(a, redactor)));
  const first = splat[0];
  // winston merged a leading object (the fields, or an Error) into the record; the rest are extra.
  const rest = first !== null && typeof first === 'object' ? splat.slice(1) : splat;
  if (rest.length === 0) return text;
  const extra = rest.map((a) => {
    const safe = safeArgument(a, redactor);
    return typeof safe === 'string' ? safe : inspect(safe, { depth: 4, breakLength: Infinity });
  });
  return `${text} ${extra.join(' ')}`;
}

/** The redacted message of a record. */
export function messageOf(info: WinstonInfo, redactor: Redactor): string {
  const raw = info.message;
  const splat = info[SPLAT];
  let text: string;
  if (typeof raw === 'string') text = raw;
  else if (raw === undefined) text = '';
  else return JSON.stringify(redactor.redact(raw)) ?? '';
  // The common call, logger.info('msg', fields): winston merged the fields, nothing else to format.
  if (splat !== undefined && !(splat.length === 1 && isObject(splat[0]) && !text.includes('%')))
    text = withArguments(text, splat, redactor);
  return redactor.redactString(text);
}

/**
 * Copies the bound and per-call fields, redacted, into `attributes` and `out`. Returns the error
 * given as an `err`/`error` field, if the call had no other.
 */
function copyFields(
  info: WinstonInfo,
  out: WinstonInfo,
  attributes: Record<string, unknown>,
  spread: Error | undefined,
  deps: FormatterDeps,
): Error | undefined {
  const { redactor, rootFields } = deps;
  let fieldError: Error | undefined;
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
    if (
      spread === undefined &&
      fieldError === undefined &&
      (key === 'err' || key === 'error') &&
      value instanceof Error
    ) {
      fieldError = value;
      continue;
    }
    const safe = redactor.redactAttribute(key, value);
    attributes[key] = safe;
    out[key] = safe;
  }
  return fieldError;
}

function stripStacks(e: SerializedError): void {
  delete e.stack;
  const cause = e.cause;
  if (cause && typeof cause === 'object' && 'type' in cause) stripStacks(cause as SerializedError);
}

/** The error serialized by the redactor (type, message, stack, own fields, cause chain). */
export function serializeError(
  error: Error,
  spread: boolean,
  redactor: Redactor,
  stacks: boolean,
): SerializedError | undefined {
  const serialized = redactor.redact(error);
  if (serialized === null || typeof serialized !== 'object' || !('type' in serialized)) return undefined;
  const e = serialized as SerializedError;
  // logger.error(err) stamps `level` on the error object itself (winston's log()).
  if (spread) delete e.level;
  if (!stacks) stripStacks(e);
  return e;
}

/** Adds the active span's ids to a record; SDK spans return the same SpanContext each time, validated once. */
export function createCorrelator(): (record: LogRecord, out: WinstonInfo) => void {
  let lastValid: SpanContext | undefined;
  return (record, out) => {
    const span = trace.getSpan(context.active());
    if (span === undefined) return;
    const sc = span.spanContext();
    if (sc !== lastValid) {
      if (!isSpanContextValid(sc)) return;
      lastValid = sc;
    }
    record.traceId = sc.traceId;
    record.spanId = sc.spanId;
    record.traceFlags = FLAGS[sc.traceFlags & 1];
    out.trace_id = sc.traceId;
    out.span_id = sc.spanId;
  };
}

/** Level check and sampling: winston formats every record before transports filter by level. */
function admitted(level: string, deps: FormatterDeps): boolean {
  const value = LEVEL_VALUES[level];
  if (!(value !== undefined && value <= deps.levelValue()) && !deps.isLevelEnabled(level)) return false;
  const verdict = deps.sampler?.admit(level) ?? null;
  if (verdict !== null) {
    deps.instruments.dropped(level, verdict);
    return false;
  }
  return true;
}

/** The format step: the redacted, correlated record and its line, or false to skip the record. */
export function createFormatter(deps: FormatterDeps): Transform {
  const correlate = createCorrelator();
  const { service, redactor, instruments, render, sampler } = deps;

  const format: Transform = (info) => {
    const level = String(info[LEVEL] ?? info.level);
    if (!admitted(level, deps)) return false;
    instruments.record(level);
    const spread = errorOf(info);
    const out: WinstonInfo = { level: info.level, message: '' };
    const attributes: Record<string, unknown> = {};
    const error = copyFields(info, out, attributes, spread, deps) ?? spread;
    const message = messageOf(info, redactor);
    out.message = message;
    const record: LogRecord = { time: Date.now(), level, message, service, attributes };
    if (typeof attributes.logger === 'string') record.logger = attributes.logger;
    correlate(record, out);
    const serialized = error && serializeError(error, spread !== undefined, redactor, deps.errorStack);
    if (serialized) record.error = serialized;
    const dropped = sampler?.takeDroppedSinceLastKept(level);
    if (dropped) attributes['log.dropped'] = dropped;
    out[LEVEL] = level;
    out[LOG_RECORD] = record;
    out[MESSAGE] = render(record);
    return out;
  };

  // A record that cannot be formatted still leaves a line (and never an exception at the call site).
  return (info) => {
    try {
      return format(info);
    } catch (err) {
      instruments.formatError();
      const level = typeof info.level === 'string' ? info.level : 'error';
      const message = `[unformattable log record: ${redactor.redactString(String(err))}]`;
      const record: LogRecord = { time: Date.now(), level, message, service, attributes: {} };
      return { level, message, [LEVEL]: level, [LOG_RECORD]: record, [MESSAGE]: render(record) };
    }
  };
}
