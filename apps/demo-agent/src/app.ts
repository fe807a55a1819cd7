// Composes the demo service: metrics, the health server with the task API, the agent and its
// tools. main.ts drives it from the command line; the end-to-end tests drive the built main.js.
import { createMetrics, type Metrics } from '@periscope/metrics';
import { createHealthServer, type HealthServer } from '@periscope/health';
import { startTracing, type Tracing } from '@periscope/tracing';
import { createLogAggregator, createLogger, redactString, type LogAggregator, type PeriscopeLogger } from '@periscope/logging';
import { Agent, AGENT_NAME } from './agent';
import type { DemoConfig } from './config';
import { UsageError } from './config';
import { OpenAiProvider } from './llm/openai';
import type { LlmProvider } from './llm/provider';
import { SimulatedProvider } from './llm/simulated';
import { addTaskRoutes, addTraceRoutes, TaskStore } from './task-api';
import { createTools } from './tools';
import { InMemoryKnowledgeBase, type KnowledgeBase } from './tools/knowledge-base';
import { generateTasks } from './tasks';
import type { TaskResult } from './agent';
import { readFileSync } from 'node:fs';
import path from 'node:path';

// src/ and dist/ both sit beside package.json.
const { version } = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };

export interface DemoApp {
  config: DemoConfig;
  metrics: Metrics;
  server: HealthServer;
  tracing: Tracing;
  logger: PeriscopeLogger;
  logs: LogAggregator;
  agent: Agent;
  store: TaskStore;
  knowledgeBase: KnowledgeBase;
  /** Lines to show once at start (what runs where, what is degraded). */
  notices: string[];
  runBatch(onProgress: (done: number, errors: number) => void): Promise<TaskResult[]>;
  close(): Promise<void>;
}

export function createProvider(config: DemoConfig, env: NodeJS.ProcessEnv = process.env): LlmProvider {
  if (config.provider === 'openai') {
    if (!env.OPENAI_BASE_URL) throw new UsageError('--provider openai needs OPENAI_BASE_URL (e.g. https://api.openai.com/v1)');
    return new OpenAiProvider({ baseUrl: env.OPENAI_BASE_URL, apiKey: env.OPENAI_API_KEY, model: env.OPENAI_MODEL ?? 'gpt-4o-mini' });
  }
  return new SimulatedProvider({ seed: config.seed, errorRate: config.errorRate, latencyScale: config.latencyScale });
}

export async function createDemoApp(config: DemoConfig): Promise<DemoApp> {
  const notices: string[] = [];
  const provider = createProvider(config);
  const metrics = createMetrics({ collectDefaultMetrics: true });
  // Logs go to stderr (stdout carries the progress and summary); the aggregator keeps recent
  // records, spots known failure patterns and feeds /status.
  const logs = createLogAggregator({ metrics });
  const logger = createLogger({ service: 'periscope-demo-agent', metrics, aggregator: logs, destination: process.stderr });
  // Every task is one trace. The in-process store backs /debug/traces and the summary's tree;
  // OTEL_TRACES_EXPORTER=otlp (or zipkin, console, file) sends them on as well.
  const tracing = startTracing({ serviceName: 'periscope-demo-agent', serviceVersion: version, metrics, redact: redactString });
  const server = createHealthServer({
    port: config.port,
    host: config.host,
    metrics,
    version,
    serviceId: process.env.OTEL_SERVICE_NAME ?? 'periscope-demo-agent',
    handleSignals: true,
    logger,
    // A short default drain for an interactive demo; PERISCOPE_HEALTH_DRAIN_DELAY_MS still wins.
    drainDelayMs: process.env.PERISCOPE_HEALTH_DRAIN_DELAY_MS ? undefined : 1000,
  });
  const knowledgeBase: KnowledgeBase = new InMemoryKnowledgeBase();
  notices.push('knowledge base: in memory');
  const agent = new Agent({ provider, tools: createTools({ knowledgeBase }), metrics, logger: logger.agentLogger(AGENT_NAME) });
  const store = new TaskStore();
  addTaskRoutes(server, agent, store);
  addTraceRoutes(server, tracing);
  if (!process.env.PERISCOPE_DEBUG_TOKEN) notices.push('debug endpoints (/debug/traces): off — set PERISCOPE_DEBUG_TOKEN to enable');

  server.addStatus('agent', () => ({ provider: provider.name, model: provider.defaultModel, ...agent.stats.toJSON() }));
  server.addStatus('logs', () => logs.summary());
  server.addCheck({
    name: 'llm-provider',
    measurement: 'errorRatio',
    critical: false,
    timeoutMs: 500,
    minIntervalMs: 5000,
    run: async () => {
      // Recent error ratio of LLM-backed tasks: warn above 20% so dashboards and /health show it.
      const { done, errors } = agent.stats;
      const ratio = done ? errors / done : 0;
      return { status: ratio > 0.2 ? 'warn' : 'pass', observedValue: Number(ratio.toFixed(4)), observedUnit: 'ratio', output: `${errors} of ${done} tasks failed` };
    },
  });
  // Hooks run in reverse order: traces are flushed first, logs last.
  server.onShutdown('logging', () => logger.shutdown());
  server.onShutdown('metrics', () => metrics.close());
  server.onShutdown('tracing', () => tracing.shutdown());

  return {
    config, metrics, server, tracing, logger, logs, agent, store, knowledgeBase, notices,
    async runBatch(onProgress) {
      const prompts = generateTasks(config.tasks, config.seed);
      const results: TaskResult[] = [];
      let next = 0;
      const worker = async () => {
        while (next < prompts.length) {
          const prompt = prompts[next++];
          const result = await agent.run(prompt);
          store.add(result);
          results.push(result);
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
