// Two cache instances, each with its own ioredis connections, sharing one Redis.
import { Redis } from 'ioredis';
import { redisUrl } from '@periscope-tools/testing';
import { BUS_VERSION } from '../src';
import type { RedisTier } from '../src/redis-tier';
import { Fixture, eventually, sleep, uniqueNs } from './helpers';

const fx = new Fixture();
afterEach(() => fx.dispose());

function pair(extra: Record<string, unknown> = {}) {
  const ns = uniqueNs('dist');
  const opts = { namespace: ns, l2: { url: redisUrl(), timeoutMs: 500 }, defaultTtlMs: 60_000, ...extra };
  return { ns, a: fx.cache(opts), b: fx.cache(opts) };
}

/** Waits until both subscribers are listening, so no message is published into the void. */
async function busReady(ns: string, count = 2): Promise<void> {
  const r = new Redis(redisUrl());
  try {
    const ok = await eventually(async () => {
      const [, n] = (await r.pubsub('NUMSUB', `periscope:cache:${ns}:v1:bus`)) as [string, number];
      return Number(n) >= count;
    });
    expect(ok).toBe(true);
  } finally {
    await r.quit();
  }
}

describe('distributed invalidation over the bus', () => {
  it('set on one instance drops the stale L1 copy on the other', async () => {
    const { ns, a, b } = pair();
    await busReady(ns);
    await a.set('k', 'v1');
    expect(await b.get('k')).toBe('v1'); // now in b's L1
    await a.set('k', 'v2');
    expect(await eventually(async () => (await b.get('k')) === 'v2')).toBe(true);
    expect(b.stats().bus!.received).toBeGreaterThanOrEqual(2);
    expect(a.stats().bus!.ignoredOwn).toBeGreaterThanOrEqual(2);
  });

  it('delete, deleteByTag and clear reach the other instance’s L1', async () => {
    const { ns, a, b } = pair();
    await busReady(ns);
    await a.setMany([
      { key: 'x', value: 1 },
      { key: 't', value: 2, tags: ['doc:7'] },
      { key: 'y', value: 3 },
    ]);
    expect(await b.getMany(['x', 't', 'y'])).toEqual([1, 2, 3]);
    await a.delete('x');
    await a.deleteByTag('doc:7');
    await eventually(() => b.stats().bus!.received >= 3);
    expect(await b.getMany(['x', 't', 'y'])).toEqual([undefined, undefined, 3]);
    await a.clear();
    await eventually(() => b.stats().bus!.received >= 4);
    expect(b.stats().l1.entries).toBe(0);
    expect(await b.get('y')).toBeUndefined();
  });

  it('an instance ignores its own messages (its fresh L1 entry survives)', async () => {
    const { ns, a } = pair();
    await busReady(ns);
    await a.set('k', 'v');
    await eventually(() => a.stats().bus!.ignoredOwn >= 1);
    const hitsBefore = a.stats().l1.hits;
    expect(await a.get('k')).toBe('v');
    expect(a.stats().l1.hits).toBe(hitsBefore + 1);
  });

  it('messages are versioned; unknown versions and other namespaces are ignored', async () => {
    const { ns, a, b } = pair();
    await busReady(ns);
    await a.set('k', 'v');
    expect(await b.get('k')).toBe('v');
    const r = new Redis(redisUrl());
    fx.onCleanup(async () => void (await r.quit()));
    const channel = `periscope:cache:${ns}:v1:bus`;
    await r.publish(
      channel,
      JSON.stringify({ v: BUS_VERSION + 1, origin: 'x', seq: 1, op: 'delete', namespace: ns, keys: ['k'] }),
    );
    await r.publish(
      channel,
      JSON.stringify({ v: BUS_VERSION, origin: 'x', seq: 1, op: 'delete', namespace: 'other', keys: ['k'] }),
    );
    await r.publish(channel, 'not json');
    await sleep(50);
    const hits = b.stats().l1.hits;
    expect(await b.get('k')).toBe('v');
    expect(b.stats().l1.hits).toBe(hits + 1);
    await r.publish(
      channel,
      JSON.stringify({ v: BUS_VERSION, origin: 'x', seq: 1, op: 'delete', namespace: ns, keys: ['k'] }),
    );
    await eventually(() => b.stats().l1.entries === 0);
    expect(b.stats().l1.entries).toBe(0);
  });
});

describe('distributed single flight', () => {
  it('with distributedLock, concurrent getOrSet on two instances runs the factory once', async () => {
    const { a, b } = pair({ distributedLock: { pollMs: 5 } });
    let calls = 0;
    const factory = async () => {
      calls++;
      await sleep(80);
      return 'computed';
    };
    const results = await Promise.all([
      ...Array.from({ length: 10 }, () => a.getOrSet('hot', factory)),
      ...Array.from({ length: 10 }, () => b.getOrSet('hot', factory)),
    ]);
    expect(new Set(results)).toEqual(new Set(['computed']));
    expect(calls).toBe(1);
    expect(a.stats().factory.distributedWaits + b.stats().factory.distributedWaits).toBe(1);
  });

  it('without the lock each instance computes (the lock is what makes it once)', async () => {
    const { a, b } = pair();
    let calls = 0;
    const factory = async () => {
      calls++;
      await sleep(40);
      return 'computed';
    };
    await Promise.all([a.getOrSet('hot', factory), b.getOrSet('hot', factory)]);
    expect(calls).toBe(2);
  });

  it('waiters compute themselves after waitTimeoutMs when the holder is slow', async () => {
    const { a, b } = pair({ distributedLock: { waitTimeoutMs: 60, pollMs: 5 } });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let holding = false;
    const slow = a.getOrSet('k', async () => {
      holding = true;
      await gate;
      return 'from-a';
    });
    expect(await eventually(() => holding)).toBe(true); // a holds the lock
    // b waits its 60 ms, then computes itself while a is still held at its gate.
    expect(await b.getOrSet('k', () => 'from-b')).toBe('from-b');
    expect(b.stats().factory.distributedWaits).toBe(1);
    release();
    expect(await slow).toBe('from-a');
  });

  it('the lock is renewed while a long factory runs; another instance cannot release it; the owner does', async () => {
    const { ns, a, b } = pair({
      l2: { url: redisUrl(), timeoutMs: 2000 },
      distributedLock: { ttlMs: 1000, pollMs: 5, waitTimeoutMs: 10_000 },
    });
    const r = new Redis(redisUrl());
    fx.onCleanup(async () => void (await r.quit()));
    const lockKey = `periscope:cache:${ns}:v1:l:k`;
    let release!: () => void;
    const gate = new Promise<void>((res) => (release = res));
    const p = a.getOrSet('k', async () => {
      await gate;
      return 'v';
    });
    expect(await eventually(async () => (await r.get(lockKey)) !== null)).toBe(true);
    const token = await r.get(lockKey);
    await sleep(2500); // 2.5 leases: still held only because it is renewed (every ttlMs / 3)
    expect(await r.get(lockKey)).toBe(token);
    expect(await r.pttl(lockKey)).toBeGreaterThan(0);
    // Another instance's release (the library's own path, with its own token) leaves it alone.
    const stranger = (b as unknown as { l2: RedisTier }).l2;
    expect(await stranger.lockRelease('k', 'not-the-token')).toBe(false);
    expect(await r.get(lockKey)).toBe(token);
    release();
    expect(await p).toBe('v');
    expect(await r.exists(lockKey)).toBe(0); // the owner released it
  });

  it('lockRelease deletes only with the owner’s token; lockRenew extends only the owner’s lease', async () => {
    const { ns, a } = pair({ distributedLock: true });
    const tier = (a as unknown as { l2: RedisTier }).l2;
    const r = new Redis(redisUrl());
    fx.onCleanup(async () => void (await r.quit()));
    const lockKey = `periscope:cache:${ns}:v1:l:job`;
    expect(await tier.lockAcquire('job', 'owner', 5_000)).toBe(true);
    expect(await tier.lockAcquire('job', 'other', 5_000)).toBe(false);
    expect(await tier.lockRenew('job', 'other', 60_000)).toBe(false);
    expect(await r.pttl(lockKey)).toBeLessThanOrEqual(5_000);
    expect(await tier.lockRelease('job', 'other')).toBe(false);
    expect(await r.get(lockKey)).toBe('owner');
    expect(await tier.lockRenew('job', 'owner', 60_000)).toBe(true);
    expect(await r.pttl(lockKey)).toBeGreaterThan(5_000);
    expect(await tier.lockRelease('job', 'owner')).toBe(true);
    expect(await r.exists(lockKey)).toBe(0);
    expect(await tier.lockRelease('job', 'owner')).toBe(false); // already gone
  });
});
