// Typed errors: callers branch on `code`, never on message text. Every error extends core's
// PeriscopeError (code + cause); the configuration error extends core's ConfigError.
import { ConfigError, PeriscopeError } from '@periscope/core';

export type CacheErrorCode =
  | 'ERR_CACHE_CONFIG'
  | 'ERR_CACHE_INVALID_INPUT'
  | 'ERR_CACHE_SERIALIZATION'
  | 'ERR_CACHE_FACTORY_TIMEOUT'
  | 'ERR_CACHE_ABORTED'
  | 'ERR_CACHE_CLOSED'
  | 'ERR_CACHE_L2_UNAVAILABLE';

/** Base of every runtime error the cache throws (the config error extends ConfigError instead). */
export class CacheError extends PeriscopeError<Exclude<CacheErrorCode, 'ERR_CACHE_CONFIG'>> {}

/**
 * Invalid configuration, thrown by createCache(): `invalid <option>: expected <accepted>, got <got>`.
 * `option` is the option path (`l2.timeoutMs`) or the environment variable the value came from.
 */
export class CacheConfigError extends ConfigError<'ERR_CACHE_CONFIG'> {
  constructor(option: string, accepted: string, got: unknown, suggestion?: string) {
    super(option, accepted, got, { code: 'ERR_CACHE_CONFIG', suggestion });
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

export type L2UnavailableReason = 'breaker_open' | 'disconnected' | 'timeout';

/** L2 call failed fast (breaker open, not connected) or ran past its timeout. Internal: surfaced as a miss. */
export class L2UnavailableError extends CacheError {
  readonly reason: L2UnavailableReason;
  constructor(reason: L2UnavailableReason, timeoutMs?: number) {
    super(
      'ERR_CACHE_L2_UNAVAILABLE',
      reason === 'timeout' ? `L2 call timed out after ${timeoutMs} ms` : `L2 unavailable: ${reason.replace('_', ' ')}`,
    );
    this.reason = reason;
  }
}
