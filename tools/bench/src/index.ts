// Interleaved micro-benchmarks: each round runs every case once for a time slice, in turn, so a
// noisy neighbour or a CPU frequency change hits all cases alike; we report the median over
// rounds and the ratio of every case to the first one (the baseline, usually the wrapped library).
import { performance } from 'node:perf_hooks';
import os from 'node:os';

export interface BenchCase {
  name: string;
  /** One operation. May return a promise; then each call is awaited in turn. */
  fn: () => unknown;
  /** Operations one call of `fn` performs (for batched cases, e.g. 100 requests in flight). */
  opsPerCall?: number;
}

export interface BenchOptions {
  rounds?: number;
  /** Time slice per case and round. */
  sliceMs?: number;
  /** Warm-up per case before the first round. */
  warmupMs?: number;
}

export interface BenchResult {
  name: string;
  medianOpsPerSec: number;
  medianNsPerOp: number;
  /** medianOpsPerSec / the baseline's (first case's). */
  ratio: number;
  samples: number[];
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

async function runSlice(c: BenchCase, sliceMs: number): Promise<number> {
  const end = performance.now() + sliceMs;
  let calls = 0;
  const start = performance.now();
  let now = start;
  const first = c.fn();
  calls++;
  const isAsync = first instanceof Promise;
  if (isAsync) await first;
  // Check the clock every `batch` calls so the clock itself costs little.
  const batch = isAsync ? 1 : 256;
  while (now < end) {
    if (isAsync) {
      await c.fn();
      calls++;
    } else {
      for (let i = 0; i < batch; i++) c.fn();
      calls += batch;
    }
    now = performance.now();
  }
  return (calls * (c.opsPerCall ?? 1)) / ((now - start) / 1000);
}

/** Runs the cases interleaved and prints a table; the first case is the baseline of the ratios. */
export async function compare(title: string, cases: BenchCase[], options: BenchOptions = {}): Promise<BenchResult[]> {
  const rounds = options.rounds ?? 7;
  const sliceMs = options.sliceMs ?? 300;
  const warmupMs = options.warmupMs ?? 200;
  for (const c of cases) await runSlice(c, warmupMs);
  const samples = cases.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < cases.length; i++) samples[i].push(await runSlice(cases[i], sliceMs));
  }
  const base = median(samples[0]);
  const results = cases.map((c, i) => {
    const m = median(samples[i]);
    return { name: c.name, medianOpsPerSec: m, medianNsPerOp: 1e9 / m, ratio: m / base, samples: samples[i] };
  });
  printTable(title, results);
  return results;
}

export function formatOps(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(1);
}

function formatNs(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns.toFixed(1)} ns`;
}

export function printTable(title: string, results: BenchResult[]): void {
  console.log(`\n### ${title}\n`);
  console.log('| case | ops/s (median) | time/op | ratio vs first |');
  console.log('|---|---:|---:|---:|');
  for (const r of results) {
    console.log(
      `| ${r.name} | ${formatOps(r.medianOpsPerSec)} | ${formatNs(r.medianNsPerOp)} | ${r.ratio.toFixed(2)}× |`,
    );
  }
}

/** One line naming the machine, for the header of a benchmark run. */
export function machineLine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${new Date().toISOString().slice(0, 10)} · Node ${process.version} · ${os.cpus().length}× ${cpu} · ${Math.round(os.totalmem() / 2 ** 30)} GiB`;
}
