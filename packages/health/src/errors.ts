// Typed errors of @periscope/health. Every error extends core's PeriscopeError with a stable
// `code` (ERR_HEALTH_*) callers can branch on; messages never carry a stack or a secret.
import { ConfigError, PeriscopeError } from '@periscope/core';

export type HealthErrorCode =
  | 'ERR_HEALTH_CONFIG'
  | 'ERR_HEALTH_STATE'
  | 'ERR_HEALTH_TIMEOUT'
  | 'ERR_HEALTH_LISTEN_FAILED'
  | 'ERR_HEALTH_HTTP'
  | 'ERR_HEALTH_BODY_TOO_LARGE'
  | 'ERR_HEALTH_INVALID_BODY';

/** Base of the package's runtime errors (the config error extends core's ConfigError instead). */
export class HealthError<Code extends string = HealthErrorCode> extends PeriscopeError<Code> {}

/** Invalid configuration: names the option (or env var), what it accepts and what it got. Thrown at construction. */
export class HealthConfigError extends ConfigError<'ERR_HEALTH_CONFIG'> {
  constructor(option: string, accepted: string, got: unknown, suggestion?: string) {
    super(option, accepted, got, { code: 'ERR_HEALTH_CONFIG', suggestion });
  }
}

/** A method was called in a lifecycle state that does not allow it (e.g. listen() after close()). */
export class HealthStateError extends HealthError<'ERR_HEALTH_STATE'> {
  constructor(message: string) {
    super('ERR_HEALTH_STATE', message);
  }
}

/** A check, status provider or shutdown hook did not settle within its timeout. */
export class HealthTimeoutError extends HealthError<'ERR_HEALTH_TIMEOUT'> {
  readonly timeoutMs: number;
  constructor(what: string, timeoutMs: number) {
    super('ERR_HEALTH_TIMEOUT', `${what} timed out after ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/** listen() could not bind host:port; `cause` is the socket error. */
export class HealthListenError extends HealthError<'ERR_HEALTH_LISTEN_FAILED'> {
  constructor(host: string, port: number, cause: NodeJS.ErrnoException) {
    super('ERR_HEALTH_LISTEN_FAILED', `cannot listen on ${host}:${port}: ${cause.code ?? cause.message}`, { cause });
  }
}

export interface HttpErrorOptions {
  /** Extra response headers, e.g. `{ 'Retry-After': '2' }` on a 429 or 503. */
  headers?: Record<string, string>;
  cause?: unknown;
}

/**
 * An error that maps to an HTTP status. Route handlers may throw it; the server answers with
 * `statusCode`, `headers` and a JSON body `{ error: message, code }` (never a stack trace). An app
 * passes its own code (e.g. 'ERR_DEMO_QUEUE_FULL').
 */
export class HttpError<Code extends string = string> extends HealthError<Code> {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  constructor(
    statusCode: number,
    message: string,
    code: Code = 'ERR_HEALTH_HTTP' as Code,
    options: HttpErrorOptions = {},
  ) {
    super(code, message, { cause: options.cause });
    this.statusCode = statusCode;
    this.headers = options.headers ?? {};
  }
}

/** The request body is larger than the limit (413). */
export class BodyTooLargeError extends HttpError<'ERR_HEALTH_BODY_TOO_LARGE'> {
  readonly limitBytes: number;
  constructor(limitBytes: number) {
    super(413, `request body exceeds ${limitBytes} bytes`, 'ERR_HEALTH_BODY_TOO_LARGE', {
      headers: { Connection: 'close' },
    });
    this.limitBytes = limitBytes;
  }
}

/** The request body is not what the route accepts: wrong content type (415) or malformed JSON (400). */
export class InvalidBodyError extends HttpError<'ERR_HEALTH_INVALID_BODY'> {
  constructor(statusCode: 400 | 415, message: string) {
    super(statusCode, message, 'ERR_HEALTH_INVALID_BODY');
  }
}

/** A message safe to show to a client: the error's message only, never its stack. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return typeof err === 'string' ? err : 'unknown error';
}
