// The package's own metrics. Tracing sits on floor 1 and may not import @periscope/metrics, so it
// takes the registry as core's structural MetricsSink; a @periscope/metrics Metrics satisfies it.
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { MetricLabels, MetricsSink } from '@periscope/core';
import { getContextManager } from './state';

export type { MetricLabels };

/** What tracing needs of a registry: counters and histograms (a subset of core's MetricsSink). */
export type MetricsLike = Pick<MetricsSink, 'counter' | 'histogram'>;

/** Why a span never reached the exporters; the `reason` label of periscope_tracing_dropped_spans_total. */
export type DropReason =
  | 'rate_limit'
  | 'min_duration'
  | 'tail_sampled'
  | 'tail_buffer_full'
  | 'store_trace_full'
  | 'export_failed'
  | 'close_timeout';

const SPAN_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const STATUS = ['unset', 'ok', 'error'] as const;

/** The package's own metrics; every method is a no-op without a registry. */
export class TracingMetrics {
  private dropped?: { inc(labels: MetricLabels, value?: number): void };
  private exportFailures?: { inc(labels: MetricLabels, value?: number): void };
  private spanDuration?: { observe(labels: MetricLabels, value: number): void };
  private spanCount?: { inc(labels: MetricLabels, value?: number): void };

  constructor(metrics: MetricsLike | undefined, spanMetrics: boolean) {
    if (metrics) this.bind(metrics, spanMetrics);
  }

  get bound(): boolean {
    return this.dropped !== undefined;
  }

  /** Registers the metrics on `metrics` (at start, or later for a tracing started by the register entry). */
  bind(metrics: MetricsLike, spanMetrics: boolean): void {
    this.dropped = metrics.counter({
      name: 'periscope_tracing_dropped_spans_total',
      help: 'Spans not exported, by reason',
      labelNames: ['reason'],
    });
    this.exportFailures = metrics.counter({
      name: 'periscope_tracing_export_failures_total',
      help: 'Failed export batches, by exporter',
      labelNames: ['exporter'],
    });
    if (spanMetrics) {
      this.spanDuration = metrics.histogram({
        name: 'periscope_tracing_span_duration_seconds',
        help: 'Span duration by span name and status',
        labelNames: ['span_name', 'status'],
        buckets: SPAN_BUCKETS,
      });
      this.spanCount = metrics.counter({
        name: 'periscope_tracing_spans_total',
        help: 'Ended spans by span name and status',
        labelNames: ['span_name', 'status'],
      });
    }
  }

  get recordsSpans(): boolean {
    return this.spanDuration !== undefined;
  }

  drop(reason: DropReason, n = 1): void {
    this.dropped?.inc({ reason }, n);
  }

  exportFailed(exporter: string): void {
    this.exportFailures?.inc({ exporter });
  }

  /** RED metrics from one span. Observed inside the span's context so the registry can attach its trace id as exemplar. */
  span(span: ReadableSpan): void {
    if (!this.spanDuration || !this.spanCount) return;
    const labels = { span_name: span.name, status: STATUS[span.status.code] ?? 'unset' };
    const seconds = span.duration[0] + span.duration[1] / 1e9;
    // Only the exemplar reads this context: a root context with the span is enough (no copy of the
    // active one), entered through our context manager directly (no global lookup per span).
    const ctx = trace.setSpanContext(ROOT_CONTEXT, span.spanContext());
    getContextManager().with(ctx, () => {
      this.spanDuration?.observe(labels, seconds);
      this.spanCount?.inc(labels);
    });
  }
}
