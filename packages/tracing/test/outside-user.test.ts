// What a user of the package sees: two copies of @opentelemetry/api are named at start (once), and
// the console exporter prints a tidy instrumentation scope (no `version: undefined`).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { trace as otelTrace } from '@opentelemetry/api';
import { createMetrics } from '@periscope/metrics';
import { getTracing, startTracing, trace, TracingStateError, type Tracing } from '../src';

const PACKAGE_VERSION = (
  JSON.parse(fs.readFileSync(path.join(__dirname, '../package.json'), 'utf8')) as {
    version: string;
  }
).version;

function runScript(file: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', file],
      { cwd: path.join(__dirname, '..'), env: { ...process.env, OTEL_TRACES_EXPORTER: 'none' }, timeout: 60_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve({ stdout, stderr })),
    );
  });
}

describe('two copies of @opentelemetry/api', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'periscope-api-copies-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const script = (appDir: string) => {
    fs.mkdirSync(appDir, { recursive: true });
    const file = path.join(appDir, 'main.ts');
    fs.writeFileSync(
      file,
      `import { startTracing } from ${JSON.stringify(path.join(__dirname, '../src'))};
async function main() {
  for (let i = 0; i < 2; i++) await startTracing({ store: false, env: {} }).close();
  console.log('done');
}
void main();
`,
    );
    return file;
  };

  it('warns once on stderr, naming both versions, when the application resolves another copy', async () => {
    // The application's own copy, as npm lays it out when its range and ours do not meet.
    const appDir = path.join(dir, 'app');
    const theirs = path.join(appDir, 'node_modules/@opentelemetry/api');
    fs.cpSync(apiRoot(), theirs, { recursive: true });
    const pkgFile = path.join(theirs, 'package.json');
    fs.writeFileSync(pkgFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(pkgFile, 'utf8')), version: '1.99.0' }));
    const { stdout, stderr } = await runScript(script(appDir));
    expect(stdout).toMatch(/done/);
    const lines = stderr.split('\n').filter((l) => l.includes('two copies of @opentelemetry/api'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`${otelApiVersion()} at `);
    expect(lines[0]).toContain(`1.99.0 at ${fs.realpathSync(theirs)} (the application's)`);
    expect(lines[0]).toMatch(/npm ls @opentelemetry\/api/);
  }, 90_000);

  it('says nothing when the application resolves the same copy', async () => {
    const { stdout, stderr } = await runScript(script(path.join(dir, 'plain')));
    expect(stdout).toMatch(/done/);
    expect(stderr).not.toMatch(/two copies/);
  }, 90_000);
});

/** The root of the copy of @opentelemetry/api this package resolves (its exports hide package.json). */
function apiRoot(): string {
  let d = path.dirname(require.resolve('@opentelemetry/api'));
  while (!fs.existsSync(path.join(d, 'package.json'))) d = path.dirname(d);
  return d;
}
function otelApiVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(apiRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

describe('console exporter', () => {
  let tracing: Tracing | undefined;
  afterEach(async () => {
    await tracing?.close();
    tracing = undefined;
  });

  it('prints our scope with the package version, and no undefined keys for a tracer without one', async () => {
    const printed: { instrumentationScope: Record<string, unknown> }[] = [];
    const original = console.dir;
    console.dir = (obj: unknown) => void printed.push(obj as (typeof printed)[number]);
    try {
      tracing = startTracing({ exporter: 'console', store: false, env: {} });
      trace('ours', () => undefined);
      otelTrace.getTracer('user-code').startSpan('theirs').end();
      await tracing.forceFlush();
    } finally {
      console.dir = original;
    }
    const scopes = printed.map((p) => p.instrumentationScope);
    expect(scopes).toEqual([{ name: '@periscope/tracing', version: PACKAGE_VERSION }, { name: 'user-code' }]);
    for (const s of scopes) expect(Object.values(s)).not.toContain(undefined);
  });
});

describe('getTracing() and configure(): what an app started with the register entry picks up', () => {
  it('returns the running instance, takes a registry and a redactor late, and forgets it on close', async () => {
    expect(getTracing()).toBeUndefined();
    const tracing = startTracing({ env: {} });
    try {
      expect(getTracing()).toBe(tracing);
      const metrics = createMetrics();
      tracing.configure({ metrics, redact: (t) => t.replace(/sk-\w+/g, '[REDACTED]') });
      expect(() => tracing.configure({ metrics: createMetrics() })).toThrow(TracingStateError);
      let traceId = '';
      expect(() =>
        trace('fails', (span) => {
          traceId = span.spanContext().traceId;
          throw new Error('bad key sk-abc123');
        }),
      ).toThrow('sk-abc123');
      const stored = JSON.stringify(tracing.store!.getTrace(traceId));
      expect(stored).toContain('bad key [REDACTED]');
      expect(stored).not.toContain('sk-abc123');
      expect((await metrics.expose()).body).toMatch(/periscope_tracing_spans_total\{span_name="fails"/);
    } finally {
      await tracing.close();
    }
    expect(getTracing()).toBeUndefined();
  });
});
