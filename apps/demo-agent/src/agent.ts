// The agent: for each task, ask the model for a plan (tool calls), run the tools, give the
// results back, and let the model answer. Every step is measured.
import { randomUUID } from 'node:crypto';
import type { Metrics } from '@periscope/metrics';
import { Buckets } from '@periscope/metrics';
import { traceAgent, traceLlmCall, traceTool, recordError } from '@periscope/tracing';
import {
  LlmError,
  type ChatMessage,
  type ChatRequest,
  type ChatResult,
  type LlmProvider,
  type ToolCall,
  type ToolSpec,
} from './llm/provider';
import type { Tool } from './tools';
import { costUsd } from './pricing';

export interface TaskResult {
  id: string;
  prompt: string;
  status: 'ok' | 'error';
  answer: string;
  error?: string;
  usage: { inputTokens: number; outputTokens: number };
  durationMs: number;
  iterations: number;
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
  logger?: AgentLogger;
  /** Optional seam around each real LLM call (the demo caches responses here): return `call()`'s result or a stored one. */
  chat?: (request: ChatRequest, call: () => Promise<ChatResult>) => Promise<ChatResult>;
}

/** The logger methods the agent uses; a @periscope/logging or winston logger fits. */
export interface AgentLogger {
  debug(message: string, fields?: Record<string, unknown>): unknown;
  warn(message: string, fields?: Record<string, unknown>): unknown;
}

const SYSTEM_PROMPT = 'You are an operations assistant. Use the tools when they help, then answer briefly.';

/** Counters the /status provider and the CLI summary read. */
export class AgentStats {
  done = 0;
  errors = 0;
  inFlight = 0;
  cachedCalls = 0;
  inputTokens = 0;
  outputTokens = 0;
  readonly perModel = new Map<string, { calls: number; inputTokens: number; outputTokens: number; costUsd: number }>();
  readonly durationsMs: number[] = [];

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

  get costUsd(): number {
    let c = 0;
    for (const m of this.perModel.values()) c += m.costUsd;
    return c;
  }

  percentileMs(q: number): number {
    if (this.durationsMs.length === 0) return 0;
    const s = [...this.durationsMs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  }

  toJSON() {
    return {
      tasks: { done: this.done, errors: this.errors, inFlight: this.inFlight },
      tokens: { input: this.inputTokens, output: this.outputTokens },
      llmCallsFromCache: this.cachedCalls,
      latencyMs: { p50: this.percentileMs(0.5), p95: this.percentileMs(0.95) },
      costUsd: Number(this.costUsd.toFixed(6)),
      models: Object.fromEntries(
        [...this.perModel].map(([k, v]) => [k, { ...v, costUsd: Number(v.costUsd.toFixed(6)) }]),
      ),
    };
  }
}

/** gen_ai.agent.name of the demo's agent. */
export const AGENT_NAME = 'periscope-demo-agent';

export class Agent {
  readonly stats = new AgentStats();
  private readonly provider: LlmProvider;
  private readonly tools: Map<string, Tool>;
  private readonly model: string;
  private readonly maxIterations: number;
  private readonly chatSeam: NonNullable<AgentOptions['chat']>;
  private readonly logger: AgentLogger | undefined;
  private readonly m;

  constructor(options: AgentOptions) {
    this.provider = options.provider;
    this.tools = options.tools;
    this.model = options.model ?? options.provider.defaultModel;
    this.maxIterations = options.maxIterations ?? 4;
    this.chatSeam = options.chat ?? ((_request, call) => call());
    this.logger = options.logger;
    const metrics = options.metrics;
    this.m = {
      metrics,
      tasks: metrics.counter({
        name: 'periscope_agent_tasks_total',
        help: 'Agent tasks finished, by outcome',
        labelNames: ['status'] as const,
      }),
      taskDuration: metrics.histogram({
        name: 'periscope_agent_task_duration_seconds',
        help: 'Agent task duration',
        labelNames: ['status'] as const,
        buckets: Buckets.llmLatency,
      }),
      inFlight: metrics.gauge({ name: 'periscope_agent_tasks_in_flight', help: 'Agent tasks running now' }),
      iterations: metrics.histogram({
        name: 'periscope_agent_iterations',
        help: 'Model round trips per agent task',
        buckets: [1, 2, 3, 4, 5, 8],
      }),
      toolCalls: metrics.counter({
        name: 'periscope_agent_tool_calls_total',
        help: 'Tool calls, by tool and outcome',
        labelNames: ['tool', 'status'] as const,
      }),
      toolErrors: metrics.counter({
        name: 'periscope_agent_tool_errors_total',
        help: 'Tool calls that failed, by tool and error type',
        labelNames: ['tool', 'error_type'] as const,
      }),
      toolDuration: metrics.histogram({
        name: 'periscope_agent_tool_duration_seconds',
        help: 'Tool call duration, by tool',
        labelNames: ['tool'] as const,
        buckets: Buckets.latency,
      }),
      cost: metrics.counter({
        name: 'periscope_agent_llm_cost_usd_total',
        help: 'Simulated LLM cost in USD, by model (price table in pricing.ts)',
        labelNames: ['model'] as const,
      }),
    };
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
      { id },
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
      cachedCalls: 0,
      toolCalls: [],
      model: this.model,
      costUsd: 0,
      finishedAt: '',
    };
    this.stats.inFlight++;
    this.m.inFlight.inc();
    try {
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
          signal,
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
          break;
        }
        messages.push({ role: 'assistant', content: reply.text, toolCalls: reply.toolCalls });
        for (const call of reply.toolCalls) {
          messages.push({ role: 'tool', toolCallId: call.id, content: await this.runTool(call, result, signal) });
        }
      }
    } catch (err) {
      result.status = 'error';
      result.error = err instanceof LlmError ? `${err.type}: ${err.message}` : (err as Error).message;
    } finally {
      this.stats.inFlight--;
      this.m.inFlight.dec();
    }
    result.durationMs = performance.now() - started;
    result.finishedAt = new Date().toISOString();
    this.stats.done++;
    if (result.status === 'error') this.stats.errors++;
    this.stats.durationsMs.push(result.durationMs);
    this.m.tasks.inc({ status: result.status });
    this.m.taskDuration.observe({ status: result.status }, result.durationMs / 1000);
    this.m.iterations.observe(result.iterations);
    return result;
  }

  /** One model round trip, through the seam (the demo's response cache); `cached` when no call was made. */
  private async callModel(
    messages: ChatMessage[],
    tools: ToolSpec[] | undefined,
    signal?: AbortSignal,
  ): Promise<{ reply: ChatResult; cached: boolean }> {
    const request: ChatRequest = { model: this.model, messages: [...messages], tools };
    let called = false;
    const reply = await this.chatSeam(request, () => {
      called = true;
      return this.instrumentedCall(request, signal);
    });
    if (!called) this.stats.cachedCalls++;
    return { reply, cached: !called };
  }

  /** A real provider call: a `chat {model}` span, GenAI metrics, tokens and cost. */
  private async instrumentedCall(request: ChatRequest, signal?: AbortSignal): Promise<ChatResult> {
    const started = performance.now();
    const base = { provider: this.provider.name, model: this.model, operation: 'chat' };
    try {
      const reply = await traceLlmCall(
        {
          ...base,
          input: request.messages,
          describe: (r: ChatResult) => ({
            responseModel: r.model,
            inputTokens: r.usage.inputTokens,
            outputTokens: r.usage.outputTokens,
            finishReasons: [r.finishReason],
            output: r.text || r.toolCalls,
          }),
        },
        () => this.provider.chatStream(request, () => undefined, { signal }),
      );
      this.m.metrics.recordLlmCall({
        ...base,
        inputTokens: reply.usage.inputTokens,
        outputTokens: reply.usage.outputTokens,
        durationSeconds: (performance.now() - started) / 1000,
        timeToFirstTokenSeconds: reply.timeToFirstTokenSeconds,
      });
      this.stats.recordLlm(reply.model, reply.usage.inputTokens, reply.usage.outputTokens);
      this.m.cost.inc({ model: reply.model }, costUsd(reply.model, reply.usage.inputTokens, reply.usage.outputTokens));
      return reply;
    } catch (err) {
      this.m.metrics.recordLlmCall({
        ...base,
        inputTokens: 0,
        outputTokens: 0,
        durationSeconds: (performance.now() - started) / 1000,
        errorType: err instanceof LlmError ? err.type : (err as Error).name,
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
      { callId: call.id, arguments: call.arguments },
    );
    const durationMs = performance.now() - started;
    this.m.toolCalls.inc({ tool: call.name, status });
    this.m.toolDuration.observe({ tool: call.name }, durationMs / 1000);
    result.toolCalls.push({ name: call.name, status, durationMs });
    return output;
  }
}
