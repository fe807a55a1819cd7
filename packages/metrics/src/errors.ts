// Typed errors: every failure carries a stable `code` and names the metric/label/option involved,
// so callers can branch on it and operators can read it without a stack trace.
import { ConfigError, PeriscopeError, type PeriscopeErrorOptions } from '@periscope/core';

export type MetricsErrorCode =
  | 'ERR_METRICS_INVALID_NAME'
  | 'ERR_METRICS_INVALID_LABEL_NAME'
  | 'ERR_METRICS_MISSING_LABEL'
  | 'ERR_METRICS_UNKNOWN_LABEL'
  | 'ERR_METRICS_INVALID_LABEL_VALUE'
  | 'ERR_METRICS_INVALID_VALUE'
  | 'ERR_METRICS_CONFLICT'
  | 'ERR_METRICS_CONFIG'
  | 'ERR_METRICS_PUSH'
  | 'ERR_METRICS_UNTRACKED';

export class MetricsError extends PeriscopeError<MetricsErrorCode> {
  constructor(code: MetricsErrorCode, message: string, options?: PeriscopeErrorOptions) {
    super(code, message, options);
  }
}

/** A metric name that does not match the Prometheus regex `[a-zA-Z_:][a-zA-Z0-9_:]*`. */
export class InvalidMetricNameError extends MetricsError {
  constructor(readonly metric: string) {
    super('ERR_METRICS_INVALID_NAME', `invalid metric name "${metric}": must match [a-zA-Z_:][a-zA-Z0-9_:]*`);
  }
}

/** A label name that is invalid, reserved or duplicated. */
export class InvalidLabelNameError extends MetricsError {
  constructor(
    readonly metric: string,
    readonly label: string,
    reason: string,
  ) {
    super('ERR_METRICS_INVALID_LABEL_NAME', `metric ${metric}: invalid label name "${label}": ${reason}`);
  }
}

/** A record call without a value for one of the metric's label names. */
export class MissingLabelError extends MetricsError {
  constructor(
    readonly metric: string,
    readonly label: string,
  ) {
    super('ERR_METRICS_MISSING_LABEL', `metric ${metric}: missing value for label "${label}"`);
  }
}

/** A record call with a label the metric was not registered with. */
export class UnknownLabelError extends MetricsError {
  constructor(
    readonly metric: string,
    readonly label: string,
    known: readonly string[],
  ) {
    super(
      'ERR_METRICS_UNKNOWN_LABEL',
      `metric ${metric}: unknown label "${label}" (label names: ${known.length ? known.join(', ') : 'none'})`,
    );
  }
}

/** A label value that is neither a string nor a number. */
export class InvalidLabelValueError extends MetricsError {
  constructor(
    readonly metric: string,
    readonly label: string,
    got: string,
  ) {
    super(
      'ERR_METRICS_INVALID_LABEL_VALUE',
      `metric ${metric}: label "${label}" must be a string or number, got ${got}`,
    );
  }
}

/** A value a metric cannot take: a negative counter increment, NaN, a non-number. */
export class InvalidValueError extends MetricsError {
  constructor(
    readonly metric: string,
    value: unknown,
    reason: string,
  ) {
    super('ERR_METRICS_INVALID_VALUE', `metric ${metric}: invalid value ${String(value)}: ${reason}`);
  }
}

/** A second registration of a name with another type, other labels or other buckets. */
export class MetricConflictError extends MetricsError {
  constructor(
    readonly metric: string,
    detail: string,
  ) {
    super('ERR_METRICS_CONFLICT', `metric ${metric} is already registered ${detail}`);
  }
}

/** Invalid configuration (an option or its environment variable), thrown by createMetrics(). */
export class MetricsConfigError extends ConfigError<'ERR_METRICS_CONFIG'> {
  constructor(option: string, accepted: string, got: unknown, suggestion?: string) {
    super(option, accepted, got, { code: 'ERR_METRICS_CONFIG', suggestion });
  }
}

/** A Pushgateway request that failed (network error, timeout or non-2xx status). */
export class PushgatewayError extends MetricsError {
  constructor(
    message: string,
    readonly status?: number,
    options?: PeriscopeErrorOptions,
  ) {
    super('ERR_METRICS_PUSH', message, options);
  }
}

/** A history query for a metric the history does not sample. */
export class UntrackedMetricError extends MetricsError {
  constructor(readonly metric: string) {
    super('ERR_METRICS_UNTRACKED', `metric ${metric} is not sampled by this history (add it to history({ series }))`);
  }
}
