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
const base = {
  gen_ai_provider_name: 'openai',
  gen_ai_request_model: 'gpt-4o',
  gen_ai_operation_name: 'chat',
  gen_ai_response_model: '',
  server_address: '',
  server_port: '',
};

describe('GenAI metrics', () => {
  test('bucket presets follow the OpenTelemetry GenAI advice', () => {
    expect(Buckets.llmLatency[0]).toBe(0.01);
    expect(Buckets.llmLatency[Buckets.llmLatency.length - 1]).toBe(81.92);
    expect(Buckets.llmLatency.every((b, i) => i === 0 || b === Buckets.llmLatency[i - 1] * 2)).toBe(true);
    expect(Buckets.tokens[0]).toBe(1);
    expect(Buckets.tokens[Buckets.tokens.length - 1]).toBe(67108864);
    expect(Buckets.tokens.every((b, i) => i === 0 || b === Buckets.tokens[i - 1] * 4)).toBe(true);
  });

  test('recordLlmCall records token usage by type, duration and time to first chunk under the spec names', () => {
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
    expect(duration[0].labels).toEqual({ ...base, error_type: '' });
    expect(duration[0].sum).toBe(3.2);
    expect(duration[0].buckets.find((b) => b.le === 5.12)!.count).toBe(1);
    expect(duration[0].buckets.find((b) => b.le === 2.56)!.count).toBe(0);
    // The deprecated timeToFirstTokenSeconds feeds the spec's time-to-first-chunk metric.
    expect(get<Hist>(m, 'gen_ai_client_operation_time_to_first_chunk_seconds')[0].sum).toBe(0.2);
    const names = m.toJSON().map((f) => f.name);
    for (const gone of [
      'gen_ai_client_time_to_first_token_seconds',
      'gen_ai_client_output_tokens_per_second',
      'gen_ai_client_errors_total',
    ])
      expect(names).not.toContain(gone);
  });

  test('streaming calls record time to first chunk and each time per output chunk; response model and server are labels', () => {
    const m = createMetrics();
    m.recordLlmCall({
      provider: 'openai',
      model: 'gpt-4o',
      operation: 'chat',
      responseModel: 'gpt-4o-2024-08-06',
      serverAddress: 'api.openai.com',
      serverPort: 443,
      inputTokens: 10,
      outputTokens: 3,
      durationSeconds: 1,
      timeToFirstChunkSeconds: 0.5,
      outputChunkSeconds: [0.02, 0.03],
    });
    const labels = {
      ...base,
      gen_ai_response_model: 'gpt-4o-2024-08-06',
      server_address: 'api.openai.com',
      server_port: '443',
    };
    const ttfc = get<Hist>(m, 'gen_ai_client_operation_time_to_first_chunk_seconds');
    expect(ttfc.map((s) => [s.labels, s.count, s.sum])).toEqual([[labels, 1, 0.5]]);
    const tpoc = get<Hist>(m, 'gen_ai_client_operation_time_per_output_chunk_seconds');
    expect(tpoc.map((s) => [s.labels, s.count])).toEqual([[labels, 2]]);
    expect(tpoc[0].sum).toBeCloseTo(0.05, 9);
    // A non-streaming call records neither.
    const plain = createMetrics();
    plain.recordLlmCall({ ...call, timeToFirstTokenSeconds: undefined });
    expect(get(plain, 'gen_ai_client_operation_time_to_first_chunk_seconds')).toEqual([]);
    expect(get(plain, 'gen_ai_client_operation_time_per_output_chunk_seconds')).toEqual([]);
  });

  test('a failed call carries error_type on the duration and records no token usage when counts are unknown', () => {
    const m = createMetrics();
    m.recordLlmCall({ ...call, inputTokens: undefined, outputTokens: undefined, errorType: 'rate_limit' });
    m.recordLlmCall({ ...call, inputTokens: 0, outputTokens: 0, errorType: 'rate_limit' });
    m.recordLlmCall({ ...call, inputTokens: 0, outputTokens: 0, errorType: 'timeout' });
    expect(get<Hist>(m, 'gen_ai_client_operation_duration_seconds').map((s) => [s.labels.error_type, s.count])).toEqual(
      [
        ['rate_limit', 2],
        ['timeout', 1],
      ],
    );
    expect(get<Hist>(m, 'gen_ai_client_token_usage')).toEqual([]);
    // A failed call that did report counts (a stream cut after some output) records them.
    m.recordLlmCall({ ...call, inputTokens: 50, outputTokens: 7, errorType: 'timeout' });
    expect(get<Hist>(m, 'gen_ai_client_token_usage').map((s) => s.sum)).toEqual([50, 7]);
  });

  test('bad input throws InvalidValueError naming the field and records nothing', () => {
    const m = createMetrics();
    expect(() => m.recordLlmCall({ ...call, outputTokens: -1 })).toThrow(InvalidValueError);
    expect(() => m.recordLlmCall({ ...call, durationSeconds: NaN })).toThrow(
      /durationSeconds must be a finite number >= 0/,
    );
    expect(() => m.recordLlmCall({ ...call, model: '' })).toThrow(/model must be a non-empty string/);
    expect(() => m.recordLlmCall({ ...call, outputChunkSeconds: [0.1, -1] })).toThrow(/outputChunkSeconds/);
    expect(() => m.recordLlmCall({ ...call, serverAddress: 'h', serverPort: 0 })).toThrow(/serverPort/);
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
