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

/** OTEL_RESOURCE_ATTRIBUTES: `key=value` pairs, comma separated, values percent-encoded. */
function envResourceAttributes(read: ConfigReader): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of read.list<string>('resourceAttributes', undefined, {
    env: 'OTEL_RESOURCE_ATTRIBUTES',
    default: [],
  })) {
    const eq = pair.indexOf('=');
    if (eq <= 0) read.fail('OTEL_RESOURCE_ATTRIBUTES', 'comma-separated key=value pairs', pair);
    let value = pair.slice(eq + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      /* keep the raw text: a stray % is not worth failing start for */
    }
    out[pair.slice(0, eq).trim()] = value;
  }
  return out;
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
    ...envResourceAttributes(read),
    ...extra,
    'service.name': read.string('serviceName', serviceName, {
      env: 'OTEL_SERVICE_NAME',
      default: 'unknown_service:node',
    }),
  };
}

/** `k=v,k2=v2` (values percent-encoded), as OTEL_EXPORTER_OTLP_HEADERS is written. */
function parseHeaders(read: ConfigReader, variable: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of read.list<string>('headers', undefined, { env: variable, default: [] })) {
    const eq = pair.indexOf('=');
    // The value is never shown: headers carry credentials.
    if (eq <= 0) read.fail(variable, 'comma-separated key=value pairs', '(a malformed entry)');
    let value = pair.slice(eq + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      /* sent as written */
    }
    out[pair.slice(0, eq).trim().toLowerCase()] = value;
  }
  return out;
}

const HTTP = ['http:', 'https:'] as const;

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
      ...parseHeaders(read, 'OTEL_EXPORTER_OTLP_HEADERS'),
      ...parseHeaders(read, `OTEL_EXPORTER_OTLP_${upper}_HEADERS`),
      ...options.headers,
    },
    timeoutMs: read.duration('timeoutMs', options.timeoutMs, { env: timeoutVar, default: 10_000, min: 1 }),
  };
}
