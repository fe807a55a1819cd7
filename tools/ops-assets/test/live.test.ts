// The generated rules and dashboards against a real Prometheus scraping the built demo agent:
// every rule loads and evaluates, the SLO error-budget series exist, and every dashboard query
// returns series (apps/demo-agent/test/e2e.test.ts checks the agents-and-LLM dashboard the same way).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startChildApp, startPrometheus, type ChildApp, type PrometheusServer } from '@periscope-tools/testing';
import { DASHBOARDS, RULES_FILE, catalogue, generateAssets, writeAssets } from '../src';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const DEMO = path.join(ROOT, 'apps', 'demo-agent', 'dist', 'main.js');
/**
 * What a healthy demo cannot show: the temperature and power of its simulated GPUs, and error
 * counters that exist only after an error (the demo runs with no simulated errors here).
 */
const NO_SERIES_IN_DEMO = new Set([
  'periscope-gpus/GPU temperature',
  'periscope-gpus/GPU power',
  'periscope-gpus/Rejected lease requests per second',
  'periscope-errors-slos/Tool errors per second',
  'periscope-errors-slos/Database pool errors per second',
  'periscope-errors-slos/Cache errors per second',
  'periscope-pools-cache/Cache errors per second',
]);

jest.setTimeout(120_000);

let dir: string;
let app: ChildApp;
let prom: PrometheusServer;
beforeAll(async () => {
  if (!fs.existsSync(DEMO))
    throw new Error(`${DEMO} is missing: build the demo first (npx tsc -p apps/demo-agent/tsconfig.build.json)`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'periscope-ops-live-'));
  writeAssets(dir, generateAssets(catalogue()));
  app = await startChildApp({
    script: DEMO,
    // A fresh seed: replies cached in Redis by an earlier run would leave no LLM call to measure.
    args: ['--tasks', '6', '--port', '0', '--error-rate', '0', '--seed', String(Math.floor(Math.random() * 2 ** 30))],
    env: { PERISCOPE_DEMO_LATENCY_SCALE: '0.02', PERISCOPE_DEMO_CACHE_DIR: path.join(dir, 'cache') },
  });
  await app.waitForOutput(/Serving until Ctrl-C/);
  prom = await startPrometheus(new URL(app.url).host, { ruleFiles: [path.join(dir, RULES_FILE)] });
  for (let i = 0; i < 100; i++) {
    const [target] = await prom.targets();
    if (target?.health === 'up') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  // Rates need two scrapes; recording rules one more evaluation.
  await new Promise((r) => setTimeout(r, 4000));
});
afterAll(async () => {
  await prom?.stop();
  await app?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('every generated rule loads and evaluates without error in a real Prometheus', async () => {
  const groups = await prom.rules();
  expect(groups.map((g) => g.name).sort()).toEqual(
    catalogue()
      .groups.map((g) => g.name)
      .sort(),
  );
  for (const rule of groups.flatMap((g) => g.rules))
    expect({ rule: rule.name, health: rule.health, error: rule.lastError ?? '' }).toEqual({
      rule: rule.name,
      health: 'ok',
      error: '',
    });
});

test('the SLO series exist: error ratios, budget and budget remaining for both SLOs', async () => {
  for (const slo of ['agent_task_success', 'llm_latency']) {
    for (const record of ['slo:sli_error:ratio_rate5m', 'slo:error_budget:ratio', 'slo:error_budget_remaining:ratio']) {
      const result = await prom.query(`${record}{slo="${slo}"}`);
      expect({ slo, record, series: result.length }).toEqual({ slo, record, series: 1 });
    }
  }
  // No task failed: the whole budget remains.
  const [remaining] = await prom.query('slo:error_budget_remaining:ratio{slo="agent_task_success"}');
  expect(Number(remaining.value[1])).toBe(1);
});

test('the Watchdog fires', async () => {
  const firing = await prom.query('ALERTS{alertname="Watchdog", alertstate="firing"}');
  expect(firing).toHaveLength(1);
});

test("every dashboard query returns series carrying its legend's labels (GPU temperature/power and error-only counters aside)", async () => {
  const checked: string[] = [];
  for (const d of DASHBOARDS) {
    if (NO_SERIES_IN_DEMO.has(d.uid)) continue;
    const doc = JSON.parse(fs.readFileSync(path.join(dir, d.file), 'utf8'));
    for (const panel of doc.panels) {
      if (NO_SERIES_IN_DEMO.has(`${d.uid}/${panel.title}`)) continue;
      for (const target of panel.targets) {
        const result = await prom.query(target.expr);
        expect({ panel: `${d.uid}/${panel.title}`, expr: target.expr, series: result.length > 0 }).toEqual({
          panel: `${d.uid}/${panel.title}`,
          expr: target.expr,
          series: true,
        });
        // The legend's labels exist on the series: a renamed label would show as an empty legend.
        for (const [, label] of String(target.legendFormat).matchAll(/\{\{\s*(\w+)\s*\}\}/g))
          expect({ panel: panel.title, label, present: result.some((r) => label in r.metric) }).toEqual({
            panel: panel.title,
            label,
            present: true,
          });
        checked.push(target.expr);
      }
    }
  }
  expect(checked.length).toBeGreaterThan(40);
});
