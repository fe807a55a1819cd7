#!/usr/bin/env node
// `npm run demo`: run a batch of agent tasks, print a summary, then keep serving the endpoints
// until Ctrl-C / SIGTERM (drain, exit 0) — or exit right after the summary with --exit.
// Tracing is already running when this file loads: `npm run demo` starts it with
// `node --env-file=apps/demo-agent/demo.env --import @periscope/tracing/register` (observability.ts
// picks it up; without the register entry it starts tracing itself). boot first: the CPU profiler
// and heap sampler start before the rest of the app loads.
import './boot';
import { parseConfig, usage, UsageError } from './config';
import { createDemoApp, type DemoApp } from './app';
import { createProgress } from './progress';
import type { TaskResult } from './agent';
import type { CacheStats } from '@periscope/cache';
import type { PoolStats } from '@periscope/db-pool';
import { profileBatch, type BatchProfile } from './observability';

const pct = (r: number) => `${(r * 100).toFixed(0)}%`;

function cacheLine(st: CacheStats): string {
  const tier = (name: string, t: { hits: number; misses: number; hitRatio: number } | undefined) =>
    t ? `${name} ${pct(t.hitRatio)} (${t.hits}/${t.hits + t.misses})` : `${name} off`;
  return `hit ratio ${tier('L1', st.l1)}, ${tier('L2', st.l2)}, ${tier('L3', st.l3)}`;
}

function gpuLine(app: DemoApp): string {
  const { source, devices, leases, queue } = app.gpus.status();
  return `${devices.length} ${source} device(s), ${leases.length} held, ${queue.depth} queued`;
}

function poolLine(st: PoolStats): string {
  return `${st.server}, ${st.total} open (${st.idle} idle), ${st.created} created, ${st.acquireTimeouts} acquire timeouts`;
}

function profileLines(profile: BatchProfile): string[] {
  const top = profile.top.map(
    (f, i) =>
      `  ${String(i + 1).padStart(2)}. ${f.selfMs.toFixed(1).padStart(8)} ms ${(f.selfShare * 100).toFixed(1).padStart(5)}%  ${f.name} ${f.file ? `(${f.file}:${f.line})` : ''}`,
  );
  return [
    '',
    'Top functions by self time (CPU profile of the batch)',
    ...(top.length ? top : ['  (no samples)']),
    '',
    'Profile',
    `  pprof            ${profile.pprofPath}   (go tool pprof -top ${profile.pprofPath})`,
    `  flame graph      ${profile.flamePath}`,
  ];
}

function summary(app: DemoApp, results: TaskResult[], wallMs: number, base: string, profile: BatchProfile): string {
  const s = app.agent.stats;
  const ok = results.filter((r) => r.status === 'ok').length;
  const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const lines = [
    '',
    'Summary',
    `  tasks            ${results.length} in ${fmt(wallMs)} (${ok} succeeded, ${results.length - ok} failed)`,
    `  task latency     p50 ${fmt(s.percentileMs(0.5))}, p95 ${fmt(s.percentileMs(0.95))}`,
    `  tokens           ${s.inputTokens} in, ${s.outputTokens} out`,
    `  LLM retries      ${s.retries} retried attempts, ${s.recoveredCalls} calls recovered by a retry, circuit breaker ${s.breaker}`,
    `  simulated cost   $${s.costUsd.toFixed(4)}${[...s.perModel].map(([m, v]) => ` · ${m} $${v.costUsd.toFixed(4)}`).join('')}`,
    `  LLM cache        ${cacheLine(app.llmCache.stats())} · ${s.cachedCalls} model calls answered from cache`,
    `  embedding cache  ${cacheLine(app.embeddingCache.stats())}`,
    `  database pool    ${poolLine(app.pool.stats())}`,
    `  GPU leases       ${gpuLine(app)}`,
    `  alerts           ${app.alerts.alerts().length} active (${base}/alerts)`,
    ...profileLines(profile),
    '',
    'Endpoints',
    `  metrics          ${base}/metrics`,
    `  health           ${base}/health   ready ${base}/readyz   live ${base}/livez`,
    `  status           ${base}/status`,
    `  alerts           ${base}/alerts`,
    `  profiles         ${base}/debug/pprof/profile?seconds=30   ${base}/debug/pprof/heap   ${base}/debug/flame?seconds=10 (bearer PERISCOPE_DEBUG_TOKEN)`,
    `  tasks            curl -s -X POST ${base}/tasks -H 'content-type: application/json' -d '{"prompt":"What is 6 * 7?"}'`,
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  let config;
  try {
    config = parseConfig(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n\n${usage()}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (config === 'help') {
    process.stdout.write(`${usage()}\n`);
    return;
  }
  let app: DemoApp;
  try {
    app = await createDemoApp(config);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n\n${usage()}\n`);
      process.exit(2);
    }
    throw err;
  }
  const address = await app.server.listen();
  app.server.markReady();
  const base = `http://${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
  process.stdout.write(
    `Periscope demo agent on ${base} — ${config.tasks} tasks, concurrency ${config.concurrency}, provider ${config.provider}, seed ${config.seed}\n`,
  );
  for (const notice of app.notices) process.stdout.write(`  ${notice}\n`);

  await app.ready;
  const progress = createProgress(config.tasks);
  app.logStream.progress = progress;
  const started = performance.now();
  const { result: results, profile } = await profileBatch(config.outDir, () =>
    app.runBatch((done, errors) => progress.update(done, errors)),
  );
  progress.finish();
  app.logStream.progress = undefined;
  process.stdout.write(`${summary(app, results, performance.now() - started, base, profile)}\n`);
  const slowest = app.tracing.store?.slowestTrace();
  if (slowest)
    process.stdout.write(`\nSlowest trace (${slowest.traceId})\n${app.tracing.store!.renderTree(slowest.traceId)}\n`);

  if (config.exit) {
    await app.close();
    return;
  }
  process.stdout.write('\nServing until Ctrl-C (SIGINT) or SIGTERM; then it drains and exits.\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`demo-agent failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
