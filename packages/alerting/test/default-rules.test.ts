// The default rules: valid for promtool, and evaluated in-process over what the packages record.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promtoolPath } from '@periscope-tools/testing';
import { createMetrics } from '@periscope/metrics';
import { createAlertManager, defaultRules, toPrometheusRulesYaml } from '../src';

describe('defaultRules', () => {
  it('exports a rule file promtool accepts, with runbook links', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'periscope-default-rules-'));
    try {
      const file = path.join(dir, 'rules.yml');
      const yaml = toPrometheusRulesYaml(defaultRules({ runbookBaseUrl: 'https://runbooks.test/' }));
      fs.writeFileSync(file, yaml, { mode: 0o600 });
      expect(yaml).toContain('"runbook_url": "https://runbooks.test/GenAiErrorRatioHigh"');
      const r = spawnSync(promtoolPath(), ['check', 'rules', file], { encoding: 'utf8' });
      expect(`${r.stdout}${r.stderr}`).toContain(`SUCCESS: ${defaultRules().length} rules found`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fires GenAiErrorRatioHigh (critical) from recorded LLM calls and inhibits its warning', () => {
    jest.useFakeTimers({ now: 0 });
    const metrics = createMetrics();
    const call = {
      provider: 'sim',
      model: 'sim-large',
      operation: 'chat',
      inputTokens: 10,
      outputTokens: 20,
      durationSeconds: 1,
    };
    metrics.recordLlmCall(call);
    const manager = createAlertManager({ metrics, evaluateEveryMs: 15_000, rules: defaultRules(), env: {} });
    try {
      for (let i = 0; i < 16; i++) {
        for (let k = 0; k < 6; k++) metrics.recordLlmCall(k < 2 ? { ...call, errorType: 'timeout' } : call);
        jest.advanceTimersByTime(15_000);
      }
      const fired = manager.alerts().filter((a) => a.labels.alertname === 'GenAiErrorRatioHigh');
      expect(fired.map((a) => [a.labels.severity, a.state, a.labels.gen_ai_request_model]).sort()).toEqual([
        ['critical', 'firing', 'sim-large'],
        ['warning', 'firing', 'sim-large'],
      ]);
      const critical = fired.find((a) => a.labels.severity === 'critical')!;
      expect(fired.find((a) => a.labels.severity === 'warning')!.inhibitedBy).toEqual([critical.fingerprint]);
      expect(manager.rulesStatus().every((r) => r.lastError === undefined)).toBe(true);
    } finally {
      void manager.close();
      void metrics.close();
      jest.useRealTimers();
    }
  });
});
