// Typed errors of @periscope/logging. Every error carries a stable `code` so callers can branch
// on it without parsing messages.

export class LoggingError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Invalid configuration: names the option and the accepted values. Thrown at construction. */
export class LoggingConfigError extends LoggingError {
  readonly option: string;
  constructor(option: string, message: string) {
    super('ERR_LOGGING_CONFIG', `invalid logging option "${option}": ${message}`);
    this.option = option;
  }
}

/** The audit log file could not be opened, written or read. */
export class AuditLogError extends LoggingError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_LOGGING_AUDIT', message, options);
  }
}

/** A shipping batch was rejected by the receiver (HTTP status outside 2xx) or the request failed. */
export class ShippingError extends LoggingError {
  readonly status?: number;
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean, status?: number, options?: { cause?: unknown }) {
    super('ERR_LOGGING_SHIPPING', message, options);
    this.retryable = retryable;
    this.status = status;
  }
}
