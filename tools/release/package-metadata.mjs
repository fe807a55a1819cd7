#!/usr/bin/env node
// The publishing metadata every packages/*/package.json must carry (issue 19, items 8 and 9),
// set idempotently from one place:
//   node tools/release/package-metadata.mjs --check   lists what is missing, exit 1 if anything is
//   node tools/release/package-metadata.mjs --write   sets it (only files that change are written)
// Options: --root <dir> (a workspace other than this one: the tests use a copy).
// It reads the packages as they are when it runs: a package added later gets the same fields.
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's repository: change it here and run --write. */
export const REPOSITORY_URL = 'https://github.com/periscope-dev/periscope';

const COMMON_KEYWORDS = ['periscope', 'observability', 'ai-agents'];
/** Keywords per package folder; a package not listed gets the common ones and its own name. */
const KEYWORDS = {
  core: ['errors', 'configuration', 'redaction', 'logger'],
  metrics: ['metrics', 'prometheus', 'prom-client', 'genai', 'llm'],
  tracing: ['tracing', 'opentelemetry', 'otel', 'otlp', 'genai', 'llm'],
  logging: ['logging', 'winston', 'opentelemetry', 'redaction', 'loki'],
  profiling: ['profiling', 'cpu-profile', 'heap-profile', 'pprof', 'flamegraph'],
  'gpu-pool': ['gpu', 'nvidia', 'cuda', 'scheduler', 'pool'],
  'db-pool': ['postgresql', 'postgres', 'pg', 'connection-pool', 'pool'],
  cache: ['cache', 'redis', 'lru', 'llm', 'stale-while-revalidate'],
  alerting: ['alerting', 'prometheus', 'alertmanager', 'promql', 'anomaly-detection'],
  health: ['health-check', 'readiness', 'liveness', 'kubernetes', 'graceful-shutdown'],
};

/** Fields each package must have, given its folder name and its nx project name. */
export function expectedFields(dir, nxName) {
  return {
    repository: { type: 'git', url: `git+${REPOSITORY_URL}.git`, directory: `packages/${dir}` },
    homepage: `${REPOSITORY_URL}/tree/main/packages/${dir}#readme`,
    bugs: { url: `${REPOSITORY_URL}/issues` },
    keywords: [...COMMON_KEYWORDS, ...(KEYWORDS[dir] ?? [dir])],
    publishConfig: { access: 'public' },
    filesInclude: ['README.md', 'LICENSE'],
    // `npm run build` alone fails in a fresh clone for every package above core (tsc resolves
    // @periscope/core through its dist/*.d.ts): Nx builds the package's dependencies first, and
    // answers from its cache when dist is current. npm runs it in the package folder, from
    // `npm pack` there and from `npm pack -w packages/<dir>` at the root alike. Its output goes
    // to stderr so that `npm pack --json` / `npm publish --json` (nx release publish) stay JSON.
    prepack: `nx run ${nxName}:build --output-style=static 1>&2`,
  };
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** What is missing or wrong in one package.json (as parsed); [] when it is complete. */
export function problemsOf(pkg, want) {
  const problems = [];
  for (const field of ['repository', 'homepage', 'bugs']) {
    if (!same(pkg[field], want[field])) problems.push(`${field} is ${JSON.stringify(pkg[field])}`);
  }
  const keywords = Array.isArray(pkg.keywords) ? pkg.keywords : [];
  const missingKeywords = want.keywords.filter((k) => !keywords.includes(k));
  if (missingKeywords.length) problems.push(`keywords lack ${missingKeywords.join(', ')}`);
  if (pkg.publishConfig?.access !== 'public') problems.push('publishConfig.access is not "public"');
  if (pkg.private === true) problems.push('"private": true (npm refuses to publish it)');
  const files = Array.isArray(pkg.files) ? pkg.files : null;
  if (!files) problems.push('no "files" list (everything in the folder would be packed)');
  else {
    const missingFiles = want.filesInclude.filter((f) => !files.includes(f));
    if (missingFiles.length) problems.push(`files lacks ${missingFiles.join(', ')}`);
  }
  if (pkg.scripts?.prepack !== want.prepack) problems.push(`scripts.prepack is not "${want.prepack}"`);
  return problems;
}

/** The package.json with the fields set; keeps every other field and the owner's own keywords. */
export function withFields(pkg, want) {
  const out = { ...pkg };
  out.repository = want.repository;
  out.homepage = want.homepage;
  out.bugs = want.bugs;
  const keywords = Array.isArray(pkg.keywords) ? pkg.keywords : [];
  out.keywords = [...keywords, ...want.keywords.filter((k) => !keywords.includes(k))];
  out.publishConfig = { ...(pkg.publishConfig ?? {}), access: 'public' };
  const files = Array.isArray(pkg.files) ? pkg.files : ['dist/**/*.js', 'dist/**/*.d.ts'];
  out.files = [...files, ...want.filesInclude.filter((f) => !files.includes(f))];
  out.scripts = { ...(pkg.scripts ?? {}), prepack: want.prepack };
  return out;
}

/** Every packages/<dir> with a package.json, in name order. */
export function packageDirs(root) {
  const base = path.join(root, 'packages');
  return readdirSync(base)
    .filter((d) => existsSync(path.join(base, d, 'package.json')))
    .sort();
}

/** Checks (write=false) or fixes (write=true) every package; returns { problems, written }. */
export function run(root, { write }) {
  const problems = [];
  const written = [];
  for (const dir of packageDirs(root)) {
    const file = path.join(root, 'packages', dir, 'package.json');
    const text = readFileSync(file, 'utf8');
    const pkg = JSON.parse(text);
    const want = expectedFields(dir, pkg.nx?.name ?? dir);
    const licence = path.join(root, 'packages', dir, 'LICENSE');
    if (write) {
      const next = `${JSON.stringify(withFields(pkg, want), null, 2)}\n`;
      if (next !== text) {
        writeFileSync(file, next);
        written.push(`packages/${dir}/package.json`);
      }
      if (!existsSync(licence) && existsSync(path.join(root, 'LICENSE'))) {
        copyFileSync(path.join(root, 'LICENSE'), licence);
        written.push(`packages/${dir}/LICENSE`);
      }
    } else {
      for (const p of problemsOf(pkg, want)) problems.push(`packages/${dir}/package.json: ${p}`);
      if (!existsSync(licence)) problems.push(`packages/${dir}/LICENSE: missing (the tarball would have none)`);
    }
  }
  return { problems, written };
}

function main(argv) {
  const write = argv.includes('--write');
  const rootAt = argv.indexOf('--root');
  const root =
    rootAt >= 0 ? path.resolve(argv[rootAt + 1]) : path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const { problems, written } = run(root, { write });
  if (write) {
    console.log(
      written.length ? `package-metadata: wrote ${written.join(', ')}` : 'package-metadata: nothing to change',
    );
    return 0;
  }
  if (problems.length) {
    console.error(`package-metadata: ${problems.length} problem(s); fix with --write:\n  ${problems.join('\n  ')}`);
    return 1;
  }
  console.log(`package-metadata: all ${packageDirs(root).length} packages complete`);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
