// The metric names the code registers, read from the code itself, so a generated asset can never
// name a metric that does not exist: (1) every `name: '…'` of a metric definition and every
// DCGM gauge in packages/*/src and apps/*/src, (2) the names a live @periscope/metrics registry
// holds after one GenAI call (the GenAI names are computed from the OpenTelemetry conventions)
// with prom-client's default process/Node.js metrics.
import fs from 'node:fs';
import path from 'node:path';
import { createMetrics } from '@periscope/metrics';

export type MetricKind = 'counter' | 'gauge' | 'histogram' | 'summary' | 'unknown';

export interface RegisteredMetric {
  name: string;
  kind: MetricKind;
  /** Where it was found: a source file (relative) or 'registry'. */
  source: string;
}

const DEFINITION = /\.(counter|gauge|histogram|summary)\(\s*\{\s*name:\s*'([a-zA-Z_:][a-zA-Z0-9_:]*)'/g;
const NAME_FIELD = /\bname:\s*'([a-zA-Z_:][a-zA-Z0-9_:]*_[a-zA-Z0-9_:]+)'/g;
const DCGM = /\bdcgm\(\s*'(DCGM_[A-Z0-9_]+)'/g;

function sourceFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Metric definitions found in the sources of packages/* and apps/* under `root`. */
export function scanSourceMetrics(root: string): RegisteredMetric[] {
  const found = new Map<string, RegisteredMetric>();
  const add = (m: RegisteredMetric) => {
    const old = found.get(m.name);
    if (old === undefined || old.kind === 'unknown') found.set(m.name, m);
  };
  for (const group of ['packages', 'apps']) {
    const groupDir = path.join(root, group);
    if (!fs.existsSync(groupDir)) continue;
    for (const project of fs.readdirSync(groupDir))
      for (const file of sourceFiles(path.join(groupDir, project, 'src'))) {
        const text = fs.readFileSync(file, 'utf8');
        const source = path.relative(root, file);
        for (const m of text.matchAll(DEFINITION)) add({ name: m[2], kind: m[1] as MetricKind, source });
        for (const m of text.matchAll(NAME_FIELD)) add({ name: m[1], kind: 'unknown', source });
        for (const m of text.matchAll(DCGM)) add({ name: m[1], kind: 'gauge', source });
      }
  }
  return [...found.values()];
}

/** The names a live registry holds: prom-client's defaults and the GenAI client metrics. */
export async function registryMetrics(): Promise<RegisteredMetric[]> {
  const metrics = createMetrics({ collectDefaultMetrics: true });
  try {
    metrics.recordLlmCall({
      provider: 'catalogue',
      model: 'catalogue',
      operation: 'chat',
      inputTokens: 1,
      outputTokens: 1,
      durationSeconds: 0.1,
      timeToFirstChunkSeconds: 0.05,
    });
    const json = await metrics.registry.getMetricsAsJSON();
    return json.map((m) => ({ name: m.name, kind: String(m.type) as MetricKind, source: 'registry' }));
  } finally {
    await metrics.close();
  }
}

/** Every registered metric, keyed by name. */
export async function registeredMetrics(root: string): Promise<Map<string, RegisteredMetric>> {
  const out = new Map<string, RegisteredMetric>();
  for (const m of [...scanSourceMetrics(root), ...(await registryMetrics())]) {
    const old = out.get(m.name);
    if (old === undefined || old.kind === 'unknown') out.set(m.name, m);
  }
  return out;
}

/** Whether a series name (`x`, `x_bucket`, `x_sum`, `x_count`) belongs to a registered metric. */
export function isRegisteredSeries(name: string, registered: Map<string, RegisteredMetric>): boolean {
  if (registered.has(name)) return true;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (m === null) return false;
  const base = registered.get(m[1]);
  if (base === undefined) return false;
  if (m[2] === 'bucket') return base.kind === 'histogram' || base.kind === 'unknown';
  return base.kind === 'histogram' || base.kind === 'summary' || base.kind === 'unknown';
}
