import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import { createMetrics } from '@periscope/metrics';
import { startTracing, trace, type Tracing } from '../src';
import { decodeExportTraceServiceRequest } from './otlp-decode';
import { runFixture } from './child';
import { startReceiver, type Receiver } from './receivers';

describe('exporters against real receivers', () => {
  let tracing: Tracing | undefined;
  let receiver: Receiver | undefined;
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await tracing?.close();
    await receiver?.close();
    for (const c of cleanup.splice(0)) await c();
    tracing = receiver = undefined;
  });

  it('otlp: posts http/protobuf to {endpoint}/v1/traces that decodes to our spans and resource, flushed by shutdown', async () => {
    receiver = await startReceiver();
    // A separate process: Jest's VM cannot run the OTLP exporter's dynamic import('http').
    const out = await runFixture('otlp-child.ts', { RECEIVER_URL: receiver.url });
    const { traceId } = JSON.parse(out) as { traceId: string };
    expect(receiver.requests).toHaveLength(1);
    const [req] = receiver.requests;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v1/traces');
    expect(req.headers['content-type']).toBe('application/x-protobuf');
    expect(req.headers.authorization).toBe('Bearer t0ken');
    const spans = decodeExportTraceServiceRequest(req.body);
    expect(spans.map((s) => s.name).sort()).toEqual(['agent run', 'broken', 'chat m1']);
    const root = spans.find((s) => s.name === 'agent run')!;
    const llm = spans.find((s) => s.name === 'chat m1')!;
    expect(root.traceId).toBe(traceId);
    expect(root.parentSpanId).toBeUndefined();
    expect(llm.parentSpanId).toBe(root.spanId);
    expect(llm.kind).toBe(SpanKind.CLIENT + 1); // OTLP kinds are offset by one
    expect(llm.attributes).toMatchObject({
      'gen_ai.request.model': 'm1',
      'gen_ai.usage.input_tokens': 5,
      'gen_ai.usage.output_tokens': 7,
    });
    expect(llm.endTimeUnixNano).toBeGreaterThanOrEqual(llm.startTimeUnixNano);
    const broken = spans.find((s) => s.name === 'broken')!;
    expect(broken.status).toEqual({ code: 2, message: 'bad' });
    expect(broken.events[0].name).toBe('exception');
    expect(root.scope).toBe('@periscope/tracing');
    expect(root.resource).toMatchObject({
      'service.name': 'otlp-svc',
      'service.version': '1.2.3',
      'deployment.environment': 'test',
      team: 'ai platform',
      'host.name': os.hostname(),
      'process.runtime.name': 'nodejs',
    });
    expect(root.resource['service.instance.id']).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(typeof root.resource['process.pid']).toBe('number');
    // The command line may carry secrets: never in the resource.
    expect(Object.keys(root.resource).filter((k) => k.startsWith('process.command'))).toEqual([]);
  });

  it('zipkin and file at once: Zipkin gets v2 JSON spans with the expected fields', async () => {
    receiver = await startReceiver(202);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tracing-both-'));
    cleanup.push(() => fs.rm(dir, { recursive: true, force: true }));
    tracing = startTracing({
      serviceName: 'zip-svc',
      exporter: ['zipkin', 'file'],
      zipkin: { endpoint: `${receiver.url}/api/v2/spans` },
      file: { path: path.join(dir, 'x.jsonl') },
      env: {},
    });
    const traceId = trace('parent', (p) => {
      trace('child', () => undefined, { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'postgresql', n: 3 } });
      return p.spanContext().traceId;
    });
    await tracing.forceFlush();
    const [req] = await receiver.waitFor(1);
    expect(req.path).toBe('/api/v2/spans');
    expect(req.headers['content-type']).toMatch(/application\/json/);
    const spans = JSON.parse(req.body.toString()) as Array<Record<string, unknown>>;
    const parent = spans.find((s) => s.name === 'parent')!;
    const child = spans.find((s) => s.name === 'child')!;
    expect(parent).toMatchObject({ traceId, localEndpoint: { serviceName: 'zip-svc' } });
    expect(parent.parentId).toBeUndefined();
    expect(child).toMatchObject({
      traceId,
      parentId: parent.id,
      kind: 'CLIENT',
      tags: { 'db.system.name': 'postgresql', n: '3' },
    });
    expect(child.id).toMatch(/^[0-9a-f]{16}$/);
    expect(typeof child.timestamp).toBe('number');
    expect(typeof child.duration).toBe('number');
    expect(Math.abs((child.timestamp as number) / 1000 - Date.now())).toBeLessThan(10_000); // microseconds since epoch
    expect((await fs.readFile(path.join(dir, 'x.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(2);
  });

  it('counts failed export batches in the metrics registry', async () => {
    receiver = await startReceiver(400);
    const metrics = createMetrics();
    tracing = startTracing({
      exporter: 'zipkin',
      zipkin: { endpoint: receiver.url },
      metrics,
      spanMetrics: false,
      env: {},
    });
    trace('lost', () => undefined);
    await expect(tracing.forceFlush()).rejects.toMatchObject({
      code: 'ERR_TRACING_EXPORT',
      message: expect.stringContaining('400'),
    });
    await receiver.waitFor(1);
    const { body } = await metrics.expose();
    expect(body).toMatch(/periscope_tracing_export_failures_total\{exporter="zipkin"\} 1/);
    trace('lost again', () => undefined);
    await tracing.close(); // an export failure at shutdown is counted, not thrown
    expect((await metrics.expose()).body).toMatch(/periscope_tracing_export_failures_total\{exporter="zipkin"\} 2/);
  });

  it('console: prints each span with its name and ids', async () => {
    const printed: unknown[] = [];
    const original = console.dir;
    console.dir = (obj: unknown) => {
      printed.push(obj);
    };
    try {
      tracing = startTracing({ exporter: 'console', store: false, env: {} });
      const id = trace('to the console', (s) => s.spanContext().traceId, { attributes: { k: 'v' } });
      await tracing.forceFlush();
      expect(printed).toEqual([
        expect.objectContaining({ name: 'to the console', traceId: id, attributes: { k: 'v' } }),
      ]);
    } finally {
      console.dir = original;
    }
  });

  it('file: an existing file readable by others is made private before spans go in', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tracing-file-'));
    const file = path.join(dir, 'spans.jsonl');
    try {
      await fs.writeFile(file, '', { mode: 0o644 });
      await fs.chmod(file, 0o644);
      tracing = startTracing({ exporter: 'file', file: { path: file }, store: false, env: {} });
      trace('one', () => undefined);
      await tracing.close();
      expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('file: writes JSON lines and rotates by size', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tracing-file-'));
    const file = path.join(dir, 'spans.jsonl');
    try {
      tracing = startTracing({
        exporter: 'file',
        file: { path: file, maxBytes: 2048, maxFiles: 2 },
        store: false,
        batch: { maxExportBatchSize: 5 },
        env: {},
      });
      for (let i = 0; i < 40; i++) trace(`span-${i}`, () => undefined, { attributes: { i, pad: 'x'.repeat(40) } });
      await tracing.close(); // flushes
      const names = (await fs.readdir(dir)).sort();
      expect(names).toEqual(['spans.jsonl', 'spans.jsonl.1', 'spans.jsonl.2']);
      for (const n of names) {
        const stat = await fs.stat(path.join(dir, n));
        expect(stat.size).toBeLessThanOrEqual(2048);
        expect({ n, mode: stat.mode & 0o777 }).toEqual({ n, mode: 0o600 }); // spans may hold prompts: owner only
      }
      const last = (await fs.readFile(file, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(last[last.length - 1]).toMatchObject({
        name: 'span-39',
        attributes: { i: 39 },
        status: { code: 'UNSET' },
        kind: 'INTERNAL',
      });
      expect(last[0].traceId).toMatch(/^[0-9a-f]{32}$/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('shutdown flushes spans still queued in the batch processor, and is idempotent', async () => {
    receiver = await startReceiver(202);
    tracing = startTracing({
      exporter: 'zipkin',
      zipkin: { endpoint: receiver.url },
      batch: { scheduledDelayMs: 60_000 },
      env: {},
    });
    trace('queued', () => undefined);
    expect(receiver.requests).toHaveLength(0);
    await Promise.all([tracing.close(), tracing.close()]);
    expect(receiver.requests).toHaveLength(1);
    expect((JSON.parse(receiver.requests[0].body.toString()) as { name: string }[]).map((s) => s.name)).toEqual([
      'queued',
    ]);
    await tracing.close();
    expect(receiver.requests).toHaveLength(1);
  });
});
