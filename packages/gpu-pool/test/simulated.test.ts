import fc from 'fast-check';
import { createGpuDiscovery, GpuPoolConfigError, parseSimulatedSpec } from '../src';

describe('PERISCOPE_GPUS spec (property)', () => {
  it('never throws: devices or a description of what is accepted', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `sim:${s}`),
        ),
        (s) => {
          const r = parseSimulatedSpec(s);
          expect(typeof r === 'string' || Array.isArray(r)).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('a generated spec gives exactly its devices, with distinct UUIDs', () => {
    const item = fc.record({
      count: fc.integer({ min: 1, max: 8 }),
      size: fc.integer({ min: 1, max: 192 }),
      unit: fc.constantFrom('GB', 'GiB', 'MB', 'MiB'),
    });
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 8 }), (items) => {
        const r = parseSimulatedSpec(`sim:${items.map((i) => `${i.count}x${i.size}${i.unit}`).join(',')}`);
        if (typeof r === 'string') throw new Error(r);
        const expected = items.flatMap((i) =>
          Array.from({ length: i.count }, () => (i.unit.startsWith('G') ? i.size * 1024 : i.size)),
        );
        expect(r.map((d) => d.memoryTotalMb)).toEqual(expected);
        expect(new Set(r.map((d) => d.uuid)).size).toBe(r.length);
      }),
    );
  });

  it('an invalid PERISCOPE_GPUS is always a GpuPoolConfigError naming the variable', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter((s) => s.trim() !== '' && !/^(none|off)$/i.test(s.trim())),
        (s) => {
          try {
            createGpuDiscovery({ env: { PERISCOPE_GPUS: s }, systeminformation: false });
          } catch (err) {
            expect(err).toBeInstanceOf(GpuPoolConfigError);
            expect((err as GpuPoolConfigError).option).toBe('PERISCOPE_GPUS');
            return;
          }
          expect(Array.isArray(parseSimulatedSpec(s))).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});
