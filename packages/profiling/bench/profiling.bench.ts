// Benchmarks of @periscope/profiling on the built dist/ (the bench target builds first):
//  1. overhead of continuous 100 Hz profiling on CPU-bound, HTTP and async/GC-heavy work,
//     interleaved against no profiler and @datadog/pprof (native), CPU time per operation;
//  2. the longest main-thread pause at window rotation with 100k compiled functions (fresh child
//     process per variant);
//  3. function-timing overhead per call against a bare call.
// Run: npx nx bench profiling (or: npm run bench -w packages/profiling). BENCH_ROUNDS, BENCH_SLICE_MS tune it;
// BENCH_ONLY=overhead|rotation|timing runs one part.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { compare, machineLine } from '@periscope-tools/bench';
import { asyncGcIteration, cpuIteration, startHttpRig, type HttpRig } from './workloads';
import { runRotation } from './rotation';

const load = createRequire(__filename);
const lib = load('../dist/index.js') as typeof import('../src');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SLICE_MS = Number(process.env.BENCH_SLICE_MS ?? 1500);

interface Mode {
  name: string;
  start(): void;
  stop(): Promise<void> | void;
}

function modes(): Mode[] {
  let profiler: ReturnType<typeof lib.startProfiler> | undefined;
  const list: Mode[] = [
    { name: 'no profiler', start() {}, stop() {} },
    {
      name: '@periscope/profiling 100 Hz',
      start() {
        profiler = lib.startProfiler({ hz: 100, windowMs: 1000, retention: 2 });
      },
      stop: () => profiler?.stop(),
    },
  ];
  let dd: typeof import('@datadog/pprof') | undefined;
  try {
    dd = load('@datadog/pprof') as typeof import('@datadog/pprof');
  } catch {
    console.log('(@datadog/pprof not installed: its column is skipped)');
  }
  if (dd !== undefined) {
    const d = dd;
    let timer: NodeJS.Timeout | undefined;
    list.push({
      name: '@datadog/pprof 100 Hz',
      start() {
        d.time.start({ intervalMicros: 10_000, durationMillis: 1000 });
        timer = setInterval(() => d.time.stop(true), 1000);
      },
      stop() {
        clearInterval(timer);
        d.time.stop(false);
      },
    });
  }
  return list;
}

type Workload = (untilMs: number) => Promise<{ ops: number; latencies?: number[] }>;

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
const p99 = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length * 0.99)] ?? 0;

async function overhead(title: string, unit: string, workload: Workload): Promise<void> {
  const ms = modes();
  const cpu: number[][] = ms.map(() => []);
  const lat: number[][] = ms.map(() => []);
  const rss: number[][] = ms.map(() => []);
  await workload(performance.now() + 1500); // JIT warm-up before any mode is measured
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < ms.length; i++) {
      ms[i].start();
      await workload(performance.now() + 200); // warm-up, and the profiler's start is not measured
      const c0 = process.cpuUsage();
      const res = await workload(performance.now() + SLICE_MS);
      const c = process.cpuUsage(c0);
      rss[i].push(process.memoryUsage().rss);
      await ms[i].stop();
      cpu[i].push((c.user + c.system) / res.ops);
      if (res.latencies) lat[i].push(p99(res.latencies));
    }
  }
  console.log(`\n### ${title}\n`);
  console.log(`| case | CPU µs per ${unit} (median) | ratio | p99 latency ms | RSS vs none |`);
  console.log('|---|---:|---:|---:|---:|');
  const base = median(cpu[0]);
  ms.forEach((m, i) => {
    const l = lat[i].length > 0 ? median(lat[i]).toFixed(2) : '–';
    const dr = ((median(rss[i]) - median(rss[0])) / 2 ** 20).toFixed(1);
    console.log(
      `| ${m.name} | ${median(cpu[i]).toFixed(2)} | ${(median(cpu[i]) / base).toFixed(3)}× | ${l} | ${dr} MB |`,
    );
  });
}

async function overheads(): Promise<void> {
  await overhead('CPU-bound work, CPU per iteration', 'iteration', async (until) => {
    let ops = 0;
    let x = 0;
    while (performance.now() < until) {
      for (let i = 0; i < 50; i++) x += cpuIteration(i + ops);
      ops += 50;
      await new Promise<void>((r) => setImmediate(r)); // let the profiler's window timer run
    }
    return { ops: x === -1 ? 0 : ops };
  });
  const rig: HttpRig = await startHttpRig();
  await overhead(
    'HTTP server (node:http, local keep-alive client, 8 in flight), CPU per request',
    'request',
    async (until) => {
      const latencies = await rig.run(until, 8);
      return { ops: latencies.length, latencies };
    },
  );
  await rig.close();
  await overhead('async/GC-heavy work, CPU per iteration', 'iteration', async (until) => {
    let ops = 0;
    while (performance.now() < until) {
      await asyncGcIteration(ops);
      ops++;
    }
    return { ops };
  });
}

/** Each variant runs BENCH_REPEAT (3) times in a fresh process; per statistic the best run is shown
 * (preemption on a shared machine only ever adds to a pause). */
function rotations(): void {
  const repeat = Number(process.env.BENCH_REPEAT ?? 3);
  console.log(`\n### Main-thread pause at window rotation, 100k compiled functions (ms, best of ${repeat} runs)\n`);
  console.log(
    '| variant | start | rotation median | rotation p95 | rotation max | export median / max (parse + pprof + gzip) |',
  );
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const variant of ['periscope', 'periscope-late', 'restart', 'datadog']) {
    const runs: Array<Record<string, number | undefined>> = [];
    for (let i = 0; i < repeat; i++) {
      try {
        const out = execFileSync(process.execPath, [...process.execArgv, __filename, 'rotation', variant], {
          encoding: 'utf8',
          timeout: 300_000,
        });
        runs.push(JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, number | undefined>);
      } catch (err) {
        console.log(`| ${variant} | failed: ${(err as Error).message.split('\n')[0]} | | | | |`);
      }
    }
    if (runs.length === 0) continue;
    const best = (k: string) => {
      const v = runs.map((r) => r[k]).filter((x): x is number => x !== undefined);
      return v.length === 0 ? '–' : Math.min(...v).toFixed(1);
    };
    console.log(
      `| ${variant} | ${best('startMs')} | ${best('medianMs')} | ${best('p95Ms')} | ${best('maxMs')} | ${best('exportMedianMs')} / ${best('exportMaxMs')} |`,
    );
  }
}

async function timing(): Promise<void> {
  const bare = (x: number) => x + 1;
  const p = lib.createFunctionProfiler();
  const wrapped = p.wrap(bare, { name: 'bare' });
  let sink = 0;
  await compare(
    'Function timing, per call',
    [
      { name: 'bare call', fn: () => (sink += bare(sink & 1)) },
      { name: 'profileFunction wrapper', fn: () => (sink += wrapped(sink & 1)) },
      { name: 'profileBlock', fn: () => (sink += p.block('blk', () => bare(sink & 1))) },
    ],
    { rounds: ROUNDS },
  );
  const asyncBare = async (x: number) => x + 1;
  const asyncWrapped = p.wrap(asyncBare, { name: 'asyncBare' });
  await compare(
    'Function timing, async per call',
    [
      { name: 'bare async call', fn: () => asyncBare(1) },
      { name: 'profileFunction wrapper (async)', fn: () => asyncWrapped(1) },
    ],
    { rounds: ROUNDS },
  );
}

async function main(): Promise<void> {
  if (process.argv[2] === 'rotation') {
    await runRotation(process.argv[3] as never, Number(process.env.BENCH_FUNCTIONS ?? 100_000), 30);
    return;
  }
  console.log(`# @periscope/profiling benchmark\n\n${machineLine()}`);
  const only = process.env.BENCH_ONLY; // overhead | rotation | timing
  if (only === undefined || only === 'overhead') await overheads();
  if (only === undefined || only === 'rotation') rotations();
  if (only === undefined || only === 'timing') await timing();
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
