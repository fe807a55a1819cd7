import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';
import { HeapProfile, ProfilingConfigError, heapStatistics, startHeapProfiler } from '../src';
import { goPprofTop } from './helpers';

const retained: unknown[] = [];
function leakyAllocate(n: number): void {
  for (let i = 0; i < n; i++) retained.push({ payload: new Array(64).fill(i), tag: `item-${i}` });
}
function shortLived(n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += new Array(64).fill(i).length;
  return sum;
}

afterAll(() => {
  retained.length = 0;
});

describe('heap profiler', () => {
  test('live allocations by call site, with every export readable', async () => {
    const heap = startHeapProfiler({ samplingIntervalBytes: 4096, windowMs: 3_600_000, labels: { service: 't' } });
    try {
      leakyAllocate(20_000);
      shortLived(20_000);
      const p = heap.profile();
      const [top] = p.top({ by: 'self', limit: 1 });
      expect(top.name).toBe('leakyAllocate');
      expect(top.unit).toBe('bytes');
      expect(top.selfMs).toBeGreaterThan(1_000_000); // ~ 20k × (64-slot array + object) sampled live bytes

      const decoded = Profile.decode(gunzipSync(p.toPprof()));
      const s = (i: unknown) => decoded.stringTable.strings[Number(i)];
      expect(decoded.sampleType.map((t) => `${s(t.type)}/${s(t.unit)}`)).toEqual([
        'inuse_objects/count',
        'inuse_space/bytes',
      ]);
      expect(Number(decoded.period)).toBe(4096);
      const out = await goPprofTop(p.toPprof(), ['-sample_index=inuse_space']);
      const rows = out.split('\n').filter((l) => /^\s*[\d.]+[kMG]?B\s/.test(l));
      expect(rows[0]).toMatch(/leakyAllocate$/);

      expect(p.toFolded()).toMatch(/leakyAllocate \([^)]*\) \d+\n/);
      expect(p.toD3().value).toBe(Math.round(p.totalValue));
      expect(p.toSpeedscope().profiles[0].unit).toBe('bytes');
      expect(p.toFlameGraphHtml()).toContain('Heap profile');
      expect(new HeapProfile(JSON.parse(JSON.stringify(p.toHeapprofile()))).top({ limit: 1 })[0].name).toBe(
        'leakyAllocate',
      );
    } finally {
      await heap.close();
      await heap.close();
    }
    expect(() => heap.profile()).toThrow(/closed/);
  });

  test('the leak hint names the function whose live bytes keep growing', async () => {
    const heap = startHeapProfiler({ samplingIntervalBytes: 4096, windowMs: 3_600_000, retention: 4 });
    try {
      for (let w = 0; w < 5; w++) {
        leakyAllocate(10_000);
        shortLived(10_000);
        heap.snapshot();
      }
      expect(heap.windows()).toHaveLength(4);
      const hint = heap.leakHint(256 * 1024);
      expect(hint.suspected).toBe(true);
      expect(hint.growthBytes).toBeGreaterThan(256 * 1024);
      expect(hint.suspects[0].name).toBe('leakyAllocate');
      expect(heap.latest()!.stats.usedHeapBytes).toBeGreaterThan(0);
    } finally {
      await heap.close();
    }
  });

  test('no leak is suspected when live bytes stay flat', async () => {
    const heap = startHeapProfiler({ samplingIntervalBytes: 4096, windowMs: 3_600_000 });
    try {
      for (let w = 0; w < 4; w++) {
        shortLived(10_000);
        heap.snapshot();
      }
      expect(heap.leakHint().suspected).toBe(false);
    } finally {
      await heap.close();
    }
  });

  test('heap statistics and option checks', () => {
    const s = heapStatistics();
    expect(s.usedHeapBytes).toBeGreaterThan(0);
    expect(s.heapLimitBytes).toBeGreaterThan(s.usedHeapBytes);
    expect(() => startHeapProfiler({ samplingIntervalBytes: 0 })).toThrow(ProfilingConfigError);
  });
});
