import { CacheSerializationError, defaultSerializer, isPlainJson } from '../src';

const roundTrip = (v: unknown) => defaultSerializer.deserialize(defaultSerializer.serialize(v));

describe('default serializer', () => {
  it('stores plain data as JSON and reads it back equal', () => {
    const v = {
      role: 'assistant',
      content: 'héllo \u{1F600}',
      n: 1.5,
      ok: true,
      none: null,
      list: [1, 'a', { b: [] }],
    };
    const bytes = defaultSerializer.serialize(v);
    expect(bytes.toString()).toBe(JSON.stringify(v));
    expect(roundTrip(v)).toEqual(v);
  });

  it('falls back to V8 for what JSON would change: undefined, -0, NaN, bigint, Dates, Maps, holes, cycles', () => {
    const cyclic: Record<string, unknown> = { name: 'c' };
    cyclic.self = cyclic;
    const holey: number[] = new Array(3);
    holey[0] = 1;
    holey[2] = 3;
    for (const v of [{ a: undefined }, -0, Number.NaN, 5n, new Date(3), new Map([[1, 2]]), holey, cyclic]) {
      expect(isPlainJson(v)).toBe(false);
      expect(defaultSerializer.serialize(v)[0]).toBe(0xff);
    }
    expect(Object.is(roundTrip(-0), -0)).toBe(true);
    expect(Object.prototype.hasOwnProperty.call(roundTrip({ a: undefined }), 'a')).toBe(true);
    const back = roundTrip(cyclic) as Record<string, unknown>;
    expect(back.self).toBe(back);
  });

  it('class instances go through V8 (own data kept, prototype dropped), as with every structured clone', () => {
    class Point {
      constructor(public x: number) {}
    }
    expect(isPlainJson(new Point(1))).toBe(false);
    expect(roundTrip(new Point(1))).toEqual({ x: 1 });
  });

  it('refuses functions and symbols, even nested in plain data', () => {
    expect(() => defaultSerializer.serialize({ a: { f: () => 1 } })).toThrow(CacheSerializationError);
    expect(() => defaultSerializer.serialize([Symbol('s')])).toThrow(CacheSerializationError);
  });
});
