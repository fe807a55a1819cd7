// Counters the /status provider and the CLI summary read. Bounded: latency lives in a fixed-size
// histogram and per-model figures in a map keyed by the (few) model names.
import { LatencyHistogram } from './latency';
import { costUsd } from './pricing';

export class AgentStats {
  done = 0;
  errors = 0;
  inFlight = 0;
  cachedCalls = 0;
  inputTokens = 0;
  outputTokens = 0;
  /** Provider attempts that failed transiently and were tried again. */
  retries = 0;
  /** Model calls that succeeded after at least one retry. */
  recoveredCalls = 0;
  readonly perModel = new Map<string, { calls: number; inputTokens: number; outputTokens: number; costUsd: number }>();
  readonly latency = new LatencyHistogram();
  /** The provider's circuit breaker state, for /status. */
  breaker = 'closed';

  recordLlm(model: string, inputTokens: number, outputTokens: number): void {
    this.inputTokens += inputTokens;
    this.outputTokens += outputTokens;
    const m = this.perModel.get(model) ?? { calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
    m.calls++;
    m.inputTokens += inputTokens;
    m.outputTokens += outputTokens;
    m.costUsd += costUsd(model, inputTokens, outputTokens);
    this.perModel.set(model, m);
  }

  recordTask(status: 'ok' | 'error', durationMs: number): void {
    this.done++;
    if (status === 'error') this.errors++;
    this.latency.record(durationMs);
  }

  get costUsd(): number {
    let c = 0;
    for (const m of this.perModel.values()) c += m.costUsd;
    return c;
  }

  /** Task latency quantile (0..1) in ms, within 5%. */
  percentileMs(q: number): number {
    return this.latency.percentile(q);
  }

  toJSON() {
    return {
      tasks: { done: this.done, errors: this.errors, inFlight: this.inFlight },
      tokens: { input: this.inputTokens, output: this.outputTokens },
      llmCallsFromCache: this.cachedCalls,
      llmRetries: { retries: this.retries, recoveredCalls: this.recoveredCalls, breaker: this.breaker },
      latencyMs: { p50: Math.round(this.percentileMs(0.5)), p95: Math.round(this.percentileMs(0.95)) },
      costUsd: Number(this.costUsd.toFixed(6)),
      models: Object.fromEntries(
        [...this.perModel].map(([k, v]) => [k, { ...v, costUsd: Number(v.costUsd.toFixed(6)) }]),
      ),
    };
  }
}
