// Issue 21 (mutation testing): the envelope every tier stores (and other instances, of this or a
// later version, read back): its byte layout, when the body is compressed, and the reason given
// for each kind of unreadable entry.
import zlib from 'node:zlib';
import { CacheSerializationError, defaultSerializer, type Serializer } from '../src';
import { ASYNC_INFLATE_ABOVE_BYTES, Codec } from '../src/serializer';

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
