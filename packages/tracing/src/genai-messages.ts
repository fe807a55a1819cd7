// Captured GenAI content in the shapes of the conventions' JSON schemas
// (gen-ai-input-messages.json, gen-ai-output-messages.json, gen-ai-system-instructions.json):
// messages are `{ role, parts: [{ type, content | … }] }`, output messages carry `finish_reason`.
// Provider shapes understood: OpenAI chat (content string or parts, tool_calls, tool_call_id),
// OpenAI-style camelCase (toolCalls, toolCallId), Anthropic (content blocks text, tool_use,
// tool_result, thinking, image) and messages already in the schema. Truncation cuts string
// values inside the structure, so the recorded JSON always parses.

type Loose = Record<string, unknown>;

/** A message part of the schemas; `type` names it, the other fields depend on the type. */
export interface MessagePart {
  type: string;
  [field: string]: unknown;
}
export interface InputMessage {
  role: string;
  parts: MessagePart[];
  name?: string;
}
export interface OutputMessage extends InputMessage {
  finish_reason: string;
}

const obj = (v: unknown): Loose | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Loose) : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Provider finish reasons → the schema's FinishReason where one matches; others pass through. */
const FINISH_REASONS: Readonly<Record<string, string>> = {
  stop: 'stop',
  end_turn: 'stop',
  stop_sequence: 'stop',
  STOP: 'stop',
  length: 'length',
  max_tokens: 'length',
  MAX_TOKENS: 'length',
  content_filter: 'content_filter',
  refusal: 'content_filter',
  SAFETY: 'content_filter',
  tool_calls: 'tool_call',
  tool_use: 'tool_call',
  function_call: 'tool_call',
  tool_call: 'tool_call',
  error: 'error',
};

export function normalizeFinishReason(reason: string): string {
  return FINISH_REASONS[reason] ?? reason;
}

/** Tool arguments arrive as JSON text from OpenAI: the schema wants the object when it parses. */
function parseArguments(value: unknown): unknown {
  if (typeof value !== 'string') return value ?? null;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

function toolCallPart(call: unknown): MessagePart | undefined {
  const c = obj(call);
  if (!c) return undefined;
  const fn = obj(c.function);
  const name = str(fn?.name) ?? str(c.name);
  if (name === undefined) return undefined;
  return { type: 'tool_call', id: str(c.id) ?? null, name, arguments: parseArguments(fn ? fn.arguments : c.arguments) };
}

function mediaPart(block: Loose, modality: string): MessagePart {
  const source = obj(block.source);
  const url = str(obj(block.image_url)?.url) ?? str(source?.url) ?? str(block.url);
  const mime = str(source?.media_type) ?? null;
  if (url !== undefined && !url.startsWith('data:')) return { type: 'uri', modality, mime_type: mime, uri: url };
  if (str(source?.data) !== undefined) return { type: 'blob', modality, mime_type: mime, content: source!.data };
  if (url !== undefined) {
    // A base64 data URL is inline data: a blob part, as the schema asks.
    const m = /^data:([^;,]*)(?:;base64)?,(.*)$/s.exec(url);
    return { type: 'blob', modality, mime_type: m?.[1] || mime, content: m?.[2] ?? url };
  }
  return { ...block, type: String(block.type) };
}

/** One content block (OpenAI content part or Anthropic block) as a schema part. */
function blockPart(block: unknown): MessagePart | undefined {
  if (typeof block === 'string') return { type: 'text', content: block };
  const b = obj(block);
  if (!b || typeof b.type !== 'string') return undefined;
  switch (b.type) {
    case 'text':
    case 'input_text':
    case 'output_text':
      return { type: 'text', content: str(b.text) ?? str(b.content) ?? '' };
    case 'thinking':
    case 'reasoning':
      return { type: 'reasoning', content: str(b.thinking) ?? str(b.content) ?? str(b.text) ?? '' };
    case 'tool_use':
      return { type: 'tool_call', id: str(b.id) ?? null, name: str(b.name) ?? '', arguments: b.input ?? null };
    case 'tool_result':
      return { type: 'tool_call_response', id: str(b.tool_use_id) ?? null, response: flattenText(b.content) };
    case 'image':
    case 'image_url':
    case 'input_image':
      return mediaPart(b, 'image');
    case 'input_audio':
      return { type: 'blob', modality: 'audio', mime_type: null, content: str(obj(b.input_audio)?.data) ?? '' };
    default:
      // Already a schema part (tool_call, uri, blob, …) or a provider-specific one: GenericPart.
      return b as MessagePart;
  }
}

/** Anthropic tool results may be a list of text blocks: their text, else the value itself. */
function flattenText(content: unknown): unknown {
  if (!Array.isArray(content)) return content ?? null;
  const texts = content.map((b) => (typeof b === 'string' ? b : str(obj(b)?.text)));
  return texts.every((t) => t !== undefined) ? texts.join('') : content;
}

function contentParts(content: unknown): MessagePart[] {
  if (content === undefined || content === null || content === '') return [];
  if (typeof content === 'string') return [{ type: 'text', content }];
  if (Array.isArray(content)) {
    const out: MessagePart[] = [];
    for (const block of content) {
      const part = blockPart(block);
      if (part) out.push(part);
    }
    return out;
  }
  const part = blockPart(content);
  return part ? [part] : [{ type: 'text', content: JSON.stringify(content) ?? String(content) }];
}

/** One provider message (any of the shapes above) as a schema message. */
export function toMessage(message: unknown): InputMessage {
  if (typeof message === 'string') return { role: 'user', parts: [{ type: 'text', content: message }] };
  const m = obj(message);
  if (!m) return { role: 'user', parts: [{ type: 'text', content: JSON.stringify(message) ?? String(message) }] };
  const role = str(m.role) ?? 'user';
  if (Array.isArray(m.parts)) return m as unknown as InputMessage;
  const toolCallId = str(m.tool_call_id) ?? str(m.toolCallId);
  const parts: MessagePart[] =
    role === 'tool' || role === 'function' || toolCallId !== undefined
      ? [{ type: 'tool_call_response', id: toolCallId ?? null, response: flattenText(m.content) }]
      : contentParts(m.content);
  const calls = Array.isArray(m.tool_calls) ? m.tool_calls : Array.isArray(m.toolCalls) ? m.toolCalls : [];
  for (const call of calls) {
    const part = toolCallPart(call);
    if (part) parts.push(part);
  }
  const out: InputMessage = { role: role === 'function' ? 'tool' : role, parts };
  if (typeof m.name === 'string') out.name = m.name;
  return out;
}

/** `gen_ai.input.messages`: a list of provider messages, or one prompt string. */
export function toInputMessages(input: unknown): InputMessage[] {
  if (input === undefined || input === null) return [];
  if (Array.isArray(input)) return input.map(toMessage);
  const o = obj(input);
  // A request object: { messages, system? } (the system prompt goes to gen_ai.system_instructions).
  if (o && Array.isArray(o.messages)) return o.messages.map(toMessage);
  return [toMessage(input)];
}

/** `gen_ai.system_instructions`: a string, Anthropic's `system` (string or text blocks), or parts. */
export function toSystemInstructions(system: unknown): MessagePart[] {
  return contentParts(system);
}

function isToolCallLike(v: unknown): boolean {
  const o = obj(v);
  return o !== undefined && o.role === undefined && (typeof o.name === 'string' || obj(o.function) !== undefined);
}

/**
 * `gen_ai.output.messages` from what the call returned: an OpenAI result (one message per
 * choice), an Anthropic message (content blocks, stop_reason), schema messages, a completion
 * string, or a list of tool calls. `finishReasons` fills in a message's missing finish_reason.
 */
export function toOutputMessages(output: unknown, finishReasons: readonly string[] = []): OutputMessage[] {
  const reason = (i: number, own?: unknown): string =>
    normalizeFinishReason(str(own) ?? finishReasons[i] ?? finishReasons[0] ?? 'stop');
  if (output === undefined || output === null) return [];
  const o = obj(output);
  if (o && Array.isArray(o.choices))
    return o.choices.map((c, i) => {
      const choice = obj(c) ?? {};
      const msg = toMessage(choice.message ?? obj(choice.delta) ?? { role: 'assistant', content: choice.text });
      return { ...msg, role: 'assistant', finish_reason: reason(i, choice.finish_reason) };
    });
  if (o && (Array.isArray(o.content) || typeof o.stop_reason === 'string'))
    return [{ role: 'assistant', parts: contentParts(o.content), finish_reason: reason(0, o.stop_reason) }];
  if (Array.isArray(output) && output.length > 0 && output.every(isToolCallLike)) {
    const parts = output.map(toolCallPart).filter((p): p is MessagePart => p !== undefined);
    return [{ role: 'assistant', parts, finish_reason: reason(0) }];
  }
  const list = Array.isArray(output) ? output : [output];
  return list.map((item, i) => {
    const msg = toMessage(typeof item === 'string' ? { role: 'assistant', content: item } : item);
    const own = obj(item)?.finish_reason;
    return { ...msg, finish_reason: reason(i, own) };
  });
}

// --- truncation that keeps the JSON valid ----------------------------------------------------

/** Fields that identify rather than carry content: never cut. */
const STRUCTURAL = new Set(['type', 'role', 'id', 'name', 'finish_reason', 'mime_type', 'modality', 'file_id']);

function marker(cut: number): string {
  return `…[truncated ${cut} chars]`;
}

function cutString(s: string, cap: number): string {
  if (s.length <= cap) return s;
  let end = cap;
  // Never split a surrogate pair.
  const code = s.charCodeAt(end - 1);
  if (end > 0 && code >= 0xd800 && code <= 0xdbff) end--;
  return s.slice(0, end) + marker(s.length - end);
}

/** A copy of `value` with every content string longer than `cap` cut to `cap` chars plus a marker. */
function capStrings(value: unknown, cap: number, key?: string): unknown {
  if (typeof value === 'string') return key !== undefined && STRUCTURAL.has(key) ? value : cutString(value, cap);
  if (Array.isArray(value)) return value.map((v) => capStrings(v, cap));
  const o = obj(value);
  if (!o) return value;
  const out: Loose = {};
  for (const k of Object.keys(o)) out[k] = capStrings(o[k], cap, k);
  return out;
}

/** Structured tool arguments/responses become their JSON text when cutting is needed, so they can be cut too. */
function stringifyPayloads(value: unknown, key?: string): unknown {
  if ((key === 'arguments' || key === 'response') && value !== null && typeof value === 'object')
    return JSON.stringify(value);
  if (Array.isArray(value)) return value.map((v) => stringifyPayloads(v));
  const o = obj(value);
  if (!o) return value;
  const out: Loose = {};
  for (const k of Object.keys(o)) out[k] = stringifyPayloads(o[k], k);
  return out;
}

function longestString(value: unknown): number {
  if (typeof value === 'string') return value.length;
  let max = 0;
  if (Array.isArray(value)) for (const v of value) max = Math.max(max, longestString(v));
  else if (obj(value)) for (const v of Object.values(value as Loose)) max = Math.max(max, longestString(v));
  return max;
}

/**
 * Serializes `value` as JSON of at most `maxLength` characters where possible: string values are
 * cut (with a `…[truncated N chars]` marker) to the largest common length that fits, and the
 * oldest list items are dropped when even empty strings do not fit. The result always parses.
 */
export function serializeWithin(value: unknown, maxLength: number): string {
  const whole = JSON.stringify(value) ?? 'null';
  if (whole.length <= maxLength) return whole;
  let v = stringifyPayloads(value);
  for (;;) {
    let lo = 0;
    let hi = longestString(v);
    let best: string | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const text = JSON.stringify(capStrings(v, mid)) ?? 'null';
      if (text.length <= maxLength) {
        best = text;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (best !== undefined) return best;
    // Nothing fits: drop the oldest item and try again; a single item is kept, cut to nothing.
    if (Array.isArray(v) && v.length > 1) v = v.slice(1);
    else return JSON.stringify(capStrings(v, 0)) ?? 'null';
  }
}
