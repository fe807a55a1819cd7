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

export function toSpanRecord(span: ReadableSpan): SpanRecord {
  const ctx = span.spanContext();
  const status: SpanRecord['status'] = { code: STATUS[span.status.code] };
  if (span.status.message) status.message = span.status.message;
  const service = span.resource?.attributes['service.name'];
  return {
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    ...(span.parentSpanContext?.spanId ? { parentSpanId: span.parentSpanContext.spanId } : {}),
    name: span.name,
    kind: KINDS[span.kind] ?? 'INTERNAL',
    startTime: hrToMs(span.startTime),
    endTime: hrToMs(span.endTime),
    durationMs: hrToMs(span.duration),
    status,
    attributes: { ...span.attributes },
    events: span.events.map((e) => ({ name: e.name, time: hrToMs(e.time), attributes: { ...e.attributes } })),
    ...(typeof service === 'string' ? { serviceName: service } : {}),
  };
}

/** A span whose parent is not in this process: the root of this process's part of the trace. */
export function isLocalRoot(span: ReadableSpan): boolean {
  return !span.parentSpanContext || span.parentSpanContext.isRemote === true;
}
