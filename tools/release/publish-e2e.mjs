#!/usr/bin/env node
// End-to-end publish test (issue 19, items 6, 7, 8, 10): what a user who finds
// `@periscope/<name>` gets.
//   1. `npm pack` every packages/* in floor order (core first) — its prepack builds it — and
//      checks each tarball holds its entry points, types, README.md and LICENSE;
//   2. publishes the tarballs to a real local registry (Verdaccio, lib/registry.mjs);
//   3. for EACH package alone: an empty project, `npm install @periscope/<name>` from that
//      registry (third-party dependencies come from the npm registry the machine is set up
//      with, from its cache first); records install size, dependency count and import time
//      (median of 5 fresh `require()`s); then installs what the README example imports, runs
//      the example (tsx, bounded) and type-checks it with `tsc --strict --noEmit`.
// Prints one table; exit 1 when any pack, install, example or type-check failed.
// Everything is time-bound; the registry and temp folders are removed on every exit.
//   node tools/release/publish-e2e.mjs [--only core,cache] [--json results.json] [--keep]
// --only packs and publishes just those packages and the @periscope packages they depend on.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv, exec, lastLine, stopGroup } from './lib/proc.js';
import { exampleFileName, firstExample, importedPackages } from './lib/readme-example.js';
import { startRegistry } from './lib/registry.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
const TSX = path.join(root, 'node_modules/tsx/dist/cli.mjs');
const TSC = path.join(root, 'node_modules/typescript/bin/tsc');

const LIMITS = {
  totalMs: 25 * 60_000,
  packMs: 240_000,
  publishMs: 60_000,
  installMs: 240_000,
  importMs: 30_000,
  exampleMs: 60_000,
  serverAliveMs: 5_000,
  serverStopMs: 10_000,
  typecheckMs: 180_000,
};

const log = (m) => process.stderr.write(`publish-e2e: ${m}\n`);

function parseArgs(argv) {
  const opts = { only: null, json: null, keep: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--only') opts.only = argv[++i].split(',');
    else if (argv[i] === '--json') opts.json = path.resolve(argv[++i]);
    else if (argv[i] === '--keep') opts.keep = true;
    else throw new Error(`unknown argument ${argv[i]} (accepted: --only a,b --json file --keep)`);
  }
  return opts;
}

/** packages/* in publish order: by floor tag, then dependencies before dependents, then name. */
export function floorOrder(pkgs) {
  const floor = (p) => Number((p.json.nx?.tags ?? []).find((t) => t.startsWith('floor:'))?.slice(6) ?? 99);
  const byName = new Map(pkgs.map((p) => [p.json.name, p]));
  const sorted = [...pkgs].sort((a, b) => floor(a) - floor(b) || a.dir.localeCompare(b.dir));
  const out = [];
  const seen = new Set();
  const visit = (p) => {
    if (seen.has(p.json.name)) return;
    seen.add(p.json.name);
    const deps = { ...p.json.dependencies, ...p.json.peerDependencies };
    for (const d of Object.keys(deps)) if (byName.has(d)) visit(byName.get(d));
    out.push(p);
  };
  sorted.forEach(visit);
  return out;
}

/** The chosen packages and every @periscope package they install, in the order of `all`. */
export function withDependencies(chosen, all) {
  const need = new Set();
  const add = (p) => {
    if (need.has(p.json.name)) return;
    need.add(p.json.name);
    const deps = { ...p.json.dependencies, ...p.json.peerDependencies };
    for (const d of Object.keys(deps)) {
      const dep = all.find((q) => q.json.name === d);
      if (dep) add(dep);
    }
  };
  chosen.forEach(add);
  return all.filter((p) => need.has(p.json.name));
}

function readPackages() {
  return readdirSync(path.join(root, 'packages'))
    .filter((d) => existsSync(path.join(root, 'packages', d, 'package.json')))
    .map((dir) => ({ dir, json: JSON.parse(readFileSync(path.join(root, 'packages', dir, 'package.json'), 'utf8')) }));
}

/** The files a tarball must hold: entry points and types named by package.json, README, LICENSE. */
export function requiredFiles(pkg) {
  const want = new Set(['package.json', 'README.md', 'LICENSE']);
  const add = (p) => typeof p === 'string' && !p.includes('*') && want.add(p.replace(/^\.\//, ''));
  add(pkg.main);
  add(pkg.types);
  const walk = (v) => (typeof v === 'string' ? add(v) : v && typeof v === 'object' && Object.values(v).forEach(walk));
  walk(pkg.exports);
  return [...want];
}

async function pack(p, tarballs) {
  const cwd = path.join(root, 'packages', p.dir);
  const r = await exec('npm', ['pack', '--json', '--pack-destination', tarballs, '--loglevel=error'], {
    cwd,
    timeoutMs: LIMITS.packMs,
  });
  if (r.code !== 0)
    return { error: `npm pack failed${r.timedOut ? ' (timed out)' : ''}: ${lastLine(r.stderr, r.stdout)}` };
  let info;
  try {
    info = JSON.parse(r.stdout.slice(r.stdout.search(/^\[/m)))[0];
  } catch {
    return { error: `npm pack printed no JSON: ${lastLine(r.stdout)}` };
  }
  const files = new Set(info.files.map((f) => f.path));
  const missing = requiredFiles(p.json).filter((f) => !files.has(f));
  const tarball = path.join(tarballs, info.filename);
  return { tarball, sizeKb: info.size / 1024, missing };
}

function npmrc(dir, registryUrl, defaultRegistry) {
  const file = path.join(dir, 'npmrc');
  const host = registryUrl.replace(/^http:/, '');
  const lines = [
    `registry=${defaultRegistry}`,
    `@periscope:registry=${registryUrl}`,
    // Verdaccio lets anyone publish @periscope/* here; npm still wants a token to send.
    `${host}:_authToken=periscope-e2e-anonymous`,
    'fund=false',
    'audit=false',
    'update-notifier=false',
  ];
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  return file;
}

const npmFlags = (userconfig) => ['--userconfig', userconfig, '--prefer-offline', '--loglevel=error'];

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function measure(project, name) {
  const du = await exec('du', ['-sk', 'node_modules'], { cwd: project, timeoutMs: 60_000 });
  const ls = await exec('npm', ['ls', '--all', '--parseable'], { cwd: project, timeoutMs: 60_000 });
  const paths = ls.stdout.split('\n').filter((l) => l.includes(`${path.sep}node_modules${path.sep}`));
  const code = `const t=performance.now();require(${JSON.stringify(name)});console.log(performance.now()-t)`;
  const times = [];
  let importError = null;
  for (let i = 0; i < 5 && !importError; i++) {
    const r = await exec(process.execPath, ['-e', code], { cwd: project, timeoutMs: LIMITS.importMs });
    if (r.code === 0) times.push(Number(r.stdout.trim().split('\n').at(-1)));
    else importError = `require('${name}') failed: ${lastLine(r.stderr)}`;
  }
  return {
    installKb: Number(du.stdout.split(/\s/)[0]),
    deps: paths.length,
    importMs: times.length ? median(times) : null,
    importError,
  };
}

/** The range to install an example's extra import with: ours as published, else a range we use. */
function rangeFor(name, pkg, all) {
  const ours = all.find((p) => p.json.name === name);
  if (ours) return `${name}@${ours.json.version}`;
  for (const json of [pkg.json, ...all.map((p) => p.json)]) {
    const range = json.peerDependencies?.[name] ?? json.dependencies?.[name] ?? json.devDependencies?.[name];
    if (range) return `${name}@${range}`;
  }
  return name;
}

function writeTsconfig(project, file) {
  const compilerOptions = {
    strict: true,
    noEmit: true,
    target: 'ES2022',
    lib: ['ES2023'],
    module: 'nodenext',
    moduleResolution: 'nodenext',
    types: ['node'],
    skipLibCheck: false,
  };
  writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: [file] }, null, 2));
}

export async function runExample(project, file, example, env) {
  const args = file.endsWith('.ts') ? [TSX, file] : [file];
  if (!example.server) {
    const r = await exec(process.execPath, args, { cwd: project, env, timeoutMs: LIMITS.exampleMs });
    const secs = (r.ms / 1000).toFixed(1);
    if (r.code === 0) return { ok: true, result: `exit 0 in ${secs} s`, output: r.stdout + r.stderr };
    const why = r.timedOut ? `did not exit within ${LIMITS.exampleMs / 1000} s` : `exit ${r.code ?? r.signal}`;
    return { ok: false, result: `${why}: ${lastLine(r.stderr, r.stdout)}`, output: r.stdout + r.stderr };
  }
  let child;
  const running = exec(process.execPath, args, {
    cwd: project,
    env,
    timeoutMs: LIMITS.serverAliveMs + LIMITS.serverStopMs,
    onSpawn: (c) => (child = c),
  });
  const early = await Promise.race([running, new Promise((r) => setTimeout(() => r(null), LIMITS.serverAliveMs))]);
  if (early)
    return {
      ok: false,
      result: `server exited early (${early.code ?? early.signal}): ${lastLine(early.stderr, early.stdout)}`,
      output: early.stdout + early.stderr,
    };
  stopGroup(child, 'SIGTERM');
  const r = await running;
  if (r.timedOut)
    return {
      ok: false,
      result: `server did not stop within ${LIMITS.serverStopMs / 1000} s of SIGTERM`,
      output: r.stdout + r.stderr,
    };
  return {
    ok: true,
    result: `server up ${LIMITS.serverAliveMs / 1000} s, stopped on SIGTERM`,
    output: r.stdout + r.stderr,
  };
}

async function typecheck(project, example) {
  if (example.lang !== 'ts') return { ok: true, result: 'n/a (js)' };
  const r = await exec(process.execPath, [TSC, '-p', 'tsconfig.json', '--pretty', 'false'], {
    cwd: project,
    timeoutMs: LIMITS.typecheckMs,
  });
  if (r.code === 0) return { ok: true, result: 'ok' };
  const errors = r.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
  return {
    ok: false,
    result: `${errors.length || 'no'} error(s): ${(errors[0] ?? lastLine(r.stdout, r.stderr)).slice(0, 160)}`,
  };
}

/** One package alone in an empty project: install, measure, run and type-check its example. */
async function tryPackage(p, all, work, userconfig, services) {
  const row = { name: p.json.name, ok: false };
  const project = path.join(work, `app-${p.dir}`);
  mkdirSync(project, { recursive: true, mode: 0o700 });
  writeFileSync(
    path.join(project, 'package.json'),
    JSON.stringify({ name: `e2e-${p.dir}`, private: true, type: 'module' }, null, 2),
  );
  const install = await exec('npm', ['install', `${p.json.name}@${p.json.version}`, ...npmFlags(userconfig)], {
    cwd: project,
    timeoutMs: LIMITS.installMs,
  });
  if (install.code !== 0) return { ...row, install: `FAILED: ${lastLine(install.stderr, install.stdout)}` };
  Object.assign(row, { install: 'ok' }, await measure(project, p.json.name));
  const readme = path.join(root, 'packages', p.dir, 'README.md');
  const example = existsSync(readme) ? firstExample(readFileSync(readme, 'utf8')) : null;
  if (!example)
    return {
      ...row,
      example: existsSync(readme) ? 'FAILED: no ts/js code block in README.md' : 'FAILED: no README.md',
    };
  const extras = importedPackages(example.code)
    .filter((n) => n !== p.json.name)
    .map((n) => rangeFor(n, p, all));
  const tools = example.lang === 'ts' ? ['@types/node@^20'] : [];
  const more = await exec('npm', ['install', ...extras, ...npmFlags(userconfig)], {
    cwd: project,
    timeoutMs: LIMITS.installMs,
  });
  const dev = tools.length
    ? await exec('npm', ['install', '-D', ...tools, ...npmFlags(userconfig)], {
        cwd: project,
        timeoutMs: LIMITS.installMs,
      })
    : more;
  if (more.code !== 0 || dev.code !== 0)
    return {
      ...row,
      example: `FAILED: installing ${[...extras, ...tools].join(' ')}: ${lastLine(more.stderr, dev.stderr)}`,
    };
  const file = exampleFileName(example);
  writeFileSync(path.join(project, file), `${example.code}\n`);
  writeTsconfig(project, file);
  const env = cleanEnv({ DATABASE_URL: services.DATABASE_URL, REDIS_URL: services.REDIS_URL, NODE_OPTIONS: '' });
  const ran = await runExample(project, file, example, env);
  const checked = await typecheck(project, example);
  row.extras = extras;
  row.example = ran.ok ? ran.result : `FAILED: ${ran.result}`;
  row.exampleOutput = ran.output.slice(-4000);
  row.typecheck = checked.ok ? checked.result : `FAILED: ${checked.result}`;
  row.ok = ran.ok && checked.ok && !row.importError;
  return row;
}

const fmtKb = (kb) =>
  kb == null || Number.isNaN(kb) ? '-' : kb >= 1024 ? `${(kb / 1024).toFixed(1)} MB` : `${Math.round(kb)} kB`;

export function table(rows) {
  const head = [
    'package',
    'tarball',
    'install (alone)',
    'packages installed',
    'import ms (median of 5)',
    'README example',
    'tsc --strict',
  ];
  const body = rows.map((r) => [
    r.name,
    fmtKb(r.tarballKb),
    r.install === 'ok' ? fmtKb(r.installKb) : (r.install ?? r.pack ?? '-'),
    r.deps ?? '-',
    r.importMs != null ? r.importMs.toFixed(0) : (r.importError ?? '-'),
    r.example ?? '-',
    r.typecheck ?? '-',
  ]);
  const lines = [head, head.map(() => '---'), ...body].map(
    (cols) => `| ${cols.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`,
  );
  return lines.join('\n');
}

async function services() {
  const { ensureServices } = require(path.join(root, 'tools/testing/services.js'));
  const stop = await ensureServices({ log });
  return { stop, DATABASE_URL: process.env.DATABASE_URL, REDIS_URL: process.env.REDIS_URL };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const work = mkdtempSync(path.join(os.tmpdir(), 'periscope-publish-e2e-'));
  chmodSync(work, 0o700);
  const cleanups = [() => (opts.keep ? log(`kept ${work}`) : rmSync(work, { recursive: true, force: true }))];
  const cleanup = async () => {
    while (cleanups.length) await Promise.resolve(cleanups.pop()()).catch((e) => log(`cleanup: ${e.message}`));
  };
  for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => cleanup().finally(() => process.exit(130)));
  const watchdog = setTimeout(() => {
    log(`gave up after ${LIMITS.totalMs / 60_000} min`);
    cleanup().finally(() => process.exit(1));
  }, LIMITS.totalMs);
  try {
    const all = floorOrder(readPackages());
    const chosen = opts.only ? all.filter((p) => opts.only.includes(p.dir)) : all;
    const unknown = (opts.only ?? []).filter((d) => !all.some((p) => p.dir === d));
    if (unknown.length) throw new Error(`--only: no packages/${unknown.join(', packages/')}`);
    const tarballs = path.join(work, 'tarballs');
    mkdirSync(tarballs, { mode: 0o700 });
    const rows = [];
    for (const p of withDependencies(chosen, all)) {
      log(`pack ${p.json.name}`);
      const packed = await pack(p, tarballs);
      const row = { name: p.json.name, ok: false, tarball: packed.tarball, tarballKb: packed.sizeKb };
      if (packed.error) row.pack = `FAILED: ${packed.error}`;
      else if (packed.missing.length) row.pack = `FAILED: tarball lacks ${packed.missing.join(', ')}`;
      rows.push(row);
    }
    const registry = await startRegistry(path.join(work, 'registry'), { log });
    cleanups.push(() => registry.stop());
    const defaultRegistry = (
      await exec('npm', ['config', 'get', 'registry'], { cwd: work, timeoutMs: 30_000 })
    ).stdout.trim();
    const userconfig = npmrc(work, registry.url, defaultRegistry || 'https://registry.npmjs.org/');
    for (const row of rows.filter((r) => r.tarball)) {
      const r = await exec(
        'npm',
        ['publish', row.tarball, '--registry', registry.url, '--userconfig', userconfig, '--loglevel=error'],
        { cwd: work, timeoutMs: LIMITS.publishMs },
      );
      if (r.code !== 0) row.pack = `FAILED: npm publish: ${lastLine(r.stderr, r.stdout)}`;
    }
    log(`published ${rows.filter((r) => !r.pack).length} of ${rows.length} to ${registry.url}`);
    const svc = await services();
    cleanups.push(() => svc.stop());
    const results = [];
    for (const p of chosen) {
      const packed = rows.find((r) => r.name === p.json.name);
      if (packed.pack) {
        results.push({ ...packed, install: packed.pack });
        continue;
      }
      log(`install ${p.json.name} alone`);
      results.push({ ...packed, ...(await tryPackage(p, all, work, userconfig, svc)) });
    }
    const failedPacks = rows.filter((r) => r.pack && !chosen.some((p) => p.json.name === r.name));
    console.log(table(results));
    for (const r of failedPacks) console.log(`also failed: ${r.name}: ${r.pack}`);
    if (opts.json) writeFileSync(opts.json, JSON.stringify({ results, failedPacks }, null, 2));
    // With --only, a package left out counts only through the chosen ones that install it.
    const failed = results.filter((r) => !r.ok).length + (opts.only ? 0 : failedPacks.length);
    console.log(
      `publish-e2e: ${results.length - results.filter((r) => !r.ok).length} of ${results.length} packages passed`,
    );
    return failed ? 1 : 0;
  } finally {
    clearTimeout(watchdog);
    await cleanup();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => (process.exitCode = code),
    (err) => {
      console.error(`publish-e2e: ${err.stack ?? err}`);
      process.exitCode = 1;
    },
  );
}
