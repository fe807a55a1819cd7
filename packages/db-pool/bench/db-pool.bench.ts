// Benchmarks of @periscope/db-pool against pg.Pool on the real PostgreSQL ($DATABASE_URL, default
// postgres://postgres@127.0.0.1:5432/test), interleaved so machine noise hits both alike.
// Run: npx nx bench db-pool (builds, then tsx bench/db-pool.bench.ts). Exits by itself.
import { createRequire } from 'node:module';
import pg from 'pg';
import { NOOP_LOGGER } from '@periscope/core';
import { compare, machineLine } from '@periscope-tools/bench';
import { TcpFaultProxy } from '@periscope-tools/testing';
import type { DbPool } from '../src';

// The pool as shipped: the tsc output in dist/ (the bench target depends on build). Run from src
// under tsx, esbuild's keepNames wraps every closure created per query in a __name() call, about
// 1 µs a query that the published package does not pay; pg is measured as shipped too.
const load = createRequire(__filename);
const { createPool } = load('../dist/index.js') as typeof import('../src');
const { createMetrics } = load('@periscope/metrics') as typeof import('@periscope/metrics');

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const quiet = NOOP_LOGGER;

function fullFeatured(poolSize: number, connectionString = url): DbPool {
  return createPool({
    connectionString,
    poolSize,
    metrics: createMetrics(),
    applicationName: 'dbpool_bench',
    leakDetectionMs: 60_000,
    queryTimeoutMs: 10_000,
    statementTimeoutMs: 30_000,
    keepaliveMs: 30_000,
    maxLifetimeMs: 30 * 60_000,
    logger: quiet,
  });
}

async function warm(pool: { query(text: string): Promise<unknown> }, n: number): Promise<void> {
  await Promise.all(Array.from({ length: n }, () => pool.query('SELECT pg_sleep(0.02)')));
}

async function throughput(): Promise<void> {
  // statement_timeout is PostgreSQL's own work (it arms a timer per statement): both pools get it,
  // so the comparison measures the pools, not the server setting.
  const theirs = new pg.Pool({
    connectionString: url,
    max: 10,
    application_name: 'dbpool_bench',
    statement_timeout: 30_000,
  });
  const ours = fullFeatured(10);
  await Promise.all([warm(theirs, 10), warm(ours, 10)]);
  const fifty =
    <T>(fn: () => Promise<T>) =>
    () =>
      Promise.all(Array.from({ length: 50 }, fn));
  await compare(
    'SELECT 1, 50 concurrent callers, pool of 10',
    [
      { name: 'pg.Pool.query (statement_timeout set too)', fn: fifty(() => theirs.query('SELECT 1')), opsPerCall: 50 },
      {
        name: '@periscope/db-pool query (metrics, leak detection, query + statement timeouts, keepalive, lifetime)',
        fn: fifty(() => ours.query('SELECT 1')),
        opsPerCall: 50,
      },
      // The same pool again: how far apart two identical cases land on this machine right now.
      {
        name: 'pg.Pool.query again (A/A control: the noise level)',
        fn: fifty(() => theirs.query('SELECT 1')),
        opsPerCall: 50,
      },
    ],
    { rounds: 15, sliceMs: 400 },
  );

  // Acquire + release: the pool with its defaults, and with leak detection, which captures the
  // borrowing stack (about 5 µs) on every withConnection, as HikariCP does.
  const plain = createPool({ connectionString: url, poolSize: 10, applicationName: 'dbpool_bench', logger: quiet });
  await warm(plain, 10);
  const theirsAcquire = async () => {
    const c = await theirs.connect();
    c.release();
  };
  const plainAcquire = () => plain.withConnection(() => undefined);
  const oursAcquire = () => ours.withConnection(() => undefined);
  await compare(
    'acquire + release only, sequential',
    [
      { name: 'pg.Pool connect/release', fn: theirsAcquire },
      { name: '@periscope/db-pool withConnection(noop), defaults', fn: plainAcquire },
      { name: '@periscope/db-pool withConnection(noop), every feature on (leak detection)', fn: oursAcquire },
    ],
    { rounds: 11, sliceMs: 300 },
  );
  await compare(
    'acquire + release only, 50 concurrent, pool of 10',
    [
      { name: 'pg.Pool connect/release', fn: fifty(theirsAcquire), opsPerCall: 50 },
      { name: '@periscope/db-pool withConnection(noop), defaults', fn: fifty(plainAcquire), opsPerCall: 50 },
      {
        name: '@periscope/db-pool withConnection(noop), every feature on (leak detection)',
        fn: fifty(oursAcquire),
        opsPerCall: 50,
      },
    ],
    { rounds: 11, sliceMs: 300 },
  );
  await Promise.all([theirs.end(), ours.close(), plain.close()]);
}

// HikariCP's spike test: max 50, 150 ms connect latency (through a delaying TCP proxy), 50
// simultaneous 2 ms queries. Peak connections open.
async function spike(): Promise<void> {
  const u = new URL(url);
  const proxy = await TcpFaultProxy.start({ target: { host: u.hostname, port: Number(u.port || 5432) } });
  proxy.setConnectDelay(150);
  const via = proxy.urlFor(url);
  const peakOf = async (label: string, run: () => Promise<unknown>, open: () => number) => {
    let peak = 0;
    const sample = setInterval(() => {
      peak = Math.max(peak, open());
    }, 2);
    await run();
    await new Promise((r) => setTimeout(r, 300)); // creations started during the spike may land late
    clearInterval(sample);
    peak = Math.max(peak, open());
    console.log(`| ${label} | ${peak} |`);
  };
  console.log('\n### spike: max 50, 150 ms connect latency, 50 simultaneous 2 ms queries\n');
  console.log('| pool | peak connections |');
  console.log('|---|---:|');
  const theirs = new pg.Pool({ connectionString: via, max: 50, application_name: 'dbpool_bench' });
  await peakOf(
    'pg.Pool (max 50)',
    () => Promise.all(Array.from({ length: 50 }, () => theirs.query('SELECT pg_sleep(0.002)'))),
    () => theirs.totalCount,
  );
  await theirs.end();
  // poolSize 5 kept (HikariCP's test keeps minimumIdle 5), up to 45 more under load.
  const ours = createPool({
    connectionString: via,
    poolSize: 5,
    maxOverflow: 45,
    applicationName: 'dbpool_bench',
    logger: quiet,
  });
  while (ours.stats().total < 5) await new Promise((r) => setTimeout(r, 20));
  await peakOf(
    '@periscope/db-pool (poolSize 5 + maxOverflow 45)',
    () => Promise.all(Array.from({ length: 50 }, () => ours.query('SELECT pg_sleep(0.002)'))),
    () => ours.stats().total,
  );
  await ours.close();
  await proxy.close();
}

async function main(): Promise<void> {
  console.log(`# @periscope/db-pool benchmark\n\n${machineLine()} · PostgreSQL at ${new URL(url).host}`);
  await throughput();
  await spike();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
