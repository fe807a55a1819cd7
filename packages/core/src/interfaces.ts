// The structural shapes every package accepts, so that a user passes the same objects everywhere:
// a winston logger, `console`, or @periscope/logging's logger is a `Logger`; @periscope/metrics'
// registry is a `MetricsSink`. Floor-1 packages (tracing, logging) cannot import metrics, so they
// take this shape instead.

export type LogFields = Record<string, unknown>;

/** What every package logs through. winston's logger, `console` and @periscope/logging fit it. */
export interface Logger {
  debug(message: string, fields?: LogFields): unknown;
  info(message: string, fields?: LogFields): unknown;
  warn(message: string, fields?: LogFields): unknown;
  error(message: string, fields?: LogFields): unknown;
}

/** Logs nothing: the default of every package that takes a logger. */
export const NOOP_LOGGER: Logger = Object.freeze({
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
});

export type MetricLabels = Record<string, string | number>;

export interface CounterSink {
  inc(labels: MetricLabels, value?: number): void;
  /** A bound child for fixed labels; used on hot paths when the sink offers it. */
  labels?(labels: MetricLabels): { inc(value?: number): void };
}

export interface GaugeSink {
  set(labels: MetricLabels, value: number): void;
}

export interface HistogramSink {
  observe(labels: MetricLabels, value: number): void;
  labels?(labels: MetricLabels): { observe(value: number): void };
}

export interface MetricConfig {
  name: string;
  help: string;
  labelNames?: readonly string[];
}

/** Where a package registers its own metrics. @periscope/metrics' `Metrics` satisfies it. */
export interface MetricsSink {
  counter(config: MetricConfig): CounterSink;
  gauge(config: MetricConfig): GaugeSink;
  histogram(config: MetricConfig & { buckets?: readonly number[] }): HistogramSink;
}
