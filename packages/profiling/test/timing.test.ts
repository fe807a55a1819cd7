import { createMetrics } from '@periscope/metrics';
import { createFunctionProfiler, profileBlock, profileFunction, Profiled, stats, functionProfiler } from '../src';
import { hotSpin } from './workload';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('function timing', () => {
  test('profileFunction keeps arguments, this and result, and counts calls and errors', () => {
    const p = createFunctionProfiler();
    const obj = {
      factor: 3,
      times(x: number) {
        if (x < 0) throw new RangeError('negative');
        return x * this.factor;
      },
    };
    const timed = p.wrap(obj.times, { name: 'times' });
    expect(timed.call(obj, 2)).toBe(6);
    expect(() => timed.call(obj, -1)).toThrow(RangeError);
    const [s] = p.stats();
    expect(s).toMatchObject({ name: 'times', calls: 2, errors: 1 });
  });

  test('async: durations are recorded when the promise settles; rejections count as errors and propagate', async () => {
    const p = createFunctionProfiler();
    const slow = p.wrap(async (ms: number) => {
      await sleep(ms);
      if (ms > 30) throw new Error('too slow');
      return ms;
    });
    await expect(slow(20)).resolves.toBe(20);
    await expect(slow(40)).rejects.toThrow('too slow');
    const [s] = p.stats();
    expect(s.name).toBe('anonymous');
    expect(s).toMatchObject({ calls: 2, errors: 1 });
    expect(s.totalMs).toBeGreaterThanOrEqual(55);
    expect(s.maxMs).toBeGreaterThanOrEqual(39);
    expect(s.p50Ms).toBeGreaterThanOrEqual(19);
  });

  test('percentiles come from the histogram; stats() is sorted by total time', () => {
    const p = createFunctionProfiler();
    for (let i = 0; i < 20; i++) p.block('fast', () => i);
    for (let i = 0; i < 3; i++) p.block('slow', () => hotSpin(10));
    const [first, second] = p.stats();
    expect(first.name).toBe('slow');
    expect(second).toMatchObject({ name: 'fast', calls: 20 });
    expect(first.p50Ms).toBeGreaterThanOrEqual(9);
    expect(first.p99Ms).toBeGreaterThanOrEqual(first.p50Ms);
    expect(first.maxMs).toBeGreaterThanOrEqual(first.p99Ms * 0.99);
    expect(first.meanMs).toBeCloseTo(first.totalMs / 3);
    p.reset();
    expect(p.stats().every((s) => s.calls === 0)).toBe(true);
  });
});

describe('function timing: decorator, process-wide profiler, metrics', () => {
  test('@Profiled() times methods as Class.method, sync and async', async () => {
    const p = createFunctionProfiler();
    class Agent {
      constructor(private readonly base: number) {}
      @Profiled({ profiler: p })
      plan(x: number): number {
        return this.base + x;
      }
      @Profiled({ profiler: p, name: 'agent.act' })
      async act(): Promise<string> {
        await sleep(5);
        return 'done';
      }
    }
    const a = new Agent(1);
    expect(a.plan(2)).toBe(3);
    await expect(a.act()).resolves.toBe('done');
    expect(
      p
        .stats()
        .map((s) => s.name)
        .sort(),
    ).toEqual(['Agent.plan', 'agent.act']);
  });

  test('the process-wide profiler behind profileFunction/profileBlock/stats()', async () => {
    functionProfiler.reset();
    const f = profileFunction(function parseInput(s: string) {
      return s.length;
    });
    expect(f('abc')).toBe(3);
    await profileBlock('load', async () => sleep(2));
    const names = stats()
      .filter((s) => s.calls > 0)
      .map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['parseInput', 'load']));
  });

  test('records metrics on a Metrics when given one', async () => {
    const metrics = createMetrics();
    const p = createFunctionProfiler({ metrics });
    p.block('tool', () => 1);
    expect(() =>
      p.block('tool', () => {
        throw new Error('x');
      }),
    ).toThrow('x');
    const { body } = await metrics.expose();
    expect(body).toMatch(/periscope_profiling_function_duration_seconds_count\{function="tool"\} 2/);
    expect(body).toMatch(/periscope_profiling_function_errors_total\{function="tool"\} 1/);
    await metrics.close();
  });

  test('rejects a non-function and unknown options', () => {
    expect(() => profileFunction(42 as never)).toThrow(/expected a function/);
    expect(() => createFunctionProfiler({ metric: 1 } as never)).toThrow(/did you mean metrics\?/);
  });
});
