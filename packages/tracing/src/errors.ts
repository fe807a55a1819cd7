// Typed errors of @periscope/tracing: callers branch on `code`, never on message text.

/** Base class: every error this package throws is a TracingError with a stable `code`. */
export class TracingError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** An option or environment variable has a value we cannot use. Thrown by startTracing(). */
export class TracingConfigError extends TracingError {
  constructor(
    readonly option: string,
    readonly accepted: string,
    received: string,
  ) {
    super('ERR_TRACING_CONFIG', `invalid tracing option ${option}: got ${received}; accepted: ${accepted}`);
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
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_TRACING_EXPORT', message);
    if (options && 'cause' in options) (this as { cause?: unknown }).cause = options.cause;
  }
}
