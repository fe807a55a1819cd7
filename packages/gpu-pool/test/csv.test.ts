import fc from 'fast-check';
import { knownValue, numberValue, parseCsv, splitCsvLine } from '../src';

describe('nvidia-smi CSV', () => {
  it('splits on commas outside quotes and trims', () => {
    expect(splitCsvLine('0, GPU-1, "NVIDIA, Inc. ""X""", 81559')).toEqual(['0', 'GPU-1', 'NVIDIA, Inc. "X"', '81559']);
    expect(parseCsv('a, b\n\n c ,d\r\n')).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
  });

  it('reads every "no value" marker as unknown and a real 0 as 0', () => {
    for (const v of [
      '[N/A]',
      '[Not Supported]',
      '[Requested functionality has been deprecated]',
      '[Unknown Error]',
      'N/A',
      '',
    ]) {
      expect(knownValue(v)).toBeUndefined();
      expect(numberValue(v)).toBeUndefined();
    }
    expect(numberValue('0')).toBe(0);
    expect(numberValue('0 MiB')).toBe(0);
    expect(numberValue('69.85 W')).toBe(69.85);
    expect(numberValue('0x00000000000001FF')).toBe(0x1ff);
    expect(numberValue('Disabled')).toBeUndefined();
  });

  it('never throws on arbitrary text (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        const rows = parseCsv(s);
        for (const row of rows) for (const f of row) expect(() => numberValue(f)).not.toThrow();
        const n = numberValue(s);
        expect(n === undefined || Number.isFinite(n)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips fields with quotes and commas (property)', () => {
    const field = fc.string({ maxLength: 20 }).map((s) => s.replace(/[\r\n]/g, '').trim());
    fc.assert(
      fc.property(fc.array(field, { minLength: 1, maxLength: 8 }), (fields) => {
        const line = fields.map((f) => (/[",]/.test(f) || f === '' ? `"${f.replace(/"/g, '""')}"` : f)).join(', ');
        expect(splitCsvLine(line)).toEqual(fields);
      }),
      { numRuns: 1000 },
    );
  });
});
