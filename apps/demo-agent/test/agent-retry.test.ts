// The agent loop against a flaky provider (the seeded simulated one): transient errors are retried
// with backoff and Retry-After, permanent ones are not, the breaker opens and recovers, each
// attempt is its own `chat {model}` span, and the task error rate falls to the permanent rate.
import { createMetrics } from '@periscope/metrics';
import { startTracing } from '@periscope/tracing';
import { Agent, ATTEMPT_ATTRIBUTE, type AgentOptions, type TaskResult } from '../src/agent';
import { LlmError, type CallOptions, type ChatRequest, type ChatResult, type LlmProvider } from '../src/llm/provider';
import { SimulatedProvider } from '../src/llm/simulated';
import { createRng } from '../src/random';
import { createTools } from '../src/tools';

const tools = createTools({ knowledgeBase: { kind: 'none', search: async () => [] } });
const prompts = (n: number) => Array.from({ length: n }, (_, i) => `What is ${i + 3} * ${(i % 17) + 2}?`);

/** A provider of our own interface that fails on chosen attempts and otherwise asks the simulated one. */
class Flaky implements LlmProvider {
  readonly name = 'periscope.simulated';
  readonly defaultModel = 'sim-gpt-4o-mini';
  calls = 0;
  constructor(
    private readonly failure: (attempt: number) => LlmError | undefined,
    private readonly inner = new SimulatedProvider({ seed: 3, latencyScale: 0 }),
  ) {}
  chat(request: ChatRequest, options?: CallOptions): Promise<ChatResult> {
    return this.chatStream(request, () => undefined, options);
  }
  async chatStream(request: ChatRequest, onToken: (t: string) => void, options?: CallOptions): Promise<ChatResult> {
    this.calls++;
    const err = this.failure(options?.attempt ?? 1);
    if (err) throw err;
    return this.inner.chatStream(request, onToken, options);
  }
}

function agentWith(provider: LlmProvider, options: Partial<AgentOptions> = {}, waits: number[] = []) {
  const metrics = createMetrics();
  const agent = new Agent({
    provider,
    tools,
    metrics,
    clock: {
      random: createRng(1),
      sleep: async (ms) => {
        waits.push(ms);
      },
    },
    ...options,
  });
  return { agent, metrics, waits };
}

async function runAll(agent: Agent, list: string[]): Promise<TaskResult[]> {
  const out: TaskResult[] = [];
  for (const p of list) out.push(await agent.run(p)); // sequential: the seeded run is reproducible
  return out;
}

const errorType = (t: TaskResult) => t.error?.split(':')[0];

test('retries bring the task error rate down to the provider’s permanent error rate', async () => {
  const list = prompts(300);
  const flaky = () => new SimulatedProvider({ seed: 42, errorRate: 0.2, latencyScale: 0 });
  const noBreaker = { failureRatio: 1.01 };
  const without = await runAll(agentWith(flaky(), { retry: { maxAttempts: 1 }, breaker: noBreaker }).agent, list);
  const { agent, metrics, waits } = agentWith(flaky(), { breaker: noBreaker });
  const withRetries = await runAll(agent, list);

  const failed = (r: TaskResult[]) => r.filter((t) => t.status === 'error');
  expect(failed(without).length).toBeGreaterThan(60);
  // What is left fails for good: the simulated invalid requests, almost never an exhausted transient error.
  expect(failed(withRetries).length).toBeLessThan(failed(without).length / 2);
  const transientLeft = failed(withRetries).filter((t) => errorType(t) !== 'invalid_request');
  expect(transientLeft.length).toBeLessThanOrEqual(3);
  expect(failed(without).filter((t) => errorType(t) === 'invalid_request').length).toBeLessThanOrEqual(
    failed(withRetries).length,
  );
  // Retries happened, waited with jitter under the cap, and show in stats, results and metrics.
  expect(agent.stats.retries).toBeGreaterThan(20);
  expect(agent.stats.recoveredCalls).toBeGreaterThan(20);
  expect(withRetries.reduce((n, t) => n + t.retries, 0)).toBe(agent.stats.retries);
  expect(waits.length).toBe(agent.stats.retries);
  for (const w of waits) expect(w).toBeLessThanOrEqual(8000);
  expect(new Set(waits).size).toBeGreaterThan(10);
  const text = (await metrics.expose()).body;
  expect(text).toMatch(
    /periscope_agent_llm_retries_total\{provider="periscope.simulated",error_type="timeout"\} [1-9]/,
  );
  expect(agent.stats.toJSON().llmRetries).toMatchObject({ retries: agent.stats.retries, breaker: 'closed' });
});

test('permanent errors are not retried; Retry-After is waited; the deadline stops retrying', async () => {
  const permanent = new Flaky(() => new LlmError('bad request', 'invalid_request'));
  const p = agentWith(permanent);
  expect(await p.agent.run('What is 1 + 1?')).toMatchObject({ status: 'error', retries: 0 });
  expect(permanent.calls).toBe(1);

  const limited = new Flaky((n) =>
    n === 1 ? new LlmError('slow down', 'rate_limit_exceeded', { retryAfterMs: 1500 }) : undefined,
  );
  const r = agentWith(limited);
  // Two model calls (plan, answer), each rate-limited once.
  expect(await r.agent.run('What is 2 + 2?')).toMatchObject({ status: 'ok', retries: 2 });
  expect(r.waits).toHaveLength(2);
  for (const w of r.waits) expect(w).toBeGreaterThanOrEqual(1500);

  const late = new Flaky(() => new LlmError('slow down', 'rate_limit_exceeded', { retryAfterMs: 5000 }));
  const d = agentWith(late, { taskDeadlineMs: 3000, clock: { now: () => 0, sleep: async () => undefined } });
  const task = await d.agent.run('What is 3 + 3?');
  expect(task).toMatchObject({ status: 'error', retries: 0 });
  expect(task.error).toMatch(/^rate_limit_exceeded/);
  expect(late.calls).toBe(1);
});

test('the circuit breaker opens on a failing provider, fails fast, and closes after a good trial', async () => {
  let t = 0;
  let healthy = false;
  const provider = new Flaky(() => (healthy ? undefined : new LlmError('overloaded', 'server_error')));
  const { agent, metrics } = agentWith(provider, {
    retry: { maxAttempts: 2 },
    breaker: { windowSize: 4, minCalls: 4, failureRatio: 0.5, openMs: 1000 },
    clock: { now: () => t, sleep: async () => undefined, random: () => 0.5 },
  });
  await agent.run('What is 1 + 2?');
  await agent.run('What is 1 + 3?');
  expect(agent.stats.breaker).toBe('open');
  const before = provider.calls;
  const fast = await agent.run('What is 1 + 4?');
  expect(fast.error).toMatch(/^circuit_open/);
  expect(provider.calls).toBe(before); // not called at all
  t += 1000;
  await agent.run('What is 1 + 5?'); // the half-open trial fails: open again
  expect(provider.calls).toBe(before + 1);
  expect(agent.stats.breaker).toBe('open');
  healthy = true;
  t += 1000;
  expect(await agent.run('What is 1 + 6?')).toMatchObject({ status: 'ok' });
  expect(agent.stats.breaker).toBe('closed');
  const text = (await metrics.expose()).body;
  expect(text).toContain('periscope_agent_llm_circuit_state{provider="periscope.simulated",state="closed"} 1');
  expect(text).toMatch(/periscope_agent_llm_circuit_rejections_total\{provider="periscope.simulated"\} [1-9]/);
});

test('each attempt is its own chat span carrying its attempt number', async () => {
  const tracing = startTracing({ serviceName: 'agent-retry-test' });
  try {
    const provider = new Flaky((n) => (n < 3 ? new LlmError('busy', 'server_error') : undefined));
    const { agent } = agentWith(provider);
    const task = await agent.run('What is 6 * 7?', { id: 'retry-span-test' });
    expect(task).toMatchObject({ status: 'ok', retries: 4 }); // two model calls, each failing twice
    const [summary] = tracing.store!.recentTraces({ limit: 1 });
    const spans = tracing.store!.getTrace(summary.traceId)!.spans.filter((s) => s.name === 'chat sim-gpt-4o-mini');
    expect(spans.map((s) => s.attributes[ATTEMPT_ATTRIBUTE])).toEqual([1, 2, 3, 1, 2, 3]);
    expect(spans.filter((s) => s.attributes[ATTEMPT_ATTRIBUTE] !== 3).every((s) => s.status.code === 'ERROR')).toBe(
      true,
    );
  } finally {
    await tracing.shutdown();
  }
});
