// The error base of every Periscope package. Callers branch on `code` (ERR_<PACKAGE>_<WHAT>),
// never on message text; `cause` carries the underlying error. Messages name what was wrong and
// never carry a secret: values quoted in them go through the redactor first.
import { redactString } from './redact';

export interface PeriscopeErrorOptions {
  cause?: unknown;
}

/** Base class: a stable `code`, a message that says what was wrong, and the underlying `cause`. */
export class PeriscopeError<Code extends string = string> extends Error {
  readonly code: Code;
  constructor(code: Code, message: string, options?: PeriscopeErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}

export interface ConfigErrorOptions<Code extends string> extends PeriscopeErrorOptions {
  /** Defaults to 'ERR_CONFIG'; each package passes its own (ERR_CACHE_CONFIG, …). */
  code?: Code;
  /** Appended as "; did you mean X?" (see `nearest`). */
  suggestion?: string;
}

/**
 * Invalid configuration, thrown at start: `invalid <option>: expected <accepted>, got <got>`.
 * `option` is the option path (`l2.timeoutMs`) or the environment variable it came from.
 */
export class ConfigError<Code extends string = string> extends PeriscopeError<Code> {
  readonly option: string;
  readonly accepted: string;
  readonly got: string;
  constructor(option: string, accepted: string, got: unknown, options: ConfigErrorOptions<Code> = {}) {
    const shown = describeValue(got);
    const hint = options.suggestion === undefined ? '' : `; did you mean ${options.suggestion}?`;
    super(
      options.code ?? ('ERR_CONFIG' as Code),
      `invalid ${option}: expected ${accepted}, got ${shown}${hint}`,
      options,
    );
    this.option = option;
    this.accepted = accepted;
    this.got = shown;
  }
}

const MAX_SHOWN = 80;

/** A short, secret-free rendering of a value for an error message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    // Redacted whole (the redactor bounds the work), then cut: a cut first could split a secret off
    // from what marks it as one (`postgres://u:<long password>` without its '@host').
    const clean = redactString(value);
    return JSON.stringify(clean.length > MAX_SHOWN ? `${clean.slice(0, MAX_SHOWN)}…` : clean);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value instanceof RegExp) return String(value);
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'Object'})`;
  return typeof value;
}
