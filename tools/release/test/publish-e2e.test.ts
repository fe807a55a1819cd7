import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '../../..');
const script = path.join(root, 'tools/release/publish-e2e.mjs');

interface Row {
  name: string;
  ok: boolean;
  install?: string;
  installKb?: number;
  deps?: number;
  importMs?: number | null;
  example?: string;
  typecheck?: string;
}

function run(args: string[], timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

const leftovers = () => readdirSync(os.tmpdir()).filter((d) => d.startsWith('periscope-publish-e2e-'));

// The whole run (every package, `node tools/release/publish-e2e.mjs`) is a step of its own in CI;
// here the same path runs for @periscope/core: packed with its prepack, published to a real
// Verdaccio, installed alone from it into an empty project, its README example run and type-checked.
describe('publish-e2e.mjs', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'periscope-e2e-test-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('publishes @periscope/core to a local registry, installs it alone and runs its README example', async () => {
    const before = leftovers();
    const json = path.join(dir, 'results.json');
    const { code, out } = await run(['--only', 'core', '--json', json], 540_000);
    if (code !== 0) throw new Error(`publish-e2e exited ${code}:\n${out.slice(-4000)}`);
    const { results } = JSON.parse(readFileSync(json, 'utf8')) as { results: Row[] };
    expect(results).toHaveLength(1);
    const [core] = results;
    expect(core).toMatchObject({ name: '@periscope/core', ok: true, install: 'ok', typecheck: 'ok' });
    expect(core.example).toMatch(/^exit 0 in /);
    expect(core.deps).toBe(1); // floor 0: no runtime dependencies at all
    expect(core.installKb).toBeGreaterThan(0);
    expect(core.importMs).toBeGreaterThan(0);
    expect(out).toMatch(/\| @periscope\/core \| \d+ kB \|/);
    // The registry and every temp project are gone.
    expect(leftovers()).toEqual(before);
  }, 600_000);

  it('refuses an unknown package name with one message, and leaves nothing behind', async () => {
    const before = leftovers();
    const { code, out } = await run(['--only', 'no-such-package'], 60_000);
    expect(code).toBe(1);
    expect(out).toContain('--only: no packages/no-such-package');
    expect(leftovers()).toEqual(before);
  });
});
