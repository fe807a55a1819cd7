// An OpenAI-compatible chat-completions provider (OpenAI, vLLM, Ollama, LiteLLM, …) over fetch,
// with tool calling and streaming (server-sent events) for time to first token.
import {
  LlmError,
  type CallOptions,
  type ChatMessage,
  type ChatRequest,
  type ChatResult,
  type LlmProvider,
  type ToolCall,
} from './provider';

export interface OpenAiProviderOptions {
  /** e.g. https://api.openai.com/v1 (env OPENAI_BASE_URL). */
  baseUrl: string;
  /** Sent as a Bearer token (env OPENAI_API_KEY); never logged or put in errors. */
  apiKey?: string;
  /** Default model (env OPENAI_MODEL). */
  model: string;
  /** Per-request timeout. */
  timeoutMs?: number;
}

interface WireToolCall {
  id?: string;
  index?: number;
  type?: string;
  function?: { name?: string; arguments?: string };
}
interface WireMessage {
  role?: string;
  content?: string | null;
  tool_calls?: WireToolCall[];
}

function toWire(m: ChatMessage): Record<string, unknown> {
  if (m.role === 'tool') return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
  const wire: Record<string, unknown> = { role: m.role, content: m.content };
  if (m.toolCalls?.length) {
    wire.tool_calls = m.toolCalls.map((c) => ({
      id: c.id,
      type: 'function',
      function: { name: c.name, arguments: JSON.stringify(c.arguments) },
    }));
  }
  return wire;
}

function parseArguments(raw: string | undefined, tool: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(raw || '{}');
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    throw new LlmError(`model sent malformed JSON arguments for tool '${tool}'`, 'invalid_response');
  }
}

/** Retry-After (seconds or an HTTP date) or OpenAI's retry-after-ms, in ms; undefined when absent or unreadable. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const ms = Number(headers.get('retry-after-ms'));
  if (headers.has('retry-after-ms') && Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function errorType(status: number): string {
  if (status === 429) return 'rate_limit_exceeded';
  if (status === 401 || status === 403) return 'authentication_error';
  if (status === 408) return 'timeout';
  if (status >= 500) return 'server_error';
  return 'invalid_request';
}

export class OpenAiProvider implements LlmProvider {
  readonly name = 'openai';
  readonly defaultModel: string;
  readonly server: { address: string; port: number };
  private readonly endpoint: string;

  constructor(private readonly options: OpenAiProviderOptions) {
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw new TypeError('OPENAI_BASE_URL (baseUrl) must be an absolute http(s) URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new TypeError('OPENAI_BASE_URL (baseUrl) must be an http(s) URL');
    if (!options.model) throw new TypeError('OPENAI_MODEL (model) must be set for the openai provider');
    this.endpoint = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
    this.defaultModel = options.model;
    this.server = {
      address: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
    };
  }

  chat(request: ChatRequest, options?: CallOptions): Promise<ChatResult> {
    return this.send(request, undefined, options);
  }

  chatStream(request: ChatRequest, onToken: (token: string) => void, options?: CallOptions): Promise<ChatResult> {
    return this.send(request, onToken, options);
  }

  private async send(
    request: ChatRequest,
    onToken: ((t: string) => void) | undefined,
    options?: CallOptions,
  ): Promise<ChatResult> {
    const model = request.model ?? this.defaultModel;
    const body: Record<string, unknown> = {
      model,
      messages: request.messages.map(toWire),
      ...(request.tools?.length ? { tools: request.tools.map((t) => ({ type: 'function', function: t })) } : {}),
      ...(request.maxTokens ? { max_tokens: request.maxTokens } : {}),
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(onToken ? { stream: true, stream_options: { include_usage: true } } : {}),
    };
    const signals = [
      AbortSignal.timeout(this.options.timeoutMs ?? 60000),
      ...(options?.signal ? [options.signal] : []),
    ];
    const started = performance.now();
    let response: Response;
    try {
      response = await fetch(this.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
        },
        body: JSON.stringify(body),
        signal: AbortSignal.any(signals),
      });
    } catch (err) {
      const name = (err as Error).name;
      const type = name === 'TimeoutError' ? 'timeout' : name === 'AbortError' ? 'aborted' : 'connection_error';
      throw new LlmError(`request to ${new URL(this.endpoint).host} failed: ${type}`, type, { cause: err });
    }
    if (!response.ok) {
      const detail = (await response.text().catch(() => '')).slice(0, 200);
      throw new LlmError(
        `provider answered HTTP ${response.status}${detail ? `: ${detail}` : ''}`,
        errorType(response.status),
        { retryAfterMs: retryAfterMs(response.headers) },
      );
    }
    return onToken ? this.readStream(response, model, onToken, started) : this.readJson(response, model);
  }

  private async readJson(response: Response, model: string): Promise<ChatResult> {
    const json = (await response.json().catch(() => null)) as {
      model?: string;
      choices?: { message?: WireMessage; finish_reason?: string }[];
      usage?: { prompt_tokens?: number; completion_tokens?: number };
    } | null;
    const choice = json?.choices?.[0];
    if (!choice?.message) throw new LlmError('provider sent a response without choices[0].message', 'invalid_response');
    const toolCalls = (choice.message.tool_calls ?? []).map((c, i) => ({
      id: c.id ?? `call_${i}`,
      name: c.function?.name ?? '',
      arguments: parseArguments(c.function?.arguments, c.function?.name ?? ''),
    }));
    return {
      text: choice.message.content ?? '',
      toolCalls,
      usage: { inputTokens: json?.usage?.prompt_tokens ?? 0, outputTokens: json?.usage?.completion_tokens ?? 0 },
      model: json?.model ?? model,
      finishReason: toolCalls.length ? 'tool_calls' : choice.finish_reason === 'length' ? 'length' : 'stop',
    };
  }

  private async readStream(
    response: Response,
    model: string,
    onToken: (t: string) => void,
    started: number,
  ): Promise<ChatResult> {
    if (!response.body) throw new LlmError('provider sent no stream body', 'invalid_response');
    const decoder = new TextDecoder();
    let buffered = '';
    let text = '';
    let ttft: number | undefined;
    let finish = 'stop';
    let usage = { inputTokens: 0, outputTokens: 0 };
    let responseModel = model;
    const calls = new Map<number, { id: string; name: string; args: string }>();
    const handle = (data: string) => {
      if (data === '[DONE]') return;
      let chunk: {
        model?: string;
        choices?: { delta?: WireMessage; finish_reason?: string | null }[];
        usage?: { prompt_tokens?: number; completion_tokens?: number };
      };
      try {
        chunk = JSON.parse(data);
      } catch {
        throw new LlmError('provider sent a malformed stream chunk', 'invalid_response');
      }
      if (chunk.model) responseModel = chunk.model;
      if (chunk.usage)
        usage = { inputTokens: chunk.usage.prompt_tokens ?? 0, outputTokens: chunk.usage.completion_tokens ?? 0 };
      for (const choice of chunk.choices ?? []) {
        const delta = choice.delta;
        if (delta?.content) {
          ttft ??= (performance.now() - started) / 1000;
          text += delta.content;
          onToken(delta.content);
        }
        for (const tc of delta?.tool_calls ?? []) {
          ttft ??= (performance.now() - started) / 1000;
          const slot = calls.get(tc.index ?? 0) ?? { id: '', name: '', args: '' };
          if (tc.id) slot.id = tc.id;
          if (tc.function?.name) slot.name += tc.function.name;
          if (tc.function?.arguments) slot.args += tc.function.arguments;
          calls.set(tc.index ?? 0, slot);
        }
        if (choice.finish_reason) finish = choice.finish_reason;
      }
    };
    for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(bytes, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line.startsWith('data:')) handle(line.slice(5).trim());
      }
    }
    const toolCalls: ToolCall[] = [...calls.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([i, c]) => ({ id: c.id || `call_${i}`, name: c.name, arguments: parseArguments(c.args, c.name) }));
    return {
      text,
      toolCalls,
      usage,
      model: responseModel,
      finishReason: toolCalls.length ? 'tool_calls' : finish === 'length' ? 'length' : 'stop',
      timeToFirstTokenSeconds: ttft,
    };
  }
}
