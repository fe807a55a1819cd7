import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { Profile } from 'pprof-format';
import {
  CpuProfile,
  InvalidProfileError,
  ProfilerClosedError,
  ProfilingConfigError,
  profile,
  startCapture,
  topFunctions,
} from '../src';
import { goPprofTop, synthProfile } from './helpers';
import { mixedWork } from './workload';

// One real capture of a known workload, shared by the export tests (V8 sampling takes real time).
let captured: CpuProfile;
beforeAll(async () => {
  const pending = profile(20, { labels: { service: 'test' } });
  mixedWork(1200); // long enough for a sampler thread starved by a loaded machine
  captured = await pending;
});

const str = (p: Profile, i: unknown) => p.stringTable.strings[Number(i)];

describe('profile()', () => {
  test('the hot function of a CPU-bound workload is on top by self time', () => {
    const [first, second] = captured.top({ by: 'self', limit: 2 });
    expect(first.name).toBe('hotSpin');
    expect(second.name).toBe('coldSpin');
    expect(first.selfMs).toBeGreaterThan(second.selfMs * 2);
    expect(first.selfShare).toBeGreaterThan(0.5);
    const byTotal = topFunctions(captured, { by: 'total', limit: 50 });
    const mixed = byTotal.find((f) => f.name === 'mixedWork')!;
    expect(mixed.totalMs).toBeGreaterThanOrEqual(first.totalMs);
    expect(mixed.selfMs).toBeLessThan(mixed.totalMs);
  });

  test('the measured interval and real weights cover the capture', () => {
    expect(captured.sampleNodes.length).toBeGreaterThan(20);
    expect(captured.intervalUs).toBeGreaterThan(5_000); // ~10 ms at 100 Hz
    expect(captured.intervalUs).toBeLessThan(40_000);
    const weighted = captured.sampleWeightsUs.reduce((a, b) => a + b, 0);
    // From the first sample to the end: the time before the first sample is not attributed.
    const raw = captured.toCpuprofile();
    expect(weighted).toBeCloseTo(raw.endTime - raw.startTime - raw.timeDeltas![0], 0);
  });

  test('rejects bad arguments with a ProfilingConfigError naming the option', () => {
    expect(() => profile(-1)).toThrow(ProfilingConfigError);
    expect(() => profile(10, { hz: 0 })).toThrow(/invalid profile\.hz/);
    expect(() => profile(10, { hzz: 5 } as never)).toThrow(/did you mean hz\?/);
    expect(() => profile(10, { env: { PERISCOPE_PROFILING_HZ: 'fast' } })).toThrow(/PERISCOPE_PROFILING_HZ/);
  });

  test('an aborted capture rejects with the reason and releases the sampler', async () => {
    const controller = new AbortController();
    const pending = profile(60_000, { signal: controller.signal });
    controller.abort(new Error('enough'));
    await expect(pending).rejects.toThrow('enough');
    const again = await profile(5);
    expect(again.nodes.length).toBeGreaterThan(0);
  });
});

// Not called before its test: V8 (Node 20) cannot attribute code optimized before a profiler starts.
function batchJob(ms: number): number {
  const end = Date.now() + ms;
  let x = 1;
  while (Date.now() < end) for (let i = 0; i < 5000; i++) x = (x * 48271) % 2147483647;
  return x;
}

describe('startCapture()', () => {
  test('samples until stop(); a second stop() fails; cancel() is idempotent', () => {
    const capture = startCapture({ labels: { run: 'batch' } });
    batchJob(400);
    const p = capture.stop();
    expect(p.top({ limit: 1 })[0].name).toBe('batchJob');
    expect(p.labels).toEqual({ run: 'batch' });
    expect(() => capture.stop()).toThrow(ProfilerClosedError);
    const other = startCapture();
    other.cancel();
    other.cancel();
    expect(() => other.stop()).toThrow(ProfilerClosedError);
  });
});

describe('weights', () => {
  test('each sample weighs the real time to the next sample, not count × interval', () => {
    const a = { name: 'a', url: 'file:///a.js', line: 1 };
    const b = { name: 'b', url: 'file:///b.js', line: 5 };
    // a at t=10, b at t=20, a at t=100 (80 µs later), end at t=130.
    const raw = synthProfile(
      [
        { stack: [a], deltaUs: 10 },
        { stack: [a, b], deltaUs: 10 },
        { stack: [a], deltaUs: 80 },
      ],
      30,
    );
    const p = CpuProfile.fromCpuprofile(raw);
    const [top] = p.top({ by: 'self' });
    expect(top.name).toBe('b');
    expect(top.selfMs).toBeCloseTo(0.08);
    expect(p.top({ by: 'total' })[0]).toMatchObject({ name: 'a', totalMs: 0.12 });
  });

  test('recursion counts a sample once in total', () => {
    const f = { name: 'f', url: 'file:///f.js', line: 1 };
    const p = CpuProfile.fromCpuprofile(synthProfile([{ stack: [f, f, f], deltaUs: 1 }], 99));
    expect(p.top({ by: 'total' })[0]).toMatchObject({ name: 'f', totalMs: 0.099, selfMs: 0.099 });
  });
});

describe('exports', () => {
  test('pprof decodes with pprof-format: types, measured period, labels, values', () => {
    const decoded = Profile.decode(gunzipSync(captured.toPprof()));
    expect(decoded.sampleType.map((t) => `${str(decoded, t.type)}/${str(decoded, t.unit)}`)).toEqual([
      'samples/count',
      'cpu/nanoseconds',
    ]);
    expect(Number(decoded.period)).toBe(Math.round(captured.intervalUs * 1000));
    const cpuNs = decoded.sample.reduce((a, s) => a + Number(s.value[1]), 0);
    expect(cpuNs / 1e6).toBeCloseTo(captured.totalValue / 1000, 0);
    const names = new Set(decoded.function.map((f) => str(decoded, f.name)));
    expect(names).toContain('hotSpin');
    const label = decoded.sample[0].label[0];
    expect([str(decoded, label.key), str(decoded, label.str)]).toEqual(['service', 'test']);
    expect(Number(decoded.timeNanos) / 1e6).toBeCloseTo(captured.startedAt, -1);
  });

  test('pprof reads in go tool pprof -top with the hot function first', async () => {
    const out = await goPprofTop(captured.toPprof());
    expect(out).toMatch(/Type: cpu/);
    const rows = out.split('\n').filter((l) => /^\s*[\d.]+m?s\s/.test(l));
    expect(rows[0]).toMatch(/hotSpin$/);
  });

  test('folded lines follow the grammar frame(;frame)* <integer>, whatever the names', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 0, maxLength: 12 }), { minLength: 1, maxLength: 4 }), (names) => {
        const stack = names.map((name, i) => ({ name, url: `file:///x ${name}.js`, line: i + 1 }));
        const text = CpuProfile.fromCpuprofile(synthProfile([{ stack, deltaUs: 5 }], 7)).toFolded();
        const lines = text.split('\n').filter((l) => l !== '');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(/^[^;\n]+(;[^;\n]+)* \d+$/);
        expect(lines[0].split(';')).toHaveLength(names.length);
        expect(lines[0].endsWith(' 7')).toBe(true);
      }),
    );
    const real = captured.toFolded().trimEnd().split('\n');
    for (const line of real) expect(line).toMatch(/^[^;\n]+(;[^;\n]+)* \d+$/);
    expect(real.some((l) => /;hotSpin \(.*\) \d+$/.test(l))).toBe(true);
  });

  test("speedscope JSON has the schema's required fields and consistent samples", () => {
    const file = captured.toSpeedscope();
    expect(file.$schema).toBe('https://www.speedscope.app/file-format-schema.json');
    expect(Array.isArray(file.shared.frames)).toBe(true);
    const [p] = file.profiles;
    expect(p).toMatchObject({ type: 'sampled', unit: 'microseconds', startValue: 0 });
    expect(p.samples.length).toBe(p.weights.length);
    for (const s of p.samples) for (const f of s) expect(file.shared.frames[f]).toBeDefined();
    expect(p.endValue).toBeCloseTo(p.weights.reduce((a, b) => a + b, 0));
    expect(file.shared.frames.some((f) => f.name === 'hotSpin' && typeof f.file === 'string')).toBe(true);
    expect(JSON.parse(JSON.stringify(file))).toEqual(file);
  });

  test('d3 JSON: { name, value, children } with value ≥ the sum of the children', () => {
    const root = captured.toD3();
    expect(root.name).toBe('root');
    const visit = (n: ReturnType<CpuProfile['toD3']>): void => {
      expect(typeof n.name).toBe('string');
      expect(Number.isInteger(n.value)).toBe(true);
      expect(Array.isArray(n.children)).toBe(true);
      const sum = n.children.reduce((a, c) => a + c.value, 0);
      expect(n.value).toBeGreaterThanOrEqual(sum - n.children.length); // rounding per child
      n.children.forEach(visit);
    };
    visit(root);
    expect(root.value).toBe(Math.round(captured.totalValue));
  });

  test('.cpuprofile round-trips through JSON into the same profile', () => {
    const text = JSON.stringify(captured.toCpuprofile());
    const back = CpuProfile.fromCpuprofile(text);
    expect(back.top({ limit: 5 })).toEqual(captured.top({ limit: 5 }));
    expect(back.toFolded()).toBe(captured.toFolded());
    expect(JSON.parse(text)).toMatchObject({ nodes: expect.any(Array), samples: expect.any(Array) });
  });

  test('a malformed .cpuprofile fails with InvalidProfileError', () => {
    expect(() => CpuProfile.fromCpuprofile('{')).toThrow(InvalidProfileError);
    expect(() => CpuProfile.fromCpuprofile({ nodes: [], startTime: 0, endTime: 1 })).toThrow(/non-empty nodes/);
    const raw = synthProfile([{ stack: [{ name: 'a' }], deltaUs: 1 }]);
    raw.samples = [999];
    expect(() => CpuProfile.fromCpuprofile(raw)).toThrow(/unknown node 999/);
  });
});
