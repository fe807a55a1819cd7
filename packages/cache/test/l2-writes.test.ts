// L2 writes during an outage: counted and exposed; with l2.retryWrites, written when L2 returns
// (newest per key, never past their TTL, never after a delete of the same key).
import { Redis } from 'ioredis';
import { redisUrl, TcpFaultProxy } from '@periscope-tools/testing';
import { parseRedisTarget } from '../src/redis-url';
import { Fixture, eventually, uniqueNs } from './helpers';

const fx = new Fixture();
let proxy: TcpFaultProxy;
beforeEach(async () => {
  const u = new URL(redisUrl());
  proxy = await TcpFaultProxy.start({ target: { host: u.hostname, port: Number(u.port || 6379) } });
});
afterEach(async () => {
  await fx.dispose();
  await proxy.close();
});

function viaProxy(retryWrites: number) {
  const ns = uniqueNs('w');
  const cache = fx.cache({
    namespace: ns,
    l2: {
      url: proxy.urlFor(redisUrl()),
      timeoutMs: 2000, // generous for the warm-up write; writes on the cut connection fail at once
      breaker: { failureThreshold: 100, resetMs: 50 },
      reconnectMaxDelayMs: 50,
      retryWrites,
      bus: false,
    },
  });
  return { ns, cache };
}

describe('failed L2 writes', () => {
  it('are counted and exposed in stats (without retryWrites they are gone)', async () => {
    const { ns, cache } = viaProxy(0);
    await cache.set('warm', 0);
    proxy.refuse();
    proxy.cutAll();
    await eventually(() => !cache.stats().l2!.connected);
    await cache.set('a', 1); // resolves: L1 has it
    await cache.set('b', 2);
    expect(cache.stats().l2).toMatchObject({ writeFailures: 2, writesPending: 0 });
    proxy.restore();
    expect(await eventually(() => cache.stats().l2!.connected, 5000)).toBe(true);
    const r = new Redis(redisUrl());
    fx.onCleanup(async () => void (await r.quit()));
    expect(await r.exists(`periscope:cache:${ns}:v1:k:a`)).toBe(0);
  });

  it('with retryWrites, are written when L2 returns: newest value per key, deleted keys left deleted', async () => {
    const { ns, cache } = viaProxy(100);
    await cache.set('warm', 0);
    proxy.refuse();
    proxy.cutAll();
    await eventually(() => !cache.stats().l2!.connected);
    await cache.set('a', 'old');
    await cache.set('a', 'new');
    await cache.set('b', 'gone');
    await cache.delete('b');
    await cache.set('short', 'x', { ttlMs: 1 });
    expect(cache.stats().l2).toMatchObject({ writeFailures: 4, writesPending: 2 }); // a (newest) and short; b was deleted
    await new Promise((r) => setTimeout(r, 10)); // 'short' expires while L2 is down
    proxy.restore();
    expect(await eventually(() => cache.stats().l2!.writesPending === 0, 5000)).toBe(true);
    expect(cache.stats().l2!.writesRetried).toBe(1);
    const reader = fx.cache({ namespace: ns, l2: { url: redisUrl(), timeoutMs: 500, bus: false } });
    expect(await reader.getMany(['a', 'b', 'short'])).toEqual(['new', undefined, undefined]);
  });

  it('the retry queue is bounded: past retryWrites the oldest pending write is dropped', async () => {
    const { ns, cache } = viaProxy(2);
    await cache.set('warm', 0);
    proxy.refuse();
    proxy.cutAll();
    await eventually(() => !cache.stats().l2!.connected);
    for (const k of ['k1', 'k2', 'k3']) await cache.set(k, k);
    expect(cache.stats().l2!.writesPending).toBe(2);
    proxy.restore();
    expect(await eventually(() => cache.stats().l2!.writesRetried === 2, 5000)).toBe(true);
    const reader = fx.cache({ namespace: ns, l2: { url: redisUrl(), timeoutMs: 500, bus: false } });
    expect(await reader.getMany(['k1', 'k2', 'k3'])).toEqual([undefined, 'k2', 'k3']);
  });
});

describe('l2.url forms', () => {
  const fail = (option: string, accepted: string, got: unknown): never => {
    throw new Error(`${option}|${accepted}|${String(got)}`);
  };

  it.each([
    ['redis://h:1', { kind: 'single' }],
    ['rediss://:pw@h:1/2', { kind: 'single' }],
    [
      'redis+cluster://h1:1,h2:2',
      {
        kind: 'cluster',
        nodes: [
          { host: 'h1', port: 1 },
          { host: 'h2', port: 2 },
        ],
        tls: false,
      },
    ],
    ['rediss+cluster://u:p%40ss@h1,[::1]:7000', { kind: 'cluster', username: 'u', password: 'p@ss', tls: true }],
    [
      'redis+sentinel://:pw@s1:26379,s2/mymaster/3?sentinelPassword=sp',
      {
        kind: 'sentinel',
        name: 'mymaster',
        db: 3,
        password: 'pw',
        sentinelPassword: 'sp',
        sentinels: [
          { host: 's1', port: 26379 },
          { host: 's2', port: 26379 },
        ],
      },
    ],
  ])('%s', (url, expected) => {
    expect(parseRedisTarget(url, 'l2.url', { fail })).toMatchObject(expected);
  });

  it.each([
    'redis+cluster://',
    'redis+cluster://h:99999',
    'redis+sentinel://h:1',
    'redis+sentinel://h:1/a/b',
    'http://h',
  ])('%s fails naming l2.url', (url) => {
    expect(() => parseRedisTarget(url, 'l2.url', { fail })).toThrow(/^l2\.url\|/);
  });
});
