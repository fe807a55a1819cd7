// Public surface of @periscope/logging.
export { LoggingError, LoggingConfigError, AuditLogError, ShippingError } from './errors';
export {
  createRedactor, redact, redactString, REDACTED, CIRCULAR,
  DEFAULT_REDACT_KEYS, DEFAULT_REDACT_KEY_SUFFIXES, DEFAULT_REDACT_PATTERNS,
} from './redact';
export type { Redactor, RedactorOptions, RedactPattern } from './redact';
