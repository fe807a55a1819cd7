import { createMetrics } from '@periscope/metrics';
import { createHealthServer, HealthServer, HttpError, readJsonBody, type ListenAddress } from '@periscope/health';
import { request } from './helpers';

describe('probe routes', () => {
  let server: HealthServer;
  let addr: ListenAddress;
  let cacheStatus: 'pass' | 'fail' = 'fail';
  const metrics = createMetrics();

  beforeAll(async () => {
    metrics.counter({ name: 'app_requests_total', help: 'app requests' }).inc(3);
    server = createHealthServer({ port: 0, drainDelayMs: 0, metrics, version: '1.2.3', serviceId: 'svc-test' });
    server.addCheck({
      name: 'db',
      componentType: 'datastore',
      componentId: 'primary',
      run: () => ({ status: 'pass', observedValue: 4, observedUnit: 'ms' }),
    });
    server.addCheck({
      name: 'cache',
      critical: false,
      minIntervalMs: 0,
      run: () =>
        cacheStatus === 'pass'
          ? { status: 'pass' }
          : { status: 'fail', output: 'connect ECONNREFUSED redis://app:s3cr3tpw@10.0.0.5:6379' },
    });
    server.addCheck({
      name: 'disk',
      measurement: 'utilization',
      run: () => ({ status: 'warn', observedValue: 91, observedUnit: 'percent', output: 'disk 91% full' }),
    });
    addr = await server.listen();
    server.markReady();
  });
  afterAll(() => server.close());

  it('binds 127.0.0.1 by default and reports the bound port', () => {
    expect(addr.host).toBe('127.0.0.1');
    expect(addr.port).toBeGreaterThan(0);
    expect(addr.url).toBe(`http://127.0.0.1:${addr.port}`);
  });

  it('/livez answers ok, and one line per check with ?verbose', async () => {
    expect(await request(addr.url, '/livez')).toMatchObject({ status: 200, body: 'ok' });
    const v = await request(addr.url, '/livez?verbose');
    expect(v.body).toBe('[+]ping ok\nlivez check passed\n');
    expect((await request(addr.url, '/livez?verbose&exclude=ping')).body).toBe(
      '[+]ping excluded: ok\nlivez check passed\n',
    );
    expect(v.headers['cache-control']).toBe('no-store');
  });

  it('/readyz is 200 while only a non-critical check fails, and lists each check with ?verbose', async () => {
    expect(await request(addr.url, '/readyz')).toMatchObject({ status: 200, body: 'ok' });
    const v = await request(addr.url, '/readyz?verbose');
    expect(v.status).toBe(200);
    expect(v.body.split('\n')).toEqual([
      '[+]lifecycle ok',
      '[+]db ok',
      expect.stringMatching(
        /^\[-\]cache failed \(non-critical\): connect ECONNREFUSED redis:\/\/app:\[REDACTED\]@10\.0\.0\.5:6379$/,
      ),
      '[+]disk warn: disk 91% full',
      'readyz check passed',
      '',
    ]);
    expect(v.body).not.toContain('s3cr3tpw');
  });

  it('/ready is an alias of /readyz', async () => {
    const [a, b] = await Promise.all([request(addr.url, '/ready?verbose'), request(addr.url, '/readyz?verbose')]);
    expect(a.status).toBe(b.status);
    expect(a.body).toBe(b.body);
  });

  it('?exclude leaves a check out (repeated or comma-separated) and warns about unknown names', async () => {
    const v = await request(addr.url, '/readyz?verbose&exclude=cache&exclude=disk,nosuch');
    expect(v.body).not.toMatch(/\[.\]cache (ok|failed)/);
    expect(v.body).toContain('[+]cache excluded: ok');
    expect(v.body).toContain('[+]disk excluded: ok');
    expect(v.body).toContain('no matches for "nosuch"');
  });

  it('?exclude cannot inject lines: names that are not check names are escaped and reported, never echoed raw', async () => {
    const fake = 'x\n[+]db ok\r\nreadyz check passed\u001b[2J';
    const v = await request(addr.url, `/readyz?verbose&exclude=${encodeURIComponent(fake)}&exclude=db`);
    const lines = v.body.split('\n');
    // The only [+]db line is the real exclusion; no line is the forged one and no raw control byte passes.
    expect(lines.filter((l) => l.startsWith('[+]db'))).toEqual(['[+]db excluded: ok']);
    // Only the real verdict, as the last line.
    expect(lines.filter((l) => l.startsWith('readyz check'))).toEqual([lines[lines.length - 2]]);
    expect(v.body.includes('\r') || v.body.includes('\u001b')).toBe(false);
    expect(v.body).toContain(
      'warn: ignored exclude="x\\n[+]db ok\\r\\nreadyz check passed\\u001b[2J": not a valid check name',
    );
  });

  it('check output with line breaks or terminal escapes stays on its own line, escaped', async () => {
    const s = createHealthServer({ port: 0, metrics: false, drainDelayMs: 0 });
    s.addCheck({ name: 'evil', run: () => ({ status: 'fail', output: 'down\n[+]evil ok\u001b[31m' }) });
    const { url } = await s.listen();
    s.markReady();
    try {
      const body = (await request(url, '/readyz?verbose')).body;
      expect(body.split('\n')).toContain('[-]evil failed: down [+]evil ok\\u001b[31m');
    } finally {
      await s.close();
    }
  });

  it('/readyz/<check> answers for that check alone; unknown checks are 404', async () => {
    expect(await request(addr.url, '/readyz/db')).toMatchObject({ status: 200, body: 'ok' });
    const c = await request(addr.url, '/readyz/cache');
    expect(c.status).toBe(503);
    expect(c.body).toContain('[-]cache failed');
    expect((await request(addr.url, '/readyz/nosuch')).status).toBe(404);
  });

  it('/health is application/health+json with component:measurement arrays, warn → 200', async () => {
    for (const path of ['/health', '/health/detailed']) {
      const r = await request(addr.url, path);
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('application/health+json');
      const doc = JSON.parse(r.body);
      expect(doc).toMatchObject({ status: 'warn', version: '1.2.3', serviceId: 'svc-test' });
      expect(doc.checks['db:responseTime']).toEqual([
        {
          componentId: 'primary',
          componentType: 'datastore',
          observedValue: 4,
          observedUnit: 'ms',
          status: 'pass',
          time: expect.any(String),
        },
      ]);
      expect(doc.checks['disk:utilization'][0]).toMatchObject({
        observedValue: 91,
        observedUnit: 'percent',
        status: 'warn',
        output: 'disk 91% full',
      });
      expect(doc.checks['cache:responseTime'][0]).toMatchObject({
        status: 'fail',
        observedUnit: 'ms',
        componentType: 'component',
      });
      expect(doc.checks['cache:responseTime'][0].output).toContain('[REDACTED]');
      expect(r.body).not.toContain('s3cr3tpw');
      expect(Number.isNaN(Date.parse(doc.checks['db:responseTime'][0].time))).toBe(false);
    }
  });

  it('/health is pass once every check passes (disk excluded)', async () => {
    cacheStatus = 'pass';
    try {
      const doc = JSON.parse((await request(addr.url, '/health?exclude=disk')).body);
      expect(doc.status).toBe('pass');
      expect(doc.checks['disk:utilization']).toBeUndefined();
    } finally {
      cacheStatus = 'fail';
    }
  });

  it("/metrics serves the given registry in Prometheus text, with the server's own metrics", async () => {
    const r = await request(addr.url, '/metrics', { headers: { accept: 'text/plain' } });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain/);
    expect(r.body).toContain('app_requests_total 3');
    expect(r.body).toMatch(/periscope_health_check_runs_total\{check="db",status="pass"\} \d+/);
    expect(r.body).toContain('periscope_health_state{state="ready"} 1');
    expect(r.body).toMatch(/periscope_health_http_requests_total\{route="\/livez",code="200"\} \d+/);
    expect(r.body).toContain('periscope_health_check_status{check="disk",status="warn"} 1');
    expect(r.body).toContain('periscope_health_check_status{check="disk",status="pass"} 0');
  });

  it('/metrics answers with the content type the registry negotiates for the Accept header', async () => {
    const accept = 'application/openmetrics-text; version=1.0.0,text/plain;q=0.5';
    const r = await request(addr.url, '/metrics', { headers: { accept } });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe((await metrics.expose(accept)).contentType);
  });

  it('/status merges providers with version, uptime, state and the last check results, secrets redacted', async () => {
    server.addStatus('pool', () => ({ size: 4, url: 'postgres://app:pgpass123@db:5432/app', password: 'hunter2' }));
    server.addStatus('slow', () => new Promise((r) => setTimeout(r, 5_000).unref()));
    server.addStatus('broken', () => {
      throw new Error('stats unavailable');
    });
    await request(addr.url, '/readyz');
    const started = Date.now();
    const r = await request(addr.url, '/status');
    expect(Date.now() - started).toBeLessThan(2_500); // slow provider bounded by statusTimeoutMs (1 s)
    expect(r.status).toBe(200);
    const doc = JSON.parse(r.body);
    expect(doc).toMatchObject({
      service: 'svc-test',
      version: '1.2.3',
      state: 'ready',
      uptimeSeconds: expect.any(Number),
    });
    expect(doc.pool).toEqual({ size: 4, url: 'postgres://app:[REDACTED]@db:5432/app', password: '[REDACTED]' });
    expect(doc.slow).toEqual({ error: 'status slow timed out after 1000 ms' });
    expect(doc.broken).toEqual({ error: 'stats unavailable' });
    expect(doc.checks.db).toMatchObject({ status: 'pass', critical: true });
    expect(r.body).not.toMatch(/pgpass123|hunter2|s3cr3tpw/);
  });

  it('probe routes take GET and HEAD only (405 with Allow), no bodies, and unknown paths are 404', async () => {
    const post = await request(addr.url, '/livez', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    const head = await request(addr.url, '/readyz', { method: 'HEAD' });
    expect(head).toMatchObject({ status: 200, body: '' });
    const withBody = await request(addr.url, '/health', {
      method: 'GET',
      headers: { 'content-type': 'text/plain', 'content-length': '5' },
      body: 'hello',
    });
    expect(withBody.status).toBe(413);
    const chunked = await request(addr.url, '/readyz', {
      method: 'GET',
      headers: { 'transfer-encoding': 'chunked' },
      body: 'hello',
    });
    expect(chunked.status).toBe(413);
    expect((await request(addr.url, '/nope')).status).toBe(404);
    expect((await request(addr.url, '/livez/extra')).status).toBe(404);
  });
});

describe('app routes on the same port', () => {
  let server: HealthServer;
  let addr: ListenAddress;
  const tasks = new Map<string, unknown>();

  beforeAll(async () => {
    server = createHealthServer({ port: 0, drainDelayMs: 0, metrics: false, debugToken: 'tok-123456' });
    server.route('POST', '/tasks', async (req, res) => {
      const body = (await readJsonBody(req, { limitBytes: 64 })) as { prompt?: unknown };
      if (typeof body?.prompt !== 'string') throw new HttpError(422, 'prompt must be a string', 'BAD_TASK');
      const id = String(tasks.size + 1);
      tasks.set(id, body);
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id }));
    });
    server.route('GET', '/tasks/:id', (_req, res, ctx) => {
      const t = tasks.get(ctx.params.id);
      if (!t) throw new HttpError(404, `task ${ctx.params.id} not found`);
      res.end(JSON.stringify(t));
    });
    server.route('GET', '/debug/*', (_req, res, ctx) => {
      res.end(`debug ${ctx.params['*']}`);
    });
    server.route('GET', '/boom', () => {
      throw new Error('secret internals at /srv/app.js:12');
    });
    server.route('GET', '/upstream', () => {
      throw new HttpError(502, 'upstream postgres://app:topsecret@db/app failed', 'UPSTREAM');
    });
    addr = await server.listen();
    server.markReady();
  });
  afterAll(() => server.close());

  it('runs app handlers with params and JSON bodies', async () => {
    const created = await request(addr.url, '/tasks', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"prompt":"hi"}',
    });
    expect(created.status).toBe(201);
    const { id } = JSON.parse(created.body);
    const got = await request(addr.url, `/tasks/${id}`);
    expect(JSON.parse(got.body)).toEqual({ prompt: 'hi' });
    expect(await request(addr.url, '/tasks/999')).toMatchObject({
      status: 404,
      body: JSON.stringify({ error: 'task 999 not found', code: 'ERR_HEALTH_HTTP' }),
    });
  });

  it('maps body errors to 413, 415, 400 and handler HttpErrors to their status', async () => {
    const big = await request(addr.url, '/tasks', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'x'.repeat(200) }),
    });
    expect(big.status).toBe(413);
    expect(JSON.parse(big.body).code).toBe('ERR_HEALTH_BODY_TOO_LARGE');
    const chunked = await request(addr.url, '/tasks', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      body: JSON.stringify({ prompt: 'y'.repeat(200) }),
    });
    expect(chunked.status).toBe(413);
    expect(
      (await request(addr.url, '/tasks', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' }))
        .status,
    ).toBe(415);
    expect(
      (
        await request(addr.url, '/tasks', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{nope',
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await request(addr.url, '/tasks', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"prompt":1}',
        })
      ).status,
    ).toBe(422);
  });

  it('answers 405 with Allow for a known path and another method, and HEAD for GET routes', async () => {
    const r = await request(addr.url, '/tasks', { method: 'GET' });
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('POST');
    expect((await request(addr.url, '/tasks/1', { method: 'HEAD' })).status).toBe(200);
  });

  it('hides handler crashes behind a bare 500, and redacts HttpError messages', async () => {
    const r = await request(addr.url, '/boom');
    expect(r).toMatchObject({ status: 500, body: JSON.stringify({ error: 'internal error' }) });
    const u = await request(addr.url, '/upstream');
    expect(u).toMatchObject({
      status: 502,
      body: JSON.stringify({ error: 'upstream postgres://app:[REDACTED]@db/app failed', code: 'UPSTREAM' }),
    });
  });

  it('guards /debug/* with the bearer token', async () => {
    expect((await request(addr.url, '/debug/heap')).status).toBe(401);
    expect((await request(addr.url, '/debug/heap', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect(await request(addr.url, '/debug/heap', { headers: { authorization: 'Bearer tok-123456' } })).toMatchObject({
      status: 200,
      body: 'debug heap',
    });
  });

  it('keeps probe routes reserved and GET/HEAD only', () => {
    expect(() => server.route('POST', '/livez', () => undefined)).toThrow(/built-in probe route/);
    expect(() => server.route('GET', '/readyz/custom', () => undefined)).toThrow(/built-in probe route/);
    expect(() => server.route('GET', '/tasks/:id', () => undefined)).toThrow(/already registered/);
    expect(() => server.route('FETCH' as 'GET', '/x', () => undefined)).toThrow(/route method: expected one of GET/);
  });

  it('/metrics is 404 when metrics are turned off', async () => {
    expect((await request(addr.url, '/metrics')).status).toBe(404);
  });
});

describe('debug routes without a token', () => {
  it('are refused with 403', async () => {
    const server = createHealthServer({ port: 0, metrics: false });
    server.route('GET', '/debug/state', (_req, res) => {
      res.end('state');
    });
    const addr = await server.listen();
    try {
      expect((await request(addr.url, '/debug/state', { headers: { authorization: 'Bearer anything' } })).status).toBe(
        403,
      );
    } finally {
      await server.close();
    }
  });
});
