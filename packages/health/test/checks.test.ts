import {
  createHealthServer,
  HealthConfigError,
  HealthServer,
  type CheckOutcome,
  type ListenAddress,
} from '@periscope/health';
import { request, sleep } from './helpers';

let server: HealthServer;
let addr: ListenAddress;

async function start(setup: (s: HealthServer) => void): Promise<void> {
  server = createHealthServer({ port: 0, drainDelayMs: 0 });
  setup(server);
  addr = await server.listen();
  server.markReady();
}
afterEach(() => server?.close());

describe('checks', () => {
  it('caches results for minIntervalMs so a probe storm runs the check once', async () => {
    let runs = 0;
    await start((s) =>
      s.addCheck({
        name: 'db',
        // Generous: 26 requests must fit in the window on a loaded 2-core machine.
        minIntervalMs: 3000,
        run: () => {
          runs++;
          return { status: 'pass' };
        },
      }),
    );
    const answers = await Promise.all(Array.from({ length: 25 }, () => request(addr.url, '/readyz')));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    await request(addr.url, '/health');
    expect(runs).toBe(1);
    await sleep(3100);
    await request(addr.url, '/readyz');
    expect(runs).toBe(2);
  });

  it('shares one execution between concurrent probes even with minIntervalMs 0', async () => {
    let runs = 0;
    await start((s) =>
      s.addCheck({
        name: 'slow',
        minIntervalMs: 0,
        run: async () => {
          runs++;
          await sleep(80);
          return { status: 'pass' };
        },
      }),
    );
    await Promise.all(Array.from({ length: 10 }, () => request(addr.url, '/readyz')));
    expect(runs).toBe(1);
  });

  it('fails a check that outlives its timeout, answers within the timeout, aborts its signal and says when runs leak', async () => {
    let runs = 0;
    let aborted: unknown;
    let release!: () => void;
    const hung = new Promise<CheckOutcome>((resolve) => {
      release = () => resolve({ status: 'pass' });
    });
    await start((s) =>
      s.addCheck({
        name: 'hung',
        timeoutMs: 100,
        minIntervalMs: 0,
        run: (signal) => {
          runs++;
          signal.addEventListener('abort', () => {
            aborted = signal.reason;
          });
          return runs <= 2 ? hung : { status: 'pass' };
        },
      }),
    );
    const t0 = Date.now();
    const first = await request(addr.url, '/readyz?verbose');
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(first.status).toBe(503);
    expect(first.body).toContain('[-]hung failed: check hung timed out after 100 ms\n');
    expect(aborted).toMatchObject({ code: 'ERR_HEALTH_TIMEOUT' });
    // The first run never settled: a new run is not blocked by it, but the output says so.
    const second = await request(addr.url, '/readyz?verbose');
    expect(second.body).toContain('[-]hung failed: check hung timed out after 100 ms (1 earlier run still pending)');
    release();
    await sleep(10);
    expect((await request(addr.url, '/readyz')).status).toBe(200);
    expect(runs).toBe(3);
  });

  it('runs checks in parallel', async () => {
    await start((s) => {
      for (const name of ['a', 'b', 'c', 'd'])
        s.addCheck({
          name,
          run: async () => {
            await sleep(150);
            return { status: 'pass' };
          },
        });
    });
    const t0 = Date.now();
    expect((await request(addr.url, '/readyz')).status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(450);
  });

  it('turns a throw or an invalid result into fail with the message only (no stack)', async () => {
    await start((s) => {
      s.addCheck({
        name: 'throws',
        run: () => {
          throw new Error('connection refused');
        },
      });
      s.addCheck({ name: 'rejects', run: () => Promise.reject(new TypeError('bad state')) });
      s.addCheck({ name: 'invalid', run: () => ({ status: 'ok' }) as unknown as CheckOutcome });
    });
    const r = await request(addr.url, '/readyz?verbose');
    expect(r.status).toBe(503);
    expect(r.body).toContain('[-]throws failed: connection refused');
    expect(r.body).toContain('[-]rejects failed: bad state');
    expect(r.body).toContain(
      "[-]invalid failed: check returned an invalid result: expected { status: 'pass' | 'warn' | 'fail' }",
    );
    expect(r.body).not.toMatch(/\s+at /);
    const health = await request(addr.url, '/health');
    expect(health.status).toBe(503);
    const doc = JSON.parse(health.body);
    expect(doc.status).toBe('fail');
    expect(doc.output).toBe('failing critical checks: throws, rejects, invalid');
  });

  it('keeps /health valid JSON whatever a check observes (BigInt, circular)', async () => {
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    await start((s) => {
      s.addCheck({
        name: 'rows',
        measurement: 'count',
        run: () => ({ status: 'pass', observedValue: 12345678901234567890n }),
      });
      s.addCheck({ name: 'odd', critical: false, run: () => ({ status: 'pass', observedValue: circular }) });
    });
    const r = await request(addr.url, '/health');
    expect(r.status).toBe(200);
    const doc = JSON.parse(r.body);
    expect(doc.checks['rows:count'][0].observedValue).toBe('12345678901234567890');
    expect(doc.checks['odd:responseTime'][0].observedValue).toMatchObject({ name: 'loop' });
  });

  it('a non-critical failure makes /health warn (200) and leaves /readyz at 200', async () => {
    await start((s) => {
      s.addCheck({ name: 'db', run: () => ({ status: 'pass' }) });
      s.addCheck({ name: 'search', critical: false, run: () => ({ status: 'fail', output: 'index offline' }) });
    });
    expect((await request(addr.url, '/readyz')).status).toBe(200);
    const health = await request(addr.url, '/health');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body).status).toBe('warn');
  });

  it('rejects bad check definitions with a typed error naming the option', async () => {
    await start(() => undefined);
    const bad: [unknown, RegExp][] = [
      [{ name: 'has space', run: () => ({ status: 'pass' }) }, /^invalid check.name: expected 1-64 letters/],
      [{ name: 'x' }, /^invalid check x: run: expected a function/],
      [
        { name: 'x', timeoutMs: 0, run: () => ({ status: 'pass' }) },
        /^invalid check x: timeoutMs: expected an integer number of milliseconds in \[1, /,
      ],
      [{ name: 'x', minIntervalMs: -1, run: () => ({ status: 'pass' }) }, /^invalid check x: minIntervalMs/],
      [
        { name: 'x', critical: 'yes', run: () => ({ status: 'pass' }) },
        /^invalid check x: critical: expected true or false/,
      ],
    ];
    for (const [def, message] of bad) {
      let err: unknown;
      try {
        server.addCheck(def as never);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(HealthConfigError);
      expect((err as HealthConfigError).code).toBe('ERR_HEALTH_CONFIG');
      expect((err as Error).message).toMatch(message);
    }
    server.addCheck({ name: 'dup', run: () => ({ status: 'pass' }) });
    expect(() => server.addCheck({ name: 'dup', run: () => ({ status: 'pass' }) })).toThrow(/already registered/);
  });
});
