// The node monitor: host and GPU metrics, dependency checks and agent readiness on one health server.
import { createMetrics, type Metrics } from '@periscope/metrics';
import { createHealthServer, type HealthServer, type CheckOutcome } from '@periscope/health';
import { redactString } from '@periscope/core';
import { createLogger, type PeriscopeLogger } from '@periscope/logging';
import { startTracing, tracedFetch, type Tracing } from '@periscope/tracing';
import { describeEndpoint, probeAgent, probePostgres, probeRedis, type ProbeResult } from './probes';
import type { MonitorConfig } from './config';
import { watchGpus } from './gpus';
import type { GpuPool } from '@periscope/gpu-pool';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const { version } = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };

const PAGE_SERIES = [
  'periscope_host_cpu_load_ratio',
  'periscope_host_memory_used_bytes',
  'periscope_node_dependency_latency_seconds',
  'DCGM_FI_DEV_GPU_UTIL',
  'periscope_health_check_duration_seconds',
];

export interface Monitor {
  server: HealthServer;
  metrics: Metrics;
  logger: PeriscopeLogger;
  tracing: Tracing;
  gpus: GpuPool;
  close(): Promise<unknown>;
}

export function createMonitor(config: MonitorConfig): Monitor {
  const metrics = createMetrics({ collectDefaultMetrics: true, hostMetrics: { intervalMs: config.hostIntervalMs } });
  const logger = createLogger({ service: 'periscope-health-server', metrics });
  // Polls of agents carry trace context, so an agent's side of a poll joins the monitor's trace.
  const tracing = startTracing({
    serviceName: 'periscope-health-server',
    serviceVersion: version,
    metrics,
    redact: redactString,
  });
  const fetchWithContext = tracedFetch() as typeof fetch;
  // Sparklines of the page: host load and memory, probe latency, GPU use, check durations.
  const history = metrics.history({ series: PAGE_SERIES, intervalMs: 5000, retentionMs: 15 * 60_000 });
  const server = createHealthServer({
    port: config.port,
    host: config.host,
    metrics,
    version,
    serviceId: 'periscope-health-server',
    handleSignals: true,
    logger,
    // The status page at / (loopback-only, or behind PERISCOPE_DEBUG_TOKEN): checks, dependencies,
    // agents, GPUs, the monitor's own traces (its probes and agent polls) and sparklines.
    page: config.page,
    traces: tracing.store,
    series: { history, names: PAGE_SERIES },
  });
  const last: LastResults = new Map();
  const addDependency = dependencyChecks(server, metrics, logger, config, last);
  if (config.databaseUrl) {
    const url = config.databaseUrl;
    addDependency('postgres', describeEndpoint(url), 'datastore', () => probePostgres(url, config.probeTimeoutMs));
  }
  if (config.redisUrl) {
    const url = config.redisUrl;
    addDependency('redis', describeEndpoint(url), 'datastore', () => probeRedis(url, config.probeTimeoutMs));
  }
  config.agents.forEach((base, i) =>
    addDependency(`agent-${i + 1}`, describeEndpoint(base), 'component', () =>
      probeAgent(base, config.probeTimeoutMs, fetchWithContext, config.agentMaxBodyBytes),
    ),
  );

  const gpus = watchGpus(server, metrics, logger, config.probeIntervalMs);

  server.addStatus('dependencies', () => Object.fromEntries(last));
  server.addStatus('agents', () =>
    config.agents.map((base, i) => ({
      name: `agent-${i + 1}`,
      url: describeEndpoint(base),
      ...last.get(`agent-${i + 1}`),
    })),
  );
  server.onShutdown('logging', () => logger.shutdown());
  server.onShutdown('metrics', async () => {
    history.close();
    await metrics.close();
  });
  server.onShutdown('tracing', () => tracing.shutdown());
  return { server, metrics, logger, tracing, gpus, close: () => server.close() };
}

type LastResults = Map<string, ProbeResult & { target: string; checkedAt: string }>;

/** Registers a check per dependency that records up/latency gauges and logs status changes. */
function dependencyChecks(
  server: HealthServer,
  metrics: Metrics,
  logger: PeriscopeLogger,
  config: MonitorConfig,
  last: LastResults,
) {
  const up = metrics.gauge({
    name: 'periscope_node_dependency_up',
    help: '1 when the dependency answered its last probe, else 0',
    labelNames: ['dependency'] as const,
  });
  const latency = metrics.gauge({
    name: 'periscope_node_dependency_latency_seconds',
    help: 'Round-trip time of the last successful probe',
    labelNames: ['dependency'] as const,
  });

  return (name: string, target: string, componentType: string, probe: () => Promise<ProbeResult>) => {
    server.addCheck({
      name,
      critical: config.critical.has(name),
      componentType,
      componentId: target,
      // The probe bounds itself; the check's timeout is a backstop slightly above it.
      timeoutMs: config.probeTimeoutMs + 500,
      minIntervalMs: config.probeIntervalMs,
      run: async (): Promise<CheckOutcome> => {
        const r = await probe();
        up.set({ dependency: name }, r.status === 'pass' ? 1 : 0);
        if (r.status === 'pass' && r.observedValue !== undefined)
          latency.set({ dependency: name }, r.observedValue / 1000);
        const previous = last.get(name);
        if (previous && previous.status !== r.status)
          logger.warn(`dependency ${name} is now ${r.status}`, { dependency: name, target, output: r.output });
        last.set(name, { ...r, target, checkedAt: new Date().toISOString() });
        return r;
      },
    });
  };
}
