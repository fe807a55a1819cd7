import fs from 'node:fs';
import path from 'node:path';
import { createMetrics } from '@periscope/metrics';
import { createGpuPool, GpuFailoverError, type GpuPool, type GpuPoolEvent, type GpuPoolOptions } from '../src';
import { fakeEnv, tempDir } from './helpers';

const pools: GpuPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

/** A pool over two H100s answered by the nvidia-smi double; `set()` changes what the next poll sees. */
function setup(options: Partial<GpuPoolOptions> = {}) {
  const control = path.join(tempDir(), 'control.json');
  const set = (c: Record<string, unknown>) => fs.writeFileSync(control, JSON.stringify({ gpus: 2, ...c }));
  set({});
  const events: GpuPoolEvent[] = [];
  const pool = createGpuPool({
    discovery: { env: fakeEnv({ FAKE_NVSMI_CONTROL: control }), systeminformation: false, backoffMs: 0 },
    health: { intervalMs: 0, recoverAfter: 2 },
    onEvent: (e) => events.push(e),
    ...options,
  });
  pools.push(pool);
  return { pool, set, events };
}
const GPU0 = 'GPU-00000000-0000-0000-0000-000000000000';
const GPU1 = 'GPU-00000000-0000-0000-0000-000000000001';

describe('health polling and failover', () => {
  it('a hot GPU gets no new leases, its leases are signalled, and it recovers after N healthy polls', async () => {
    const { pool, set, events } = setup();
    const lease = await pool.acquire({ memoryMb: 1000 });
    expect(lease.devices[0].uuid).toBe(GPU0);
    set({ set: '0:temperature.gpu=95' });
    await pool.pollHealth();
    expect(lease.signal.aborted).toBe(true);
    expect(lease.signal.reason).toBeInstanceOf(GpuFailoverError);
    expect((lease.signal.reason as GpuFailoverError).uuid).toBe(GPU0);
    expect(pool.status().devices[0]).toMatchObject({ healthy: false, reasons: ['temperature 95 C'] });
    expect((await pool.acquire({ memoryMb: 1000 })).devices[0].uuid).toBe(GPU1);
    set({});
    await pool.pollHealth();
    expect(pool.status().devices[0].healthy).toBe(false);
    await pool.pollHealth();
    expect(pool.status().devices[0].healthy).toBe(true);
    expect(events.map((e) => e.type)).toEqual(['failover', 'recovered']);
  });

  it.each([
    ['uncorrected ECC errors', '0:ecc.errors.uncorrected.volatile.total=2', '2 uncorrected ECC errors'],
    ['HW thermal slowdown', '0:clocks_event_reasons.active=0x0000000000000040', 'throttled: hw_thermal_slowdown'],
  ])('%s make a device unhealthy', async (_what, setting, reason) => {
    const { pool, set } = setup();
    await pool.ready;
    set({ set: setting });
    await pool.pollHealth();
    expect(pool.status().devices.map((d) => d.reasons)).toEqual([[reason], []]);
  });

  it('idle throttling (GPU idle bit) and unknown readings do not', async () => {
    const { pool, set } = setup();
    await pool.ready;
    set({ set: '0:temperature.gpu=[N/A];0:clocks_event_reasons.active=0x1' });
    await pool.pollHealth();
    expect(pool.status().devices.every((d) => d.healthy)).toBe(true);
  });

  it('failed queries count: devices are unhealthy after failureThreshold failed polls', async () => {
    const { pool, set } = setup();
    await pool.ready;
    set({ mode: 'fail' });
    await pool.pollHealth();
    expect(pool.status().devices.every((d) => d.healthy)).toBe(true);
    await pool.pollHealth();
    expect(pool.status().devices.map((d) => d.reasons)).toEqual([['query failed'], ['query failed']]);
  });
});

describe('health: missing devices, retry, reconciliation, metrics', () => {
  it('a device missing from nvidia-smi is unhealthy', async () => {
    const { pool, set } = setup();
    await pool.ready;
    set({ gpus: 1 });
    await pool.pollHealth();
    expect(pool.status().devices.map((d) => d.healthy)).toEqual([true, false]);
  });

  it('run() with retryOnFailover runs fn again on a healthy device', async () => {
    const { pool, set } = setup();
    const seen: string[] = [];
    const result = await pool.run({ memoryMb: 1000, label: 'job' }, async (lease) => {
      seen.push(lease.devices[0].uuid);
      if (seen.length === 1) {
        set({ set: '0:temperature.gpu=99' });
        await pool.pollHealth();
        lease.signal.throwIfAborted();
      }
      return 'done';
    });
    expect(result).toBe('done');
    expect(seen).toEqual([GPU0, GPU1]);
  });

  it('measured memory beyond the reservations counts as taken and is reported', async () => {
    const { pool, set, events } = setup({ reconcile: true });
    const lease = await pool.acquire({ memoryMb: 1000 });
    set({ set: '0:memory.free=41559;0:memory.used=40000' }); // 40 GB used, 1 GB reserved
    await pool.pollHealth();
    expect(events).toContainEqual(expect.objectContaining({ type: 'overcommit', uuid: GPU0, usedMb: 40_000 }));
    expect(pool.status().devices[0].freeMb).toBe(41_559);
    lease.release();
  });

  it('exports DCGM-named device gauges, pool metrics and the GenAI GPU gauges', async () => {
    const metrics = createMetrics();
    const { pool } = setup({ metrics, name: 'main' });
    const lease = await pool.acquire({ memoryMb: 2048 });
    await pool.pollHealth();
    const text = (await metrics.expose()).body;
    const labels = `gpu="0",UUID="${GPU0}",modelName="NVIDIA H100 80GB HBM3"`;
    expect(text).toContain(`DCGM_FI_DEV_GPU_TEMP{${labels}} 41`);
    expect(text).toContain(`DCGM_FI_DEV_FB_FREE{${labels}} 81081`);
    expect(text).toContain(`DCGM_FI_DEV_POWER_USAGE{${labels}} 69.85`);
    expect(text).toContain(`DCGM_FI_DEV_GPU_UTIL{${labels}} 0`);
    expect(text).toContain(`DCGM_FI_DEV_FB_USED{${labels}} 0`);
    expect(text).toContain(
      `periscope_gpu_pool_memory_reserved_bytes{pool="main",UUID="${GPU0}"} ${2048 * 1024 * 1024}`,
    );
    expect(text).toContain('periscope_gpu_pool_leases_active{pool="main"} 1');
    expect(text).toContain('periscope_gpu_pool_wait_seconds_count{pool="main"} 1');
    expect(text).toContain(`periscope_ml_gpu_memory_total_bytes{gpu="${GPU0}"} ${81559 * 1024 * 1024}`);
    lease.release();
  });
});

describe('health polling on its own', () => {
  it('polls every health.intervalMs without being asked, and close() stops it', async () => {
    const { pool, set, events } = setup({ health: { intervalMs: 100 } });
    await pool.ready;
    set({ set: '1:temperature.gpu=97' });
    const end = Date.now() + 15_000;
    while (!events.some((e) => e.type === 'failover') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(events.find((e) => e.type === 'failover')).toMatchObject({ uuid: GPU1, reasons: ['temperature 97 C'] });
    await pool.close();
  });
});

describe('close() during a hung health query', () => {
  it('kills the hung nvidia-smi and settles well within its bound', async () => {
    const control = path.join(tempDir(), 'control.json');
    fs.writeFileSync(control, JSON.stringify({ gpus: 1 }));
    const pool = createGpuPool({
      discovery: { env: fakeEnv({ FAKE_NVSMI_CONTROL: control }), systeminformation: false, timeoutMs: 60_000 },
      health: { intervalMs: 0 },
    });
    await pool.ready;
    fs.writeFileSync(control, JSON.stringify({ gpus: 1, mode: 'hang' }));
    const poll = pool.pollHealth();
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    await pool.close();
    await poll;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(pool.status().devices[0].healthy).toBe(true);
  });
});
