// What Periscope costs an agent service end to end (issue 20): the demo agent's real task loop —
// the simulated provider at zero latency and zero errors, so the loop is CPU-bound; the PostgreSQL
// knowledge base; the cache on a real Redis — on the BUILT dist/, in four configurations: off,
// production defaults, everything, and the same loop instrumented by hand without Periscope.
// Each configuration runs in a fresh process per round (the tracing SDK and the profiler are
// process-wide), rounds interleaved in rotating order; medians and per-round ratios.
// Run: npx nx bench demo-agent  (builds first). BENCH_TASKS, BENCH_CONCURRENCY, BENCH_ROUNDS,
// BENCH_WARMUP, BENCH_SEED; BENCH_BREAKDOWN=always|never|auto (auto: when a target is missed);
// BENCH_ONLY=a,b runs just those configurations (an A/B), e.g. BENCH_ONLY='off,off + context manager';
// BENCH_PARALLEL=1 starts a round's processes at the same time instead of one after another, so
// on a machine loaded by others every configuration of a round sees the same load.
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { machineLine } from '@periscope-tools/bench';
import { everyPart, PARTS, type SetupSpec } from './setups';
import type { Job, Sample } from './worker';
import {
  med,
  printBreakdown,
  printProfilerWindows,
  printTable,
  printTargets,
  printTop,
  targets,
  type Rounds,
} from './report';

const TASKS = Number(process.env.BENCH_TASKS ?? 400);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 100);
const SEED = Number(process.env.BENCH_SEED ?? 42);
const BREAKDOWN = process.env.BENCH_BREAKDOWN ?? 'auto';
const PARALLEL = process.env.BENCH_PARALLEL === '1';
const BREAKDOWN_ROUNDS = Number(process.env.BENCH_BREAKDOWN_ROUNDS ?? Math.max(3, ROUNDS - 2));

const MAIN: { name: string; setup: Job['setup'] }[] = [
  { name: 'off', setup: everyPart('off') },
  { name: 'production', setup: everyPart('prod') },
  { name: 'everything', setup: everyPart('all') },
  { name: 'by-hand', setup: 'by-hand' },
];

/** Production with one part at its `off` level. */
const WITHOUT = PARTS.map((part) => ({
  name: `production − ${part}`,
  setup: { ...everyPart('prod'), [part]: 'off' } as SetupSpec,
}));

/** Production without the tracing SDK but with its context manager: Node 20's context propagation alone. */
const CONTEXT_ONLY = {
  name: 'production − tracing + context manager',
  setup: { ...everyPart('prod'), tracing: 'context' } as SetupSpec,
};

/** Off plus nothing but that context manager: what any OpenTelemetry set-up pays on Node 20 before its first span. */
const CONTEXT_FLOOR = {
  name: 'off + context manager',
  setup: { ...everyPart('off'), tracing: 'context' } as SetupSpec,
};

const here = __dirname;

/** One configuration, one round, in a fresh Node process (no tsconfig `paths`: the packages' dist/). */
function runJob(job: Job): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'worker.ts')], {
      cwd: path.join(here, '..'),
      env: { ...process.env, BENCH_JOB: JSON.stringify(job), TSX_TSCONFIG_PATH: path.join(here, 'tsconfig.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (code === 0 && line) resolve(JSON.parse(line.slice('BENCH_RESULT '.length)) as Sample);
      else reject(new Error(`${job.name}: worker exited ${code}\n${err.slice(-3000)}`));
    });
  });
}

type Config = { name: string; setup: Job['setup'] };
const jobOf = (c: Config, profile = false): Job => ({
  name: c.name,
  setup: c.setup,
  tasks: TASKS,
  concurrency: CONCURRENCY,
  warmup: WARMUP,
  seed: SEED,
  profile,
});

/** One round: every configuration once, in `order`, one after another or (BENCH_PARALLEL=1) all at once. */
async function round(order: Config[]): Promise<Sample[]> {
  if (PARALLEL) return Promise.all(order.map((c) => runJob(jobOf(c))));
  const samples: Sample[] = [];
  for (const c of order) samples.push(await runJob(jobOf(c)));
  return samples;
}

/** `rounds` rounds; round r runs every configuration once, starting at configuration r (rotating). */
async function interleave(configs: Config[], rounds: number): Promise<Rounds> {
  const results: Rounds = new Map(configs.map((c) => [c.name, [] as Sample[]]));
  for (let r = 0; r < rounds; r++) {
    const order = configs.map((_, i) => configs[(i + r) % configs.length]);
    const samples = await round(order);
    for (const s of samples) {
      if (s.errors) throw new Error(`${s.name}: ${s.errors} tasks failed; the bench needs a clean loop`);
      results.get(s.name)!.push(s);
    }
    const line = samples.map((s) => `${s.name} ${s.tasksPerSec.toFixed(0)}/s`).join(' · ');
    process.stderr.write(`  round ${r + 1}/${rounds} (load ${loadLine()}): ${line}\n`);
  }
  return results;
}

const loadLine = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** BENCH_ONLY=a,b: interleaved rounds of just these configurations (any named above), e.g. an A/B of one part. */
async function only(names: string[]): Promise<void> {
  const known = [...MAIN, ...WITHOUT, CONTEXT_ONLY, CONTEXT_FLOOR];
  const configs = names.map((n) => known.find((c) => c.name === n) ?? fail(n, known));
  const rounds = await interleave(configs, ROUNDS);
  printTable(
    rounds,
    configs.map((c) => c.name),
    configs[0].name,
  );
}

function fail(name: string, known: Config[]): never {
  throw new Error(`BENCH_ONLY: no configuration named "${name}"; known: ${known.map((c) => c.name).join(', ')}`);
}

async function main(): Promise<void> {
  console.log(`# demo-agent end-to-end overhead (issue 20)\n`);
  console.log(`${machineLine()} · load average at start ${loadLine()}`);
  console.log(
    `${TASKS} tasks per run at concurrency ${CONCURRENCY} after ${WARMUP} warm-up tasks · ${ROUNDS} interleaved rounds${PARALLEL ? " (a round's processes run at the same time)" : ''}, a fresh process per configuration and round · seed ${SEED}\n`,
  );
  if (process.env.BENCH_ONLY) return only(process.env.BENCH_ONLY.split(',').map((n) => n.trim()));
  const main = await interleave(MAIN, ROUNDS);
  printTable(
    main,
    MAIN.map((c) => c.name),
    'off',
    'by-hand',
  );
  const list = targets(main);
  printTargets(list);
  printProfilerWindows(main, 'production');
  const missed = list.some((t) => !t.pass);
  if (BREAKDOWN === 'always' || (BREAKDOWN === 'auto' && missed)) {
    console.log(`\n## Where production's cost goes (${BREAKDOWN_ROUNDS} more interleaved rounds)\n`);
    const configs = [MAIN[0], MAIN[1], ...WITHOUT, CONTEXT_ONLY, CONTEXT_FLOOR];
    const parts = await interleave(configs, BREAKDOWN_ROUNDS);
    printTable(
      parts,
      configs.map((c) => c.name),
      'off',
    );
    printBreakdown(parts, PARTS, CONTEXT_ONLY.name, CONTEXT_FLOOR.name);
    // One profiled run each, one after another: shares of self time within a run hold up under load.
    const profiled: Sample[] = [];
    for (const c of MAIN.slice(0, 3)) profiled.push(await runJob(jobOf(c, true)));
    printTop(profiled);
  }
  console.log(
    `\nload average at end ${loadLine()} · off median ${med(main, 'off', 'tasksPerSec').toFixed(1)} tasks/s; absolute numbers are noisy on a shared machine, the per-round ratios are what count`,
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
