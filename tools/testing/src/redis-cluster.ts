// A real Redis Cluster for tests (redis-server --cluster-enabled yes) on free loopback ports,
// created with redis-cli --cluster create, bounded in time and torn down after.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface ClusterNode {
  port: number;
  proc: ChildProcess;
}

export interface RedisClusterHandle {
  nodes: ClusterNode[];
  /** redis+cluster://127.0.0.1:p1,… (every node as a seed). */
  url: string;
  /** The port of the master serving `slot`, from CLUSTER SLOTS of a live node. */
  masterOf(slot: number): number;
  kill(port: number): void;
  close(): Promise<void>;
}

const MISSING =
  'redis-server / redis-cli not found: the Redis Cluster tests need them (Debian/Ubuntu: apt-get install redis-server)';

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A free port whose cluster bus port (+10000) is free too. */
async function clusterPort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    if (taken.has(port) || taken.has(port + 10000)) continue;
    if ((await canListen(port)) && (await canListen(port + 10000))) {
      taken.add(port);
      taken.add(port + 10000);
      return port;
    }
  }
  throw new Error('no free port pair for a Redis Cluster node');
}

function cli(port: number, ...args: string[]): string {
  const r = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    encoding: 'utf8',
    timeout: 5000,
  });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Redis Cluster: ${what} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Starts 3 masters + 3 replicas; fails with one actionable message when the binaries are missing. */
export async function startRedisCluster(nodeTimeoutMs = 1500): Promise<RedisClusterHandle> {
  if (spawnSync('redis-server', ['--version']).error || spawnSync('redis-cli', ['--version']).error)
    throw new Error(MISSING);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'periscope-cluster-'));
  const taken = new Set<number>();
  const nodes: ClusterNode[] = [];
  const close = async () => {
    const alive = nodes.filter((n) => n.proc.exitCode === null && n.proc.signalCode === null);
    const exited = alive.map((n) => new Promise((r) => n.proc.once('exit', r)));
    for (const n of alive) n.proc.kill('SIGKILL');
    await Promise.all(exited);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 6; i++) {
      const port = await clusterPort(taken);
      const proc = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          path.join(dir, `nodes-${port}.conf`),
          '--cluster-node-timeout',
          String(nodeTimeoutMs),
          '--save',
          '',
          '--appendonly',
          'no',
          // Healthy masters keep answering while a failed master's slots are uncovered (the
          // default, yes, makes Redis itself refuse every key until the failover completes).
          '--cluster-require-full-coverage',
          'no',
          '--repl-diskless-sync-delay',
          '0',
          '--dir',
          dir,
          '--loglevel',
          'notice',
          '--protected-mode',
          'no',
          '--logfile',
          path.join(dir, `redis-${port}.log`),
        ],
        { stdio: 'ignore' },
      );
      nodes.push({ port, proc });
    }
    await until('nodes answering PING', () => nodes.every((n) => cli(n.port, 'ping').includes('PONG')), 15_000);
    const create = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    await until(
      'cluster_state:ok on every node',
      () => nodes.every((n) => cli(n.port, 'cluster', 'info').includes('cluster_state:ok')),
      30_000,
    );
    // Replicas attached and synced (a replica that never synced cannot be promoted): the
    // failover test depends on it.
    await until(
      'three replicas in sync',
      () => nodes.filter((n) => cli(n.port, 'info', 'replication').includes('master_link_status:up')).length === 3,
      30_000,
    );
  } catch (err) {
    await close();
    throw err;
  }
  return {
    nodes,
    url: `redis+cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`,
    masterOf(slot: number): number {
      for (const n of nodes) {
        if (n.proc.exitCode !== null || n.proc.signalCode !== null) continue;
        for (const line of cli(n.port, 'cluster', 'nodes').split('\n')) {
          const f = line.split(' ');
          if (f.length < 9 || !f[2].includes('master') || f[2].includes('fail')) continue;
          for (const range of f.slice(8)) {
            const [lo, hi] = range.split('-').map(Number);
            if (slot >= lo && slot <= (hi ?? lo)) return Number(f[1].split(':')[1].split('@')[0]);
          }
        }
        break;
      }
      throw new Error(`no master found for slot ${slot}`);
    },
    kill(port: number): void {
      nodes.find((n) => n.port === port)?.proc.kill('SIGKILL');
    },
    close,
  };
}
