// GenAI spans after the OpenTelemetry GenAI semantic conventions: invoke_agent, LLM calls
// ({operation} {model}, CLIENT) and execute_tool. Content (prompts, completions, tool
// arguments and results) is recorded only with captureContent, redacted, then truncated.
import { SpanKind, type Attributes, type Span } from '@opentelemetry/api';
import { runInSpan } from './api';
import { TracingInputError } from './errors';
import { getActive, getTracer, redactText } from './state';

/** What an LLM call returned, in the terms of the conventions. */
export interface LlmResponseInfo {
  responseModel?: string;
  responseId?: string;
  inputTokens?: number;
  outputTokens?: number;
  finishReasons?: string[];
  /** Completion content; recorded only with captureContent. */
  output?: unknown;
}

export interface LlmCallOptions<R = unknown> {
  /** gen_ai.provider.name, e.g. 'openai', 'anthropic', 'simulated'. */
  provider: string;
  /** gen_ai.request.model */
  model: string;
  /** gen_ai.operation.name; default 'chat'. */
  operation?: string;
  /** Prompt messages; recorded as gen_ai.input.messages only with captureContent. */
  input?: unknown;
  temperature?: number;
  maxTokens?: number;
  attributes?: Attributes;
  /** Reads usage and finish reasons from the result; default understands OpenAI- and Anthropic-shaped results and LlmResponseInfo itself. */
  describe?: (result: R) => LlmResponseInfo;
}

export interface AgentOptions {
  id?: string;
  description?: string;
  attributes?: Attributes;
}

export interface ToolOptions {
  callId?: string;
  description?: string;
  /** Tool arguments; recorded as gen_ai.tool.call.arguments only with captureContent. */
  arguments?: unknown;
  attributes?: Attributes;
}

function requireName(argument: string, value: unknown): void {
  if (typeof value !== 'string' || value.trim() === '')
    throw new TracingInputError(argument, `expected a non-empty string, got ${JSON.stringify(value)}`);
}

/** Sets a content attribute when capture is on: serialized, redacted, then cut to contentMaxLength. */
export function captureContent(span: Span, key: string, value: unknown): void {
  const active = getActive();
  if (!active?.captureContent || value === undefined || !span.isRecording()) return;
  let text: string;
  try {
    text = typeof value === 'string' ? value : JSON.stringify(value);
  } catch {
    text = String(value);
  }
  // Redact before cutting so a secret straddling the cut is still caught.
  text = redactText(text);
  if (text.length > active.contentMaxLength)
    text = `${text.slice(0, active.contentMaxLength)}…[truncated ${text.length - active.contentMaxLength} chars]`;
  span.setAttribute(key, text);
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

/** Reads OpenAI-style (usage.prompt_tokens, choices[].finish_reason), Anthropic-style (usage.input_tokens, stop_reason) and LlmResponseInfo results. */
export function describeLlmResult(result: unknown): LlmResponseInfo {
  return readLlmResult(result, true);
}

/** `withOutput`: also collect the completion text (only needed when content is captured). */
function readLlmResult(result: unknown, withOutput: boolean): LlmResponseInfo {
  const r = obj(result);
  if (!r) return {};
  const usage = obj(r.usage);
  // Plain loops and no rest arguments: this runs on every LLM call.
  const choices = Array.isArray(r.choices) ? (r.choices as unknown[]) : undefined;
  return {
    responseModel: str(r.responseModel) ?? str(r.model),
    responseId: str(r.responseId) ?? str(r.id),
    inputTokens: num(r.inputTokens) ?? num(usage?.input_tokens) ?? num(usage?.prompt_tokens) ?? num(usage?.inputTokens),
    outputTokens:
      num(r.outputTokens) ?? num(usage?.output_tokens) ?? num(usage?.completion_tokens) ?? num(usage?.outputTokens),
    finishReasons: finishReasons(r, choices),
    output: withOutput
      ? (r.output ??
        r.content ??
        r.text ??
        (choices ? choices.map((c) => obj(obj(c)?.message)?.content ?? obj(c)?.text) : undefined))
      : undefined,
  };
}

/** An `invoke_agent {name}` span around one agent run. */
export function traceAgent<T>(name: string, fn: (span: Span) => T, options: AgentOptions = {}): T {
  requireName('traceAgent name', name);
  const attributes: Attributes = {
    ...options.attributes,
    'gen_ai.operation.name': 'invoke_agent',
    'gen_ai.agent.name': name,
  };
  if (options.id) attributes['gen_ai.agent.id'] = options.id;
  if (options.description) attributes['gen_ai.agent.description'] = options.description;
  return runInSpan(
    getTracer().startSpan(`invoke_agent ${name}`, { kind: SpanKind.INTERNAL, attributes }),
    undefined,
    fn,
  );
}

/** A CLIENT span `{operation} {model}` around one model call; usage and finish reasons come from the result. */
export function traceLlmCall<T>(options: LlmCallOptions<Awaited<T>>, fn: (span: Span) => T): T {
  requireName('traceLlmCall provider', options?.provider);
  requireName('traceLlmCall model', options.model);
  const operation = options.operation ?? 'chat';
  const attributes: Attributes = {
    ...options.attributes,
    'gen_ai.operation.name': operation,
    'gen_ai.provider.name': options.provider,
    'gen_ai.request.model': options.model,
  };
  if (options.temperature !== undefined) attributes['gen_ai.request.temperature'] = options.temperature;
  if (options.maxTokens !== undefined) attributes['gen_ai.request.max_tokens'] = options.maxTokens;
  const span = getTracer().startSpan(`${operation} ${options.model}`, { kind: SpanKind.CLIENT, attributes });
  // One look at the capture setting per call; off by default, so no content work at all.
  const capture = getActive()?.captureContent === true;
  if (capture) captureContent(span, 'gen_ai.input.messages', options.input);
  return runInSpan(span, undefined, fn, (value) => {
    let info: LlmResponseInfo;
    try {
      info = (options.describe ? options.describe(value as Awaited<T>) : readLlmResult(value, capture)) ?? {};
    } catch {
      // A describe() bug must not fail the call it observes.
      info = {};
    }
    const a: Attributes = {};
    if (info.responseModel) a['gen_ai.response.model'] = info.responseModel;
    if (info.responseId) a['gen_ai.response.id'] = info.responseId;
    if (info.inputTokens !== undefined) a['gen_ai.usage.input_tokens'] = info.inputTokens;
    if (info.outputTokens !== undefined) a['gen_ai.usage.output_tokens'] = info.outputTokens;
    if (info.finishReasons?.length) a['gen_ai.response.finish_reasons'] = info.finishReasons;
    span.setAttributes(a);
    if (capture) captureContent(span, 'gen_ai.output.messages', info.output);
  });
}

/** An `execute_tool {name}` span around one tool call. */
export function traceTool<T>(name: string, fn: (span: Span) => T, options: ToolOptions = {}): T {
  requireName('traceTool name', name);
  const attributes: Attributes = {
    ...options.attributes,
    'gen_ai.operation.name': 'execute_tool',
    'gen_ai.tool.name': name,
  };
  if (options.callId) attributes['gen_ai.tool.call.id'] = options.callId;
  if (options.description) attributes['gen_ai.tool.description'] = options.description;
  const span = getTracer().startSpan(`execute_tool ${name}`, { kind: SpanKind.INTERNAL, attributes });
  captureContent(span, 'gen_ai.tool.call.arguments', options.arguments);
  return runInSpan(span, undefined, fn, (value) => captureContent(span, 'gen_ai.tool.call.result', value));
}
