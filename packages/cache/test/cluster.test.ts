// Against a real 6-node Redis Cluster started by the test: the redis+cluster:// form, sharded
// pub/sub for the bus (no L1 wipes from reordering), a single-node URL pointing at a cluster
// node detected, and one dead master not cutting L2 for the keys of the healthy ones.
import fc from 'fast-check';
import { Redis } from 'ioredis';
import type { Logger } from '@periscope/core';
import { keySlot } from '../src/slot';
import { startRedisCluster, type RedisClusterHandle } from '@periscope-tools/testing';
import { Fixture, eventually, sleep, uniqueNs } from './helpers';

jest.setTimeout(60_000);

const fx = new Fixture();
let cluster: RedisClusterHandle;

beforeAll(async () => {
  cluster = await startRedisCluster();
}, 90_000);
afterEach(() => fx.dispose());
afterAll(() => cluster?.close());

const l2 = (extra: Record<string, unknown> = {}) => ({ url: cluster.url, timeoutMs: 1000, ...extra });

it('keySlot agrees with CLUSTER KEYSLOT, hash tags included', async () => {
  const r = new Redis({ port: cluster.nodes[0].port, host: '127.0.0.1' });
  fx.onCleanup(async () => void (await r.quit()));
  const keys = fc.sample(
    fc.oneof(
      fc.string(),
      fc.string().map((s) => `{${s}}x`),
      fc.string().map((s) => `a{b}${s}{c}`),
    ),
    300,
  );
  for (const k of [...keys, '{}', '{}x', 'foo{}{bar}', 'periscope:cache:ns:v1:k:hello']) {
    expect(keySlot(k)).toBe(Number(await r.call('CLUSTER', 'KEYSLOT', k)));
  }
});

it('redis+cluster:// seeds: values written on one instance are read by another from L2', async () => {
  const ns = uniqueNs('cl');
  const a = fx.cache({ namespace: ns, l2: l2() });
  const b = fx.cache({ namespace: ns, l2: l2() });
  const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
  await a.setMany(keys.map((key, i) => ({ key, value: i, tags: [`t${i % 3}`] })));
  expect(await b.getMany(keys)).toEqual(keys.map((_, i) => i));
  expect(b.stats().l2!.hits).toBe(100);
  await a.deleteByTag('t0');
  const c = fx.cache({ namespace: ns, l2: l2({ bus: false }) });
  expect((await c.getMany(keys)).filter((v) => v !== undefined)).toHaveLength(66);
  await a.clear();
  const d = fx.cache({ namespace: ns, l2: l2({ bus: false }) });
  expect((await d.getMany(keys)).every((v) => v === undefined)).toBe(true);
  expect(await a.l2Health()).toMatchObject({ status: 'pass' });
});

it('the bus uses sharded pub/sub: 300 sequential sets reach the peer in order, no L1 purge, hot key kept', async () => {
  const ns = uniqueNs('clbus');
  const a = fx.cache({ namespace: ns, l2: l2(), defaultTtlMs: 60_000 });
  const b = fx.cache({ namespace: ns, l2: l2(), defaultTtlMs: 60_000 });
  // Both subscribed: a probe key round-trips through the bus.
  expect(
    await eventually(
      async () => {
        await a.set('probe', Date.now());
        return b.stats().bus!.received > 0;
      },
      10_000,
      100,
    ),
  ).toBe(true);
  await a.set('hot', 'H');
  expect(await eventually(async () => (await b.get('hot')) === 'H', 5000)).toBe(true);
  const received = b.stats().bus!.received;
  for (let i = 0; i < 300; i++) await a.set(`seq-${i}`, i);
  expect(await eventually(() => b.stats().bus!.received >= received + 300, 10_000)).toBe(true);
  expect(b.stats().bus!.purges).toBe(0);
  const hits = b.stats().l1.hits;
  expect(await b.get('hot')).toBe('H');
  expect(b.stats().l1.hits).toBe(hits + 1);
});

it('a single-node URL pointing at a cluster node is detected: ConfigError in the log, health fails, stats say so', async () => {
  const errors: string[] = [];
  const logger: Logger = { debug() {}, info() {}, warn() {}, error: (m: string) => void errors.push(m) };
  const cache = fx.cache({
    namespace: uniqueNs('moved'),
    l2: { url: `redis://127.0.0.1:${cluster.nodes[0].port}`, timeoutMs: 1000, bus: false },
    logger,
  });
  for (let i = 0; i < 30; i++) await cache.set(`k${i}`, i); // about two thirds live on other masters
  expect(cache.stats().l2!.misconfigured).toBe(true);
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(/invalid l2\.url: expected redis\+cluster:\/\//);
  const health = await cache.l2Health();
  expect(health.status).toBe('fail');
  expect(health.output).toContain('MOVED');
  expect(health.output).toContain(`127.0.0.1:${cluster.nodes[0].port}`);
});

it('one dead master: keys on the healthy masters keep being served; its keys return after the failover', async () => {
  const ns = uniqueNs('kill');
  const writer = fx.cache({ namespace: ns, l2: l2(), defaultTtlMs: 120_000 });
  const keys = Array.from({ length: 90 }, (_, i) => `k${i}`);
  await writer.setMany(keys.map((key) => ({ key, value: key })));
  await sleep(300); // let the replicas catch up (asynchronous replication)
  const slotOf = (k: string) => keySlot(`periscope:cache:${ns}:v1:k:${k}`);
  const victim = cluster.masterOf(slotOf('k0'));
  const onVictim = new Set(keys.filter((k) => cluster.masterOf(slotOf(k)) === victim));
  expect(onVictim.size).toBeGreaterThan(0);
  expect(onVictim.size).toBeLessThan(keys.length);
  const reader = fx.cache({
    namespace: ns,
    l1: { maxEntries: 1 },
    l2: l2({ timeoutMs: 1000, breaker: { failureThreshold: 2, resetMs: 1000 }, bus: false }),
  });
  expect(await reader.get('k1')).toBe('k1'); // connected, slots known
  cluster.kill(victim);
  // Right after the kill, through several rounds: every key of a healthy master is a hit.
  const missed: string[] = [];
  for (let round = 0; round < 3; round++) {
    for (const k of keys) {
      const v = await reader.get(k);
      if (!onVictim.has(k) && v !== k) missed.push(`${round}:${k}`);
    }
  }
  expect(missed).toEqual([]);
  expect(reader.stats().l2!.breaker).not.toBe('closed'); // the dead master's breaker opened
  // After the failover, the promoted replica serves the victim's keys again.
  const back = await eventually(
    async () => {
      const values = await Promise.all([...onVictim].map((k) => reader.get(k)));
      return values.every((v, i) => v === [...onVictim][i]);
    },
    30_000,
    200,
  );
  expect(back).toBe(true);
});
