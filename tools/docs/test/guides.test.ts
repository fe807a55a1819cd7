// Every guide (docs/guides/*.md) and docs/architecture.md: each code block is a complete program
// or a marked excerpt (src/blocks.ts); the programs type-check under --strict against the
// packages' sources, and each one runs: to exit 0 by itself, or, for a service (it prints a line
// with "listening"), until SIGTERM drains it. Programs get DATABASE_URL and REDIS_URL (the test
// services), PORT (a free port), and DEMO_URL when marked `<!-- run: demo -->`.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { freePort, postgresUrl, redisUrl, startChildApp, type ChildApp } from '@periscope-tools/testing';
import { codeBlocks, type CodeBlock } from '../src/blocks';

const root = path.resolve(__dirname, '../../..');
const guidesDir = path.join(root, 'docs/guides');
const docs = [
  ...fs
    .readdirSync(guidesDir)
    .filter((f) => f.endsWith('.md'))
    .map((f) => path.join('docs/guides', f)),
  'docs/architecture.md',
];
// Inside the repository (git-ignored), so the programs resolve packages as a user's project would.
const workDir = path.join(__dirname, '../test-artifacts/programs');

interface Program {
  doc: string;
  block: CodeBlock;
  file: string;
}

const blocks = docs.map((doc) => ({ doc, blocks: codeBlocks(fs.readFileSync(path.join(root, doc), 'utf8')) }));
const programs: Program[] = blocks.flatMap(({ doc, blocks: bs }) =>
  bs
    .filter((b) => b.kind === 'program')
    .map((block) => ({
      doc,
      block,
      file: path.join(workDir, `${path.basename(doc, '.md')}-L${block.line}.ts`),
    })),
);

beforeAll(() => {
  fs.rmSync(workDir, { recursive: true, force: true });
  fs.mkdirSync(workDir, { recursive: true, mode: 0o700 });
  for (const p of programs) fs.writeFileSync(p.file, p.block.code, { mode: 0o600 });
});
afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));

test('the guides are there, and every code block is a program or a marked excerpt', () => {
  expect(docs).toEqual(
    expect.arrayContaining([
      'docs/guides/getting-started.md',
      'docs/guides/run-the-stack.md',
      'docs/guides/debug-a-slow-task.md',
    ]),
  );
  const unmarked = blocks.flatMap(({ doc, blocks: bs }) =>
    bs.filter((b) => b.kind === 'unmarked').map((b) => `${doc}:${b.line} (\`\`\`${b.lang})`),
  );
  expect(unmarked).toEqual([]);
  expect(programs.length).toBeGreaterThanOrEqual(4);
});

test('every program type-checks under --strict', () => {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    path.join(root, 'tsconfig.base.json'),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
  );
  const files = programs.map((p) => p.file);
  const program = ts.createProgram(files, { ...parsed!.options, strict: true, noEmit: true, types: ['node'] });
  const problems = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file === undefined || files.includes(d.file.fileName))
    .map((d) => {
      const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
      const p = programs.find((x) => x.file === d.file?.fileName);
      const line = p && where ? `${p.doc}:${p.block.line + 1 + where.line}` : (d.file?.fileName ?? '');
      return `${line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
  expect(problems).toEqual([]);
}, 180_000);

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
  service: boolean;
}

/** Runs a program to its exit; a service (prints "listening") gets SIGTERM once it listens. */
async function run(file: string, env: Record<string, string>, timeoutMs = 120_000): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    cwd: root,
    env: { ...process.env, FORCE_COLOR: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let service = false;
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (!service && /listening/i.test(out)) {
      service = true;
      // Let it serve a moment (a first request, a log line), then ask it to drain.
      setTimeout(() => child.kill('SIGTERM'), 300);
    }
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('exit', (c, s) => resolve([c, s])),
  );
  clearTimeout(timer);
  return { code, signal, out, err, service };
}

describe('every program runs', () => {
  let demo: ChildApp | undefined;
  const needsDemo = programs.some((p) => p.block.needs.includes('demo'));

  beforeAll(async () => {
    if (!needsDemo) return;
    demo = await startChildApp({
      script: path.join(root, 'apps/demo-agent/dist/main.js'),
      args: ['--tasks', '4', '--port', '0', '--error-rate', '0', '--seed', '42'],
      env: {
        PERISCOPE_DEMO_CACHE_DIR: path.join(workDir, 'demo-cache'),
        PERISCOPE_DEMO_OUT_DIR: path.join(workDir, 'demo-out'),
        PERISCOPE_GPU_SYSTEMINFORMATION: 'false',
        PERISCOPE_GPU_NVIDIA_SMI: path.join(workDir, 'no-nvidia-smi'),
        DATABASE_URL: postgresUrl(),
        REDIS_URL: redisUrl(),
      },
      startTimeoutMs: 60_000,
    });
    await demo.waitForOutput(/Serving until Ctrl-C/, 120_000);
  }, 180_000);
  afterAll(() => demo?.stop());

  test.each(programs.map((p) => [`${p.doc}:${p.block.line}`, p] as const))(
    '%s',
    async (_name, p) => {
      const env: Record<string, string> = {
        PORT: String(await freePort()),
        PERISCOPE_HEALTH_DRAIN_DELAY_MS: '200',
        DATABASE_URL: postgresUrl(),
        REDIS_URL: redisUrl(),
      };
      if (p.block.needs.includes('demo')) env.DEMO_URL = demo!.url;
      const result = await run(p.file, env);
      const drained = result.service && (result.signal === 'SIGTERM' || result.code === 143);
      if (result.code !== 0 && !drained)
        throw new Error(
          `${p.doc}:${p.block.line} exited ${result.code ?? result.signal}\n${result.out}\n${result.err}`,
        );
    },
    180_000,
  );
});
