// The parts createDemoApp composes, one function each: telemetry, the health server, the
// database (configured or embedded), the caches, the agent, and what the server reports.
import os from 'node:os';
import path from 'node:path';
import { createMetrics, type Metrics } from '@periscope/metrics';
import { createHealthServer, type HealthServer } from '@periscope/health';
import type { Tracing } from '@periscope/tracing';
import { redactUrl, type Logger } from '@periscope/core';
import { createLogAggregator, createLogger, type LogAggregator, type PeriscopeLogger } from '@periscope/logging';
import { createPool, type DbPool } from '@periscope/db-pool';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '@periscope/db-pool/embedded';
import { createCache, llmCacheKey, sha256Hex, type Cache } from '@periscope/cache';
import type { GpuPool } from '@periscope/gpu-pool';
import { Agent, AGENT_NAME, type AgentOptions, type TaskResult } from './agent';
import type { AdmissionController } from './admission';
import { startProfilers } from './boot';
import type { DemoConfig } from './config';
import type { LlmProvider } from './llm/provider';
import { ProgressAwareStream } from './progress';
import { generateTasks } from './tasks';
import { createTools } from './tools';
import { createDelegateTool, DELEGATE_TOOL } from './tools/delegate';
import { demoTracing, embedOnGpu, LogAlertRelay, withLocalReranker } from './observability';
import { PostgresKnowledgeBase, setUpSchema } from './tools/pg-knowledge-base';

export interface Telemetry {
  metrics: Metrics;
  logs: LogAggregator;
  logStream: ProgressAwareStream;
  logger: PeriscopeLogger;
  tracing: Tracing;
  /** Hands the aggregator's log-pattern alerts to the alert manager once it exists. */
  logAlerts: LogAlertRelay;
}

export function startTelemetry(version: string): Telemetry {
  const metrics = createMetrics({ collectDefaultMetrics: true });
  // Logs go to stderr (stdout carries the progress and summary); the aggregator keeps recent
  // records, spots known failure patterns and feeds /status; its alerts enter the alert manager.
  const logAlerts = new LogAlertRelay();
  const logs = createLogAggregator({ metrics, onAlert: logAlerts.onAlert });
  const logStream = new ProgressAwareStream(process.stderr);
  const logger = createLogger({ service: 'periscope-demo-agent', metrics, aggregator: logs, destination: logStream });
  // Started by the register entry (`npm run demo`), or here.
  const tracing = demoTracing(metrics, logger, version);
  return { metrics, logs, logStream, logger, tracing, logAlerts };
}

/** The page's sparklines: task and LLM call rates with their p95, time to first chunk, tokens, cost, tools. */
const PAGE_SERIES = [
  'periscope_agent_tasks_total',
  'periscope_agent_task_duration_seconds',
  'gen_ai_client_operation_duration_seconds',
  'gen_ai_client_operation_time_to_first_chunk_seconds',
  'gen_ai_client_token_usage',
  'periscope_agent_llm_cost_usd_total',
  'periscope_agent_tool_calls_total',
  'periscope_agent_tool_errors_total',
];

export function createServer(config: DemoConfig, t: Telemetry, version: string, env: NodeJS.ProcessEnv): HealthServer {
  const history = t.metrics.history({ series: PAGE_SERIES, intervalMs: 5000, retentionMs: 15 * 60_000 });
  const server = createHealthServer({
    port: config.port,
    host: config.host,
    metrics: t.metrics,
    version,
    serviceId: env.OTEL_SERVICE_NAME ?? 'periscope-demo-agent',
    handleSignals: true,
    logger: t.logger,
    // A short default drain for an interactive demo; PERISCOPE_HEALTH_DRAIN_DELAY_MS still wins.
    drainDelayMs: env.PERISCOPE_HEALTH_DRAIN_DELAY_MS ? undefined : 1000,
    // The status page at / (loopback-only, or behind the debug token): checks, sections, recent
    // traces and their waterfalls. PERISCOPE_HEALTH_PAGE=false turns it off.
    page: env.PERISCOPE_HEALTH_PAGE ? undefined : true,
    traces: t.tracing.store,
    // The page's flame graph: the continuous CPU profiler's latest window (started once, at boot).
    profiles: startProfilers().cpu,
    series: { history, names: PAGE_SERIES },
  });
  server.onShutdown('page-history', () => history.close());
  return server;
}

export interface Database {
  pool: DbPool;
  embedded: EmbeddedPostgres | undefined;
  /** Resolves once the schema is set up and the knowledge base seeded. */
  ready: Promise<void>;
}

/** PostgreSQL: the configured one, or an embedded PGlite so the demo runs on a bare machine. */
export async function connectDatabase(t: Telemetry, env: NodeJS.ProcessEnv, notices: string[]): Promise<Database> {
  let embedded: EmbeddedPostgres | undefined;
  let connectionString = env.DATABASE_URL || undefined;
  if (!connectionString) {
    embedded = await startEmbeddedPostgres({ maxConnections: 16 });
    connectionString = embedded.connectionString;
    notices.push('database: no DATABASE_URL — started an embedded PostgreSQL (PGlite, for demos only)');
  } else {
    notices.push(`database: ${redactUrl(connectionString)}`);
  }
  const pool = createPool({
    connectionString,
    poolSize: 4,
    maxOverflow: 4,
    metrics: t.metrics,
    logger: t.logger,
    applicationName: 'periscope-demo-agent',
  });
  const ready = setUpSchema(pool).then(({ documents }) => {
    t.logger.info('knowledge base ready', { documents });
  });
  return { pool, embedded, ready };
}

export interface Caches {
  llmCache: Cache;
  embeddingCache: Cache;
}

/** Per user, never a shared predictable path: $XDG_CACHE_HOME/periscope-demo, else <tmpdir>/periscope-demo-cache-<uid>. */
export function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, 'periscope-demo');
  const uid = typeof process.getuid === 'function' ? process.getuid() : os.userInfo().username;
  return path.join(os.tmpdir(), `periscope-demo-cache-${uid}`);
}

/**
 * The LLM reply cache's lock across replicas: an LLM call can take tens of seconds (retries
 * included), so the lock outlives it, and a waiter waits as long before calling the model itself.
 */
export const LLM_CACHE_LOCK = { ttlMs: 60_000, waitTimeoutMs: 60_000, pollMs: 25 };

/** L1 memory + L2 Redis + L3 disk. Without Redis they run on L1 + L3 and say so once. */
export async function createCaches(
  t: { metrics: Metrics; logger: Logger },
  config: Pick<DemoConfig, 'redisUrl'>,
  env: NodeJS.ProcessEnv,
  notices: string[],
): Promise<Caches> {
  // Any form @periscope/cache takes (one node, Cluster seeds, Sentinels); config.ts checked it.
  const redisUrl = config.redisUrl || undefined;
  const cacheDir = env.PERISCOPE_DEMO_CACHE_DIR || defaultCacheDir(env);
  const cacheTiers = (name: string) => ({
    l2: redisUrl ? { url: redisUrl } : undefined,
    l3: { dir: path.join(cacheDir, name), maxBytes: 64 * 1024 * 1024 },
    metrics: t.metrics,
  });
  // Only the LLM cache logs: both share one Redis, so one "Redis is down" line is enough.
  const llmCache = createCache({
    namespace: 'demo-llm',
    l1: { maxEntries: 2000 },
    defaultTtlMs: 60 * 60_000,
    logger: t.logger,
    // Identical conversations on several replicas at once cost one model call, not one per replica.
    distributedLock: redisUrl ? LLM_CACHE_LOCK : false,
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
      ? `cache: L1 + L2 Redis (${redactUrl(redisUrl ?? '')}) + L3 disk (${cacheDir})`
      : `cache: ${l2.output}`,
  );
  return { llmCache, embeddingCache };
}

/**
 * The agent's chat seam: identical conversations get the stored reply, and concurrent duplicates
 * share one call (in this process, and across replicas through the cache's lock). The provider and
 * its seed are in the key: another simulated seed is another model.
 */
export function cachedChat(
  config: Pick<DemoConfig, 'provider' | 'seed'>,
  provider: Pick<LlmProvider, 'name' | 'defaultModel'>,
  llmCache: Cache,
): NonNullable<AgentOptions['chat']> {
  return (request, call) =>
    llmCache.getOrSet(
      llmCacheKey({
        model: request.model ?? provider.defaultModel,
        params: {
          provider: provider.name,
          seed: config.provider === 'sim' ? config.seed : undefined,
          tools: request.tools?.map((tool) => tool.name),
        },
        messages: request.messages,
      }),
      call,
    );
}

export function createDemoAgent(
  config: DemoConfig,
  provider: LlmProvider,
  t: Telemetry,
  pool: DbPool,
  caches: Caches,
  gpus: GpuPool,
): Agent {
  // The embedding model and the knowledge base's reranker run under GPU leases.
  const tools = createTools({
    knowledgeBase: withLocalReranker(new PostgresKnowledgeBase(pool), gpus),
    embed: (text) => caches.embeddingCache.getOrSet(sha256Hex(text), () => embedOnGpu(gpus, text)),
  });
  // With a peer, sub-tasks can go to another agent over HTTP, in the same trace.
  if (config.peerUrl) tools.set(DELEGATE_TOOL, createDelegateTool({ peerUrl: config.peerUrl }));
  return new Agent({
    provider,
    tools,
    metrics: t.metrics,
    logger: t.logger.agentLogger(AGENT_NAME),
    chat: cachedChat(config, provider, caches.llmCache),
  });
}

export function addChecks(server: HealthServer, pool: DbPool, caches: Caches, agent: Agent): void {
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
    run: () => caches.llmCache.l2Health(),
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
}

export interface Reported {
  config: DemoConfig;
  provider: LlmProvider;
  telemetry: Telemetry;
  database: Database;
  caches: Caches;
  agent: Agent;
  admission: AdmissionController;
}

/** /status sections, and the shutdown hooks (run in reverse: traces flush first, logs close last). */
export function addStatusAndShutdown(server: HealthServer, r: Reported): void {
  const { config, provider, agent, admission } = r;
  const { pool, embedded } = r.database;
  const { llmCache, embeddingCache } = r.caches;
  const { logs, logger, metrics, tracing } = r.telemetry;
  server.addStatus('agent', () => ({
    provider: provider.name,
    model: provider.defaultModel,
    ...agent.stats.toJSON(),
    admission: {
      running: admission.active,
      queued: admission.queued,
      maxConcurrent: config.maxConcurrentTasks,
      maxQueued: config.maxQueuedTasks,
    },
  }));
  server.addStatus('database', () => ({ kind: embedded ? 'embedded PGlite' : 'postgresql', ...pool.stats() }));
  server.addStatus('cache', () => ({ llm: llmCache.stats(), embeddings: embeddingCache.stats() }));
  server.addStatus('logs', () => logs.summary());
  server.onShutdown('logging', () => logger.shutdown());
  server.onShutdown('metrics', () => metrics.close());
  server.onShutdown('database', async () => {
    await pool.drain({ timeoutMs: 5000 });
    await pool.close();
    await embedded?.close();
  });
  server.onShutdown('cache', () => Promise.all([llmCache.close(), embeddingCache.close()]));
  server.onShutdown('tracing', () => tracing.shutdown());
}

/** The CLI batch: `config.tasks` generated prompts, `config.concurrency` at a time. */
export async function runBatch(
  config: DemoConfig,
  runTask: (prompt: string) => Promise<TaskResult>,
  errors: () => number,
  onProgress: (done: number, errors: number) => void,
): Promise<TaskResult[]> {
  const prompts = generateTasks(config.tasks, config.seed);
  const results: TaskResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < prompts.length) {
      results.push(await runTask(prompts[next++]));
      onProgress(results.length, errors());
    }
  };
  await Promise.all(Array.from({ length: Math.min(config.concurrency, prompts.length) }, worker));
  return results;
}
