// Starts a built app as a child process for end-to-end tests and finds its base URL in what it
// prints. The child is killed in `stop()` if it is still running, so no test leaves one behind.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

export interface ChildApp {
  readonly child: ChildProcess;
  /** The first http://host:port the app printed. */
  readonly url: string;
  /** Everything printed so far, stdout and stderr interleaved. */
  output(): string;
  /** Resolves when the output matches `pattern` (rejects after `timeoutMs`). */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or signal) once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

export interface StartChildOptions {
  script: string;
  args?: string[];
  env?: Record<string, string | undefined>;
  /** How long to wait for the URL line. */
  startTimeoutMs?: number;
}

export async function startChildApp(options: StartChildOptions): Promise<ChildApp> {
  if (!fs.existsSync(options.script)) {
    throw new Error(`${options.script} does not exist: build first (npm test does; or npx nx run-many -t build)`);
  }
  const child = spawn(process.execPath, [options.script, ...(options.args ?? [])], {
    env: { ...process.env, FORCE_COLOR: '0', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of waiters) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      for (const w of waiters) w();
      resolve({ code, signal });
    });
  });
  let done = false;
  void exited.then(() => (done = true));

  const waitForOutput = (pattern: RegExp, timeoutMs = 15000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const m = pattern.exec(out);
        if (m) {
          cleanup();
          resolve(m[0]);
        } else if (done) {
          cleanup();
          reject(new Error(`process exited before printing ${pattern}; output:\n${out}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no ${pattern} within ${timeoutMs} ms; output:\n${out}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  const url = (await waitForOutput(/https?:\/\/[\w.[\]:-]+:\d+/, options.startTimeoutMs ?? 20000).catch(async (err) => {
    child.kill('SIGKILL');
    await exited;
    throw err;
  })) as string;

  return {
    child,
    url,
    output: () => out,
    waitForOutput,
    exited,
    async stop() {
      if (!done) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
