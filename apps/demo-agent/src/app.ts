// Composes the demo service: metrics, logs, traces, the health server with the task API, the
// PostgreSQL pool (embedded when no DATABASE_URL), the LLM/embedding caches and the agent.
// main.ts drives it from the command line; the end-to-end tests drive the built main.js.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Metrics } from '@periscope/metrics';
import type { HealthServer } from '@periscope/health';
import type { Tracing } from '@periscope/tracing';
import type { LogAggregator, PeriscopeLogger } from '@periscope/logging';
import type { DbPool } from '@periscope/db-pool';
import type { Cache } from '@periscope/cache';
import type { GpuPool } from '@periscope/gpu-pool';
import type { AlertManager } from '@periscope/alerting';
import { startProfilers, type Profilers } from './boot';
import { addObservabilityStatus, addProfileRoutes, createDemoAlerts, createDemoGpuPool } from './observability';
import type { Agent, TaskResult } from './agent';
import { UsageError, type DemoConfig } from './config';
import { OpenAiProvider } from './llm/openai';
import type { LlmProvider } from './llm/provider';
import { SimulatedProvider } from './llm/simulated';
import { addTaskRoutes, addTraceRoutes, TaskStore } from './task-api';
import { AdmissionController } from './admission';
import { addCacheRoutes } from './cache-api';
import { rememberTask } from './tools/pg-knowledge-base';
import type { ProgressAwareStream } from './progress';
import {
  addChecks,
  addStatusAndShutdown,
  connectDatabase,
  createCaches,
  createDemoAgent,
  createServer,
  runBatch,
  startTelemetry,
} from './wiring';

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
  /** The continuous CPU profiler and heap sampler (started at boot). */
  profilers: Profilers;
  gpus: GpuPool;
  alerts: AlertManager;
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
  const telemetry = startTelemetry(version);
  const { metrics, logger, tracing } = telemetry;
  const server = createServer(config, telemetry, version, env);
  const database = await connectDatabase(telemetry, env, notices);
  const { pool, ready } = database;
  server.addStartupTask('database-schema', ready);
  const caches = await createCaches(telemetry, config, env, notices);
  const profilers = startProfilers();
  const gpus = await createDemoGpuPool(metrics, logger, notices);
  const alerts = createDemoAlerts(metrics, logger, telemetry.logAlerts, config.alertmanager, notices);
  const agent = createDemoAgent(config, provider, telemetry, pool, caches, gpus);
  const store = new TaskStore();
  const admission = new AdmissionController(
    { maxConcurrent: config.maxConcurrentTasks, maxQueued: config.maxQueuedTasks },
    metrics,
    () => server.state === 'draining' || server.state === 'stopped',
    () => agent.stats.percentileMs(0.5) || 1000,
  );
  const memoryWriteFailures = metrics.counter({
    name: 'periscope_agent_memory_write_failures_total',
    help: 'Finished tasks whose row could not be written to the memory table',
  });
  const runTask = async (prompt: string, options: { signal?: AbortSignal } = {}) => {
    const task = await agent.run(prompt, options);
    store.add(task);
    // The memory table is a record, not the answer: a failed write is counted and logged, not fatal.
    await rememberTask(pool, task).catch((err: unknown) => {
      memoryWriteFailures.inc();
      logger.warn('could not write task memory', { 'periscope.task.id': task.id, err });
    });
    return task;
  };
  addTaskRoutes(server, runTask, store, admission);
  addTraceRoutes(server, tracing);
  addCacheRoutes(server, caches);
  addProfileRoutes(server, profilers);
  if (!env.PERISCOPE_DEBUG_TOKEN)
    notices.push(
      'debug endpoints (/debug/traces, /debug/pprof/profile, /debug/pprof/heap, /debug/flame): off — set PERISCOPE_DEBUG_TOKEN to enable',
    );
  addChecks(server, pool, caches, agent);
  addStatusAndShutdown(server, { config, provider, telemetry, database, caches, agent, admission });
  addObservabilityStatus(server, { gpus, alerts, profilers, metrics: telemetry.metrics });

  return {
    config,
    ...telemetry,
    server,
    pool,
    ...caches,
    agent,
    store,
    profilers,
    gpus,
    alerts,
    notices,
    ready,
    runTask,
    async runBatch(onProgress) {
      await ready;
      return runBatch(
        config,
        (p) => runTask(p),
        () => agent.stats.errors,
        onProgress,
      );
    },
    async close() {
      await server.close();
    },
  };
}
