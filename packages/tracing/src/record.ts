// One plain-JSON shape for a finished span, shared by the trace store and the file exporter.
import { SpanKind, SpanStatusCode, type Attributes, type HrTime } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

export type SpanStatusName = 'UNSET' | 'OK' | 'ERROR';

export interface SpanEventRecord {
  name: string;
  /** Epoch milliseconds. */
  time: number;
  attributes: Attributes;
}

export interface SpanRecord {
  traceId: string;
  spanId: string;
  /** Absent on a root span; may name a span of another process (remote parent). */
  parentSpanId?: string;
  name: string;
  kind: 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER';
  /** Epoch milliseconds (fractional). */
  startTime: number;
  endTime: number;
  durationMs: number;
  status: { code: SpanStatusName; message?: string };
  attributes: Attributes;
  events: SpanEventRecord[];
  serviceName?: string;
}

const KINDS: Record<SpanKind, SpanRecord['kind']> = {
  [SpanKind.INTERNAL]: 'INTERNAL',
  [SpanKind.SERVER]: 'SERVER',
  [SpanKind.CLIENT]: 'CLIENT',
  [SpanKind.PRODUCER]: 'PRODUCER',
  [SpanKind.CONSUMER]: 'CONSUMER',
};

const STATUS: Record<SpanStatusCode, SpanStatusName> = {
  [SpanStatusCode.UNSET]: 'UNSET',
  [SpanStatusCode.OK]: 'OK',
  [SpanStatusCode.ERROR]: 'ERROR',
};

export function hrToMs(t: HrTime): number {
  return t[0] * 1e3 + t[1] / 1e6;
}

// Object literals of fixed shapes, no conditional spreads: a spread of `cond ? {…} : {}` goes
// through V8's generic object copy, and made this conversion ~10x slower (it runs for every span
// the store keeps or the file exporter writes).
export function toSpanRecord(span: ReadableSpan): SpanRecord {
  const ctx = span.spanContext();
  const status: SpanRecord['status'] = span.status.message
    ? { code: STATUS[span.status.code], message: span.status.message }
    : { code: STATUS[span.status.code] };
  const service = span.resource?.attributes['service.name'];
  const parentSpanId = span.parentSpanContext?.spanId;
  const name = span.name;
  const kind = KINDS[span.kind] ?? 'INTERNAL';
  const startTime = hrToMs(span.startTime);
  const endTime = hrToMs(span.endTime);
  const durationMs = hrToMs(span.duration);
  const attributes = { ...span.attributes };
  const events = span.events.length === 0 ? [] : span.events.map(toEventRecord);
  const record: SpanRecord = parentSpanId
    ? {
        traceId: ctx.traceId,
        spanId: ctx.spanId,
        parentSpanId,
        name,
        kind,
        startTime,
        endTime,
        durationMs,
        status,
        attributes,
        events,
      }
    : {
        traceId: ctx.traceId,
        spanId: ctx.spanId,
        name,
        kind,
        startTime,
        endTime,
        durationMs,
        status,
        attributes,
        events,
      };
  if (typeof service === 'string') record.serviceName = service;
  return record;
}

function toEventRecord(e: ReadableSpan['events'][number]): SpanEventRecord {
  return { name: e.name, time: hrToMs(e.time), attributes: { ...e.attributes } };
}

/** A span whose parent is not in this process: the root of this process's part of the trace. */
export function isLocalRoot(span: ReadableSpan): boolean {
  return !span.parentSpanContext || span.parentSpanContext.isRemote === true;
}
