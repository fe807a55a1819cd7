// Zero-code start with auto-instrumentation, end to end: a service with no tracing code runs in a
// child process under `node --require <built dist>/register` (Jest's VM cannot run the require
// hooks the contrib instrumentations install), against the real PostgreSQL and Redis, exporting
// to a JSON-lines file that the test reads back.
import { execFile, spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { postgresUrl, redisUrl } from '@periscope-tools/testing';
import type { SpanRecord } from '../src';

const DIST_REGISTER = path.join(__dirname, '../dist/register.js');
const APP = path.join(__dirname, 'fixtures/auto-app.js');
const ESM_APP = path.join(__dirname, 'fixtures/esm-app.mjs');

function runApp(env: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
  if (!existsSync(DIST_REGISTER))
    throw new Error(`${DIST_REGISTER} is missing: build first (npx tsc -p packages/tracing/tsconfig.build.json)`);
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--require', DIST_REGISTER, APP],
      { env: { ...process.env, ...env }, timeout: 30_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve({ stdout, stderr })),
    );
  });
}

async function readSpans(file: string): Promise<SpanRecord[]> {
  return (await fs.readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as SpanRecord);
}

describe('node --require @periscope/tracing/register with http, pg, ioredis and winston instrumentations', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tracing-auto-'));
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it('gives one trace per request with its HTTP server, SQL and Redis spans, each exactly once, and trace ids in winston records', async () => {
    const file = path.join(dir, 'spans.jsonl');
    const { stdout } = await runApp({
      DATABASE_URL: postgresUrl(),
      REDIS_URL: redisUrl(),
      REQUESTS: '3',
      OTEL_SERVICE_NAME: 'auto-app',
      OTEL_TRACES_EXPORTER: 'file',
      PERISCOPE_TRACING_FILE: file,
      PERISCOPE_TRACING_INSTRUMENTATIONS: 'http,pg,ioredis,winston',
    });
    const { served, records } = JSON.parse(stdout) as {
      served: { path: string; body: string }[];
      records: { path: string; trace_id?: string; span_id?: string }[];
    };
    expect(served.map((s) => s.body)).toEqual(['1', '2', '3']);

    const spans = await readSpans(file);
    const servers = spans.filter((s) => s.kind === 'SERVER');
    // One SERVER span per request, none for the probe route.
    expect(servers.map((s) => s.attributes['url.path']).sort()).toEqual(['/work/0', '/work/1', '/work/2']);
    expect(new Set(servers.map((s) => s.traceId)).size).toBe(3);
    for (const server of servers) {
      expect(server.parentSpanId).toBeUndefined();
      const inTrace = spans.filter((s) => s.traceId === server.traceId);
      const sql = inTrace.filter(
        (s) => s.attributes['db.system'] === 'postgresql' || s.attributes['db.system.name'] === 'postgresql',
      );
      const redis = inTrace.filter(
        (s) => s.attributes['db.system'] === 'redis' || s.attributes['db.system.name'] === 'redis',
      );
      // No duplicates: exactly one span per SQL statement and per Redis command, children of the request.
      expect(sql.map((s) => String(s.attributes['db.statement'] ?? s.attributes['db.query.text']))).toEqual([
        'SELECT $1::int + 1 AS next',
      ]);
      // The library's statement: its own span only (the driver call ran with tracing suppressed).
      expect(inTrace.filter((s) => s.name === 'SELECT library')).toHaveLength(1);
      expect(redis.map((s) => s.name).sort()).toEqual(['get', 'set']);
      for (const child of [...sql, ...redis]) expect(child.parentSpanId).toBe(server.spanId);
      expect(inTrace).toHaveLength(5);
      // winston: the record logged while serving this request carries its trace id.
      const record = records.find((r) => r.path === server.attributes['url.path']);
      expect(record).toMatchObject({ trace_id: server.traceId, span_id: server.spanId });
    }
  });
});

describe('node --import @periscope/tracing/register (ES modules) and SIGTERM', () => {
  it('traces an ES-module app (fetch, http and an imported pg) and flushes its spans when SIGTERM ends it', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tracing-esm-'));
    try {
      const file = path.join(dir, 'spans.jsonl');
      const child = spawn(process.execPath, ['--import', '@periscope/tracing/register', ESM_APP], {
        cwd: path.join(__dirname, '..'),
        env: {
          ...process.env,
          OTEL_TRACES_EXPORTER: 'file',
          PERISCOPE_TRACING_FILE: file,
          PERISCOPE_TRACING_INSTRUMENTATIONS: 'http,pg,undici',
          DATABASE_URL: postgresUrl(),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
        child.once('exit', (code, signal) => resolve(signal ?? code)),
      );
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "ready" from the app: ${stderr}`)), 20_000);
        child.stdout.on('data', (c: Buffer) => {
          if (c.toString().includes('ready')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      // Nothing exported yet (the batch delay is 2 s); SIGTERM must flush, then end the process as the default action does.
      child.kill('SIGTERM');
      expect(await exited).toBe('SIGTERM');
      const spans = await readSpans(file);
      const [server] = spans.filter((s) => s.kind === 'SERVER');
      expect(server.attributes['url.path']).toBe('/esm/1');
      // undici: the app's fetch() is a CLIENT span whose traceparent (our propagator) made it the server span's parent.
      const fetchSpan = spans.find((s) => s.kind === 'CLIENT' && s.spanId === server.parentSpanId);
      expect(fetchSpan).toMatchObject({ traceId: server.traceId, name: 'GET' });
      const sql = spans.filter((s) => s.traceId === server.traceId && s.kind === 'CLIENT' && s !== fetchSpan);
      expect(sql.map((s) => s.attributes['db.statement'] ?? s.attributes['db.query.text'])).toEqual([
        'SELECT 40 + 2 AS answer',
      ]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the register entry and an app that drains on SIGTERM', () => {
  const DIST_INDEX = path.join(__dirname, '../dist/index.js');
  // The app adopts the register's tracing with closedByApp and closes it after its drain, as the demo does.
  const app = `
    const { getTracing } = require(${JSON.stringify(DIST_INDEX)});
    const tracing = getTracing();
    tracing.configure({ closedByApp: true });
    process.on('SIGTERM', () => {
      setTimeout(async () => {
        tracing.tracer.startSpan('request finished during the drain').end();
        await tracing.close();
        process.exit(0);
      }, 200);
    });
    setInterval(() => {}, 1000);
    process.stdout.write('ready\\n');`;

  it('keeps tracing open until the app closes it, so spans of drained requests are exported', async () => {
    if (!existsSync(DIST_REGISTER))
      throw new Error(`${DIST_REGISTER} is missing: build first (npx nx run tracing:build)`);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tracing-drain-'));
    try {
      const file = path.join(dir, 'spans.jsonl');
      const child = spawn(process.execPath, ['--require', DIST_REGISTER, '-e', app], {
        env: { ...process.env, OTEL_TRACES_EXPORTER: 'file', PERISCOPE_TRACING_FILE: file, OTEL_SERVICE_NAME: 'drain' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect((await readSpans(file)).map((s) => s.name)).toEqual(['request finished during the drain']);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
