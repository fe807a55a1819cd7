// The deep copy behind `redact(value)`: secret keys replaced, strings scrubbed, and every value
// bounded (depth, items per container, nodes per call, cycles) so that a huge or hostile object
// never blocks or crashes a log call.

export const CIRCULAR = '[Circular]';

export interface WalkerRules {
  isSecretKey(key: string): boolean;
  redactString(text: string): string;
  /** Called when a key's value is replaced. */
  onSecretKey(key: string): void;
  replacement: string;
  maxDepth: number;
  maxItems: number;
  maxNodes: number;
}

/** Reads a property whose getter may throw (proxies, lazy getters) without failing the log call. */
function readProp(obj: object, key: string): unknown {
  try {
    return (obj as Record<string, unknown>)[key];
  } catch {
    return '[Unreadable]';
  }
}

function copyPrimitive(value: unknown, rules: WalkerRules): unknown {
  switch (typeof value) {
    case 'string':
      return rules.redactString(value);
    case 'bigint':
    case 'symbol':
      return value.toString();
    case 'function':
      return `[Function${value.name ? `: ${value.name}` : ''}]`;
    default:
      return value;
  }
}

/** Values with a fixed rendering (dates, URLs, buffers…), or undefined for a container to walk. */
function render(obj: object, rules: WalkerRules): string | undefined {
  if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? 'Invalid Date' : obj.toISOString();
  if (obj instanceof URL) return rules.redactString(obj.href);
  if (obj instanceof RegExp) return obj.toString();
  if (ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer) return `[${obj.constructor.name} ${obj.byteLength} bytes]`;
  if (obj instanceof Promise || obj instanceof WeakMap || obj instanceof WeakSet) return `[${obj.constructor.name}]`;
  return undefined;
}

/** Per-call state: the rules, the path of containers being copied (cycles) and the node budget. */
interface Walk {
  rules: WalkerRules;
  path: Set<object>;
  nodes: number;
}

function keyed(w: Walk, key: string, value: unknown, depth: number): unknown {
  if (value !== undefined && w.rules.isSecretKey(key)) {
    w.rules.onSecretKey(key);
    return w.rules.replacement;
  }
  return copy(w, value, depth);
}

function copyArray(w: Walk, arr: unknown[], depth: number): unknown[] {
  const { maxItems, isSecretKey } = w.rules;
  const len = Math.min(arr.length, maxItems);
  const out: unknown[] = new Array(len);
  for (let i = 0; i < len; i++) {
    const item: unknown = arr[i];
    const prev: unknown = i > 0 ? arr[i - 1] : undefined;
    // Raw header lists (['Authorization', 'Bearer x', ...]): a secret name redacts the next value.
    if (typeof item === 'string' && typeof prev === 'string' && isSecretKey(prev)) {
      w.rules.onSecretKey(prev);
      out[i] = w.rules.replacement;
    } else out[i] = copy(w, item, depth + 1);
  }
  if (arr.length > maxItems) out.push(`[${arr.length - maxItems} more items]`);
  return out;
}

function copyEntries(w: Walk, entries: Iterable<[unknown, unknown]>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let n = 0;
  let extra = 0;
  for (const [k, v] of entries) {
    if (n++ >= w.rules.maxItems) extra++;
    else out[String(k)] = keyed(w, String(k), v, depth + 1);
  }
  if (extra) out['…'] = `[${extra} more keys]`;
  return out;
}

// The hot path of every log call: a plain for-in, no iterator.
function copyPlain(w: Walk, obj: object, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const maxItems = w.rules.maxItems;
  let n = 0;
  let extra = 0;
  for (const key in obj) {
    if (!Object.prototype.hasOwnProperty.call(obj, key)) continue;
    if (n++ >= maxItems) extra++;
    else out[key] = keyed(w, key, readProp(obj, key), depth + 1);
  }
  if (extra) out['…'] = `[${extra} more keys]`;
  return out;
}

function copyError(w: Walk, err: Error, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {
    type: err.name || err.constructor?.name || 'Error',
    message: w.rules.redactString(String(err.message ?? '')),
  };
  if (typeof err.stack === 'string') out.stack = w.rules.redactString(err.stack);
  for (const key of Object.keys(err)) {
    if (key === 'stack' || key === 'message' || key === 'cause') continue;
    out[key] = keyed(w, key, readProp(err, key), depth + 1);
  }
  if ('cause' in err && err.cause !== undefined) out.cause = copy(w, err.cause, depth + 1);
  return out;
}

function copyObject(w: Walk, obj: object, depth: number): unknown {
  if (Array.isArray(obj)) return copyArray(w, obj, depth);
  if (obj instanceof Error) return copyError(w, obj, depth);
  const fixed = render(obj, w.rules);
  if (fixed !== undefined) return fixed;
  if (obj instanceof Map) return copyEntries(w, obj.entries(), depth);
  if (obj instanceof Set) return copyArray(w, Array.from(obj), depth);
  if (typeof Headers !== 'undefined' && obj instanceof Headers) return copyEntries(w, obj.entries(), depth);
  const toJSON = (obj as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    w.path.delete(obj);
    try {
      return copy(w, toJSON.call(obj), depth);
    } catch {
      return '[Unserializable]';
    }
  }
  return copyPlain(w, obj, depth);
}

function copy(w: Walk, value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object') return copyPrimitive(value, w.rules);
  if (++w.nodes > w.rules.maxNodes) return '[Truncated]';
  if (depth >= w.rules.maxDepth) return '[MaxDepth]';
  if (w.path.has(value)) return CIRCULAR;
  w.path.add(value);
  try {
    return copyObject(w, value, depth);
  } catch {
    // Proxies and exotic objects can throw while being enumerated: never fail the log call.
    return '[Unreadable]';
  } finally {
    w.path.delete(value);
  }
}

/** Returns `redact(value)` for these rules. */
export function createWalker(rules: WalkerRules): (value: unknown) => unknown {
  return function redactValue(value: unknown): unknown {
    if (typeof value === 'string') return rules.redactString(value);
    // Primitives need no walk state; only containers pay for the cycle-detection set.
    if (value === null || typeof value !== 'object') return copyPrimitive(value, rules);
    return copy({ rules, path: new Set(), nodes: 0 }, value, 0);
  };
}
