// The envelope decoder against hostile bytes: anything that is not an entry we wrote is a typed
// miss (CacheSerializationError), never another exception, a hang or a huge allocation.
import zlib from 'node:zlib';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { redisUrl } from '@periscope-tools/testing';
import { CacheSerializationError, defaultSerializer } from '../src';
import { Codec } from '../src/serializer';
import { Fixture, eventually, uniqueNs } from './helpers';

const fx = new Fixture();
afterEach(() => fx.dispose());

const codec = new Codec(defaultSerializer, 1024, 1024 * 1024);
const meta = { createdAt: 1, expiresAt: Date.now() + 60_000, staleUntil: Date.now() + 60_000, tags: [] };

/** An envelope around `body` as the codec writes it (format 1; flag 1 = deflated). */
function envelope(body: Buffer, flags = 0, tags = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(28);
  head.writeUInt8(1, 0);
  head.writeUInt8(flags, 1);
  head.writeDoubleLE(meta.createdAt, 2);
  head.writeDoubleLE(meta.expiresAt, 10);
  head.writeDoubleLE(meta.staleUntil, 18);
  head.writeUInt16LE(tags.length, 26);
  return Buffer.concat([head, tags, body]);
}

function outcome(fn: () => unknown): 'ok' | 'typed' | Error {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return err instanceof CacheSerializationError ? 'typed' : (err as Error);
  }
}

describe('decoder properties', () => {
  it('arbitrary bytes never throw anything but CacheSerializationError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const r = outcome(() => codec.decode(Buffer.from(bytes)));
        return r === 'ok' || r === 'typed';
      }),
      { numRuns: 3000 },
    );
  });

  it('arbitrary bodies, tags and flags behind a valid header are a value or a typed miss', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 512 }),
        fc.constantFrom(0, 1, 2, 0xff),
        fc.oneof(fc.constant(''), fc.json(), fc.string()),
        (body, flags, tags) => {
          const r = outcome(() => codec.decode(envelope(Buffer.from(body), flags, Buffer.from(tags))));
          return r === 'ok' || r === 'typed';
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('arbitrary V8 and JSON payloads (deflated or not) decode or fail typed', () => {
    const payload = fc.oneof(
      fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.concat([Buffer.from([0xff, 0x0f]), Buffer.from(b)])),
      fc.string().map((s) => Buffer.from(s)),
    );
    fc.assert(
      fc.property(payload, fc.boolean(), (p, deflate) => {
        const body = deflate ? zlib.deflateRawSync(p) : p;
        const r = outcome(() => codec.decode(envelope(body, deflate ? 1 : 0)));
        return r === 'ok' || r === 'typed';
      }),
      { numRuns: 3000 },
    );
  });

  it('decodeAsync rejects with CacheSerializationError only', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 256 }), async (bytes) => {
        try {
          await codec.decodeAsync(envelope(Buffer.from(bytes), 1));
          return true;
        } catch (err) {
          return err instanceof CacheSerializationError;
        }
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips what it encodes, compressed or not', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const bytes = codec.encode(codec.payload(value), meta);
        expect(codec.decode(bytes).value).toEqual(value);
      }),
      { numRuns: 500 },
    );
  });
});

describe('bounded decompression', () => {
  const bomb = zlib.deflateRawSync(Buffer.alloc(64 * 2 ** 20, 0x20), { level: 9 }); // 64 MiB of spaces

  it('a decompression bomb is a typed miss that names the limit, sync and async', async () => {
    expect(bomb.length).toBeLessThan(512 * 1024);
    const small = new Codec(defaultSerializer, 1024, 2 ** 20);
    const bytes = envelope(bomb, 1);
    expect(() => small.decode(bytes)).toThrow(/maxDecompressedBytes=1048576/);
    expect(small.needsAsync(bytes)).toBe(true);
    await expect(small.decodeAsync(bytes)).rejects.toBeInstanceOf(CacheSerializationError);
  });

  it('through Redis: the bomb is a miss, counted and deleted; the factory repopulates the key', async () => {
    const ns = uniqueNs('bomb');
    const cache = fx.cache({ namespace: ns, l2: { url: redisUrl(), timeoutMs: 2000 }, maxDecompressedBytes: 2 ** 20 });
    const r = new Redis(redisUrl());
    fx.onCleanup(async () => void (await r.quit()));
    const dataKey = `periscope:cache:${ns}:v1:k:k`;
    await r.set(dataKey, envelope(bomb, 1), 'PX', 60_000);
    const errors = cache.stats().l2!.errors;
    expect(await cache.get('k')).toBeUndefined();
    expect(cache.stats().l2!.errors).toBe(errors + 1);
    expect(cache.stats().l2!.misses).toBe(1);
    expect(await eventually(async () => (await r.exists(dataKey)) === 0)).toBe(true);
    expect(await cache.getOrSet('k', () => 'fresh')).toBe('fresh');
  });

  it('maxDecompressedBytes is configurable; large values within it are read off the event loop, intact', async () => {
    const ns = uniqueNs('big');
    const value = { text: randomBytes(300_000).toString('base64') }; // 400 KB that barely compresses
    const writer = fx.cache({ namespace: ns, l2: { url: redisUrl(), timeoutMs: 2000 } });
    await writer.set('big', value);
    const r = new Redis(redisUrl());
    fx.onCleanup(async () => void (await r.quit()));
    const raw = await r.getBuffer(`periscope:cache:${ns}:v1:k:big`);
    expect(codec.needsAsync(raw!)).toBe(true); // this read takes the thread-pool path
    const reader = fx.cache({ namespace: ns, l2: { url: redisUrl(), timeoutMs: 2000 } });
    expect(await reader.get('big')).toEqual(value);
    const strict = fx.cache({
      namespace: ns,
      l2: { url: redisUrl(), timeoutMs: 2000 },
      maxDecompressedBytes: 64 * 1024,
    });
    expect(await strict.get('big')).toBeUndefined();
    expect(strict.stats().l2!.errors).toBe(1);
  });
});
