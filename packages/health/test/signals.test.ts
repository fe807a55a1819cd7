// The SIGTERM sequence in a real child process: readiness turns 503 at once, an in-flight
// request completes, hooks run, and the process exits 0; a second signal forces exit.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { request, sleep } from './helpers';

const root = path.resolve(__dirname, '../../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');
const fixture = path.join(__dirname, 'fixtures/signal-server.ts');

interface Child {
  proc: ChildProcess;
  events: Record<string, unknown>[];
  stderr(): string;
  next(event: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startChild(env: Record<string, string> = {}): Child {
  const proc = spawn(tsx, ['--tsconfig', path.join(root, 'tsconfig.base.json'), fixture], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: Record<string, unknown>[] = [];
  let buffer = '';
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  proc.stdout!.on('data', (d: Buffer) => {
    buffer += d.toString();
    let i;
    while ((i = buffer.indexOf('\n')) >= 0) {
      events.push(JSON.parse(buffer.slice(0, i)));
      buffer = buffer.slice(i + 1);
    }
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const next = async (event: string, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = events.find((e) => e.event === event);
      if (found) return found;
      if (Date.now() > deadline || proc.exitCode !== null)
        throw new Error(`child never emitted ${event}; stderr: ${stderr}`);
      await sleep(20);
    }
  };
  return { proc, events, next, exit, stderr: () => stderr };
}

describe('handleSignals in a real process', () => {
  const children: Child[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) {
      if (c.proc.exitCode === null && c.proc.signalCode === null) {
        c.proc.kill('SIGKILL');
        await c.exit;
      }
    }
  });

  it('on SIGTERM: /readyz 503 at once, in-flight request completes, hook runs, exit code 0', async () => {
    const child = startChild();
    children.push(child);
    const { url } = (await child.next('listening')) as { url: string };
    expect((await request(url, '/readyz')).status).toBe(200);

    const slow = request(url, '/slow');
    await child.next('slow-started');
    child.proc.kill('SIGTERM');
    await sleep(50);
    const ready = await request(url, '/readyz');
    expect(ready.status).toBe(503);
    expect((await request(url, '/livez')).status).toBe(200);

    expect(await slow).toMatchObject({ status: 200, body: 'slow done' });
    const hook = await child.next('hook');
    expect(hook).toEqual({ event: 'hook', name: 'flush', state: 'draining' });
    expect(await child.exit).toEqual({ code: 0, signal: null });
  });

  it('a failing hook is reported on stderr (redacted) and the process still exits 0', async () => {
    const child = startChild({ HOOK_FAILS: '1' });
    children.push(child);
    await child.next('listening');
    child.proc.kill('SIGTERM');
    expect(await child.exit).toEqual({ code: 0, signal: null });
    const line = child
      .stderr()
      .split('\n')
      .find((l) => l.includes('onShutdown hook failed'));
    expect(JSON.parse(line!)).toEqual({
      level: 'error',
      msg: '@periscope/health: onShutdown hook failed',
      hook: 'flush',
      error: 'exporter unreachable at https://user:[REDACTED]@otel:4318',
    });
  });

  it('a second signal during shutdown forces exit', async () => {
    const child = startChild({ HOOK_HANGS: '1' });
    children.push(child);
    await child.next('listening');
    child.proc.kill('SIGTERM');
    await child.next('hook');
    const t0 = Date.now();
    child.proc.kill('SIGINT');
    expect(await child.exit).toEqual({ code: 130, signal: null });
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
