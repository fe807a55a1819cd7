#!/usr/bin/env node
// `npm test`: everything a change must pass, in one command that works right after `npm ci`.
//   1. build every project (Nx, cached) — the apps' end-to-end tests run the built apps;
//   2. lint (eslint with Nx's module boundaries = the floors), format (Prettier), the file/function
//      size rule (tools/check-size.mjs) and type-check (one tsc program over every project);
//   3. every project's Jest tests in one run, against real PostgreSQL and Redis found or started
//      by the Jest global setup (tools/testing/services.js);
// then prints `tests: N passed, N failed` summed over every project. Exit code 0 only if all passed
// and no test left an open handle behind. Extra arguments go to Jest (e.g. a path filter).
import { spawn } from 'node:child_process';
import { readFileSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const jestArgs = process.argv.slice(2);
const failures = [];

function run(label, cmd, args, { capture = false, timeoutMs = 0 } = {}) {
  return new Promise((resolve) => {
    process.stdout.write(`\n== ${label}: ${path.basename(cmd)} ${args.join(' ')}\n`);
    const started = Date.now();
    const child = spawn(cmd, args, {
      cwd: root,
      stdio: ['ignore', 'inherit', capture ? 'pipe' : 'inherit'],
      env: { ...process.env, NX_DAEMON: 'false', FORCE_COLOR: process.stdout.isTTY ? '1' : '0' },
    });
    let stderr = '';
    if (capture)
      child.stderr.on('data', (d) => {
        stderr += d;
        process.stderr.write(d);
      });
    const timer = timeoutMs
      ? setTimeout(() => {
          stderr += `\n${label} did not exit within ${timeoutMs / 1000}s (open handles?)\n`;
          child.kill('SIGKILL');
        }, timeoutMs)
      : null;
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      process.stdout.write(`== ${label}: ${code === 0 ? 'ok' : `FAILED (${signal ?? `exit ${code}`})`} in ${secs}s\n`);
      if (code !== 0) failures.push(label);
      resolve({ code, stderr });
    });
  });
}

await run('build', bin('nx'), ['run-many', '-t', 'build', '--output-style=static']);
await run('lint', bin('eslint'), ['.', '--max-warnings=0']);
await run('format', bin('prettier'), ['--check', '--log-level=warn', '**/*.{ts,js,mjs,cjs}']);
await run('size', process.execPath, [path.join(root, 'tools/check-size.mjs')]);
await run('typecheck', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);

const resultsDir = path.join(root, '.jest-results');
rmSync(resultsDir, { recursive: true, force: true });
mkdirSync(resultsDir, { recursive: true });
const resultsFile = path.join(resultsDir, 'results.json');
const jest = await run('jest', bin('jest'), ['--ci', '--json', `--outputFile=${resultsFile}`, ...jestArgs], {
  capture: true,
  timeoutMs: 25 * 60 * 1000,
});

// Jest force-kills workers that do not exit and only warns: a leaked socket/timer must fail the run.
if (
  /failed to exit gracefully|did not exit one second after|open handles? (?:potentially )?keeping Jest from exiting/i.test(
    jest.stderr,
  )
) {
  failures.push('open handles (a test left a socket, timer or file open)');
}

let passed = 0;
let failed = 0;
try {
  const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
  passed = results.numPassedTests;
  failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
  const pending = results.numPendingTests + results.numTodoTests;
  if (pending > 0) failures.push(`${pending} skipped or todo test(s): skipped tests are defects`);
} catch {
  failures.push('jest wrote no results');
}
if (failures.length) console.log(`\nFAILED: ${failures.join('; ')}`);
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(failures.length ? 1 : 0);
