// The agent: for each task, ask the model for a plan (tool calls), run the tools, give the
// results back, and let the model answer. Every step is measured.
import { randomUUID } from 'node:crypto';
import type { Logger } from '@periscope/core';
import type { Metrics } from '@periscope/metrics';
import { traceAgent, traceLlmCall, traceTool, recordError, llmErrorType } from '@periscope/tracing';
import { createAgentMetrics, type AgentMetrics } from './agent-metrics';
import {
  LlmError,
  type ChatMessage,
  type ChatRequest,
  type ChatResult,
  type LlmProvider,
  type ToolCall,
  type ToolSpec,
} from './llm/provider';
import {
  abortableSleep,
  CircuitBreaker,
  CircuitOpenError,
  DEFAULT_BREAKER,
  DEFAULT_RETRY_POLICY,
  withRetries,
  type BreakerOptions,
  type RetryPolicy,
} from './llm/resilience';
import type { Tool } from './tools';
import { costUsd } from './pricing';
import { AgentStats } from './stats';

export { AgentStats } from './stats';

export interface TaskResult {
  id: string;
  prompt: string;
  status: 'ok' | 'error';
  answer: string;
  error?: string;
  usage: { inputTokens: number; outputTokens: number };
  durationMs: number;
  iterations: number;
  /** Provider attempts that failed transiently and were tried again. */
  retries: number;
  /** Model round trips answered from the response cache. */
  cachedCalls: number;
  toolCalls: { name: string; status: 'ok' | 'error'; durationMs: number }[];
  model: string;
  costUsd: number;
  finishedAt: string;
}

export interface AgentOptions {
  provider: LlmProvider;
  tools: Map<string, Tool>;
  metrics: Metrics;
  model?: string;
  maxIterations?: number;
  /** Where task outcomes and failures are logged (inside the task's trace, so lines carry its ids). */
  logger?: Logger;
  /** Optional seam around each real LLM call (the demo caches responses here): return `call()`'s result or a stored one. */
  chat?: (request: ChatRequest, call: () => Promise<ChatResult>) => Promise<ChatResult>;
  /** Retries of transient provider errors. @default DEFAULT_RETRY_POLICY (4 attempts, 250 ms base, 8 s cap) */
  retry?: Partial<RetryPolicy>;
  /** The provider's circuit breaker. @default DEFAULT_BREAKER */
  breaker?: Partial<BreakerOptions>;
  /** No model attempt starts (and no retry wait begins) this long after a task started. @default 120000 */
  taskDeadlineMs?: number;
  /** Clock, randomness and waiting (tests pass instant ones). */
  clock?: { now?: () => number; random?: () => number; sleep?: (ms: number, signal?: AbortSignal) => Promise<void> };
}

/** Span attribute: which attempt of a model call a `chat {model}` span is (1 for the first). */
export const ATTEMPT_ATTRIBUTE = 'periscope.llm.attempt';

interface CallScope {
  signal: AbortSignal | undefined;
  /** this.now() value after which no attempt starts. */
  deadline: number;
  /** gen_ai.conversation.id: one conversation per task (the task id). */
  conversationId: string;
}

/** gen_ai.tool.type of the demo's tools: functions the agent runs itself. */
const TOOL_TYPE = 'function';

const SYSTEM_PROMPT = 'You are an operations assistant. Use the tools when they help, then answer briefly.';

/** gen_ai.agent.name of the demo's agent. */
export const AGENT_NAME = 'periscope-demo-agent';

export class Agent {
  readonly stats = new AgentStats();
  private readonly provider: LlmProvider;
  private readonly tools: Map<string, Tool>;
  private readonly model: string;
  private readonly maxIterations: number;
  private readonly chatSeam: NonNullable<AgentOptions['chat']>;
  private readonly logger: Logger | undefined;
  private readonly m: AgentMetrics;
  private readonly breaker: CircuitBreaker;
  private readonly retry: RetryPolicy;
  private readonly taskDeadlineMs: number;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(options: AgentOptions) {
    this.provider = options.provider;
    this.tools = options.tools;
    this.model = options.model ?? options.provider.defaultModel;
    this.maxIterations = options.maxIterations ?? 4;
    this.chatSeam = options.chat ?? ((_request, call) => call());
    this.logger = options.logger;
    this.m = createAgentMetrics(options.metrics);
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.taskDeadlineMs = options.taskDeadlineMs ?? 120_000;
    this.now = options.clock?.now ?? (() => performance.now());
    this.random = options.clock?.random ?? Math.random;
    this.sleep = options.clock?.sleep ?? abortableSleep;
    const provider = this.provider.name;
    this.breaker = new CircuitBreaker(provider, { ...DEFAULT_BREAKER, ...options.breaker }, this.now, (state) => {
      this.stats.breaker = state;
      this.m.breakerState(provider, state);
      this.logger?.warn(`LLM provider circuit breaker is now ${state}`, { 'gen_ai.provider.name': provider, state });
    });
    this.m.breakerState(provider, 'closed');
  }

  /** Runs one task as one trace: invoke_agent → chat {model} → execute_tool {tool}. */
  run(prompt: string, options: { signal?: AbortSignal; id?: string } = {}): Promise<TaskResult> {
    const id = options.id ?? randomUUID();
    return traceAgent(
      AGENT_NAME,
      async (span) => {
        span.setAttribute('periscope.task.id', id);
        const result = await this.runTask(id, prompt, options.signal);
        span.setAttributes({
          'gen_ai.usage.input_tokens': result.usage.inputTokens,
          'gen_ai.usage.output_tokens': result.usage.outputTokens,
          'periscope.agent.iterations': result.iterations,
        });
        const fields = {
          'periscope.task.id': id,
          status: result.status,
          duration_ms: Math.round(result.durationMs),
          iterations: result.iterations,
          input_tokens: result.usage.inputTokens,
          output_tokens: result.usage.outputTokens,
        };
        if (result.status === 'error') {
          recordError(span, new Error(result.error));
          this.logger?.warn('agent task failed', { ...fields, error: result.error });
        } else {
          this.logger?.debug('agent task finished', fields);
        }
        return result;
      },
      // The conventions require the provider (and want the model) on invoke_agent; one conversation per task.
      { id, provider: this.provider.name, model: this.model, conversationId: id },
    );
  }

  private async runTask(id: string, prompt: string, signal: AbortSignal | undefined): Promise<TaskResult> {
    const started = performance.now();
    const result: TaskResult = {
      id,
      prompt,
      status: 'ok',
      answer: '',
      usage: { inputTokens: 0, outputTokens: 0 },
      durationMs: 0,
      iterations: 0,
      retries: 0,
      cachedCalls: 0,
      toolCalls: [],
      model: this.model,
      costUsd: 0,
      finishedAt: '',
    };
    this.stats.inFlight++;
    this.m.inFlight.inc();
    try {
      await this.converse(prompt, result, { signal, deadline: this.now() + this.taskDeadlineMs, conversationId: id });
    } catch (err) {
      result.status = 'error';
      result.error = err instanceof LlmError ? `${err.type}: ${err.message}` : (err as Error).message;
    } finally {
      this.stats.inFlight--;
      this.m.inFlight.dec();
    }
    result.durationMs = performance.now() - started;
    result.finishedAt = new Date().toISOString();
    this.stats.recordTask(result.status, result.durationMs);
    this.m.tasks.inc({ status: result.status });
    this.m.taskDuration.observe({ status: result.status }, result.durationMs / 1000);
    this.m.iterations.observe(result.iterations);
    return result;
  }

  /** Model → tools → model … until the model answers without tool calls. */
  private async converse(prompt: string, result: TaskResult, call: CallScope): Promise<void> {
    const messages: ChatMessage[] = [
      { role: 'system', content: SYSTEM_PROMPT },
      { role: 'user', content: prompt },
    ];
    const toolSpecs = [...this.tools.values()].map((t) => t.spec);
    for (;;) {
      if (result.iterations >= this.maxIterations)
        throw new LlmError(`no answer after ${this.maxIterations} model calls`, 'max_iterations');
      result.iterations++;
      const { reply, cached } = await this.callModel(
        messages,
        result.iterations === 1 ? toolSpecs : undefined,
        result,
        call,
      );
      // A cached reply spent no tokens: usage and cost count real calls only.
      if (cached) result.cachedCalls++;
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
      // Tools run once each: a tool may have side effects, so a failed one is reported to the
      // model as its result and never retried here.
      for (const tc of reply.toolCalls) {
        messages.push({ role: 'tool', toolCallId: tc.id, content: await this.runTool(tc, result, call.signal) });
      }
    }
  }

  /** One model round trip, through the seam (the demo's response cache); `cached` when no call was made. */
  private async callModel(
    messages: ChatMessage[],
    tools: ToolSpec[] | undefined,
    result: TaskResult,
    call: CallScope,
  ): Promise<{ reply: ChatResult; cached: boolean }> {
    const request: ChatRequest = { model: this.model, messages: [...messages], tools };
    let called = false;
    const reply = await this.chatSeam(request, () => {
      called = true;
      return this.resilientCall(request, result, call);
    });
    if (!called) this.stats.cachedCalls++;
    return { reply, cached: !called };
  }

  /** The provider call with retries of transient errors, behind the provider's circuit breaker. */
  private async resilientCall(request: ChatRequest, result: TaskResult, call: CallScope): Promise<ChatResult> {
    const provider = this.provider.name;
    let retried = false;
    try {
      const reply = await withRetries(
        {
          policy: this.retry,
          breaker: this.breaker,
          deadline: call.deadline,
          now: this.now,
          random: this.random,
          sleep: this.sleep,
          signal: call.signal,
          onRetry: (attempt, err, delayMs) => {
            retried = true;
            result.retries++;
            this.stats.retries++;
            this.m.retries.inc({ provider, error_type: err.type });
            this.logger?.debug('retrying LLM call', { attempt, 'error.type': err.type, delay_ms: delayMs });
          },
        },
        (attempt) => this.instrumentedCall(request, attempt, call),
      );
      if (retried) this.stats.recoveredCalls++;
      return reply;
    } catch (err) {
      if (err instanceof CircuitOpenError) this.m.breakerRejections.inc({ provider });
      throw err;
    }
  }

  /** One provider attempt: a `chat {model}` span (with its attempt number), GenAI metrics, tokens and cost. */
  private async instrumentedCall(request: ChatRequest, attempt: number, call: CallScope): Promise<ChatResult> {
    const started = performance.now();
    const server = this.provider.server;
    const base = {
      provider: this.provider.name,
      model: this.model,
      operation: 'chat',
      serverAddress: server?.address,
      serverPort: server?.port,
    };
    try {
      const reply = await traceLlmCall(
        {
          ...base,
          // Every attempt streams (chatStream), so the span carries the time to the first chunk.
          stream: true,
          conversationId: call.conversationId,
          maxTokens: request.maxTokens,
          temperature: request.temperature,
          input: request.messages,
          attributes: { [ATTEMPT_ATTRIBUTE]: attempt },
          describe: (r: ChatResult) => ({
            responseModel: r.model,
            inputTokens: r.usage.inputTokens,
            outputTokens: r.usage.outputTokens,
            finishReasons: [r.finishReason],
            timeToFirstChunkSeconds: r.timeToFirstTokenSeconds,
            output: r.text || r.toolCalls,
          }),
        },
        () => this.provider.chatStream(request, () => undefined, { signal: call.signal, attempt }),
      );
      this.m.metrics.recordLlmCall({
        ...base,
        responseModel: reply.model,
        inputTokens: reply.usage.inputTokens,
        outputTokens: reply.usage.outputTokens,
        durationSeconds: (performance.now() - started) / 1000,
        timeToFirstChunkSeconds: reply.timeToFirstTokenSeconds,
      });
      this.stats.recordLlm(reply.model, reply.usage.inputTokens, reply.usage.outputTokens);
      this.m.cost.inc({ model: reply.model }, costUsd(reply.model, reply.usage.inputTokens, reply.usage.outputTokens));
      return reply;
    } catch (err) {
      // No token counts: a failed call's usage is unknown, and the conventions forbid reporting it.
      // error.type is the value the span got (LlmError.type, the provider's error type).
      this.m.metrics.recordLlmCall({
        ...base,
        durationSeconds: (performance.now() - started) / 1000,
        errorType: llmErrorType(err),
      });
      throw err;
    }
  }

  private async runTool(call: ToolCall, result: TaskResult, signal?: AbortSignal): Promise<string> {
    const tool = this.tools.get(call.name);
    const started = performance.now();
    let status: 'ok' | 'error' = 'ok';
    const output = await traceTool(
      call.name,
      async (span) => {
        try {
          if (!tool) throw new Error(`unknown tool '${call.name}'`);
          return await tool.run(call.arguments, signal);
        } catch (err) {
          // A failed tool is reported to the model as its result, as function-calling APIs expect.
          status = 'error';
          recordError(span, err);
          this.logger?.warn('tool call failed', { 'gen_ai.tool.name': call.name, 'gen_ai.tool.call.id': call.id, err });
          this.m.toolErrors.inc({ tool: call.name, error_type: (err as Error).name || 'Error' });
          return `error: ${(err as Error).message}`;
        }
      },
      { callId: call.id, type: TOOL_TYPE, description: tool?.spec.description, arguments: call.arguments },
    );
    const durationMs = performance.now() - started;
    this.m.toolCalls.inc({ tool: call.name, status });
    this.m.toolDuration.observe({ tool: call.name }, durationMs / 1000);
    result.toolCalls.push({ name: call.name, status, durationMs });
    return output;
  }
}
