// The OTLP protobuf writer, read back with protobufjs's wire reader: every field type we write
// decodes to what went in, for any value (property-based), and nested messages of any length keep
// their bodies intact when the length needs more than the one byte reserved for it.
import fc from 'fast-check';
import { Reader } from 'protobufjs';
import { ProtoWriter } from '../src';

const utf8 = (r: Reader) => Buffer.from(r.bytes()).toString('utf8');

test('scalars decode to what was written', () => {
  fc.assert(
    fc.property(
      fc.nat({ max: Number.MAX_SAFE_INTEGER }),
      fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
      fc.bigUintN(64),
      fc.double({ noNaN: true }),
      fc.boolean(),
      fc.string({ unit: 'grapheme', minLength: 1 }),
      fc.uint8Array({ maxLength: 64 }),
      fc.nat({ max: 0xffffffff }),
      (uint, int, fixed, dbl, bool, str, bytes, f32) => {
        const w = new ProtoWriter(1);
        w.uint(1, uint);
        w.int64(2, int);
        w.fixed64(3, fixed);
        w.double(4, dbl);
        w.bool(5, bool);
        w.string(6, str);
        w.bytes(7, bytes);
        w.fixed32(8, f32);
        w.hex(9, 'a1b2c3d4e5f60718');
        const r = Reader.create(w.finish());
        const tags: number[] = [];
        const next = () => {
          const t = r.uint32();
          tags.push(t >>> 3);
          return t;
        };
        next();
        expect(Number(r.uint64().toString())).toBe(uint);
        next();
        expect(Number(r.int64().toString())).toBe(int);
        next();
        expect(BigInt.asUintN(64, BigInt(r.fixed64().toString()))).toBe(fixed);
        next();
        expect(r.double()).toBe(dbl);
        next();
        expect(r.bool()).toBe(bool);
        next();
        expect(utf8(r)).toBe(str);
        next();
        expect([...r.bytes()]).toEqual([...bytes]);
        next();
        expect(r.fixed32()).toBe(f32);
        next();
        expect(Buffer.from(r.bytes()).toString('hex')).toBe('a1b2c3d4e5f60718');
        expect(tags).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(r.pos).toBe(r.len);
      },
    ),
  );
});

test('an empty string is skipped by string() and kept by stringAlways()', () => {
  const w = new ProtoWriter();
  w.string(1, '');
  w.stringAlways(2, '');
  expect([...w.finish()]).toEqual([(2 << 3) | 2, 0]);
});

test('nested messages of any size keep their bodies (the length moves the body when it needs more bytes)', () => {
  fc.assert(
    fc.property(fc.array(fc.string({ maxLength: 300 }), { maxLength: 40 }), fc.nat({ max: 40_000 }), (items, pad) => {
      const w = new ProtoWriter(8);
      w.message(1, (outer) => {
        for (const s of items) outer.message(2, (inner) => inner.stringAlways(3, s));
        outer.bytes(4, new Uint8Array(pad));
      });
      w.uint(5, 7);
      const r = Reader.create(w.finish());
      expect(r.uint32()).toBe((1 << 3) | 2);
      const end = r.uint32() + r.pos;
      const seen: string[] = [];
      while (r.pos < end) {
        const tag = r.uint32();
        if (tag >>> 3 === 2) {
          const sub = Reader.create(r.bytes());
          expect(sub.uint32()).toBe((3 << 3) | 2);
          seen.push(utf8(sub));
        } else {
          expect(tag >>> 3).toBe(4);
          expect(r.bytes().length).toBe(pad);
        }
      }
      expect(seen).toEqual(items);
      expect(r.uint32()).toBe(5 << 3);
      expect(r.uint32()).toBe(7);
      expect(r.pos).toBe(r.len);
    }),
  );
});
