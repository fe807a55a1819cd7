// The Redis ledger against the real Redis: processes sharing GPUs never oversubscribe them, and
// the leases of a killed process expire.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { redisUrl } from '@periscope-tools/testing';
import { createGpuPool, createRedisLedger, parseSimulatedSpec, type GpuDevice, type GpuPool } from '../src';

const WORKER = path.join(__dirname, 'fixtures', 'ledger-worker.ts');
const children: ChildProcess[] = [];
const pools: GpuPool[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

interface Worker {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}
function worker(env: Record<string, string>): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    env: { ...process.env, REDIS_URL: redisUrl(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, out: () => out, exited };
}
async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
function intervals(out: string): [number, number][] {
  const times = [...out.matchAll(/^(START|END) (\d+)$/gm)].map((m) => Number(m[2]));
  const r: [number, number][] = [];
  for (let i = 0; i + 1 < times.length; i += 2) r.push([times[i], times[i + 1]]);
  return r;
}
const devices = parseSimulatedSpec('sim:1x80GB') as GpuDevice[];

describe('Redis ledger', () => {
  it('two pools with their own ledgers share a device without oversubscribing it', async () => {
    const prefix = `periscope:test:gpu:${randomUUID()}`;
    const make = () =>
      createGpuPool({ devices, ledger: createRedisLedger({ url: redisUrl(), prefix, ttlMs: 1000, heartbeatMs: 50 }) });
    const a = make();
    const b = make();
    pools.push(a, b);
    const first = await a.acquire({ memoryMb: 50_000 });
    let second: unknown;
    const waiting = b.acquire({ memoryMb: 50_000, timeoutMs: 10_000 }).then((l) => (second = l));
    await new Promise((r) => setTimeout(r, 300)); // several heartbeats
    expect(second).toBeUndefined();
    expect(b.status().devices[0].freeMb).toBe(81_920 - 50_000);
    first.release();
    await waiting;
    expect(second).toBeDefined();
  });

  it('an exclusive lease in one process keeps other processes off the device', async () => {
    const prefix = `periscope:test:gpu:${randomUUID()}`;
    const make = () =>
      createGpuPool({ devices, ledger: createRedisLedger({ url: redisUrl(), prefix, ttlMs: 1000, heartbeatMs: 50 }) });
    const a = make();
    const b = make();
    pools.push(a, b);
    const exclusive = await a.acquire({ memoryMb: 1000, exclusive: true });
    await expect(b.acquire({ memoryMb: 1000, timeoutMs: 300 })).rejects.toThrow(/no GPU free/);
    exclusive.release();
    (await b.acquire({ memoryMb: 1000, timeoutMs: 5000 })).release();
  });

  it('two worker processes cannot oversubscribe one GPU', async () => {
    const env = { LEDGER_PREFIX: `periscope:test:gpu:${randomUUID()}`, MEMORY_MB: '50000', CYCLES: '12' };
    const w = [worker(env), worker(env)];
    const codes = await Promise.all(w.map((x) => x.exited));
    expect({ codes, out: codes.some((c) => c !== 0) ? w.map((x) => x.out()) : [] }).toEqual({ codes: [0, 0], out: [] });
    const [ia, ib] = w.map((x) => intervals(x.out()));
    expect([ia.length, ib.length]).toEqual([12, 12]);
    for (const [s1, e1] of ia) for (const [s2, e2] of ib) expect(s1 >= e2 || s2 >= e1).toBe(true);
  }, 60_000);

  it("a killed process's leases expire and another process gets the memory", async () => {
    const env = { LEDGER_PREFIX: `periscope:test:gpu:${randomUUID()}`, MEMORY_MB: '60000' };
    const holder = worker({ ...env, MODE: 'hold' });
    await waitFor(() => holder.out().includes('HELD'), 20_000);
    const waiter = worker({ ...env, CYCLES: '1' });
    await new Promise((r) => setTimeout(r, 1500)); // past the TTL: the holder renews, the waiter waits
    expect(waiter.out()).not.toMatch(/START/);
    const killedAt = Date.now();
    holder.child.kill('SIGKILL');
    expect(await waiter.exited).toBe(0);
    const [[start]] = intervals(waiter.out());
    expect(start).toBeGreaterThanOrEqual(killedAt);
    expect(start - killedAt).toBeLessThan(10_000);
  }, 60_000);
});
