// Output layouts of a LogRecord: OpenTelemetry-named JSON, Elastic Common Schema, and a colored
// one-line form for terminals. Records are already redacted and acyclic, so plain
// JSON.stringify is safe here (and much faster than a cycle-safe stringify). The fast JSON
// renderer keeps its caches per logger (createJsonRenderer), never in module state.
import { nullProto, severityNumber, severityText } from './levels';
import type { LogRecord, SerializedError } from './record';
import { escapeControls } from './escape';

export type LogFormat = 'json' | 'ecs' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'ecs', 'pretty'];

/** OpenTelemetry log data model field names; user fields go under `attributes`. */
export function toOtelJson(r: LogRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    timestamp: new Date(r.time).toISOString(),
    severity_text: severityText(r.level),
    severity_number: severityNumber(r.level),
    body: r.message,
  };
  if (r.traceId) {
    out.trace_id = r.traceId;
    out.span_id = r.spanId;
    out.trace_flags = r.traceFlags;
  }
  out['service.name'] = r.service;
  out.attributes = otelAttributes(r);
  return out;
}

/** The record's attributes plus its error as `exception.*` (OpenTelemetry semantic conventions). */
function otelAttributes(r: LogRecord): Record<string, unknown> {
  if (!r.error) return r.attributes;
  const attributes: Record<string, unknown> = {
    ...r.attributes,
    'exception.type': r.error.type,
    'exception.message': r.error.message,
  };
  if (r.error.stack !== undefined) attributes['exception.stacktrace'] = r.error.stack;
  const extra = errorExtras(r.error);
  if (extra) attributes['exception.details'] = extra;
  return attributes;
}

/** Elastic Common Schema (ecs.version 8.x) with dotted top-level keys, as ecs-logging does. */
export function toEcs(r: LogRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    '@timestamp': new Date(r.time).toISOString(),
    'log.level': r.level,
    message: r.message,
    'ecs.version': '8.11.0',
    'service.name': r.service,
  };
  if (r.logger) out['log.logger'] = r.logger;
  if (r.traceId) {
    out['trace.id'] = r.traceId;
    out['span.id'] = r.spanId;
  }
  if (r.error) {
    out['error.type'] = r.error.type;
    out['error.message'] = r.error.message;
    if (r.error.stack !== undefined) out['error.stack_trace'] = r.error.stack;
    const code = r.error.code;
    if (typeof code === 'string' || typeof code === 'number') out['error.code'] = String(code);
    const extra = errorExtras(r.error, 'code');
    if (extra) out['error.details'] = extra;
  }
  // Custom fields sit beside the ECS ones but never overwrite them.
  for (const key in r.attributes) {
    if (key === 'logger' || key in out) continue;
    out[key] = r.attributes[key];
  }
  return out;
}

/** Fields of an error beyond type/message/stack: its code, its own fields, its cause chain. */
function errorExtras(e: SerializedError, skip?: string): Record<string, unknown> | undefined {
  let extra: Record<string, unknown> | undefined;
  for (const key in e) {
    if (key === 'type' || key === 'message' || key === 'stack' || key === skip) continue;
    (extra ??= {})[key] = e[key];
  }
  return extra;
}

// ---- the fast JSON line (on every log call's path) ----
//
// Built as a string directly (several times faster than JSON.stringify of the object), with the
// same bytes as JSON.stringify(toOtelJson(r)); a test holds them equal. Each `+` of strings makes
// a rope (V8 cons string) that the stream flattens when it encodes the line, and flattening a
// rope of ~25 pieces costs more than building it. So the parts that repeat from record to record
// (the head up to "body" per millisecond and level, the trace ids of a span, the service) are
// built once per logger and flattened: a line is then a handful of pieces.

/** A flat copy of `s`: slicing flattens the rope (the slice is a view of the flat string). */
function flat(s: string): string {
  return ` ${s}`.slice(1);
}

/** JSON string literal; short strings with nothing to escape skip JSON.stringify. */
function quote(s: string): string {
  if (s.length > 256) return JSON.stringify(s);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s);
  }
  return `"${s}"`;
}

/** JSON.stringify of a plain (redacted, acyclic) object: flat values inline, nested ones delegated. */
function stringifyObject(obj: Record<string, unknown>): string {
  let out = '';
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    let enc: string | undefined;
    switch (typeof v) {
      case 'string':
        enc = quote(v);
        break;
      case 'number':
        enc = Number.isFinite(v) ? String(v) : 'null';
        break;
      case 'boolean':
        enc = v ? 'true' : 'false';
        break;
      case 'undefined':
      case 'function':
      case 'symbol':
        continue;
      default:
        enc = v === null ? 'null' : JSON.stringify(v);
    }
    if (enc === undefined) continue;
    out += `${out ? ',' : ''}${quote(key)}:${enc}`;
  }
  return `{${out}}`;
}

const HEX = /^[0-9a-f]*$/;
const SEVERITY_TEXT_JSON: Record<string, string> = nullProto(
  Object.fromEntries(
    ['fatal', 'error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'].map((l) => [
      l,
      JSON.stringify(severityText(l)),
    ]),
  ),
);

/** Whether the trace fields can be written without escaping (the logger's own are always hex). */
function plainTraceIds(r: LogRecord): boolean {
  return (
    r.traceId === undefined ||
    (HEX.test(r.traceId) &&
      (r.spanId === undefined || HEX.test(r.spanId)) &&
      (r.traceFlags === undefined || HEX.test(r.traceFlags)))
  );
}

/** The repeated head of a line (`{"timestamp":…,"body":`), rebuilt when the millisecond or level changes. */
class HeadCache {
  private ms = NaN; // never equal: the first record always builds the head
  private level = '';
  private head = '';
  get(ms: number, level: string): string {
    if (ms !== this.ms || level !== this.level) {
      const text = SEVERITY_TEXT_JSON[level] ?? JSON.stringify(severityText(level));
      const iso = new Date(ms).toISOString();
      this.head = flat(
        `{"timestamp":"${iso}","severity_text":${text},"severity_number":${severityNumber(level)},"body":`,
      );
      this.ms = ms;
      this.level = level;
    }
    return this.head;
  }
}

/** The `,"trace_id":…` segment of the current span. */
class TraceCache {
  private traceId: string | undefined;
  private spanId: string | undefined;
  private flags: string | undefined;
  private seg = '';
  private isFlat = false;
  get(traceId: string, spanId: string | undefined, flags: string | undefined): string {
    if (traceId !== this.traceId || spanId !== this.spanId || flags !== this.flags) {
      let seg = `,"trace_id":"${traceId}"`;
      if (spanId !== undefined) seg += `,"span_id":"${spanId}"`;
      if (flags !== undefined) seg += `,"trace_flags":"${flags}"`;
      this.seg = seg;
      this.isFlat = false;
      this.traceId = traceId;
      this.spanId = spanId;
      this.flags = flags;
    } else if (!this.isFlat) {
      // Flattened on its second use only: a span that logs once would not earn the copy back.
      this.seg = flat(this.seg);
      this.isFlat = true;
    }
    return this.seg;
  }
}

/**
 * A renderer of `JSON.stringify(toOtelJson(r))`, faster, with its own caches (one per logger or
 * per shipped batch: nothing is shared between loggers). `trustedIds`: the records' trace ids were
 * read by the logger from a valid span context (hex), so they need no check.
 */
export function createJsonRenderer(trustedIds = false): (r: LogRecord) => string {
  const head = new HeadCache();
  const traces = new TraceCache();
  let service: string | undefined;
  let serviceSeg = '';
  return (r: LogRecord): string => {
    // Records built elsewhere (public callers) may carry odd ids: take the safe, slower path.
    if (!trustedIds && !plainTraceIds(r)) return JSON.stringify(toOtelJson(r));
    let line = head.get(r.time, r.level) + quote(r.message);
    if (r.traceId) line += traces.get(r.traceId, r.spanId, r.traceFlags);
    if (r.service !== service) {
      serviceSeg = flat(`,"service.name":${JSON.stringify(r.service)},"attributes":`);
      service = r.service;
    }
    return `${line}${serviceSeg}${stringifyObject(otelAttributes(r))}}`;
  };
}

// ---- pretty ----

const COLORS: Record<string, string> = nullProto({
  fatal: '\x1b[41;97m',
  error: '\x1b[31m',
  warn: '\x1b[33m',
  info: '\x1b[32m',
  http: '\x1b[36m',
  verbose: '\x1b[34m',
  debug: '\x1b[35m',
  silly: '\x1b[90m',
});
const DIM = '\x1b[2m';
const RESET = '\x1b[0m';

function inline(value: unknown): string {
  if (typeof value === 'string')
    return escapeControls(/[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value);
  return escapeControls(JSON.stringify(value) ?? String(value));
}

function errorChain(error: SerializedError): string {
  let e: unknown = error;
  let chain = '';
  for (let i = 0; i < 5 && e && typeof e === 'object'; i++) {
    const se = e as SerializedError;
    chain += `${i ? ' <- ' : ''}${String(se.type)}: ${String(se.message)}`;
    e = se.cause;
  }
  return escapeControls(JSON.stringify(chain));
}

/**
 * One colored line for a terminal: time, level, [service/logger], message, fields, error, trace.
 * Every value is escaped: a newline, `\r`, an ANSI escape or another control character in a
 * message or field is written as `\n`, `\r`, `\u001b`…, so a log line can never forge another
 * line or repaint the terminal.
 */
export function toPretty(r: LogRecord, colors: boolean): string {
  const c = (code: string, s: string): string => (colors ? `${code}${s}${RESET}` : s);
  const time = new Date(r.time).toISOString().slice(11, 23);
  const level = c(COLORS[r.level] ?? '', escapeControls(r.level.toUpperCase().padEnd(5)));
  const origin = escapeControls(r.logger ? `${r.service}/${r.logger}` : r.service);
  let line = `${c(DIM, time)} ${level} ${c(DIM, `[${origin}]`)} ${escapeControls(r.message)}`;
  for (const key in r.attributes) {
    if (key === 'logger') continue;
    line += ` ${c(DIM, `${escapeControls(key)}=`)}${inline(r.attributes[key])}`;
  }
  if (r.error) line += ` ${c(COLORS.error, `err=${errorChain(r.error)}`)}`;
  if (r.traceId) line += ` ${c(DIM, escapeControls(`trace=${r.traceId} span=${String(r.spanId)}`))}`;
  return line;
}

/** The line renderer of a layout, made once per logger (with that logger's own caches). */
export function rendererFor(format: LogFormat, colors: boolean): (r: LogRecord) => string {
  switch (format) {
    case 'json':
      return createJsonRenderer(true);
    case 'ecs':
      return (r) => JSON.stringify(toEcs(r));
    case 'pretty':
      return (r) => toPretty(r, colors);
  }
}
