// Public surface of @periscope/metrics.
export { createMetrics, Metrics, OVERFLOW_METRIC } from './metrics';
export { Buckets } from './buckets';
export { History } from './history';
export type { HistoryOptions, SeriesSelector, RawSeries, Labels } from './history';
export { HostMetricsCollector } from './host';
export type { PushOptions } from './pushgateway';
export { startOtlpPush, OtlpPushError } from './otlp';
export type { OtlpPush, OtlpPushOptions } from './otlp';
export type { Attributes, AttributeValue } from './otlp-encode';
export type { CacheLookup, GpuStats, ModelThroughput } from './genai';
export type { MetricSnapshot, ValueSeriesSnapshot, HistogramSeriesSnapshot, SummarySeriesSnapshot } from './snapshot';
export { OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE, prefersOpenMetrics } from './exposition';
export {
  MetricsError,
  InvalidMetricNameError,
  InvalidLabelNameError,
  MissingLabelError,
  UnknownLabelError,
  InvalidLabelValueError,
  InvalidValueError,
  MetricConflictError,
  MetricsConfigError,
  PushgatewayError,
  UntrackedMetricError,
} from './errors';
export type { MetricsErrorCode } from './errors';
export type { MetricKind } from './base';
export type {
  LabelValues,
  MetricConfig,
  HistogramConfig,
  SummaryConfig,
  BoundCounter,
  BoundGauge,
  BoundHistogram,
  Counter,
  Gauge,
  Histogram,
  Summary,
  MetricsOptions,
  HostMetricsOptions,
  Exposition,
  LlmCall,
} from './types';

import type { Counter, Gauge, Histogram, Summary } from './types';
/** Any metric created through @periscope/metrics. */
export type AnyMetric = Counter<string> | Gauge<string> | Histogram<string> | Summary<string>;
