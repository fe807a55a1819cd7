// Issue 21 (mutation testing): the envelope every tier stores (and other instances, of this or a
// later version, read back): its byte layout, when the body is compressed, and the reason given
// for each kind of unreadable entry.
import zlib from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { CacheSerializationError, defaultSerializer, isPlainJson, v8Serializer, type Serializer } from '../src';
import { ASYNC_INFLATE_ABOVE_BYTES, Codec, estimateSize } from '../src/serializer';

/** The error fn throws (or rejects with), checked to be the typed one with exactly this message. */
async function expectTyped(fn: () => unknown, message: string): Promise<void> {
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(CacheSerializationError);
  expect((err as Error).message).toBe(message);
}

const meta = { createdAt: 1.5, expiresAt: 2_000, staleUntil: 3_000, tags: ['t1', 'ü'] };

describe('envelope layout', () => {
  it('format 1, flags, three little-endian doubles, a u16 tag length, the tags as JSON, then the body', () => {
    const codec = new Codec(defaultSerializer, 0);
    const bytes = codec.encode(Buffer.from('"v"'), meta);
    const tags = Buffer.from(JSON.stringify(meta.tags));
    expect(bytes.readUInt8(0)).toBe(1);
    expect(bytes.readUInt8(1)).toBe(0);
    expect([bytes.readDoubleLE(2), bytes.readDoubleLE(10), bytes.readDoubleLE(18)]).toEqual([1.5, 2_000, 3_000]);
    expect(bytes.readUInt16LE(26)).toBe(tags.length);
    expect(bytes.subarray(28, 28 + tags.length)).toEqual(tags);
    expect(bytes.subarray(28 + tags.length).toString()).toBe('"v"');
    expect(bytes.length).toBe(28 + tags.length + 3);
    // No tags: no tag bytes at all.
    const bare = codec.encode(Buffer.from('1'), { ...meta, tags: [] });
    expect([bare.length, bare.readUInt16LE(26)]).toEqual([29, 0]);
    expect(codec.decode(bare)).toEqual({ meta: { ...meta, tags: [] }, value: 1 });
    expect(codec.decode(bytes)).toEqual({ meta, value: 'v' });
  });

  it('compresses a payload only when it is longer than compressAboveBytes (0 turns it off)', () => {
    const codec = new Codec(defaultSerializer, 100);
    const exactly = Buffer.alloc(100, 'a');
    const over = Buffer.alloc(101, 'a');
    expect(codec.encode(exactly, meta).readUInt8(1)).toBe(0);
    const packed = codec.encode(over, meta);
    expect(packed.readUInt8(1)).toBe(1);
    expect(zlib.inflateRawSync(packed.subarray(28 + packed.readUInt16LE(26)))).toEqual(over);
    expect(new Codec(defaultSerializer, 0).encode(Buffer.alloc(10_000, 'a'), meta).readUInt8(1)).toBe(0);
  });

  it('refuses tags longer than 65535 bytes of JSON, and a serializer that returns no bytes', async () => {
    const codec = new Codec(defaultSerializer, 0);
    await expectTyped(
      () => codec.encode(Buffer.from('1'), { ...meta, tags: ['x'.repeat(70_000)] }),
      'tags are too long (more than 65535 bytes of JSON)',
    );
    const bad: Serializer = { serialize: () => 'text' as unknown as Buffer, deserialize: (b) => b };
    expect(() => new Codec(bad, 0).payload(1)).toThrow('serializer.serialize must return a Buffer');
    const typed: Serializer = { serialize: () => new Uint8Array([1, 2]) as Buffer, deserialize: (b) => b };
    const payload = new Codec(typed, 0).payload(1);
    expect(Buffer.isBuffer(payload)).toBe(true);
    expect([...payload]).toEqual([1, 2]);
  });
});

describe('unreadable entries: a typed miss that says why', () => {
  const codec = new Codec(defaultSerializer, 0, 64);
  const good = codec.encode(Buffer.from('"v"'), meta);
  const patched = (write: (b: Buffer) => void, from = good) => {
    const b = Buffer.from(from);
    write(b);
    return b;
  };
  const withTags = (json: string) => {
    const head = Buffer.from(good.subarray(0, 28));
    head.writeUInt16LE(Buffer.byteLength(json), 26);
    return Buffer.concat([head, Buffer.from(json), Buffer.from('1')]);
  };

  it.each([
    ['shorter than the header', good.subarray(0, 27), 'unknown envelope format'],
    ['another format', patched((b) => b.writeUInt8(2, 0)), 'unknown envelope format'],
    ['an unknown flag', patched((b) => b.writeUInt8(2, 1)), 'unknown envelope flags'],
    ['a tag length past the end', patched((b) => b.writeUInt16LE(good.length - 27, 26)), 'truncated envelope'],
    ['tags that are not an array', withTags('{"a":1}'), 'malformed tags'],
    ['tags that are not strings', withTags('["a",1]'), 'malformed tags'],
    ['a time that is not finite', patched((b) => b.writeDoubleLE(Number.NaN, 10)), 'malformed times'],
    ['a created time that is infinite', patched((b) => b.writeDoubleLE(Infinity, 2)), 'malformed times'],
    ['a stale time that is infinite', patched((b) => b.writeDoubleLE(-Infinity, 18)), 'malformed times'],
  ])('%s', async (_why, bytes, reason) => {
    const message = `stored entry cannot be read: ${reason}`;
    await expectTyped(() => codec.decode(bytes), message);
    await expectTyped(() => codec.decodeAsync(bytes), message);
  });

  it('a tag length exactly to the end is a valid entry with an empty body', () => {
    const tagsOnly = good.subarray(0, 28 + good.readUInt16LE(26));
    expect(() => codec.decode(tagsOnly)).toThrow(CacheSerializationError); // empty JSON, not a truncation
    expect(() => codec.decode(tagsOnly)).not.toThrow('truncated envelope');
  });

  it('an uncompressed body over maxDecompressedBytes is refused too, naming the limit; one at the limit is read', async () => {
    const at = codec.encode(Buffer.from(JSON.stringify('x'.repeat(62))), meta); // 64 bytes of JSON
    expect(codec.decode(at).value).toBe('x'.repeat(62));
    const over = codec.encode(Buffer.from(JSON.stringify('x'.repeat(63))), meta);
    const message = 'stored entry cannot be read: it inflates past maxDecompressedBytes=64';
    await expectTyped(() => codec.decode(over), message);
    await expectTyped(() => codec.decodeAsync(over), message);
    expect(await codec.decodeAsync(at)).toEqual({ meta, value: 'x'.repeat(62) });
  });

  it('only a compressed body past the async threshold is inflated off the event loop', async () => {
    const big = Buffer.from(JSON.stringify(Array.from({ length: 20_000 }, (_, i) => i * 7919)));
    const packing = new Codec(defaultSerializer, 1, 2 ** 20);
    const packed = packing.encode(big, meta);
    expect(packed.length).toBeGreaterThan(28 + ASYNC_INFLATE_ABOVE_BYTES);
    expect(packing.needsAsync(packed)).toBe(true);
    expect((await packing.decodeAsync(packed)).value).toEqual(JSON.parse(big.toString()));
    const plain = new Codec(defaultSerializer, 0, 2 ** 20).encode(big, meta);
    expect(packing.needsAsync(plain)).toBe(false);
    expect(packing.needsAsync(packing.encode(Buffer.from('"small"'), meta))).toBe(false);
    const justOver = Buffer.alloc(28 + ASYNC_INFLATE_ABOVE_BYTES + 1);
    justOver.writeUInt8(1, 1);
    expect(packing.needsAsync(justOver)).toBe(true);
    expect(packing.needsAsync(justOver.subarray(0, 28 + ASYNC_INFLATE_ABOVE_BYTES))).toBe(false);
  });
});

describe('serializers', () => {
  it('v8Serializer round-trips what JSON cannot, and names why a value cannot be stored (with the cause)', () => {
    const value = { at: new Date(5), v: new Float32Array([1.5]), n: 5n };
    const back = v8Serializer.deserialize(v8Serializer.serialize(value)) as typeof value;
    // (V8 builds these in the main realm, not Jest's: compare by content)
    expect([back.at.getTime(), [...back.v], back.n]).toEqual([5, [1.5], 5n]);
    let err: unknown;
    try {
      v8Serializer.serialize({ f: () => 1 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CacheSerializationError);
    expect((err as Error).message).toMatch(/^value cannot be serialized: .*could not be cloned/);
    expect((err as Error).cause).toMatchObject({ message: expect.stringMatching(/could not be cloned/) }); // V8's own
    expect((err as Error).message).toBe(`value cannot be serialized: ${((err as Error).cause as Error).message}`);
  });

  it('objects without a prototype are plain data (JSON)', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1, b: ['x'] });
    expect(isPlainJson(bare)).toBe(true);
    expect(defaultSerializer.serialize(bare).toString()).toBe('{"a":1,"b":["x"]}');
  });

  it('plain data up to 10 000 values is JSON; past that it goes to V8 (still round-trips)', () => {
    const at = Array.from({ length: 9_999 }, (_, i) => i); // the array and its 9 999 items
    expect(isPlainJson(at)).toBe(true);
    expect(defaultSerializer.serialize(at)[0]).toBe('['.charCodeAt(0));
    const past = [...at, 9_999];
    expect(isPlainJson(past)).toBe(false);
    expect(defaultSerializer.deserialize(defaultSerializer.serialize(past))).toEqual(past);
  });
});

describe('envelope edges', () => {
  it('tags of exactly 65535 bytes of JSON are stored', () => {
    const codec = new Codec(defaultSerializer, 0);
    const tags = ['x'.repeat(65_535 - 4)]; // ["…"]
    const bytes = codec.encode(Buffer.from('1'), { ...meta, tags });
    expect(codec.decode(bytes).meta.tags).toEqual(tags);
  });

  it('a header-only envelope (no tags, empty body) is read: a serializer may write zero bytes', () => {
    const empty: Serializer = { serialize: () => Buffer.alloc(0), deserialize: (b) => `${b.length} bytes` };
    const codec = new Codec(empty, 0);
    const bytes = codec.encode(codec.payload('anything'), { ...meta, tags: [] });
    expect(bytes).toHaveLength(28);
    expect(codec.decode(bytes).value).toBe('0 bytes');
  });

  it('a compressed body that inflates past maxDecompressedBytes is refused, on either path', async () => {
    const message = 'stored entry cannot be read: it inflates past maxDecompressedBytes=64';
    const small = new Codec(defaultSerializer, 1, 64);
    const bomb = small.encode(Buffer.alloc(1000, 'a'), meta);
    expect(small.needsAsync(bomb)).toBe(false);
    await expectTyped(() => small.decode(bomb), message);
    // Past the async threshold: incompressible data, inflated on the thread pool.
    const limit = 30_000;
    const big = new Codec(defaultSerializer, 1, limit);
    const noise = big.encode(Buffer.from(JSON.stringify(randomBytes(30_000).toString('base64'))), meta);
    expect(big.needsAsync(noise)).toBe(true);
    await expectTyped(
      () => big.decodeAsync(noise),
      `stored entry cannot be read: it inflates past maxDecompressedBytes=${limit}`,
    );
    let err: unknown;
    try {
      small.decode(small.encode(Buffer.from(JSON.stringify('x'.repeat(100))), meta));
    } catch (e) {
      err = e;
    }
    expect((err as Error).cause).toMatchObject({ code: 'ERR_BUFFER_TOO_LARGE' });
  });

  it('the error keeps the cause; odd things thrown by a serializer are named, never re-thrown raw', async () => {
    const oops = new Error('bad bytes');
    const throwing = (thrown: unknown): Serializer => ({
      serialize: (v) => Buffer.from(JSON.stringify(v)),
      deserialize: () => {
        throw thrown;
      },
    });
    const bytes = new Codec(defaultSerializer, 0).encode(Buffer.from('1'), meta);
    let err: unknown;
    try {
      new Codec(throwing(oops), 0).decode(bytes);
    } catch (e) {
      err = e;
    }
    expect((err as Error).cause).toBe(oops);
    await expectTyped(() => new Codec(throwing(null), 0).decode(bytes), 'stored entry cannot be read: null');
    await expectTyped(
      () => new Codec(throwing(undefined), 0).decodeAsync(bytes),
      'stored entry cannot be read: undefined',
    );
    await expectTyped(() => new Codec(throwing('text'), 0).decode(bytes), 'stored entry cannot be read: text');
  });

  it('an uncompressed body over the limit carries a RangeError naming the limit as its cause', () => {
    const codec = new Codec(defaultSerializer, 0, 4);
    let err: unknown;
    try {
      codec.decode(codec.encode(Buffer.from('"long"'), meta));
    } catch (e) {
      err = e;
    }
    expect((err as Error).cause).toBeInstanceOf(RangeError);
    expect(((err as Error).cause as Error).message).toBe('value is larger than maxDecompressedBytes');
  });
});

describe('estimateSize: the L1 byte budget for values with no bytes at hand', () => {
  it('charges each kind of value its fixed cost', () => {
    expect(estimateSize('abc')).toBe(16 + 3 * 2);
    expect([estimateSize(1), estimateSize(1n), estimateSize(Symbol('s')), estimateSize(() => 1)]).toEqual([8, 8, 8, 8]);
    expect([estimateSize(true), estimateSize(undefined), estimateSize(null)]).toEqual([4, 4, 4]);
    expect(estimateSize(new Date(0))).toBe(24);
    expect(estimateSize(new Float32Array(4))).toBe(64 + 16);
    expect(estimateSize(Buffer.alloc(10))).toBe(64 + 10);
  });

  it('containers cost 32 plus their items', () => {
    expect(estimateSize([])).toBe(32);
    expect(estimateSize([1, 'a'])).toBe(32 + (8 + 8) + (8 + 18));
    expect(estimateSize({ ab: 1 })).toBe(32 + (8 + 2 * 2 + 8));
    expect(estimateSize(new Map([['k', 1]]))).toBe(32 + (16 + 18 + 8));
    expect(estimateSize(new Set([1, 'a']))).toBe(32 + (8 + 8) + (8 + 18));
  });

  it('counts a shared or cyclic object once', () => {
    const shared = { x: 1 }; // 32 + (8 + 2 + 8)
    expect(estimateSize([shared, shared])).toBe(32 + (8 + 50) + (8 + 0));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(estimateSize(cyclic)).toBe(32 + (8 + 4 * 2 + 0));
  });
});
