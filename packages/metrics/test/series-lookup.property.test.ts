// How a label object finds its series (one Map level per label, by value): equal values — a number
// and its string included — share a series, any difference in any value is a different series,
// and whatever is not a string or number is refused with a typed error, even when some series's
// text looks like it. Property-based: the lookup is a parser of hostile label objects.
import fc from 'fast-check';
import { createMetrics, InvalidLabelValueError, MissingLabelError, UnknownLabelError } from '../src';

const value = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.constantFrom('', '\0', ',', '=', '1:a', 'null', 'undefined', '[object Object]'),
  fc.integer({ min: -3, max: 3 }),
);

describe('series lookup by label values', () => {
  it('one series per distinct tuple of values, whatever the values contain', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(value, value, value), { minLength: 1, maxLength: 40 }), (tuples) => {
        const m = createMetrics({ env: {}, collectDefaultMetrics: false });
        const c = m.counter({ name: 'lookup_total', help: 'h', labelNames: ['a', 'b', 'c'] });
        const expected = new Map<string, number>();
        for (const [a, b, cc] of tuples) {
          c.inc({ a, b, c: cc });
          const key = JSON.stringify([String(a), String(b), String(cc)]);
          expected.set(key, (expected.get(key) ?? 0) + 1);
        }
        const series = m.toJSON().find((f) => f.name === 'lookup_total')!.series as {
          labels: Record<string, string>;
          value: number;
        }[];
        const seen = new Map(series.map((s) => [JSON.stringify([s.labels.a, s.labels.b, s.labels.c]), s.value]));
        expect(seen).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses what is not a string or number, and unknown or missing labels, after the series exists too', () => {
    const m = createMetrics({ env: {}, collectDefaultMetrics: false });
    const c = m.counter({ name: 'refuse_total', help: 'h', labelNames: ['a'] });
    for (const text of ['null', 'undefined', 'true', '[object Object]', '\0', '']) c.inc({ a: text });
    const bad: unknown[] = [null, true, {}, [], Symbol('s'), 1n, () => 1];
    for (const v of bad) expect(() => c.inc({ a: v } as never)).toThrow(InvalidLabelValueError);
    expect(() => c.inc({} as never)).toThrow(MissingLabelError);
    expect(() => c.inc({ a: 'null', b: 'x' } as never)).toThrow(UnknownLabelError);
    const values = (m.toJSON().find((f) => f.name === 'refuse_total')!.series as { value: number }[]).map(
      (s) => s.value,
    );
    expect(values).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('an inherited enumerable key does not hide a series or make a new one', () => {
    const m = createMetrics({ env: {}, collectDefaultMetrics: false });
    const c = m.counter({ name: 'proto_total', help: 'h', labelNames: ['a'] });
    c.inc({ a: 'x' });
    const withProto = Object.create({ inherited: 'not a label' }) as { a: string };
    withProto.a = 'x';
    c.inc(withProto);
    const series = m.toJSON().find((f) => f.name === 'proto_total')!.series as { value: number }[];
    expect(series.map((s) => s.value)).toEqual([2]);
  });

  it('past the series limit new label sets share the overflow series and known ones keep theirs', () => {
    const m = createMetrics({
      env: {},
      collectDefaultMetrics: false,
      maxSeriesPerMetric: 3,
      onWarning: () => undefined,
    });
    const c = m.counter({ name: 'flood_total', help: 'h', labelNames: ['a', 'b'] });
    for (let i = 0; i < 1000; i++) c.inc({ a: `user-${i}`, b: 'x' });
    c.inc({ a: 'user-0', b: 'x' });
    const series = m.toJSON().find((f) => f.name === 'flood_total')!.series as {
      labels: Record<string, string>;
      value: number;
    }[];
    expect(series).toHaveLength(4);
    expect(series[0]).toMatchObject({ labels: { a: 'user-0' }, value: 2 });
    expect(series[3].value).toBe(997);
  });
});
