// The demo agent's task loop (src/agent.ts: model → tools → model, retries behind a circuit
// breaker, the response cache, the knowledge base, GPU leases, the memory row) instrumented by
// hand to the coverage the demo has with Periscope: a span per task, model call, tool call, cache
// lookup and query; the same metric series; the same log lines. The app's parts (pool, caches, GPU
// pool) run with their own instrumentation off, as in the `off` configuration.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Cache } from '@periscope/cache';
import type { DbPool } from '@periscope/db-pool';
import type { GpuPool } from '@periscope/gpu-pool';
import type { TaskResult } from '../src/agent';
import type { Caches } from '../src/wiring';
import type { DemoConfig } from '../src/config';
import type { ChatMessage, ChatRequest, ChatResult, LlmProvider, ToolCall } from '../src/llm/provider';
import { inSpan, startHandInstruments, type HandInstruments } from './by-hand-instruments';

const load = createRequire(__filename);
const resilience = load('../dist/llm/resilience.js') as typeof import('../src/llm/resilience');
const { createTools } = load('../dist/tools/index.js') as typeof import('../src/tools');
const { PostgresKnowledgeBase, rememberTask } = load(
  '../dist/tools/pg-knowledge-base.js',
) as typeof import('../src/tools/pg-knowledge-base');
const { embedOnGpu, withLocalReranker } = load('../dist/observability.js') as typeof import('../src/observability');
const { costUsd } = load('../dist/pricing.js') as typeof import('../src/pricing');
const { AgentStats } = load('../dist/stats.js') as typeof import('../src/stats');
const { llmCacheKey, sha256Hex } = load('@periscope/cache') as typeof import('@periscope/cache');

const SYSTEM_PROMPT = 'You are an operations assistant. Use the tools when they help, then answer briefly.';
const AGENT = 'periscope-demo-agent';

export interface ByHandDeps {
  config: DemoConfig;
  provider: LlmProvider;
  pool: DbPool;
  caches: Caches;
  gpus: GpuPool;
}

/** A pool whose queries get a span, a duration and a count: what db-pool's instrumentation gives. */
function tracedPool(pool: DbPool, ins: HandInstruments): DbPool {
  const query = (text: string, values?: unknown[]) =>
    inSpan(ins.tracer, 'db.query', { 'db.system.name': 'postgresql' }, async () => {
      const started = performance.now();
      try {
        const result = await pool.query(text, values);
        ins.metrics.dbQueries.inc({ status: 'ok' });
        return result;
      } catch (err) {
        ins.metrics.dbQueries.inc({ status: 'error' });
        throw err;
      } finally {
        ins.metrics.dbDuration.observe((performance.now() - started) / 1000);
      }
    });
  // The knowledge base and the memory write call query() only.
  return { query } as unknown as DbPool;
}

/** getOrSet with a span, a hit/miss count and a duration: what the cache's instrumentation gives. */
function tracedGetOrSet<T>(cache: Cache, name: string, ins: HandInstruments) {
  return (key: string, load: () => Promise<T>): Promise<T> =>
    inSpan(ins.tracer, `cache getOrSet ${name}`, { 'periscope.cache.name': name }, async () => {
      const started = performance.now();
      let hit = true;
      const value = await cache.getOrSet(key, () => ((hit = false), load()));
      ins.metrics.cacheRequests.inc({ cache: name, result: hit ? 'hit' : 'miss' });
      ins.metrics.cacheDuration.observe({ cache: name }, (performance.now() - started) / 1000);
      return value;
    });
}

export function createByHandAgent(deps: ByHandDeps): {
  runTask(prompt: string): Promise<TaskResult>;
  spansKept(): Promise<number>;
  close(): Promise<void>;
} {
  const ins = startHandInstruments(Number(process.env.BENCH_HAND_RATIO ?? 0.1));
  const pool = tracedPool(deps.pool, ins);
  const embeddings = tracedGetOrSet<Float32Array>(deps.caches.embeddingCache, 'demo-embeddings', ins);
  const tools = createTools({
    knowledgeBase: withLocalReranker(new PostgresKnowledgeBase(pool), deps.gpus),
    embed: (text) => embeddings(sha256Hex(text), () => embedOnGpu(deps.gpus, text)),
  });
  const loop = new HandLoop(deps, ins, tools);
  return {
    async runTask(prompt) {
      const task = await loop.run(prompt);
      await rememberTask(pool, task).catch((err: unknown) => ins.logger.warn('could not write task memory', { err }));
      return task;
    },
    spansKept: () => ins.exported(),
    close: () => ins.close(),
  };
}

type Tools = ReturnType<typeof createTools>;

class HandLoop {
  readonly stats = new AgentStats();
  private readonly breaker: InstanceType<typeof resilience.CircuitBreaker>;
  private readonly chat: (key: string, load: () => Promise<ChatResult>) => Promise<ChatResult>;
  private readonly model: string;

  constructor(
    private readonly deps: ByHandDeps,
    private readonly ins: HandInstruments,
    private readonly tools: Tools,
  ) {
    this.model = deps.provider.defaultModel;
    this.breaker = new resilience.CircuitBreaker(deps.provider.name, resilience.DEFAULT_BREAKER);
    this.chat = tracedGetOrSet<ChatResult>(deps.caches.llmCache, 'demo-llm', ins);
  }

  run(prompt: string): Promise<TaskResult> {
    const id = randomUUID();
    const attrs = { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': AGENT, 'periscope.task.id': id };
    return inSpan(this.ins.tracer, `invoke_agent ${AGENT}`, attrs, async (span) => {
      const result = await this.runTask(id, prompt);
      span.setAttributes({
        'gen_ai.usage.input_tokens': result.usage.inputTokens,
        'gen_ai.usage.output_tokens': result.usage.outputTokens,
        'periscope.agent.iterations': result.iterations,
      });
      const fields = { 'periscope.task.id': id, status: result.status, duration_ms: Math.round(result.durationMs) };
      if (result.status === 'error') {
        span.setStatus({ code: 2, message: result.error });
        this.ins.logger.warn('agent task failed', { ...fields, error: result.error });
      } else this.ins.logger.debug('agent task finished', { ...fields, iterations: result.iterations });
      return result;
    });
  }

  private async runTask(id: string, prompt: string): Promise<TaskResult> {
    const started = performance.now();
    const result: TaskResult = {
      ...{ id, prompt, status: 'ok', answer: '', durationMs: 0, iterations: 0, retries: 0, cachedCalls: 0 },
      ...{ usage: { inputTokens: 0, outputTokens: 0 }, toolCalls: [], model: this.model, costUsd: 0, finishedAt: '' },
    };
    const m = this.ins.metrics;
    this.stats.inFlight++;
    m.inFlight.inc();
    try {
      await this.converse(prompt, result);
    } catch (err) {
      result.status = 'error';
      result.error = (err as Error).message;
    } finally {
      this.stats.inFlight--;
      m.inFlight.dec();
    }
    result.durationMs = performance.now() - started;
    result.finishedAt = new Date().toISOString();
    this.stats.recordTask(result.status, result.durationMs);
    m.tasks.inc({ status: result.status });
    m.taskDuration.observe({ status: result.status }, result.durationMs / 1000);
    m.iterations.observe(result.iterations);
    return result;
  }

  private async converse(prompt: string, result: TaskResult): Promise<void> {
    const messages: ChatMessage[] = [
      { role: 'system', content: SYSTEM_PROMPT },
      { role: 'user', content: prompt },
    ];
    const toolSpecs = [...this.tools.values()].map((t) => t.spec);
    for (;;) {
      if (result.iterations >= 4) throw new Error('no answer after 4 model calls');
      result.iterations++;
      const request: ChatRequest = {
        model: this.model,
        messages: [...messages],
        tools: result.iterations === 1 ? toolSpecs : undefined,
      };
      let called = false;
      const reply = await this.chat(this.cacheKey(request), () => ((called = true), this.resilientCall(request)));
      if (!called) result.cachedCalls++;
      else {
        result.usage.inputTokens += reply.usage.inputTokens;
        result.usage.outputTokens += reply.usage.outputTokens;
        result.costUsd += costUsd(reply.model, reply.usage.inputTokens, reply.usage.outputTokens);
      }
      if (reply.toolCalls.length === 0) {
        result.answer = reply.text;
        return;
      }
      messages.push({ role: 'assistant', content: reply.text, toolCalls: reply.toolCalls });
      for (const tc of reply.toolCalls)
        messages.push({ role: 'tool', toolCallId: tc.id, content: await this.runTool(tc, result) });
    }
  }

  private cacheKey(request: ChatRequest): string {
    const { provider, config } = this.deps;
    return llmCacheKey({
      model: request.model ?? provider.defaultModel,
      params: { provider: provider.name, seed: config.seed, tools: request.tools?.map((t) => t.name) },
      messages: request.messages,
    });
  }

  private resilientCall(request: ChatRequest): Promise<ChatResult> {
    return resilience.withRetries(
      {
        policy: resilience.DEFAULT_RETRY_POLICY,
        breaker: this.breaker,
        deadline: performance.now() + 120_000,
        now: () => performance.now(),
        random: Math.random,
        sleep: resilience.abortableSleep,
      },
      (attempt) => this.instrumentedCall(request, attempt),
    );
  }

  /** One attempt: a `chat {model}` span with the GenAI attributes, the GenAI metrics, the cost. */
  private instrumentedCall(request: ChatRequest, attempt: number): Promise<ChatResult> {
    const provider = this.deps.provider;
    const labels = {
      gen_ai_provider_name: provider.name,
      gen_ai_request_model: this.model,
      gen_ai_operation_name: 'chat',
    };
    const attrs = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': provider.name };
    return inSpan(
      this.ins.tracer,
      `chat ${this.model}`,
      { ...attrs, 'periscope.llm.attempt': attempt },
      async (span) => {
        const started = performance.now();
        const reply = await provider.chatStream(request, () => undefined, { attempt });
        span.setAttributes({
          'gen_ai.request.model': this.model,
          'gen_ai.response.model': reply.model,
          'gen_ai.usage.input_tokens': reply.usage.inputTokens,
          'gen_ai.usage.output_tokens': reply.usage.outputTokens,
          'gen_ai.response.finish_reasons': reply.finishReason,
        });
        const m = this.ins.metrics;
        const base = { ...labels, gen_ai_response_model: reply.model };
        m.llmDuration.observe({ ...base, error_type: '' }, (performance.now() - started) / 1000);
        m.tokens.observe({ ...base, gen_ai_token_type: 'input' }, reply.usage.inputTokens);
        m.tokens.observe({ ...base, gen_ai_token_type: 'output' }, reply.usage.outputTokens);
        this.stats.recordLlm(reply.model, reply.usage.inputTokens, reply.usage.outputTokens);
        m.cost.inc({ model: reply.model }, costUsd(reply.model, reply.usage.inputTokens, reply.usage.outputTokens));
        return reply;
      },
    );
  }

  private async runTool(call: ToolCall, result: TaskResult): Promise<string> {
    const tool = this.tools.get(call.name);
    const started = performance.now();
    let status: 'ok' | 'error' = 'ok';
    const attrs = { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': call.name };
    const output = await inSpan(this.ins.tracer, `execute_tool ${call.name}`, attrs, async (span) => {
      try {
        if (!tool) throw new Error(`unknown tool '${call.name}'`);
        return await tool.run(call.arguments);
      } catch (err) {
        status = 'error';
        span.recordException(err as Error);
        this.ins.logger.warn('tool call failed', { 'gen_ai.tool.name': call.name, err: (err as Error).message });
        return `error: ${(err as Error).message}`;
      }
    });
    const durationMs = performance.now() - started;
    this.ins.metrics.toolCalls.inc({ tool: call.name, status });
    this.ins.metrics.toolDuration.observe({ tool: call.name }, durationMs / 1000);
    result.toolCalls.push({ name: call.name, status, durationMs });
    return output;
  }
}
