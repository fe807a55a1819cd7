// Public types of @periscope/metrics. Label names are a string-literal union `L` taken from
// `labelNames: [...] as const`, so a missing or unknown label is a compile-time error.
import type { Registry } from 'prom-client';

/** Values for every label name in `L`; a metric without labels accepts no label keys. */
export type LabelValues<L extends string> = [L] extends [never] ? Record<string, never> : { [K in L]: string | number };

export interface MetricConfig<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
}
export interface HistogramConfig<L extends string> extends MetricConfig<L> {
  /** Upper bounds, strictly increasing; `+Inf` is implied. Default `Buckets.latency`. */
  buckets?: readonly number[];
}
export interface SummaryConfig<L extends string> extends MetricConfig<L> {
  percentiles?: readonly number[];
  maxAgeSeconds?: number;
  ageBuckets?: number;
}

export interface BoundCounter {
  inc(value?: number): void;
}
export interface BoundGauge {
  set(value: number): void;
  inc(value?: number): void;
  dec(value?: number): void;
}
export interface BoundHistogram {
  observe(value: number): void;
  startTimer(): () => number;
}

export interface Counter<L extends string = never> {
  readonly name: string;
  inc(labels: LabelValues<L>, value?: number): void;
  inc(value?: number): void;
  /** A handle bound to one series: its `inc` does no label lookup (use it on hot paths). */
  labels(labels: LabelValues<L>): BoundCounter;
  reset(): void;
}
export interface Gauge<L extends string = never> {
  readonly name: string;
  set(labels: LabelValues<L>, value: number): void;
  set(value: number): void;
  inc(labels: LabelValues<L>, value?: number): void;
  inc(value?: number): void;
  dec(labels: LabelValues<L>, value?: number): void;
  dec(value?: number): void;
  labels(labels: LabelValues<L>): BoundGauge;
  reset(): void;
}
export interface Histogram<L extends string = never> {
  readonly name: string;
  observe(labels: LabelValues<L>, value: number): void;
  observe(value: number): void;
  labels(labels: LabelValues<L>): BoundHistogram;
  /** Returns `end(extraLabels?)`, which records and returns the elapsed seconds. */
  startTimer(labels?: Partial<LabelValues<L>>): (extraLabels?: Partial<LabelValues<L>>) => number;
  reset(): void;
}
export type Summary<L extends string = never> = Histogram<L>;

export interface MetricsOptions {
  /** Prepended to every metric name registered through this object. Env `PERISCOPE_METRICS_PREFIX`. Default `''`. */
  prefix?: string;
  /** The prom-client registry to use. Default: a new `Registry`. */
  registry?: Registry;
  /** Labels added to every series at exposition. Default none. */
  defaultLabels?: Record<string, string>;
  /** Register prom-client's default Node metrics (event-loop lag, GC, heap). Env `PERISCOPE_METRICS_DEFAULT_METRICS`. Default `false`. */
  collectDefaultMetrics?: boolean;
  /** Series per metric before new label sets go to the `__overflow__` series. Env `PERISCOPE_METRICS_MAX_SERIES`. Default `2000`. */
  maxSeriesPerMetric?: number;
  /** Attach the active, sampled trace id to counter increments and histogram observations. Env `PERISCOPE_METRICS_EXEMPLARS`. Default `true`. */
  exemplars?: boolean;
  /** Collect host CPU, memory, disk and network metrics in the background. Env `PERISCOPE_METRICS_HOST_INTERVAL_MS` (`0` = off). Default off. */
  hostMetrics?: boolean | HostMetricsOptions;
  /** Record nothing (every record call is a no-op). Env `PERISCOPE_METRICS_ENABLED=false`. Default `true`. */
  enabled?: boolean;
  /** Receives one-time warnings (cardinality overflow, failed host collection). Default `process.emitWarning`. */
  onWarning?: (message: string) => void;
  /** Read instead of `process.env` (tests, or a config source of your own). */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface HostMetricsOptions {
  /** Collection interval. Default 15000 ms. */
  intervalMs?: number;
}

export interface Exposition {
  contentType: string;
  body: string;
}

/** One LLM call, for the GenAI client metrics (OpenTelemetry GenAI names, Prometheus style). */
export interface LlmCall {
  /** gen_ai.provider.name */
  provider: string;
  /** gen_ai.request.model */
  model: string;
  /** gen_ai.operation.name, e.g. 'chat'. */
  operation: string;
  /**
   * Input tokens, cached ones included; omit when unknown: no token usage is recorded then (the
   * conventions forbid reporting unknown counts). On a failed call a 0 counts as unknown.
   */
  inputTokens?: number;
  /** Output tokens; omit when unknown (as inputTokens). */
  outputTokens?: number;
  durationSeconds: number;
  /** gen_ai.response.model, when the response named one. */
  responseModel?: string;
  /** server.address of the model endpoint. */
  serverAddress?: string;
  /** server.port of the model endpoint (with serverAddress). */
  serverPort?: number;
  /** Seconds from the request to the first chunk of a streaming response (streaming calls only). */
  timeToFirstChunkSeconds?: number;
  /** @deprecated the old name of timeToFirstChunkSeconds. */
  timeToFirstTokenSeconds?: number;
  /** Seconds between consecutive output chunks after the first one (streaming calls only). */
  outputChunkSeconds?: readonly number[];
  /** error.type of a failed call: the provider's error type (the value on the span too). */
  errorType?: string;
}
