// Typed errors of @periscope/tracing: callers branch on `code`, never on message text.
import { ConfigError, PeriscopeError, type PeriscopeErrorOptions } from '@periscope/core';

export type TracingErrorCode = 'ERR_TRACING_CONFIG' | 'ERR_TRACING_STATE' | 'ERR_TRACING_INPUT' | 'ERR_TRACING_EXPORT';

/** Base class: every error this package throws (but the config error) is a TracingError with a stable `code`. */
export class TracingError extends PeriscopeError<TracingErrorCode> {
  constructor(code: TracingErrorCode, message: string, options?: PeriscopeErrorOptions) {
    super(code, message, options);
  }
}

/** An option or environment variable has a value we cannot use. Thrown by startTracing(). */
export class TracingConfigError extends ConfigError<'ERR_TRACING_CONFIG'> {
  constructor(option: string, accepted: string, got: unknown, suggestion?: string) {
    super(option, accepted, got, { code: 'ERR_TRACING_CONFIG', suggestion });
  }
}

/** startTracing() while another tracing (ours or another SDK) is registered globally. */
export class TracingStateError extends TracingError {
  constructor(message: string) {
    super('ERR_TRACING_STATE', message);
  }
}

/** A bad argument to a function of the public API (e.g. a malformed trace id). */
export class TracingInputError extends TracingError {
  constructor(
    readonly argument: string,
    message: string,
  ) {
    super('ERR_TRACING_INPUT', `${argument}: ${message}`);
  }
}

/** forceFlush() could not deliver spans to an exporter (the failure is also counted in a metric). */
export class TracingExportError extends TracingError {
  constructor(message: string, options?: PeriscopeErrorOptions) {
    super('ERR_TRACING_EXPORT', message, options);
  }
}
