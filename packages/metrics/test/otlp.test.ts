// startOtlpPush() against real node:http receivers that decode each body with the generated code
// of the official OTLP protobuf definitions (shipped in @opentelemetry/otlp-transformer 0.212; the
// 0.223 line no longer ships it, hence the aliased dev dependency).
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { createMetrics, MetricsConfigError, OtlpPushError, startOtlpPush, type OtlpPush } from '../src';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- generated CommonJS code of the official .proto files
const root = require('otlp-transformer-with-protos/build/src/generated/root.js') as {
  opentelemetry: { proto: { collector: { metrics: { v1: { ExportMetricsServiceRequest: Decoder } } } } };
};
interface Decoder {
  decode(buf: Uint8Array): unknown;
  toObject(m: unknown, o: object): Decoded;
}
type KV = { key: string; value: Record<string, unknown> };
interface Decoded {
  resourceMetrics: {
    resource: { attributes: KV[] };
    scopeMetrics: { scope: { name: string }; metrics: DecodedMetric[] }[];
  }[];
}
type Point = Record<string, unknown> & { attributes?: KV[]; exemplars?: Record<string, unknown>[] };
interface DecodedMetric {
  name: string;
  description: string;
  unit: string;
  sum?: { dataPoints: Point[]; aggregationTemporality: number; isMonotonic: boolean };
  gauge?: { dataPoints: Point[] };
  histogram?: { dataPoints: Point[]; aggregationTemporality: number };
  summary?: { dataPoints: Point[] };
}

const Request = root.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
function decode(body: Buffer): Decoded {
  return Request.toObject(Request.decode(body), { longs: Number, bytes: String, defaults: false, arrays: true });
}
const attrsOf = (kvs: KV[] | undefined) =>
  Object.fromEntries((kvs ?? []).map((kv) => [kv.key, Object.values(kv.value)[0]]));
const hex = (b64: unknown) => Buffer.from(String(b64), 'base64').toString('hex');

interface Receiver {
  url: string;
  bodies: { path: string; headers: http.IncomingHttpHeaders; body: Buffer }[];
  next(n: number): Promise<void>;
  close(): Promise<void>;
}

async function startReceiver(status = 200, respond = true): Promise<Receiver> {
  const bodies: Receiver['bodies'] = [];
  const waiters: (() => void)[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      waiters.splice(0).forEach((w) => w());
      if (respond) res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    next: (n) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`expected ${n} pushes, got ${bodies.length}`)), 10_000);
        const check = () => (bodies.length >= n ? (clearTimeout(timer), resolve()) : waiters.push(check));
        check();
      }),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

let pusher: OtlpPush | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await pusher?.close();
  await receiver?.close();
  pusher = receiver = undefined;
});
afterAll(() => context.disable());

describe('startOtlpPush', () => {
  it('pushes counters, gauges, histograms (same bounds), summaries and exemplars, cumulative, with the resource', async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    receiver = await startReceiver();
    const metrics = createMetrics({ defaultLabels: { region: 'eu' } });
    const requests = metrics.counter({ name: 'app_requests_total', help: 'Requests', labelNames: ['route'] as const });
    const inflight = metrics.gauge({ name: 'app_inflight', help: 'In flight' });
    const latency = metrics.histogram({ name: 'app_latency_seconds', help: 'Latency', buckets: [0.1, 0.5, 2.5] });
    const sizes = metrics.summary({ name: 'app_size_bytes', help: 'Sizes', percentiles: [0.5] });
    const span = trace.wrapSpanContext({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.SAMPLED,
    });
    await metrics.expose(); // picks up the context manager registered above
    context.with(trace.setSpan(context.active(), span), () => {
      requests.inc({ route: '/a' }, 2);
      latency.observe(0.3);
    });
    requests.inc({ route: '/b' });
    inflight.set(7);
    latency.observe(0.05);
    latency.observe(9);
    sizes.observe(100);

    pusher = startOtlpPush(metrics, {
      endpoint: receiver.url,
      intervalMs: 60_000,
      headers: { authorization: 'Bearer t0ken' },
      env: {
        OTEL_SERVICE_NAME: 'otlp-svc',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test,team=ai%20platform',
      },
    });
    await pusher.push();
    const [{ path, headers, body }] = receiver.bodies;
    expect(path).toBe('/v1/metrics');
    expect(headers['content-type']).toBe('application/x-protobuf');
    expect(headers.authorization).toBe('Bearer t0ken');

    const decoded = decode(body);
    const [rm] = decoded.resourceMetrics;
    expect(attrsOf(rm.resource.attributes)).toMatchObject({
      'service.name': 'otlp-svc',
      'deployment.environment': 'test',
      team: 'ai platform',
      'host.name': os.hostname(),
      'process.pid': process.pid,
    });
    expect(attrsOf(rm.resource.attributes)['service.instance.id']).toMatch(/^[0-9a-f-]{36}$/);
    const byName = new Map(rm.scopeMetrics[0].metrics.map((m) => [m.name, m]));
    expect(rm.scopeMetrics[0].scope.name).toBe('@periscope/metrics');

    const sum = byName.get('app_requests_total')!.sum!;
    expect(sum.isMonotonic).toBe(true);
    expect(sum.aggregationTemporality).toBe(2); // CUMULATIVE
    const a = sum.dataPoints.find((p) => attrsOf(p.attributes).route === '/a')!;
    expect(a.asDouble).toBe(2);
    expect(attrsOf(a.attributes)).toEqual({ route: '/a', region: 'eu' });
    expect(a.exemplars!.map((e) => [hex(e.traceId), hex(e.spanId), e.asDouble])).toEqual([
      ['4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7', 2],
    ]);
    expect(Number(a.timeUnixNano)).toBeGreaterThan(Number(a.startTimeUnixNano));

    expect(byName.get('app_inflight')!.gauge!.dataPoints[0].asDouble).toBe(7);

    const hist = byName.get('app_latency_seconds')!;
    expect(hist.unit).toBe('s');
    expect(hist.histogram!.aggregationTemporality).toBe(2);
    const hp = hist.histogram!.dataPoints[0];
    expect(hp.explicitBounds).toEqual([0.1, 0.5, 2.5]);
    expect(hp.bucketCounts).toEqual([1, 1, 0, 1]); // per bucket, +Inf last
    expect(hp.count).toBe(3);
    expect(hp.sum).toBeCloseTo(9.35);
    expect(hp.exemplars!.map((e) => [hex(e.traceId), e.asDouble])).toEqual([['4bf92f3577b34da6a3ce929d0e0e4736', 0.3]]);

    // A second push: cumulative values, the same attributes (encoded once per series and reused).
    requests.inc({ route: '/a' });
    await pusher.push();
    const again = decode(receiver.bodies[1].body).resourceMetrics[0].scopeMetrics[0].metrics.find(
      (m) => m.name === 'app_requests_total',
    )!;
    expect(again.sum!.dataPoints.map((p) => [attrsOf(p.attributes), p.asDouble])).toEqual([
      [{ route: '/a', region: 'eu' }, 3],
      [{ route: '/b', region: 'eu' }, 1],
    ]);
    expect(Number(again.sum!.dataPoints[0].timeUnixNano)).toBeGreaterThanOrEqual(Number(a.timeUnixNano));

    const summary = byName.get('app_size_bytes')!.summary!.dataPoints[0];
    expect(summary).toMatchObject({ count: 1, sum: 100 });
    expect(summary.quantileValues).toEqual([{ quantile: 0.5, value: 100 }]);
    await metrics.close();
  });

  it('reads the endpoint from OTEL_EXPORTER_OTLP_ENDPOINT (+/v1/metrics) or the per-signal variable, and pushes on the interval', async () => {
    receiver = await startReceiver();
    const metrics = createMetrics();
    metrics.counter({ name: 'ticks_total', help: 'x' }).inc();
    const base = startOtlpPush(metrics, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: `${receiver.url}/otel/` } });
    expect(base.url).toBe(`${receiver.url}/otel/v1/metrics`);
    await base.close();
    pusher = startOtlpPush(metrics, {
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${receiver.url}/custom`,
        OTEL_METRIC_EXPORT_INTERVAL: '50ms',
        OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=a%20b',
      },
    });
    await receiver.next(3); // close() of the first pusher made one push; the interval makes more
    const late = receiver.bodies.slice(1);
    expect(late.every((r) => r.path === '/custom' && r.headers['x-tenant'] === 'a b')).toBe(true);
    const names = decode(late[0].body).resourceMetrics[0].scopeMetrics[0].metrics.map((m) => m.name);
    expect(names).toContain('ticks_total');
  });

  it('rejects push() with OtlpPushError on an HTTP error and counts the failure', async () => {
    receiver = await startReceiver(503);
    const metrics = createMetrics();
    pusher = startOtlpPush(metrics, { endpoint: receiver.url, env: {} });
    await expect(pusher.push()).rejects.toMatchObject({ code: 'ERR_METRICS_PUSH', status: 503 });
    await expect(pusher.push()).rejects.toBeInstanceOf(OtlpPushError);
    expect((await metrics.expose()).body).toContain('periscope_metrics_otlp_push_failures_total{reason="refused"} 2');
  });

  it('close() settles within its bound when the endpoint never answers, and leaves no socket open', async () => {
    // A black hole: accepts the connection, reads the request, never responds.
    receiver = await startReceiver(200, false);
    const metrics = createMetrics();
    pusher = startOtlpPush(metrics, { endpoint: receiver.url, closeTimeoutMs: 300, timeoutMs: 60_000, env: {} });
    const t0 = performance.now();
    await pusher.close();
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(receiver.bodies).toHaveLength(1);
    await pusher.close(); // idempotent
    expect((await metrics.expose()).body).toContain(
      'periscope_metrics_otlp_push_failures_total{reason="unreachable"} 1',
    );
  });

  it('close() does not hang when nothing listens at the endpoint', async () => {
    const port = await new Promise<number>((r) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => r(p));
      });
    });
    const metrics = createMetrics();
    pusher = startOtlpPush(metrics, { endpoint: `http://127.0.0.1:${port}`, env: {} });
    await expect(pusher.push()).rejects.toThrow(/OTLP metrics push failed: .*ECONNREFUSED/);
    await pusher.close();
  });

  it('refuses bad configuration with a MetricsConfigError naming the option or variable', () => {
    const m = createMetrics();
    expect(() => startOtlpPush(m, { endpont: 'x' } as never)).toThrow(/did you mean endpoint\?/);
    expect(() => startOtlpPush(m, { env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' } })).toThrow(MetricsConfigError);
    expect(() => startOtlpPush(m, { env: { OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta' } })).toThrow(
      /OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: expected one of cumulative/,
    );
    expect(() => startOtlpPush(m, { endpoint: 'ftp://x', env: {} })).toThrow(/invalid endpoint/);
    expect(() => startOtlpPush(m, { intervalMs: 0, env: {} })).toThrow(/intervalMs/);
  });
});
