// Spans and the exposition operators scrape.
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createMetrics } from '@periscope/metrics';
import { promtoolCheckMetrics } from '@periscope-tools/testing';
import { createGpuPool, GpuUnavailableError, parseSimulatedSpec, type GpuDevice, type GpuPool } from '../src';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const devices = parseSimulatedSpec('sim:2x80GB') as GpuDevice[];
let pool: GpuPool | undefined;

beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
});
afterEach(async () => {
  await pool?.close();
  exporter.reset();
});
afterAll(async () => {
  trace.disable();
  await provider.shutdown();
});

describe('observability', () => {
  it('records a gpu.acquire span with the wait time and the chosen UUIDs, and errors by code', async () => {
    let now = 0;
    pool = createGpuPool({ devices, now: () => now });
    const first = await pool.acquire({ memoryMb: 81_920, count: 2, label: 'train' });
    const waiting = pool.acquire({ memoryMb: 1000, label: 'embed' });
    now = 250;
    first.release();
    await waiting;
    await expect(pool.acquire({ memoryMb: 81_920, count: 2, timeoutMs: 1 })).rejects.toBeInstanceOf(
      GpuUnavailableError,
    );
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(['gpu.acquire', 'gpu.acquire', 'gpu.acquire']);
    expect(spans[0].attributes).toMatchObject({
      'periscope.gpu.label': 'train',
      'periscope.gpu.count': 2,
      'periscope.gpu.wait_ms': 0,
      'periscope.gpu.uuids': devices.map((d) => d.uuid),
    });
    expect(spans[1].attributes).toMatchObject({
      'periscope.gpu.wait_ms': 250,
      'periscope.gpu.uuids': [devices[0].uuid],
    });
    expect(spans[2].status.code).toBe(2);
    expect(spans[2].attributes['error.type']).toBe('ERR_GPU_POOL_UNAVAILABLE');
  });

  it('exposes metrics that promtool accepts', async () => {
    const metrics = createMetrics();
    pool = createGpuPool({ devices, metrics });
    const lease = await pool.acquire({ memoryMb: 1000 });
    await expect(pool.acquire({ memoryMb: 1e6 })).rejects.toThrow();
    const text = (await metrics.expose()).body;
    expect(promtoolCheckMetrics(text)).not.toMatch(/error/i);
    expect(text).toContain('periscope_gpu_pool_rejected_total{pool="default",reason="unsatisfiable"} 1');
    expect(text).toContain('periscope_gpu_pool_queue_depth{pool="default"} 0');
    lease.release();
  });
});
