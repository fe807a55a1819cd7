import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '../../..');
const script = path.join(root, 'tools/release/package-metadata.mjs');

function metadata(args: string[]) {
  const r = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('package-metadata.mjs on a workspace that lacks the publishing fields', () => {
  let ws: string;
  const pkgFile = (dir: string) => path.join(ws, 'packages', dir, 'package.json');
  const read = (dir: string) => JSON.parse(readFileSync(pkgFile(dir), 'utf8'));

  beforeEach(() => {
    ws = mkdtempSync(path.join(os.tmpdir(), 'periscope-metadata-'));
    writeFileSync(path.join(ws, 'LICENSE'), 'MIT License\n');
    for (const dir of ['core', 'cache']) {
      mkdirSync(path.join(ws, 'packages', dir), { recursive: true });
      const pkg = {
        name: `@periscope/${dir}`,
        version: '0.1.0',
        license: 'MIT',
        files: ['dist/**/*.js', 'dist/**/*.d.ts'],
        scripts: { build: 'tsc -p tsconfig.build.json' },
        keywords: dir === 'cache' ? ['owner-chosen'] : undefined,
        nx: { name: dir, tags: ['type:package'] },
      };
      writeFileSync(pkgFile(dir), `${JSON.stringify(pkg, null, 2)}\n`);
    }
    writeFileSync(path.join(ws, 'packages', 'core', 'LICENSE'), 'MIT License\n');
  });
  afterEach(() => rmSync(ws, { recursive: true, force: true }));

  it('--check exits 1 naming each missing field, file and script per package', () => {
    const { code, out } = metadata(['--check', '--root', ws]);
    expect(code).toBe(1);
    for (const dir of ['core', 'cache']) {
      for (const what of [
        'repository',
        'homepage',
        'bugs',
        'keywords',
        'publishConfig.access',
        'files lacks README.md, LICENSE',
        'scripts.prepack',
      ]) {
        expect(out).toContain(`packages/${dir}/package.json: ${what}`);
      }
    }
    expect(out).toContain('packages/cache/LICENSE: missing');
    expect(out).not.toContain('packages/core/LICENSE');
  });

  it('--write sets every field once, keeps what owners wrote, and a second --write changes nothing', () => {
    expect(metadata(['--write', '--root', ws]).code).toBe(0);
    const cache = read('cache');
    expect(cache.repository).toEqual({
      type: 'git',
      url: 'git+https://github.com/periscope-dev/periscope.git',
      directory: 'packages/cache',
    });
    expect(cache.homepage).toBe('https://github.com/periscope-dev/periscope/tree/main/packages/cache#readme');
    expect(cache.bugs).toEqual({ url: 'https://github.com/periscope-dev/periscope/issues' });
    expect(cache.publishConfig).toEqual({ access: 'public' });
    expect(cache.files).toEqual(['dist/**/*.js', 'dist/**/*.d.ts', 'README.md', 'LICENSE']);
    expect(cache.keywords[0]).toBe('owner-chosen');
    expect(cache.keywords).toEqual(expect.arrayContaining(['periscope', 'cache', 'redis']));
    expect(cache.scripts).toEqual({
      build: 'tsc -p tsconfig.build.json',
      prepack: 'nx run cache:build --output-style=static 1>&2',
    });
    expect(cache.nx).toEqual({ name: 'cache', tags: ['type:package'] });
    expect(readFileSync(path.join(ws, 'packages/cache/LICENSE'), 'utf8')).toBe('MIT License\n');

    const before = ['core', 'cache'].map((d) => readFileSync(pkgFile(d), 'utf8'));
    const again = metadata(['--write', '--root', ws]);
    expect(again.out).toContain('nothing to change');
    expect(['core', 'cache'].map((d) => readFileSync(pkgFile(d), 'utf8'))).toEqual(before);
    expect(metadata(['--check', '--root', ws])).toEqual({
      code: 0,
      out: 'package-metadata: all 2 packages complete\n',
    });
  });

  it('--check fails again when an owner drops a field after --write', () => {
    metadata(['--write', '--root', ws]);
    const core = read('core');
    delete core.scripts.prepack;
    core.files = ['dist/**/*.js'];
    writeFileSync(pkgFile('core'), JSON.stringify(core));
    const { code, out } = metadata(['--check', '--root', ws]);
    expect(code).toBe(1);
    expect(out).toContain('packages/core/package.json: files lacks README.md, LICENSE');
    expect(out).toContain('packages/core/package.json: scripts.prepack');
    expect(out).not.toContain('packages/cache');
  });
});

// The workspace itself: `node tools/release/package-metadata.mjs --write` (the lead, once the
// owners' package.json edits have landed) makes this pass; it fails whenever a package lacks them.
describe('the packages in this workspace', () => {
  it('carry every publishing field (package-metadata.mjs --check exits 0)', () => {
    const { code, out } = metadata(['--check']);
    expect(out).toMatch(/all \d+ packages complete/);
    expect(code).toBe(0);
  });

  it('pack with their build output, LICENSE and README from the workspace root (prepack)', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '-w', 'packages/core', '--loglevel=error'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 240_000,
      env: { ...process.env, NX_DAEMON: 'false' },
    });
    const files = JSON.parse(out.slice(out.search(/^\[/m)))[0].files.map((f: { path: string }) => f.path);
    expect(files).toEqual(
      expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts']),
    );
  });
});
