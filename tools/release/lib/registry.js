// A real npm registry for the publish test: Verdaccio on a free 127.0.0.1 port, its config,
// storage and htpasswd in a private (0700) folder, no uplinks (it serves only what we publish,
// so nothing is fetched through it from outside and nothing we publish leaves the machine),
// anonymous publish allowed for @periscope/* only. Verdaccio is installed apart from the
// workspace (tools/release/registry, its own lockfile) and installed there on first use.
'use strict';
const { spawn } = require('node:child_process');
const { existsSync, mkdirSync, writeFileSync } = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { cleanEnv, exec, stopGroup } = require('./proc.js');

const here = __dirname;
const REGISTRY_PROJECT = path.resolve(here, '../registry');
const VERDACCIO_BIN = path.join(REGISTRY_PROJECT, 'node_modules/verdaccio/bin/verdaccio');

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Installs Verdaccio into tools/release/registry from its lockfile when it is not there yet. */
async function ensureVerdaccio(log) {
  if (existsSync(VERDACCIO_BIN)) return;
  log('registry: installing Verdaccio into tools/release/registry (npm ci, once)');
  const r = await exec(
    'flock',
    ['/tmp/periscope-npm.lock', 'npm', 'ci', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
    { cwd: REGISTRY_PROJECT, timeoutMs: 300_000 },
  );
  if (r.code !== 0 || !existsSync(VERDACCIO_BIN)) {
    throw new Error(
      `could not install Verdaccio (npm ci in ${REGISTRY_PROJECT}): ${r.stderr.trim() || r.stdout.trim()}`,
    );
  }
}

function verdaccioConfig() {
  return [
    '# written by tools/release/lib/registry.mjs for one run; removed after it',
    'storage: ./storage',
    'max_body_size: 512mb',
    'auth:',
    '  htpasswd:',
    '    file: ./htpasswd',
    '    max_users: -1',
    'uplinks: {}',
    'packages:',
    "  '@periscope/*':",
    '    access: $all',
    '    publish: $anonymous $authenticated',
    '    unpublish: $anonymous $authenticated',
    "  '**':",
    '    access: $all',
    '    publish: $authenticated',
    'web:',
    '  enable: false',
    'log: { type: stdout, format: pretty, level: warn }',
    '',
  ].join('\n');
}

async function ping(url) {
  try {
    const res = await globalThis.fetch(`${url}-/ping`, { signal: globalThis.AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Starts Verdaccio with its files under `dir` (created 0700). Resolves { url, stop, output() }
 * once it answers /-/ping; rejects (after stopping it) when it does not within `timeoutMs`.
 */
async function startRegistry(dir, { timeoutMs = 60_000, log = () => {} } = {}) {
  await ensureVerdaccio(log);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  mkdirSync(path.join(dir, 'storage'), { recursive: true, mode: 0o700 });
  const config = path.join(dir, 'config.yaml');
  writeFileSync(config, verdaccioConfig(), { mode: 0o600 });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  let output = '';
  const child = spawn(process.execPath, [VERDACCIO_BIN, '--config', config, '--listen', `127.0.0.1:${port}`], {
    cwd: dir,
    env: cleanEnv(),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (d) => (output = (output + d).slice(-16_384));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    stopGroup(child, 'SIGTERM');
    const killer = setTimeout(() => stopGroup(child, 'SIGKILL'), 5_000);
    await exited;
    clearTimeout(killer);
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    if (await ping(url)) return { url, port, stop, output: () => output };
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(`Verdaccio did not answer on ${url} within ${timeoutMs} ms:\n${output}`);
}

module.exports = { REGISTRY_PROJECT, freePort, ensureVerdaccio, verdaccioConfig, startRegistry };
