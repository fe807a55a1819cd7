// Output layouts of a LogRecord: OpenTelemetry-named JSON, Elastic Common Schema, and a colored
// one-line form for terminals. Records are already redacted and acyclic, so plain
// JSON.stringify is safe here (and much faster than a cycle-safe stringify).
import { severityNumber as levelsSeverityNumber, severityText } from './levels';
import type { LogRecord, SerializedError } from './record';

// Module-local: see the note on imported bindings in logger.ts.
const severityNumber = levelsSeverityNumber;

export type LogFormat = 'json' | 'ecs' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'ecs', 'pretty'];

// Many records share a millisecond; formatting the date once per ms saves a Date allocation.
let lastMs = -1;
let lastIso = '';
export function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

/** OpenTelemetry log data model field names; user fields go under `attributes`. */
export function toOtelJson(r: LogRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    timestamp: isoTime(r.time),
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
  let attributes = r.attributes;
  if (r.error) {
    attributes = { ...attributes, 'exception.type': r.error.type, 'exception.message': r.error.message };
    if (r.error.stack !== undefined) attributes['exception.stacktrace'] = r.error.stack;
    const extra = errorExtras(r.error);
    if (extra) attributes['exception.details'] = extra;
  }
  out.attributes = attributes;
  return out;
}

// The JSON layout is on every log call's path: build the string directly (several times faster
// than JSON.stringify of the object). Same bytes as JSON.stringify(toOtelJson(r)); a test holds them equal.
//
// Each `+` of strings makes a rope (V8 cons string) that the stream flattens when it encodes the
// line to bytes, and flattening a rope of ~25 pieces costs more than building it. So the parts
// that repeat from record to record (the head up to "body" per millisecond and level, the trace
// ids of a span, the service) are built once and flattened: a line is then a handful of pieces.

/** A flat copy of `s`: slicing flattens the rope (the slice is a view of the flat string). */
function flat(s: string): string {
  return ` ${s}`.slice(1);
}

let headMs = NaN; // never equal: the first record always builds the head
let headLevel = '';
let head = '';
function headJson(ms: number, level: string): string {
  if (ms !== headMs || level !== headLevel) {
    const text = SEVERITY_TEXT_JSON[level] ?? JSON.stringify(severityText(level));
    head = flat(
      `{"timestamp":"${isoTime(ms)}","severity_text":${text},"severity_number":${severityNumber(level)},"body":`,
    );
    headMs = ms;
    headLevel = level;
  }
  return head;
}

let traceIdSeen: string | undefined;
let spanIdSeen: string | undefined;
let traceFlagsSeen: string | undefined;
let traceSeg = '';
let traceSegFlat = false;
function traceJson(traceId: string, spanId: string | undefined, traceFlags: string | undefined): string {
  if (traceId !== traceIdSeen || spanId !== spanIdSeen || traceFlags !== traceFlagsSeen) {
    let seg = `,"trace_id":"${traceId}"`;
    if (spanId !== undefined) seg += `,"span_id":"${spanId}"`;
    if (traceFlags !== undefined) seg += `,"trace_flags":"${traceFlags}"`;
    traceSeg = seg;
    traceSegFlat = false;
    traceIdSeen = traceId;
    spanIdSeen = spanId;
    traceFlagsSeen = traceFlags;
  } else if (!traceSegFlat) {
    // Flattened on its second use only: a span that logs once would not earn the copy back.
    traceSeg = flat(traceSeg);
    traceSegFlat = true;
  }
  return traceSeg;
}

let lastService: string | undefined;
let serviceSeg = '';
function serviceJson(service: string): string {
  if (service !== lastService) {
    serviceSeg = flat(`,"service.name":${JSON.stringify(service)},"attributes":`);
    lastService = service;
  }
  return serviceSeg;
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
const SEVERITY_TEXT_JSON: Record<string, string> = Object.fromEntries(
  ['fatal', 'error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'].map((l) => [
    l,
    JSON.stringify(severityText(l)),
  ]),
);

/** `JSON.stringify(toOtelJson(r))`, faster. */
export function renderOtelJson(r: LogRecord): string {
  // Records built elsewhere (public callers) may carry odd ids: take the safe, slower path.
  if (
    r.traceId !== undefined &&
    !(
      HEX.test(r.traceId) &&
      (r.spanId === undefined || HEX.test(r.spanId)) &&
      (r.traceFlags === undefined || HEX.test(r.traceFlags))
    )
  ) {
    return JSON.stringify(toOtelJson(r));
  }
  return renderTrusted(r);
}

/** renderOtelJson for records whose trace ids the logger itself read from a valid span context. */
export function renderTrusted(r: LogRecord): string {
  let line = headJson(r.time, r.level) + quote(r.message);
  if (r.traceId) line += traceJson(r.traceId, r.spanId, r.traceFlags);
  const attributes = r.error ? (toOtelJson(r).attributes as Record<string, unknown>) : r.attributes;
  return `${line}${serviceJson(r.service)}${stringifyObject(attributes)}}`;
}

/** Elastic Common Schema (ecs.version 8.x) with dotted top-level keys, as ecs-logging does. */
export function toEcs(r: LogRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    '@timestamp': isoTime(r.time),
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

const COLORS: Record<string, string> = {
  fatal: '\x1b[41;97m',
  error: '\x1b[31m',
  warn: '\x1b[33m',
  info: '\x1b[32m',
  http: '\x1b[36m',
  verbose: '\x1b[34m',
  debug: '\x1b[35m',
  silly: '\x1b[90m',
};
const DIM = '\x1b[2m';
const RESET = '\x1b[0m';

function inline(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  return JSON.stringify(value) ?? String(value);
}

/** One colored line for a terminal: time, level, [service/logger], message, fields, error, trace. */
export function toPretty(r: LogRecord, colors: boolean): string {
  const c = (code: string, s: string): string => (colors ? `${code}${s}${RESET}` : s);
  const time = isoTime(r.time).slice(11, 23);
  const level = c(COLORS[r.level] ?? '', r.level.toUpperCase().padEnd(5));
  const origin = r.logger ? `${r.service}/${r.logger}` : r.service;
  let line = `${c(DIM, time)} ${level} ${c(DIM, `[${origin}]`)} ${r.message.replace(/\r?\n/g, '\\n')}`;
  for (const key in r.attributes) {
    if (key === 'logger') continue;
    line += ` ${c(DIM, `${key}=`)}${inline(r.attributes[key])}`;
  }
  if (r.error) {
    let e: unknown = r.error;
    let chain = '';
    for (let i = 0; i < 5 && e && typeof e === 'object'; i++) {
      const se = e as SerializedError;
      chain += `${i ? ' <- ' : ''}${se.type}: ${se.message}`;
      e = se.cause;
    }
    line += ` ${c(COLORS.error, `err=${JSON.stringify(chain)}`)}`;
  }
  if (r.traceId) line += ` ${c(DIM, `trace=${r.traceId} span=${r.spanId}`)}`;
  return line;
}

/** The line renderer of a layout, chosen once per logger. */
export function rendererFor(format: LogFormat, colors: boolean): (r: LogRecord) => string {
  switch (format) {
    case 'json':
      return renderTrusted;
    case 'ecs':
      return (r) => JSON.stringify(toEcs(r));
    case 'pretty':
      return (r) => toPretty(r, colors);
  }
}
