// docs/guides/getting-started.md: every ts block type-checks under --strict as written, and the
// instrumented service runs as written: it serves, correlates logs, and drains on SIGTERM.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { request, sleep } from '../helpers';

const root = path.resolve(__dirname, '../../../..');
const guide = fs.readFileSync(path.join(root, 'docs/guides/getting-started.md'), 'utf8');
const programs = [...guide.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);

/** The repo's path mapping (sources, not dist/), plus the subpath exports this package adds. */
function paths(): Record<string, string[]> {
  const base = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.base.json'), 'utf8')) as {
    compilerOptions: { paths: Record<string, string[]> };
  };
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(base.compilerOptions.paths)) out[k] = v.map((p) => path.join(root, p));
  out['@periscope/health/express'] = [path.join(root, 'packages/health/src/frameworks/express.ts')];
  out['@periscope/health/fastify'] = [path.join(root, 'packages/health/src/frameworks/fastify.ts')];
  out.express = [require.resolve('express')];
  return out;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'periscope-guide-'));
  fs.writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({ extends: path.join(root, 'tsconfig.base.json'), compilerOptions: { paths: paths() } }),
  );
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('the guide has the before and after programs, and both type-check under --strict', () => {
  expect(programs).toHaveLength(2);
  const files = programs.map((code, i) => {
    const file = path.join(dir, `program${i}.ts`);
    fs.writeFileSync(file, code);
    return file;
  });
  const base = ts.getParsedCommandLineOfConfigFile(
    path.join(dir, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: () => undefined,
    },
  );
  // Outside the repo tree: point the compiler at the repo's type packages.
  const types = path.join(root, 'node_modules/@types');
  const program = ts.createProgram(files, {
    ...base!.options,
    paths: { ...base!.options.paths, express: [path.join(types, 'express/index.d.ts')] },
    typeRoots: [types],
    strict: true,
    noEmit: true,
    types: ['node'],
  });
  const problems = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file === undefined || files.includes(d.file.fileName))
    .map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  expect(problems).toEqual([]);
}, 120_000);

test('the instrumented service serves, puts the trace id on its logs, and drains on SIGTERM (exit 0)', async () => {
  const file = path.join(dir, 'service.ts');
  fs.writeFileSync(file, programs[1]);
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    cwd: root, // resolves --import tsx
    env: {
      ...process.env,
      PORT: String(port),
      PERISCOPE_HEALTH_DRAIN_DELAY_MS: '400',
      TSX_TSCONFIG_PATH: path.join(dir, 'tsconfig.json'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    for (let i = 0; i < 300 && !out.includes('"listening"'); i++) await sleep(100);
    expect({ out, err }).toEqual({ out: expect.stringContaining('"listening"'), err: '' });
    const url = `http://127.0.0.1:${port}`;
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const created = await request(url, '/tasks', {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      body: JSON.stringify({ prompt: 'hello' }),
    });
    expect(created.status).toBe(202);
    await sleep(400);
    expect(JSON.parse((await request(url, '/tasks/1')).body)).toMatchObject({ state: 'done' });
    expect((await request(url, '/readyz?verbose')).body).toContain('[+]tasks ok');
    const scrape = (await request(url, '/metrics')).body;
    expect(scrape).toMatch(/periscope_http_server_request_duration_seconds_count\{[^}]*route="\/tasks\/:id"/);
    const agentLines = out
      .split('\n')
      .filter((l) => l.includes('agent '))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(agentLines).toHaveLength(2);
    for (const l of agentLines) expect(l.trace_id).toBe(traceId);

    child.kill('SIGTERM');
    await sleep(100);
    expect((await request(url, '/readyz')).status).toBe(503);
    expect(await exited).toBe(0);
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}, 120_000);
