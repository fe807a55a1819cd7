// The OTLP resource of this process and the OTEL_EXPORTER_OTLP_* endpoint settings. The rule is
// @periscope/core's (resolveOtlpResource, resolveOtlpEndpoint): tracing and logging apply the same
// one, so traces, metrics and logs of one process carry one identity (service.instance.id).
import { resolveOtlpEndpoint as coreEndpoint, resolveOtlpResource, type ConfigReader } from '@periscope/core';
import type { Attributes } from './otlp-encode';

export { serviceInstanceId } from '@periscope/core';

/**
 * service.name (option > OTEL_SERVICE_NAME > unknown_service:node), OTEL_RESOURCE_ATTRIBUTES, the
 * options' attributes, then host and process attributes (never the command line: it may carry secrets).
 */
export function resolveResource(
  read: ConfigReader,
  serviceName: string | undefined,
  extra: Readonly<Record<string, string | number | boolean>> | undefined,
  serviceVersion?: string,
): Attributes {
  return {
    'telemetry.sdk.name': '@periscope/metrics',
    ...resolveOtlpResource(read, { serviceName, serviceVersion, resourceAttributes: extra }),
  };
}

/** The signal's endpoint (per-signal variable as is; else the base + `/v1/<signal>`), headers and timeout. */
export function resolveOtlpEndpoint(
  read: ConfigReader,
  signal: 'metrics' | 'traces',
  options: { endpoint?: string; headers?: Record<string, string>; timeoutMs?: number },
): { url: string; headers: Record<string, string>; timeoutMs: number } {
  return coreEndpoint(read, signal, options);
}
