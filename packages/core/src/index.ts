// Public surface of @periscope/core: errors, the option/environment reader, redaction and the
// structural interfaces every package accepts, and what every OTLP signal shares: the OTEL_*
// resource/endpoint rule (part of reading the environment) and the protobuf writer of its
// requests. Nothing else belongs here.
export { PeriscopeError, ConfigError, describeValue } from './errors';
export type { PeriscopeErrorOptions, ConfigErrorOptions } from './errors';
export { ConfigReader, createConfigReader, parseBoolean, parseDuration, nearest } from './config';
export type { Env, ReaderOptions, ConfigErrorFactory, NumberSpec, OptionSpec } from './config';
export {
  createRedactor,
  redact,
  redactString,
  REDACTED,
  CIRCULAR,
  DEFAULT_REDACT_KEYS,
  DEFAULT_REDACT_KEY_SUFFIXES,
  DEFAULT_REDACT_PATTERNS,
} from './redact';
export type { Redactor, RedactorOptions, RedactPattern } from './redact';
export { redactUrl } from './url';
export type { RedactUrlOptions, UrlForm } from './url';
export {
  serviceInstanceId,
  processResourceAttributes,
  resolveOtlpResource,
  resolveOtlpEndpoint,
  resolveOtlpCompression,
} from './otlp';
export type {
  ResourceValue,
  ResourceAttributes,
  OtlpSignal,
  OtlpResourceOptions,
  OtlpEndpointOptions,
  OtlpEndpoint,
} from './otlp';
export { ProtoWriter } from './protobuf';
export { NOOP_LOGGER } from './interfaces';
export type {
  Logger,
  LogFields,
  MetricsSink,
  MetricLabels,
  MetricConfig,
  CounterSink,
  GaugeSink,
  HistogramSink,
} from './interfaces';
