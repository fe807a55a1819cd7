// The generated rule file against the real tools: `promtool check rules`/`check config`, and
// `promtool test rules` with a case for every alert rule: it fires on its fixture (with exactly the
// expected labels) and stays quiet on series near its threshold.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { stringify } from 'yaml';
import { promtoolPath } from '@periscope-tools/testing';
import { catalogue, generateAssets, rulesFile, writeAssets, RULES_FILE, PROMETHEUS_CONFIG } from '../src';
import { FIXTURES, type AlertCase } from './fixtures';

const cat = catalogue();
const alertKey = (a: { alert: string; labels: Record<string, string> }) =>
  [a.alert, a.labels.severity, ...(a.labels.slo === undefined ? [] : [a.labels.slo])].join(':');
const alerts = cat.groups.flatMap((g) => g.alerts);

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'periscope-ops-assets-'));
  writeAssets(dir, generateAssets(cat));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function promtool(args: string[]) {
  const r = spawnSync(promtoolPath(), args, { encoding: 'utf8', cwd: dir, timeout: 120_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('promtool check rules accepts the generated rule file, and check config the Prometheus config', () => {
  const rules = promtool(['check', 'rules', RULES_FILE]);
  expect(rules.out).toContain(
    `SUCCESS: ${alerts.length + cat.groups.flatMap((g) => g.recordingRules).length} rules found`,
  );
  expect(rules.status).toBe(0);
  const config = promtool(['check', 'config', PROMETHEUS_CONFIG]);
  expect(config.out).toContain('is valid prometheus config file syntax');
  expect(config.status).toBe(0);
});

test('every alert rule has a fixture, every fixture an alert rule, and each alert a runbook_url', () => {
  expect(alerts.length).toBeGreaterThanOrEqual(20);
  expect(alerts.map(alertKey).sort()).toEqual(Object.keys(FIXTURES).sort());
  for (const a of alerts) expect(a.annotations.runbook_url).toMatch(new RegExp(`/docs/runbooks/${a.alert}\\.md$`));
});

function testGroup(alertname: string, c: AlertCase) {
  return {
    interval: '1m',
    input_series: c.series,
    alert_rule_test: [{ eval_time: c.at, alertname, exp_alerts: c.expect.map((labels) => ({ exp_labels: labels })) }],
  };
}

test('promtool test rules: every alert fires on its fixture and stays quiet near its threshold', () => {
  // Annotations are left out of this copy: promtool compares them too, and they hold $value.
  fs.writeFileSync(path.join(dir, 'unit.rules.yml'), rulesFile(cat, { withoutAnnotations: true }));
  const tests = [];
  for (const a of alerts) {
    const fixture = FIXTURES[alertKey(a)];
    tests.push(testGroup(a.alert, fixture.fires));
    if (fixture.quiet !== undefined)
      tests.push(testGroup(a.alert, { ...fixture.quiet, expect: fixture.quiet.expect ?? [] }));
    else expect(a.alert).toBe('Watchdog');
  }
  fs.writeFileSync(
    path.join(dir, 'unit.test.yml'),
    stringify({ rule_files: ['unit.rules.yml'], evaluation_interval: '1m', tests }, { lineWidth: 0 }),
  );
  const r = promtool(['test', 'rules', 'unit.test.yml']);
  expect(r.out).toContain('SUCCESS');
  expect(r.status).toBe(0);
  expect(tests.length).toBe(alerts.length * 2 - 1);
});

test('a fixture that should not fire does fail promtool (the harness can see a wrong expectation)', () => {
  const a = alerts.find((x) => x.alert === 'DbPoolConnectionLeaks')!;
  const fixture = FIXTURES[alertKey(a)];
  fs.writeFileSync(path.join(dir, 'unit.rules.yml'), rulesFile(cat, { withoutAnnotations: true }));
  fs.writeFileSync(
    path.join(dir, 'wrong.test.yml'),
    stringify({
      rule_files: ['unit.rules.yml'],
      evaluation_interval: '1m',
      tests: [testGroup(a.alert, { ...fixture.quiet!, expect: fixture.fires.expect })],
    }),
  );
  const r = promtool(['test', 'rules', 'wrong.test.yml']);
  expect(r.status).not.toBe(0);
  expect(r.out).toContain('DbPoolConnectionLeaks');
});
