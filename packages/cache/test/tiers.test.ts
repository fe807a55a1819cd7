import { readdirSync } from 'node:fs';
import { Redis } from 'ioredis';
import { redisUrl } from '@periscope-tools/testing';
import { createMetrics } from '@periscope/metrics';
import { CacheInputError, CacheSerializationError, sha256Hex } from '../src';
import { Fixture, uniqueNs } from './helpers';

const fx = new Fixture();
const kind = (x: unknown) => Object.prototype.toString.call(x).slice(8, -1);
let redis: Redis;

beforeAll(() => {
  redis = new Redis(redisUrl());
});
afterEach(() => fx.dispose());
afterAll(async () => {
  await redis.quit();
});

function threeTier(ns = uniqueNs('tiers'), extra: Record<string, unknown> = {}) {
  const dir = fx.dir();
  const cache = fx.cache({
    namespace: ns,
    l2: { url: redisUrl(), timeoutMs: 500 },
    l3: { dir },
    defaultTtlMs: 60_000,
    ...extra,
  });
  return { cache, dir, ns };
}

describe('read path L1 → L2 → L3 → factory', () => {
  it('getOrSet computes once, writes every tier, and later reads hit L1', async () => {
    const { cache, dir, ns } = threeTier();
    let calls = 0;
    const v1 = await cache.getOrSet('k', async () => ({ answer: ++calls }));
    const v2 = await cache.getOrSet('k', async () => ({ answer: ++calls }));
    expect(v1).toEqual({ answer: 1 });
    expect(v2).toEqual({ answer: 1 });
    expect(calls).toBe(1);
    expect(await redis.exists(`periscope:cache:${ns}:v1:k:k`)).toBe(1);
    expect(readdirSync(dir)).toEqual([sha256Hex(`${ns}:v1:k`)]);
    const s = cache.stats();
    expect(s.l1.hits).toBe(1);
    expect(s.factory.calls).toBe(1);
  });

  it('a second instance reads from L2 and promotes into its L1 with the remaining TTL', async () => {
    const ns = uniqueNs('promote');
    const a = fx.cache({ namespace: ns, l2: { url: redisUrl(), timeoutMs: 500 } });
    const b = fx.cache({ namespace: ns, l2: { url: redisUrl(), timeoutMs: 500 } });
    await a.set('k', 'v', { ttlMs: 300 });
    await new Promise((r) => setTimeout(r, 150));
    const got = await b.get('k');
    if (got !== 'v') console.log(JSON.stringify(b.stats()));
    expect(got).toBe('v');
    expect(b.stats().l2!.hits).toBe(1);
    expect(await b.get('k')).toBe('v');
    expect(b.stats().l1.hits).toBe(1);
    // Promoted entries keep the original expiry: gone from b's L1 at ~300 ms, not 450 ms.
    await new Promise((r) => setTimeout(r, 200));
    await redis.del(`periscope:cache:${ns}:v1:k:k`);
    expect(await b.get('k')).toBeUndefined();
  });

  it('an L3 hit (fresh process, empty L2) is promoted into L1 and L2', async () => {
    const ns = uniqueNs('l3promote');
    const dir = fx.dir();
    const first = fx.cache({ namespace: ns, l3: { dir } });
    await first.set('k', { big: 'x'.repeat(10) }, { ttlMs: 60_000 });
    await first.close();
    const second = fx.cache({ namespace: ns, l2: { url: redisUrl(), timeoutMs: 500 }, l3: { dir } });
    expect(await second.get('k')).toEqual({ big: 'x'.repeat(10) });
    expect(second.stats().l2!.misses).toBe(1);
    expect(second.stats().l3!.hits).toBe(1);
    await second.close();
    const pttl = await redis.pttl(`periscope:cache:${ns}:v1:k:k`);
    expect(pttl).toBeGreaterThan(50_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
  });
});

describe('serialization', () => {
  it('Buffers, Float32Array embeddings, Dates, Maps and Sets round-trip through L2 and L3', async () => {
    const ns = uniqueNs('types');
    const dir = fx.dir();
    const value = {
      buf: Buffer.from([1, 2, 3]),
      emb: new Float32Array([0.25, -1.5, 3]),
      at: new Date(1_700_000_000_000),
      m: new Map([['a', 1]]),
      s: new Set([1, 2]),
      big: 10n,
    };
    const writer = fx.cache({ namespace: ns, l2: { url: redisUrl(), timeoutMs: 500 }, l3: { dir } });
    await writer.set('k', value);
    const viaL2 = fx.cache({ namespace: ns, l2: { url: redisUrl(), timeoutMs: 500 } });
    const viaL3 = fx.cache({ namespace: ns, l3: { dir } });
    for (const reader of [viaL2, viaL3]) {
      const got = await reader.get<typeof value>('k');
      expect(Buffer.isBuffer(got!.buf)).toBe(true);
      // Jest runs tests in a separate realm, so compare type tags rather than constructors.
      expect(kind(got!.emb)).toBe('Float32Array');
      expect(Array.from(got!.emb)).toEqual([0.25, -1.5, 3]);
      expect(kind(got!.at)).toBe('Date');
      expect(got!.at.getTime()).toBe(1_700_000_000_000);
      expect(kind(got!.m)).toBe('Map');
      expect(got!.m.get('a')).toBe(1);
      expect(got!.s.has(2)).toBe(true);
      expect(got!.big).toBe(10n);
    }
  });

  it('compresses values above the threshold in Redis', async () => {
    const { cache, ns } = threeTier(uniqueNs('compress'));
    const text = 'the same sentence again and again. '.repeat(1000);
    await cache.set('big', text);
    const stored = await redis.getBuffer(`periscope:cache:${ns}:v1:k:big`);
    expect(stored!.length).toBeLessThan(text.length / 5);
    const other = fx.cache({ namespace: ns, l2: { url: redisUrl(), timeoutMs: 500 } });
    expect(await other.get('big')).toBe(text);
  });

  it('the key version orphans entries written under another version', async () => {
    const ns = uniqueNs('version');
    const v1 = fx.cache({ namespace: ns, l2: { url: redisUrl(), version: 1 } });
    const v2 = fx.cache({ namespace: ns, l2: { url: redisUrl(), version: 2 } });
    await v1.set('k', 'old');
    expect(await v2.get('k')).toBeUndefined();
  });
});

describe('bad input', () => {
  it.each([
    ['negative TTL', { ttlMs: -1 }],
    ['NaN TTL', { ttlMs: Number.NaN }],
    ['infinite TTL', { ttlMs: Number.POSITIVE_INFINITY }],
  ])('%s is a typed error and changes nothing', async (_name, opts) => {
    const { cache, ns } = threeTier(uniqueNs('bad'));
    await cache.set('k', 'before');
    await expect(cache.set('k', 'after', opts)).rejects.toMatchObject({
      code: 'ERR_CACHE_INVALID_INPUT',
      argument: 'ttlMs',
    });
    expect(await cache.get('k')).toBe('before');
    const other = fx.cache({ namespace: ns, l2: { url: redisUrl(), timeoutMs: 500 } });
    expect(await other.get('k')).toBe('before');
  });

  it('an unserializable value is a CacheSerializationError and nothing is written', async () => {
    const { cache } = threeTier(uniqueNs('unser'));
    await cache.set('k', 'before');
    const err = await cache.set('k', { fn: () => 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CacheSerializationError);
    expect(err).toMatchObject({ code: 'ERR_CACHE_SERIALIZATION' });
    expect(await cache.get('k')).toBe('before');
  });

  it('an empty key is a typed error in every method', async () => {
    const { cache } = threeTier(uniqueNs('emptykey'));
    for (const call of [
      () => cache.get(''),
      () => cache.set('', 1),
      () => cache.getOrSet('', () => 1),
      () => cache.delete(''),
      () => cache.getMany(['a', '']),
    ]) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CacheInputError);
    }
  });

  it('setMany validates every entry before writing any', async () => {
    const { cache } = threeTier(uniqueNs('setmany'));
    await expect(
      cache.setMany([
        { key: 'a', value: 1 },
        { key: 'b', value: 2, ttlMs: -5 },
      ]),
    ).rejects.toBeInstanceOf(CacheInputError);
    expect(await cache.getMany(['a', 'b'])).toEqual([undefined, undefined]);
  });
});

describe('batch, delete, tags, clear', () => {
  it('getMany returns values in key order across tiers; setMany writes all', async () => {
    const { cache, ns } = threeTier(uniqueNs('batch'));
    await cache.setMany<unknown>([
      { key: 'a', value: 1 },
      { key: 'b', value: { x: 2 } },
    ]);
    const fresh = fx.cache({ namespace: ns, l2: { url: redisUrl(), timeoutMs: 500 } });
    expect(await fresh.getMany(['b', 'missing', 'a'])).toEqual([{ x: 2 }, undefined, 1]);
  });

  it('delete removes from every tier', async () => {
    const { cache, dir, ns } = threeTier(uniqueNs('del'));
    await cache.set('k', 1);
    await cache.delete('k');
    expect(await cache.get('k')).toBeUndefined();
    expect(await redis.exists(`periscope:cache:${ns}:v1:k:k`)).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('deleteByTag removes tagged entries from L1, L2 and L3 and keeps the rest', async () => {
    const { cache, dir, ns } = threeTier(uniqueNs('tags'));
    await cache.set('a', 1, { tags: ['user:1'] });
    await cache.set('b', 2, { tags: ['user:1', 'team:x'] });
    await cache.set('c', 3, { tags: ['team:x'] });
    await cache.deleteByTag('user:1');
    expect(await cache.getMany(['a', 'b', 'c'])).toEqual([undefined, undefined, 3]);
    expect(await redis.exists(`periscope:cache:${ns}:v1:k:a`, `periscope:cache:${ns}:v1:k:b`)).toBe(0);
    expect(readdirSync(dir)).toHaveLength(1);
    // A fresh instance with only the disk tier sees the same.
    const l3only = fx.cache({ namespace: ns, l3: { dir } });
    expect(await l3only.getMany(['a', 'b', 'c'])).toEqual([undefined, undefined, 3]);
  });

  it('clear empties this namespace only', async () => {
    const { cache, ns } = threeTier(uniqueNs('clear'));
    const { cache: neighbour } = threeTier(uniqueNs('neighbour'));
    await cache.set('a', 1);
    await neighbour.set('a', 2);
    await cache.clear();
    expect(await cache.get('a')).toBeUndefined();
    expect(await redis.keys(`periscope:cache:${ns}:*`)).toEqual([]);
    expect(await neighbour.get('a')).toBe(2);
  });
});

describe('an existing ioredis client', () => {
  it('is used for L2 and the bus, and left open and clean after close()', async () => {
    const client = new Redis(redisUrl());
    fx.onCleanup(async () => void (await client.quit()));
    const listenersBefore = client.listenerCount('error');
    const ns = uniqueNs('client');
    const cache = fx.cache({ namespace: ns, l2: { client, timeoutMs: 500 } });
    await cache.set('k', 'v');
    expect(await client.exists(`periscope:cache:${ns}:v1:k:k`)).toBe(1);
    await cache.close();
    expect(client.status).toBe('ready');
    expect(client.listenerCount('error')).toBe(listenersBefore);
    expect(await client.ping()).toBe('PONG');
  });
});

describe('metrics', () => {
  it('exposes per-tier counters in the given Metrics instance', async () => {
    const metrics = createMetrics();
    const ns = uniqueNs('metrics');
    const cache = fx.cache({ namespace: ns, l2: { url: redisUrl(), timeoutMs: 500 }, metrics });
    await cache.getOrSet('k', () => 'v');
    await cache.get('k');
    const { body } = await metrics.expose();
    expect(body).toContain(`periscope_cache_hits_total{cache="${ns}",tier="l1"} 1`);
    expect(body).toContain(`periscope_cache_misses_total{cache="${ns}",tier="l2"} 1`);
    expect(body).toContain(`periscope_cache_factory_calls_total{cache="${ns}",result="ok"} 1`);
    expect(body).toContain(`periscope_cache_breaker_state{cache="${ns}"} 0`);
  });
});
