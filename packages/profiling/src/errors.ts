// Typed errors: callers branch on `code`, never on message text. Every error extends core's
// PeriscopeError (code + cause); the configuration error extends core's ConfigError.
import { ConfigError, PeriscopeError } from '@periscope/core';

export type ProfilingErrorCode =
  | 'ERR_PROFILING_CONFIG'
  | 'ERR_PROFILING_INSPECTOR'
  | 'ERR_PROFILING_CLOSED'
  | 'ERR_PROFILING_INVALID_PROFILE'
  | 'ERR_PROFILING_PUSH';

/** Base of every runtime error of @periscope/profiling (the config error extends ConfigError instead). */
export class ProfilingError extends PeriscopeError<Exclude<ProfilingErrorCode, 'ERR_PROFILING_CONFIG'>> {}

/** Invalid options: `invalid <option>: expected <accepted>, got <got>`. */
export class ProfilingConfigError extends ConfigError<'ERR_PROFILING_CONFIG'> {
  constructor(option: string, accepted: string, got: unknown, suggestion?: string) {
    super(option, accepted, got, { code: 'ERR_PROFILING_CONFIG', suggestion });
  }
}

/** V8's inspector refused a command (another tool owns the profiler, or the session broke). */
export class InspectorError extends ProfilingError {
  readonly method: string;
  constructor(method: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super('ERR_PROFILING_INSPECTOR', `inspector command ${method} failed: ${why}`, { cause });
    this.method = method;
  }
}

/** The profiler was stopped/closed; no new capture can start on it. */
export class ProfilerClosedError extends ProfilingError {
  constructor(what: string) {
    super('ERR_PROFILING_CLOSED', `${what} is closed`);
  }
}

/** Input that is not a profile this package can read (a bad .cpuprofile, a malformed tree). */
export class InvalidProfileError extends ProfilingError {
  constructor(message: string) {
    super('ERR_PROFILING_INVALID_PROFILE', message);
  }
}

/** A push to Pyroscope failed (after retries); `status` is the HTTP status when there was one. */
export class PushError extends ProfilingError {
  readonly status: number | undefined;
  constructor(message: string, status?: number, cause?: unknown) {
    super('ERR_PROFILING_PUSH', message, { cause });
    this.status = status;
  }
}
