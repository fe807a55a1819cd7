// Against a real Sentinel setup started by the test (1 master + 1 replica + 1 sentinel on free
// loopback ports): the redis+sentinel:// form, and a failover during which callers see no
// errors and writes are accounted for (counted, then retried with l2.retryWrites).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '@periscope-tools/testing';
import { Fixture, eventually, uniqueNs } from './helpers';

jest.setTimeout(60_000);

const MISSING =
  'redis-server / redis-cli not found: the Sentinel tests need them (Debian/Ubuntu: apt-get install redis-server redis-sentinel)';
const fx = new Fixture();
const procs = new Map<number, ChildProcess>();
let dir: string;
let master: number;
let replica: number;
let sentinel: number;

const cli = (port: number, ...args: string[]) =>
  spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8', timeout: 5000 })
    .stdout ?? '';

function start(port: number, args: string[]): void {
  const proc = spawn('redis-server', args, { stdio: 'ignore' });
  procs.set(port, proc);
}

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  if (!(await eventually(check, timeoutMs, 100))) throw new Error(`Sentinel setup: ${what} within ${timeoutMs} ms`);
}

beforeAll(async () => {
  if (spawnSync('redis-server', ['--version']).error || spawnSync('redis-cli', ['--version']).error)
    throw new Error(MISSING);
  dir = mkdtempSync(path.join(os.tmpdir(), 'periscope-sentinel-'));
  [master, replica, sentinel] = [await freePort(), await freePort(), await freePort()];
  const common = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  common.push('--repl-diskless-sync-delay', '0', '--protected-mode', 'no');
  start(master, ['--port', String(master), ...common]);
  start(replica, ['--port', String(replica), '--replicaof', '127.0.0.1', String(master), ...common]);
  const conf = path.join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      `port ${sentinel}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor mymaster 127.0.0.1 ${master} 1`,
      'sentinel down-after-milliseconds mymaster 1000',
      'sentinel failover-timeout mymaster 5000',
      '',
    ].join('\n'),
  );
  start(sentinel, [conf, '--sentinel']);
  await until('replica in sync', () => cli(replica, 'info', 'replication').includes('master_link_status:up'));
  await until('sentinel knows the replica', () => cli(sentinel, 'sentinel', 'replicas', 'mymaster').includes('ip'));
}, 60_000);

afterAll(async () => {
  const alive = [...procs.values()].filter((p) => p.exitCode === null && p.signalCode === null);
  const exited = alive.map((p) => new Promise((r) => p.once('exit', r)));
  for (const p of alive) p.kill('SIGKILL');
  await Promise.all(exited);
  if (dir) rmSync(dir, { recursive: true, force: true });
});
afterEach(() => fx.dispose());

it('redis+sentinel://host:port/mymaster finds the master and serves L2', async () => {
  const ns = uniqueNs('sent');
  const url = `redis+sentinel://127.0.0.1:${sentinel}/mymaster`;
  const a = fx.cache({ namespace: ns, l2: { url, timeoutMs: 1000 } });
  const b = fx.cache({ namespace: ns, l2: { url, timeoutMs: 1000 } });
  await a.set('k', 'v');
  expect(await b.get('k')).toBe('v');
  expect(await a.l2Health()).toMatchObject({ status: 'pass' });
});

it('a failover: callers see no errors, writes during it are counted and written once the new master is up', async () => {
  const ns = uniqueNs('failover');
  const url = `redis+sentinel://127.0.0.1:${sentinel}/mymaster`;
  const cache = fx.cache({
    namespace: ns,
    l2: { url, timeoutMs: 1000, retryWrites: 1000, reconnectMaxDelayMs: 100, breaker: { resetMs: 100 } },
  });
  await cache.set('before', 0);
  await until('the value replicated', () => cli(replica, 'exists', `periscope:cache:${ns}:v1:k:before`).trim() === '1');
  procs.get(master)!.kill('SIGKILL');
  let i = 0;
  const written: string[] = [];
  // Writes and reads keep resolving while the master is gone and Sentinel promotes the replica.
  const promoted = await eventually(
    async () => {
      const key = `during-${i++}`;
      await cache.set(key, key);
      written.push(key);
      expect(await cache.get(key)).toBe(key); // L1 serves it whatever L2 does
      return cli(sentinel, 'sentinel', 'get-master-addr-by-name', 'mymaster').includes(String(replica));
    },
    30_000,
    100,
  );
  expect(promoted).toBe(true);
  expect(await eventually(() => cache.stats().l2!.connected && cache.stats().l2!.writesPending === 0, 20_000)).toBe(
    true,
  );
  const s = cache.stats().l2!;
  expect(s.writeFailures).toBeGreaterThan(0); // the outage was seen…
  expect(s.writesRetried).toBeGreaterThan(0); // …and made good
  const reader = fx.cache({ namespace: ns, l2: { url, timeoutMs: 1000, bus: false } });
  const values = await reader.getMany(['before', ...written]);
  expect(values).toEqual([0, ...written]);
});
