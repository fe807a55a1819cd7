// End to end, the zero-code path the demo is started with (`npm run demo`, `npm start`):
// `node --env-file=demo.env --import @periscope/tracing/register dist/main.js`. Tracing runs before
// the app loads; the demo picks that instance up (no second startTracing(), which would throw) and
// hands it its metrics registry, so traces, span metrics and trace-correlated logs all work.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const APP_DIR = path.join(__dirname, '..');
const CACHE_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'periscope-demo-register-'));
afterAll(() => fs.rmSync(CACHE_DIR, { recursive: true, force: true }));

test('npm start runs the demo under @periscope/tracing/register, configured by demo.env', async () => {
  const spans = path.join(CACHE_DIR, 'spans.jsonl');
  const child = spawn(
    process.execPath,
    [
      '--env-file=demo.env',
      '--import',
      '@periscope/tracing/register',
      'dist/main.js',
      '--tasks',
      '3',
      '--port',
      '0',
      '--exit',
      '--error-rate',
      '0',
      '--seed',
      String(Math.floor(Math.random() * 2 ** 30)),
    ],
    {
      cwd: APP_DIR,
      env: {
        ...process.env,
        OTEL_TRACES_EXPORTER: 'file',
        PERISCOPE_TRACING_FILE: spans,
        PERISCOPE_DEMO_LATENCY_SCALE: '0.02',
        PERISCOPE_DEMO_CACHE_DIR: CACHE_DIR,
        PERISCOPE_DEMO_OUT_DIR: path.join(CACHE_DIR, 'out'),
        PERISCOPE_GPU_NVIDIA_SMI: path.join(CACHE_DIR, 'no-nvidia-smi'),
        PERISCOPE_GPU_SYSTEMINFORMATION: 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect({ code, err: code === 0 ? '' : err }).toEqual({ code: 0, err: '' });
  expect(out).toMatch(/tasks\s+3 in [\d.]+ s \(3 succeeded, 0 failed\)/);
  expect(out).toMatch(/Slowest trace \([0-9a-f]{32}\)\ntrace [0-9a-f]{32}.*\n└─ invoke_agent periscope-demo-agent/);
  const started = err
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((r) => r.body === 'tracing started by @periscope/tracing/register');
  expect(started).toMatchObject({ 'service.name': 'periscope-demo-agent' });
  // The register entry's exporter (from the environment) got the spans, with demo.env's resource.
  const lines = fs.readFileSync(spans, 'utf8').trim().split('\n');
  const first = JSON.parse(lines[0]) as Record<string, unknown>;
  expect(JSON.stringify(first)).toContain('periscope-demo-agent');
  expect(lines.some((l) => l.includes('invoke_agent periscope-demo-agent'))).toBe(true);
}, 180_000);
