// recordLlmCall() keeps the series of a call's label set bound. What a user relies on: every call
// still lands in its own series, past the bound set's size too (hostile or many model names),
// and a family gets no series that no call observed (no zero-count time-to-first-chunk series
// for non-streaming calls, no duration series without an error for a model that only failed).
import { createMetrics, type Metrics } from '../src';

type Hist = { labels: Record<string, string>; count: number; sum: number };
const series = (m: Metrics, name: string) => (m.toJSON().find((s) => s.name === name)?.series ?? []) as Hist[];

describe('GenAI call series', () => {
  it('each of 600 model names gets exactly its own calls, across the bound-set limit', () => {
    const m = createMetrics({ env: {}, collectDefaultMetrics: false });
    for (let round = 0; round < 3; round++)
      for (let i = 0; i < 600; i++)
        m.recordLlmCall({ provider: 'p', model: `model-${i}`, operation: 'chat', durationSeconds: 1, inputTokens: i });
    const durations = series(m, 'gen_ai_client_operation_duration_seconds');
    expect(durations).toHaveLength(600);
    for (const d of durations) expect(d).toMatchObject({ count: 3, sum: 3 });
    const input = series(m, 'gen_ai_client_token_usage').filter((s) => s.labels.gen_ai_token_type === 'input');
    expect(input.find((s) => s.labels.gen_ai_request_model === 'model-7')).toMatchObject({ count: 3, sum: 21 });
  });

  it('label sets that only differ in where their text splits stay apart', () => {
    const m = createMetrics({ env: {}, collectDefaultMetrics: false });
    m.recordLlmCall({ provider: 'a:b', model: 'c', operation: 'chat', durationSeconds: 1 });
    m.recordLlmCall({ provider: 'a', model: 'b:c', operation: 'chat', durationSeconds: 2 });
    m.recordLlmCall({ provider: 'a', model: 'b:c', operation: 'chat', serverAddress: 'h', durationSeconds: 4 });
    const sums = series(m, 'gen_ai_client_operation_duration_seconds').map((s) => s.sum);
    expect(sums).toEqual([1, 2, 4]);
  });

  it('a family gets only the series calls observed', () => {
    const m = createMetrics({ env: {}, collectDefaultMetrics: false });
    m.recordLlmCall({ provider: 'p', model: 'x', operation: 'chat', durationSeconds: 1 });
    m.recordLlmCall({ provider: 'p', model: 'y', operation: 'chat', durationSeconds: 1, errorType: 'timeout' });
    m.recordLlmCall({ provider: 'p', model: 'y', operation: 'chat', durationSeconds: 1, errorType: 'timeout' });
    expect(series(m, 'gen_ai_client_operation_time_to_first_chunk_seconds')).toHaveLength(0);
    expect(series(m, 'gen_ai_client_token_usage')).toHaveLength(0);
    const durations = series(m, 'gen_ai_client_operation_duration_seconds').map((s) => [
      s.labels.gen_ai_request_model,
      s.labels.error_type,
      s.count,
    ]);
    expect(durations).toEqual([
      ['x', '', 1],
      ['y', 'timeout', 2],
    ]);
    m.recordLlmCall({
      provider: 'p',
      model: 'x',
      operation: 'chat',
      durationSeconds: 1,
      outputChunkSeconds: [0.1, 0.2],
    });
    expect(series(m, 'gen_ai_client_operation_time_per_output_chunk_seconds')).toMatchObject([{ count: 2 }]);
  });

  it('reset() zeroes the bound series and later calls still count in them', () => {
    const m = createMetrics({ env: {}, collectDefaultMetrics: false });
    m.recordLlmCall({ provider: 'p', model: 'x', operation: 'chat', durationSeconds: 1 });
    m.reset();
    m.recordLlmCall({ provider: 'p', model: 'x', operation: 'chat', durationSeconds: 2 });
    expect(series(m, 'gen_ai_client_operation_duration_seconds')).toMatchObject([{ count: 1, sum: 2 }]);
  });
});
