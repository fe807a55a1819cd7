// The demo's tracing, profiles, GPU pool and alerts: the tracing the register entry started (or one
// started here when run without it), the continuous CPU profiler and heap sampler (started at boot
// by boot.ts) behind the /debug/pprof and /debug/flame endpoints, the GPU pool the embedding tool and
// the local reranker model lease from, and the alert manager behind /alerts.
import fs from 'node:fs';
import path from 'node:path';
import { redactString } from '@periscope/core';
import { HttpError, sendJson, type HealthServer } from '@periscope/health';
import type { Metrics } from '@periscope/metrics';
import type { LogAlert, PeriscopeLogger } from '@periscope/logging';
import { startCapture, type CpuProfile, type TopFunction } from '@periscope/profiling';
import { getTracing, startTracing, type Tracing } from '@periscope/tracing';
import { createGpuPool, type GpuPool } from '@periscope/gpu-pool';
import {
  createAlertManager,
  defaultRules,
  defaultSlos,
  historySource,
  sloStatus,
  type AlertManager,
} from '@periscope/alerting';
import type { KnowledgeBase, SearchHit } from './tools/knowledge-base';
import { embed } from './tools/embedding';
import type { Profilers } from './boot';

type DemoDebugCode = 'ERR_DEMO_INVALID_PARAMETER';

/**
 * `npm run demo` starts the demo as `node --import @periscope/tracing/register` (configured by
 * apps/demo-agent/demo.env and OTEL_* variables): tracing runs before any module loads, and here
 * the demo only hands it what the environment cannot carry (its metrics registry, the redactor).
 * Run without the register entry (`node dist/main.js`), it starts tracing itself, as before.
 */
export function demoTracing(metrics: Metrics, logger: PeriscopeLogger, version: string): Tracing {
  const running = getTracing();
  if (running) {
    running.configure({ metrics, redact: redactString, closedByApp: true });
    logger.info('tracing started by @periscope/tracing/register', { 'service.name': running.serviceName });
    return running;
  }
  // Every task is one trace. The in-process store backs /debug/traces and the summary's tree;
  // OTEL_TRACES_EXPORTER=otlp (or zipkin, console, file) sends them on as well.
  return startTracing({ serviceName: 'periscope-demo-agent', serviceVersion: version, metrics, redact: redactString });
}

/** `?seconds=` of the profile endpoints: an integer from 1 to 300 (default 30, as Go's pprof). */
export function secondsParameter(q: URLSearchParams, defaultSeconds = 30): number {
  const text = q.get('seconds') ?? String(defaultSeconds);
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 300)
    throw new HttpError<DemoDebugCode>(
      400,
      `query parameter "seconds" must be an integer from 1 to 300, got ${JSON.stringify(text.slice(0, 64))}`,
      'ERR_DEMO_INVALID_PARAMETER',
    );
  return n;
}

/** /debug/pprof/profile, /debug/pprof/heap (gzipped pprof) and /debug/flame (HTML); /debug/ needs the bearer token. */
export function addProfileRoutes(server: HealthServer, profilers: Profilers): void {
  const send = (res: import('node:http').ServerResponse, type: string, body: Buffer | string, name?: string) => {
    const headers: Record<string, string | number> = {
      'content-type': type,
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    };
    if (name) headers['content-disposition'] = `attachment; filename="${name}"`;
    res.writeHead(200, headers);
    res.end(body);
  };
  server.route('GET', '/debug/pprof/profile', async (_req, res, ctx) => {
    const cpu = await profilers.cpu.profile(secondsParameter(ctx.query) * 1000);
    send(res, 'application/octet-stream', cpu.toPprof(), 'profile.pb.gz');
  });
  server.route('GET', '/debug/pprof/heap', (_req, res) => {
    send(res, 'application/octet-stream', profilers.heap.profile().toPprof(), 'heap.pb.gz');
  });
  server.route('GET', '/debug/flame', async (_req, res, ctx) => {
    const seconds = secondsParameter(ctx.query, 10);
    const cpu = await profilers.cpu.profile(seconds * 1000);
    send(res, 'text/html; charset=utf-8', cpu.toFlameGraphHtml({ title: `periscope-demo-agent, ${seconds} s` }));
  });
}

export interface BatchProfile {
  pprofPath: string;
  flamePath: string;
  top: TopFunction[];
}

/** Samples the CPU around `work` and writes profile.pb.gz and flame.html (0600) into `dir` (0700). */
export async function profileBatch<T>(
  dir: string,
  work: () => Promise<T>,
): Promise<{ result: T; profile: BatchProfile }> {
  const capture = startCapture({ labels: { service: 'periscope-demo-agent', job: 'batch' } });
  let result: T;
  let cpu: CpuProfile;
  try {
    result = await work();
  } finally {
    cpu = capture.stop();
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pprofPath = path.join(dir, 'profile.pb.gz');
  const flamePath = path.join(dir, 'flame.html');
  writePrivate(pprofPath, cpu.toPprof());
  writePrivate(flamePath, cpu.toFlameGraphHtml({ title: 'periscope-demo-agent batch' }));
  return { result, profile: { pprofPath, flamePath, top: cpu.top({ by: 'self', limit: 5 }) } };
}

function writePrivate(file: string, body: Buffer | string): void {
  fs.writeFileSync(file, body, { mode: 0o600 });
  fs.chmodSync(file, 0o600); // an earlier run's file keeps its mode through writeFileSync
}

/** The simulated devices used when nvidia-smi finds no GPU (PERISCOPE_GPUS overrides). */
export const SIMULATED_GPUS = 'sim:2x24GB';
const EMBEDDING_MB = 512;
const RERANKER_MB = 2048;

export async function createDemoGpuPool(
  metrics: Metrics,
  logger: PeriscopeLogger,
  notices: string[],
): Promise<GpuPool> {
  const gpus = createGpuPool({
    name: 'demo',
    discovery: { simulated: SIMULATED_GPUS },
    strategy: 'best-fit',
    metrics,
    logger,
  });
  await gpus.ready;
  const { source, devices } = gpus.status();
  const counts = new Map<string, number>();
  for (const d of devices) counts.set(d.name, (counts.get(d.name) ?? 0) + 1);
  const list = [...counts].map(([name, n]) => `${n} × ${name}`).join(', ');
  notices.push(
    source === 'simulated'
      ? `gpu: no GPU found by nvidia-smi — simulated devices (${list}); the embedding tool and the local reranker lease from them`
      : `gpu: ${devices.length} device(s) from ${source} (${list})`,
  );
  return gpus;
}

/** An embedding computed under a GPU lease (the demo's model is simulated; the lease is real). */
export function embedOnGpu(gpus: GpuPool, text: string): Promise<Float32Array> {
  return gpus.run({ memoryMb: EMBEDDING_MB, label: 'embedding' }, () => embed(text));
}

const cosine = (a: Float32Array, b: Float32Array) => a.reduce((sum, x, i) => sum + x * b[i], 0);

/**
 * The knowledge base with a simulated local reranker model: it scores each hit by the similarity of
 * its embedding to the query's, under a GPU lease, and keeps the search's order.
 */
export function withLocalReranker(kb: KnowledgeBase, gpus: GpuPool): KnowledgeBase {
  return {
    kind: `${kb.kind} + local reranker`,
    async search(query: string, limit: number, signal?: AbortSignal): Promise<SearchHit[]> {
      const hits = await kb.search(query, limit, signal);
      if (hits.length === 0) return hits;
      return gpus.run({ memoryMb: RERANKER_MB, label: 'local-model:reranker', signal }, () => {
        const q = embed(query);
        return hits.map((h) => ({ ...h, relevance: Number(cosine(q, embed(`${h.title} ${h.snippet}`)).toFixed(3)) }));
      });
    },
  };
}

/** Forwards the log aggregator's alerts to the manager once it exists (the aggregator is made first). */
export class LogAlertRelay {
  private sink: ((alert: LogAlert) => void) | undefined;
  private readonly early: LogAlert[] = [];
  readonly onAlert = (alert: LogAlert): void => {
    if (this.sink) this.sink(alert);
    else if (this.early.length < 100) this.early.push(alert);
  };
  connect(sink: (alert: LogAlert) => void): void {
    this.sink = sink;
    for (const alert of this.early.splice(0)) sink(alert);
  }
}

export function createDemoAlerts(
  metrics: Metrics,
  logger: PeriscopeLogger,
  relay: LogAlertRelay,
  alertmanagerUrl: string | undefined,
  notices: string[],
): AlertManager {
  const alerts = createAlertManager({
    metrics,
    rules: defaultRules(),
    alertmanagerUrl: alertmanagerUrl || undefined,
    logger,
  });
  relay.connect(alerts.logAlertSink);
  const channels = Object.keys(alerts.channelStats());
  notices.push(
    channels.length
      ? `alerts: ${alerts.rulesStatus().length} default rules, notifying ${channels.join(', ')}`
      : `alerts: ${alerts.rulesStatus().length} default rules (GET /alerts); --alertmanager URL to push them`,
  );
  return alerts;
}

/** GET /alerts, and the gpus / alerts / profiling sections of /status, and their shutdown hooks. */
export function addObservabilityStatus(
  server: HealthServer,
  parts: { gpus: GpuPool; alerts: AlertManager; profilers: Profilers; metrics: Metrics },
): void {
  const { gpus, alerts, profilers } = parts;
  addSloStatus(server, parts.metrics);
  server.route('GET', '/alerts', (_req, res) => sendJson(res, 200, { alerts: alerts.alerts() }));
  server.addStatus('gpus', () => gpus.status());
  server.addStatus('alerts', () => ({
    active: alerts.alerts(),
    rules: alerts.rulesStatus().length,
    channels: alerts.channelStats(),
  }));
  server.addStatus('profiling', () => ({ cpu: profilers.cpu.stats() }));
  server.onShutdown('alerting', () => alerts.close());
  server.onShutdown('gpu-pool', () => gpus.close());
  server.onShutdown('profiling', () => Promise.all([profilers.cpu.close(), profilers.heap.close()]));
}

/** The SLOs the ops assets alert on, with the error budget left over the last hour of samples. */
const SLO_RANGE_MS = 3_600_000;
function addSloStatus(server: HealthServer, metrics: Metrics): void {
  const slos = defaultSlos();
  const history = metrics.history({
    series: ['periscope_agent_tasks_total', 'gen_ai_client_operation_duration_seconds'],
    intervalMs: 5_000,
    retentionMs: SLO_RANGE_MS,
  });
  const source = historySource(history);
  server.addStatus('slo', () =>
    slos.map((slo) => ({
      ...sloStatus(slo, source, Date.now(), SLO_RANGE_MS),
      measuredOver: '1h of in-process samples',
    })),
  );
  server.onShutdown('slo-history', () => history.close());
}
