// @periscope/cache against bentocache (the strongest Node multi-tier cache), raw ioredis and
// lru-cache, interleaved in one process against a real Redis on 127.0.0.1 (REDIS_URL).
// Run: npx nx bench cache (builds dist/ first; or, in packages/cache after a build: npx tsx bench/cache.bench.ts)
import { createRequire } from 'node:module';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { compare, machineLine, type BenchResult } from '@periscope-tools/bench';
import type { Cache, L1Policy } from '../src';

// The cache as shipped: the tsc output in dist/ (the bench target depends on build), not the
// sources under tsx, whose esbuild transform adds work the published package does not do.
const load = createRequire(__filename);
const { createCache } = load('../dist/index.js') as typeof import('../src');

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const SLICE = Number(process.env.BENCH_SLICE_MS ?? 300);
const ns = `bench-${process.pid}`;
// BENCH_ONLY=l1,l2,sf,zipf runs a subset.
const only = new Set((process.env.BENCH_ONLY ?? 'l1,l2,sf,zipf').split(','));
const value = { role: 'assistant', content: 'The answer is 4. '.repeat(8), usage: { input: 12, output: 40 } };

function ratioLine(results: BenchResult[], a: string, b: string): void {
  const ra = results.find((r) => r.name === a)!;
  const rb = results.find((r) => r.name === b)!;
  console.log(`\n${a} / ${b}: ${(ra.medianOpsPerSec / rb.medianOpsPerSec).toFixed(2)}×`);
}

/** Zipf(s) sampler over n keys (inverse CDF on a precomputed table). */
function zipf(n: number, s: number, seed = 42): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / Math.pow(i + 1, s);
  for (let i = 0; i < n; i++) cdf[i] /= sum;
  let x = seed;
  const rand = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
  return () => {
    const u = rand();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

async function main(): Promise<void> {
  console.log(
    `# @periscope/cache benchmark\n\n${machineLine()} · Redis ${REDIS_URL.replace(/\/\/.*@/, '//***@')} · ${ROUNDS} rounds × ${SLICE} ms, medians`,
  );
  const { BentoCache, bentostore } = await import('bentocache');
  const { memoryDriver } = await import('bentocache/drivers/memory');
  const { redisDriver } = await import('bentocache/drivers/redis');

  const closers: (() => Promise<unknown>)[] = [];
  const own = (c: Cache) => (closers.push(() => c.close()), c);

  // ---- L1 hit via get ------------------------------------------------------------------
  if (only.has('l1')) {
    const bento = new BentoCache({
      default: 'm',
      stores: { m: bentostore().useL1Layer(memoryDriver({ maxItems: 10_000 })) },
    });
    const lru = new LRUCache<string, object>({ max: 10_000 });
    const cache = own(createCache({ namespace: `${ns}-l1`, l1: { maxEntries: 10_000 } }));
    await bento.set({ key: 'hot', value });
    lru.set('hot', value);
    await cache.set('hot', value);
    await compare(
      'L1 hit: get() of a cached key',
      [
        { name: 'bentocache (memory L1)', fn: () => bento.get({ key: 'hot' }) },
        { name: 'lru-cache get (sync, no tiers)', fn: () => lru.get('hot') },
        { name: '@periscope/cache get', fn: () => cache.get('hot') },
      ],
      { rounds: ROUNDS, sliceMs: SLICE },
    );
    closers.push(() => bento.disconnectAll());
  }

  // ---- L2 hit ----------------------------------------------------------------------------
  if (only.has('l2')) {
    const keys = Array.from({ length: 256 }, (_, i) => `k${i}`);
    const raw = new Redis(REDIS_URL);
    const bentoRedis = new Redis(REDIS_URL);
    const bento = new BentoCache({
      default: 'r',
      stores: { r: bentostore().useL2Layer(redisDriver({ connection: bentoRedis })) },
    });
    // L1 holds one entry, so every read below misses L1, hits L2 and is promoted (the full path).
    const cache = own(
      createCache({ namespace: `${ns}-l2`, l1: { maxEntries: 1 }, l2: { url: REDIS_URL, bus: false } }),
    );
    const rawPrefix = `${ns}:raw:`;
    for (const k of keys) {
      await bento.set({ key: k, value, ttl: '10m' });
      await raw.set(rawPrefix + k, JSON.stringify(value), 'PX', 600_000);
      await cache.set(k, value, { ttlMs: 600_000 });
    }
    let i = 0;
    const next = () => keys[(i = (i + 1) & 255)];
    const seq = await compare(
      'L2 hit, sequential (L1 miss → Redis GET → decode → promote)',
      [
        { name: 'bentocache (Redis L2 only)', fn: () => bento.get({ key: next() }) },
        { name: 'raw ioredis GET', fn: () => raw.get(rawPrefix + next()) },
        { name: '@periscope/cache get', fn: () => cache.get(next()) },
      ],
      { rounds: ROUNDS, sliceMs: SLICE },
    );
    ratioLine(seq, '@periscope/cache get', 'raw ioredis GET');
    const batch = (fn: (k: string) => Promise<unknown>) => () =>
      Promise.all(Array.from({ length: 100 }, () => fn(next())));
    const par = await compare(
      'L2 hit, 100 in flight',
      [
        { name: 'bentocache (Redis L2 only)', fn: batch((k) => bento.get({ key: k })), opsPerCall: 100 },
        { name: 'raw ioredis GET', fn: batch((k) => raw.get(rawPrefix + k)), opsPerCall: 100 },
        { name: '@periscope/cache get', fn: batch((k) => cache.get(k)), opsPerCall: 100 },
      ],
      { rounds: ROUNDS, sliceMs: SLICE },
    );
    ratioLine(par, '@periscope/cache get', 'raw ioredis GET');
    await raw.del(...keys.map((k) => rawPrefix + k));
    closers.push(async () => {
      await cache.clear();
      await bento.clear();
      await bento.disconnectAll();
      await raw.quit();
      bentoRedis.disconnect();
    });
  }

  // ---- getOrSet stampede -----------------------------------------------------------------
  if (only.has('sf')) {
    const bentoRedis = new Redis(REDIS_URL);
    const bento = new BentoCache({
      default: 'b',
      prefix: `${ns}-bento`,
      stores: {
        b: bentostore()
          .useL1Layer(memoryDriver({ maxItems: 100_000 }))
          .useL2Layer(redisDriver({ connection: bentoRedis })),
      },
    });
    const cache = own(
      createCache({ namespace: `${ns}-sf`, l1: { maxEntries: 100_000 }, l2: { url: REDIS_URL, bus: false } }),
    );
    const calls = { bento: 0, periscope: 0, runs: 0, bentoRuns: 0 };
    let n = 0;
    const stampede = (run: (key: string) => Promise<unknown>, who: 'bento' | 'periscope') => async () => {
      const key = `cold-${who}-${n++}`;
      if (who === 'bento') calls.bentoRuns++;
      else calls.runs++;
      await Promise.all(Array.from({ length: 1000 }, () => run(key)));
    };
    await compare(
      'getOrSet: 1,000 concurrent callers on a cold key (L1 + L2)',
      [
        {
          name: 'bentocache getOrSet',
          fn: stampede(
            (key) =>
              bento.getOrSet({
                key,
                ttl: '1m',
                factory: async () => {
                  calls.bento++;
                  return value;
                },
              }),
            'bento',
          ),
          opsPerCall: 1000,
        },
        {
          name: '@periscope/cache getOrSet',
          fn: stampede(
            (key) =>
              cache.getOrSet(
                key,
                async () => {
                  calls.periscope++;
                  return value;
                },
                { ttlMs: 60_000 },
              ),
            'periscope',
          ),
          opsPerCall: 1000,
        },
      ],
      { rounds: ROUNDS, sliceMs: SLICE },
    );
    console.log(
      `\nfactory calls per cold key: bentocache ${(calls.bento / calls.bentoRuns).toFixed(3)}, @periscope/cache ${(calls.periscope / calls.runs).toFixed(3)} (${calls.runs} keys)`,
    );
    closers.push(async () => {
      await cache.clear();
      await bento.clear();
      await bento.disconnectAll();
      bentoRedis.disconnect();
    });
  }

  // ---- hit ratio per L1 policy -----------------------------------------------------------
  if (only.has('zipf')) {
    const KEYS = 10_000;
    const CAPACITY = 1_000;
    const REQUESTS = 200_000;
    console.log(
      `\n### L1 hit ratio on a Zipfian workload (s = 0.9, ${KEYS} keys, capacity ${CAPACITY}, ${REQUESTS} requests)\n`,
    );
    console.log('| policy | hit ratio |');
    console.log('|---|---:|');
    const lru = new LRUCache<number, number>({ max: CAPACITY });
    let lruHits = 0;
    const sampleRef = zipf(KEYS, 0.9);
    for (let r = 0; r < REQUESTS; r++) {
      const k = sampleRef();
      if (lru.get(k) !== undefined) lruHits++;
      else lru.set(k, k);
    }
    console.log(`| lru-cache (reference) | ${(lruHits / REQUESTS).toFixed(3)} |`);
    for (const policy of ['lru', 'lfu', 'fifo', 'ttl'] as L1Policy[]) {
      const c = own(createCache({ namespace: `${ns}-zipf-${policy}`, l1: { policy, maxEntries: CAPACITY } }));
      const sample = zipf(KEYS, 0.9);
      for (let r = 0; r < REQUESTS; r++) {
        const k = `z${sample()}`;
        // TTL policy: a TTL that grows with the key rank, so "closest to expiry" means something.
        await c.getOrSet(k, () => r, { ttlMs: 600_000 + (r % 1000) });
      }
      console.log(`| ${policy} | ${c.stats().l1.hitRatio.toFixed(3)} |`);
    }
  }

  for (const close of closers.reverse()) await close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
