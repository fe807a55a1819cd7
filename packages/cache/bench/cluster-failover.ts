// A Redis Cluster master killed under load (issue 17's fault measurement): 8 concurrent readers
// loop over 300 keys spread across the three masters through the L2 tier (L1 off, so every read
// goes to Redis); one master is SIGKILLed. Prints p50/p99 read latency before, during the failover
// and after, the hit ratio on the healthy masters' keys and on the dead master's keys, and how long
// until the dead master's keys are served again (its replica promoted).
//   npx tsx packages/cache/bench/cluster-failover.ts   (needs redis-server and redis-cli)
import { startRedisCluster } from '@periscope-tools/testing';
import { createCache } from '../src';
import { keySlot } from '../src/slot';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN;
};

async function main(): Promise<void> {
  const cluster = await startRedisCluster(1500);
  const ns = `failover${Date.now()}`;
  const cache = createCache({
    namespace: ns,
    l1: { maxEntries: 1 },
    l2: { url: cluster.url, timeoutMs: 1000, bus: false, breaker: { failureThreshold: 2, resetMs: 1000 } },
    defaultTtlMs: 600_000,
  });
  const keys = Array.from({ length: 300 }, (_, i) => `k${i}`);
  await cache.setMany(keys.map((key) => ({ key, value: key })));
  await new Promise((r) => setTimeout(r, 500)); // replicas catch up
  const slot = (k: string) => keySlot(`periscope:cache:${ns}:v1:k:${k}`);
  const victim = cluster.masterOf(slot('k0'));
  const onVictim = new Set(keys.filter((k) => cluster.masterOf(slot(k)) === victim));
  type Sample = { t: number; ms: number; key: string; hit: boolean };
  const samples: Sample[] = [];
  let stop = false;
  const t0 = performance.now();
  const reader = async (offset: number) => {
    for (let i = offset; !stop; i += 8) {
      const key = keys[i % keys.length];
      const start = performance.now();
      const v = await cache.get(key).catch(() => undefined);
      samples.push({ t: start - t0, ms: performance.now() - start, key, hit: v === key });
    }
  };
  const readers = Array.from({ length: 8 }, (_, i) => reader(i));
  await new Promise((r) => setTimeout(r, 3000));
  const killedAt = performance.now() - t0;
  cluster.kill(victim);
  // Until the dead master's keys are hits again (the replica promoted), then 3 s more.
  let recoveredAt = NaN;
  for (const deadline = performance.now() + 30_000; performance.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 100));
    const since = Math.max(killedAt, performance.now() - t0 - 300);
    const recent = samples.filter((s) => s.t > since && onVictim.has(s.key));
    if (recent.length > 5 && recent.every((s) => s.hit)) {
      recoveredAt = performance.now() - t0;
      break;
    }
  }
  await new Promise((r) => setTimeout(r, 3000));
  stop = true;
  await Promise.all(readers);
  const phase = (from: number, to: number) => samples.filter((s) => s.t >= from && s.t < to);
  const line = (name: string, xs: Sample[]) => {
    const healthy = xs.filter((s) => !onVictim.has(s.key));
    const dead = xs.filter((s) => onVictim.has(s.key));
    const ratio = (ys: Sample[]) =>
      ys.length ? ((ys.filter((s) => s.hit).length / ys.length) * 100).toFixed(1) + ' %' : '-';
    console.log(
      `| ${name} | ${xs.length} | ${pct(
        xs.map((s) => s.ms),
        0.5,
      ).toFixed(2)} | ${pct(
        xs.map((s) => s.ms),
        0.99,
      ).toFixed(2)} | ${ratio(healthy)} | ${ratio(dead)} |`,
    );
  };
  console.log(
    `master :${victim} killed at ${(killedAt / 1000).toFixed(1)} s; its keys served again after ${((recoveredAt - killedAt) / 1000).toFixed(2)} s`,
  );
  console.log('| phase | reads | p50 ms | p99 ms | hits, healthy masters | hits, dead master |');
  console.log('|---|---:|---:|---:|---:|---:|');
  line('before', phase(0, killedAt));
  line('failover', phase(killedAt, Number.isNaN(recoveredAt) ? Infinity : recoveredAt));
  line('after', phase(Number.isNaN(recoveredAt) ? Infinity : recoveredAt, Infinity));
  await cache.close();
  await cluster.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
