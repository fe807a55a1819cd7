// A seeded, trace-driven simulation of the pool's scheduler (the very Scheduler class of dist/,
// driven in virtual time) on 8 × 80 GB devices at 60 / 80 / 95 % offered load: mean / p95 / max
// wait, utilization and makespan per strategy, against plain FIFO first-fit without backfill.
// Then the time of one scheduling decision with 1,000 requests queued.
// Run: npx nx bench gpu-pool (builds, then tsx bench/gpu-pool.bench.ts). Exits by itself.
import { createRequire } from 'node:module';
import { machineLine } from '@periscope-tools/bench';
import type { Demand, Scheduler as SchedulerT, Slot, Strategy } from '../src/scheduler';
import type { GpuDevice } from '../src/types';

const load = createRequire(__filename);
const { Scheduler } = load('../dist/scheduler.js') as { Scheduler: typeof SchedulerT };
const { parseSimulatedSpec } = load('../dist/index.js') as typeof import('../src');

const SEED = Number(process.env.SEED ?? 42);
const JOBS = Number(process.env.JOBS ?? 4000);
const DEVICES = parseSimulatedSpec('sim:8x80GB') as GpuDevice[];
const CAPACITY_MB = DEVICES.reduce((s, d) => s + d.memoryTotalMb, 0);

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Job {
  arrival: number;
  duration: number;
  demand: Demand;
}

/** Inference-and-training mix: many small jobs, some whole-GPU and multi-GPU ones; exponential durations. */
function trace(loadFactor: number, seed: number): Job[] {
  const rnd = mulberry32(seed);
  const uniform = (lo: number, hi: number) => lo + (hi - lo) * rnd();
  const exp = (mean: number) => -mean * Math.log(1 - rnd());
  const shapes: Omit<Job, 'arrival'>[] = [];
  for (let i = 0; i < JOBS; i++) {
    const r = rnd();
    let memGb: number;
    let count = 1;
    let mean: number;
    if (r < 0.55) [memGb, mean] = [uniform(2, 16), 30];
    else if (r < 0.85) [memGb, mean] = [uniform(16, 40), 90];
    else if (r < 0.95) [memGb, mean] = [uniform(60, 80), 180];
    else [memGb, count, mean] = [uniform(40, 80), 2 + Math.floor(rnd() * 3), 240];
    shapes.push({ duration: exp(mean), demand: { needMb: Math.round(memGb * 1024), count, exclusive: false } });
  }
  // Arrival rate from the offered load: memory-seconds asked per second / capacity.
  const work = shapes.reduce((s, j) => s + j.demand.needMb * j.demand.count * j.duration, 0) / JOBS;
  const rate = (loadFactor * CAPACITY_MB) / work;
  let t = 0;
  return shapes.map((s) => ({ ...s, arrival: (t += exp(1 / rate)) }));
}

interface Result {
  mean: number;
  p95: number;
  max: number;
  utilization: number;
  makespan: number;
}

function simulate(jobs: readonly Job[], strategy: Strategy, backfill: boolean): Result {
  const s = new Scheduler<Job>(DEVICES, { strategy, backfill, backfillDepth: 256 });
  const running: { end: number; slots: Slot[]; job: Job }[] = [];
  const waits: number[] = [];
  let next = 0;
  let now = 0;
  let lastEnd = 0;
  while (next < jobs.length || s.queue.length > 0 || running.length > 0) {
    const nextArrival = next < jobs.length ? jobs[next].arrival : Infinity;
    let soonest = -1;
    for (let i = 0; i < running.length; i++) if (soonest < 0 || running[i].end < running[soonest].end) soonest = i;
    const nextEnd = soonest < 0 ? Infinity : running[soonest].end;
    if (nextEnd <= nextArrival) {
      now = nextEnd;
      const r = running.splice(soonest, 1)[0];
      s.unreserve(r.slots, r.job.demand);
      lastEnd = Math.max(lastEnd, now);
    } else {
      now = nextArrival;
      const job = jobs[next++];
      s.enqueue(job.demand, job.arrival, job);
    }
    for (const g of s.dispatch()) {
      waits.push(now - g.entry.payload.arrival);
      running.push({ end: now + g.entry.payload.duration, slots: g.slots, job: g.entry.payload });
    }
  }
  waits.sort((a, b) => a - b);
  const makespan = lastEnd - jobs[0].arrival;
  const work = jobs.reduce((sum, j) => sum + j.demand.needMb * j.demand.count * j.duration, 0);
  return {
    mean: waits.reduce((a, b) => a + b, 0) / waits.length,
    p95: waits[Math.floor(waits.length * 0.95)],
    max: waits[waits.length - 1],
    utilization: work / (CAPACITY_MB * makespan),
    makespan,
  };
}

const POLICIES: { name: string; strategy: Strategy; backfill: boolean }[] = [
  { name: 'FIFO first-fit (baseline)', strategy: 'first-fit', backfill: false },
  { name: 'first-fit + backfill', strategy: 'first-fit', backfill: true },
  { name: 'best-fit + backfill', strategy: 'best-fit', backfill: true },
  { name: 'spread + backfill', strategy: 'spread', backfill: true },
  { name: 'round-robin + backfill', strategy: 'round-robin', backfill: true },
];

function pad(v: string | number, n: number): string {
  return String(v).padStart(n);
}

function simulationTable(): void {
  console.log(`\nSimulation: 8 × 80 GB, ${JOBS} jobs, seed ${SEED} (seconds of virtual time)`);
  console.log(
    `${'load'.padEnd(5)} ${'policy'.padEnd(26)} ${pad('mean wait', 10)} ${pad('p95 wait', 10)} ${pad('max wait', 10)} ${pad('util', 6)} ${pad('makespan', 10)} ${pad('mean vs FIFO', 13)}`,
  );
  for (const loadFactor of [0.6, 0.8, 0.95]) {
    const jobs = trace(loadFactor, SEED);
    let base: Result | undefined;
    for (const p of POLICIES) {
      const r = simulate(jobs, p.strategy, p.backfill);
      base ??= r;
      const delta = base.mean > 0 ? `${(((r.mean - base.mean) / base.mean) * 100).toFixed(1)} %` : 'n/a';
      console.log(
        `${`${loadFactor * 100}%`.padEnd(5)} ${p.name.padEnd(26)} ${pad(r.mean.toFixed(1), 10)} ${pad(r.p95.toFixed(1), 10)} ${pad(r.max.toFixed(0), 10)} ${pad(`${(r.utilization * 100).toFixed(1)}%`, 6)} ${pad(r.makespan.toFixed(0), 10)} ${pad(delta, 13)}`,
      );
    }
  }
}

/**
 * Median time of dispatch() with 1,000 requests queued behind a head that does not fit.
 * `typical`: mixed sizes, most rejected by the memory pre-check; `worst`: every request passes the
 * pre-check and is placed in full (exclusive requests while every device has a lease).
 */
function decisionTime(strategy: Strategy, backfillDepth: number, kind: 'typical' | 'worst'): number {
  const rnd = mulberry32(SEED);
  const s = new Scheduler<null>(DEVICES, { strategy, backfill: true, backfillDepth });
  s.slots.forEach((slot, i) => {
    const used = kind === 'worst' ? (i < 2 ? 40_000 : 78_000) : 50_000 + Math.floor(rnd() * 20_000);
    s.reserve([slot], { needMb: used, count: 1, exclusive: false });
  });
  s.enqueue({ needMb: 80_000, count: 1, exclusive: false }, 0, null);
  for (let i = 1; i < 1000; i++) {
    const d: Demand =
      kind === 'worst'
        ? { needMb: 1_000, count: 1 + (i % 2), exclusive: true } // fits by memory, every device has a lease
        : { needMb: 40_000 + Math.floor(rnd() * 40_000), count: i % 7 === 0 ? 2 : 1, exclusive: false };
    s.enqueue(d, i, null);
  }
  const samples: number[] = [];
  for (let round = 0; round < 50; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 20; i++) s.dispatch();
    samples.push(Number(process.hrtime.bigint() - t0) / 20 / 1000);
  }
  if (s.queue.length !== 1000) throw new Error('the decision benchmark must not grant anything');
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1];
}

function main(): void {
  console.log(`@periscope/gpu-pool scheduler — ${machineLine()}`);
  simulationTable();
  console.log('\nOne scheduling decision: dispatch() with 8 devices and 1,000 queued, head blocked, median µs');
  console.log(
    `  ${'strategy'.padEnd(12)} ${pad('typical/256', 12)} ${pad('typical/1000', 13)} ${pad('worst/256', 10)} ${pad('worst/1000', 11)}`,
  );
  for (const strategy of ['best-fit', 'spread', 'round-robin', 'first-fit'] as Strategy[]) {
    const cells = (['typical', 'worst'] as const).flatMap((k) => [256, 1000].map((d) => decisionTime(strategy, d, k)));
    console.log(`  ${strategy.padEnd(12)} ${cells.map((c, i) => pad(c.toFixed(2), [12, 13, 10, 11][i])).join(' ')}`);
  }
  console.log(
    '  (typical/N: mixed sizes, backfillDepth N; worst/N: every request passes the pre-check and is placed in full)',
  );
}

main();
