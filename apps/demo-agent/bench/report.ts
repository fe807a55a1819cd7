// Medians, per-round ratios, the table, the targets and the breakdown of the demo bench.
import type { Sample } from './worker';

export type Rounds = Map<string, Sample[]>;

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

type Metric = 'tasksPerSec' | 'p50Ms' | 'p99Ms' | 'cpuMsPerTask' | 'rssMb' | 'spansKeptPerTask';

export function med(rounds: Rounds, name: string, metric: Metric): number {
  return median((rounds.get(name) ?? []).map((s) => s[metric]));
}

/** Median over rounds of a/b taken within each round: interleaving makes the pairs comparable. */
export function ratio(rounds: Rounds, a: string, b: string, metric: Metric): number {
  const as = rounds.get(a) ?? [];
  const bs = rounds.get(b) ?? [];
  const n = Math.min(as.length, bs.length);
  return median(Array.from({ length: n }, (_, i) => as[i][metric] / bs[i][metric]));
}

/** Median over rounds of a - b taken within each round. */
export function delta(rounds: Rounds, a: string, b: string, metric: Metric): number {
  const as = rounds.get(a) ?? [];
  const bs = rounds.get(b) ?? [];
  const n = Math.min(as.length, bs.length);
  return median(Array.from({ length: n }, (_, i) => as[i][metric] - bs[i][metric]));
}

const f1 = (n: number) => n.toFixed(1);
const x2 = (n: number) => `${n.toFixed(3)}×`;

export function printTable(rounds: Rounds, names: string[], base: string, byHand?: string): void {
  const hand = byHand && rounds.has(byHand) ? byHand : undefined;
  console.log(
    `| configuration | tasks/s | p50 ms | p99 ms | CPU ms/task | RSS MB | spans kept/task | tasks/s vs ${base} | CPU/task vs ${base} |${hand ? ` tasks/s vs ${hand} |` : ''}`,
  );
  console.log(`|---|---:|---:|---:|---:|---:|---:|---:|---:|${hand ? '---:|' : ''}`);
  for (const n of names) {
    const cells = [
      f1(med(rounds, n, 'tasksPerSec')),
      f1(med(rounds, n, 'p50Ms')),
      f1(med(rounds, n, 'p99Ms')),
      med(rounds, n, 'cpuMsPerTask').toFixed(2),
      f1(med(rounds, n, 'rssMb')),
      med(rounds, n, 'spansKeptPerTask').toFixed(2),
      x2(ratio(rounds, n, base, 'tasksPerSec')),
      x2(ratio(rounds, n, base, 'cpuMsPerTask')),
    ];
    if (hand) cells.push(x2(ratio(rounds, n, hand, 'tasksPerSec')));
    console.log(`| ${n} | ${cells.join(' | ')} |`);
  }
}

export interface Target {
  what: string;
  got: string;
  pass: boolean;
}

export function targets(rounds: Rounds): Target[] {
  const t = (what: string, got: number, pass: boolean, unit = '×') => ({
    what,
    got: `${got.toFixed(3)}${unit}`,
    pass,
  });
  const prodVsOff = ratio(rounds, 'production', 'off', 'tasksPerSec');
  const p99 = ratio(rounds, 'production', 'off', 'p99Ms');
  const rss = delta(rounds, 'production', 'off', 'rssMb');
  const all = ratio(rounds, 'everything', 'off', 'tasksPerSec');
  const hand = ratio(rounds, 'production', 'by-hand', 'tasksPerSec');
  // On a CPU-bound loop throughput is 1 / CPU per task; on a loaded machine the scheduler's share
  // moves throughput while CPU per task stays closer to the code's own cost, so both are shown.
  const cpu = (a: string, b: string) => 1 / ratio(rounds, a, b, 'cpuMsPerTask');
  const [prodCpu, allCpu, handCpu] = [cpu('production', 'off'), cpu('everything', 'off'), cpu('production', 'by-hand')];
  return [
    t('production ≥ 0.98× off throughput', prodVsOff, prodVsOff >= 0.98),
    t('… the same from CPU per task (off CPU/task ÷ production CPU/task)', prodCpu, prodCpu >= 0.98),
    t('production p99 within 5 % of off (≤ 1.05×)', p99, p99 <= 1.05),
    { what: 'production RSS ≤ off + 50 MB', got: `+${rss.toFixed(1)} MB`, pass: rss <= 50 },
    t('everything ≥ 0.90× off throughput', all, all >= 0.9),
    t('… the same from CPU per task', allCpu, allCpu >= 0.9),
    t('production ≥ 1.0× by-hand throughput', hand, hand >= 1.0),
    t('… the same from CPU per task', handCpu, handCpu >= 1.0),
  ];
}

/**
 * The continuous profiler ends a window every 10 s, and a window's end (V8 builds and hands over
 * the profile on the main thread) is most of what it costs. A measured batch shorter than that
 * may contain none: then say so, with what one rotation cost, instead of quietly leaving it out.
 */
export function printProfilerWindows(rounds: Rounds, name: string): void {
  const samples = rounds.get(name) ?? [];
  const rotated = samples.filter((s) => s.profilerWindows > 0);
  const wall = samples.map((s) => s.wallMs).sort((a, b) => a - b)[Math.floor(samples.length / 2)] ?? 0;
  if (rotated.length === 0) {
    console.log(
      `\n${name}: no profiler window ended inside a measured batch (median batch ${(wall / 1000).toFixed(1)} s, windows are 10 s), so its rotation is not in these numbers: run with BENCH_TASKS large enough for a batch to last over 10 s to include it.`,
    );
    return;
  }
  const pauses = rotated.map((s) => s.profilerPauseMs).sort((a, b) => a - b);
  const pause = pauses[Math.floor(pauses.length / 2)];
  console.log(
    `\n${name}: ${rotated.length} of ${samples.length} measured batches (median ${(wall / 1000).toFixed(1)} s) contain a profiler window's end; median pause ${pause.toFixed(1)} ms on the main thread, ≈ ${((pause / 10_000) * 100).toFixed(2)} % of one core at one window per 10 s.`,
  );
}

export function printTargets(list: Target[]): void {
  console.log('\n| target | measured (median of per-round ratios) | result |\n|---|---:|---|');
  for (const t of list) console.log(`| ${t.what} | ${t.got} | ${t.pass ? 'pass' : '**miss**'} |`);
}

/**
 * Each part's share of production's cost over off: what switching that part off saves, in CPU per
 * task and in throughput, within each round.
 */
export function printBreakdown(
  rounds: Rounds,
  parts: readonly string[],
  contextOnly?: string,
  contextFloor?: string,
): void {
  const cost = delta(rounds, 'production', 'off', 'cpuMsPerTask');
  console.log(
    `\nproduction costs ${cost.toFixed(3)} ms CPU/task over off (${x2(ratio(rounds, 'production', 'off', 'tasksPerSec'))} throughput in these rounds)\n`,
  );
  console.log('| part switched off | CPU ms/task saved | share of the overhead | tasks/s vs production |');
  console.log('|---|---:|---:|---:|');
  for (const part of parts) {
    const name = `production − ${part}`;
    const saved = delta(rounds, 'production', name, 'cpuMsPerTask');
    const share = cost > 0 ? `${((saved / cost) * 100).toFixed(0)} %` : 'n/a';
    console.log(
      `| ${part} | ${saved.toFixed(3)} | ${share} | ${x2(ratio(rounds, name, 'production', 'tasksPerSec'))} |`,
    );
  }
  if (!contextOnly) return;
  // Of tracing's part, what the context manager alone costs (Node 20's AsyncLocalStorage follows
  // every promise once a context is entered; the SDK and its spans are the rest).
  const propagation = delta(rounds, contextOnly, 'production − tracing', 'cpuMsPerTask');
  const sdk = delta(rounds, 'production', contextOnly, 'cpuMsPerTask');
  console.log(
    `\nOf tracing's part: the context manager alone (no SDK, no spans) ${propagation.toFixed(3)} ms CPU/task; the SDK and its spans on top ${sdk.toFixed(3)} ms CPU/task.`,
  );
  if (!contextFloor) return;
  // The floor under every OpenTelemetry set-up on Node 20: off with nothing but the context manager.
  console.log(
    `Off with nothing but the context manager: ${x2(ratio(rounds, contextFloor, 'off', 'tasksPerSec'))} throughput, ${x2(ratio(rounds, contextFloor, 'off', 'cpuMsPerTask'))} CPU/task of off (${delta(rounds, contextFloor, 'off', 'cpuMsPerTask').toFixed(3)} ms CPU/task).`,
  );
}

// Where a function's file says which part of the process it belongs to (first match wins).
const AREAS: [string, RegExp][] = [
  ['tracing', /packages\/tracing\/|@opentelemetry\/(sdk-trace|context-async-hooks|core|resources)/],
  ['metrics', /packages\/metrics\/|prom-client/],
  ['logging', /packages\/logging\/|winston|logform|readable-stream|triple-beam/],
  ['profiling', /packages\/profiling\/|node:inspector/],
  ['cache (L1/L2/L3)', /packages\/cache\/|ioredis|redis-parser|denque/],
  ['db-pool, pg', /packages\/db-pool\/|node_modules\/(pg|pg-protocol|pg-types|generic-pool)\//],
  ['gpu-pool', /packages\/gpu-pool\//],
  ['demo agent', /apps\/demo-agent\//],
  ['@opentelemetry/api', /@opentelemetry\/api/],
];

function area(file: string, name: string): string {
  for (const [label, re] of AREAS) if (re.test(file)) return label;
  if (name === '(garbage collector)') return 'GC';
  return file.startsWith('node:') || !file ? 'Node internals, I/O (no JS file)' : 'other';
}

export function printTop(samples: Sample[]): void {
  console.log(`\nOne run of each under a CPU profile (@periscope/profiling, 1 kHz): share of self time by part\n`);
  const shares = samples.map((s) => {
    const byArea = new Map<string, number>();
    for (const f of s.top ?? [])
      byArea.set(area(f.file, f.name), (byArea.get(area(f.file, f.name)) ?? 0) + f.selfShare);
    return byArea;
  });
  const labels = [...new Set(shares.flatMap((m) => [...m.keys()]))].sort(
    (a, b) => (shares[1]?.get(b) ?? 0) - (shares[1]?.get(a) ?? 0),
  );
  console.log(`| part | ${samples.map((s) => s.name).join(' | ')} |\n|---|${samples.map(() => '---:|').join('')}`);
  for (const label of labels)
    console.log(`| ${label} | ${shares.map((m) => `${((m.get(label) ?? 0) * 100).toFixed(1)} %`).join(' | ')} |`);
  const prod = samples.find((s) => s.name === 'production');
  console.log(`\nTop functions by self time (${prod?.name}):\n\n| # | self | function | where |\n|---:|---:|---|---|`);
  (prod?.top ?? []).slice(0, 15).forEach((f, i) => {
    const where = f.file ? `${f.file.replace(/^.*?\/(packages|apps|node_modules)\//, '$1/')}:${f.line}` : '';
    console.log(`| ${i + 1} | ${(f.selfShare * 100).toFixed(1)} % | ${f.name || '(anonymous)'} | ${where} |`);
  });
}
