// Composes the demo service: metrics, logs, traces, the health server with the task API, the
// PostgreSQL pool (embedded when no DATABASE_URL), the LLM/embedding caches and the agent.
// main.ts drives it from the command line; the end-to-end tests drive the built main.js.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createMetrics, type Metrics } from '@periscope/metrics';
import { createHealthServer, type HealthServer } from '@periscope/health';
import { startTracing, type Tracing } from '@periscope/tracing';
import {
  createLogAggregator,
  createLogger,
  redactString,
  type LogAggregator,
  type PeriscopeLogger,
} from '@periscope/logging';
import { createPool, startEmbeddedPostgres, type DbPool, type EmbeddedPostgres } from '@periscope/db-pool';
import { createCache, llmCacheKey, sha256Hex, type Cache } from '@periscope/cache';
import { Agent, AGENT_NAME, type TaskResult } from './agent';
import { UsageError, type DemoConfig } from './config';
import { OpenAiProvider } from './llm/openai';
import type { LlmProvider } from './llm/provider';
import { SimulatedProvider } from './llm/simulated';
import { addTaskRoutes, addTraceRoutes, TaskStore } from './task-api';
import { createTools } from './tools';
import { embed } from './tools/embedding';
import { PostgresKnowledgeBase, rememberTask, setUpSchema } from './tools/pg-knowledge-base';
import { generateTasks } from './tasks';
import { ProgressAwareStream } from './progress';

// src/ and dist/ both sit beside package.json.
const { version } = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };

export interface DemoApp {
  config: DemoConfig;
  metrics: Metrics;
  server: HealthServer;
  tracing: Tracing;
  logger: PeriscopeLogger;
  logs: LogAggregator;
  /** Where log lines go (stderr); main.ts attaches the progress bar so they do not interleave. */
  logStream: ProgressAwareStream;
  pool: DbPool;
  llmCache: Cache;
  embeddingCache: Cache;
  agent: Agent;
  store: TaskStore;
  /** Lines to show once at start (what runs where, what is degraded). */
  notices: string[];
  /** Resolves once the schema is set up and the knowledge base seeded. */
  ready: Promise<void>;
  runTask(prompt: string, options?: { signal?: AbortSignal }): Promise<TaskResult>;
  runBatch(onProgress: (done: number, errors: number) => void): Promise<TaskResult[]>;
  close(): Promise<void>;
}

export function createProvider(config: DemoConfig, env: NodeJS.ProcessEnv = process.env): LlmProvider {
  if (config.provider === 'openai') {
    if (!env.OPENAI_BASE_URL)
      throw new UsageError('--provider openai needs OPENAI_BASE_URL (e.g. https://api.openai.com/v1)');
    return new OpenAiProvider({
      baseUrl: env.OPENAI_BASE_URL,
      apiKey: env.OPENAI_API_KEY,
      model: env.OPENAI_MODEL ?? 'gpt-4o-mini',
    });
  }
  return new SimulatedProvider({ seed: config.seed, errorRate: config.errorRate, latencyScale: config.latencyScale });
}

export async function createDemoApp(config: DemoConfig, env: NodeJS.ProcessEnv = process.env): Promise<DemoApp> {
  const notices: string[] = [];
  const provider = createProvider(config, env);
  const metrics = createMetrics({ collectDefaultMetrics: true });
  // Logs go to stderr (stdout carries the progress and summary); the aggregator keeps recent
  // records, spots known failure patterns and feeds /status.
  const logs = createLogAggregator({ metrics });
  const logStream = new ProgressAwareStream(process.stderr);
  const logger = createLogger({ service: 'periscope-demo-agent', metrics, aggregator: logs, destination: logStream });
  // Every task is one trace. The in-process store backs /debug/traces and the summary's tree;
  // OTEL_TRACES_EXPORTER=otlp (or zipkin, console, file) sends them on as well.
  const tracing = startTracing({
    serviceName: 'periscope-demo-agent',
    serviceVersion: version,
    metrics,
    redact: redactString,
  });
  const server = createHealthServer({
    port: config.port,
    host: config.host,
    metrics,
    version,
    serviceId: env.OTEL_SERVICE_NAME ?? 'periscope-demo-agent',
    handleSignals: true,
    logger,
    // A short default drain for an interactive demo; PERISCOPE_HEALTH_DRAIN_DELAY_MS still wins.
    drainDelayMs: env.PERISCOPE_HEALTH_DRAIN_DELAY_MS ? undefined : 1000,
  });

  // PostgreSQL: the configured one, or an embedded PGlite so the demo runs on a bare machine.
  let embedded: EmbeddedPostgres | undefined;
  let connectionString = env.DATABASE_URL || undefined;
  if (!connectionString) {
    embedded = await startEmbeddedPostgres({ maxConnections: 16 });
    connectionString = embedded.connectionString;
    notices.push('database: no DATABASE_URL — started an embedded PostgreSQL (PGlite, for demos only)');
  } else {
    notices.push(`database: ${redactString(connectionString)}`);
  }
  const pool = createPool({
    connectionString,
    poolSize: 4,
    maxOverflow: 4,
    metrics,
    logger,
    applicationName: 'periscope-demo-agent',
  });
  const ready = setUpSchema(pool).then(({ documents }) => {
    logger.info('knowledge base ready', { documents });
  });
  server.addStartupTask('database-schema', ready);

  // Caches: L1 memory + L2 Redis + L3 disk. Without Redis they run on L1 + L3 and say so once.
  const redisUrl = env.REDIS_URL === 'off' ? undefined : env.REDIS_URL || 'redis://127.0.0.1:6379';
  const cacheDir = env.PERISCOPE_DEMO_CACHE_DIR || path.join(os.tmpdir(), 'periscope-demo-cache');
  const cacheTiers = (name: string) => ({
    l2: redisUrl ? { url: redisUrl } : undefined,
    l3: { dir: path.join(cacheDir, name), maxBytes: 64 * 1024 * 1024 },
    metrics,
  });
  // Only the LLM cache logs: both share one Redis, so one "Redis is down" line is enough.
  const llmCache = createCache({
    namespace: 'demo-llm',
    l1: { maxEntries: 2000 },
    defaultTtlMs: 60 * 60_000,
    logger,
    ...cacheTiers('llm'),
  });
  const embeddingCache = createCache({
    namespace: 'demo-embeddings',
    l1: { maxEntries: 5000 },
    defaultTtlMs: 24 * 60 * 60_000,
    ...cacheTiers('embeddings'),
  });
  // The Redis connection opens in the background; give it a moment before calling L2 down.
  let l2 = await llmCache.l2Health();
  for (let i = 0; redisUrl && l2.status !== 'pass' && i < 10; i++) {
    await new Promise((r) => setTimeout(r, 100));
    l2 = await llmCache.l2Health();
  }
  notices.push(
    l2.status === 'pass'
      ? `cache: L1 + L2 Redis (${redactString(redisUrl ?? '')}) + L3 disk (${cacheDir})`
      : `cache: ${l2.output}`,
  );

  const knowledgeBase = new PostgresKnowledgeBase(pool);
  const tools = createTools({
    knowledgeBase,
    embed: (text) => embeddingCache.getOrSet(sha256Hex(text), async () => embed(text)),
  });
  const agent = new Agent({
    provider,
    tools,
    metrics,
    logger: logger.agentLogger(AGENT_NAME),
    // Identical conversations get the stored reply; concurrent duplicates share one call. The
    // provider and its seed are in the key: another simulated seed is another model.
    chat: (request, call) =>
      llmCache.getOrSet(
        llmCacheKey({
          model: request.model ?? provider.defaultModel,
          params: {
            provider: provider.name,
            seed: config.provider === 'sim' ? config.seed : undefined,
            tools: request.tools?.map((t) => t.name),
          },
          messages: request.messages,
        }),
        call,
      ),
  });
  const store = new TaskStore();

  const runTask = async (prompt: string, options: { signal?: AbortSignal } = {}) => {
    const task = await agent.run(prompt, options);
    store.add(task);
    // The memory table is a record, not the answer: a failed write is logged, not fatal.
    await rememberTask(pool, task).catch((err: unknown) =>
      logger.warn('could not write task memory', { 'periscope.task.id': task.id, err }),
    );
    return task;
  };
  addTaskRoutes(server, runTask, store);
  addTraceRoutes(server, tracing);
  if (!env.PERISCOPE_DEBUG_TOKEN)
    notices.push('debug endpoints (/debug/traces): off — set PERISCOPE_DEBUG_TOKEN to enable');

  server.addCheck({
    name: 'postgres',
    critical: true,
    componentType: 'datastore',
    timeoutMs: 2000,
    minIntervalMs: 2000,
    run: async () => {
      const h = await pool.healthCheck(1500);
      return { status: h.status, observedValue: h.latencyMs, observedUnit: 'ms', output: h.message };
    },
  });
  server.addCheck({
    name: 'cache-l2',
    critical: false,
    componentType: 'datastore',
    timeoutMs: 500,
    minIntervalMs: 2000,
    run: () => llmCache.l2Health(),
  });
  server.addCheck({
    name: 'llm-provider',
    measurement: 'errorRatio',
    critical: false,
    timeoutMs: 500,
    minIntervalMs: 5000,
    run: async () => {
      // Error ratio of finished tasks: warn above 20% so dashboards and /health show it.
      const { done, errors } = agent.stats;
      const ratio = done ? errors / done : 0;
      return {
        status: ratio > 0.2 ? 'warn' : 'pass',
        observedValue: Number(ratio.toFixed(4)),
        observedUnit: 'ratio',
        output: `${errors} of ${done} tasks failed`,
      };
    },
  });
  server.addStatus('agent', () => ({ provider: provider.name, model: provider.defaultModel, ...agent.stats.toJSON() }));
  server.addStatus('database', () => ({ kind: embedded ? 'embedded PGlite' : 'postgresql', ...pool.stats() }));
  server.addStatus('cache', () => ({ llm: llmCache.stats(), embeddings: embeddingCache.stats() }));
  server.addStatus('logs', () => logs.summary());
  // Hooks run in reverse order: traces flush first, then caches and the pool close, logs last.
  server.onShutdown('logging', () => logger.shutdown());
  server.onShutdown('metrics', () => metrics.close());
  server.onShutdown('database', async () => {
    await pool.drain({ timeoutMs: 5000 });
    await pool.close();
    await embedded?.close();
  });
  server.onShutdown('cache', () => Promise.all([llmCache.close(), embeddingCache.close()]));
  server.onShutdown('tracing', () => tracing.shutdown());

  return {
    config,
    metrics,
    server,
    tracing,
    logger,
    logs,
    logStream,
    pool,
    llmCache,
    embeddingCache,
    agent,
    store,
    notices,
    ready,
    runTask,
    async runBatch(onProgress) {
      await ready;
      const prompts = generateTasks(config.tasks, config.seed);
      const results: TaskResult[] = [];
      let next = 0;
      const worker = async () => {
        while (next < prompts.length) {
          results.push(await runTask(prompts[next++]));
          onProgress(results.length, agent.stats.errors);
        }
      };
      await Promise.all(Array.from({ length: Math.min(config.concurrency, prompts.length) }, worker));
      return results;
    },
    async close() {
      await server.close();
    },
  };
}
