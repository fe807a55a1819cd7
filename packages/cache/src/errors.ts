// Typed errors: callers branch on `code`, never on message text.

export type CacheErrorCode =
  | 'ERR_CACHE_CONFIG'
  | 'ERR_CACHE_INVALID_INPUT'
  | 'ERR_CACHE_SERIALIZATION'
  | 'ERR_CACHE_FACTORY_TIMEOUT'
  | 'ERR_CACHE_ABORTED'
  | 'ERR_CACHE_CLOSED'
  | 'ERR_CACHE_L2_UNAVAILABLE';

export class CacheError extends Error {
  readonly code: CacheErrorCode;
  constructor(code: CacheErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Invalid configuration; thrown by createCache(). Names the option and the accepted values. */
export class CacheConfigError extends CacheError {
  readonly option: string;
  constructor(option: string, accepted: string, got: unknown) {
    super('ERR_CACHE_CONFIG', `invalid cache option ${option}: expected ${accepted}, got ${describe(got)}`);
    this.option = option;
  }
}

/** Bad call arguments (empty key, negative TTL, …); nothing was changed. */
export class CacheInputError extends CacheError {
  readonly argument: string;
  constructor(argument: string, message: string) {
    super('ERR_CACHE_INVALID_INPUT', `${argument}: ${message}`);
    this.argument = argument;
  }
}

/** A value that cannot be stored (functions, symbols, …) or bytes that cannot be read back. */
export class CacheSerializationError extends CacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CACHE_SERIALIZATION', message, options);
  }
}

/** The factory ran past hardTimeoutMs; its signal was aborted. */
export class FactoryTimeoutError extends CacheError {
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super('ERR_CACHE_FACTORY_TIMEOUT', `cache factory did not finish within hardTimeoutMs=${timeoutMs}`);
    this.timeoutMs = timeoutMs;
  }
}

/** The caller's AbortSignal fired before a value was available. */
export class CacheAbortedError extends CacheError {
  constructor(options?: { cause?: unknown }) {
    super('ERR_CACHE_ABORTED', 'cache call aborted by its signal', options);
  }
}

export class CacheClosedError extends CacheError {
  constructor() {
    super('ERR_CACHE_CLOSED', 'cache is closed');
  }
}

/** L2 call failed fast (breaker open, not connected) or ran past its timeout. Internal: surfaced as a miss. */
export class L2UnavailableError extends CacheError {
  readonly reason: 'breaker_open' | 'disconnected' | 'timeout';
  constructor(reason: 'breaker_open' | 'disconnected' | 'timeout', timeoutMs?: number) {
    super(
      'ERR_CACHE_L2_UNAVAILABLE',
      reason === 'timeout' ? `L2 call timed out after ${timeoutMs} ms` : `L2 unavailable: ${reason.replace('_', ' ')}`,
    );
    this.reason = reason;
  }
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === undefined || v === null) return String(v);
  return typeof v;
}
