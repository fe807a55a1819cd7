// Redaction of secrets in log records, span attributes, /status output and error messages.
// It runs on every log call, so the hot path is kept cheap: key checks hit a cache keyed by the
// raw key, and strings are scanned by the individual patterns only when one cheap trigger regex
// says a secret could be in them. Pieces: keys.ts (which names are secret), patterns.ts and the
// two scanners (what in free text is secret), walker.ts (the bounded deep copy).
import { createKeyMatcher } from './keys';
import { combinedTrigger, compilePattern, configError, DEFAULT_REDACT_PATTERNS, REDACTED } from './patterns';
import type { CompiledPattern, RedactPattern } from './patterns';
import { createWalker } from './walker';

export { DEFAULT_REDACT_KEYS, DEFAULT_REDACT_KEY_SUFFIXES } from './keys';
export { DEFAULT_REDACT_PATTERNS, REDACTED } from './patterns';
export type { RedactPattern } from './patterns';
export { CIRCULAR } from './walker';

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

function positiveInt(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw configError(option, 'a positive integer', value);
  return value;
}

function checkOptions(options: RedactorOptions): void {
  if (options === null || typeof options !== 'object') throw configError('options', 'an options object', options);
  if (typeof (options.replacement ?? REDACTED) !== 'string')
    throw configError('replacement', 'a string', options.replacement);
  const keys = options.keys;
  if (keys !== undefined && (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string' || k === '')))
    throw configError('keys', 'an array of non-empty strings', keys);
  if (options.patterns !== undefined && !Array.isArray(options.patterns))
    throw configError('patterns', 'an array of patterns', options.patterns);
}

/** JSON nested in strings is parsed this many levels deep at most. */
const MAX_JSON_NESTING = 4;

/** [start, end) of `text` without surrounding blanks when it may be a JSON object or array, else undefined. */
function jsonBounds(text: string): [number, number] | undefined {
  let i = 0;
  while (i < text.length && text.charCodeAt(i) <= 32) i++;
  const first = text.charCodeAt(i);
  if (first !== 123 && first !== 91) return undefined;
  let j = text.length - 1;
  while (j > i && text.charCodeAt(j) <= 32) j--;
  const last = text.charCodeAt(j);
  return (first === 123 && last === 125) || (first === 91 && last === 93) ? [i, j + 1] : undefined;
}

/** Runs the patterns whose cheap check passes; `onHit` is told which ones changed the text. */
function createScrubber(
  patterns: readonly CompiledPattern[],
  trigger: RegExp | null,
  minLength: number,
  onHit: (name: string) => void,
): (text: string) => string {
  return function scrub(text: string): string {
    if (text.length < minLength || trigger === null || !trigger.test(text)) return text;
    let out = text;
    // Checks run on the original text: replacements only remove secrets, never add trigger text.
    const lower = text.toLowerCase();
    for (const p of patterns) {
      if (!p.check(text, lower)) continue;
      const before = out;
      out = p.apply(out);
      if (out !== before) onHit(p.name);
    }
    return out;
  };
}

/** What a redactor counts while it works (shared by its string and value halves). */
interface Counters {
  /** Redactions so far: tells whether a JSON string needed any (else it is kept as written). */
  hits: number;
  /** Depth of JSON-in-string parsing in progress. */
  jsonNesting: number;
}

interface StringRules {
  scrub: (text: string) => string;
  maxStringLength: number;
  counters: Counters;
  /** The value redactor, for JSON text (set once the walker exists). */
  redactValue: (value: unknown) => unknown;
}

/** A JSON object/array in a string is redacted as a value (keys too), then written back. */
function redactJsonText(rules: StringRules, text: string, [start, end]: [number, number]): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.slice(start, end));
  } catch {
    return undefined;
  }
  const { counters } = rules;
  const before = counters.hits;
  counters.jsonNesting++;
  try {
    const out = rules.redactValue(parsed);
    if (counters.hits === before) return undefined;
    return text.slice(0, start) + JSON.stringify(out) + text.slice(end);
  } finally {
    counters.jsonNesting--;
  }
}

function createStringRedactor(rules: StringRules): (text: string) => string {
  const { scrub, maxStringLength, counters } = rules;
  function scrubText(text: string): string {
    // Cheap first: only text starting with '{', '[' or a blank may be JSON.
    const c0 = text.charCodeAt(0);
    const bounds =
      (c0 === 123 || c0 === 91 || c0 <= 32) && counters.jsonNesting < MAX_JSON_NESTING ? jsonBounds(text) : undefined;
    if (bounds !== undefined) {
      const json = redactJsonText(rules, text, bounds);
      if (json !== undefined) return json;
    }
    return scrub(text);
  }
  return function redactString(text: string): string {
    if (typeof text !== 'string') text = String(text);
    if (text.length <= maxStringLength) return scrubText(text);
    // Cut at the last whitespace so a secret straddling the cut is dropped, not half-kept.
    let cut = text.slice(0, maxStringLength);
    const ws = Math.max(cut.lastIndexOf(' '), cut.lastIndexOf('\n'), cut.lastIndexOf('\t'));
    cut = ws > 0 ? cut.slice(0, ws) : '';
    return `${scrub(cut)}…[truncated ${text.length - cut.length} chars]`;
  };
}

export function createRedactor(options: RedactorOptions = {}): Redactor {
  checkOptions(options);
  const replacement = options.replacement ?? REDACTED;
  const onRedaction = options.onRedaction;
  const isSecretKey = createKeyMatcher(options);
  const sources = [...(options.defaultPatterns === false ? [] : DEFAULT_REDACT_PATTERNS), ...(options.patterns ?? [])];
  const counters: Counters = { hits: 0, jsonNesting: 0 };
  // No built-in pattern matches fewer than 5 characters ("pwd=x"); custom patterns might.
  const minLength = options.patterns?.length ? 0 : 5;
  const patterns = sources.map((p) => compilePattern(p, replacement));
  const scrub = createScrubber(patterns, combinedTrigger(sources), minLength, (name) => {
    counters.hits++;
    onRedaction?.('pattern', name);
  });
  const stringRules: StringRules = {
    scrub,
    maxStringLength: positiveInt('maxStringLength', options.maxStringLength, 16384),
    counters,
    redactValue: () => undefined,
  };
  const redactString = createStringRedactor(stringRules);
  const onSecretKey = (key: string): void => {
    counters.hits++;
    onRedaction?.('key', key);
  };
  const redactValue = createWalker({
    isSecretKey,
    redactString,
    onSecretKey,
    replacement,
    maxDepth: positiveInt('maxDepth', options.maxDepth, 10),
    maxItems: positiveInt('maxItems', options.maxItems, 500),
    maxNodes: positiveInt('maxNodes', options.maxNodes, 5000),
  });
  stringRules.redactValue = redactValue;
  return {
    redact: redactValue,
    redactString,
    redactAttribute(key: string, value: unknown): unknown {
      if (value !== undefined && isSecretKey(key)) {
        onSecretKey(key);
        return replacement;
      }
      return redactValue(value);
    },
    isSecretKey,
  };
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
