#!/usr/bin/env node
// `npm run demo:cluster`: a scale-out rehearsal on one machine — two demo-agent processes and the
// health-server, each on a free loopback port, sharing one Redis (REDIS_URL, any form the cache
// takes) and one PostgreSQL (DATABASE_URL, else an embedded one started here). Each agent is the
// other's peer: "delegate: …" sub-tasks go over HTTP to the other one, in the same trace (and both
// offer the same tools, so their LLM conversations are one cache's entries). Ctrl-C / SIGTERM
// stops all three (each drains) and exits 0; a process that dies on its own stops the rest, exit 1.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { redactUrl } from '@periscope/core';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '@periscope/db-pool/embedded';
import { parseConfig, usage, UsageError } from './config';

const AGENT_MAIN = path.join(__dirname, 'main.js');
const HEALTH_SERVER_MAIN = path.join(__dirname, '..', '..', 'health-server', 'dist', 'main.js');
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 20_000;

interface Member {
  name: string;
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

/**
 * Starts one process (in `members` at once, so a Ctrl-C while it starts stops it too), prefixes
 * its lines with its name, resolves once `ready` is printed (`url` captures its URL).
 */
async function startMember(
  members: Member[],
  name: string,
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  lines: { url: RegExp; ready: RegExp },
): Promise<Member> {
  if (!fs.existsSync(script)) throw new UsageError(`${script} does not exist: build first (npx nx run-many -t build)`);
  // Its own process group: Ctrl-C reaches only this script, which stops each member once, in order.
  // The agents start as `npm run demo` does, through the register entry: tracing from OTEL_* (each its own service name).
  const node = script === AGENT_MAIN ? ['--require', require.resolve('@periscope/tracing/register')] : [];
  const child = spawn(process.execPath, [...node, script, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const member: Member = { name, child, url: '', exited };
  members.push(member);
  const started = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    const onLine = (line: string) => {
      process.stdout.write(`[${name}] ${line}\n`);
      member.url ||= lines.url.exec(line)?.[1] ?? '';
      if (member.url && lines.ready.test(line)) {
        clearTimeout(timer);
        resolve();
      }
    };
    readline.createInterface({ input: child.stdout! }).on('line', onLine);
    readline.createInterface({ input: child.stderr! }).on('line', onLine);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with code ${code} while starting`));
    });
  });
  try {
    await started;
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return member;
}

/** SIGTERM (each process drains), SIGKILL after STOP_TIMEOUT_MS; resolves when all have exited. */
async function stopAll(members: Member[]): Promise<boolean> {
  let clean = true;
  await Promise.all(
    members.map(async (m) => {
      if (m.child.exitCode !== null || m.child.signalCode !== null) return;
      m.child.kill('SIGTERM');
      const timer = setTimeout(() => {
        clean = false;
        m.child.kill('SIGKILL');
      }, STOP_TIMEOUT_MS);
      const code = await m.exited;
      clearTimeout(timer);
      if (code !== 0) clean = false;
    }),
  );
  return clean;
}

interface Shared {
  redisUrl: string;
  databaseUrl: string;
  embedded: EmbeddedPostgres | undefined;
  seed: number;
}

async function sharedServices(env: NodeJS.ProcessEnv): Promise<Shared> {
  const config = parseConfig([], env);
  if (config === 'help') throw new Error('unreachable');
  if (!config.redisUrl)
    throw new UsageError('the cluster shares its caches through Redis: set REDIS_URL (REDIS_URL=off is not allowed)');
  let embedded: EmbeddedPostgres | undefined;
  let databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres({ maxConnections: 48 });
    databaseUrl = embedded.connectionString;
  }
  return { redisUrl: config.redisUrl, databaseUrl, embedded, seed: config.seed };
}

/** A loopback port free right now (each agent must know the other's before either starts). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

function privateDir(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `periscope-cluster-${name}-`));
}

async function startCluster(shared: Shared, dirs: string[], members: Member[]): Promise<void> {
  const base: NodeJS.ProcessEnv = {
    ...process.env,
    FORCE_COLOR: '0',
    REDIS_URL: shared.redisUrl,
    DATABASE_URL: shared.databaseUrl,
    // The same simulated model on both, so their replies are one cache's entries.
    PERISCOPE_DEMO_SEED: String(shared.seed),
  };
  const agentEnv = (name: string): NodeJS.ProcessEnv => {
    const dir = privateDir(name);
    dirs.push(dir);
    // What each replica keeps on its own disk (L3, profiles) stays its own, as on two machines.
    return {
      ...base,
      OTEL_SERVICE_NAME: `periscope-demo-agent-${name}`,
      PERISCOPE_DEMO_CACHE_DIR: path.join(dir, 'cache'),
      PERISCOPE_DEMO_OUT_DIR: path.join(dir, 'out'),
    };
  };
  const serving = { url: /^Periscope demo agent on (http:\/\/\S+)/, ready: /^Serving until Ctrl-C/ };
  const [portA, portB] = [await freePort(), await freePort()];
  const args = (port: number, peer: number) => [
    '--tasks',
    '0',
    '--port',
    String(port),
    '--peer-url',
    `http://127.0.0.1:${peer}`,
  ];
  // One after the other: b has set up the schema before a starts, so they never race on it.
  const b = await startMember(members, 'b', AGENT_MAIN, args(portB, portA), agentEnv('b'), serving);
  const a = await startMember(members, 'a', AGENT_MAIN, args(portA, portB), agentEnv('a'), serving);
  const hs = await startMember(
    members,
    'health',
    HEALTH_SERVER_MAIN,
    ['--port', '0'],
    { ...base, PERISCOPE_AGENTS: `${a.url},${b.url}`, PERISCOPE_PROBE_INTERVAL_MS: '1000' },
    { url: /^Periscope health server on (http:\/\/\S+)/, ready: /^Periscope health server on/ },
  );
  const task = JSON.stringify({ prompt: 'Compute 6 * 7, then delegate: search the docs about redis failover' });
  const lines = [
    '',
    `Periscope demo cluster — Redis ${redactUrl(shared.redisUrl)}, PostgreSQL ${shared.embedded ? 'embedded (PGlite)' : redactUrl(shared.databaseUrl)}, seed ${shared.seed}`,
    `  agent a        ${a.url}   ("delegate: …" sub-tasks go to agent b)`,
    `  agent b        ${b.url}   (and from b to a)`,
    `  health-server  ${hs.url}   (/health has agent-1 = a, agent-2 = b)`,
    '',
    `  curl -s -X POST ${a.url}/tasks -H 'content-type: application/json' -d '${task}'`,
    `  then the trace on both: ${a.url}/status/traces and ${b.url}/status/traces`,
    '',
    'Cluster ready. Ctrl-C (SIGINT) or SIGTERM stops all three.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  if (process.argv.slice(2).some((a) => a === '--help' || a === '-h')) {
    process.stdout.write(
      'Usage: npm run demo:cluster\n\nTwo demo agents (peers of each other) and the health-server on free ports, sharing\nREDIS_URL and DATABASE_URL (embedded PostgreSQL when unset). Agent settings come from\nthe same environment variables as `npm run demo`:\n\n' +
        `${usage()}\n`,
    );
    return;
  }
  const shared = await sharedServices(process.env);
  const dirs: string[] = [];
  const members: Member[] = [];
  let stopping: Promise<void> | undefined;
  const stop = (code: number) =>
    (stopping ??= (async () => {
      const clean = await stopAll(members);
      await shared.embedded?.close();
      for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
      process.exit(clean ? code : 1);
    })());
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
  try {
    await startCluster(shared, dirs, members);
  } catch (err) {
    // Ctrl-C while starting: the members it stopped are not failures.
    if (stopping) return;
    process.stderr.write(`demo:cluster failed: ${err instanceof Error ? err.message : String(err)}\n`);
    await stop(1);
    return;
  }
  for (const m of members)
    void m.exited.then((code) => {
      if (stopping) return;
      process.stderr.write(`demo:cluster: ${m.name} exited (code ${code}); stopping the others\n`);
      void stop(1);
    });
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`error: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`demo:cluster failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
