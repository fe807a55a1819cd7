// Redaction of secrets in log records, span attributes, /status output and error messages.
// It runs on every log call, so the hot path is kept cheap: key checks hit a cache keyed by the
// raw key, and strings are scanned by the individual patterns only when one cheap trigger regex
// says a secret could be in them.
import { ConfigError } from './errors';

const configError = (option: string, accepted: string, got?: unknown) =>
  new ConfigError(`redact.${option}`, accepted, got, { code: 'ERR_CORE_CONFIG' });

export const REDACTED = '[REDACTED]';
export const CIRCULAR = '[Circular]';

/** Secret keys matched case-insensitively, ignoring `-` and `_` (so api_key = apiKey = api-key). */
export const DEFAULT_REDACT_KEYS: readonly string[] = [
  'password',
  'passwd',
  'pwd',
  'pass',
  'passphrase',
  'secret',
  'token',
  'api_key',
  'apikey',
  'x-api-key',
  'authorization',
  'proxy-authorization',
  'auth',
  'cookie',
  'set-cookie',
  'private_key',
  'client_secret',
  'access_key',
  'access_key_id',
  'secret_access_key',
  'session_token',
  'refresh_token',
  'access_token',
  'id_token',
  'credentials',
  'credential',
  'connection_string',
  'dsn',
];

/** A key ending in one of these (after normalization) is secret too: db_password, githubToken, stripeSecret. */
export const DEFAULT_REDACT_KEY_SUFFIXES: readonly string[] = [
  'password',
  'passwd',
  'secret',
  'token',
  'apikey',
  'privatekey',
  'accesskey',
  'secretkey',
  'credentials',
  'sessionid',
  'subscriptionkey',
];

export interface RedactPattern {
  /** Names the pattern in counts and metrics. */
  name: string;
  /** Matched anywhere in a string; the `g` flag is added when missing. */
  regex: RegExp;
  /** Replacement (a String.replace template, `$1` allowed); default `[REDACTED]`. */
  replacement?: string;
  /**
   * A cheap regex that matches every string `regex` can match (a superset), tried first (default:
   * `regex` itself). Custom patterns only need it when `regex` is costly.
   */
  trigger?: RegExp;
}

/** Cheap superset checks for the built-in patterns: `includes` is several times faster than a regex test. */
type FastCheck = (text: string, lower: string) => boolean;
const BUILTIN: { pattern: RedactPattern; check: FastCheck }[] = [
  // scheme://user:password@host → scheme://user:[REDACTED]@host
  {
    pattern: {
      name: 'url_password',
      regex: /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:/?#@]*):([^\s@/]+)@/gi,
      replacement: `$1$2:${REDACTED}@`,
      trigger: /:\/\//,
    },
    check: (t) => t.includes('://'),
  },
  // Authorization header values.
  {
    pattern: {
      name: 'bearer',
      regex: /\b(bearer)(\s+)[A-Za-z0-9\-._~+/]{8,}=*/gi,
      replacement: `$1$2${REDACTED}`,
      trigger: /bearer/i,
    },
    check: (_t, l) => l.includes('bearer'),
  },
  // Basic credentials: base64 with a digit, +/= or a capital after its first letter, so prose like
  // "basic configuration" or "Basic Configuration" is left alone.
  {
    pattern: {
      name: 'basic',
      regex: /\b([Bb][Aa][Ss][Ii][Cc])(\s+)(?=[A-Za-z0-9+/][A-Za-z0-9+/]*[0-9+/=A-Z])[A-Za-z0-9+/]{8,}={0,2}/g,
      replacement: `$1$2${REDACTED}`,
      trigger: /basic/i,
    },
    check: (_t, l) => l.includes('basic'),
  },
  // key=value and "key": "value" pairs inside free text (query strings, config dumps, JSON).
  // The stem may end any key (db_password, x-api-key, libpq's sslpassword); the prefix stays as it is.
  {
    pattern: {
      name: 'key_value',
      regex:
        /((?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|auth))(["']?\s*[=:]\s*["']?)([^\s"'&,;}]+)/gi,
      replacement: `$1$2${REDACTED}`,
      trigger: /[=:]/,
    },
    check: (t, l) =>
      (t.includes('=') || t.includes(':')) &&
      (l.includes('pass') ||
        l.includes('pwd') ||
        l.includes('secret') ||
        l.includes('token') ||
        l.includes('key') ||
        l.includes('auth')),
  },
  // PEM private keys (multi-line blocks in config dumps and errors).
  {
    pattern: {
      name: 'private_key_block',
      regex: /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
      trigger: /PRIVATE KEY-----/,
    },
    check: (t) => t.includes('PRIVATE KEY-----'),
  },
  // JSON Web Tokens (header.payload.signature, header and payload start with '{"' in base64url).
  {
    pattern: { name: 'jwt', regex: /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, trigger: /eyJ/ },
    check: (t) => t.includes('eyJ'),
  },
  // OpenAI / Anthropic style secret keys: sk-..., sk-proj-..., sk-ant-...
  { pattern: { name: 'api_key', regex: /\bsk-[A-Za-z0-9_-]{16,}/g, trigger: /sk-/ }, check: (t) => t.includes('sk-') },
  // Cloud and SaaS access key ids and tokens: AWS, Google API keys, GitHub, Slack.
  {
    pattern: {
      name: 'cloud_key',
      regex:
        /\b(?:(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35}|gh[pousr]_[A-Za-z0-9]{36,}|xox[abprs]-[A-Za-z0-9-]{10,})\b/g,
      trigger: /A(?:KIA|SIA|GPA|IDA|ROA|Iza)|gh[pousr]_|xox/,
    },
    check: (t) =>
      (t.includes('A') && /A(?:KIA|SIA|GPA|IDA|ROA|Iza)/.test(t)) ||
      (t.includes('_') && /gh[pousr]_/.test(t)) ||
      t.includes('xox'),
  },
];

/**
 * Built-in patterns. Order matters: URL credentials first (so `user:pass@host` keeps the host),
 * then bearer/basic credentials, then bare token shapes.
 */
export const DEFAULT_REDACT_PATTERNS: readonly RedactPattern[] = Object.freeze(
  BUILTIN.map((b) => Object.freeze(b.pattern)),
);
const FAST_CHECKS = new Map<RedactPattern, FastCheck>(BUILTIN.map((b, i) => [DEFAULT_REDACT_PATTERNS[i], b.check]));

export interface RedactorOptions {
  /** Extra secret keys (case-insensitive, `-`/`_` ignored). */
  keys?: readonly string[];
  /** Replace the default key list instead of extending it. Default false. */
  replaceDefaultKeys?: boolean;
  /** Also treat keys ending in DEFAULT_REDACT_KEY_SUFFIXES as secret. Default true. */
  keySuffixes?: boolean;
  /** Extra string patterns. */
  patterns?: readonly RedactPattern[];
  /** Use the built-in patterns. Default true. */
  defaultPatterns?: boolean;
  /** Replacement text. Default `[REDACTED]`. */
  replacement?: string;
  /** Objects nested deeper than this become `[MaxDepth]`. Default 10. */
  maxDepth?: number;
  /** Longer strings are cut (at a word boundary, so a cut secret is not half-kept). Default 16384. */
  maxStringLength?: number;
  /** Array items / object keys kept per container; the rest is counted in a marker. Default 500. */
  maxItems?: number;
  /** Values visited per call; past it, values become `[Truncated]`. Default 5000. */
  maxNodes?: number;
  /** Called once per redaction (for metrics). */
  onRedaction?: (kind: 'key' | 'pattern', name: string) => void;
}

export interface Redactor {
  /** A deep copy of `value` with secrets replaced; cyclic, deep and huge values are bounded. */
  redact(value: unknown): unknown;
  /** `text` with secret patterns replaced (and cut to maxStringLength). */
  redactString(text: string): string;
  /** The redacted copy of a value stored under `key` (a log field, a span attribute, a header). */
  redactAttribute(key: string, value: unknown): unknown;
  /** Whether a property / header name is a secret key. */
  isSecretKey(key: string): boolean;
}

interface CompiledPattern {
  name: string;
  regex: RegExp;
  replacement: string;
  check: FastCheck;
}

function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[-_\s.]/g, '');
}

function positiveInt(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw configError(option, 'a positive integer', value);
  return value;
}

function compilePattern(p: RedactPattern, defaultReplacement: string): CompiledPattern {
  if (!p || typeof p.name !== 'string' || !(p.regex instanceof RegExp)) {
    throw configError('patterns', '{ name: string, regex: RegExp, replacement?: string, trigger?: RegExp }', p);
  }
  if (p.trigger !== undefined && !(p.trigger instanceof RegExp))
    throw configError(`patterns.${p.name}.trigger`, 'a RegExp', p.trigger);
  const flags = p.regex.flags.includes('g') ? p.regex.flags : p.regex.flags + 'g';
  // Triggers are only tested, never iterated: drop g/y so lastIndex never carries state.
  const trigger = p.trigger ?? p.regex;
  const test = new RegExp(trigger.source, trigger.flags.replace(/[gy]/g, ''));
  return {
    name: p.name,
    regex: new RegExp(p.regex.source, flags),
    replacement: p.replacement ?? defaultReplacement,
    check: FAST_CHECKS.get(p) ?? ((t) => test.test(t)),
  };
}

/** Per-call state: the path of containers being copied (cycle detection) and the node budget. */
interface Walk {
  path: Set<object>;
  nodes: number;
}
// Never touched: copy() only uses the walk for objects, and primitives are passed with this.
const NO_WALK: Walk = { path: new Set(), nodes: 0 };

export function createRedactor(options: RedactorOptions = {}): Redactor {
  if (options === null || typeof options !== 'object') throw configError('options', 'an options object', options);
  const replacement = options.replacement ?? REDACTED;
  if (typeof replacement !== 'string') throw configError('replacement', 'a string', replacement);
  const maxDepth = positiveInt('maxDepth', options.maxDepth, 10);
  const maxStringLength = positiveInt('maxStringLength', options.maxStringLength, 16384);
  const maxItems = positiveInt('maxItems', options.maxItems, 500);
  const maxNodes = positiveInt('maxNodes', options.maxNodes, 5000);
  if (
    options.keys !== undefined &&
    (!Array.isArray(options.keys) || options.keys.some((k) => typeof k !== 'string' || k === ''))
  ) {
    throw configError('keys', 'an array of non-empty strings', options.keys);
  }
  if (options.patterns !== undefined && !Array.isArray(options.patterns))
    throw configError('patterns', 'an array of patterns', options.patterns);
  const onRedaction = options.onRedaction;

  const keySet = new Set<string>();
  for (const k of options.replaceDefaultKeys ? [] : DEFAULT_REDACT_KEYS) keySet.add(normalizeKey(k));
  for (const k of options.keys ?? []) keySet.add(normalizeKey(k));
  const suffixes = options.keySuffixes === false ? [] : DEFAULT_REDACT_KEY_SUFFIXES;

  const sources: RedactPattern[] = [
    ...(options.defaultPatterns === false ? [] : DEFAULT_REDACT_PATTERNS),
    ...(options.patterns ?? []),
  ];
  const patterns: CompiledPattern[] = sources.map((p) => compilePattern(p, replacement));
  // One combined trigger: most log strings ('task done', 'gpt-4o', ids) fail it in one scan. The
  // built-in triggers are case-sensitive literals and classes, which V8 scans much faster than /i.
  // Flags i/m/s only widen what matches, so their union keeps it a superset; u changes parsing.
  const triggers = sources.map((p) => p.trigger ?? p.regex);
  const unionFlags = [...new Set(triggers.flatMap((t) => [...t.flags]))];
  const anyTrigger =
    patterns.length === 0
      ? null
      : unionFlags.some((f) => f === 'u' || f === 'v')
        ? /[^]/
        : new RegExp(
            triggers.map((t) => `(?:${t.source})`).join('|'),
            unionFlags.filter((f) => 'ims'.includes(f)).join(''),
          );

  // Keys repeat endlessly in logs; remember the verdict per raw key (bounded).
  const keyCache = new Map<string, boolean>();
  function isSecretKey(key: string): boolean {
    const hit = keyCache.get(key);
    if (hit !== undefined) return hit;
    const n = normalizeKey(key);
    let secret = keySet.has(n);
    for (let i = 0; !secret && i < suffixes.length; i++) secret = n.endsWith(suffixes[i]);
    if (keyCache.size >= 10000) keyCache.clear();
    keyCache.set(key, secret);
    return secret;
  }

  // No built-in pattern matches fewer than 5 characters ("pwd=x"); custom patterns might.
  const minLength = options.patterns?.length ? 0 : 5;
  function scrub(text: string): string {
    if (text.length < minLength || anyTrigger === null || !anyTrigger.test(text)) return text;
    let out = text;
    // Checks run on the original text: replacements only remove secrets, never add trigger text.
    const lower = text.toLowerCase();
    for (const p of patterns) {
      if (!p.check(text, lower)) continue;
      p.regex.lastIndex = 0;
      const before = out;
      out = out.replace(p.regex, p.replacement);
      if (onRedaction && out !== before) onRedaction('pattern', p.name);
    }
    return out;
  }

  function redactString(text: string): string {
    if (typeof text !== 'string') text = String(text);
    if (text.length <= maxStringLength) return scrub(text);
    // Cut at the last whitespace so a secret straddling the cut is dropped, not half-kept.
    let cut = text.slice(0, maxStringLength);
    const ws = Math.max(cut.lastIndexOf(' '), cut.lastIndexOf('\n'), cut.lastIndexOf('\t'));
    cut = ws > 0 ? cut.slice(0, ws) : '';
    return `${scrub(cut)}…[truncated ${text.length - cut.length} chars]`;
  }

  function redactKeyed(key: string, value: unknown, depth: number, walk: Walk): unknown {
    if (value !== undefined && isSecretKey(key)) {
      onRedaction?.('key', key);
      return replacement;
    }
    return copy(value, depth, walk);
  }

  function copyError(err: Error, depth: number, walk: Walk): Record<string, unknown> {
    const out: Record<string, unknown> = {
      type: err.name || err.constructor?.name || 'Error',
      message: redactString(String(err.message ?? '')),
    };
    if (typeof err.stack === 'string') out.stack = redactString(err.stack);
    for (const key of Object.keys(err)) {
      if (key === 'stack' || key === 'message' || key === 'cause') continue;
      out[key] = redactKeyed(key, readProp(err, key), depth + 1, walk);
    }
    if ('cause' in err && err.cause !== undefined) out.cause = copy(err.cause, depth + 1, walk);
    return out;
  }

  function copyEntries(entries: Iterable<[unknown, unknown]>, depth: number, walk: Walk): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    let n = 0;
    let extra = 0;
    for (const [k, v] of entries) {
      if (n >= maxItems) {
        extra++;
        continue;
      }
      const key = typeof k === 'string' ? k : String(k);
      out[key] = redactKeyed(key, v, depth + 1, walk);
      n++;
    }
    if (extra) out['…'] = `[${extra} more keys]`;
    return out;
  }

  function copy(value: unknown, depth: number, walk: Walk): unknown {
    switch (typeof value) {
      case 'string':
        return redactString(value);
      case 'number':
      case 'boolean':
      case 'undefined':
        return value;
      case 'bigint':
        return value.toString();
      case 'symbol':
        return value.toString();
      case 'function':
        return `[Function${value.name ? `: ${value.name}` : ''}]`;
    }
    if (value === null) return null;
    const obj = value as object;
    if (++walk.nodes > maxNodes) return '[Truncated]';
    if (depth >= maxDepth) return '[MaxDepth]';
    if (walk.path.has(obj)) return CIRCULAR;
    walk.path.add(obj);
    try {
      if (Array.isArray(obj)) {
        const len = Math.min(obj.length, maxItems);
        const out: unknown[] = new Array(len);
        for (let i = 0; i < len; i++) {
          const item: unknown = obj[i];
          // Raw header lists (['Authorization', 'Bearer x', ...]): a secret name redacts the next value.
          if (
            i > 0 &&
            typeof item === 'string' &&
            typeof obj[i - 1] === 'string' &&
            isSecretKey(obj[i - 1] as string)
          ) {
            onRedaction?.('key', obj[i - 1] as string);
            out[i] = replacement;
          } else {
            out[i] = copy(item, depth + 1, walk);
          }
        }
        if (obj.length > maxItems) out.push(`[${obj.length - maxItems} more items]`);
        return out;
      }
      if (obj instanceof Error) return copyError(obj, depth, walk);
      if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? 'Invalid Date' : obj.toISOString();
      if (obj instanceof URL) return redactString(obj.href);
      if (obj instanceof RegExp) return obj.toString();
      if (ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer)
        return `[${obj.constructor.name} ${obj.byteLength} bytes]`;
      if (obj instanceof Map) return copyEntries(obj.entries(), depth, walk);
      if (obj instanceof Set) return copy(Array.from(obj), depth, walk);
      if (typeof Headers !== 'undefined' && obj instanceof Headers) return copyEntries(obj.entries(), depth, walk);
      if (obj instanceof Promise || obj instanceof WeakMap || obj instanceof WeakSet)
        return `[${obj.constructor.name}]`;
      const toJSON = (obj as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') {
        walk.path.delete(obj);
        try {
          return copy(toJSON.call(obj), depth, walk);
        } catch {
          return '[Unserializable]';
        }
      }
      const out: Record<string, unknown> = {};
      let n = 0;
      let extra = 0;
      for (const key in obj) {
        if (!Object.prototype.hasOwnProperty.call(obj, key)) continue;
        if (n >= maxItems) {
          extra++;
          continue;
        }
        out[key] = redactKeyed(key, readProp(obj, key), depth + 1, walk);
        n++;
      }
      if (extra) out['…'] = `[${extra} more keys]`;
      return out;
    } catch {
      // Proxies and exotic objects can throw while being enumerated: never fail the log call.
      return '[Unreadable]';
    } finally {
      walk.path.delete(obj);
    }
  }

  // Primitives need no walk state; only containers pay for the cycle-detection set.
  function redactValue(value: unknown): unknown {
    if (typeof value === 'string') return redactString(value);
    if (value === null || typeof value !== 'object') return copy(value, 0, NO_WALK);
    return copy(value, 0, { path: new Set(), nodes: 0 });
  }

  return {
    redact: redactValue,
    redactString,
    redactAttribute(key: string, value: unknown): unknown {
      if (value !== undefined && isSecretKey(key)) {
        onRedaction?.('key', key);
        return replacement;
      }
      return redactValue(value);
    },
    isSecretKey,
  };
}

/** Reads a property whose getter may throw (proxies, lazy getters) without failing the log call. */
function readProp(obj: object, key: string): unknown {
  try {
    return (obj as Record<string, unknown>)[key];
  } catch {
    return '[Unreadable]';
  }
}

const defaultRedactor = createRedactor();

/** Deep copy of `value` with secrets replaced by `[REDACTED]`, using the default rules. */
export function redact(value: unknown): unknown {
  return defaultRedactor.redact(value);
}

/** `text` with secret patterns (bearer tokens, API keys, JWTs, URL passwords, key=value) replaced. */
export function redactString(text: string): string {
  return defaultRedactor.redactString(text);
}
