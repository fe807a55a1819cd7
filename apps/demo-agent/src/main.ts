#!/usr/bin/env node
// `npm run demo`: run a batch of agent tasks, print a summary, then keep serving the endpoints
// until Ctrl-C / SIGTERM (drain, exit 0) — or exit right after the summary with --exit.
import { parseConfig, usage, UsageError } from './config';
import { createDemoApp, type DemoApp } from './app';
import { createProgress } from './progress';
import type { TaskResult } from './agent';

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
    `  simulated cost   $${s.costUsd.toFixed(4)}${[...s.perModel].map(([m, v]) => ` · ${m} $${v.costUsd.toFixed(4)}`).join('')}`,
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
  process.stdout.write(`Periscope demo agent on ${base} — ${config.tasks} tasks, concurrency ${config.concurrency}, provider ${config.provider}, seed ${config.seed}\n`);
  for (const notice of app.notices) process.stdout.write(`  ${notice}\n`);

  const progress = createProgress(config.tasks);
  const started = performance.now();
  const results = await app.runBatch((done, errors) => progress.update(done, errors));
  progress.finish();
  process.stdout.write(`${summary(app, results, performance.now() - started, base)}\n`);
  const slowest = app.tracing.store?.slowestTrace();
  if (slowest) process.stdout.write(`\nSlowest trace (${slowest.traceId})\n${app.tracing.store!.renderTree(slowest.traceId)}\n`);

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
