// L1 policies and limits, through the public API (L1 only).
import { Fixture, uniqueNs } from './helpers';
import type { L1Policy } from '../src';

const fx = new Fixture();
afterEach(() => fx.dispose());

const make = (policy: L1Policy, maxEntries = 3) =>
  fx.cache({ namespace: uniqueNs(`l1-${policy}`), l1: { policy, maxEntries } });

async function present(cache: ReturnType<typeof make>, keys: string[]): Promise<string[]> {
  const values = await cache.getMany(keys);
  return keys.filter((_, i) => values[i] !== undefined);
}

describe('L1 eviction policies', () => {
  it('LRU evicts the least recently read', async () => {
    const c = make('lru');
    await c.setMany([
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
      { key: 'c', value: 3 },
    ]);
    await c.get('a');
    await c.set('d', 4);
    expect(await present(c, ['a', 'b', 'c', 'd'])).toEqual(['a', 'c', 'd']);
    expect(c.stats().l1.evictions.capacity).toBe(1);
  });

  it('FIFO evicts the oldest write, whatever was read', async () => {
    const c = make('fifo');
    await c.setMany([
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
      { key: 'c', value: 3 },
    ]);
    await c.get('a');
    await c.set('d', 4);
    expect(await present(c, ['a', 'b', 'c', 'd'])).toEqual(['b', 'c', 'd']);
  });

  it('LFU evicts the least frequently read', async () => {
    const c = make('lfu');
    await c.setMany([
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
      { key: 'c', value: 3 },
    ]);
    for (let i = 0; i < 3; i++) await c.get('a');
    await c.get('b');
    await c.get('c');
    await c.get('c');
    await c.set('d', 4); // b (2 uses) goes, not a (4) or c (3)
    expect(await present(c, ['a', 'b', 'c'])).toEqual(['a', 'c']);
  });

  it('TTL evicts the entry closest to expiry', async () => {
    const c = make('ttl');
    await c.set('long', 1, { ttlMs: 60_000 });
    await c.set('short', 2, { ttlMs: 5_000 });
    await c.set('mid', 3, { ttlMs: 30_000 });
    await c.get('short');
    await c.set('new', 4, { ttlMs: 60_000 });
    expect(await present(c, ['long', 'short', 'mid', 'new'])).toEqual(['long', 'mid', 'new']);
  });

  it('limits by bytes (serialized size) and counts the reason', async () => {
    const c = fx.cache({ namespace: uniqueNs('bytes'), l1: { maxEntries: 1000, maxBytes: 2_500 } });
    for (let i = 0; i < 5; i++) await c.set(`k${i}`, 'x'.repeat(1000));
    const s = c.stats().l1;
    expect(s.bytes).toBeLessThanOrEqual(2_500);
    expect(s.entries).toBe(2);
    expect(s.evictions.bytes).toBe(3);
  });

  it('entries expire at their TTL (fake clock)', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    try {
      const c = make('lru', 10);
      await c.set('k', 1, { ttlMs: 30 });
      jest.setSystemTime(1_000_029);
      expect(await c.get('k')).toBe(1);
      jest.setSystemTime(1_000_030);
      expect(await c.get('k')).toBeUndefined();
    } finally {
      jest.useRealTimers();
    }
  });

  it('jitter shortens L1 lifetimes by up to the given fraction, never lengthens them (fake clock)', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    try {
      const c = fx.cache({ namespace: uniqueNs('jitter'), l1: { maxEntries: 1000, jitter: 0.5 } });
      const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
      for (const k of keys) await c.set(k, k, { ttlMs: 100 });
      const alive = async (at: number) => {
        jest.setSystemTime(1_000_000 + at);
        return (await c.getMany(keys)).filter((v) => v !== undefined).length;
      };
      expect(await alive(49)).toBe(200); // every entry lives at least 50 ms (100 × (1 − 0.5))
      const half = await alive(75); // each L1 lifetime is uniform in (50, 100]: about half are gone
      expect(half).toBeGreaterThan(40);
      expect(half).toBeLessThan(160);
      expect(await alive(100)).toBe(0); // never past the TTL
    } finally {
      jest.useRealTimers();
    }
  });

  it('stats report hits, misses and hit ratio', async () => {
    const c = make('lru', 10);
    await c.set('k', 1);
    await c.get('k');
    await c.get('k');
    await c.get('nope');
    expect(c.stats().l1).toMatchObject({ hits: 2, misses: 1, sets: 1, entries: 1 });
    expect(c.stats().l1.hitRatio).toBeCloseTo(2 / 3);
  });
});
