// A deterministic simulated LLM: the same seed, prompt and conversation give the same plan,
// tokens and latency. Latency and token counts are drawn from log-normal distributions shaped
// like hosted chat models (time to first token ~0.2 s, ~100 output tokens/s).
import {
  LlmError,
  type CallOptions,
  type ChatMessage,
  type ChatRequest,
  type ChatResult,
  type LlmProvider,
  type ToolCall,
} from './provider';
import { createRng, hashString, type Rng } from '../random';

export interface SimulatedProviderOptions {
  seed?: number;
  /** Models to pick from when a request names none (first is the default). */
  models?: string[];
  /** Probability in [0, 1] that an attempt fails: a rate limit, timeout or server error (transient), or an invalid request (permanent). */
  errorRate?: number;
  /** Share of those failures that are permanent (`invalid_request`, not worth a retry). @default 0.25 */
  permanentShare?: number;
  /** Multiplies every latency (0 = instant, for tests). */
  latencyScale?: number;
}

const TRANSIENT_TYPES = ['rate_limit_exceeded', 'timeout', 'server_error'] as const;

export function estimateTokens(text: string): number {
  // ~4 characters per token for English text, as tokenizers of GPT-class models average.
  return Math.max(1, Math.ceil(text.length / 4));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new LlmError('request aborted', 'aborted', { cause: signal.reason }));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new LlmError('request aborted', 'aborted', { cause: signal?.reason }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Picks the tools a task needs from its wording: what a planning model would decide. */
export function planToolCalls(prompt: string, rng: Rng): ToolCall[] {
  const calls: ToolCall[] = [];
  const id = () =>
    `call_${Math.floor(rng() * 2 ** 32)
      .toString(16)
      .padStart(8, '0')}`;
  // "… delegate: <sub-task>" hands the sub-task to a peer agent (the tool is offered only when one is configured).
  const delegated = /\bdelegate:\s*(\S[\s\S]*)$/i.exec(prompt);
  if (delegated) calls.push({ id: id(), name: 'delegate', arguments: { task: delegated[1].trim().slice(0, 4000) } });
  const expr = /(?:calculate|compute|what is)\s+([-+*/^%().\d\s]+[\d)])/i.exec(prompt);
  if (expr) calls.push({ id: id(), name: 'calculator', arguments: { expression: expr[1].trim() } });
  const topic = /(?:about|on|regarding)\s+([a-z][a-z\s-]{2,40}?)(?:[.?!,]|$)/i.exec(prompt);
  if (topic || /search|find|look up|docs?/i.test(prompt)) {
    calls.push({ id: id(), name: 'knowledge_base', arguments: { query: (topic?.[1] ?? prompt).trim().slice(0, 80) } });
  }
  if (/embed|similar|vector/i.test(prompt))
    calls.push({ id: id(), name: 'embedding', arguments: { text: prompt.slice(0, 200) } });
  if (calls.length === 0) calls.push({ id: id(), name: 'knowledge_base', arguments: { query: prompt.slice(0, 80) } });
  return calls.slice(0, 3);
}

function lastUser(messages: ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i].role === 'user') return messages[i].content;
  return '';
}

export class SimulatedProvider implements LlmProvider {
  readonly name = 'periscope.simulated';
  readonly defaultModel: string;
  private readonly seed: number;
  private readonly models: string[];
  private readonly errorRate: number;
  private readonly permanentShare: number;
  private readonly latencyScale: number;

  constructor(options: SimulatedProviderOptions = {}) {
    this.seed = options.seed ?? 42;
    this.models = options.models?.length ? options.models : ['sim-gpt-4o-mini', 'sim-gpt-4o'];
    this.defaultModel = this.models[0];
    this.errorRate = options.errorRate ?? 0;
    this.permanentShare = options.permanentShare ?? 0.25;
    this.latencyScale = options.latencyScale ?? 1;
    if (!(this.errorRate >= 0 && this.errorRate <= 1))
      throw new RangeError(`errorRate must be in [0, 1], got ${options.errorRate}`);
    if (!(this.permanentShare >= 0 && this.permanentShare <= 1))
      throw new RangeError(`permanentShare must be in [0, 1], got ${options.permanentShare}`);
    if (!(this.latencyScale >= 0 && Number.isFinite(this.latencyScale)))
      throw new RangeError(`latencyScale must be a finite number >= 0, got ${options.latencyScale}`);
  }

  chat(request: ChatRequest, options?: CallOptions): Promise<ChatResult> {
    return this.run(request, undefined, options);
  }

  chatStream(request: ChatRequest, onToken: (token: string) => void, options?: CallOptions): Promise<ChatResult> {
    return this.run(request, onToken, options);
  }

  private simulatedError(fault: Rng): LlmError {
    if (fault() < this.permanentShare)
      return new LlmError('simulated invalid request: context length exceeded', 'invalid_request');
    const type = TRANSIENT_TYPES[Math.floor(fault() * TRANSIENT_TYPES.length)];
    // Rate limits say when to come back, as hosted APIs do (Retry-After).
    const retryAfterMs =
      type === 'rate_limit_exceeded' ? Math.round((200 + fault() * 800) * this.latencyScale) : undefined;
    return new LlmError(`simulated ${type.replace(/_/g, ' ')}`, type, { retryAfterMs });
  }

  private async run(
    request: ChatRequest,
    onToken: ((t: string) => void) | undefined,
    options?: CallOptions,
  ): Promise<ChatResult> {
    const model = request.model ?? this.defaultModel;
    const conversation = request.messages.map((m) => `${m.role}:${m.content}`).join('\n');
    const rng = createRng(this.seed ^ hashString(`${model}\n${conversation}`));
    const inputTokens = request.messages.reduce((n, m) => n + estimateTokens(m.content) + 4, 0);
    const ttftMs = rng.logNormal(Math.log(180), 0.5) * this.latencyScale;
    const started = performance.now();

    // Faults are drawn per attempt (a retried call may succeed), the answer per conversation.
    const fault = createRng(
      this.seed ^ hashString(`${model}\n${conversation}`) ^ Math.imul(options?.attempt ?? 1, 0x9e3779b1),
    );
    if (fault() < this.errorRate) {
      await sleep(ttftMs, options?.signal);
      throw this.simulatedError(fault);
    }

    const hasToolResults = request.messages.some((m) => m.role === 'tool');
    const wantsTools = (request.tools?.length ?? 0) > 0 && !hasToolResults;
    let text: string;
    let toolCalls: ToolCall[] = [];
    if (wantsTools) {
      toolCalls = planToolCalls(lastUser(request.messages), rng).filter((c) =>
        request.tools!.some((t) => t.name === c.name),
      );
      text = '';
    } else {
      const findings = request.messages.filter((m) => m.role === 'tool').map((m) => m.content.slice(0, 160));
      text = findings.length
        ? `Based on ${findings.length} tool result(s): ${findings.join(' | ')}`
        : `Here is a considered answer to: ${lastUser(request.messages).slice(0, 120)}`;
    }
    const outputTokens = Math.max(
      toolCalls.length * 18,
      Math.round(rng.logNormal(Math.log(90), 0.6)),
      estimateTokens(text),
    );
    const perTokenMs = rng.logNormal(Math.log(8), 0.3) * this.latencyScale;

    await sleep(ttftMs, options?.signal);
    const timeToFirstTokenSeconds = (performance.now() - started) / 1000;
    if (onToken) {
      // Emit in ~8 chunks so consumers see a stream without a timer per token.
      const words = (text || JSON.stringify(toolCalls)).split(/(?<=\s)/);
      const chunk = Math.max(1, Math.ceil(words.length / 8));
      for (let i = 0; i < words.length; i += chunk) {
        onToken(words.slice(i, i + chunk).join(''));
        await sleep((perTokenMs * outputTokens) / Math.ceil(words.length / chunk), options?.signal);
      }
    } else {
      await sleep(perTokenMs * outputTokens, options?.signal);
    }
    return {
      text,
      toolCalls,
      usage: { inputTokens, outputTokens },
      model,
      finishReason: toolCalls.length ? 'tool_calls' : 'stop',
      timeToFirstTokenSeconds: onToken ? timeToFirstTokenSeconds : undefined,
    };
  }
}
