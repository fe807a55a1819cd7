// The OpenTelemetry environment every signal shares: the resource of this process and the
// OTEL_EXPORTER_OTLP_* endpoint settings. It lives here, beside the one option reader, because
// tracing, metrics and logging (floor-1 siblings) must read these variables the same way: one
// service.instance.id, one endpoint rule with per-signal overrides. Node built-ins only.
import { createHash } from 'node:crypto';
import os from 'node:os';
import type { ConfigReader } from './config';

export type ResourceValue = string | number | boolean;
export type ResourceAttributes = Record<string, ResourceValue>;
export type OtlpSignal = 'traces' | 'metrics' | 'logs';

const ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm32',
  ia32: 'x86',
  ppc64: 'ppc64',
  s390x: 's390x',
};
const OS_TYPE: Record<string, string> = { win32: 'windows', sunos: 'solaris' };

/**
 * service.instance.id: a version-5-shaped UUID from host name, pid and process start time, so every
 * package computing it in one process gets the same id and a restarted process gets a new one.
 */
export function serviceInstanceId(): string {
  const h = createHash('sha1').update(`${os.hostname()}\0${process.pid}\0${performance.timeOrigin}`).digest('hex');
  const variant = ((parseInt(h[16], 16) & 3) | 8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Host and process attributes (OpenTelemetry semantic conventions). The command line is left out
 * on purpose: arguments may carry secrets (`--password=…`).
 */
export function processResourceAttributes(): Record<string, string | number> {
  return {
    'service.instance.id': serviceInstanceId(),
    'host.name': os.hostname(),
    'host.arch': ARCH[process.arch] ?? process.arch,
    'os.type': OS_TYPE[process.platform] ?? process.platform,
    'process.pid': process.pid,
    'process.runtime.name': 'nodejs',
    'process.runtime.version': process.versions.node,
    'process.runtime.description': 'Node.js',
  };
}

export interface OtlpResourceOptions {
  /** service.name. Env OTEL_SERVICE_NAME. Default unknown_service:node. */
  serviceName?: string;
  /** service.version (else from OTEL_RESOURCE_ATTRIBUTES, if there). */
  serviceVersion?: string;
  /** Over OTEL_RESOURCE_ATTRIBUTES. */
  resourceAttributes?: Readonly<Record<string, ResourceValue>>;
}

/**
 * The resource of every signal: telemetry.sdk.language, host and process attributes,
 * OTEL_RESOURCE_ATTRIBUTES, the options' attributes, service.version, then service.name
 * (option > OTEL_SERVICE_NAME > unknown_service:node).
 */
export function resolveOtlpResource(read: ConfigReader, options: OtlpResourceOptions = {}): ResourceAttributes {
  const serviceName = read.string('serviceName', options.serviceName, {
    env: 'OTEL_SERVICE_NAME',
    default: 'unknown_service:node',
  });
  if (serviceName.trim() === '') read.fail('serviceName', 'a non-empty string', serviceName);
  const attrs: ResourceAttributes = {
    'telemetry.sdk.language': 'nodejs',
    ...processResourceAttributes(),
    ...read.keyValues('resourceAttributes', { env: 'OTEL_RESOURCE_ATTRIBUTES' }),
    ...options.resourceAttributes,
  };
  if (options.serviceVersion) attrs['service.version'] = options.serviceVersion;
  attrs['service.name'] = serviceName;
  return attrs;
}

export interface OtlpEndpointOptions {
  /** Base URL of the collector; `/v1/<signal>` is appended unless already there. */
  endpoint?: string;
  /** Over OTEL_EXPORTER_OTLP_HEADERS and OTEL_EXPORTER_OTLP_<SIGNAL>_HEADERS. */
  headers?: Record<string, string>;
  /** One request. Env OTEL_EXPORTER_OTLP_<SIGNAL>_TIMEOUT, else OTEL_EXPORTER_OTLP_TIMEOUT. Default 10000 ms. */
  timeoutMs?: number;
}

export interface OtlpEndpoint {
  url: string;
  headers: Record<string, string>;
  timeoutMs: number;
}

const HTTP = ['http:', 'https:'] as const;

/** The per-signal variable when set, else the shared one. */
function signalVariable(read: ConfigReader, signal: OtlpSignal, suffix: string): string {
  const own = `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_${suffix}`;
  return read.raw(own) !== undefined ? own : `OTEL_EXPORTER_OTLP_${suffix}`;
}

/** OTEL_EXPORTER_OTLP_[SIGNAL_]HEADERS: keys lower-cased, values never quoted in errors. */
const headersFrom = (read: ConfigReader, variable: string) =>
  read.keyValues('headers', { env: variable, secret: true, lowerCaseKeys: true });

/**
 * The signal's endpoint (option + `/v1/<signal>`; else OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT as is;
 * else OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/<signal>`; default http://localhost:4318), headers and
 * timeout. Only http/protobuf is accepted as OTEL_EXPORTER_OTLP_[SIGNAL_]PROTOCOL.
 */
export function resolveOtlpEndpoint(
  read: ConfigReader,
  signal: OtlpSignal,
  options: OtlpEndpointOptions = {},
): OtlpEndpoint {
  const path = `/v1/${signal}`;
  const withPath = (base: string) => {
    const trimmed = base.replace(/\/+$/, '');
    return trimmed.endsWith(path) ? trimmed : trimmed + path;
  };
  read.oneOf('protocol', undefined, ['http/protobuf'], {
    env: signalVariable(read, signal, 'PROTOCOL'),
    default: 'http/protobuf',
  });
  const own = `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`;
  const url =
    options.endpoint !== undefined
      ? withPath(read.url('endpoint', options.endpoint, { default: '', protocols: HTTP }))
      : read.raw(own) !== undefined
        ? read.url('endpoint', undefined, { env: own, default: '', protocols: HTTP })
        : withPath(
            read.url('endpoint', undefined, {
              env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
              default: 'http://localhost:4318',
              protocols: HTTP,
            }),
          );
  return {
    url,
    headers: {
      ...headersFrom(read, 'OTEL_EXPORTER_OTLP_HEADERS'),
      ...headersFrom(read, `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_HEADERS`),
      ...options.headers,
    },
    timeoutMs: read.duration('timeoutMs', options.timeoutMs, {
      env: signalVariable(read, signal, 'TIMEOUT'),
      default: 10_000,
      min: 1,
    }),
  };
}

/** OTEL_EXPORTER_OTLP_[SIGNAL_]COMPRESSION: `gzip` or `none` (default). */
export function resolveOtlpCompression(
  read: ConfigReader,
  signal: OtlpSignal,
  value: 'gzip' | 'none' | undefined,
): 'gzip' | 'none' {
  return read.oneOf('compression', value, ['gzip', 'none'] as const, {
    env: signalVariable(read, signal, 'COMPRESSION'),
    default: 'none',
  });
}
