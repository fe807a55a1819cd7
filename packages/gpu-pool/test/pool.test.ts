import {
  createGpuPool,
  GpuAbortedError,
  GpuPoolClosedError,
  GpuPoolConfigError,
  GpuQueueFullError,
  GpuUnavailableError,
  GpuUnsatisfiableError,
  parseSimulatedSpec,
  type GpuDevice,
  type GpuLease,
  type GpuPool,
} from '../src';
import { noGpuEnv } from './helpers';

function sim(spec: string): GpuDevice[] {
  const d = parseSimulatedSpec(spec);
  if (typeof d === 'string') throw new Error(d);
  return d;
}
const idx = (l: GpuLease) => l.devices.map((d) => d.index);
const pools: GpuPool[] = [];
function pool(...args: Parameters<typeof createGpuPool>): GpuPool {
  const p = createGpuPool(...args);
  pools.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
  jest.useRealTimers();
});
/** Lets granted promises settle. */
const tick = () => new Promise((r) => setImmediate(r));

describe('leases', () => {
  it('gives a lease with the devices, CUDA/NVIDIA_VISIBLE_DEVICES by UUID, and an idempotent release', async () => {
    const p = pool({ devices: sim('sim:2x80GB'), overheadMb: 500 });
    const lease = await p.acquire({ memoryMb: 10_000, count: 2, label: 'embed' });
    const uuids = lease.devices.map((d) => d.uuid).join(',');
    expect(lease.env).toEqual({ CUDA_VISIBLE_DEVICES: uuids, NVIDIA_VISIBLE_DEVICES: uuids });
    expect(p.status().devices.map((d) => d.reservedMb)).toEqual([10_500, 10_500]);
    expect(p.status().leases).toEqual([expect.objectContaining({ label: 'embed', memoryMb: 10_000 })]);
    lease.release();
    lease.release();
    expect(p.status().devices.map((d) => [d.reservedMb, d.leases])).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });

  it('best-fit packs small leases and keeps a whole GPU free for a large one', async () => {
    const p = pool({ devices: sim('sim:2x80GB'), strategy: 'best-fit' });
    const a = await p.acquire({ memoryMb: 30_000 });
    const b = await p.acquire({ memoryMb: 30_000 });
    expect([idx(a), idx(b)]).toEqual([[0], [0]]);
    expect(idx(await p.acquire({ memoryMb: 80_000 }))).toEqual([1]);
  });

  it('spread puts leases on the least loaded device; round-robin takes turns', async () => {
    const s = pool({ devices: sim('sim:3x80GB'), strategy: 'spread' });
    const spread = [];
    for (let i = 0; i < 4; i++) spread.push(idx(await s.acquire({ memoryMb: 1000 }))[0]);
    expect(spread).toEqual([0, 1, 2, 0]);
    const r = pool({ devices: sim('sim:3x80GB'), strategy: 'round-robin' });
    const rr = [];
    for (let i = 0; i < 4; i++) {
      const l = await r.acquire({ memoryMb: 1000 });
      rr.push(idx(l)[0]);
      l.release(); // round-robin turns even when the first device is free
    }
    expect(rr).toEqual([0, 1, 2, 0]);
  });

  it('reserves multi-GPU requests atomically, on one NUMA node when it has enough', async () => {
    const devices = sim('sim:4x80GB').map((d, i) => ({ ...d, numaNode: i % 2 }));
    const p = pool({ devices });
    expect(idx(await p.acquire({ memoryMb: 75_000, count: 2 }))).toEqual([0, 2]);
    // Two devices left, each with 80 GB: a request for three waits and reserves nothing.
    const three = p.acquire({ memoryMb: 10_000, count: 3, timeoutMs: 50 });
    await tick();
    expect(p.status().devices.map((d) => d.reservedMb)).toEqual([75_000, 0, 75_000, 0]);
    await expect(three).rejects.toBeInstanceOf(GpuUnavailableError);
  });

  it('filters by compute capability and fails at once on a request no device can ever hold', async () => {
    const p = pool({ devices: sim('sim:1x24GB@8.6,1x80GB@9.0') });
    expect(idx(await p.acquire({ memoryMb: 1000, minComputeCapability: 9 }))).toEqual([1]);
    await expect(p.acquire({ memoryMb: 90_000 })).rejects.toBeInstanceOf(GpuUnsatisfiableError);
    await expect(p.acquire({ memoryMb: 1000, count: 3 })).rejects.toThrow(/can ever satisfy 3 GPUs/);
    await expect(p.acquire({ memoryMb: 30_000, minComputeCapability: 8.6, count: 2 })).rejects.toBeInstanceOf(
      GpuUnsatisfiableError,
    );
    await expect(p.acquire({ memoryMb: -1 })).rejects.toBeInstanceOf(GpuPoolConfigError);
  });
});

describe('leases: exclusive, run, discovery, options', () => {
  it('gives an exclusive lease an empty device and nothing else shares it', async () => {
    const p = pool({ devices: sim('sim:2x80GB') });
    const shared = await p.acquire({ memoryMb: 1000 });
    const ex = await p.acquire({ memoryMb: 1000, exclusive: true });
    expect(idx(ex)).toEqual([1]);
    expect(idx(await p.acquire({ memoryMb: 1000 }))).toEqual([0]);
    await expect(p.acquire({ memoryMb: 1000, exclusive: true, timeoutMs: 20 })).rejects.toBeInstanceOf(
      GpuUnavailableError,
    );
    shared.release();
  });

  it('run() releases when fn settles, also when it throws', async () => {
    const p = pool({ devices: sim('sim:1x80GB') });
    expect(await p.run({ memoryMb: 1000 }, (l) => l.devices.length)).toBe(1);
    await expect(
      p.run({ memoryMb: 1000 }, () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(p.status().devices[0].reservedMb).toBe(0);
  });

  it('finds its devices through discovery (simulated here) and says where they came from', async () => {
    const p = pool({ discovery: { env: noGpuEnv({ PERISCOPE_GPUS: 'sim:2x80GB' }), systeminformation: false } });
    await p.ready;
    expect(p.status()).toMatchObject({
      source: 'simulated',
      devices: [{ source: 'simulated' }, { source: 'simulated' }],
    });
  });

  it('rejects unknown options with the nearest known one, and bad env values', () => {
    expect(() => createGpuPool({ devices: [], stratgy: 'spread' } as never)).toThrow(/did you mean strategy/);
    expect(() => createGpuPool({ devices: [], env: { PERISCOPE_GPU_STRATEGY: 'best' } })).toThrow(
      /PERISCOPE_GPU_STRATEGY: expected one of best-fit/,
    );
  });
});

describe('queue', () => {
  it('serves higher priority first, FIFO within a priority', async () => {
    const p = pool({ devices: sim('sim:1x80GB') });
    const hold = await p.acquire({ memoryMb: 81_920 });
    const order: string[] = [];
    const ask = (label: string, priority: number) =>
      p.acquire({ memoryMb: 81_920, priority, label }).then((l) => {
        order.push(label);
        l.release();
      });
    const all = [ask('low', 0), ask('high-1', 5), ask('high-2', 5)];
    await tick();
    expect(p.status().queue.depth).toBe(3);
    hold.release();
    await Promise.all(all);
    expect(order).toEqual(['high-1', 'high-2', 'low']);
  });

  it('ages waiting requests: one step of priority is worth agingMs of waiting', async () => {
    let now = 0;
    const p = pool({ devices: sim('sim:1x80GB'), agingMs: 1000, now: () => now });
    const hold = await p.acquire({ memoryMb: 81_920 });
    const order: string[] = [];
    const ask = (label: string, priority: number) =>
      p.acquire({ memoryMb: 81_920, priority, label }).then((l) => {
        order.push(label);
        l.release();
      });
    const old = ask('old-low', 0);
    now = 2500;
    const young = ask('young-high', 2); // worth 2000 ms: the old one has waited 2500
    await tick();
    hold.release();
    await Promise.all([old, young]);
    expect(order).toEqual(['old-low', 'young-high']);
  });
});

describe('queue: backfill, timeouts, cancellation, limits, close', () => {
  it('backfills a smaller request on devices the blocked head does not wait for, never on its device', async () => {
    const p = pool({ devices: sim('sim:2x80GB') });
    const onA = await p.acquire({ memoryMb: 40_000 });
    const onB = await p.acquire({ memoryMb: 50_000 });
    expect([idx(onA), idx(onB)]).toEqual([[0], [1]]);
    const head = p.acquire({ memoryMb: 80_000, label: 'head' });
    const small = await p.acquire({ memoryMb: 30_000 }); // fits on both; the head waits for device 0
    expect(idx(small)).toEqual([1]);
    let second: GpuLease | undefined;
    const other = p.acquire({ memoryMb: 30_000 }).then((l) => (second = l)); // only device 0 has room
    await tick();
    expect(second).toBeUndefined();
    onA.release();
    expect(idx(await head)).toEqual([0]);
    (await head).release();
    await other;
    expect(idx(second!)).toEqual([0]);
  });

  it('without backfill, nothing passes a blocked head', async () => {
    const p = pool({ devices: sim('sim:2x80GB'), backfill: false });
    await p.acquire({ memoryMb: 40_000 });
    await p.acquire({ memoryMb: 50_000 });
    void p.acquire({ memoryMb: 80_000 }).catch(() => undefined);
    await expect(p.acquire({ memoryMb: 1000, timeoutMs: 20 })).rejects.toBeInstanceOf(GpuUnavailableError);
  });

  it('times out with GpuUnavailableError after timeoutMs (fake timers)', async () => {
    jest.useFakeTimers();
    const p = pool({ devices: sim('sim:1x80GB'), acquireTimeoutMs: 5000 });
    await p.acquire({ memoryMb: 81_920 });
    const waiting = p.acquire({ memoryMb: 1000 });
    const caught = waiting.catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(4999);
    expect(p.status().queue.depth).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    const err = (await caught) as GpuUnavailableError;
    expect(err).toBeInstanceOf(GpuUnavailableError);
    expect(err.code).toBe('ERR_GPU_POOL_UNAVAILABLE');
    expect(err.waitedMs).toBe(5000);
    expect(p.status().queue.depth).toBe(0);
  });

  it('cancels through AbortSignal, also when aborted before the call', async () => {
    const p = pool({ devices: sim('sim:1x80GB') });
    const hold = await p.acquire({ memoryMb: 81_920 });
    const ac = new AbortController();
    const waiting = p.acquire({ memoryMb: 1000, signal: ac.signal });
    await tick();
    ac.abort(new Error('user left'));
    await expect(waiting).rejects.toBeInstanceOf(GpuAbortedError);
    expect(p.status().queue.depth).toBe(0);
    await expect(p.acquire({ memoryMb: 1, signal: AbortSignal.abort() })).rejects.toBeInstanceOf(GpuAbortedError);
    hold.release();
  });

  it('refuses beyond maxQueue with GpuQueueFullError', async () => {
    const p = pool({ devices: sim('sim:1x80GB'), maxQueue: 1 });
    await p.acquire({ memoryMb: 81_920 });
    const first = p.acquire({ memoryMb: 1000 }).catch((e: unknown) => e);
    await expect(p.acquire({ memoryMb: 1000 })).rejects.toBeInstanceOf(GpuQueueFullError);
    await p.close();
    expect(await first).toBeInstanceOf(GpuPoolClosedError);
  });

  it('close() rejects waiters, aborts leases, is idempotent, and later acquires fail', async () => {
    const p = pool({ devices: sim('sim:1x80GB') });
    const lease = await p.acquire({ memoryMb: 81_920 });
    const waiting = p.acquire({ memoryMb: 1000 });
    await tick();
    await Promise.all([p.close(), p.close()]);
    await expect(waiting).rejects.toBeInstanceOf(GpuPoolClosedError);
    expect(lease.signal.aborted).toBe(true);
    await expect(p.acquire({ memoryMb: 1 })).rejects.toBeInstanceOf(GpuPoolClosedError);
  });
});
