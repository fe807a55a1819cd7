// End to end with a real Prometheus (tools/testing's harness): it scrapes our exposition every
// second and evaluates the exported rule file; the in-process manager evaluates the same rules
// over the same metrics. Both must come to the same alerts, with the same labels.
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { startPrometheus } from '@periscope-tools/testing';
import { createMetrics } from '@periscope/metrics';
import { createAlertManager, toPrometheusRulesYaml, type Rule } from '../src';

const RULES: Rule[] = [
  {
    name: 'QueueBacklog',
    expr: 'max by (queue) (agent_queue_depth) > 50',
    severity: 'critical',
    labels: { team: 'agents' },
  },
  { name: 'JobsFailing', expr: 'sum by (kind) (rate(agent_jobs_failed_total[30s])) > 0.5', severity: 'warning' },
];

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v).slice(0, 800)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

it('a real Prometheus evaluating the exported rules over our /metrics fires the same alerts as the manager', async () => {
  const metrics = createMetrics();
  const depth = metrics.gauge({ name: 'agent_queue_depth', help: 'q', labelNames: ['queue'] as const });
  const failed = metrics.counter({ name: 'agent_jobs_failed_total', help: 'f', labelNames: ['kind'] as const });
  depth.set({ queue: 'embed' }, 80);
  depth.set({ queue: 'chat' }, 3);
  failed.inc({ kind: 'tool' }, 0);
  failed.inc({ kind: 'llm' }, 0);
  const server = http.createServer((req, res) => {
    void metrics
      .expose(req.headers.accept)
      .then((e) => res.writeHead(200, { 'Content-Type': e.contentType }).end(e.body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'periscope-alerting-prom-'));
  const rulesFile = path.join(dir, 'rules.yml');
  fs.writeFileSync(rulesFile, toPrometheusRulesYaml(RULES, { intervalMs: 1000 }), { mode: 0o600 });
  const prom = await startPrometheus(`127.0.0.1:${(server.address() as AddressInfo).port}`, { ruleFiles: [rulesFile] });
  const manager = createAlertManager({ metrics, evaluateEveryMs: 1000, rules: RULES, env: {} });
  const ticker = setInterval(() => failed.inc({ kind: 'tool' }, 2), 1000); // 2/s failing, llm quiet
  try {
    const promAlerts = async () => {
      const res = await fetch(`${prom.url}/api/v1/alerts`);
      const body = (await res.json()) as { data: { alerts: Array<{ labels: Record<string, string>; state: string }> } };
      return body.data.alerts
        .filter((a) => a.state === 'firing')
        .map((a) => JSON.stringify(Object.entries(a.labels).sort()));
    };
    const theirs = await until(promAlerts, (a) => a.length === 2, 'two firing alerts in Prometheus');
    const ours = await until(
      async () =>
        manager
          .alerts()
          .filter((a) => a.state === 'firing')
          .map((a) => JSON.stringify(Object.entries(a.labels).sort())),
      (a) => a.length === 2,
      'two firing alerts in the manager',
    );
    expect(ours.sort()).toEqual(theirs.sort());
    expect(ours.join()).toContain('"queue","embed"');
    expect(ours.join()).toContain('"kind","tool"');
  } finally {
    clearInterval(ticker);
    await manager.close();
    await prom.stop();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await metrics.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
