// The LLM provider interface the agent talks to. Two implementations: a deterministic simulated
// provider (the default, so the demo runs anywhere) and an OpenAI-compatible HTTP provider.
import { PeriscopeError } from '@periscope/core';

export type Role = 'system' | 'user' | 'assistant' | 'tool';

export interface ToolCall {
  id: string;
  name: string;
  arguments: Record<string, unknown>;
}

export interface ChatMessage {
  role: Role;
  content: string;
  /** On assistant messages that asked for tools. */
  toolCalls?: ToolCall[];
  /** On tool messages: the call this answers. */
  toolCallId?: string;
}

export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
}

export interface ChatRequest {
  model?: string;
  messages: ChatMessage[];
  tools?: ToolSpec[];
  maxTokens?: number;
  temperature?: number;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export interface ChatResult {
  text: string;
  toolCalls: ToolCall[];
  usage: Usage;
  model: string;
  finishReason: 'stop' | 'tool_calls' | 'length' | 'error';
  /** Seconds from request to first token (streaming calls only). */
  timeToFirstTokenSeconds?: number;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Which attempt of this request this is (1 for the first); the simulated provider draws its faults per attempt. */
  attempt?: number;
}

export interface LlmProvider {
  /** `gen_ai.provider.name` of this provider. */
  readonly name: string;
  /** The model used when a request names none. */
  readonly defaultModel: string;
  /** server.address / server.port of the model endpoint, for a provider reached over the network. */
  readonly server?: { address: string; port: number };
  chat(request: ChatRequest, options?: CallOptions): Promise<ChatResult>;
  /** Streams tokens to `onToken` and resolves the whole result, with time to first token. */
  chatStream(request: ChatRequest, onToken: (token: string) => void, options?: CallOptions): Promise<ChatResult>;
}

/**
 * A provider call that failed; `type` becomes `error.type` on spans and metrics. `retryAfterMs`
 * is the provider's Retry-After, when it sent one.
 */
export class LlmError extends PeriscopeError<'ERR_DEMO_LLM'> {
  readonly retryAfterMs: number | undefined;
  constructor(
    message: string,
    readonly type: string,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super('ERR_DEMO_LLM', message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}
