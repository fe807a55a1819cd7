import { createMetrics } from '@periscope/metrics';
import { ProfilerClosedError, ProfilingConfigError, startProfiler, type CpuProfile } from '../src';
import { hotSpin } from './workload';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
}

// V8 (Node 20) cannot attribute code that was optimized before its profiler started; a profiler
// that stays alive sees every later compilation. As in production (start at boot), one long-window
// profiler runs for the whole file, so restarts between tests do not blind the assertions.
let keeper: ReturnType<typeof startProfiler>;
beforeAll(() => {
  keeper = startProfiler({ windowMs: 3_600_000, retention: 1 });
});
afterAll(() => keeper.stop());

describe('startProfiler()', () => {
  test('rotates windows and keeps at most `retention` of them', async () => {
    const seen: CpuProfile[] = [];
    const profiler = startProfiler({
      windowMs: 60,
      retention: 3,
      labels: { service: 'svc' },
      onWindow: (p) => seen.push(p),
    });
    try {
      await until(() => profiler.stats().windows >= 6);
      hotSpin(30);
      expect(profiler.windows().length).toBeLessThanOrEqual(3);
      expect(profiler.stats().retained).toBeLessThanOrEqual(3);
      expect(seen.length).toBeGreaterThanOrEqual(5);
      const ws = profiler.windows();
      for (let i = 1; i < ws.length; i++) expect(ws[i].startedAt).toBeGreaterThanOrEqual(ws[i - 1].startedAt);
      expect(profiler.latest()).toBe(ws.at(-1));
      expect(profiler.latest()!.labels).toEqual({ service: 'svc' });
    } finally {
      await profiler.stop();
    }
  });

  test('stop() keeps the last partial window, is idempotent, and close() is the same verb', async () => {
    const profiler = startProfiler({ windowMs: 60_000 });
    hotSpin(600);
    await profiler.stop();
    await profiler.stop();
    await profiler.close();
    expect(profiler.windows()).toHaveLength(1);
    expect(profiler.latest()!.top({ limit: 1 })[0].name).toBe('hotSpin');
    await expect(profiler.profile(10)).rejects.toBeInstanceOf(ProfilerClosedError);
  });

  test('a one-shot capture runs beside the windows on the same sampler', async () => {
    const profiler = startProfiler({ windowMs: 100, retention: 2 });
    try {
      const pending = profiler.profile(50, { labels: { kind: 'debug' } });
      // Spin in slices until the capture ends (its timer needs the loop), so hotSpin is what runs
      // throughout whatever the machine's load; V8's own entries (GC, program) are not functions.
      let settled = false;
      pending.then(
        () => (settled = true),
        () => (settled = true),
      );
      for (let spun = 0; (!settled || spun < 200) && spun < 20_000; spun += 20) {
        hotSpin(20);
        await sleep(0);
      }
      const p = await pending;
      const functions = p.top({ limit: 5 }).filter((f) => !f.name.startsWith('('));
      expect(functions[0].name).toBe('hotSpin');
      expect(p.labels).toEqual({ kind: 'debug' });
      await until(() => profiler.stats().windows >= 2);
    } finally {
      await profiler.stop();
    }
  });
});

describe('startProfiler(): cost, metrics, options', () => {
  test('rotations are cheap: no profiler restart between windows', async () => {
    const profiler = startProfiler({ windowMs: 50, retention: 2 });
    try {
      await until(() => profiler.stats().windows >= 5);
      // A restart re-logs every compiled function (tens to hundreds of ms under Jest); a rotation
      // reads one small window. Generous bound for a loaded CI machine.
      expect(profiler.stats().maxPauseMs).toBeLessThan(100);
    } finally {
      await profiler.stop();
    }
  });

  test('registers its metrics on a Metrics', async () => {
    const metrics = createMetrics();
    const profiler = startProfiler({ windowMs: 50, retention: 2, metrics });
    try {
      await until(() => profiler.stats().windows >= 3);
    } finally {
      await profiler.stop();
    }
    const { body } = await metrics.expose();
    expect(body).toMatch(/periscope_profiling_windows_total [3-9]/);
    expect(body).toMatch(/periscope_profiling_retained_windows 2/);
    expect(body).toMatch(/periscope_profiling_rotation_pause_seconds_count/);
    await metrics.close();
  });

  test('options: env, defaults and unknown keys', async () => {
    expect(() => startProfiler({ retention: 0 })).toThrow(ProfilingConfigError);
    expect(() => startProfiler({ windowsMs: 10 } as never)).toThrow(/did you mean windowMs\?/);
    expect(() => startProfiler({ env: { PERISCOPE_PROFILING_WINDOW: 'soon' } })).toThrow(/PERISCOPE_PROFILING_WINDOW/);
    const p = startProfiler({ env: { PERISCOPE_PROFILING_WINDOW: '60ms', PERISCOPE_PROFILING_RETENTION: '1' } });
    try {
      await until(() => p.stats().windows >= 3);
      expect(p.windows()).toHaveLength(1);
    } finally {
      await p.stop();
    }
  });
});
