import { Buckets, createMetrics, InvalidValueError, Metrics } from '../src';

type Hist = {
  labels: Record<string, string>;
  buckets: Array<{ le: number; count: number }>;
  sum: number;
  count: number;
};
function get<T>(m: Metrics, name: string): T[] {
  return (m.toJSON().find((s) => s.name === name)?.series ?? []) as T[];
}

const call = {
  provider: 'openai',
  model: 'gpt-4o',
  operation: 'chat',
  inputTokens: 1200,
  outputTokens: 300,
  durationSeconds: 3.2,
  timeToFirstTokenSeconds: 0.2,
};
const base = { gen_ai_provider_name: 'openai', gen_ai_request_model: 'gpt-4o', gen_ai_operation_name: 'chat' };

describe('GenAI metrics', () => {
  test('bucket presets follow the OpenTelemetry GenAI advice', () => {
    expect(Buckets.llmLatency[0]).toBe(0.01);
    expect(Buckets.llmLatency[Buckets.llmLatency.length - 1]).toBe(81.92);
    expect(Buckets.llmLatency.every((b, i) => i === 0 || b === Buckets.llmLatency[i - 1] * 2)).toBe(true);
    expect(Buckets.tokens[0]).toBe(1);
    expect(Buckets.tokens[Buckets.tokens.length - 1]).toBe(67108864);
    expect(Buckets.tokens.every((b, i) => i === 0 || b === Buckets.tokens[i - 1] * 4)).toBe(true);
  });

  test('recordLlmCall records token usage by type, duration, time to first token and output speed', () => {
    const m = createMetrics();
    m.recordLlmCall(call);
    const tokens = get<Hist>(m, 'gen_ai_client_token_usage');
    expect(tokens.map((s) => [s.labels.gen_ai_token_type, s.sum])).toEqual([
      ['input', 1200],
      ['output', 300],
    ]);
    expect(tokens[0].labels).toEqual({ ...base, gen_ai_token_type: 'input' });
    const duration = get<Hist>(m, 'gen_ai_client_operation_duration_seconds');
    expect(duration).toHaveLength(1);
    expect(duration[0].sum).toBe(3.2);
    expect(duration[0].buckets.find((b) => b.le === 5.12)!.count).toBe(1);
    expect(duration[0].buckets.find((b) => b.le === 2.56)!.count).toBe(0);
    expect(get<Hist>(m, 'gen_ai_client_time_to_first_token_seconds')[0].sum).toBe(0.2);
    // 300 tokens over the 3.0 s after the first token.
    expect(get<Hist>(m, 'gen_ai_client_output_tokens_per_second')[0].sum).toBeCloseTo(100, 9);
    expect(get(m, 'gen_ai_client_errors_total')).toEqual([]);
  });

  test('a failed call is counted by error type and its duration carries error_type', () => {
    const m = createMetrics();
    m.recordLlmCall({ ...call, outputTokens: 0, errorType: 'rate_limited' });
    m.recordLlmCall({ ...call, outputTokens: 0, errorType: 'rate_limited' });
    m.recordLlmCall({ ...call, outputTokens: 0, errorType: 'timeout' });
    expect(get(m, 'gen_ai_client_errors_total')).toEqual([
      { labels: { ...base, error_type: 'rate_limited' }, value: 2 },
      { labels: { ...base, error_type: 'timeout' }, value: 1 },
    ]);
    expect(get<Hist>(m, 'gen_ai_client_operation_duration_seconds').map((s) => [s.labels.error_type, s.count])).toEqual(
      [
        ['rate_limited', 2],
        ['timeout', 1],
      ],
    );
    expect(get<Hist>(m, 'gen_ai_client_output_tokens_per_second')).toEqual([]);
  });

  test('bad input throws InvalidValueError naming the field and records nothing', () => {
    const m = createMetrics();
    expect(() => m.recordLlmCall({ ...call, outputTokens: -1 })).toThrow(InvalidValueError);
    expect(() => m.recordLlmCall({ ...call, durationSeconds: NaN })).toThrow(
      /durationSeconds must be a finite number >= 0/,
    );
    expect(() => m.recordLlmCall({ ...call, model: '' })).toThrow(/model must be a non-empty string/);
    expect(get<Hist>(m, 'gen_ai_client_token_usage')).toEqual([]);
    expect(get<Hist>(m, 'gen_ai_client_operation_duration_seconds')).toEqual([]);
  });

  test('model throughput, GPU utilization and memory, cache hit ratio', async () => {
    const m = createMetrics();
    m.recordModelThroughput({ model: 'embedder', items: 512, seconds: 2 });
    m.recordModelThroughput({ model: 'embedder', items: 100, seconds: 1 });
    m.setGpuStats({ gpu: 'GPU-0', utilization: 0.75, memoryUsedBytes: 4e9, memoryTotalBytes: 16e9 });
    for (const hit of [true, true, false, true]) m.recordCacheLookup({ cache: 'llm', hit });
    expect(get(m, 'periscope_ml_model_items_total')).toEqual([{ labels: { model: 'embedder' }, value: 612 }]);
    expect(get(m, 'periscope_ml_model_throughput_items_per_second')).toEqual([
      { labels: { model: 'embedder' }, value: 100 },
    ]);
    expect(get(m, 'periscope_ml_gpu_utilization_ratio')).toEqual([{ labels: { gpu: 'GPU-0' }, value: 0.75 }]);
    expect(get(m, 'periscope_ml_gpu_memory_used_bytes')).toEqual([{ labels: { gpu: 'GPU-0' }, value: 4e9 }]);
    expect(get(m, 'periscope_ml_cache_hit_ratio')).toEqual([{ labels: { cache: 'llm' }, value: 0.75 }]);
    expect(get(m, 'periscope_ml_cache_requests_total')).toEqual([
      { labels: { cache: 'llm', result: 'hit' }, value: 3 },
      { labels: { cache: 'llm', result: 'miss' }, value: 1 },
    ]);
    expect(() => m.setGpuStats({ gpu: 'GPU-0', utilization: 75, memoryUsedBytes: 0, memoryTotalBytes: 0 })).toThrow(
      /utilization must be a ratio between 0 and 1/,
    );
    expect(() => m.recordModelThroughput({ model: 'x', items: 1, seconds: 0 })).toThrow(InvalidValueError);
    expect(get(m, 'periscope_ml_gpu_utilization_ratio')).toEqual([{ labels: { gpu: 'GPU-0' }, value: 0.75 }]);
    // No LLM call recorded: no empty gen_ai families in the exposition.
    expect((await m.expose()).body).not.toContain('gen_ai_');
  });
});
