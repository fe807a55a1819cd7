// Typed errors of @periscope/health. Every error has a stable `code` callers can branch on.

export class HealthError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Invalid configuration: names the option (or env var) and what it accepts. Thrown at construction. */
export class HealthConfigError extends HealthError {
  readonly option: string;
  constructor(option: string, message: string) {
    super('HEALTH_INVALID_CONFIG', `${option}: ${message}`);
    this.option = option;
  }
}

/** A method was called in a lifecycle state that does not allow it (e.g. listen() after close()). */
export class HealthStateError extends HealthError {
  constructor(message: string) {
    super('HEALTH_INVALID_STATE', message);
  }
}

/** A check, status provider or shutdown hook did not settle within its timeout. */
export class HealthTimeoutError extends HealthError {
  readonly timeoutMs: number;
  constructor(what: string, timeoutMs: number) {
    super('HEALTH_TIMEOUT', `${what} timed out after ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * An error that maps to an HTTP status. Route handlers may throw it; the server answers with
 * `statusCode` and a JSON body `{ error: message, code }` (never a stack trace).
 */
export class HttpError extends HealthError {
  readonly statusCode: number;
  constructor(statusCode: number, message: string, code = 'HEALTH_HTTP_ERROR') {
    super(code, message);
    this.statusCode = statusCode;
  }
}

/** The request body is larger than the limit (413). */
export class BodyTooLargeError extends HttpError {
  readonly limitBytes: number;
  constructor(limitBytes: number) {
    super(413, `request body exceeds ${limitBytes} bytes`, 'HEALTH_BODY_TOO_LARGE');
    this.limitBytes = limitBytes;
  }
}

/** The request body is not what the route accepts: wrong content type (415) or malformed JSON (400). */
export class InvalidBodyError extends HttpError {
  constructor(statusCode: 400 | 415, message: string) {
    super(statusCode, message, 'HEALTH_INVALID_BODY');
  }
}

/** A message safe to show to a client: the error's message only, never its stack. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return typeof err === 'string' ? err : 'unknown error';
}
