// Stable keys: canonical JSON (sorted object keys, tagged non-JSON types) hashed with SHA-256,
// so argument order inside objects never changes a key and collisions are not a practical risk.
import { createHash } from 'node:crypto';
import { CacheInputError } from './errors';

export function sha256Hex(input: string | Buffer): string {
  return createHash('sha256').update(input).digest('hex');
}

/** JSON with sorted keys; Dates, Maps, Sets, bigints, Buffers and typed arrays get tagged forms. */
export function canonicalJson(value: unknown): string {
  return write(value, new Set<object>(), 'value');
}

function write(v: unknown, seen: Set<object>, path: string): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? JSON.stringify(v) : `{"$num":"${String(v)}"}`;
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return `{"$bigint":"${v.toString()}"}`;
    case 'undefined':
      return 'null';
    case 'function':
    case 'symbol':
      throw new CacheInputError('key arguments', `${path} is a ${typeof v} and cannot be part of a cache key`);
  }
  if (v === null) return 'null';
  const obj = v as object;
  if (seen.has(obj))
    throw new CacheInputError('key arguments', `${path} is circular and cannot be part of a cache key`);
  seen.add(obj);
  try {
    if (obj instanceof Date)
      return `{"$date":${JSON.stringify(Number.isNaN(obj.getTime()) ? 'invalid' : obj.toISOString())}}`;
    if (ArrayBuffer.isView(obj)) {
      const bytes = Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength);
      return `{"$bytes":"${obj.constructor.name}:${bytes.toString('base64')}"}`;
    }
    if (Array.isArray(obj)) return `[${obj.map((x, i) => write(x, seen, `${path}[${i}]`)).join(',')}]`;
    if (obj instanceof Map) {
      const entries = [...obj.entries()].map(
        ([k, x]) => [write(k, seen, `${path}.key`), write(x, seen, `${path}.value`)] as const,
      );
      entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      return `{"$map":[${entries.map(([k, x]) => `[${k},${x}]`).join(',')}]}`;
    }
    if (obj instanceof Set) {
      const items = [...obj].map((x) => write(x, seen, `${path}.item`)).sort();
      return `{"$set":[${items.join(',')}]}`;
    }
    const keys = Object.keys(obj).sort();
    const parts: string[] = [];
    for (const k of keys) {
      const x = (obj as Record<string, unknown>)[k];
      if (x === undefined) continue; // as JSON does: {a: undefined} and {} are the same key
      parts.push(`${JSON.stringify(k)}:${write(x, seen, `${path}.${k}`)}`);
    }
    return `{${parts.join(',')}}`;
  } finally {
    seen.delete(obj);
  }
}

/** A key for arbitrary arguments: `prefix:` + SHA-256 of their canonical JSON. */
export function argsKey(prefix: string, args: readonly unknown[]): string {
  return `${prefix}:${sha256Hex(canonicalJson(args))}`;
}

export interface LlmKeyInput {
  model: string;
  /** Sampling and tool parameters that change the answer (temperature, max tokens, tools, …). */
  params?: Record<string, unknown>;
  messages: readonly unknown[];
}

/** Key for an LLM call: same model, parameters and messages → same key, whatever the property order. */
export function llmCacheKey(input: LlmKeyInput): string {
  if (!input || typeof input.model !== 'string' || input.model === '')
    throw new CacheInputError('llmCacheKey.model', 'must be a non-empty string');
  if (!Array.isArray(input.messages)) throw new CacheInputError('llmCacheKey.messages', 'must be an array');
  return `llm:${input.model}:${sha256Hex(canonicalJson({ model: input.model, params: input.params ?? {}, messages: input.messages }))}`;
}
