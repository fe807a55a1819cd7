// The CI check "regenerate and fail on a diff": the committed deploy/ and docs/runbooks files are
// exactly what the generator writes now. On failure, run `npx nx run tools-ops-assets:generate`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateAssets, staleAssets, writeAssets } from '../src';

const ROOT = path.resolve(__dirname, '..', '..', '..');

test('the committed ops assets are current (else: npx nx run tools-ops-assets:generate)', () => {
  expect(staleAssets(ROOT, generateAssets())).toEqual([]);
});

test('staleAssets names a changed, a missing and a stale file, and writeAssets makes the tree current', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'periscope-ops-current-'));
  try {
    const files = generateAssets();
    writeAssets(dir, files);
    expect(staleAssets(dir, files)).toEqual([]);
    fs.appendFileSync(path.join(dir, 'deploy/prometheus/prometheus.yml'), '# hand edit\n');
    fs.rmSync(path.join(dir, 'docs/runbooks/Watchdog.md'));
    fs.writeFileSync(path.join(dir, 'deploy/grafana/old-dashboard.json'), '{}');
    fs.mkdirSync(path.join(dir, 'deploy/compose/secrets'));
    fs.writeFileSync(path.join(dir, 'deploy/compose/secrets/slack-webhook-url'), 'https://hooks.example/x');
    expect(staleAssets(dir, files)).toEqual([
      'deploy/grafana/old-dashboard.json',
      'deploy/prometheus/prometheus.yml',
      'docs/runbooks/Watchdog.md',
    ]);
    writeAssets(dir, files);
    expect(staleAssets(dir, files)).toEqual([]);
    // The operator's secrets are never touched.
    expect(fs.readFileSync(path.join(dir, 'deploy/compose/secrets/slack-webhook-url'), 'utf8')).toBe(
      'https://hooks.example/x',
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
