// Child processes for the release tools: every one bounded in time, killed with its whole
// process group when it overruns, run with an environment free of the npm variables that an
// outer `npm run` sets (npm_config_local_prefix and friends would point a nested npm at the
// workspace instead of the folder it runs in).
'use strict';
const { spawn } = require('node:child_process');
const { performance } = require('node:perf_hooks');

/** The current environment without npm's per-run variables, plus `extra`. */
function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_(config|package|lifecycle)_/i.test(k) || k === 'INIT_CWD' || k === 'npm_command') continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

const TAIL = 64 * 1024;
const keepTail = (s) => (s.length > TAIL ? s.slice(-TAIL) : s);

/**
 * Runs `cmd args` in `cwd`; resolves (never rejects) with
 * { code, signal, stdout, stderr, timedOut, ms }. On timeout the process group gets SIGKILL.
 * `onSpawn(child)` lets a caller stop it early (see stopGroup).
 */
function exec(cmd, args, { cwd, env = cleanEnv(), timeoutMs = 120_000, onSpawn, input } = {}) {
  return new Promise((resolve) => {
    const started = performance.now();
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let child;
    try {
      child = spawn(cmd, args, { cwd, env, detached: true, stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    } catch (err) {
      resolve({ code: null, signal: null, stdout: '', stderr: String(err), timedOut: false, ms: 0 });
      return;
    }
    if (input) child.stdin.end(input);
    child.stdout.on('data', (d) => (stdout = keepTail(stdout + d)));
    child.stderr.on('data', (d) => (stderr = keepTail(stderr + d)));
    const timer = setTimeout(() => {
      timedOut = true;
      stopGroup(child, 'SIGKILL');
    }, timeoutMs);
    onSpawn?.(child);
    child.once('error', (err) => (stderr += `\n${err.message}`));
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut, ms: performance.now() - started });
    });
  });
}

/** Signals a child started by exec() and everything it started (its process group). */
function stopGroup(child, signal = 'SIGTERM') {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

/**
 * One line of a command's output that says why it failed, for a table: the first line that
 * names an error (`Error: …`, `error TS…`, `npm error …`), else the last non-empty line.
 */
function lastLine(...texts) {
  const lines = texts
    .join('\n')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const named = lines.find((l) =>
    /^(\w*Error\b|error\b|npm (error|ERR!) (?!code\b|A complete log))|\berror TS\d+/.test(l),
  );
  return (named ?? lines.at(-1) ?? '').slice(0, 200);
}

module.exports = { cleanEnv, exec, stopGroup, lastLine };
