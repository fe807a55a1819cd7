// A small protobuf writer for OTLP ExportMetricsServiceRequest (opentelemetry/proto
// collector/metrics/v1, metrics/v1, common/v1, resource/v1). Written here rather than taken from
// @opentelemetry/otlp-transformer: its serializer takes the metrics SDK's data model and drops
// exemplars, and this package must not pull the SDK in. Field numbers are the proto's; the test
// decodes our bodies with the generated code of the official definitions.

import { ProtoWriter } from '@periscope/core';
export type AttributeValue = string | number | boolean;
export type Attributes = Readonly<Record<string, AttributeValue>>;

export interface OtlpExemplar {
  timeUnixNano: bigint;
  value: number;
  /** 32 hex characters. */
  traceId: string;
  /** 16 hex characters. */
  spanId: string;
}

interface PointBase {
  /** The series' own labels. Its identity keys the cache of encoded attributes: pass the series' frozen object. */
  labels: Attributes;
  /** Labels every series carries (the registry's default labels); the series' own win. */
  defaults: Attributes;
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
}
export interface NumberPoint extends PointBase {
  value: number;
  exemplars: OtlpExemplar[];
}
export interface HistogramPoint extends PointBase {
  count: number;
  sum: number;
  /** Per bucket (not cumulative); one more than the bounds. */
  bucketCounts: ArrayLike<number>;
  explicitBounds: ArrayLike<number>;
  exemplars: OtlpExemplar[];
}
export interface SummaryPoint extends PointBase {
  count: number;
  sum: number;
  quantiles: { quantile: number; value: number }[];
}

export type OtlpMetric = { name: string; description: string; unit: string } & (
  | { kind: 'sum'; monotonic: boolean; points: NumberPoint[] }
  | { kind: 'gauge'; points: NumberPoint[] }
  | { kind: 'histogram'; points: HistogramPoint[] }
  | { kind: 'summary'; points: SummaryPoint[] }
);

const CUMULATIVE = 2;

/** KeyValue { key = 1; AnyValue value = 2 }; AnyValue { string 1, bool 2, int 3, double 4 }. */
function attributes(w: ProtoWriter, field: number, attrs: Attributes): void {
  for (const key in attrs) {
    const v = attrs[key];
    w.message(field, (kv) => {
      kv.string(1, key);
      kv.message(2, (any) => {
        if (typeof v === 'string') any.stringAlways(1, v);
        else if (typeof v === 'boolean') any.bool(2, v);
        else if (Number.isSafeInteger(v)) any.int64(3, v);
        else any.double(4, v);
      });
    });
  }
}

/**
 * A series' attributes change only with its labels, so their encoding is kept per labels object
 * (our series keep one frozen object for life): a push re-encodes values and times, not labels.
 */
const encodedAttributes = new WeakMap<object, { field: number; defaults: Attributes; bytes: Buffer }>();

function pointAttributes(w: ProtoWriter, field: number, p: PointBase): void {
  const hit = encodedAttributes.get(p.labels);
  if (hit !== undefined && hit.field === field && hit.defaults === p.defaults) return w.raw(hit.bytes);
  const sub = new ProtoWriter();
  attributes(sub, field, { ...p.defaults, ...p.labels });
  const bytes = Buffer.from(sub.finish());
  if (Object.isFrozen(p.labels)) encodedAttributes.set(p.labels, { field, defaults: p.defaults, bytes });
  w.raw(bytes);
}

/** Exemplar { time_unix_nano 2; as_double 3; span_id 4; trace_id 5 }. */
function exemplars(w: ProtoWriter, field: number, list: OtlpExemplar[]): void {
  for (const e of list) {
    w.message(field, (x) => {
      x.fixed64(2, e.timeUnixNano);
      x.double(3, e.value);
      x.bytes(4, Buffer.from(e.spanId, 'hex'));
      x.bytes(5, Buffer.from(e.traceId, 'hex'));
    });
  }
}

/** NumberDataPoint { start 2; time 3; as_double 4; exemplars 5; attributes 7 }. */
function numberPoint(w: ProtoWriter, p: NumberPoint): void {
  w.fixed64(2, p.startTimeUnixNano);
  w.fixed64(3, p.timeUnixNano);
  w.double(4, p.value);
  exemplars(w, 5, p.exemplars);
  pointAttributes(w, 7, p);
}

/** HistogramDataPoint { start 2; time 3; count 4; sum 5; bucket_counts 6; explicit_bounds 7; exemplars 8; attributes 9 }. */
function histogramPoint(w: ProtoWriter, p: HistogramPoint): void {
  w.fixed64(2, p.startTimeUnixNano);
  w.fixed64(3, p.timeUnixNano);
  w.fixed64(4, BigInt(p.count));
  w.double(5, p.sum);
  w.packedFixed64(6, p.bucketCounts);
  w.packedDouble(7, p.explicitBounds);
  exemplars(w, 8, p.exemplars);
  pointAttributes(w, 9, p);
}

/** SummaryDataPoint { start 2; time 3; count 4; sum 5; quantile_values 6 { quantile 1; value 2 }; attributes 7 }. */
function summaryPoint(w: ProtoWriter, p: SummaryPoint): void {
  w.fixed64(2, p.startTimeUnixNano);
  w.fixed64(3, p.timeUnixNano);
  w.fixed64(4, BigInt(p.count));
  w.double(5, p.sum);
  for (const q of p.quantiles)
    w.message(6, (v) => {
      v.double(1, q.quantile);
      v.double(2, q.value);
    });
  pointAttributes(w, 7, p);
}

/** Metric { name 1; description 2; unit 3; gauge 5 | sum 7 | histogram 9 | summary 11 }. */
function metric(w: ProtoWriter, m: OtlpMetric): void {
  w.string(1, m.name);
  w.string(2, m.description);
  w.string(3, m.unit);
  switch (m.kind) {
    case 'gauge':
      return w.message(5, (g) => m.points.forEach((p) => g.message(1, (d) => numberPoint(d, p))));
    case 'sum':
      return w.message(7, (s) => {
        m.points.forEach((p) => s.message(1, (d) => numberPoint(d, p)));
        s.uint(2, CUMULATIVE);
        s.bool(3, m.monotonic);
      });
    case 'histogram':
      return w.message(9, (h) => {
        m.points.forEach((p) => h.message(1, (d) => histogramPoint(d, p)));
        h.uint(2, CUMULATIVE);
      });
    case 'summary':
      return w.message(11, (s) => m.points.forEach((p) => s.message(1, (d) => summaryPoint(d, p))));
  }
}

/**
 * ExportMetricsServiceRequest { resource_metrics 1 { resource 1 { attributes 1 }; scope_metrics 2
 * { scope 1 { name 1; version 2 }; metrics 2 } } }.
 */
export function encodeMetricsRequest(
  resource: Attributes,
  scope: { name: string; version: string },
  metrics: readonly OtlpMetric[],
): Buffer {
  const w = new ProtoWriter();
  w.message(1, (rm) => {
    rm.message(1, (r) => attributes(r, 1, resource));
    rm.message(2, (sm) => {
      sm.message(1, (s) => {
        s.string(1, scope.name);
        s.string(2, scope.version);
      });
      for (const m of metrics) sm.message(2, (x) => metric(x, m));
    });
  });
  return w.finish();
}
