#!/usr/bin/env node
// `npm run demo`: run a batch of agent tasks, print a summary, then keep serving the endpoints
// until Ctrl-C / SIGTERM (drain, exit 0) — or exit right after the summary with --exit.
import { parseConfig, usage, UsageError } from './config';
import { createDemoApp, type DemoApp } from './app';
import { createProgress } from './progress';
import type { TaskResult } from './agent';
import type { CacheStats } from '@periscope/cache';
import type { PoolStats } from '@periscope/db-pool';

const pct = (r: number) => `${(r * 100).toFixed(0)}%`;

function cacheLine(st: CacheStats): string {
  const tier = (name: string, t: { hits: number; misses: number; hitRatio: number } | undefined) =>
    t ? `${name} ${pct(t.hitRatio)} (${t.hits}/${t.hits + t.misses})` : `${name} off`;
  return `hit ratio ${tier('L1', st.l1)}, ${tier('L2', st.l2)}, ${tier('L3', st.l3)}`;
}

function poolLine(st: PoolStats): string {
  return `${st.server}, ${st.total} open (${st.idle} idle), ${st.created} created, ${st.acquireTimeouts} acquire timeouts`;
}

function summary(app: DemoApp, results: TaskResult[], wallMs: number, base: string): string {
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
    '',
    'Endpoints',
    `  metrics          ${base}/metrics`,
    `  health           ${base}/health   ready ${base}/readyz   live ${base}/livez`,
    `  status           ${base}/status`,
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
  const results = await app.runBatch((done, errors) => progress.update(done, errors));
  progress.finish();
  app.logStream.progress = undefined;
  process.stdout.write(`${summary(app, results, performance.now() - started, base)}\n`);
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
