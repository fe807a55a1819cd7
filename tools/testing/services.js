// Finds the PostgreSQL and Redis that integration tests talk to.
// DATABASE_URL / REDIS_URL (or the defaults) are used when they answer; otherwise, where the
// server binary is installed, a private instance is started on a free loopback port for this
// run and stopped after it; otherwise the reason is recorded so the suites that need the service
// fail with one message saying how to get it. Plain CommonJS so both Jest's global setup and
// tools/run-tests.mjs can load it without a build.
'use strict';
const net = require('node:net');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');

const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

function canConnect(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function hostPort(url, defaultPort) {
  const u = new URL(url);
  return { host: u.hostname || '127.0.0.1', port: Number(u.port || defaultPort) };
}

function which(bin, extraDirs = []) {
  for (const dir of [...(process.env.PATH || '').split(':'), ...extraDirs]) {
    const p = path.join(dir, bin);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* keep looking */
    }
  }
  return null;
}

function postgresBinDirs() {
  const base = '/usr/lib/postgresql';
  try {
    return fs
      .readdirSync(base)
      .sort((a, b) => Number(b) - Number(a))
      .map((v) => path.join(base, v, 'bin'));
  } catch {
    return [];
  }
}

async function waitFor(fn, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not come up within ${timeoutMs} ms`);
}

async function startPrivatePostgres(log) {
  const dirs = postgresBinDirs();
  const pgCtl = dirs.map((d) => path.join(d, 'pg_ctl')).find((p) => fs.existsSync(p)) || which('pg_ctl');
  if (!pgCtl) return null;
  const bin = path.dirname(pgCtl);
  const initdb = path.join(bin, 'initdb');
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'periscope-pg-'));
  // initdb and postgres refuse to run as root: run them as the postgres user when we are root.
  const asUser = process.getuid && process.getuid() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
  if (asUser.length) spawnSync('chown', ['-R', 'postgres', dataDir]);
  const run = (cmd, args) => {
    const full = [...asUser, cmd, ...args];
    const r = spawnSync(full[0], full.slice(1), { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${(r.stderr || r.stdout || '').trim()}`);
  };
  run(initdb, ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  run(pgCtl, [
    '-D',
    dataDir,
    '-w',
    '-l',
    path.join(dataDir, 'server.log'),
    '-o',
    `-p ${port} -k ${dataDir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300`,
    'start',
  ]);
  run(path.join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'test']);
  log(`services: started a private PostgreSQL on 127.0.0.1:${port} (${dataDir})`);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/test`,
    stop() {
      try {
        run(pgCtl, ['-D', dataDir, '-m', 'immediate', 'stop']);
      } catch {
        /* already gone */
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function startPrivateRedis(log) {
  const redisServer = which('redis-server', ['/usr/bin', '/usr/local/bin']);
  if (!redisServer) return null;
  const port = await freePort();
  const child = spawn(
    redisServer,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  await waitFor(() => canConnect('127.0.0.1', port, 300), 10000, 'redis-server');
  log(`services: started a private Redis on 127.0.0.1:${port}`);
  return {
    url: `redis://127.0.0.1:${port}`,
    stop() {
      child.kill('SIGKILL');
    },
  };
}

/**
 * Makes DATABASE_URL and REDIS_URL point at answering servers where that is possible, and sets
 * PERISCOPE_TEST_POSTGRES_PROBLEM / PERISCOPE_TEST_REDIS_PROBLEM where it is not.
 * Returns a function that stops whatever was started. Idempotent within one process.
 */
async function ensureServices({ log = () => {} } = {}) {
  if (globalThis.__periscopeServices) return globalThis.__periscopeServices.stop;
  const started = [];
  const specs = [
    {
      env: 'DATABASE_URL',
      def: DEFAULT_DATABASE_URL,
      port: 5432,
      name: 'PostgreSQL',
      problemEnv: 'PERISCOPE_TEST_POSTGRES_PROBLEM',
      start: startPrivatePostgres,
      install: 'apt-get install postgresql (or set DATABASE_URL to a reachable server)',
    },
    {
      env: 'REDIS_URL',
      def: DEFAULT_REDIS_URL,
      port: 6379,
      name: 'Redis',
      problemEnv: 'PERISCOPE_TEST_REDIS_PROBLEM',
      start: startPrivateRedis,
      install: 'apt-get install redis-server (or set REDIS_URL to a reachable server)',
    },
  ];
  for (const spec of specs) {
    const url = process.env[spec.env] || spec.def;
    const { host, port } = hostPort(url, spec.port);
    if (await canConnect(host, port)) {
      process.env[spec.env] = url;
      continue;
    }
    let instance = null;
    let why = '';
    try {
      instance = await spec.start(log);
    } catch (err) {
      why = ` (starting a private one failed: ${err.message})`;
    }
    if (instance) {
      started.push(instance);
      process.env[spec.env] = instance.url;
      continue;
    }
    process.env[spec.problemEnv] =
      `${spec.name} is not reachable at ${host}:${port} (${spec.env}) and no server could be started here${why}. ` +
      `Install it: ${spec.install}.`;
  }
  const stop = async () => {
    for (const s of started.reverse()) s.stop();
    started.length = 0;
    delete globalThis.__periscopeServices;
  };
  globalThis.__periscopeServices = { stop };
  return stop;
}

module.exports = { ensureServices, canConnect, freePort, DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL };
