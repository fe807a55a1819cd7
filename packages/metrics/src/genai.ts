// GenAI and ML helpers. LLM metrics follow the OpenTelemetry GenAI semantic conventions,
// translated to Prometheus names (gen_ai.client.token.usage -> gen_ai_client_token_usage);
// the other ML figures (throughput, GPU, cache) use periscope_ml_* names.
import { InvalidValueError } from './errors';
import { Buckets } from './buckets';
import type { Metrics } from './metrics';
import type { Counter, Gauge, Histogram, LlmCall } from './types';

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

const CALL_LABELS = ['gen_ai_provider_name', 'gen_ai_request_model', 'gen_ai_operation_name'] as const;
type CallLabel = (typeof CALL_LABELS)[number];
/** Output tokens per second: 1 to 5000. */
const TOKENS_PER_SECOND = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] as const;

function nonNegative(metric: string, value: unknown, what: string): void {
  if (typeof value !== 'number' || !(value >= 0) || value === Infinity)
    throw new InvalidValueError(metric, value, `${what} must be a finite number >= 0`);
}
function text(metric: string, value: unknown, what: string): void {
  if (typeof value !== 'string' || value === '')
    throw new InvalidValueError(metric, value, `${what} must be a non-empty string`);
}

export class GenAiMetrics {
  // Each group is registered on first use, so a process that only reports GPUs exposes no LLM families.
  private llmMetrics:
    | {
        tokens: Histogram<CallLabel | 'gen_ai_token_type'>;
        duration: Histogram<CallLabel | 'error_type'>;
        ttft: Histogram<CallLabel>;
        tps: Histogram<CallLabel>;
        errors: Counter<CallLabel | 'error_type'>;
      }
    | undefined;
  private cacheMetrics: { requests: Counter<'cache' | 'result'>; ratio: Gauge<'cache'> } | undefined;
  private readonly cacheCounts = new Map<string, { hits: number; total: number }>();
  private throughputMetrics: { items: Counter<'model'>; rate: Gauge<'model'> } | undefined;
  private gpuMetrics: { util: Gauge<'gpu'>; used: Gauge<'gpu'>; total: Gauge<'gpu'> } | undefined;
  private readonly metrics: Metrics;

  constructor(metrics: Metrics) {
    this.metrics = metrics;
  }

  private llm(): NonNullable<GenAiMetrics['llmMetrics']> {
    const m = this.metrics;
    return (this.llmMetrics ??= {
      tokens: m.histogram({
        name: 'gen_ai_client_token_usage',
        help: 'Number of input and output tokens used',
        labelNames: [...CALL_LABELS, 'gen_ai_token_type'],
        buckets: Buckets.tokens,
      }),
      duration: m.histogram({
        name: 'gen_ai_client_operation_duration_seconds',
        help: 'GenAI operation duration',
        labelNames: [...CALL_LABELS, 'error_type'],
        buckets: Buckets.llmLatency,
      }),
      ttft: m.histogram({
        name: 'gen_ai_client_time_to_first_token_seconds',
        help: 'Time from request to the first output token of a streamed GenAI response',
        labelNames: CALL_LABELS,
        buckets: Buckets.llmLatency,
      }),
      tps: m.histogram({
        name: 'gen_ai_client_output_tokens_per_second',
        help: 'Output tokens per second of a GenAI call',
        labelNames: CALL_LABELS,
        buckets: TOKENS_PER_SECOND,
      }),
      errors: m.counter({
        name: 'gen_ai_client_errors_total',
        help: 'GenAI calls that failed, by error type',
        labelNames: [...CALL_LABELS, 'error_type'],
      }),
    });
  }

  recordLlmCall(call: LlmCall): void {
    if (!this.metrics.enabled) return;
    // Validate everything first so bad input records nothing.
    const m = 'gen_ai_client_token_usage';
    if (call === null || typeof call !== 'object')
      throw new InvalidValueError(m, call, 'recordLlmCall needs an LlmCall object');
    text(m, call.provider, 'provider');
    text(m, call.model, 'model');
    text(m, call.operation, 'operation');
    nonNegative(m, call.inputTokens, 'inputTokens');
    nonNegative(m, call.outputTokens, 'outputTokens');
    nonNegative('gen_ai_client_operation_duration_seconds', call.durationSeconds, 'durationSeconds');
    if (call.timeToFirstTokenSeconds !== undefined)
      nonNegative('gen_ai_client_time_to_first_token_seconds', call.timeToFirstTokenSeconds, 'timeToFirstTokenSeconds');
    if (call.errorType !== undefined) text('gen_ai_client_errors_total', call.errorType, 'errorType');

    const base = {
      gen_ai_provider_name: call.provider,
      gen_ai_request_model: call.model,
      gen_ai_operation_name: call.operation,
    };
    const llm = this.llm();
    llm.tokens.observe({ ...base, gen_ai_token_type: 'input' }, call.inputTokens);
    llm.tokens.observe({ ...base, gen_ai_token_type: 'output' }, call.outputTokens);
    llm.duration.observe({ ...base, error_type: call.errorType ?? '' }, call.durationSeconds);
    if (call.timeToFirstTokenSeconds !== undefined) llm.ttft.observe(base, call.timeToFirstTokenSeconds);
    if (call.errorType !== undefined) llm.errors.inc({ ...base, error_type: call.errorType });
    else if (call.durationSeconds > 0 && call.outputTokens > 0) {
      // Generation speed excludes the wait for the first token when it is known.
      const genSeconds = call.durationSeconds - (call.timeToFirstTokenSeconds ?? 0);
      if (genSeconds > 0) llm.tps.observe(base, call.outputTokens / genSeconds);
    }
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
