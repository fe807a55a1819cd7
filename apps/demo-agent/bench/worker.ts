// One configuration, one round, in a fresh process (demo.bench.ts starts it): builds the demo's task
// loop from the BUILT dist/ with the set-up the job names, runs warm-up tasks, then the measured
// batch at a fixed concurrency, and prints one `BENCH_RESULT {json}` line on stdout.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Cache } from '@periscope/cache';
import type { Metrics } from '@periscope/metrics';
import type { PeriscopeLogger } from '@periscope/logging';
import type { Tracing } from '@periscope/tracing';
import type { DbPool } from '@periscope/db-pool';
import type { GpuPool } from '@periscope/gpu-pool';
import type { TaskResult } from '../src/agent';
import type { Caches, Telemetry } from '../src/wiring';
import type { DemoConfig } from '../src/config';
import { startSetup, everyPart, type SetupSpec } from './setups';
import { createByHandAgent } from './by-hand';

// The app as built: tsc's output in dist/, and the packages' dist/ through node_modules (the
// bench's tsconfig has no `paths`, so nothing here resolves to a package's src/).
const load = createRequire(__filename);
const wiring = load('../dist/wiring.js') as typeof import('../src/wiring');
const observability = load('../dist/observability.js') as typeof import('../src/observability');
const { parseConfig } = load('../dist/config.js') as typeof import('../src/config');
const { SimulatedProvider } = load('../dist/llm/simulated.js') as typeof import('../src/llm/simulated');
const { generateTasks } = load('../dist/tasks.js') as typeof import('../src/tasks');
const { rememberTask } = load('../dist/tools/pg-knowledge-base.js') as typeof import('../src/tools/pg-knowledge-base');
const { createCache } = load('@periscope/cache') as typeof import('@periscope/cache');
const { startCapture } = load('@periscope/profiling') as typeof import('@periscope/profiling');

export interface Job {
  /** The configuration's name in the report. */
  name: string;
  /** Periscope's parts and their levels, or 'by-hand' for the loop instrumented without Periscope. */
  setup: SetupSpec | 'by-hand';
  tasks: number;
  concurrency: number;
  warmup: number;
  seed: number;
  /** Also sample the CPU (1 kHz) over the measured batch and report the top functions. */
  profile?: boolean;
}

export interface Sample {
  name: string;
  tasks: number;
  errors: number;
  wallMs: number;
  tasksPerSec: number;
  p50Ms: number;
  p99Ms: number;
  cpuMsPerTask: number;
  rssMb: number;
  /** Sanity check of the coverage: spans kept over the whole run (store or exporter), per task. */
  spansKeptPerTask: number;
  /** Continuous-profiler windows that rotated during the measured batch, and the last rotation's main-thread pause. */
  profilerWindows: number;
  profilerPauseMs: number;
  top?: { name: string; file: string; line: number; selfShare: number }[];
}

const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/** The demo's createCaches() (L1 + L2 Redis + L3 disk), under a namespace of this process so rounds never share entries. */
async function benchCaches(metrics: Metrics, logger: PeriscopeLogger, dir: string): Promise<Caches> {
  const ns = `bench-demo-${process.pid}-${Date.now()}`;
  const tiers = (name: string) => ({
    l2: { url: REDIS_URL },
    l3: { dir: path.join(dir, name), maxBytes: 64 * 1024 * 1024 },
    metrics,
  });
  const llmCache = createCache({
    namespace: `${ns}-llm`,
    l1: { maxEntries: 2000 },
    defaultTtlMs: 10 * 60_000,
    logger,
    ...tiers('llm'),
  });
  const embeddingCache = createCache({
    namespace: `${ns}-embeddings`,
    l1: { maxEntries: 5000 },
    defaultTtlMs: 10 * 60_000,
    ...tiers('embeddings'),
  });
  for (let i = 0; (await llmCache.l2Health()).status !== 'pass'; i++) {
    if (i === 50) throw new Error(`Redis at ${REDIS_URL} did not answer: the bench needs a real Redis`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { llmCache, embeddingCache };
}

interface Loop {
  runTask(prompt: string): Promise<TaskResult>;
  spansKept(): Promise<number>;
  profilerStats?: () => { windows: number; lastPauseMs: number };
  close(): Promise<void>;
}

/** Spans in the trace store (production keeps 10 % of traces; the store holds the latest ones). */
async function storedSpans(tracing: Tracing | undefined): Promise<number> {
  if (!tracing?.store) return 0;
  await tracing.forceFlush();
  return tracing.store.toJSON().traces.reduce((n, t) => n + t.spans.length, 0);
}

/** The demo's agent and runTask (app.ts): agent.run, then the task's row in the memory table. */
async function buildLoop(job: Job, config: DemoConfig, cacheDir: string): Promise<Loop> {
  const setup = startSetup(job.setup === 'by-hand' ? everyPart('off') : job.setup);
  const { metrics, logger } = setup;
  // connectDatabase and createDemoAgent read only these two fields of the demo's Telemetry.
  const t = { metrics, logger } as Telemetry;
  const notices: string[] = [];
  const database = await wiring.connectDatabase(t, { DATABASE_URL }, notices);
  await database.ready;
  const caches = await benchCaches(metrics, logger, cacheDir);
  const gpus = await observability.createDemoGpuPool(metrics, logger, notices);
  const provider = new SimulatedProvider({ seed: config.seed, errorRate: 0, latencyScale: 0 });
  const parts = { pool: database.pool, caches, gpus };
  let runTask: Loop['runTask'];
  let closeByHand = async () => undefined as unknown;
  let spansKept = () => storedSpans(setup.tracing);
  if (job.setup === 'by-hand') {
    const byHand = createByHandAgent({ config, provider, ...parts });
    runTask = byHand.runTask;
    spansKept = byHand.spansKept;
    closeByHand = byHand.close;
  } else {
    const agent = wiring.createDemoAgent(config, provider, t, database.pool, caches, gpus);
    runTask = async (prompt) => {
      const task = await agent.run(prompt);
      await rememberTask(database.pool, task).catch((err: unknown) => logger.warn('memory write', { err }));
      return task;
    };
  }
  return {
    runTask,
    spansKept,
    profilerStats: setup.profilerStats,
    close: () => closeAll(parts, [closeByHand, () => setup.close()]),
  };
}

async function closeAll(
  parts: { pool: DbPool; caches: Caches; gpus: GpuPool },
  more: (() => Promise<unknown>)[],
): Promise<void> {
  const caches: Cache[] = [parts.caches.llmCache, parts.caches.embeddingCache];
  await Promise.all(caches.map((c) => c.close()));
  await parts.gpus.close();
  await parts.pool.close();
  for (const close of more) await close();
}

/** Runs `prompts` with `concurrency` workers; returns each task's latency in ms. */
async function runTasks(
  prompts: string[],
  concurrency: number,
  runTask: Loop['runTask'],
): Promise<{ latencies: number[]; errors: number }> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const worker = async () => {
    while (next < prompts.length) {
      const prompt = prompts[next++];
      const started = performance.now();
      const task = await runTask(prompt);
      latencies.push(performance.now() - started);
      if (task.status !== 'ok') errors++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, prompts.length) }, worker));
  return { latencies, errors };
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

async function measure(job: Job, loop: Loop): Promise<Sample> {
  // Warm-up prompts come from another seed, so the measured batch's cache hits are its own.
  await runTasks(generateTasks(job.warmup, job.seed + 1), job.concurrency, loop.runTask);
  const prompts = generateTasks(job.tasks, job.seed);
  const capture = job.profile ? startCapture({ hz: 1000, labels: { bench: job.name } }) : undefined;
  const windows0 = loop.profilerStats?.().windows ?? 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const { latencies, errors } = await runTasks(prompts, job.concurrency, loop.runTask);
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  const profile = capture?.stop();
  const profiler = loop.profilerStats?.();
  const sorted = latencies.sort((a, b) => a - b);
  return {
    name: job.name,
    tasks: job.tasks,
    errors,
    wallMs,
    tasksPerSec: job.tasks / (wallMs / 1000),
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    cpuMsPerTask: (cpu.user + cpu.system) / 1000 / job.tasks,
    rssMb: process.memoryUsage().rss / 2 ** 20,
    spansKeptPerTask: (await loop.spansKept()) / (job.tasks + job.warmup),
    profilerWindows: (profiler?.windows ?? 0) - windows0,
    profilerPauseMs: profiler?.lastPauseMs ?? 0,
    top: profile?.top({ by: 'self', limit: 400 }).map((f) => ({ ...f, selfMs: undefined })),
  };
}

async function main(): Promise<void> {
  const job = JSON.parse(process.env.BENCH_JOB ?? '') as Job;
  const fromSrc = Object.keys(load.cache).filter((f) => /[/\\]packages[/\\][^/\\]+[/\\]src[/\\]/.test(f));
  if (fromSrc.length) throw new Error(`the bench must run the built dist/, but loaded ${fromSrc[0]}`);
  const config = parseConfig(
    ['--seed', String(job.seed), '--error-rate', '0', '--latency-scale', '0', '--concurrency', String(job.concurrency)],
    {},
  ) as DemoConfig;
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'periscope-demo-bench-'));
  try {
    const loop = await buildLoop(job, config, cacheDir);
    const sample = await measure(job, loop);
    await loop.close();
    process.stdout.write(`BENCH_RESULT ${JSON.stringify(sample)}\n`);
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
}

main().then(
  // Anything a package leaves open would only delay the next round: the result is out.
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench worker failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
