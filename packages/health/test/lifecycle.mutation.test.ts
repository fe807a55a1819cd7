// Issue 21 (mutation testing): starting → ready waits for markReady() and every startup task, in
// any order; what /readyz?verbose, /status, the logs and periscope_health_state say meanwhile; and
// the state never goes back.
import { createMetrics } from '@periscope/metrics';
import { createHealthServer, HealthConfigError, HealthServer, HealthStateError } from '@periscope/health';
import type { Logger } from '@periscope/core';
import { request, sleep } from './helpers';

function recordingLogger() {
  const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const log = (level: string) => (msg: string, fields?: Record<string, unknown>) => lines.push({ level, msg, fields });
  const logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') } as Logger;
  return { logger, lines };
}

describe('startup lifecycle', () => {
  const servers: HealthServer[] = [];
  const make = (opts: Parameters<typeof createHealthServer>[0] = {}) => {
    const s = createHealthServer({ port: 0, drainDelayMs: 0, metrics: false, ...opts });
    servers.push(s);
    return s;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  const lifecycleLine = async (url: string) =>
    (await request(url, '/readyz?verbose')).body.split('\n').find((l) => l.includes('lifecycle'));

  it('lists every startup task not done, failed ones with their error, and reports them on /status', async () => {
    const { logger, lines } = recordingLogger();
    const s = make({ logger });
    let finishA!: () => void;
    s.addStartupTask('a', new Promise<void>((r) => (finishA = r)));
    s.addStartupTask('b', () => new Promise(() => undefined));
    s.addStartupTask('c', () => {
      throw new Error('boom token=abc123');
    });
    s.markReady();
    const { url } = await s.listen();
    await sleep(5);
    expect(await lifecycleLine(url)).toBe(
      '[-]lifecycle failed: state is starting; startup tasks not done: a, b, c failed: boom token=[REDACTED]',
    );
    expect(JSON.parse((await request(url, '/status')).body).startup).toEqual({
      a: 'pending',
      b: 'pending',
      c: { state: 'failed', error: 'boom token=[REDACTED]' },
    });
    finishA();
    await sleep(5);
    expect(await lifecycleLine(url)).toBe(
      '[-]lifecycle failed: state is starting; startup tasks not done: b, c failed: boom token=[REDACTED]',
    );
    expect(JSON.parse((await request(url, '/status')).body).startup.a).toBe('done');
    expect(s.state).toBe('starting');
    expect(lines.filter((l) => l.level === 'error')).toEqual([
      {
        level: 'error',
        msg: 'startup task failed; the service stays unready',
        fields: { task: 'c', error: 'boom token=[REDACTED]' },
      },
    ]);
  });

  it('becomes ready when the last of markReady() and the tasks is done, in either order, and logs it once', async () => {
    const { logger, lines } = recordingLogger();
    const metrics = createMetrics();
    const s = make({ logger, metrics });
    const { url } = await s.listen();
    expect((await metrics.expose()).body).toContain('periscope_health_state{state="starting"} 1');
    let finish!: () => void;
    s.addStartupTask('warm', new Promise<void>((r) => (finish = r)));
    finish();
    await sleep(5);
    expect(s.state).toBe('starting'); // tasks done, markReady() not called
    expect(await lifecycleLine(url)).toBe('[-]lifecycle failed: state is starting; markReady() not called yet');
    s.markReady();
    expect(s.state).toBe('ready');
    expect(await lifecycleLine(url)).toBe('[+]lifecycle ok');
    expect((await request(url, '/readyz')).body).toBe('ok');
    const body = (await metrics.expose()).body;
    expect(body).toContain('periscope_health_state{state="ready"} 1');
    expect(body).toContain('periscope_health_state{state="starting"} 0');
    s.markReady();
    expect(lines.filter((l) => l.msg === 'health server ready')).toEqual([
      { level: 'info', msg: 'health server ready', fields: undefined },
    ]);
    expect(() => s.addStartupTask('late', Promise.resolve())).toThrow(
      'cannot add startup task "late": the server is already ready',
    );
  });

  it('a startup task that finishes after close() does not bring the service back to ready', async () => {
    const s = make();
    let finish!: () => void;
    s.addStartupTask('slow', new Promise<void>((r) => (finish = r)));
    s.markReady();
    await s.close();
    finish();
    await sleep(5);
    expect(s.state).toBe('stopped');
    expect(() => s.addStartupTask('after', Promise.resolve())).toThrow(HealthStateError);
  });

  it('rejects a duplicate name, a bad name and a task that is neither a promise nor a function', () => {
    const s = make();
    s.addStartupTask('db', Promise.resolve());
    expect(() => s.addStartupTask('db', Promise.resolve())).toThrow(HealthConfigError);
    expect(() => s.addStartupTask('db', Promise.resolve())).toThrow(
      'invalid startup task name: expected a name not already registered, got "db"',
    );
    expect(() => s.addStartupTask('bad name\n', Promise.resolve())).toThrow(HealthConfigError);
    expect(() => s.addStartupTask('bad name\n', Promise.resolve())).toThrow(
      /^invalid startup task name: expected 1-64/,
    );
    expect(() => s.addStartupTask('thenable', { then() {} } as unknown as Promise<void>)).toThrow(
      /startup task thenable/,
    );
    expect(() => s.addStartupTask('number', 42 as unknown as Promise<void>)).toThrow(
      new HealthConfigError('startup task number', 'a promise or a function', 42),
    );
    expect(() => s.addStartupTask('number', 42 as unknown as Promise<void>)).toThrow(
      'invalid startup task number: expected a promise or a function, got 42',
    );
  });
});
