// createOtlpTransport(): log records to an OpenTelemetry Collector (or a vendor's OTLP endpoint)
// over OTLP/HTTP with protobuf bodies (ExportLogsServiceRequest posted to <endpoint>/v1/logs).
// The batching, bounded buffer, retries and bounded shutdown are the Loki/Elasticsearch shipper's
// (HttpLogTransport); this file only resolves the OTLP settings (OTEL_EXPORTER_OTLP_* through core,
// the same rule and resource tracing and metrics use) and supplies the wire format.
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import {
  createConfigReader,
  redactUrl,
  resolveOtlpCompression,
  resolveOtlpEndpoint,
  resolveOtlpResource,
  type ConfigReader,
  type Env,
  type MetricsSink,
  type ResourceAttributes,
} from '@periscope/core';
import { configError } from './errors';
import type { LogRecord } from './record';
import { HttpLogTransport, type ShipSettings, type WireFormat } from './shipping';

export interface OtlpTransportOptions {
  /**
   * Base URL of the collector; `/v1/logs` is appended unless already there. Env
   * OTEL_EXPORTER_OTLP_LOGS_ENDPOINT (used as is), else OTEL_EXPORTER_OTLP_ENDPOINT. Default http://localhost:4318.
   */
  endpoint?: string;
  /** Request headers (e.g. authorization), over OTEL_EXPORTER_OTLP_HEADERS and OTEL_EXPORTER_OTLP_LOGS_HEADERS. Never logged. */
  headers?: Record<string, string>;
  /** One request. Env OTEL_EXPORTER_OTLP_LOGS_TIMEOUT, else OTEL_EXPORTER_OTLP_TIMEOUT. Default 10000 ms. */
  timeoutMs?: number;
  /** Body compression. Env OTEL_EXPORTER_OTLP_LOGS_COMPRESSION, else OTEL_EXPORTER_OTLP_COMPRESSION. Default `none`. */
  compression?: 'gzip' | 'none';
  /** service.name of the resource. Env OTEL_SERVICE_NAME; else each record's `service` (the logger's). */
  serviceName?: string;
  /** service.version of the resource. */
  serviceVersion?: string;
  /** Resource attributes, over OTEL_RESOURCE_ATTRIBUTES. */
  resourceAttributes?: Record<string, string | number | boolean>;
  /** Records per request. Env OTEL_BLRP_MAX_EXPORT_BATCH_SIZE; default 512. */
  batchSize?: number;
  /** A partial batch is sent after this long. Env OTEL_BLRP_SCHEDULE_DELAY; default 1000 ms. */
  flushIntervalMs?: number;
  /** Records held while the collector is slow or down; beyond it the oldest are dropped (counted). Env OTEL_BLRP_MAX_QUEUE_SIZE; default 2048. */
  maxBufferSize?: number;
  /** Retries of one batch (on 408, 429, 5xx and network errors) before it is dropped. Default 5. */
  maxRetries?: number;
  /** First retry delay; doubles per retry with jitter, up to retryMaxMs. Defaults 200 / 10000. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** shutdown() settles within this bound, dropping and counting what is not delivered. Env PERISCOPE_LOG_OTLP_CLOSE_TIMEOUT; default 5000. */
  closeTimeoutMs?: number;
  /** Counters periscope_logging_shipped_total / _ship_dropped_total / _ship_retries_total{target="otlp"}. */
  metrics?: MetricsSink;
  /** winston transport level. */
  level?: string;
  /** Read instead of process.env. */
  env?: Env;
}

const KNOWN: readonly (keyof OtlpTransportOptions)[] = [
  'endpoint',
  'headers',
  'timeoutMs',
  'compression',
  'serviceName',
  'serviceVersion',
  'resourceAttributes',
  'batchSize',
  'flushIntervalMs',
  'maxBufferSize',
  'maxRetries',
  'retryBaseMs',
  'retryMaxMs',
  'closeTimeoutMs',
  'metrics',
  'level',
  'env',
];

/** Distinct service names given their own resource; past it records share the first resource. */
const MAX_RESOURCES = 32;

function packageVersion(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the same relative path from src/ and dist/
    return String((require('../package.json') as { version?: unknown }).version ?? '');
  } catch {
    return '';
  }
}

/**
 * service.name: the option or OTEL_SERVICE_NAME when given; else the record's own service (the
 * logger's `service`), so a logger created with `service: 'api'` needs nothing more.
 */
function resourceRule(r: ConfigReader, options: OtlpTransportOptions): (record: LogRecord) => ResourceAttributes {
  const base: ResourceAttributes = {
    'telemetry.sdk.name': '@periscope/logging',
    ...resolveOtlpResource(r, options),
  };
  if (options.serviceName !== undefined || r.raw('OTEL_SERVICE_NAME') !== undefined) return () => base;
  const byService = new Map<string, ResourceAttributes>();
  return (record) => {
    if (!record.service) return base;
    let res = byService.get(record.service);
    if (res === undefined) {
      if (byService.size >= MAX_RESOURCES) return base;
      res = { ...base, 'service.name': record.service };
      byService.set(record.service, res);
    }
    return res;
  };
}

/** Loaded with the first batch: an OTLP transport that never sends costs no encoder. */
let encoder: typeof import('./otlp-encode') | undefined;

function otlpFormat(resourceOf: (record: LogRecord) => ResourceAttributes, compress: boolean): WireFormat {
  const scope = { name: '@periscope/logging', version: packageVersion() };
  const zip = compress ? promisify(gzip) : undefined;
  return {
    contentType: 'application/x-protobuf',
    wantBody: false,
    encode(batch) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: see `encoder`
      encoder ??= require('./otlp-encode') as typeof import('./otlp-encode');
      const body = encoder.encodeLogsRequest(batch, resourceOf, scope);
      return zip ? zip(body) : body;
    },
    // A partial success (rejected_log_records) is not read: the records count as sent.
    outcome: () => ({ retry: [], rejected: 0 }),
  };
}

function resolveSettings(options: OtlpTransportOptions): ShipSettings {
  const r = createConfigReader({ env: options.env, error: configError });
  r.rejectUnknown(options, KNOWN, 'createOtlpTransport options');
  const endpoint = resolveOtlpEndpoint(r, 'logs', options);
  const compression = resolveOtlpCompression(r, 'logs', options.compression);
  const url = new URL(endpoint.url);
  const headers = { ...endpoint.headers };
  // Credentials move from the URL into a header so the URL can appear in errors.
  if (url.username || url.password) {
    const basic = Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`);
    headers.authorization ??= `Basic ${basic.toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  if (compression === 'gzip') headers['content-encoding'] = 'gzip';
  const int = (option: keyof OtlpTransportOptions, fallback: number, env?: string, min = 1): number =>
    r.integer(option, options[option] as number | undefined, { env, default: fallback, min });
  return {
    target: 'otlp',
    endpoint: url,
    safeEndpoint: redactUrl(url.toString(), { form: 'masked' }),
    format: otlpFormat(resourceRule(r, options), compression === 'gzip'),
    headers,
    batchSize: int('batchSize', 512, 'OTEL_BLRP_MAX_EXPORT_BATCH_SIZE'),
    flushIntervalMs: int('flushIntervalMs', 1000, 'OTEL_BLRP_SCHEDULE_DELAY'),
    maxBufferSize: int('maxBufferSize', 2048, 'OTEL_BLRP_MAX_QUEUE_SIZE'),
    maxRetries: int('maxRetries', 5, undefined, 0),
    retryBaseMs: int('retryBaseMs', 200),
    retryMaxMs: int('retryMaxMs', 10_000),
    timeoutMs: endpoint.timeoutMs,
    closeTimeoutMs: r.duration('closeTimeoutMs', options.closeTimeoutMs, {
      env: 'PERISCOPE_LOG_OTLP_CLOSE_TIMEOUT',
      default: 5000,
      min: 0,
      max: 600_000,
    }),
  };
}

/**
 * A winston transport that sends records over OTLP/HTTP (protobuf). Never blocks the logger;
 * `shutdown()` (called by the logger's) settles within closeTimeoutMs and reports what it could
 * not deliver. Throws LoggingConfigError on a bad option or OTEL_* variable.
 */
export function createOtlpTransport(options: OtlpTransportOptions = {}): HttpLogTransport {
  return new HttpLogTransport({ level: options.level, metrics: options.metrics }, resolveSettings(options));
}
