import fs from 'node:fs';
import path from 'node:path';
import { createGpuDiscovery, createGpuPool, discoverGpus, GpuPoolConfigError, parseSimulatedSpec } from '../src';
import { parseTopology } from '../src/nvidia-smi';
import { devicesFromControllers } from '../src/systeminformation';
import { callsLogged, fakeEnv, noGpuEnv, tempDir } from './helpers';

const base = { systeminformation: false } as const;

describe('discoverGpus from nvidia-smi (the double answering from the H100 capture)', () => {
  it('reads every field of the idle capture, keyed by UUID', async () => {
    const r = await discoverGpus({ ...base, env: fakeEnv() });
    expect(r.source).toBe('nvidia-smi');
    expect(r.errors).toEqual([]);
    expect(r.devices).toEqual([
      {
        uuid: 'GPU-00000000-0000-0000-0000-000000000000',
        index: 0,
        name: 'NVIDIA H100 80GB HBM3',
        source: 'nvidia-smi',
        memoryTotalMb: 81559,
        memoryUsedMb: 0,
        memoryFreeMb: 81081,
        utilizationGpu: 0,
        utilizationMemory: 0,
        temperatureC: 41,
        powerDrawW: 69.85,
        powerLimitW: 700,
        computeCapability: 9,
        pciBusId: '00000000:09:00.0',
        migMode: 'Disabled',
        eccUncorrectedVolatile: 0,
        throttleReasons: 1,
      },
    ]);
  });

  it('reads the load capture and several GPUs with distinct UUIDs', async () => {
    const r = await createGpuDiscovery({
      ...base,
      env: fakeEnv({ FAKE_NVSMI_STATE: 'load', FAKE_NVSMI_GPUS: '3' }),
    }).discover();
    expect(r.devices.map((d) => d.uuid)).toEqual([
      'GPU-00000000-0000-0000-0000-000000000000',
      'GPU-00000000-0000-0000-0000-000000000001',
      'GPU-00000000-0000-0000-0000-000000000002',
    ]);
    expect(r.devices[1]).toMatchObject({ memoryUsedMb: 19818, utilizationGpu: 100, temperatureC: 59, index: 1 });
  });

  it('reads [N/A], [Not Supported], deprecated and [Unknown Error] as unknown, never 0', async () => {
    const set =
      '0:temperature.gpu=[N/A];0:power.draw=[Not Supported];0:ecc.errors.uncorrected.volatile.total=[Requested functionality has been deprecated];0:utilization.gpu=[Unknown Error]';
    const [d] = (await createGpuDiscovery({ ...base, env: fakeEnv({ FAKE_NVSMI_SET: set }) }).discover()).devices;
    expect(d.temperatureC).toBeUndefined();
    expect(d.powerDrawW).toBeUndefined();
    expect(d.eccUncorrectedVolatile).toBeUndefined();
    expect(d.utilizationGpu).toBeUndefined();
    expect(d.memoryUsedMb).toBe(0);
  });

  it('drops fields the driver does not know and asks again without them', async () => {
    const log = path.join(tempDir(), 'calls');
    const d = createGpuDiscovery({
      ...base,
      env: fakeEnv({ FAKE_NVSMI_UNKNOWN: 'clocks_throttle_reasons.active,mig.mode.current', FAKE_NVSMI_LOG: log }),
    });
    const r = await d.discover();
    expect(r.source).toBe('nvidia-smi');
    expect(r.devices[0].throttleReasons).toBeUndefined();
    expect(r.devices[0].memoryTotalMb).toBe(81559);
    expect([...d.droppedFields].sort()).toEqual(['clocks_throttle_reasons.active', 'mig.mode.current']);
    expect(callsLogged(log)).toHaveLength(3);
    await d.discover(true); // remembered: one call
    expect(callsLogged(log)).toHaveLength(4);
  });
});

describe('discoverGpus: MIG and cache', () => {
  it('discovers MIG instances from nvidia-smi -L, each allocatable', async () => {
    const env = fakeEnv({ FAKE_NVSMI_GPUS: '2', FAKE_NVSMI_MIG: '0=1g.10gb+3g.40gb' });
    const r = await createGpuDiscovery({ ...base, env }).discover();
    expect(r.devices.map((d) => [d.uuid, d.memoryTotalMb, d.mig?.profile])).toEqual([
      ['MIG-00000000-0000-0000-0000-000000000000', 9728, '1g.10gb'],
      ['MIG-00000000-0000-0000-0000-000000000001', 38912, '3g.40gb'],
      ['GPU-00000000-0000-0000-0000-000000000001', 81559, undefined],
    ]);
    expect(r.devices[0].mig?.parentUuid).toBe('GPU-00000000-0000-0000-0000-000000000000');
  });

  it('caches the answer for cacheTtlMs', async () => {
    const log = path.join(tempDir(), 'calls');
    let now = 1000;
    const d = createGpuDiscovery({ ...base, env: fakeEnv({ FAKE_NVSMI_LOG: log }), cacheTtlMs: 5000, now: () => now });
    await Promise.all([d.discover(), d.discover()]);
    expect((await d.discover()).cached).toBe(true);
    expect(callsLogged(log)).toHaveLength(1);
    now += 5000;
    expect((await d.discover()).cached).toBe(false);
    expect(callsLogged(log)).toHaveLength(2);
  });
});

describe('discovery failures fall back and back off', () => {
  const sim = 'sim:1x24GB';

  it('kills a hung nvidia-smi at the timeout and falls back to simulated devices', async () => {
    const started = Date.now();
    const r = await createGpuDiscovery({
      ...base,
      timeoutMs: 300,
      simulated: sim,
      env: fakeEnv({ FAKE_NVSMI_MODE: 'hang' }),
    }).discover();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.source).toBe('simulated');
    expect(r.errors.map((e) => [e.code, e.reason])).toEqual([['ERR_GPU_POOL_DISCOVERY', 'timeout']]);
  });

  it.each([
    ['fail', 'exit'],
    ['garbage', 'parse'],
  ])('reports %s as %s, and is not run again until the backoff has passed', async (mode, reason) => {
    const log = path.join(tempDir(), 'calls');
    let now = 0;
    const d = createGpuDiscovery({
      ...base,
      simulated: sim,
      backoffMs: 1000,
      env: fakeEnv({ FAKE_NVSMI_MODE: mode, FAKE_NVSMI_LOG: log }),
      now: () => now,
    });
    const r = await d.discover(true);
    expect(r.errors[0].reason).toBe(reason);
    expect(r.devices).toHaveLength(1);
    expect((await d.discover(true)).errors[0].reason).toBe('backoff');
    expect(callsLogged(log)).toHaveLength(1);
    now += 1000;
    await d.discover(true);
    expect(callsLogged(log)).toHaveLength(2);
    now += 1999; // the second wait is twice as long
    expect((await d.discover(true)).errors[0].reason).toBe('backoff');
    expect(callsLogged(log)).toHaveLength(2);
  });
});

describe('discovery fallbacks to config and simulated devices', () => {
  it('says not_found without nvidia-smi, then uses static devices from config', async () => {
    const r = await createGpuDiscovery({
      ...base,
      env: noGpuEnv(),
      static: [{ uuid: 'GPU-aaaa', memoryMb: 16_000, computeCapability: 8.6 }],
    }).discover();
    expect(r.errors[0].reason).toBe('not_found');
    expect(r.source).toBe('static');
    expect(r.devices[0]).toMatchObject({ uuid: 'GPU-aaaa', memoryTotalMb: 16_000, source: 'static' });
  });

  it('finds nothing (source none) when no source answers', async () => {
    const r = await createGpuDiscovery({ ...base, env: noGpuEnv() }).discover();
    expect(r).toMatchObject({ source: 'none', devices: [] });
  });

  it('reads PERISCOPE_GPUS and rejects an invalid spec with a ConfigError naming it', async () => {
    const r = await createGpuDiscovery({ ...base, env: noGpuEnv({ PERISCOPE_GPUS: 'sim:2x80GB,1x24GB' }) }).discover();
    expect(r.devices.map((d) => [d.memoryTotalMb, d.source])).toEqual([
      [81920, 'simulated'],
      [81920, 'simulated'],
      [24576, 'simulated'],
    ]);
    expect(() => createGpuDiscovery({ env: noGpuEnv({ PERISCOPE_GPUS: 'sim:2x80' }) })).toThrow(GpuPoolConfigError);
    expect(() => createGpuDiscovery({ env: noGpuEnv({ PERISCOPE_GPUS: 'gpus:2' }) })).toThrow(/PERISCOPE_GPUS/);
    expect(() => createGpuDiscovery({ timeoutMs: 10, timeotMs: 5 } as never)).toThrow(/did you mean timeoutMs/);
  });

  it('parses simulated specs with compute capability', () => {
    const d = parseSimulatedSpec('sim:1x40GB@8.0,2x512MB');
    expect(Array.isArray(d) && d.map((x) => [x.memoryTotalMb, x.computeCapability])).toEqual([
      [40960, 8],
      [512, 9],
      [512, 9],
    ]);
    expect(typeof parseSimulatedSpec('sim:0x1GB')).toBe('string');
  });

  it('runs systeminformation off the main thread and keeps only NVIDIA controllers with memory', async () => {
    expect(
      devicesFromControllers([
        { vendor: 'Cirrus Logic', model: 'GD 5446', vram: 4 },
        { vendor: 'NVIDIA Corporation', model: 'A10', memoryTotal: 23028, uuid: 'GPU-1234', temperatureGpu: 40 },
      ]),
    ).toEqual([expect.objectContaining({ uuid: 'GPU-1234', memoryTotalMb: 23028, source: 'systeminformation' })]);
    // On this machine (no NVIDIA GPU) the worker answers with no device and discovery goes on.
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const r = await createGpuDiscovery({
      env: noGpuEnv({ PERISCOPE_GPUS: 'sim:1x8GB' }),
      timeoutMs: 20_000,
    }).discover();
    clearInterval(timer);
    expect(r.source).toBe('simulated');
    expect(ticks).toBeGreaterThan(0);
  });
});

describe('topology (nvidia-smi topo -m)', () => {
  it('reads the NUMA affinity column of the captured matrix', () => {
    const capture = fs.readFileSync(path.join(__dirname, 'fixtures', 'h100-80gb-hbm3__590.48.01.txt'), 'utf8');
    const section = capture.split('# $ nvidia-smi topo -m')[1].split('Legend:')[0];
    expect([...parseTopology(section)]).toEqual([[0, 0]]);
    expect([...parseTopology('garbage\tNUMA Affinity\nGPU0\tx')]).toEqual([]);
  });

  it('puts multi-GPU leases on one NUMA node', async () => {
    const env = fakeEnv({ FAKE_NVSMI_GPUS: '4', FAKE_NVSMI_NUMA: '0,1,0,1' });
    const r = await createGpuDiscovery({ ...base, env }).discover();
    expect(r.devices.map((d) => d.numaNode)).toEqual([0, 1, 0, 1]);
    const pool = createGpuPool({ discovery: { ...base, env }, health: { intervalMs: 0 } });
    try {
      const a = await pool.acquire({ memoryMb: 70_000, count: 2 });
      const b = await pool.acquire({ memoryMb: 70_000, count: 2 });
      expect([a, b].map((l) => l.devices.map((d) => d.index))).toEqual([
        [0, 2],
        [1, 3],
      ]);
    } finally {
      await pool.close();
    }
  });
});
