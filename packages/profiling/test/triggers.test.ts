import { ProfilingConfigError, startProfileTrigger, startProfiler, type TriggerCapture } from '../src';
import { hotSpin } from './workload';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
}

// Keep one sampler alive for the file (as a continuous profiler at boot would): captures then see
// code optimized before they started.
let keeper: ReturnType<typeof startProfiler>;
beforeAll(() => {
  keeper = startProfiler({ windowMs: 3_600_000, retention: 1 });
});
afterAll(() => keeper.stop());

describe('profile triggers', () => {
  test('a blocked event loop captures the next N ms, once per cooldown', async () => {
    const got: TriggerCapture[] = [];
    const trigger = startProfileTrigger({
      eventLoopP99Ms: 50,
      checkIntervalMs: 50,
      captureMs: 300,
      cooldownMs: 60_000,
      labels: { service: 't' },
      onCapture: (c) => got.push(c),
    });
    try {
      await sleep(60);
      hotSpin(150); // blocks the loop: the next check sees p99 ≥ 150 ms
      await sleep(80);
      hotSpin(200); // inside the capture window
      await until(() => got.length === 1);
      hotSpin(150);
      await sleep(200);
      expect(got).toHaveLength(1); // cooldown
      const [c] = got;
      expect(c.reason.kind).toBe('event_loop_p99');
      expect(c.reason.value).toBeGreaterThan(50);
      expect(c.profile.labels).toEqual({ service: 't', trigger: 'event_loop_p99' });
      // The window also holds idle time and GC under load: the hottest function is what counts.
      expect(c.profile.top({ limit: 5 }).filter((f) => !f.name.startsWith('('))[0].name).toBe('hotSpin');
      expect(trigger.captures()).toEqual(got);
    } finally {
      await trigger.close();
      await trigger.close();
    }
  });

  test('CPU above the threshold triggers; check() reports the reason', async () => {
    // The threshold is low because this machine is shared: a spinning process may get a third of a core.
    const trigger = startProfileTrigger({ cpuPercent: 10, checkIntervalMs: 3_600_000, captureMs: 50 });
    try {
      await sleep(200);
      expect(trigger.check()).toBeUndefined(); // mostly idle so far
      hotSpin(300);
      const reason = trigger.check();
      expect(reason).toMatchObject({ kind: 'cpu', threshold: 10 });
      expect(reason!.value).toBeGreaterThan(10);
      await until(() => trigger.captures().length === 1);
    } finally {
      await trigger.close();
    }
  });

  test('close() abandons a capture in progress; a trigger needs a threshold', async () => {
    const got: TriggerCapture[] = [];
    const trigger = startProfileTrigger({
      cpuPercent: 10,
      checkIntervalMs: 3_600_000,
      captureMs: 60_000,
      onCapture: (c) => got.push(c),
    });
    await sleep(100);
    trigger.check();
    hotSpin(300);
    expect(trigger.check()).toBeDefined();
    await trigger.close();
    await sleep(20);
    expect(got).toEqual([]);
    expect(trigger.errors).toBe(0);
    expect(() => startProfileTrigger({})).toThrow(ProfilingConfigError);
  });
});
