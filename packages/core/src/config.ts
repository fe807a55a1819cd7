// The one reader of options and environment variables. Every package resolves its options through
// it, so the same syntax is accepted everywhere (`PERISCOPE_X=yes` works wherever a boolean is read)
// and a bad value fails at start with one ConfigError naming the option (or the variable it came
// from) and what is accepted. Explicit options win over the environment; the environment wins
// over defaults; an empty variable counts as unset.
import { ConfigError } from './errors';
import { REDACTED } from './redact';
import { redactUrl } from './url';

export type Env = Readonly<Record<string, string | undefined>>;

/** Makes the error a package throws (its own ConfigError subclass with its own code). */
export type ConfigErrorFactory = (option: string, accepted: string, got: unknown, suggestion?: string) => Error;

export interface ReaderOptions {
  /** Read instead of process.env (tests, or a user's own config source). */
  env?: Env;
  /** Default: a plain ConfigError with code ERR_CONFIG. */
  error?: ConfigErrorFactory;
  /** Prefixed to option names in messages ("cache.l2.timeoutMs"). */
  scope?: string;
}

export interface OptionSpec<T> {
  /** Environment variable read when the option is not given. */
  env?: string;
  default: T;
}

export interface NumberSpec<T> extends OptionSpec<T> {
  min?: number;
  max?: number;
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);
const BOOLEAN_ACCEPTED = 'a boolean (true/false, 1/0, yes/no, on/off)';
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_RE = /^(\d{1,15}(?:\.\d{1,15})?)(ms|s|m|h)?$/i;
/** Bounds every value taken from the environment: nothing sane is longer. */
const MAX_ENV_LENGTH = 8192;

/** "250ms", "1.5s", "2m", "1h" or a plain number of milliseconds; undefined when not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_RE.exec(text.trim());
  if (m === null) return undefined;
  const ms = Number(m[1]) * DURATION_UNITS[(m[2] ?? 'ms').toLowerCase()];
  return Number.isFinite(ms) ? ms : undefined;
}

/** The boolean syntax of every PERISCOPE_* and OTEL_* flag; undefined when not a boolean. */
export function parseBoolean(text: string): boolean | undefined {
  const t = text.trim().toLowerCase();
  if (TRUE.has(t)) return true;
  if (FALSE.has(t)) return false;
  return undefined;
}

export class ConfigReader {
  readonly env: Env;
  private readonly makeError: ConfigErrorFactory;
  private readonly scope: string;

  constructor(options: ReaderOptions = {}) {
    this.env = options.env ?? process.env;
    this.makeError = options.error ?? ((o, a, g, s) => new ConfigError(o, a, g, { suggestion: s }));
    this.scope = options.scope === undefined ? '' : `${options.scope}.`;
  }

  /** The raw environment value, or undefined when unset or empty. */
  raw(name: string | undefined): string | undefined {
    if (name === undefined) return undefined;
    const v = this.env[name];
    if (v === undefined || v.trim() === '') return undefined;
    if (v.length > MAX_ENV_LENGTH)
      throw this.makeError(name, `at most ${MAX_ENV_LENGTH} characters`, `${v.length} characters`);
    return v;
  }

  fail(option: string, accepted: string, got: unknown, suggestion?: string): never {
    throw this.makeError(`${this.scope}${option}`, accepted, got, suggestion);
  }

  boolean(option: string, value: boolean | undefined, spec: OptionSpec<boolean>): boolean {
    if (value !== undefined) {
      if (typeof value !== 'boolean') this.fail(option, 'a boolean', value);
      return value;
    }
    const text = this.raw(spec.env);
    if (text === undefined) return spec.default;
    const parsed = parseBoolean(text);
    if (parsed === undefined) throw this.makeError(spec.env!, BOOLEAN_ACCEPTED, text);
    return parsed;
  }

  number<T extends number | undefined>(option: string, value: number | undefined, spec: NumberSpec<T>): number | T {
    return this.numeric(option, value, spec, false);
  }

  integer<T extends number | undefined>(option: string, value: number | undefined, spec: NumberSpec<T>): number | T {
    return this.numeric(option, value, spec, true);
  }

  /** Milliseconds: a number as an option; in the environment also "250ms", "2s", "1m", "1h". */
  duration<T extends number | undefined>(option: string, value: number | undefined, spec: NumberSpec<T>): number | T {
    if (value !== undefined) return this.numeric(option, value, spec, false);
    const text = this.raw(spec.env);
    if (text === undefined) return spec.default;
    const ms = parseDuration(text);
    if (ms === undefined) throw this.makeError(spec.env!, 'a duration (e.g. 500, 250ms, 2s, 1m, 1h)', text);
    return this.checkRange(spec.env!, ms, spec, false);
  }

  string<T extends string | undefined>(option: string, value: string | undefined, spec: OptionSpec<T>): string | T {
    if (value !== undefined) {
      if (typeof value !== 'string' || value === '') this.fail(option, 'a non-empty string', value);
      return value;
    }
    return this.raw(spec.env) ?? spec.default;
  }

  oneOf<const V extends string, T extends V | undefined>(
    option: string,
    value: V | undefined,
    accepted: readonly V[],
    spec: OptionSpec<T>,
  ): V | T {
    const list = accepted.join(', ');
    if (value !== undefined) {
      if (!accepted.includes(value)) this.fail(option, `one of ${list}`, value, nearest(String(value), accepted));
      return value;
    }
    const text = this.raw(spec.env);
    if (text === undefined) return spec.default;
    const t = text.trim().toLowerCase();
    const match = accepted.find((a) => a.toLowerCase() === t);
    if (match === undefined) throw this.makeError(spec.env!, `one of ${list}`, text, nearest(t, accepted));
    return match;
  }

  /**
   * `key=value` pairs, comma separated, values percent-decoded — the syntax of
   * OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS. A pair without a key fails; with
   * `secret` (headers carry credentials) the bad entry is not quoted in the error.
   */
  keyValues(option: string, spec: { env: string; secret?: boolean; lowerCaseKeys?: boolean }): Record<string, string> {
    const out: Record<string, string> = {};
    for (const pair of this.list<string>(option, undefined, { env: spec.env, default: [] })) {
      const eq = pair.indexOf('=');
      if (eq <= 0)
        throw this.makeError(spec.env, 'comma-separated key=value pairs', spec.secret ? '(a malformed entry)' : pair);
      let value = pair.slice(eq + 1).trim();
      try {
        value = decodeURIComponent(value);
      } catch {
        /* keep the raw text: a stray % is not worth failing start for */
      }
      const key = pair.slice(0, eq).trim();
      out[spec.lowerCaseKeys ? key.toLowerCase() : key] = value;
    }
    return out;
  }

  /** A comma-separated list in the environment; each item checked against `accepted` when given. */
  list<V extends string>(
    option: string,
    value: readonly V[] | V | undefined,
    spec: OptionSpec<readonly V[]> & { accepted?: readonly V[] },
  ): readonly V[] {
    let items: readonly string[];
    let from = `${this.scope}${option}`;
    if (value !== undefined) items = Array.isArray(value) ? value : [value as V];
    else {
      const text = this.raw(spec.env);
      if (text === undefined) return spec.default;
      from = spec.env!;
      items = text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    }
    for (const item of items) {
      if (typeof item !== 'string' || item === '') throw this.makeError(from, 'a list of non-empty strings', item);
    }
    if (spec.accepted !== undefined) {
      for (const item of items) {
        if (typeof item !== 'string' || !spec.accepted.includes(item as V)) {
          throw this.makeError(
            from,
            `a list of ${spec.accepted.join(', ')}`,
            item,
            nearest(String(item), spec.accepted),
          );
        }
      }
    }
    return items as readonly V[];
  }

  /** An absolute URL whose protocol is one of `protocols` (e.g. ['http:', 'https:']). */
  url<T extends string | undefined>(
    option: string,
    value: string | URL | undefined,
    spec: OptionSpec<T> & { protocols?: readonly string[] },
  ): string | T {
    let text: string | undefined;
    let from = `${this.scope}${option}`;
    if (value !== undefined) text = typeof value === 'string' ? value : value.href;
    else {
      text = this.raw(spec.env);
      if (text === undefined) return spec.default;
      from = spec.env!;
    }
    const accepted = spec.protocols ? `a URL (${spec.protocols.join(' or ')})` : 'an absolute URL';
    let parsed: URL | undefined;
    try {
      parsed = new URL(text);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || (spec.protocols !== undefined && !spec.protocols.includes(parsed.protocol)))
      throw this.makeError(from, accepted, describeUrl(text));
    return text;
  }

  /**
   * Fails on an option the package does not know (a typo must not be silently ignored), naming
   * the nearest known option.
   */
  rejectUnknown(options: object | undefined, known: readonly string[], where = 'options'): void {
    if (options === undefined || options === null) return;
    if (typeof options !== 'object') this.fail(where, 'an options object', options);
    for (const key of Object.keys(options)) {
      if (!known.includes(key)) {
        throw this.makeError(
          `${this.scope}${key}`,
          `a known option of ${where} (${known.join(', ')})`,
          'an unknown option',
          nearest(key, known),
        );
      }
    }
  }

  private numeric<T extends number | undefined>(
    option: string,
    value: number | undefined,
    spec: NumberSpec<T>,
    integer: boolean,
  ): number | T {
    if (value !== undefined) return this.checkRange(`${this.scope}${option}`, value, spec, integer);
    const text = this.raw(spec.env);
    if (text === undefined) return spec.default;
    const n = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/.test(text) ? Number(text) : Number.NaN;
    return this.checkRange(spec.env!, Number.isNaN(n) ? text : n, spec, integer);
  }

  private checkRange(from: string, n: unknown, spec: NumberSpec<unknown>, integer: boolean): number {
    const lo = spec.min;
    const hi = spec.max;
    const range =
      lo !== undefined && hi !== undefined
        ? ` in [${lo}, ${hi}]`
        : lo !== undefined
          ? ` >= ${lo}`
          : hi !== undefined
            ? ` <= ${hi}`
            : '';
    const accepted = `${integer ? 'an integer' : 'a number'}${range}`;
    const bad =
      typeof n !== 'number' ||
      !Number.isFinite(n) ||
      (integer && !Number.isInteger(n)) ||
      (lo !== undefined && n < lo) ||
      (hi !== undefined && n > hi);
    if (bad) throw this.makeError(from, accepted, n);
    return n as number;
  }
}

/** A rejected URL for an error message: credentials masked even where the URL does not parse. */
function describeUrl(text: string): string {
  const masked = redactUrl(text);
  const at = masked.lastIndexOf('@');
  if (at < 0 || masked.includes(`${REDACTED}@`)) return masked;
  // An '@' that was not read as the end of a userinfo: what precedes it may still be a password.
  return `${REDACTED}@${masked.slice(at + 1)}`;
}

export function createConfigReader(options: ReaderOptions = {}): ConfigReader {
  return new ConfigReader(options);
}

/** The candidate closest to `input` by edit distance, when it is close enough to be a likely typo. */
export function nearest(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const a = input.toLowerCase().slice(0, 64);
  for (const c of candidates) {
    const d = editDistance(a, c.toLowerCase().slice(0, 64));
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  if (best !== undefined && bestDistance <= Math.max(2, Math.floor(a.length / 3))) return best;
  // A shortened name (maxSeries for maxSeriesPerMetric) is a likely typo too.
  if (a.length >= 4) return candidates.find((c) => c.toLowerCase().startsWith(a) || a.startsWith(c.toLowerCase()));
  return undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
