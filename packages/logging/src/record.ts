// The normalized, already-redacted form of one log record. The logger's format builds it once
// and hangs it on the winston info object, so the layouts, the aggregator and the shippers
// never redo the work (nor see a secret).

// winston's info symbols (triple-beam defines them with Symbol.for, so these are the same ones).
export const LEVEL: unique symbol = Symbol.for('level') as never;
export const MESSAGE: unique symbol = Symbol.for('message') as never;
export const SPLAT: unique symbol = Symbol.for('splat') as never;

/** The Error a child logger was given (winston's copy of it would lose the type). */
export const SOURCE_ERROR: unique symbol = Symbol('periscope.logging.sourceError') as never;

/** Key under which the logger stores the LogRecord on winston's info object. */
export const LOG_RECORD: unique symbol = Symbol.for('periscope.logging.record') as never;

export interface SerializedError {
  type: string;
  message: string;
  stack?: string;
  /** The `cause` chain, serialized the same way (or the redacted non-Error cause). */
  cause?: unknown;
  [field: string]: unknown;
}

export interface LogRecord {
  /** Milliseconds since the epoch. */
  time: number;
  level: string;
  message: string;
  service: string;
  /** Logger name (the `logger` field bound by child loggers), if any. */
  logger?: string;
  traceId?: string;
  spanId?: string;
  traceFlags?: string;
  /** Redacted metadata (bound fields and per-call fields). */
  attributes: Record<string, unknown>;
  error?: SerializedError;
}

/** A winston info object as it flows between format and transports. */
export interface WinstonInfo {
  level: string;
  message: unknown;
  [LEVEL]?: string;
  [MESSAGE]?: string;
  [SPLAT]?: unknown[];
  [LOG_RECORD]?: LogRecord;
  [SOURCE_ERROR]?: Error;
  [key: string]: unknown;
}

/**
 * The LogRecord of a winston info object: the one our logger attached, or one derived from the
 * fields of a plain winston logger's info (for the aggregator used as a transport elsewhere).
 */
export function recordOf(info: WinstonInfo): LogRecord {
  const attached = info[LOG_RECORD];
  if (attached) return attached;
  const attributes: Record<string, unknown> = {};
  for (const key of Object.keys(info)) if (key !== 'level' && key !== 'message') attributes[key] = info[key];
  const ts = typeof info.timestamp === 'string' ? Date.parse(info.timestamp) : NaN;
  return {
    time: Number.isNaN(ts) ? Date.now() : ts,
    level: String(info[LEVEL] ?? info.level),
    message: typeof info.message === 'string' ? info.message : String(info.message),
    service: typeof info.service === 'string' ? info.service : '',
    logger: typeof info.logger === 'string' ? info.logger : undefined,
    // Only well-formed ids: the JSON layout writes them without escaping.
    traceId: typeof info.trace_id === 'string' && /^[0-9a-f]{32}$/.test(info.trace_id) ? info.trace_id : undefined,
    spanId: typeof info.span_id === 'string' && /^[0-9a-f]{16}$/.test(info.span_id) ? info.span_id : undefined,
    attributes,
  };
}
