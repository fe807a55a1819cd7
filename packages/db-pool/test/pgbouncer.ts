// Starts a real PgBouncer (Debian package `pgbouncer`) in transaction mode in front of the test
// PostgreSQL: a generated ini + userlist in a private temporary directory, auth_type trust, a free
// loopback port, bounded start, torn down by close(). PgBouncer refuses to run as root, so as
// root it runs as `nobody`.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { canConnect, freePort, postgresUrl } from '@periscope-tools/testing';

const CANDIDATES = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer'];
const NOBODY = 65534;

export interface PgBouncer {
  /** The test database's URL, through PgBouncer. */
  url: string;
  log(): string;
  close(): Promise<void>;
}

function binary(): string {
  const found = CANDIDATES.find((p) => fs.existsSync(p));
  if (!found) throw new Error('pgbouncer not found: install the Debian package pgbouncer (apt-get install pgbouncer)');
  return found;
}

export async function startPgBouncer(poolSize = 4): Promise<PgBouncer> {
  const exe = binary();
  const target = new URL(postgresUrl());
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'periscope-pgbouncer-'));
  fs.chmodSync(dir, 0o700);
  const logFile = path.join(dir, 'pgbouncer.log');
  const user = decodeURIComponent(target.username || 'postgres');
  fs.writeFileSync(path.join(dir, 'userlist.txt'), `"${user}" "${decodeURIComponent(target.password)}"\n`, {
    mode: 0o600,
  });
  const ini = [
    '[databases]',
    `* = host=${target.hostname} port=${target.port || 5432}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    'auth_type = trust',
    `auth_file = ${path.join(dir, 'userlist.txt')}`,
    'pool_mode = transaction',
    `default_pool_size = ${poolSize}`,
    'max_client_conn = 100',
    `logfile = ${logFile}`,
  ].join('\n');
  const iniFile = path.join(dir, 'pgbouncer.ini');
  fs.writeFileSync(iniFile, `${ini}\n`, { mode: 0o600 });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) for (const f of [dir, iniFile, path.join(dir, 'userlist.txt')]) fs.chownSync(f, NOBODY, NOBODY);
  const child: ChildProcess = spawn(exe, [iniFile], {
    stdio: 'ignore',
    ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
  });
  const log = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(killer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!(await canConnect('127.0.0.1', port, 500))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const why = log();
      await close();
      throw new Error(`pgbouncer did not start on 127.0.0.1:${port}: ${why.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = new URL(postgresUrl());
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return { url: url.toString(), log, close };
}
