// The main-thread pause of window rotation with a large code base, in a fresh child process per
// variant: 100k small functions are generated, compiled and called; the profiler (started at boot,
// before that code, as the README advises — or after it, "late") rotates short windows while the
// app calls random functions, and we record the longest synchronous pause of each rotation.
import Module from 'node:module';
import inspector from 'node:inspector';
import { createRequire } from 'node:module';
import { generatedSource } from './workloads';

const load = createRequire(__filename);
const { startProfiler } = load('../dist/index.js') as typeof import('../src');

type Variant = 'periscope' | 'periscope-late' | 'restart' | 'datadog';

function loadFunctions(n: number): Array<(x: number) => number> {
  const m = new Module('/generated/functions.js');
  (m as unknown as { _compile(src: string, file: string): void })._compile(
    generatedSource(n),
    '/generated/functions.js',
  );
  const fns = m.exports as Array<(x: number) => number>;
  let acc = 0;
  for (const f of fns) acc += f(1);
  if (acc === 42) console.log('');
  return fns;
}

function work(fns: Array<(x: number) => number>, ms: number): void {
  const end = Date.now() + ms;
  let x = 0;
  let k = 0;
  while (Date.now() < end) for (let i = 0; i < 1000; i++) x += fns[(k++ * 7919) % fns.length](i);
  if (x === 0.5) console.log(x);
}

function timed(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

const tick = () => new Promise<void>((r) => setImmediate(r));

/** Our profiler rotates on its own timer (100 ms windows) while the app works in 20 ms slices. */
async function periscope(
  late: boolean,
  n: number,
  windows: number,
): Promise<{ startMs: number; pauses: number[]; exportMedianMs?: number; exportMaxMs?: number }> {
  let profiler = late ? undefined : startProfiler({ windowMs: 100, retention: 2 });
  const fns = loadFunctions(n);
  let startMs = profiler?.stats().startPauseMs ?? 0;
  if (profiler === undefined) {
    profiler = startProfiler({ windowMs: 100, retention: 2 });
    startMs = profiler.stats().startPauseMs;
  }
  const pauses: number[] = [];
  const exports: number[] = [];
  let seen = profiler.stats().windows;
  while (pauses.length < windows) {
    work(fns, 20);
    await tick();
    const s = profiler.stats();
    if (s.windows > seen) {
      seen = s.windows;
      pauses.push(s.lastPauseMs);
      // Export: the first read of a window parses it; then pprof encoding and gzip.
      exports.push(timed(() => profiler.latest()!.toPprof()));
    }
  }
  await profiler.stop();
  const sortedExports = [...exports].sort((a, b) => a - b);
  return {
    startMs,
    pauses,
    exportMedianMs: sortedExports[sortedExports.length >> 1],
    exportMaxMs: sortedExports[sortedExports.length - 1],
  };
}

function restart(
  n: number,
  windows: number,
): { startMs: number; pauses: number[]; exportMedianMs?: number; exportMaxMs?: number } {
  const fns = loadFunctions(n);
  const s = new inspector.Session();
  s.connect();
  const post = (m: string, p: object = {}) => s.post(m, p, () => undefined);
  post('Profiler.enable');
  post('Profiler.setSamplingInterval', { interval: 10_000 });
  const startMs = timed(() => post('Profiler.start'));
  const pauses: number[] = [];
  for (let w = 0; w < windows; w++) {
    work(fns, 100);
    pauses.push(timed(() => (post('Profiler.stop'), post('Profiler.start'))));
  }
  s.disconnect();
  return { startMs, pauses };
}

function datadog(
  n: number,
  windows: number,
): { startMs: number; pauses: number[]; exportMedianMs?: number; exportMaxMs?: number } {
  const dd = load('@datadog/pprof') as typeof import('@datadog/pprof');
  const fns = loadFunctions(n);
  const startMs = timed(() => dd.time.start({ intervalMicros: 10_000, durationMillis: 3_600_000 }));
  const pauses: number[] = [];
  for (let w = 0; w < windows; w++) {
    work(fns, 100);
    pauses.push(timed(() => dd.time.stop(true)));
  }
  dd.time.stop(false);
  return { startMs, pauses };
}

export async function runRotation(variant: Variant, n: number, windows: number): Promise<void> {
  const { startMs, pauses, exportMedianMs, exportMaxMs } =
    variant === 'periscope' || variant === 'periscope-late'
      ? await periscope(variant === 'periscope-late', n, windows)
      : variant === 'restart'
        ? restart(n, windows)
        : datadog(n, windows);
  const sorted = [...pauses].sort((a, b) => a - b);
  process.stdout.write(
    JSON.stringify({
      variant,
      n,
      startMs,
      medianMs: sorted[sorted.length >> 1],
      p95Ms: sorted[Math.floor(sorted.length * 0.95)],
      maxMs: sorted[sorted.length - 1],
      exportMedianMs,
      exportMaxMs,
    }) + '\n',
  );
}
