// The API reference (`npm run docs:api`: TypeDoc over each package's src/index.ts and its subpath
// exports; typedoc.json and packages/*/typedoc.json) builds without a warning — a {@link} to
// nothing or to something left out, a type a public signature uses that its entry does not export,
// a bad doc tag, a comment TypeDoc cannot place all fail — every subpath export has its page, and
// every relative link in the generated pages points at a page or anchor that exists. TypeDoc runs
// once (about a minute of CPU for the ten packages), into test-artifacts/, never into docs/api.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../../..');
const out = path.join(__dirname, '../test-artifacts/api');
const packages = fs
  .readdirSync(path.join(root, 'packages'))
  .filter((d) => fs.existsSync(path.join(root, 'packages', d, 'src/index.ts')));

let log = '';
let code: number | null = null;

beforeAll(async () => {
  fs.rmSync(out, { recursive: true, force: true });
  const child = spawn(
    process.execPath,
    [path.join(root, 'node_modules/typedoc/bin/typedoc'), '--out', out, '--logLevel', 'Info'],
    { cwd: root, env: { ...process.env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
}, 900_000);
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

test('typedoc builds the reference of every package with no warning and no error', () => {
  expect({ code, problems: log.split('\n').filter((l) => /\[(warning|error)\]/.test(l)) }).toEqual({
    code: 0,
    problems: [],
  });
  const index = fs.readFileSync(path.join(out, 'index.html'), 'utf8');
  for (const p of packages) expect(index).toContain(`@periscope/${p}`);
});

/**
 * What each subpath export (package.json `exports` other than "." that maps to a module) must
 * document: its page lists these members. A subpath missing here, or here but no longer exported,
 * fails, so a new subpath cannot ship without its reference (packages/<name>/typedoc.json).
 */
const SUBPATH_MEMBERS: Record<string, string[]> = {
  '@periscope/db-pool/embedded': ['startEmbeddedPostgres', 'EmbeddedPostgres', 'EmbeddedPostgresOptions'],
  '@periscope/health/express': ['periscopeExpress', 'expressRoute', 'ExpressIntegration', 'ExpressIntegrationOptions'],
  '@periscope/health/fastify': ['periscopeFastify', 'FastifyIntegration', 'FastifyIntegrationOptions', 'PROBE_ROUTES'],
  '@periscope/health/nestjs': [
    'PeriscopeModule',
    'PeriscopeHealthIndicator',
    'PeriscopeExceptionFilter',
    'NestIntegrationOptions',
    'PERISCOPE_HEALTH',
  ],
  '@periscope/tracing/register': ['tracing'],
};

/** Subpath → the module TypeDoc names after its source file (`./express` → frameworks/express). */
function subpathModules(): Map<string, string> {
  const found = new Map<string, string>();
  for (const p of packages) {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'packages', p, 'package.json'), 'utf8')) as {
      name: string;
      exports?: Record<string, string | { types?: string }>;
    };
    for (const [key, target] of Object.entries(pkg.exports ?? {})) {
      const types = typeof target === 'object' ? target.types : undefined;
      if (key === '.' || types === undefined) continue; // the main entry, or not a module (./package.json)
      found.set(`${pkg.name}/${key.replace(/^\.\//, '')}`, types.replace(/^\.\/dist\//, '').replace(/\.d\.ts$/, ''));
    }
  }
  return found;
}

test('every subpath export has its own module page listing its members', () => {
  const modules = subpathModules();
  expect([...modules.keys()].sort()).toEqual(Object.keys(SUBPATH_MEMBERS).sort());
  const missing: string[] = [];
  for (const [subpath, module] of modules) {
    const pkg = subpath.split('/').slice(0, 2).join('/');
    // TypeDoc's file name for module `frameworks/express` of `@periscope/health`.
    const page = path.join(out, 'modules', `${pkg.replace(/[@/]/g, '_')}.${module.replace(/\//g, '_')}.html`);
    if (!fs.existsSync(page)) {
      missing.push(`${subpath}: no page ${path.relative(out, page)}`);
      continue;
    }
    const html = fs.readFileSync(page, 'utf8');
    for (const name of SUBPATH_MEMBERS[subpath]) {
      if (!html.includes(`.${name}.html">${name}</a>`)) missing.push(`${subpath}: ${name} not listed`);
    }
  }
  expect(missing).toEqual([]);
});

/** Every `href` of the generated pages that is relative resolves to a file, and its `#anchor` to an id there. */
test('every relative link in the generated pages resolves', () => {
  const pages = (fs.readdirSync(out, { recursive: true }) as string[]).filter((f) => f.endsWith('.html'));
  expect(pages.length).toBeGreaterThan(packages.length);
  const ids = new Map<string, Set<string>>();
  const idsOf = (file: string) => {
    let set = ids.get(file);
    if (!set) {
      const html = fs.readFileSync(file, 'utf8');
      set = new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]));
      ids.set(file, set);
    }
    return set;
  };
  const broken: string[] = [];
  for (const page of pages) {
    const file = path.join(out, page);
    const html = fs.readFileSync(file, 'utf8');
    for (const [, href] of html.matchAll(/\shref="([^"]+)"/g)) {
      if (/^[a-z][\w+.-]*:/i.test(href) || href.startsWith('//')) continue; // external: not ours to check offline
      const [target, anchor] = href.split('#');
      const resolved = target === '' ? file : path.resolve(path.dirname(file), decodeURIComponent(target));
      if (!fs.existsSync(resolved)) broken.push(`${page}: ${href}`);
      else if (anchor && resolved.endsWith('.html') && !idsOf(resolved).has(decodeURIComponent(anchor)))
        broken.push(`${page}: ${href} (no such anchor)`);
    }
  }
  expect(broken).toEqual([]);
});
