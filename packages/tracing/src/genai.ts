// GenAI spans after the OpenTelemetry GenAI semantic conventions: invoke_agent, LLM calls
// ({operation} {model}, CLIENT) and execute_tool. Content (prompts, completions, system
// instructions, tool arguments and results) is recorded only with captureContent: converted to
// the conventions' message schemas, redacted, then cut inside its strings so the JSON stays valid.
import { SpanKind, trace as otelTrace, type Attributes, type Span } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT } from '@opentelemetry/semantic-conventions';
import {
  ATTR_GEN_AI_AGENT_DESCRIPTION,
  ATTR_GEN_AI_AGENT_ID,
  ATTR_GEN_AI_AGENT_NAME,
  ATTR_GEN_AI_AGENT_VERSION,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_OUTPUT_MESSAGES,
  ATTR_GEN_AI_OUTPUT_TYPE,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_CHOICE_COUNT,
  ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY,
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY,
  ATTR_GEN_AI_REQUEST_SEED,
  ATTR_GEN_AI_REQUEST_STOP_SEQUENCES,
  ATTR_GEN_AI_REQUEST_STREAM,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  ATTR_GEN_AI_REQUEST_TOP_K,
  ATTR_GEN_AI_REQUEST_TOP_P,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
  ATTR_GEN_AI_SYSTEM_INSTRUCTIONS,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_CALL_RESULT,
  ATTR_GEN_AI_TOOL_DESCRIPTION,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_TOOL_TYPE,
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
  GEN_AI_OPERATION_NAME_VALUE_CHAT,
  GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
  GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT,
} from './semconv';
import { endWith, recordError, runInSpan, startSpanLazy } from './api';
import { TracingInputError } from './errors';
import { serializeWithin, toInputMessages, toOutputMessages, toSystemInstructions } from './genai-messages';
import { llmErrorType, readLlmResult, type LlmResponseInfo } from './genai-result';
import { getActive, getContextManager, redactText } from './state';

export { describeLlmResult, llmErrorType, type LlmResponseInfo } from './genai-result';

/** Request parameters shared by model calls and agent invocations (gen_ai.request.*). */
export interface GenAiRequestOptions {
  temperature?: number;
  maxTokens?: number;
  topP?: number;
  topK?: number;
  stopSequences?: string[];
  frequencyPenalty?: number;
  presencePenalty?: number;
  seed?: number;
  /** gen_ai.request.choice.count; recorded only when not 1. */
  choiceCount?: number;
  /** gen_ai.output.type: 'text', 'json', 'image', 'speech'. */
  outputType?: string;
  /** gen_ai.conversation.id: the conversation (session, thread) this call belongs to. */
  conversationId?: string;
}

export interface LlmCallOptions<R = unknown> extends GenAiRequestOptions {
  /** gen_ai.provider.name, e.g. 'openai', 'anthropic', 'simulated'. */
  provider: string;
  /** gen_ai.request.model */
  model: string;
  /** gen_ai.operation.name; default 'chat'. */
  operation?: string;
  /** gen_ai.request.stream: true for streaming calls (then gen_ai.response.time_to_first_chunk is read from the result). */
  stream?: boolean;
  /** server.address of the model endpoint (host name or IP). */
  serverAddress?: string;
  /** server.port of the model endpoint; recorded with serverAddress. */
  serverPort?: number;
  /** Prompt messages (OpenAI or Anthropic shapes, or schema messages); gen_ai.input.messages only with captureContent. */
  input?: unknown;
  /** System prompt given apart from the messages (Anthropic `system`); gen_ai.system_instructions only with captureContent. */
  systemInstructions?: unknown;
  attributes?: Attributes;
  /** Reads usage and finish reasons from the result; default understands OpenAI- and Anthropic-shaped results and LlmResponseInfo itself. */
  describe?: (result: R) => LlmResponseInfo;
  /** error.type of a failed call; default llmErrorType (the provider's error type). */
  errorType?: (error: unknown) => string;
}

export interface AgentOptions extends GenAiRequestOptions {
  id?: string;
  description?: string;
  /** gen_ai.agent.version */
  version?: string;
  /** gen_ai.provider.name of the model behind the agent; required by the conventions on invoke_agent spans. */
  provider?: string;
  /** gen_ai.request.model the agent calls. */
  model?: string;
  /** A remote agent service (OpenAI Assistants, Bedrock Agents): the span is CLIENT and carries server.*. Default false. */
  remote?: boolean;
  serverAddress?: string;
  serverPort?: number;
  attributes?: Attributes;
}

export interface ToolOptions {
  callId?: string;
  description?: string;
  /** gen_ai.tool.type: 'function' (run by the client), 'extension' (agent-side API), 'datastore'. */
  type?: string;
  /** Tool arguments; recorded as gen_ai.tool.call.arguments only with captureContent. */
  arguments?: unknown;
  attributes?: Attributes;
}

function requireName(argument: string, value: unknown): void {
  if (typeof value !== 'string' || value.trim() === '')
    throw new TracingInputError(argument, `expected a non-empty string, got ${JSON.stringify(value)}`);
}

/** Applies the redactor to every string of a value (when redacting its JSON text broke the JSON). */
function redactStrings(value: unknown): unknown {
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map(redactStrings);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactStrings(v);
    return out;
  }
  return value;
}

/**
 * Sets a content attribute when capture is on. Structured values are serialized to JSON,
 * redacted (the redactor sees the JSON text, so key-aware rules work), then cut inside their
 * strings to contentMaxLength so the JSON still parses; a plain string is redacted and cut.
 */
export function captureContent(span: Span, key: string, value: unknown): void {
  const active = getActive();
  if (!active?.captureContent || value === undefined || !span.isRecording()) return;
  const max = active.contentMaxLength;
  if (typeof value === 'string') {
    // Redact before cutting so a secret straddling the cut is still caught.
    const text = redactText(value);
    span.setAttribute(key, text.length > max ? `${text.slice(0, max)}…[truncated ${text.length - max} chars]` : text);
    return;
  }
  let structured: unknown = value;
  let text: string;
  try {
    text = JSON.stringify(value) ?? 'null';
  } catch {
    // A cycle or a BigInt: record its string form, still valid JSON.
    structured = String(value);
    text = JSON.stringify(structured);
  }
  const redacted = redactText(text);
  if (redacted !== text) {
    try {
      structured = JSON.parse(redacted) as unknown;
    } catch {
      structured = redactStrings(JSON.parse(text) as unknown);
    }
  } else if (text.length <= max) {
    span.setAttribute(key, text);
    return;
  }
  span.setAttribute(key, serializeWithin(structured, max));
}

function setRequestAttributes(a: Attributes, o: GenAiRequestOptions): void {
  if (o.temperature !== undefined) a[ATTR_GEN_AI_REQUEST_TEMPERATURE] = o.temperature;
  if (o.maxTokens !== undefined) a[ATTR_GEN_AI_REQUEST_MAX_TOKENS] = o.maxTokens;
  if (o.topP !== undefined) a[ATTR_GEN_AI_REQUEST_TOP_P] = o.topP;
  if (o.topK !== undefined) a[ATTR_GEN_AI_REQUEST_TOP_K] = o.topK;
  if (o.stopSequences !== undefined) a[ATTR_GEN_AI_REQUEST_STOP_SEQUENCES] = o.stopSequences;
  if (o.frequencyPenalty !== undefined) a[ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY] = o.frequencyPenalty;
  if (o.presencePenalty !== undefined) a[ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY] = o.presencePenalty;
  if (o.seed !== undefined) a[ATTR_GEN_AI_REQUEST_SEED] = o.seed;
  if (o.choiceCount !== undefined && o.choiceCount !== 1) a[ATTR_GEN_AI_REQUEST_CHOICE_COUNT] = o.choiceCount;
  if (o.outputType !== undefined) a[ATTR_GEN_AI_OUTPUT_TYPE] = o.outputType;
  if (o.conversationId) a[ATTR_GEN_AI_CONVERSATION_ID] = o.conversationId;
}

function setServer(a: Attributes, address: string | undefined, port: number | undefined): void {
  if (!address) return;
  a[ATTR_SERVER_ADDRESS] = address;
  if (port !== undefined) a[ATTR_SERVER_PORT] = port;
}

/**
 * runInSpan with a GenAI error type: a throw or rejection is recorded as usual, then `error.type`
 * becomes `errorType(error)` (the provider's type), the value the duration metric carries too.
 */
function runGenAi<T>(
  span: Span,
  fn: (span: Span) => T,
  errorType: (e: unknown) => string,
  after: (v: unknown) => void,
): T {
  const cm = getContextManager();
  const ctx = otelTrace.setSpan(cm.active(), span);
  if (!span.isRecording()) return cm.with(ctx, fn, undefined, span);
  const fail = (e: unknown): void => {
    recordError(span, e);
    let type: string;
    try {
      type = errorType(e);
    } catch {
      type = llmErrorType(e);
    }
    span.setAttribute(ATTR_ERROR_TYPE, type);
    span.end();
  };
  let result: T;
  try {
    result = cm.with(ctx, fn, undefined, span);
  } catch (e) {
    fail(e);
    throw e;
  }
  if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
    return (result as unknown as PromiseLike<unknown>).then(
      (v) => {
        after(v);
        span.end();
        return v;
      },
      (e: unknown) => {
        fail(e);
        throw e;
      },
    ) as T;
  }
  return endWith(span, result, after);
}

/** An `invoke_agent {name}` span around one agent run (INTERNAL, or CLIENT for a remote agent). */
export function traceAgent<T>(name: string, fn: (span: Span) => T, options: AgentOptions = {}): T {
  requireName('traceAgent name', name);
  const kind = options.remote ? SpanKind.CLIENT : SpanKind.INTERNAL;
  const span = startSpanLazy(`invoke_agent ${name}`, kind, getContextManager().active(), () => {
    const attributes: Attributes = {
      ...options.attributes,
      [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT,
      [ATTR_GEN_AI_AGENT_NAME]: name,
    };
    if (options.provider) attributes[ATTR_GEN_AI_PROVIDER_NAME] = options.provider;
    if (options.model) attributes[ATTR_GEN_AI_REQUEST_MODEL] = options.model;
    if (options.id) attributes[ATTR_GEN_AI_AGENT_ID] = options.id;
    if (options.description) attributes[ATTR_GEN_AI_AGENT_DESCRIPTION] = options.description;
    if (options.version) attributes[ATTR_GEN_AI_AGENT_VERSION] = options.version;
    setRequestAttributes(attributes, options);
    if (options.remote) setServer(attributes, options.serverAddress, options.serverPort);
    return attributes;
  });
  return runInSpan(span, undefined, fn);
}

function responseAttributes(info: LlmResponseInfo, stream: boolean): Attributes {
  const a: Attributes = {};
  if (info.responseModel) a[ATTR_GEN_AI_RESPONSE_MODEL] = info.responseModel;
  if (info.responseId) a[ATTR_GEN_AI_RESPONSE_ID] = info.responseId;
  if (info.inputTokens !== undefined) a[ATTR_GEN_AI_USAGE_INPUT_TOKENS] = info.inputTokens;
  if (info.outputTokens !== undefined) a[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] = info.outputTokens;
  if (info.cacheReadInputTokens !== undefined) a[ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = info.cacheReadInputTokens;
  if (info.cacheCreationInputTokens !== undefined)
    a[ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = info.cacheCreationInputTokens;
  if (info.reasoningOutputTokens !== undefined)
    a[ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = info.reasoningOutputTokens;
  if (info.finishReasons?.length) a[ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = info.finishReasons;
  if (stream && info.timeToFirstChunkSeconds !== undefined)
    a[ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = info.timeToFirstChunkSeconds;
  return a;
}

/** A CLIENT span `{operation} {model}` around one model call; usage and finish reasons come from the result. */
export function traceLlmCall<T>(options: LlmCallOptions<Awaited<T>>, fn: (span: Span) => T): T {
  requireName('traceLlmCall provider', options?.provider);
  requireName('traceLlmCall model', options.model);
  const operation = options.operation ?? GEN_AI_OPERATION_NAME_VALUE_CHAT;
  const stream = options.stream === true;
  const span = startSpanLazy(`${operation} ${options.model}`, SpanKind.CLIENT, getContextManager().active(), () => {
    const attributes: Attributes = {
      ...options.attributes,
      [ATTR_GEN_AI_OPERATION_NAME]: operation,
      [ATTR_GEN_AI_PROVIDER_NAME]: options.provider,
      [ATTR_GEN_AI_REQUEST_MODEL]: options.model,
    };
    setRequestAttributes(attributes, options);
    if (stream) attributes[ATTR_GEN_AI_REQUEST_STREAM] = true;
    setServer(attributes, options.serverAddress, options.serverPort);
    return attributes;
  });
  // One look at the capture setting per call; off by default, so no content work at all.
  const capture = getActive()?.captureContent === true && span.isRecording();
  if (capture) {
    if (options.systemInstructions !== undefined)
      captureContent(span, ATTR_GEN_AI_SYSTEM_INSTRUCTIONS, toSystemInstructions(options.systemInstructions));
    if (options.input !== undefined) captureContent(span, ATTR_GEN_AI_INPUT_MESSAGES, toInputMessages(options.input));
  }
  return runGenAi(span, fn, options.errorType ?? llmErrorType, (value) => {
    let info: LlmResponseInfo;
    try {
      info = (options.describe ? options.describe(value as Awaited<T>) : readLlmResult(value, capture)) ?? {};
    } catch {
      // A describe() bug must not fail the call it observes.
      info = {};
    }
    span.setAttributes(responseAttributes(info, stream));
    if (capture && info.output !== undefined)
      captureContent(span, ATTR_GEN_AI_OUTPUT_MESSAGES, toOutputMessages(info.output, info.finishReasons));
  });
}

/** An `execute_tool {name}` span around one tool call. */
export function traceTool<T>(name: string, fn: (span: Span) => T, options: ToolOptions = {}): T {
  requireName('traceTool name', name);
  const span = startSpanLazy(`execute_tool ${name}`, SpanKind.INTERNAL, getContextManager().active(), () => {
    const attributes: Attributes = {
      ...options.attributes,
      [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
      [ATTR_GEN_AI_TOOL_NAME]: name,
    };
    if (options.callId) attributes[ATTR_GEN_AI_TOOL_CALL_ID] = options.callId;
    if (options.description) attributes[ATTR_GEN_AI_TOOL_DESCRIPTION] = options.description;
    if (options.type) attributes[ATTR_GEN_AI_TOOL_TYPE] = options.type;
    return attributes;
  });
  captureContent(span, ATTR_GEN_AI_TOOL_CALL_ARGUMENTS, options.arguments);
  return runInSpan(span, undefined, fn, (value) => captureContent(span, ATTR_GEN_AI_TOOL_CALL_RESULT, value));
}
