// GenAI and ML helpers. LLM metrics follow the OpenTelemetry GenAI semantic conventions (the
// released ones, semantic-conventions v1.41 / @opentelemetry/semantic-conventions 1.45), translated
// to Prometheus names as Prometheus' OTLP translation does: dots become underscores and the unit
// becomes a suffix (gen_ai.client.operation.duration, unit s -> gen_ai_client_operation_duration_seconds;
// gen_ai.client.token.usage, unit {token} -> gen_ai_client_token_usage). Attributes become labels
// the same way (gen_ai.provider.name -> gen_ai_provider_name). The other ML figures (throughput,
// GPU, cache) are ours: periscope_ml_*.
import { ATTR_ERROR_TYPE, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT } from '@opentelemetry/semantic-conventions';
import {
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_TOKEN_TYPE,
  GEN_AI_TOKEN_TYPE_VALUE_INPUT,
  GEN_AI_TOKEN_TYPE_VALUE_OUTPUT,
  METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
  METRIC_GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK,
  METRIC_GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
  METRIC_GEN_AI_CLIENT_TOKEN_USAGE,
} from './semconv';
import { InvalidValueError } from './errors';
import { Buckets } from './buckets';
import type { Metrics } from './metrics';
import type { BoundHistogram, Counter, Gauge, Histogram, LlmCall } from './types';

export interface ModelThroughput {
  model: string;
  items: number;
  seconds: number;
}
export interface GpuStats {
  gpu: string;
  utilization: number;
  memoryUsedBytes: number;
  memoryTotalBytes: number;
}
export interface CacheLookup {
  cache: string;
  hit: boolean;
}

/** UCUM unit → Prometheus suffix; annotations like `{token}` add none. */
const UNIT_SUFFIX: Readonly<Record<string, string>> = { s: '_seconds', By: '_bytes', '1': '_ratio' };

/** The Prometheus name of an OpenTelemetry metric or attribute name (with its unit, for metrics). */
export function prometheusName(otelName: string, unit = ''): string {
  const base = otelName.replace(/[^a-zA-Z0-9_:]/g, '_');
  const suffix = UNIT_SUFFIX[unit] ?? '';
  return suffix && !base.endsWith(suffix) ? base + suffix : base;
}

/** Prometheus names of the GenAI client metrics. */
export const GENAI_METRICS = {
  tokenUsage: prometheusName(METRIC_GEN_AI_CLIENT_TOKEN_USAGE, '{token}'),
  operationDuration: prometheusName(METRIC_GEN_AI_CLIENT_OPERATION_DURATION, 's'),
  timeToFirstChunk: prometheusName(METRIC_GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK, 's'),
  timePerOutputChunk: prometheusName(METRIC_GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK, 's'),
} as const;

const PROVIDER = prometheusName(ATTR_GEN_AI_PROVIDER_NAME);
const REQUEST_MODEL = prometheusName(ATTR_GEN_AI_REQUEST_MODEL);
const OPERATION = prometheusName(ATTR_GEN_AI_OPERATION_NAME);
const RESPONSE_MODEL = prometheusName(ATTR_GEN_AI_RESPONSE_MODEL);
const SERVER_ADDRESS = prometheusName(ATTR_SERVER_ADDRESS);
const SERVER_PORT = prometheusName(ATTR_SERVER_PORT);
const TOKEN_TYPE = prometheusName(ATTR_GEN_AI_TOKEN_TYPE);
const ERROR_TYPE = prometheusName(ATTR_ERROR_TYPE);

/** The labels of every GenAI client metric (metric_attributes.gen_ai); '' = not known (no label in Prometheus terms). */
const CALL_LABELS = [PROVIDER, REQUEST_MODEL, OPERATION, RESPONSE_MODEL, SERVER_ADDRESS, SERVER_PORT] as const;
type CallLabel = (typeof CALL_LABELS)[number];
type CallLabels = Record<CallLabel, string>;

/** The bound series of one call label set; each bound when a call first observes it. */
interface CallSeries {
  readonly base: CallLabels;
  input?: BoundHistogram;
  output?: BoundHistogram;
  ok?: BoundHistogram;
  ttfc?: BoundHistogram;
  tpoc?: BoundHistogram;
}

/** Call label sets whose series recordLlmCall() keeps bound (then it starts over). */
const MAX_BOUND_CALL_SETS = 256;

function nonNegative(metric: string, value: unknown, what: string): void {
  if (typeof value !== 'number' || !(value >= 0) || value === Infinity)
    throw new InvalidValueError(metric, value, `${what} must be a finite number >= 0`);
}
function text(metric: string, value: unknown, what: string): void {
  if (typeof value !== 'string' || value === '')
    throw new InvalidValueError(metric, value, `${what} must be a non-empty string`);
}
function optionalText(metric: string, value: unknown, what: string): void {
  if (value !== undefined) text(metric, value, what);
}

/** Validates a call completely before anything is recorded, so bad input records nothing. */
function validateCall(call: LlmCall): void {
  const { tokenUsage, operationDuration, timeToFirstChunk, timePerOutputChunk } = GENAI_METRICS;
  if (call === null || typeof call !== 'object')
    throw new InvalidValueError(operationDuration, call, 'recordLlmCall needs an LlmCall object');
  text(operationDuration, call.provider, 'provider');
  text(operationDuration, call.model, 'model');
  text(operationDuration, call.operation, 'operation');
  if (call.inputTokens !== undefined) nonNegative(tokenUsage, call.inputTokens, 'inputTokens');
  if (call.outputTokens !== undefined) nonNegative(tokenUsage, call.outputTokens, 'outputTokens');
  nonNegative(operationDuration, call.durationSeconds, 'durationSeconds');
  const ttfc = call.timeToFirstChunkSeconds ?? call.timeToFirstTokenSeconds;
  if (ttfc !== undefined) nonNegative(timeToFirstChunk, ttfc, 'timeToFirstChunkSeconds');
  if (call.outputChunkSeconds !== undefined) {
    if (!Array.isArray(call.outputChunkSeconds))
      throw new InvalidValueError(timePerOutputChunk, call.outputChunkSeconds, 'outputChunkSeconds must be an array');
    for (const s of call.outputChunkSeconds) nonNegative(timePerOutputChunk, s, 'outputChunkSeconds[]');
  }
  optionalText(operationDuration, call.errorType, 'errorType');
  optionalText(operationDuration, call.responseModel, 'responseModel');
  optionalText(operationDuration, call.serverAddress, 'serverAddress');
  if (call.serverPort !== undefined && !(Number.isInteger(call.serverPort) && call.serverPort > 0))
    throw new InvalidValueError(operationDuration, call.serverPort, 'serverPort must be a positive integer');
}

export class GenAiMetrics {
  // Each group is registered on first use, so a process that only reports GPUs exposes no LLM families.
  private llmMetrics:
    | {
        tokens: Histogram<CallLabel | typeof TOKEN_TYPE>;
        duration: Histogram<CallLabel | typeof ERROR_TYPE>;
        ttfc: Histogram<CallLabel>;
        tpoc: Histogram<CallLabel>;
      }
    | undefined;
  private cacheMetrics: { requests: Counter<'cache' | 'result'>; ratio: Gauge<'cache'> } | undefined;
  private readonly cacheCounts = new Map<string, { hits: number; total: number }>();
  private throughputMetrics: { items: Counter<'model'>; rate: Gauge<'model'> } | undefined;
  private gpuMetrics: { util: Gauge<'gpu'>; used: Gauge<'gpu'>; total: Gauge<'gpu'> } | undefined;
  private readonly metrics: Metrics;
  private readonly callSeries = new Map<string, CallSeries>();

  constructor(metrics: Metrics) {
    this.metrics = metrics;
  }

  private llm(): NonNullable<GenAiMetrics['llmMetrics']> {
    const m = this.metrics;
    return (this.llmMetrics ??= {
      tokens: m.histogram({
        name: GENAI_METRICS.tokenUsage,
        help: 'Number of input and output tokens used.',
        labelNames: [...CALL_LABELS, TOKEN_TYPE],
        buckets: Buckets.tokens,
      }),
      duration: m.histogram({
        name: GENAI_METRICS.operationDuration,
        help: 'GenAI operation duration.',
        labelNames: [...CALL_LABELS, ERROR_TYPE],
        buckets: Buckets.llmLatency,
      }),
      ttfc: m.histogram({
        name: GENAI_METRICS.timeToFirstChunk,
        help: 'Time to receive the first chunk of a streaming response, from when the request was issued.',
        labelNames: CALL_LABELS,
        buckets: Buckets.llmLatency,
      }),
      tpoc: m.histogram({
        name: GENAI_METRICS.timePerOutputChunk,
        help: 'Time per output chunk after the first one of a streaming response.',
        labelNames: CALL_LABELS,
        buckets: Buckets.llmLatency,
      }),
    });
  }

  /**
   * The GenAI client metrics of one call: duration (with error_type on failure), token usage by
   * type when the counts are known, and for streaming calls time to first chunk and time per
   * output chunk.
   */
  recordLlmCall(call: LlmCall): void {
    if (!this.metrics.enabled) return;
    validateCall(call);
    const series = this.seriesOf(call);
    const failed = call.errorType !== undefined;
    // Unknown counts are not reported; a failed call's 0 is "unknown" (callers used to pass 0).
    if (call.inputTokens !== undefined && !(failed && call.inputTokens === 0))
      (series.input ??= this.llm().tokens.labels({
        ...series.base,
        [TOKEN_TYPE]: GEN_AI_TOKEN_TYPE_VALUE_INPUT,
      })).observe(call.inputTokens);
    if (call.outputTokens !== undefined && !(failed && call.outputTokens === 0))
      (series.output ??= this.llm().tokens.labels({
        ...series.base,
        [TOKEN_TYPE]: GEN_AI_TOKEN_TYPE_VALUE_OUTPUT,
      })).observe(call.outputTokens);
    if (failed) this.llm().duration.observe({ ...series.base, [ERROR_TYPE]: call.errorType! }, call.durationSeconds);
    else (series.ok ??= this.llm().duration.labels({ ...series.base, [ERROR_TYPE]: '' })).observe(call.durationSeconds);
    const ttfc = call.timeToFirstChunkSeconds ?? call.timeToFirstTokenSeconds;
    if (ttfc !== undefined) (series.ttfc ??= this.llm().ttfc.labels(series.base)).observe(ttfc);
    if (call.outputChunkSeconds !== undefined) {
      const tpoc = (series.tpoc ??= this.llm().tpoc.labels(series.base));
      for (const s of call.outputChunkSeconds) tpoc.observe(s);
    }
  }

  /**
   * The series of a call's label set, bound on first use (a family gets no series a call never
   * observed). One key and one lookup per call instead of a label object and a series lookup per
   * observation: the agent loop records a call per LLM request. Cleared when full, so endless
   * distinct model names cannot grow it (the families' own series limit still applies).
   */
  private seriesOf(call: LlmCall): CallSeries {
    const responseModel = call.responseModel ?? '';
    const address = call.serverAddress ?? '';
    const port = call.serverAddress !== undefined && call.serverPort !== undefined ? String(call.serverPort) : '';
    const parts = [call.provider, call.model, call.operation, responseModel, address, port];
    let key = '';
    for (const part of parts) key += part.length + ':' + part;
    let series = this.callSeries.get(key);
    if (series === undefined) {
      if (this.callSeries.size >= MAX_BOUND_CALL_SETS) this.callSeries.clear();
      const base = {
        [PROVIDER]: call.provider,
        [REQUEST_MODEL]: call.model,
        [OPERATION]: call.operation,
        [RESPONSE_MODEL]: responseModel,
        [SERVER_ADDRESS]: address,
        [SERVER_PORT]: port,
      } as CallLabels;
      this.callSeries.set(key, (series = { base }));
    }
    return series;
  }

  recordModelThroughput(sample: ModelThroughput): void {
    if (!this.metrics.enabled) return;
    const m = 'periscope_ml_model_items_total';
    if (sample === null || typeof sample !== 'object')
      throw new InvalidValueError(m, sample, 'recordModelThroughput needs { model, items, seconds }');
    text(m, sample.model, 'model');
    nonNegative(m, sample.items, 'items');
    nonNegative('periscope_ml_model_throughput_items_per_second', sample.seconds, 'seconds');
    if (sample.seconds === 0)
      throw new InvalidValueError('periscope_ml_model_throughput_items_per_second', 0, 'seconds must be > 0');
    const t = (this.throughputMetrics ??= {
      items: this.metrics.counter({
        name: m,
        help: 'Items (requests, samples, tokens) processed by a model',
        labelNames: ['model'],
      }),
      rate: this.metrics.gauge({
        name: 'periscope_ml_model_throughput_items_per_second',
        help: 'Items per second of the last measured batch of a model',
        labelNames: ['model'],
      }),
    });
    t.items.inc({ model: sample.model }, sample.items);
    t.rate.set({ model: sample.model }, sample.items / sample.seconds);
  }

  setGpuStats(stats: GpuStats): void {
    if (!this.metrics.enabled) return;
    const m = 'periscope_ml_gpu_utilization_ratio';
    if (stats === null || typeof stats !== 'object')
      throw new InvalidValueError(
        m,
        stats,
        'setGpuStats needs { gpu, utilization, memoryUsedBytes, memoryTotalBytes }',
      );
    text(m, stats.gpu, 'gpu');
    if (typeof stats.utilization !== 'number' || !(stats.utilization >= 0 && stats.utilization <= 1))
      throw new InvalidValueError(m, stats.utilization, 'utilization must be a ratio between 0 and 1');
    nonNegative('periscope_ml_gpu_memory_used_bytes', stats.memoryUsedBytes, 'memoryUsedBytes');
    nonNegative('periscope_ml_gpu_memory_total_bytes', stats.memoryTotalBytes, 'memoryTotalBytes');
    const g = (this.gpuMetrics ??= {
      util: this.metrics.gauge({ name: m, help: 'GPU utilization (0-1)', labelNames: ['gpu'] }),
      used: this.metrics.gauge({
        name: 'periscope_ml_gpu_memory_used_bytes',
        help: 'GPU memory in use',
        labelNames: ['gpu'],
      }),
      total: this.metrics.gauge({
        name: 'periscope_ml_gpu_memory_total_bytes',
        help: 'GPU memory size',
        labelNames: ['gpu'],
      }),
    });
    g.util.set({ gpu: stats.gpu }, stats.utilization);
    g.used.set({ gpu: stats.gpu }, stats.memoryUsedBytes);
    g.total.set({ gpu: stats.gpu }, stats.memoryTotalBytes);
  }

  recordCacheLookup(lookup: CacheLookup): void {
    if (!this.metrics.enabled) return;
    const m = 'periscope_ml_cache_requests_total';
    if (lookup === null || typeof lookup !== 'object')
      throw new InvalidValueError(m, lookup, 'recordCacheLookup needs { cache, hit }');
    text(m, lookup.cache, 'cache');
    if (typeof lookup.hit !== 'boolean') throw new InvalidValueError(m, lookup.hit, 'hit must be a boolean');
    const cm = (this.cacheMetrics ??= {
      requests: this.metrics.counter({
        name: m,
        help: 'Cache lookups by result (hit or miss)',
        labelNames: ['cache', 'result'],
      }),
      ratio: this.metrics.gauge({
        name: 'periscope_ml_cache_hit_ratio',
        help: 'Hits / lookups since start per cache',
        labelNames: ['cache'],
      }),
    });
    cm.requests.inc({ cache: lookup.cache, result: lookup.hit ? 'hit' : 'miss' });
    let c = this.cacheCounts.get(lookup.cache);
    if (c === undefined) this.cacheCounts.set(lookup.cache, (c = { hits: 0, total: 0 }));
    c.total++;
    if (lookup.hit) c.hits++;
    cm.ratio.set({ cache: lookup.cache }, c.hits / c.total);
  }
}
