// createOtlpTransport() against real node:http receivers that decode each body with the generated
// code of the official OTLP protobuf definitions (shipped in @opentelemetry/otlp-transformer 0.212,
// hence the aliased dev dependency, as in @periscope/metrics' OTLP test).
import http from 'node:http';
import os from 'node:os';
import { gunzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { TcpFaultProxy } from '@periscope-tools/testing';
import { createMetrics } from '@periscope/metrics';
import { createLogger, createOtlpTransport, LoggingConfigError, type HttpLogTransport } from '@periscope/logging';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- generated CommonJS code of the official .proto files
const root = require('otlp-transformer-with-protos/build/src/generated/root.js') as {
  opentelemetry: { proto: { collector: { logs: { v1: { ExportLogsServiceRequest: Decoder } } } } };
};
interface Decoder {
  decode(buf: Uint8Array): unknown;
  toObject(m: unknown, o: object): Decoded;
}
type KV = { key: string; value: Record<string, unknown> };
interface DecodedRecord {
  timeUnixNano: number;
  observedTimeUnixNano: number;
  severityNumber: number;
  severityText: string;
  body: { stringValue: string };
  attributes?: KV[];
  flags?: number;
  traceId?: string;
  spanId?: string;
}
interface Decoded {
  resourceLogs: {
    resource: { attributes: KV[] };
    scopeLogs: { scope: { name: string; version: string }; logRecords: DecodedRecord[] }[];
  }[];
}

const Request = root.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
function decode(body: Buffer): Decoded {
  return Request.toObject(Request.decode(body), { longs: Number, bytes: String, enums: Number, arrays: true });
}
/** AnyValue → plain JS (kvlist and array values unwrapped). */
function plain(v: Record<string, unknown> | undefined): unknown {
  if (!v) return undefined;
  if ('kvlistValue' in v) return attrsOf((v.kvlistValue as { values: KV[] }).values);
  if ('arrayValue' in v) return (v.arrayValue as { values: Record<string, unknown>[] }).values.map(plain);
  return Object.values(v)[0];
}
const attrsOf = (kvs: KV[] | undefined): Record<string, unknown> =>
  Object.fromEntries((kvs ?? []).map((kv) => [kv.key, plain(kv.value)]));
const hex = (b64: unknown) => Buffer.from(String(b64), 'base64').toString('hex');
const records = (d: Decoded) => d.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));

interface Receiver {
  url: string;
  port: number;
  bodies: { path: string; headers: http.IncomingHttpHeaders; body: Buffer }[];
  /** Decoded requests (gunzipped when the request says so). */
  decoded(): Decoded[];
  close(): Promise<void>;
}

/** Answers each request with the next status of `script` (200 once it is empty). */
async function startReceiver(script: number[] = []): Promise<Receiver> {
  const bodies: Receiver['bodies'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(script.shift() ?? 200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    bodies,
    decoded: () => bodies.map((b) => decode(b.headers['content-encoding'] === 'gzip' ? gunzipSync(b.body) : b.body)),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});
function track(t: HttpLogTransport): HttpLogTransport {
  cleanup.push(() => t.shutdown(0));
  return t;
}
function captureStderr(): () => string {
  let text = '';
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  });
  cleanup.push(() => spy.mockRestore());
  return () => text;
}

describe('OTLP/HTTP logs transport', () => {
  const contextManager = new AsyncLocalStorageContextManager();
  const provider = new BasicTracerProvider();
  beforeAll(() => {
    context.setGlobalContextManager(contextManager.enable());
    trace.setGlobalTracerProvider(provider);
  });
  afterAll(async () => {
    trace.disable();
    context.disable();
    await provider.shutdown();
  });

  it('delivers records with severity, body, attributes, trace and span ids, and the shared resource', async () => {
    const rx = await startReceiver();
    cleanup.push(rx.close);
    const shipper = track(
      createOtlpTransport({
        endpoint: rx.url,
        serviceVersion: '1.2.3',
        resourceAttributes: { 'deployment.environment.name': 'test' },
        flushIntervalMs: 60_000,
        env: { OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'Authorization=Bearer%20tok,X-Tenant=acme' },
      }),
    );
    const logger = createLogger({ service: 'agent-api', format: 'json', transports: [shipper] });
    let ids: { traceId: string; spanId: string } | undefined;
    await trace.getTracer('test').startActiveSpan('task', async (span) => {
      ids = span.spanContext();
      await new Promise((r) => setImmediate(r));
      logger.agentLogger('planner').warn('tool slow', { tool: 'search', ms: 1234.5, tags: ['a', 'b'], n: { x: 1 } });
      span.end();
    });
    logger.error('failed', new RangeError('amount too large'));
    logger.debug('not enabled');
    await logger.shutdown();

    expect(rx.bodies).toHaveLength(1);
    const { path, headers } = rx.bodies[0];
    expect(path).toBe('/v1/logs');
    expect(headers).toMatchObject({
      'content-type': 'application/x-protobuf',
      authorization: 'Bearer tok',
      'x-tenant': 'acme',
    });
    const req = rx.decoded()[0];
    expect(req.resourceLogs).toHaveLength(1);
    expect(attrsOf(req.resourceLogs[0].resource.attributes)).toMatchObject({
      'service.name': 'agent-api',
      'service.version': '1.2.3',
      'deployment.environment.name': 'test',
      'host.name': os.hostname(),
      'process.pid': process.pid,
      'telemetry.sdk.language': 'nodejs',
      'service.instance.id': expect.stringMatching(
        /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      ),
    });
    const scopes = req.resourceLogs[0].scopeLogs.map((s) => s.scope.name);
    expect(scopes).toEqual(['planner', '@periscope/logging']);
    const [warn, error] = records(req);
    expect(warn).toMatchObject({
      severityNumber: 13,
      severityText: 'WARN',
      body: { stringValue: 'tool slow' },
      flags: 1,
    });
    expect(hex(warn.traceId)).toBe(ids!.traceId);
    expect(hex(warn.spanId)).toBe(ids!.spanId);
    expect(warn.observedTimeUnixNano).toBe(warn.timeUnixNano);
    expect(Math.abs(warn.timeUnixNano / 1e6 - Date.now())).toBeLessThan(60_000);
    expect(attrsOf(warn.attributes)).toMatchObject({
      tool: 'search',
      ms: 1234.5,
      tags: ['a', 'b'],
      n: { x: 1 },
      'gen_ai.agent.name': 'planner',
    });
    // winston appends the error's message to the logged text.
    expect(error).toMatchObject({
      severityNumber: 17,
      severityText: 'ERROR',
      body: { stringValue: 'failed amount too large' },
    });
    expect(error.traceId).toBeUndefined();
    expect(attrsOf(error.attributes)).toMatchObject({
      'exception.type': 'RangeError',
      'exception.message': 'amount too large',
      'exception.stacktrace': expect.stringContaining('RangeError: amount too large'),
    });
  });

  it('redacts secrets like every other transport: none reaches the receiver', async () => {
    const rx = await startReceiver();
    cleanup.push(rx.close);
    const shipper = track(createOtlpTransport({ endpoint: rx.url, flushIntervalMs: 60_000 }));
    const logger = createLogger({ service: 'svc', format: 'json', transports: [shipper] });
    logger.info('connecting to postgres://app:pg-secret-1@db/x', {
      password: 'hunter2-secret',
      headers: { authorization: 'Bearer sk-live-abcdefghijklmnop' },
      apiKey: 'key-secret-3',
    });
    await logger.shutdown();
    const raw = rx.bodies.map((b) => b.body.toString('latin1')).join('');
    for (const secret of ['pg-secret-1', 'hunter2-secret', 'sk-live-abcdefghijklmnop', 'key-secret-3'])
      expect(raw).not.toContain(secret);
    const [r] = records(rx.decoded()[0]);
    expect(r.body.stringValue).toContain('postgres://app:');
    expect(attrsOf(r.attributes)).toMatchObject({ password: '[REDACTED]', apiKey: '[REDACTED]' });
  });

  it('batches by size, gzips when asked, and retries 429/503 with backoff until delivered', async () => {
    const rx = await startReceiver([503, 429]);
    cleanup.push(rx.close);
    const metrics = createMetrics();
    const shipper = track(
      createOtlpTransport({
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
          OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
          OTEL_SERVICE_NAME: 'env-svc',
        },
        batchSize: 3,
        flushIntervalMs: 60_000,
        retryBaseMs: 10,
        metrics,
      }),
    );
    const logger = createLogger({ service: 'ignored', format: 'json', transports: [shipper] });
    for (let i = 0; i < 7; i++) logger.info(`event ${i}`);
    await logger.shutdown();
    expect(rx.bodies.every((b) => b.headers['content-encoding'] === 'gzip')).toBe(true);
    // Two failed attempts of the first batch, then 3 + 3 + 1.
    const delivered = rx.decoded().slice(2);
    expect(delivered.map((d) => records(d).length)).toEqual([3, 3, 1]);
    expect(delivered.flatMap((d) => records(d).map((r) => r.body.stringValue))).toEqual(
      Array.from({ length: 7 }, (_, i) => `event ${i}`),
    );
    expect(attrsOf(delivered[0].resourceLogs[0].resource.attributes)['service.name']).toBe('env-svc');
    expect(shipper.stats()).toMatchObject({ target: 'otlp', sent: 7, retries: 2, dropped: { total: 0 } });
    expect((await metrics.expose()).body).toMatch(/periscope_logging_shipped_total\{target="otlp"\} 7/);
  });

  it('never blocks the logger: a full buffer drops the oldest records and counts them', async () => {
    const proxy = await TcpFaultProxy.start({ target: { host: '127.0.0.1', port: 9 } });
    cleanup.push(() => proxy.close());
    proxy.blackhole();
    captureStderr();
    const shipper = track(
      createOtlpTransport({ endpoint: `http://127.0.0.1:${proxy.port}`, maxBufferSize: 10, flushIntervalMs: 60_000 }),
    );
    const logger = createLogger({ service: 'svc', format: 'json', transports: [shipper] });
    const started = performance.now();
    for (let i = 0; i < 1000; i++) logger.info(`event ${i}`);
    expect(performance.now() - started).toBeLessThan(5000);
    await new Promise((r) => setImmediate(r));
    expect(shipper.stats()).toMatchObject({ buffered: 10, dropped: { byReason: { buffer_full: 990 } } });
  });

  it('with the collector down, shutdown settles within its bound and says how many records were lost', async () => {
    const proxy = await TcpFaultProxy.start({ target: { host: '127.0.0.1', port: 9 } });
    cleanup.push(() => proxy.close());
    proxy.blackhole();
    const stderr = captureStderr();
    const metrics = createMetrics();
    const shipper = createOtlpTransport({
      endpoint: `http://127.0.0.1:${proxy.port}`,
      timeoutMs: 30_000,
      closeTimeoutMs: 300,
      flushIntervalMs: 60_000,
      metrics,
    });
    const logger = createLogger({ service: 'svc', format: 'json', transports: [shipper] });
    for (let i = 0; i < 4; i++) logger.info(`event ${i}`);
    const started = Date.now();
    await logger.shutdown();
    // 300 ms bound; generous slack for a loaded machine, far below the 30 s request timeout.
    expect(Date.now() - started).toBeLessThan(5000);
    expect(shipper.stats()).toMatchObject({ sent: 0, dropped: { total: 4, byReason: { shutdown: 4 } } });
    expect(stderr()).toMatch(/could not deliver 4 log record\(s\) to otlp at http:\/\/127\.0\.0\.1:\d+\/v1\/logs/);
    expect((await metrics.expose()).body).toMatch(
      /periscope_logging_ship_dropped_total\{target="otlp",reason="shutdown"\} 4/,
    );
  });

  it('reads the endpoint from the per-signal variable as is, and rejects bad configuration', () => {
    const t = track(
      createOtlpTransport({
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://base:4318',
          OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://logs:9999/custom/path',
        },
      }),
    );
    expect(t.target).toBe('otlp');
    expect(() => createOtlpTransport({ env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' } })).toThrow(LoggingConfigError);
    expect(() => createOtlpTransport({ compression: 'br' as never })).toThrow(/^invalid compression/);
    expect(() => createOtlpTransport({ endpoint: 'ftp://u:topsecret@x' })).not.toThrow(/topsecret/);
    expect(() => createOtlpTransport({ endpoint: 'ftp://u:topsecret@x' })).toThrow(LoggingConfigError);
    expect(() => createOtlpTransport({ env: { OTEL_EXPORTER_OTLP_HEADERS: 'broken' } })).toThrow(
      /OTEL_EXPORTER_OTLP_HEADERS/,
    );
    expect(() => createOtlpTransport({ batchsize: 3 } as never)).toThrow(/batchSize/);
  });
});
