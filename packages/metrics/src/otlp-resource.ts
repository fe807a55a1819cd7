// The OTLP resource of this process and the OTEL_EXPORTER_OTLP_* endpoint settings, read through
// core's reader. @periscope/tracing computes the same resource (same attributes, same
// service.instance.id rule), so traces and metrics of one process carry one identity.
import { createHash } from 'node:crypto';
import os from 'node:os';
import type { ConfigReader } from '@periscope/core';
import type { Attributes } from './otlp-encode';

const ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm32',
  ia32: 'x86',
  ppc64: 'ppc64',
  s390x: 's390x',
};
const OS_TYPE: Record<string, string> = { win32: 'windows', sunos: 'solaris' };

/** A version-5-shaped UUID from host name, pid and process start time: equal in every package of one process. */
export function serviceInstanceId(): string {
  const h = createHash('sha1').update(`${os.hostname()}\0${process.pid}\0${performance.timeOrigin}`).digest('hex');
  const variant = ((parseInt(h[16], 16) & 3) | 8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * service.name (option > OTEL_SERVICE_NAME > unknown_service:node), OTEL_RESOURCE_ATTRIBUTES, the
 * options' attributes, then host and process attributes (never the command line: it may carry secrets).
 */
export function resolveResource(
  read: ConfigReader,
  serviceName: string | undefined,
  extra: Readonly<Record<string, string | number | boolean>> | undefined,
): Attributes {
  return {
    'telemetry.sdk.language': 'nodejs',
    'telemetry.sdk.name': '@periscope/metrics',
    'service.instance.id': serviceInstanceId(),
    'host.name': os.hostname(),
    'host.arch': ARCH[process.arch] ?? process.arch,
    'os.type': OS_TYPE[process.platform] ?? process.platform,
    'process.pid': process.pid,
    'process.runtime.name': 'nodejs',
    'process.runtime.version': process.versions.node,
    'process.runtime.description': 'Node.js',
    ...read.keyValues('resourceAttributes', { env: 'OTEL_RESOURCE_ATTRIBUTES' }),
    ...extra,
    'service.name': read.string('serviceName', serviceName, {
      env: 'OTEL_SERVICE_NAME',
      default: 'unknown_service:node',
    }),
  };
}

const HTTP = ['http:', 'https:'] as const;

/** OTEL_EXPORTER_OTLP_[SIGNAL_]HEADERS through core's reader: keys lower-cased, values never quoted in errors. */
const headersFrom = (read: ConfigReader, variable: string) =>
  read.keyValues('headers', { env: variable, secret: true, lowerCaseKeys: true });

/** The signal's endpoint (per-signal variable as is; else the base + `/v1/<signal>`), headers and timeout. */
export function resolveOtlpEndpoint(
  read: ConfigReader,
  signal: 'metrics' | 'traces',
  options: { endpoint?: string; headers?: Record<string, string>; timeoutMs?: number },
): { url: string; headers: Record<string, string>; timeoutMs: number } {
  const upper = signal.toUpperCase();
  const path = `/v1/${signal}`;
  const withPath = (base: string) => (base.replace(/\/+$/, '').endsWith(path) ? base : base.replace(/\/+$/, '') + path);
  const protocolVar = read.raw(`OTEL_EXPORTER_OTLP_${upper}_PROTOCOL`)
    ? `OTEL_EXPORTER_OTLP_${upper}_PROTOCOL`
    : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  read.oneOf('protocol', undefined, ['http/protobuf'], { env: protocolVar, default: 'http/protobuf' });
  const url =
    options.endpoint !== undefined
      ? withPath(read.url('endpoint', options.endpoint, { default: '', protocols: HTTP }))
      : read.raw(`OTEL_EXPORTER_OTLP_${upper}_ENDPOINT`) !== undefined
        ? read.url('endpoint', undefined, { env: `OTEL_EXPORTER_OTLP_${upper}_ENDPOINT`, default: '', protocols: HTTP })
        : withPath(
            read.url('endpoint', undefined, {
              env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
              default: 'http://localhost:4318',
              protocols: HTTP,
            }),
          );
  const timeoutVar = read.raw(`OTEL_EXPORTER_OTLP_${upper}_TIMEOUT`)
    ? `OTEL_EXPORTER_OTLP_${upper}_TIMEOUT`
    : 'OTEL_EXPORTER_OTLP_TIMEOUT';
  return {
    url,
    headers: {
      ...headersFrom(read, 'OTEL_EXPORTER_OTLP_HEADERS'),
      ...headersFrom(read, `OTEL_EXPORTER_OTLP_${upper}_HEADERS`),
      ...options.headers,
    },
    timeoutMs: read.duration('timeoutMs', options.timeoutMs, { env: timeoutVar, default: 10_000, min: 1 }),
  };
}
