import { redisUrl } from '@periscope-tools/testing';
import { Cached, CacheAbortedError, CacheInputError, FactoryTimeoutError, type Cache } from '../src';
import { readdirSync } from 'node:fs';
import { Fixture, eventually, sleep, uniqueNs } from './helpers';

const fx = new Fixture();
afterEach(() => fx.dispose());

const l1Only = (extra: Record<string, unknown> = {}) => fx.cache({ namespace: uniqueNs('gos'), ...extra });

describe('single flight', () => {
  it('1,000 concurrent callers of a cold key run the factory once (with L2 and L3)', async () => {
    const cache = fx.cache({
      namespace: uniqueNs('sf'),
      l2: { url: redisUrl(), timeoutMs: 500 },
      l3: { dir: fx.dir() },
    });
    let calls = 0;
    const results = await Promise.all(
      Array.from({ length: 1000 }, () =>
        cache.getOrSet('cold', async () => {
          calls++;
          await sleep(20);
          return 'value';
        }),
      ),
    );
    expect(calls).toBe(1);
    expect(new Set(results)).toEqual(new Set(['value']));
    expect(cache.stats().factory.deduplicated).toBe(999);
  });

  it('a failing factory rejects every waiter with its error and the next call retries', async () => {
    const cache = l1Only();
    let calls = 0;
    const boom = new Error('upstream down');
    const all = await Promise.allSettled(
      [1, 2, 3].map(() =>
        cache.getOrSet('k', async () => {
          calls++;
          await sleep(5);
          throw boom;
        }),
      ),
    );
    expect(all.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(all.every((r) => r.status === 'rejected' && r.reason === boom)).toBe(true);
    expect(await cache.getOrSet('k', () => 'ok')).toBe('ok');
    expect(calls).toBe(1);
    expect(cache.stats().factory).toMatchObject({ calls: 2, errors: 1 });
  });
});

describe('invalidation while a factory runs', () => {
  it('a delete during the factory wins: callers get the value, the cache does not keep it', async () => {
    const cache = l1Only();
    const p = cache.getOrSet('k', async () => {
      await sleep(30);
      return 'computed-before-delete';
    });
    await sleep(5);
    await cache.delete('k');
    expect(await p).toBe('computed-before-delete');
    expect(await cache.get('k')).toBeUndefined();
  });
});

describe('factory results', () => {
  it('undefined is returned but not cached; null is cached', async () => {
    const cache = l1Only();
    let calls = 0;
    expect(
      await cache.getOrSet('u', () => {
        calls++;
        return undefined;
      }),
    ).toBeUndefined();
    expect(
      await cache.getOrSet('u', () => {
        calls++;
        return undefined;
      }),
    ).toBeUndefined();
    expect(calls).toBe(2);
    expect(await cache.getOrSet('n', () => null)).toBeNull();
    expect(await cache.getOrSet('n', () => 'not called')).toBeNull();
  });

  it('an unserializable factory result is kept in L1 only: the factory runs once, the refusal is counted and logged once', async () => {
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (m: string) => void warnings.push(m) };
    const dir = fx.dir();
    const ns = uniqueNs('unser');
    const cache = fx.cache({ namespace: ns, l2: { url: redisUrl(), timeoutMs: 500 }, l3: { dir }, logger });
    let calls = 0;
    const factory = () => {
      calls++;
      return { fn: () => 1 };
    };
    const first = await cache.getOrSet('f', factory);
    expect(typeof first.fn).toBe('function');
    for (let i = 0; i < 5; i++) expect(await cache.getOrSet('f', factory)).toBe(first);
    expect(calls).toBe(1);
    await cache.getOrSet('g', () => ({ sym: Symbol('s') }));
    expect(cache.stats().unserializable).toBe(2);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/kept in L1 only/);
    // Nothing went below L1: another instance on the same Redis and disk finds nothing.
    const other = fx.cache({ namespace: ns, l2: { url: redisUrl(), timeoutMs: 500 }, l3: { dir } });
    expect(await other.get('f')).toBeUndefined();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('set() of an unserializable value still fails with CacheSerializationError and changes nothing', async () => {
    const cache = l1Only();
    await expect(cache.set('f', { fn: () => 1 })).rejects.toMatchObject({ code: 'ERR_CACHE_SERIALIZATION' });
    expect(await cache.get('f')).toBeUndefined();
  });
});

describe('stale-while-revalidate and fail-safe', () => {
  it('within graceMs serves the stale value at once and refreshes in the background', async () => {
    const cache = l1Only({ graceMs: 5_000 });
    await cache.getOrSet('k', () => 'v1', { ttlMs: 30 });
    await sleep(50);
    let refreshed = false;
    const gate = deferred();
    const got = await cache.getOrSet(
      'k',
      async () => {
        await gate.promise;
        refreshed = true;
        return 'v2';
      },
      { ttlMs: 30_000 },
    );
    expect(got).toBe('v1'); // served while the factory is still held at its gate
    expect(refreshed).toBe(false);
    gate.resolve();
    expect(await eventually(() => refreshed)).toBe(true);
    expect(await eventually(async () => (await cache.get('k')) === 'v2')).toBe(true);
    expect(cache.stats().staleServed.swr).toBe(1);
  });

  it('past graceMs the stale value is gone and callers wait for the factory', async () => {
    const cache = l1Only({ graceMs: 20 });
    await cache.set('k', 'old', { ttlMs: 20 });
    await sleep(60);
    expect(await cache.getOrSet('k', () => 'new')).toBe('new');
    expect(cache.stats().staleServed.swr).toBe(0);
  });

  it('fail-safe: when the factory fails, the stale value is served', async () => {
    const cache = l1Only({ graceMs: 5_000 });
    await cache.set('k', 'stale', { ttlMs: 20 });
    await sleep(40);
    const got = await cache.getOrSet(
      'k',
      () => {
        throw new Error('LLM 503');
      },
      { softTimeoutMs: 1_000 },
    );
    expect(got).toBe('stale');
    expect(cache.stats().staleServed.failSafe).toBe(1);
    expect(cache.stats().factory.errors).toBe(1);
  });

  it('get() never returns a stale value', async () => {
    const cache = l1Only({ graceMs: 5_000 });
    await cache.set('k', 'stale', { ttlMs: 20 });
    await sleep(40);
    expect(await cache.get('k')).toBeUndefined();
  });
});

describe('factory timeouts and signals', () => {
  it('soft timeout: returns stale after softTimeoutMs while the factory goes on and fills the cache', async () => {
    const cache = l1Only({ graceMs: 5_000 });
    await cache.set('k', 'stale', { ttlMs: 20 });
    await sleep(40);
    const t0 = Date.now();
    const gate = deferred();
    const got = await cache.getOrSet(
      'k',
      async () => {
        await gate.promise;
        return 'fresh';
      },
      { softTimeoutMs: 30 },
    );
    const waited = Date.now() - t0;
    expect(got).toBe('stale'); // the factory is still held: only the soft timeout can have answered
    expect(waited).toBeGreaterThanOrEqual(25);
    expect(cache.stats().factory.timeouts.soft).toBe(1);
    gate.resolve();
    expect(await eventually(async () => (await cache.get('k')) === 'fresh')).toBe(true);
  });

  it('soft timeout: a factory that finishes in time wins over stale', async () => {
    const cache = l1Only({ graceMs: 5_000 });
    await cache.set('k', 'stale', { ttlMs: 20 });
    await sleep(40);
    expect(
      await cache.getOrSet(
        'k',
        async () => {
          await sleep(5);
          return 'fresh';
        },
        { softTimeoutMs: 200 },
      ),
    ).toBe('fresh');
  });

  it('hard timeout: aborts the factory through its signal and fails with FactoryTimeoutError', async () => {
    const cache = l1Only();
    let sawAbort = false;
    const err = await cache
      .getOrSet(
        'k',
        // Never settles on its own: only the hard timeout can end this call.
        (signal) =>
          new Promise(() => {
            signal.addEventListener('abort', () => {
              sawAbort = true;
            });
          }),
        { hardTimeoutMs: 40 },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FactoryTimeoutError);
    expect(err).toMatchObject({ code: 'ERR_CACHE_FACTORY_TIMEOUT', timeoutMs: 40 });
    expect(sawAbort).toBe(true);
    expect(await cache.get('k')).toBeUndefined();
    expect(cache.stats().factory.timeouts.hard).toBe(1);
  });

  it("the caller's signal rejects that caller and aborts the factory when nobody else waits", async () => {
    const cache = l1Only();
    const ac = new AbortController();
    let factorySignal: AbortSignal | undefined;
    const p = cache.getOrSet(
      'k',
      (signal) => {
        factorySignal = signal;
        return new Promise((r) => setTimeout(() => r('x'), 300));
      },
      { signal: ac.signal },
    );
    await sleep(10);
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(CacheAbortedError);
    expect(factorySignal!.aborted).toBe(true);
  });

  it("one caller's abort does not cancel the factory for the others", async () => {
    const cache = l1Only();
    const ac = new AbortController();
    const factory = () => new Promise<string>((r) => setTimeout(() => r('x'), 40));
    const aborted = cache.getOrSet('k', factory, { signal: ac.signal });
    const patient = cache.getOrSet('k', factory);
    ac.abort();
    await expect(aborted).rejects.toBeInstanceOf(CacheAbortedError);
    expect(await patient).toBe('x');
  });

  it('an already-aborted signal fails at once', async () => {
    const cache = l1Only();
    await expect(cache.getOrSet('k', () => 1, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(
      CacheAbortedError,
    );
  });
});

describe('wrap and @Cached', () => {
  it('wrap keys by canonical arguments: property order does not matter, values do', async () => {
    const cache = l1Only();
    let calls = 0;
    const search = cache.wrap(async function search(q: { text: string; limit: number }) {
      calls++;
      return `${q.text}:${q.limit}`;
    });
    expect(await search({ text: 'a', limit: 2 })).toBe('a:2');
    expect(await search({ limit: 2, text: 'a' } as { text: string; limit: number })).toBe('a:2');
    expect(calls).toBe(1);
    expect(await search({ text: 'a', limit: 3 })).toBe('a:3');
    expect(calls).toBe(2);
  });

  it('wrap refuses an anonymous function without a key prefix', () => {
    const cache = l1Only();
    expect(() => cache.wrap((x: number) => x)).toThrow(CacheInputError);
    expect(() => cache.wrap((x: number) => x, { key: 'double' })).not.toThrow();
  });

  it('@Cached memoizes a method per arguments', async () => {
    const cache = l1Only();
    class Embedder {
      calls = 0;
      @Cached<Embedder, [string], Float32Array>({ cache: () => cache, ttlMs: 60_000 })
      async embed(text: string): Promise<Float32Array> {
        this.calls++;
        return new Float32Array([text.length, 1]);
      }
    }
    const e = new Embedder();
    const a = await e.embed('hello');
    const b = await e.embed('hello');
    await e.embed('other');
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(e.calls).toBe(2);
  });
});

describe('lifecycle', () => {
  it('close() is idempotent and later calls fail with a typed error', async () => {
    const cache: Cache = l1Only();
    await Promise.all([cache.close(), cache.close()]);
    await cache.close();
    await expect(cache.get('k')).rejects.toMatchObject({ code: 'ERR_CACHE_CLOSED' });
  });
});

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
