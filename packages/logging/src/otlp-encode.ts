// A small protobuf writer for OTLP ExportLogsServiceRequest (opentelemetry/proto collector/logs/v1,
// logs/v1, common/v1, resource/v1), the way @periscope/metrics writes its metrics requests: the
// OpenTelemetry serializer takes the logs SDK's data model, and this package must not pull the SDK
// in. Field numbers are the proto's; the test decodes our bodies with the generated code of the
// official definitions. Loaded only when an OTLP transport sends its first batch.
import { ProtoWriter } from '@periscope/core';
import { severityNumber, severityText } from './levels';
import type { LogRecord } from './record';

export type ResourceAttributes = Readonly<Record<string, string | number | boolean>>;

/** Nesting kept in an attribute value; deeper values are sent as their JSON text. */
const MAX_DEPTH = 8;

/** AnyValue { string 1; bool 2; int 3; double 4; array 5 { values 1 }; kvlist 6 { values 1 } }. */
function anyValue(w: ProtoWriter, v: unknown, depth: number): void {
  switch (typeof v) {
    case 'string':
      return w.stringAlways(1, v);
    case 'boolean':
      return w.uint(2, v ? 1 : 0);
    case 'number':
      return Number.isSafeInteger(v) ? w.int64(3, v) : w.double(4, v);
    case 'bigint':
      return w.stringAlways(1, v.toString());
    case 'object':
      if (v === null) return;
      if (depth >= MAX_DEPTH) return w.stringAlways(1, safeJson(v));
      if (Array.isArray(v))
        return w.message(5, (a) => v.forEach((item) => a.message(1, (x) => anyValue(x, item, depth + 1))));
      return w.message(6, (kv) => keyValues(kv, 1, v as Record<string, unknown>, depth + 1));
    default:
      return; // undefined, functions, symbols: an empty AnyValue
  }
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? '';
  } catch {
    return String(v);
  }
}

/** KeyValue { key 1; value 2 } per own key. */
function keyValues(w: ProtoWriter, field: number, attrs: Readonly<Record<string, unknown>>, depth: number): void {
  for (const key of Object.keys(attrs)) {
    const value = attrs[key];
    if (value === undefined) continue;
    w.message(field, (kv) => {
      kv.stringAlways(1, key);
      kv.message(2, (any) => anyValue(any, value, depth));
    });
  }
}

/** The attributes of a record: its fields, and an error as OpenTelemetry's exception.* attributes. */
function recordAttributes(r: LogRecord): Record<string, unknown> {
  if (!r.error) return r.attributes;
  const { type, message, stack, ...rest } = r.error;
  return {
    ...r.attributes,
    'exception.type': type,
    'exception.message': message,
    'exception.stacktrace': stack,
    ...(Object.keys(rest).length > 0 ? { 'exception.details': rest } : {}),
  };
}

/**
 * LogRecord { time 1; severity_number 2; severity_text 3; body 5; attributes 6; flags 8; trace_id 9;
 * span_id 10; observed_time 11 }. The observed time is the record's time: our logger stamps each
 * record when it sees it.
 */
function logRecord(w: ProtoWriter, r: LogRecord): void {
  const nanos = BigInt(Math.round(r.time)) * 1_000_000n;
  w.fixed64(1, nanos);
  w.uint(2, severityNumber(r.level));
  w.stringAlways(3, severityText(r.level));
  w.message(5, (b) => b.stringAlways(1, r.message));
  keyValues(w, 6, recordAttributes(r), 0);
  if (r.traceId && r.spanId) {
    w.fixed32(8, r.traceFlags ? parseInt(r.traceFlags, 16) & 0xff : 0);
    w.hex(9, r.traceId);
    w.hex(10, r.spanId);
  }
  w.fixed64(11, nanos);
}

export interface LogsScope {
  name: string;
  version: string;
}

/**
 * ExportLogsServiceRequest { resource_logs 1 { resource 1 { attributes 1 }; scope_logs 2 { scope 1
 * { name 1; version 2 }; log_records 2 } } }. Records are grouped by `resourceOf` (one resource per
 * service name) and by logger name (the instrumentation scope, as OpenTelemetry's log bridges do).
 */
export function encodeLogsRequest(
  records: readonly LogRecord[],
  resourceOf: (r: LogRecord) => ResourceAttributes,
  scope: LogsScope,
): Buffer {
  const groups = new Map<ResourceAttributes, Map<string, LogRecord[]>>();
  for (const r of records) {
    const resource = resourceOf(r);
    let byScope = groups.get(resource);
    if (!byScope) groups.set(resource, (byScope = new Map()));
    const name = r.logger || scope.name;
    const list = byScope.get(name);
    if (list) list.push(r);
    else byScope.set(name, [r]);
  }
  const w = new ProtoWriter(1024);
  for (const [resource, byScope] of groups)
    w.message(1, (rl) => {
      rl.message(1, (res) => keyValues(res, 1, resource, 0));
      for (const [name, list] of byScope)
        rl.message(2, (sl) => {
          sl.message(1, (s) => {
            s.stringAlways(1, name);
            s.stringAlways(2, scope.version);
          });
          for (const r of list) sl.message(2, (x) => logRecord(x, r));
        });
    });
  return w.finish();
}
