// The OTEL_* resource and endpoint rule tracing, metrics and logging share.
import os from 'node:os';
import {
  ConfigError,
  createConfigReader,
  processResourceAttributes,
  resolveOtlpCompression,
  resolveOtlpEndpoint,
  resolveOtlpResource,
  serviceInstanceId,
} from '../src';

const reader = (env: Record<string, string>) => createConfigReader({ env });

describe('resolveOtlpResource', () => {
  it('is service, version, instance, host and process, with OTEL_RESOURCE_ATTRIBUTES under the options', () => {
    const res = resolveOtlpResource(
      reader({ OTEL_SERVICE_NAME: 'from-env', OTEL_RESOURCE_ATTRIBUTES: 'team=a,deployment.environment.name=prod' }),
      { serviceVersion: '2.0.0', resourceAttributes: { team: 'b' } },
    );
    expect(res).toMatchObject({
      'service.name': 'from-env',
      'service.version': '2.0.0',
      'service.instance.id': serviceInstanceId(),
      'host.name': os.hostname(),
      'process.pid': process.pid,
      'process.runtime.name': 'nodejs',
      'telemetry.sdk.language': 'nodejs',
      team: 'b',
      'deployment.environment.name': 'prod',
    });
    expect(Object.keys(res)).not.toContain('process.command_line');
    expect(resolveOtlpResource(reader({}), { serviceName: 'opt' })['service.name']).toBe('opt');
    expect(resolveOtlpResource(reader({}))['service.name']).toBe('unknown_service:node');
    expect(() => resolveOtlpResource(reader({}), { serviceName: ' ' })).toThrow(ConfigError);
  });

  it('gives one stable, UUID-shaped instance id per process', () => {
    expect(serviceInstanceId()).toBe(serviceInstanceId());
    expect(serviceInstanceId()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(processResourceAttributes()['service.instance.id']).toBe(serviceInstanceId());
  });
});

describe('resolveOtlpEndpoint', () => {
  it('appends /v1/<signal> to the base, takes the per-signal variable as is, and merges headers', () => {
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20a,x-a=1',
      OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'authorization=Bearer b',
      OTEL_EXPORTER_OTLP_TIMEOUT: '2s',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://m:9/custom',
    };
    expect(resolveOtlpEndpoint(reader(env), 'logs')).toEqual({
      url: 'http://collector:4318/v1/logs',
      headers: { authorization: 'Bearer b', 'x-a': '1' },
      timeoutMs: 2000,
    });
    expect(resolveOtlpEndpoint(reader(env), 'metrics').url).toBe('http://m:9/custom');
    expect(resolveOtlpEndpoint(reader(env), 'traces', { endpoint: 'https://o/v1/traces' }).url).toBe(
      'https://o/v1/traces',
    );
    expect(resolveOtlpEndpoint(reader({}), 'logs').url).toBe('http://localhost:4318/v1/logs');
  });

  it('fails at start on another protocol, a bad URL or bad headers, without quoting header values', () => {
    expect(() => resolveOtlpEndpoint(reader({ OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'grpc' }), 'logs')).toThrow(
      /OTEL_EXPORTER_OTLP_LOGS_PROTOCOL/,
    );
    expect(() => resolveOtlpEndpoint(reader({ OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://x' }), 'logs')).toThrow(ConfigError);
    expect(() => resolveOtlpEndpoint(reader({ OTEL_EXPORTER_OTLP_HEADERS: 'token-secret' }), 'logs')).toThrow(
      /^(?!.*token-secret)/s,
    );
    expect(resolveOtlpCompression(reader({ OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' }), 'logs', undefined)).toBe('gzip');
    expect(resolveOtlpCompression(reader({}), 'logs', undefined)).toBe('none');
    expect(() =>
      resolveOtlpCompression(reader({ OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: 'br' }), 'logs', undefined),
    ).toThrow(/OTEL_EXPORTER_OTLP_LOGS_COMPRESSION/);
  });
});
