// Typed errors of @periscope/logging. Every error extends core's PeriscopeError and carries a
// stable `code` (ERR_LOGGING_*) so callers branch on it without parsing messages.
import { ConfigError, PeriscopeError, type PeriscopeErrorOptions } from '@periscope/core';

export type LoggingErrorCode =
  'ERR_LOGGING_CONFIG' | 'ERR_LOGGING_AUDIT' | 'ERR_LOGGING_SHIPPING' | 'ERR_LOGGING_ARGUMENTS';

/** Base of the package's runtime errors. */
export class LoggingError<Code extends LoggingErrorCode = LoggingErrorCode> extends PeriscopeError<Code> {}

/**
 * Invalid configuration, thrown at construction: `invalid <option>: expected <accepted>, got <got>`.
 * `option` is the option path or the environment variable the value came from.
 */
export class LoggingConfigError extends ConfigError<'ERR_LOGGING_CONFIG'> {
  constructor(option: string, accepted: string, got: unknown, suggestion?: string) {
    super(option, accepted, got, { code: 'ERR_LOGGING_CONFIG', suggestion });
  }
}

/** The audit log file could not be opened, written or read. */
export class AuditLogError extends LoggingError<'ERR_LOGGING_AUDIT'> {
  constructor(message: string, options?: PeriscopeErrorOptions) {
    super('ERR_LOGGING_AUDIT', message, options);
  }
}

/** A shipping batch was rejected by the receiver (HTTP status outside 2xx) or the request failed. */
export class ShippingError extends LoggingError<'ERR_LOGGING_SHIPPING'> {
  readonly status?: number;
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean, status?: number, options?: PeriscopeErrorOptions) {
    super('ERR_LOGGING_SHIPPING', message, options);
    this.retryable = retryable;
    this.status = status;
  }
}

/** Makes the package's ConfigError for core's ConfigReader. */
export const configError = (option: string, accepted: string, got: unknown, suggestion?: string): Error =>
  new LoggingConfigError(option, accepted, got, suggestion);
