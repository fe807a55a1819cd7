// The Metrics facade: one prom-client Registry holding our fast metrics next to prom-client's
// own (default Node metrics or anything registered directly), plus GenAI/ML helpers, host
// metrics, history, Pushgateway and the global off switch.
import { collectDefaultMetrics, Registry } from 'prom-client';
import { BaseMetric, MetricKind, SeriesBase, Shared } from './base';
import { resolveConfig } from './config';
import { CounterMetric } from './counter';
import { MetricsConfigError, MetricConflictError } from './errors';
import { refreshTracingGlobals } from './exemplar';
import {
  OPENMETRICS_CONTENT_TYPE,
  PROMETHEUS_CONTENT_TYPE,
  prefersOpenMetrics,
  render,
  renderChunks,
} from './exposition';
import { GaugeMetric } from './gauge';
import { CacheLookup, GenAiMetrics, GpuStats, ModelThroughput } from './genai';
import { checkBuckets, HistogramMetric } from './histogram';
import { History, HistoryOptions } from './history';
import { HostMetricsCollector } from './host';
import { checkLabelNames, checkMetricName } from './labels';
import { PushOptions, pushToGateway } from './pushgateway';
import { snapshotOf, MetricSnapshot } from './snapshot';
import { Buckets } from './buckets';
import { SummaryMetric } from './summary';
import type {
  Counter,
  Exposition,
  Gauge,
  Histogram,
  HistogramConfig,
  HostMetricsOptions,
  LabelValues,
  LlmCall,
  MetricConfig,
  MetricsOptions,
  Summary,
  SummaryConfig,
} from './types';

type AnyOurMetric = BaseMetric<SeriesBase>;
type PromMetric = Parameters<Registry['registerMetric']>[0];

export const OVERFLOW_METRIC = 'periscope_metrics_cardinality_overflow_total';

export class Metrics {
  readonly registry: Registry;
  private readonly shared: Shared;
  private readonly prefix: string;
  private readonly warn: (message: string) => void;
  private readonly warned = new Set<string>();
  private overflowCounter: CounterMetric<'metric'> | undefined;
  private genAiMetrics: GenAiMetrics | undefined;
  private host: HostMetricsCollector | undefined;
  private readonly histories = new Set<History>();
  private closed = false;

  constructor(options: MetricsOptions = {}) {
    if (options === null || typeof options !== 'object')
      throw new MetricsConfigError('options', 'an options object', options);
    const config = resolveConfig(options, options.env);
    refreshTracingGlobals();
    if (options.onWarning !== undefined && typeof options.onWarning !== 'function')
      throw new MetricsConfigError('onWarning', 'a function', typeof options.onWarning);
    this.registry = options.registry ?? new Registry();
    this.prefix = config.prefix;
    this.warn = options.onWarning ?? ((message) => process.emitWarning(message, { code: 'PERISCOPE_METRICS' }));
    this.shared = {
      enabled: config.enabled,
      exemplars: config.exemplars,
      maxSeries: config.maxSeries,
      defaultLabels: config.defaultLabels,
      onOverflow: (metric) => this.onOverflow(metric),
    };
    if (Object.keys(config.defaultLabels).length) this.registry.setDefaultLabels({ ...config.defaultLabels });
    // prom-client throws on a second registration of its default metrics in one registry.
    if (config.collectDefaultMetrics && !this.registry.getSingleMetric('process_cpu_user_seconds_total'))
      collectDefaultMetrics({ register: this.registry });
    if (config.hostIntervalMs > 0) this.host = new HostMetricsCollector(this, config.hostIntervalMs, this.warn);
  }

  get enabled(): boolean {
    return this.shared.enabled;
  }
  /** Global off switch: every record call becomes a no-op (registration and exposition still work). */
  disable(): void {
    this.shared.enabled = false;
  }
  enable(): void {
    this.shared.enabled = true;
  }

  counter<L extends string = never>(config: MetricConfig<L>): Counter<L> {
    const { name, labelNames } = this.check(config, 'counter');
    return this.register(
      'counter',
      name,
      labelNames,
      () => new CounterMetric<L>(name, config.help, labelNames, this.shared),
    );
  }

  gauge<L extends string = never>(config: MetricConfig<L>): Gauge<L> {
    const { name, labelNames } = this.check(config, 'gauge');
    return this.register(
      'gauge',
      name,
      labelNames,
      () => new GaugeMetric<L>(name, config.help, labelNames, this.shared),
    );
  }

  histogram<L extends string = never>(config: HistogramConfig<L>): Histogram<L> {
    const { name, labelNames } = this.check(config, 'histogram');
    const bounds = checkBuckets(name, config.buckets ?? Buckets.latency);
    const metric = this.register(
      'histogram',
      name,
      labelNames,
      () => new HistogramMetric<L>(name, config.help, labelNames, bounds, this.shared),
    );
    if (config.buckets && (metric.bounds.length !== bounds.length || metric.bounds.some((b, i) => b !== bounds[i]))) {
      throw new MetricConflictError(name, `with buckets [${Array.from(metric.bounds).join(', ')}]`);
    }
    return metric;
  }

  summary<L extends string = never>(config: SummaryConfig<L>): Summary<L> {
    const { name, labelNames } = this.check(config, 'summary');
    for (const p of config.percentiles ?? []) {
      if (typeof p !== 'number' || !(p >= 0 && p <= 1))
        throw new MetricsConfigError(`percentiles of ${name}`, 'numbers between 0 and 1', config.percentiles);
    }
    return this.register(
      'summary',
      name,
      labelNames,
      () => new SummaryMetric<L>(name, config.help, labelNames, config, this.shared),
    );
  }

  /** Times `fn` (sync or async) into `histogram`, recording on throw or rejection too. */
  time<L extends string, T>(histogram: Histogram<L>, labels: LabelValues<L>, fn: () => T): T {
    const end = histogram.startTimer(labels as Partial<LabelValues<L>>);
    let result: T;
    try {
      result = fn();
    } catch (err) {
      end();
      throw err;
    }
    if (result instanceof Promise) return result.finally(() => end()) as T;
    end();
    return result;
  }

  /** GenAI client metrics for one LLM call (OpenTelemetry GenAI names, Prometheus style). */
  recordLlmCall(call: LlmCall): void {
    this.genAi().recordLlmCall(call);
  }
  /** Items (requests, samples, tokens) a model processed in `seconds`. */
  recordModelThroughput(sample: ModelThroughput): void {
    this.genAi().recordModelThroughput(sample);
  }
  /** Current utilization and memory of one GPU. */
  setGpuStats(stats: GpuStats): void {
    this.genAi().setGpuStats(stats);
  }
  /** One lookup in a named cache (LLM response cache, embedding cache, …). */
  recordCacheLookup(lookup: CacheLookup): void {
    this.genAi().recordCacheLookup(lookup);
  }

  private genAi(): GenAiMetrics {
    return (this.genAiMetrics ??= new GenAiMetrics(this));
  }

  /** Renders the registry as Prometheus text 0.0.4, or OpenMetrics 1.0 when `accept` prefers it. */
  async expose(accept?: string): Promise<Exposition> {
    refreshTracingGlobals();
    const openMetrics = prefersOpenMetrics(accept);
    const body = await render(this.registry, this.shared.defaultLabels, openMetrics);
    return { contentType: openMetrics ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE, body };
  }

  /**
   * The exposition as chunks to write to a response one by one (`for await (const c of chunks)
   * res.write(c)`): with 100k series the body is megabytes, and neither rendering it nor
   * joining it into one string then blocks the event loop for more than a few milliseconds.
   */
  exposeStream(accept?: string): { contentType: string; chunks: AsyncIterable<string> } {
    refreshTracingGlobals();
    const openMetrics = prefersOpenMetrics(accept);
    return {
      contentType: openMetrics ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE,
      chunks: renderChunks(this.registry, this.shared.defaultLabels, openMetrics),
    };
  }

  /** A snapshot of the metrics created through @periscope/metrics in this registry (not prom-client's own). */
  toJSON(): MetricSnapshot[] {
    const out: MetricSnapshot[] = [];
    for (const m of this.registry.getMetricsAsArray() as unknown[])
      if (m instanceof BaseMetric) out.push(snapshotOf(m as AnyOurMetric));
    return out;
  }

  /** Zeroes every metric in the registry; bound handles stay valid. */
  reset(): void {
    this.registry.resetMetrics();
  }

  /** Samples the chosen series into ring buffers for in-process queries (rate, avg, max, quantile). */
  history(options: HistoryOptions): History {
    const h = new History(this.registry, options, () => this.histories.delete(h));
    this.histories.add(h);
    return h;
  }

  /** Starts host metrics collection (if not already started by the `hostMetrics` option). */
  collectHostMetrics(options: HostMetricsOptions = {}): HostMetricsCollector {
    const interval = options.intervalMs ?? 15_000;
    if (!Number.isInteger(interval) || interval < 100)
      throw new MetricsConfigError('intervalMs', 'an integer >= 100 (milliseconds)', interval);
    return (this.host ??= new HostMetricsCollector(this, interval, this.warn));
  }

  /** Pushes the registry (text format) to a Prometheus Pushgateway, for batch jobs. */
  async push(options: PushOptions): Promise<void> {
    const body = options.method === 'DELETE' ? '' : (await this.expose()).body;
    await pushToGateway(options, body);
  }

  /** Stops background work (host collection, history sampling). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const h of [...this.histories]) h.close();
    await this.host?.close();
  }

  private check<L extends string>(
    config: MetricConfig<L>,
    kind: MetricKind,
  ): { name: string; labelNames: readonly L[] } {
    if (config === null || typeof config !== 'object')
      throw new MetricsConfigError(`${kind} config`, 'an object { name, help, labelNames? }', config);
    const name = this.prefix + config.name;
    checkMetricName(typeof config.name === 'string' ? name : (config.name as unknown as string));
    if (typeof config.help !== 'string' || config.help === '')
      throw new MetricsConfigError(`help of ${name}`, 'a non-empty string', config.help);
    const labelNames = config.labelNames ?? [];
    if (!Array.isArray(labelNames))
      throw new MetricsConfigError(`labelNames of ${name}`, 'an array of label names', labelNames);
    checkLabelNames(name, labelNames, kind === 'histogram' ? 'le' : kind === 'summary' ? 'quantile' : undefined);
    return { name, labelNames };
  }

  /** Same name, type and label set returns the existing metric; anything else conflicts. */
  private register<M extends AnyOurMetric>(
    kind: MetricKind,
    name: string,
    labelNames: readonly string[],
    make: () => M,
  ): M {
    refreshTracingGlobals();
    const existing = this.registry.getSingleMetric(name) as unknown;
    if (existing !== undefined) {
      if (!(existing instanceof BaseMetric))
        throw new MetricConflictError(name, 'in this registry by another library (a prom-client metric)');
      if (existing.type !== kind) throw new MetricConflictError(name, `as a ${existing.type}, not a ${kind}`);
      const same =
        existing.labelNames.length === labelNames.length && labelNames.every((l) => existing.labelNames.includes(l));
      if (!same)
        throw new MetricConflictError(
          name,
          `with labels [${existing.labelNames.join(', ')}], not [${labelNames.join(', ')}]`,
        );
      return existing as M;
    }
    const metric = make();
    this.registry.registerMetric(metric as unknown as PromMetric);
    return metric;
  }

  private onOverflow(metric: string): void {
    if (metric === OVERFLOW_METRIC) return;
    if (!this.warned.has(metric)) {
      this.warned.add(metric);
      this.warn(
        `@periscope/metrics: ${metric} reached ${this.shared.maxSeries} series; new label sets are recorded in its "__overflow__" series (counted in ${OVERFLOW_METRIC})`,
      );
    }
    const counter = (this.overflowCounter ??= this.register(
      'counter',
      OVERFLOW_METRIC,
      ['metric'],
      () =>
        new CounterMetric<'metric'>(
          OVERFLOW_METRIC,
          'Label sets refused by the per-metric series limit and recorded in the __overflow__ series',
          ['metric'],
          this.shared,
        ),
    ));
    counter.inc({ metric });
  }
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  return new Metrics(options);
}
