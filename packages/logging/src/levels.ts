// Levels: winston's npm levels plus `fatal`, and their OpenTelemetry severity numbers
// (https://opentelemetry.io/docs/specs/otel/logs/data-model/#field-severitynumber).

export const LEVELS = { fatal: 0, error: 1, warn: 2, info: 3, http: 4, verbose: 5, debug: 6, silly: 7 } as const;
export type LogLevel = keyof typeof LEVELS;
export const LEVEL_NAMES = Object.keys(LEVELS) as LogLevel[];

/** A lookup table without a prototype (no inherited keys). */
export function nullProto<T>(entries: Record<string, T>): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, entries);
}

/** Level → numeric value (lower is more severe), without inherited keys. */
export const LEVEL_VALUES: Record<string, number> = nullProto<number>(LEVELS);

// Null-prototype tables: a level named "valueOf" or "constructor" finds nothing, not an Object method.
const SEVERITY: Record<string, number> = nullProto({
  fatal: 21,
  error: 17,
  warn: 13,
  info: 9,
  http: 10,
  verbose: 6,
  debug: 5,
  silly: 1,
});
const SEVERITY_TEXT: Record<string, string> = nullProto({
  fatal: 'FATAL',
  error: 'ERROR',
  warn: 'WARN',
  info: 'INFO',
  http: 'INFO',
  verbose: 'DEBUG',
  debug: 'DEBUG',
  silly: 'TRACE',
});

/** OpenTelemetry SeverityNumber of a level (custom levels count as INFO). */
export function severityNumber(level: string): number {
  return SEVERITY[level] ?? 9;
}

/** OpenTelemetry short severity name (TRACE, DEBUG, INFO, WARN, ERROR, FATAL). */
export function severityText(level: string): string {
  return SEVERITY_TEXT[level] ?? level.toUpperCase();
}

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(LEVELS, value);
}
