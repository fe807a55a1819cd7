// Reading what an LLM call returned (usage, finish reasons, model, id) from OpenAI- and
// Anthropic-shaped results, and the provider's error type from what a call threw.

/** What an LLM call returned, in the terms of the conventions. */
export interface LlmResponseInfo {
  responseModel?: string;
  responseId?: string;
  /**
   * gen_ai.usage.input_tokens: ALL input tokens, cached ones included. The default reader adds
   * Anthropic's cache_read_input_tokens and cache_creation_input_tokens to its input_tokens.
   */
  inputTokens?: number;
  outputTokens?: number;
  /** gen_ai.usage.cache_read.input_tokens (included in inputTokens). */
  cacheReadInputTokens?: number;
  /** gen_ai.usage.cache_creation.input_tokens (included in inputTokens). */
  cacheCreationInputTokens?: number;
  /** gen_ai.usage.reasoning.output_tokens (included in outputTokens). */
  reasoningOutputTokens?: number;
  finishReasons?: string[];
  /** gen_ai.response.time_to_first_chunk of a streaming call, in seconds. */
  timeToFirstChunkSeconds?: number;
  /**
   * Completion content; recorded as gen_ai.output.messages only with captureContent. Any of: an
   * OpenAI or Anthropic result, output messages of the schema, a completion string, tool calls.
   */
  output?: unknown;
}

type Loose = Record<string, unknown> | undefined;
const obj = (v: unknown): Loose => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function finishReasons(r: Record<string, unknown>, choices: unknown[] | undefined): string[] | undefined {
  const list = Array.isArray(r.finishReasons)
    ? r.finishReasons
    : Array.isArray(r.finish_reasons)
      ? r.finish_reasons
      : undefined;
  if (list) return list.filter((x): x is string => typeof x === 'string');
  if (choices) {
    const out: string[] = [];
    for (let i = 0; i < choices.length; i++) {
      const reason = obj(choices[i])?.finish_reason;
      if (typeof reason === 'string') out.push(reason);
    }
    return out;
  }
  const one = str(r.stop_reason) ?? str(r.finishReason);
  return one === undefined ? undefined : [one];
}

/** Usage counts of OpenAI chat (prompt_tokens…), OpenAI responses (input_tokens + details) and Anthropic (input_tokens + cache_*). */
function readUsage(r: Record<string, unknown>, info: LlmResponseInfo): void {
  const usage = obj(r.usage);
  const cacheRead = num(r.cacheReadInputTokens) ?? num(usage?.cache_read_input_tokens);
  const cacheCreation = num(r.cacheCreationInputTokens) ?? num(usage?.cache_creation_input_tokens);
  let input = num(r.inputTokens) ?? num(usage?.prompt_tokens) ?? num(usage?.inputTokens);
  if (input === undefined) {
    input = num(usage?.input_tokens);
    // Anthropic's input_tokens excludes cached tokens: the conventions count them all.
    if (input !== undefined && num(r.inputTokens) === undefined) input += (cacheRead ?? 0) + (cacheCreation ?? 0);
  }
  info.inputTokens = input;
  info.outputTokens =
    num(r.outputTokens) ?? num(usage?.output_tokens) ?? num(usage?.completion_tokens) ?? num(usage?.outputTokens);
  info.cacheReadInputTokens =
    cacheRead ??
    num(obj(usage?.prompt_tokens_details)?.cached_tokens) ??
    num(obj(usage?.input_tokens_details)?.cached_tokens);
  info.cacheCreationInputTokens = cacheCreation;
  info.reasoningOutputTokens =
    num(r.reasoningOutputTokens) ??
    num(obj(usage?.completion_tokens_details)?.reasoning_tokens) ??
    num(obj(usage?.output_tokens_details)?.reasoning_tokens);
}

/** `withOutput`: also keep the result for gen_ai.output.messages (only needed when content is captured). */
export function readLlmResult(result: unknown, withOutput: boolean): LlmResponseInfo {
  const r = obj(result);
  if (!r) return {};
  // Plain loops and no rest arguments: this runs on every LLM call.
  const choices = Array.isArray(r.choices) ? (r.choices as unknown[]) : undefined;
  const info: LlmResponseInfo = {
    responseModel: str(r.responseModel) ?? str(r.model),
    responseId: str(r.responseId) ?? str(r.id),
    finishReasons: finishReasons(r, choices),
    timeToFirstChunkSeconds: num(r.timeToFirstChunkSeconds) ?? num(r.timeToFirstTokenSeconds),
  };
  readUsage(r, info);
  if (withOutput) info.output = r.output !== undefined ? r.output : r.text !== undefined ? r.text : result;
  return info;
}

/** Reads OpenAI-style (usage.prompt_tokens, choices[].finish_reason), Anthropic-style (usage.input_tokens + cache, stop_reason) and LlmResponseInfo results. */
export function describeLlmResult(result: unknown): LlmResponseInfo {
  return readLlmResult(result, true);
}

/**
 * The provider's error type of a failed call, for `error.type` on the span and the duration
 * metric: a string `type` on the error (OpenAI SDK `APIError.type`, our demo's `LlmError.type`),
 * Anthropic's `error.type` in the error body, a string `code`, else the error's class name.
 */
export function llmErrorType(error: unknown): string {
  const e = obj(error);
  if (!e) return typeof error === 'string' && error ? error : 'Error';
  // Anthropic's body is { type: 'error', error: { type: 'overloaded_error' } }: the inner type names it.
  const type = str(e.type) ?? str(obj(obj(e.error)?.error)?.type) ?? str(obj(e.error)?.type) ?? str(e.code);
  if (type) return type;
  return (error instanceof Error && error.name) || 'Error';
}
