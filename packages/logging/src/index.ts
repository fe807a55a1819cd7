// Public surface of @periscope/logging.
export { LoggingError, LoggingConfigError, AuditLogError, ShippingError } from './errors';
export type { LoggingErrorCode } from './errors';
export {
  createRedactor,
  redact,
  redactString,
  REDACTED,
  CIRCULAR,
  DEFAULT_REDACT_KEYS,
  DEFAULT_REDACT_KEY_SUFFIXES,
  DEFAULT_REDACT_PATTERNS,
} from '@periscope/core';
export type { Redactor, RedactorOptions, RedactPattern } from '@periscope/core';
export { createLogger } from './logger';
export type { LoggerOptions, PeriscopeLogger, DroppedCounts } from './logger';
export { LEVELS, LEVEL_NAMES, severityNumber, severityText } from './levels';
export type { LogLevel } from './levels';
export { LOG_FORMATS, toOtelJson, toEcs, toPretty } from './layouts';
export type { LogFormat } from './layouts';
export { LOG_RECORD, recordOf } from './record';
export type { LogRecord, SerializedError, WinstonInfo } from './record';
export type { MetricsLike, CounterLike } from './instrumentation';
export type { SamplingOptions, DropReason } from './sampling';
export { createPerfLogger } from './perf';
export type { PerfLogger, PerfLoggerOptions, PerfTimer, LogTarget } from './perf';
export { createAuditLogger, verifyAuditLog, AUDIT_GENESIS_HASH } from './audit';
export type { AuditLogger, AuditLoggerOptions, AuditRecord, AuditVerification, AuditProblem } from './audit';
export { LogAggregator, createLogAggregator } from './aggregator';
export type {
  LogAlert,
  OnAlert,
  LogAlertSink,
  AlertSeverity,
  LogPattern,
  AnomalyOptions,
  LogAggregatorOptions,
  LogQuery,
  StoredRecord,
  TrendPoint,
  TopMessage,
  AnomalyState,
  LogSummary,
} from './aggregator';
export { messageTemplate } from './template';
export { toElasticsearchBulk, toLokiPush, HttpLogTransport, createHttpTransport } from './shipping';
export type { LokiPushBody, ShippingTarget, ShipDropReason, HttpTransportOptions, ShippingStats } from './shipping';
export { createOtlpTransport } from './otlp';
export type { OtlpTransportOptions } from './otlp';
