import http from 'node:http';
import { createMetrics } from '@periscope/metrics';
import { createHealthServer, HealthServer, HealthStateError } from '@periscope/health';
import { request, sleep } from './helpers';

describe('lifecycle', () => {
  const servers: HealthServer[] = [];
  const make = (opts: Parameters<typeof createHealthServer>[0] = {}) => {
    const s = createHealthServer({ port: 0, drainDelayMs: 0, metrics: false, ...opts });
    servers.push(s);
    return s;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('is starting (readyz 503) until markReady() and every startup task has finished', async () => {
    const s = make();
    let finish!: () => void;
    s.addStartupTask(
      'migrations',
      new Promise<void>((r) => {
        finish = r;
      }),
    );
    s.addStartupTask('warmup', async () => {
      await sleep(5);
    });
    const { url } = await s.listen();
    expect(s.state).toBe('starting');
    expect((await request(url, '/livez')).status).toBe(200);
    const r = await request(url, '/readyz');
    expect(r.status).toBe(503);
    expect(r.body).toContain('[-]lifecycle failed: state is starting; startup tasks not done: migrations');
    s.markReady();
    expect(s.state).toBe('starting');
    finish();
    await sleep(5);
    expect(s.state).toBe('ready');
    expect((await request(url, '/readyz')).status).toBe(200);
    expect(() => s.addStartupTask('late', Promise.resolve())).toThrow(HealthStateError);
  });

  it('says when markReady() was never called, and a failed startup task keeps the service unready', async () => {
    const s = make();
    const { url } = await s.listen();
    expect((await request(url, '/readyz')).body).toContain('markReady() not called yet');
    s.addStartupTask('schema', () => Promise.reject(new Error('relation "tasks" missing; password=abc123')));
    s.markReady();
    await sleep(5);
    expect(s.state).toBe('starting');
    const r = await request(url, '/readyz');
    expect(r.status).toBe(503);
    expect(r.body).toContain('schema failed: relation "tasks" missing; password=[REDACTED]');
    const status = JSON.parse((await request(url, '/status')).body);
    expect(status.startup.schema).toEqual({ state: 'failed', error: 'relation "tasks" missing; password=[REDACTED]' });
    expect(JSON.parse((await request(url, '/health')).body)).toMatchObject({
      status: 'fail',
      output: 'service is starting',
    });
  });

  it('close(): readiness fails at once, waits drainDelayMs, lets in-flight requests finish, then runs hooks in reverse order', async () => {
    const s = make({ drainDelayMs: 300 });
    const order: string[] = [];
    s.onShutdown('first', () => {
      order.push('first');
    });
    s.onShutdown('second', async () => {
      await sleep(10);
      order.push('second');
    });
    s.onShutdown(function third() {
      order.push('third');
    });
    s.route('GET', '/slow', async (_req, res) => {
      await sleep(450);
      res.end('done');
    });
    const { url } = await s.listen();
    s.markReady();

    const slow = request(url, '/slow');
    await sleep(30);
    const closing = s.close();
    expect(s.state).toBe('draining');
    const during = await request(url, '/readyz?verbose');
    expect(during.status).toBe(503);
    expect(during.body).toContain('[-]lifecycle failed: state is draining');
    expect(during.headers.connection).toBe('close');
    expect((await request(url, '/livez')).status).toBe(200);
    expect(order).toEqual([]);

    expect(await slow).toMatchObject({ status: 200, body: 'done' });
    const report = await closing;
    expect(s.state).toBe('stopped');
    expect(order).toEqual(['third', 'second', 'first']);
    expect(report).toMatchObject({
      reason: 'close()',
      abortedRequests: 0,
      hooks: [
        { name: 'third', ok: true },
        { name: 'second', ok: true },
        { name: 'first', ok: true },
      ],
    });
    expect(report.durationMs).toBeGreaterThanOrEqual(400);
    await expect(request(url, '/livez')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('bounds each hook by its timeout and keeps going after a failing hook', async () => {
    const metrics = createMetrics();
    const s = make({ metrics });
    const ran: string[] = [];
    s.onShutdown('flush-logs', () => {
      ran.push('flush-logs');
    });
    s.onShutdown('stuck', () => new Promise(() => undefined), { timeoutMs: 50 });
    s.onShutdown('throws', () => {
      throw new Error('pool gone: postgres://u:pw1234@h/db');
    });
    await s.listen();
    const report = await s.close();
    expect(report.hooks).toEqual([
      { name: 'throws', ok: false, durationMs: expect.any(Number), error: 'pool gone: postgres://u:[REDACTED]@h/db' },
      { name: 'stuck', ok: false, durationMs: expect.any(Number), error: 'onShutdown stuck timed out after 50 ms' },
      { name: 'flush-logs', ok: true, durationMs: expect.any(Number) },
    ]);
    expect(ran).toEqual(['flush-logs']);
    const { body } = await metrics.expose();
    expect(body).toContain('periscope_health_shutdown_hook_failures_total{hook="stuck"} 1');
    expect(body).toContain('periscope_health_shutdown_hook_failures_total{hook="throws"} 1');
    expect(body).toContain('periscope_health_state{state="stopped"} 1');
  });

  it('cuts requests still running at shutdownTimeoutMs', async () => {
    const s = make({ shutdownTimeoutMs: 100 });
    s.route('GET', '/forever', () => new Promise(() => undefined));
    const { url } = await s.listen();
    s.markReady();
    const pending = request(url, '/forever');
    await sleep(30);
    const t0 = Date.now();
    const report = await s.close();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(report.abortedRequests).toBe(1);
    await expect(pending).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  it('closes idle keep-alive connections so they do not hold the shutdown', async () => {
    const s = make({ shutdownTimeoutMs: 5000 });
    const { url } = await s.listen();
    s.markReady();
    const agent = new http.Agent({ keepAlive: true });
    try {
      await new Promise<void>((resolve, reject) => {
        http
          .get(`${url}/livez`, { agent }, (res) => {
            res.resume();
            res.on('end', resolve);
          })
          .on('error', reject);
      });
      const t0 = Date.now();
      await s.close();
      expect(Date.now() - t0).toBeLessThan(1000);
    } finally {
      agent.destroy();
    }
  });

  it('close() is idempotent; listen() after close() is a typed error; markReady() while draining is ignored', async () => {
    const s = make();
    await s.listen();
    s.markReady();
    const a = s.close();
    s.markReady();
    expect(s.state).toBe('draining');
    expect(s.close()).toBe(a);
    await a;
    await expect(s.listen()).rejects.toBeInstanceOf(HealthStateError);
    expect(s.state).toBe('stopped');
  });

  it('close() during listen() closes the listener it opens', async () => {
    const s = make();
    const listening = s.listen();
    const closing = s.close();
    const { url } = await listening;
    await closing;
    await expect(request(url, '/livez')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('close() without listen() still runs the hooks', async () => {
    const s = make();
    let ran = false;
    s.onShutdown('h', () => {
      ran = true;
    });
    await s.close();
    expect(ran).toBe(true);
  });

  it('handleSignals adds SIGTERM/SIGINT listeners on listen() and removes them on close()', async () => {
    const before = [process.listenerCount('SIGTERM'), process.listenerCount('SIGINT')];
    const s = make({ handleSignals: true });
    expect(process.listenerCount('SIGTERM')).toBe(before[0]);
    await s.listen();
    expect([process.listenerCount('SIGTERM'), process.listenerCount('SIGINT')]).toEqual([before[0] + 1, before[1] + 1]);
    await s.close();
    expect([process.listenerCount('SIGTERM'), process.listenerCount('SIGINT')]).toEqual(before);
  });

  it('reports a port in use as a typed error', async () => {
    const a = make();
    const { port } = await a.listen();
    const b = make({ port });
    await expect(b.listen()).rejects.toMatchObject({
      code: 'ERR_HEALTH_LISTEN_FAILED',
      message: `cannot listen on 127.0.0.1:${port}: EADDRINUSE`,
    });
  });
});
